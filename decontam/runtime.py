"""How a run uses its process: progress bars, the garbage collector, and pools of worker processes.

Nothing here changes a result; it decides only how a run shows itself, what it costs, and how it stops.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["NoProgress", "gc_paused", "progress_bar", "worker_pool"]


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


@contextlib.contextmanager
def worker_pool(n: int, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> Iterator[Any]:
    """A pool of ``n`` worker processes (a ``concurrent.futures.ProcessPoolExecutor``) that stops cleanly.

    Ctrl-C reaches only this process: the workers ignore SIGINT (so none prints a traceback), and when the
    block ends with an exception, KeyboardInterrupt included, the workers are killed at once rather than
    awaited, so the run stops within moments whatever they were doing.
    """
    from concurrent.futures import ProcessPoolExecutor  # imported only when a pool is used

    pool = ProcessPoolExecutor(max_workers=n, initializer=_init_worker, initargs=(initializer, initargs))
    try:
        yield pool
    except BaseException:
        _kill_workers(pool)
        raise
    pool.shutdown(wait=True)


def _init_worker(initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    initializer(*initargs)


def _kill_workers(pool: Any) -> None:
    """Stop a pool now: kill the worker processes, cancel what has not started."""
    kill = getattr(pool, "kill_workers", None)  # public from Python 3.14
    procs = list((getattr(pool, "_processes", None) or {}).values())  # (shutdown forgets them)
    if kill is not None:
        kill()
    else:
        for proc in procs:
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.join(timeout=5)
