"""Atomic file writes: a reader sees the old file or the complete new one, never a partial one; several
outputs of one run are staged, then put in place together (:class:`Commit`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["Commit", "default_mode", "remove_path", "replace_path", "staging_path", "write_atomic"]


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
    dest.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
        tmp.chmod(default_mode(directory=True))
        return tmp
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.fchmod(fd, default_mode())
    os.close(fd)
    return Path(name)


def replace_path(tmp: Path, dest: Path) -> None:
    """Move a finished temporary file or folder onto ``dest``, replacing what is there (a folder too)."""
    if dest.exists() and (tmp.is_dir() or dest.is_dir()):
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.rmdir(old)
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
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

    Everything that can fail for lack of space or rights happens while staging; committing is only renames.
    If the run fails before :meth:`apply` (or is interrupted), :meth:`discard` removes every temporary file and
    folder it made, and the folders it created to hold them; if a rename fails during :meth:`apply`, the error
    says which outputs are in place and which are not.

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

    def __enter__(self) -> Commit:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.discard()

    def temp(self, dest: str | os.PathLike[str], directory: bool = False) -> Path:
        """A new temporary file (or folder) beside ``dest``, removed by :meth:`discard` unless committed."""
        dest = Path(dest)
        missing = [p for p in [dest.parent, *dest.parent.parents] if not p.exists()]
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._made_dirs += missing  # deepest first
        tmp = staging_path(dest, directory)
        self._temps.append(tmp)
        return tmp

    def stage(self, tmp: Path, dest: str | os.PathLike[str]) -> None:
        """Add a finished temporary file or folder, to be moved onto ``dest``."""
        self.staged.append((Path(tmp), Path(dest)))

    def stage_bytes(self, dest: str | os.PathLike[str], data: bytes | str) -> None:
        """Write ``data`` to a temporary file beside ``dest`` now (synced), to be moved onto it."""
        tmp = self.temp(dest)
        blob = data.encode("utf-8") if isinstance(data, str) else data
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        self.stage(tmp, dest)

    def apply(self) -> None:
        """Move every staged output onto its destination, in the order staged.

        Raises:
            OSError: A rename failed; the message lists what is in place and what is not.
        """
        try:
            while self.staged:
                tmp, dest = self.staged[0]
                replace_path(tmp, dest)
                self.staged.pop(0)
                self.done.append(dest)
                if tmp in self._temps:
                    self._temps.remove(tmp)
                self._made_dirs = [d for d in self._made_dirs if d not in dest.parents and d != dest]
        except OSError as exc:
            placed = ", ".join(map(str, self.done)) or "none"
            missing = ", ".join(str(dest) for _, dest in self.staged)
            raise OSError(exc.errno, f"{exc.strerror or exc}; written: {placed}; NOT written: {missing}",
                          str(self.staged[0][1])) from exc
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporaries not moved into place, and the folders made for them if left empty."""
        self.staged.clear()
        while self._temps:
            remove_path(self._temps.pop())
        for folder in self._made_dirs:  # deepest first
            try:
                folder.rmdir()
            except FileNotFoundError:
                continue
            except OSError:  # not empty (something else is there): keep it and its parents
                break
        self._made_dirs.clear()
