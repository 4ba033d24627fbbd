"""How a run uses its process: progress bars, the garbage collector, and pools of worker processes.

Nothing here changes a result; it decides only how a run shows itself, what it costs, and how it stops.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import DecontamError

__all__ = ["NoProgress", "Task", "WorkerError", "WorkerPool", "gc_paused", "progress_bar", "shared_memory",
           "worker_pool"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small, acyclic objects are made.

    Loading benchmarks, drawing probes and assembling a report each create tens of thousands of small
    objects, none in a cycle; with the collector on, every few thousand of them trigger a walk over every
    object of the process. The figures are in ``docs/performance.md``.

    Example:
        >>> with gc_paused():
        ...     gc.isenabled()
        False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class NoProgress:
    """A progress bar that shows nothing (``progress=False``): tqdm is then not even imported."""

    def update(self, n: int = 1) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


def progress_bar(total: int | None, desc: str, enabled: bool | None) -> Any:
    """A byte progress bar on stderr.

    Args:
        total: Bytes expected, or None when unknown.
        desc: The bar's label.
        enabled: True (always), False (never: a :class:`NoProgress`), None (only when stderr is a terminal).
            Under IPython the bar is tqdm's notebook one.
    """
    if enabled is False:
        return NoProgress()
    if "IPython" in sys.modules:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm  # tqdm.auto imports more: only for notebooks

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=None if enabled is None else not enabled)


def shared_memory(room: int) -> Path | None:
    """``/dev/shm`` if it is a writable folder with ``room`` bytes free (and twice that to spare), else None:
    where workers' spool files go when it can take them (a memory file system takes written bytes for about
    half the system time a disk's does, ``docs/performance.md``)."""
    shm = Path("/dev/shm")
    try:
        st = os.statvfs(shm)
    except OSError:
        return None
    if not os.access(shm, os.W_OK | os.X_OK) or st.f_bavail * st.f_frsize < 2 * room:
        return None
    return shm


@contextlib.contextmanager
def worker_pool(n: int, initializer: Callable[..., None], initargs: tuple[Any, ...],
                hold: Callable[[], contextlib.AbstractContextManager[Any]] | None = None) -> Iterator[WorkerPool]:
    """A :class:`WorkerPool` of ``n`` processes that stops cleanly, and at once, whatever happens.

    When the block ends with an exception, KeyboardInterrupt included, the workers are killed rather than
    awaited, so the run stops within moments whatever they were doing; otherwise they finish the calls
    submitted and exit. ``hold`` (see :class:`WorkerPool`) is :func:`decontam.atomic.interrupts_held` in runs.
    """
    pool: WorkerPool | None = None
    try:
        pool = WorkerPool(n, initializer, initargs, hold)
        yield pool
        pool.close()
    except BaseException:
        if pool is not None:
            pool.kill()
        raise


class WorkerError(DecontamError):
    """A worker process stopped without giving its result (killed, e.g. for lack of memory)."""


class Task:
    """The coming result of a call submitted to a :class:`WorkerPool`."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._done = False
        self._outcome: tuple[bool, Any, str] = (False, None, "")

    def result(self) -> Any:
        """The call's return value (waiting for it), or the exception it raised, raised here."""
        while not self._done:
            self._pool.wait()
        ok, value, remote = self._outcome
        if ok:
            return value
        if remote:  # shown in a traceback (of an unexpected error), under the error itself
            value.__cause__ = _RemoteTraceback(remote)
        raise value

    def finish(self, ok: bool, value: Any, remote: str = "") -> None:
        """Record the outcome (called by the pool)."""
        self._done, self._outcome = True, (ok, value, remote)


class WorkerPool:
    """Worker processes, each with its own pipe, that run calls in the order submitted.

    Why not ``concurrent.futures.ProcessPoolExecutor``: its workers send results through one shared pipe
    whose writing end this process also holds, read by a thread. A worker killed while sending (Ctrl-C stops a
    run by killing its workers) leaves half a message there that the thread waits on forever, and the exit of
    the process waits on the thread: a hang. Here each worker's pipe is its own, so a worker that dies is seen
    at once (end of file, or its process sentinel), by this process's main thread, and no thread is left to
    wait on. Workers ignore Ctrl-C (so none prints a traceback): SIGINT is blocked while they start, and they
    ignore it before they unblock it.

    Starting them forks this process, which runs Python's at-fork hooks (logging's, among others); a
    KeyboardInterrupt raised inside one is printed and lost, so the run would go on and exit 0. ``hold``, a
    context manager that holds Ctrl-C back until its block ends (:func:`decontam.atomic.interrupts_held`),
    keeps it out of them; blocking SIGINT here is not enough, since another thread (pyarrow's) may take it.

    Args:
        n: Number of processes.
        initializer: Called once in each worker with ``initargs`` (e.g. to set up its matcher).
        initargs: Its arguments.
        hold: Holds Ctrl-C back while the workers start.
    """

    def __init__(self, n: int, initializer: Callable[..., None], initargs: tuple[Any, ...],
                 hold: Callable[[], contextlib.AbstractContextManager[Any]] | None = None) -> None:
        import multiprocessing  # imported only when a pool is used (``import decontam`` stays light)

        ctx = multiprocessing.get_context()
        self._queue: deque[tuple[Task, Callable[..., Any], tuple[Any, ...], dict[str, Any], bool]] = deque()
        self._workers: list[_Worker] = []
        self._frozen = False
        try:
            with (hold or contextlib.nullcontext)(), _sigint_blocked():
                self._freeze()
                for _ in range(n):
                    ours, theirs = ctx.Pipe()
                    others = [w.conn for w in self._workers] + [ours]  # this process's ends: the worker closes them
                    proc = ctx.Process(target=_worker_main, args=(theirs, others, initializer, initargs), daemon=True)
                    self._workers.append(_Worker(proc, ours))
                    proc.start()
                    theirs.close()
        except BaseException:  # a Ctrl-C held back while they started is raised here
            self.kill()
            raise

    def _freeze(self) -> None:
        """Move this process's objects out of the garbage collector's sight while the workers run: a worker's
        collections would otherwise go through the objects it shares with this process (the matcher's among
        them) and write to each, copying every page of them into the worker (and this process's own
        collections would copy them here). Undone by :meth:`close` and :meth:`kill`. Not done when the
        collector is off, or when objects are frozen already (by the program using decontam, or by another
        pool): unfreezing them afterwards would undo what that one did."""
        if not gc.isenabled() or gc.get_freeze_count():
            return
        gc.freeze()
        self._frozen = True

    def _unfreeze(self) -> None:
        if self._frozen:
            self._frozen = False
            gc.unfreeze()

    def submit(self, fn: Callable[..., Any], *args: Any, queue_ahead: bool = False, **kwargs: Any) -> Task:
        """Run ``fn(*args, **kwargs)`` in a worker (``fn`` a module-level function); returns its :class:`Task`.

        With ``queue_ahead`` the call may be sent to a worker still busy with one call, to start as soon as that
        one is done: the worker does not wait for this process to take its result and hand it the next call
        (this process may be busy, e.g. copying a part's rows to the output). Only for calls whose arguments
        are small (a few KB: they wait in the pipe, which a worker sending a large result does not read).
        """
        task = Task(self)
        self._queue.append((task, fn, args, kwargs, queue_ahead))
        self.wait(block=False)
        return task

    def wait(self, block: bool = True) -> None:
        """Take the results that are ready (with ``block``, wait for one), and give idle workers work.

        Raises:
            WorkerError: A worker process stopped (killed) before giving its result.
        """
        from multiprocessing import connection

        self._dispatch()
        busy = [w for w in self._workers if w.tasks]
        if busy:
            ready = set(connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                        None if block else 0))
            for w in busy:
                if w.conn in ready or w.process.sentinel in ready:
                    w.collect()
        self._dispatch()

    def _dispatch(self) -> None:
        for w in self._workers:  # idle workers first
            if not self._queue:
                return
            if not w.tasks:
                task, fn, args, kwargs, _ = self._queue.popleft()
                w.send(task, fn, args, kwargs)
        for w in self._workers:  # then one call queued ahead per busy worker, if the call allows it
            if not self._queue or not self._queue[0][4]:
                return
            if len(w.tasks) == 1:
                task, fn, args, kwargs, _ = self._queue.popleft()
                w.send(task, fn, args, kwargs)

    def close(self) -> None:
        """Finish the calls submitted, then let the workers exit."""
        while self._queue or any(w.tasks for w in self._workers):
            self.wait()
        for w in self._workers:
            w.stop()
        self._unfreeze()

    def kill(self) -> None:
        """Stop now: kill the workers (whatever they are doing) and drop the calls not done."""
        self._queue.clear()
        started = [w for w in self._workers if w.process.pid is not None]
        for w in started:
            w.process.kill()
        for w in started:
            w.process.join(timeout=5)
        for w in self._workers:
            w.conn.close()
        self._unfreeze()


class _Worker:
    """One worker process, its end of the pipe, and the tasks sent to it, in order (the first one running;
    none when idle)."""

    def __init__(self, process: Any, conn: Any) -> None:
        self.process = process
        self.conn = conn
        self.tasks: deque[Task] = deque()

    def send(self, task: Task, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self.conn.send((fn, args, kwargs))
        except (BrokenPipeError, ConnectionResetError):
            raise WorkerError(self._death()) from None
        self.tasks.append(task)

    def collect(self) -> None:
        try:
            ok, value, remote = self.conn.recv()
        except (EOFError, OSError):  # the worker died: nothing, or half a message, was sent
            raise WorkerError(self._death()) from None
        if self.tasks:
            self.tasks.popleft().finish(ok, value, remote)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():  # pragma: no cover - a worker that does not exit when told
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()

    def _death(self) -> str:
        self.process.join(timeout=5)
        code = self.process.exitcode
        how = f"exit code {code}"
        if code is not None and code < 0:
            try:
                how = f"killed by signal {-code} ({signal.Signals(-code).name})"
            except ValueError:
                how = f"killed by signal {-code}"
        hint = "; for lack of memory? use fewer worker processes (--num-proc)" if code == -signal.SIGKILL else ""
        return f"a worker process ({self.process.pid}) stopped before giving its result: {how}{hint}"


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process, as text."""

    def __str__(self) -> str:
        return str(self.args[0])


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while workers start: each inherits the mask and ignores SIGINT before it
    unblocks it, so that a Ctrl-C at that moment reaches this process only (it is delivered here afterwards)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # pragma: no cover - Windows
        yield
        return
    mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _worker_main(conn: Any, others: list[Any], initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    """A worker: ignore Ctrl-C, set up, then run calls from the pipe until told to stop (None), or until its
    pipe closes or its parent process ends (so that no worker can outlive its run, even one whose start the
    parent did not see through)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    import multiprocessing
    from multiprocessing import connection

    for end in others:  # inherited copies of the parent's ends: held here, they would hide its exit
        end.close()
    parent = multiprocessing.parent_process()
    watch = [conn] + ([parent.sentinel] if parent is not None else [])
    failed: BaseException | None = None
    try:
        initializer(*initargs)
    except BaseException as exc:  # noqa: BLE001 - answered to every call, so that the run fails with it
        failed = exc
    while True:
        try:
            if conn not in connection.wait(watch):  # the parent is gone
                return
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        fn, args, kwargs = msg
        try:
            if failed is not None:
                raise failed
            out: tuple[bool, Any, str] = (True, fn(*args, **kwargs), "")
        except BaseException as exc:  # noqa: BLE001 - sent back, raised in the caller
            out = (False, exc, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        try:
            conn.send(out)
        except OSError:  # the parent is gone
            return
        except Exception as exc:  # noqa: BLE001 - the result or the error does not pickle: say so, as an error
            conn.send((False, WorkerError(f"a worker's result could not be sent back: {exc!r}"), ""))
