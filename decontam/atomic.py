"""Atomic file writes: a reader sees the old file or the complete new one, never a partial one; several
outputs of one run are staged, then put in place together (:class:`Commit`).

A write that fails (a full disk, a file size limit, no rights) raises :class:`OutputWriteError`, which names
the output, not the temporary file it was being written to.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import DecontamError

__all__ = [
    "Commit",
    "OutputWriteError",
    "default_mode",
    "interrupts_held",
    "placed",
    "remove_path",
    "replace_path",
    "staging_path",
    "write_atomic",
    "write_error",
    "writing",
]

_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_PLACED: list[Path] = []  # every destination a Commit put in place in this process, in order


class OutputWriteError(DecontamError, OSError):
    """An output could not be written (full disk, size limit, no rights...); the message names the output.

    Raised while the output is written to its temporary file, before anything is put in place, so nothing
    of the run is left: an existing file at that path is unchanged. ``errno`` is the system's error number.
    """

    def __str__(self) -> str:  # OSError would prefix "[Errno N]"
        return str(self.strerror)


@contextlib.contextmanager
def writing(dest: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an ``OSError`` raised in the block into an :class:`OutputWriteError` naming ``dest``.

    Example:
        >>> try:
        ...     with writing("out/clean.jsonl"):
        ...         raise OSError(errno.ENOSPC, "No space left on device")
        ... except OutputWriteError as exc:
        ...     print(str(exc)[:53])
        cannot write out/clean.jsonl: No space left on device
    """
    try:
        yield
    except OutputWriteError:
        raise
    except OSError as exc:
        raise write_error(exc, dest) from exc


def write_error(exc: OSError, dest: str | os.PathLike[str]) -> OutputWriteError:
    """The :class:`OutputWriteError` for ``exc`` raised while writing ``dest`` (pyarrow's too)."""
    code = exc.errno
    if code is None:  # pyarrow's OSError carries the number only in its text: "[errno 27] File too large"
        code = next((c for c in _FULL if f"errno {c}]" in str(exc).lower()), None)
    reason = os.strerror(code) if code is not None else (exc.strerror or str(exc))
    if code in _FULL:
        reason += " (the disk is full or a file size limit was reached: free space, or write elsewhere)"
    return OutputWriteError(code or 0, f"cannot write {os.fspath(dest)}: {reason}; no output was written")


def placed() -> list[Path]:
    """Every destination a :class:`Commit` has put in place in this process so far, in order.

    The command line reads it to say what an interrupted run leaves: outputs are put in place together, so
    an interruption either leaves none of a run's outputs or all of them.
    """
    return list(_PLACED)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back while the block runs, then raise it as usual once the block is done.

    Putting outputs in place is a few renames that must all happen or none; removing temporaries must not
    stop halfway. Only the main thread receives signals in Python; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if got and callable(old):
            old(signal.SIGINT, None)
        elif got and old == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


def default_mode(directory: bool = False) -> int:
    """The permissions ``open``/``mkdir`` would give a new file (or folder) under the current umask.

    ``tempfile.mkstemp``/``mkdtemp`` create private (0600/0700) entries; outputs renamed from them get these
    ordinary permissions instead.
    """
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Args:
        path: Destination; its folder is created if needed (and removed again if the write fails).
        data: Bytes, or text written as UTF-8.

    Returns:
        The destination path.
    """
    with Commit() as commit:
        commit.stage_bytes(path, data)
        commit.apply()
    return Path(path)


def staging_path(dest: Path, directory: bool = False) -> Path:
    """A new temporary file (or folder) beside ``dest``, named after it, with ordinary permissions."""
    _make_parent(dest)
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
        tmp.chmod(default_mode(directory=True))
        return tmp
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.fchmod(fd, default_mode())
    os.close(fd)
    return Path(name)


def _make_parent(dest: Path) -> None:
    """Create the folder of ``dest`` (and its parents), saying which part of the path is in the way."""
    blocker = next((p for p in [dest.parent, *dest.parent.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputWriteError(errno.ENOTDIR, f"cannot write {dest}: {blocker} is a file, not a folder; "
                                              "no output was written")
    with writing(dest):
        dest.parent.mkdir(parents=True, exist_ok=True)


def _kind(path: Path) -> str | None:
    """``"folder"``, ``"file"`` (a link counts as a file: it is what gets replaced) or None (nothing there)."""
    if not os.path.lexists(path):
        return None
    return "folder" if path.is_dir() and not path.is_symlink() else "file"


def replace_path(tmp: Path, dest: Path) -> None:
    """Move a finished temporary file or folder onto ``dest``, replacing what is there (a folder too)."""
    if dest.exists() and (tmp.is_dir() or dest.is_dir()):
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.rmdir(old)
        os.replace(dest, old)
        os.replace(tmp, dest)
        remove_path(old)  # (a file, when a folder output replaces one)
    else:
        os.replace(tmp, dest)


def remove_path(path: Path) -> None:
    """Remove a temporary file or folder, if it is still there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Commit:
    """Outputs staged beside their destinations and put in place together, at the end, in order.

    Everything that can fail for lack of space or rights happens while staging (and raises
    :class:`OutputWriteError`, naming the output); committing is only renames, during which Ctrl-C is held back
    so that the outputs are put in place all together or not at all. If the run fails before :meth:`apply` (or
    is interrupted), :meth:`discard` removes every temporary file and folder it made, and the folders it
    created to hold them; if a rename fails during :meth:`apply`, the error says which outputs are in place and
    which are not.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with Commit() as c:
        ...     c.stage_bytes(d / "a.txt", b"a")
        ...     c.stage_bytes(d / "b.txt", b"b")
        ...     c.apply()
        >>> sorted(p.name for p in d.iterdir())
        ['a.txt', 'b.txt']
    """

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []  # (temporary, destination), in commit order
        self.done: list[Path] = []
        self._temps: list[Path] = []  # every temporary made, removed unless committed
        self._made_dirs: list[Path] = []  # folders made to hold outputs, removed if left empty
        self._found: dict[Path, str | None] = {}  # what each destination was when first seen (see expect)

    def __enter__(self) -> Commit:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.discard()

    def expect(self, dest: str | os.PathLike[str]) -> None:
        """Note what ``dest`` is now (nothing, a file, a folder): :meth:`apply` refuses to replace it if that
        has changed since, so that a file another program writes there meanwhile is never lost.

        :meth:`temp` notes it too; call this as early as possible (right after the output checks) for outputs
        whose temporary comes late, like a report.
        """
        self._found.setdefault(Path(dest), _kind(Path(dest)))

    def temp(self, dest: str | os.PathLike[str], directory: bool = False) -> Path:
        """A new temporary file (or folder) beside ``dest``, removed by :meth:`discard` unless committed."""
        dest = Path(dest)
        self.expect(dest)
        missing = [p for p in [dest.parent, *dest.parent.parents] if not p.exists()]
        _make_parent(dest)
        self._made_dirs += missing
        with writing(dest):
            tmp = staging_path(dest, directory)
        self._temps.append(tmp)
        return tmp

    def stage(self, tmp: Path, dest: str | os.PathLike[str]) -> None:
        """Add a finished temporary file or folder, to be moved onto ``dest``."""
        self.staged.append((Path(tmp), Path(dest)))

    def stage_bytes(self, dest: str | os.PathLike[str], data: bytes | str) -> None:
        """Write ``data`` to a temporary file beside ``dest`` now (synced), to be moved onto it.

        Text is written as UTF-8. A lone surrogate (``"\\udfff"`` in a JSON input is valid JSON, and can reach an
        id or a matched text) has no UTF-8 form: it is written as its escape ``\\udfff``, which in a JSON string
        is that very character again, and in a card reads as what the input held.
        """
        tmp = self.temp(dest)
        blob = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
        with writing(dest), open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        self.stage(tmp, dest)

    def apply(self) -> None:
        """Move every staged output onto its destination, in the order staged.

        Ctrl-C is held back until every output is in place (see :func:`interrupts_held`). Before any is
        moved, each destination is checked: one that appeared or changed since it was first seen (see
        :meth:`expect`), or a folder where a file goes, is not replaced, and then none is.

        Raises:
            OutputWriteError: A destination is taken (nothing is written); or a rename failed (the message lists
                what is in place and what is not).
        """
        with interrupts_held():
            try:
                self._check_destinations()
                while self.staged:
                    tmp, dest = self.staged[0]
                    replace_path(tmp, dest)
                    self.staged.pop(0)
                    self.done.append(dest)
                    _PLACED.append(dest)
                    if tmp in self._temps:
                        self._temps.remove(tmp)
                    self._made_dirs = [d for d in self._made_dirs if d not in dest.parents and d != dest]
            except OutputWriteError:
                raise
            except OSError as exc:
                done = ", ".join(map(str, self.done)) or "none"
                missing = ", ".join(str(dest) for _, dest in self.staged)
                raise OutputWriteError(exc.errno or 0, f"cannot put {self.staged[0][1]} in place: "
                                       f"{exc.strerror or exc}; written: {done}; NOT written: {missing}") from exc
            finally:
                self.discard()

    def _check_destinations(self) -> None:
        for tmp, dest in self.staged:
            was, now = self._found.get(dest, _kind(dest)), _kind(dest)
            why = None
            if now is not None and was is None:
                why = f"a {now} appeared there while the run was going (written by another program?)"
            elif now is not None and now != was:
                why = f"it changed from a {was} to a {now} while the run was going"
            elif now == "folder" and not tmp.is_dir() and any(dest.iterdir()):
                why = "a folder is there, not a file"
            if why is not None:
                self.staged.clear()
                raise OutputWriteError(errno.EEXIST, f"cannot put {dest} in place: {why}; it was not replaced, and "
                                                     "no output was written")

    def discard(self) -> None:
        """Remove the temporaries not moved into place, and the folders made for them if left empty (Ctrl-C
        is held back meanwhile, so that an interruption cannot leave half of them)."""
        with interrupts_held():
            self.staged.clear()
            while self._temps:
                remove_path(self._temps[-1])
                self._temps.pop()
            # deepest first, each chain of folders made (outputs in several places make several chains)
            for folder in sorted(set(self._made_dirs), key=lambda d: len(d.absolute().parts), reverse=True):
                try:
                    folder.rmdir()
                except OSError:  # gone, or not empty (outputs, or something else, are in it): keep it
                    continue
            self._made_dirs.clear()
