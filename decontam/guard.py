"""Guarding a user's files: an output never replaces an existing file unless asked, never lands on or inside an
input (or holds one), and two runs cannot write one output at the same time.

Every command and API function that writes checks its destinations with :func:`check_outputs` *before any
work*, and holds an :class:`OutputLock` on them until its outputs are committed.

Paths are compared after resolving symlinks and ``.``/``..``, so ``./a``, ``a`` and a link to ``a`` are one file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import OutputBusyError, OutputExistsError, PathConflictError

__all__ = ["OutputLock", "check_outputs", "same_or_inside"]

LOCK_SUFFIX = ".decontam-lock"


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


def same_or_inside(path: str | os.PathLike[str], other: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is ``other`` or lies inside it (after resolving links, ``.`` and ``..``).

    Example:
        >>> same_or_inside("data/./out.jsonl", "data"), same_or_inside("data2", "data")
        (True, False)
    """
    p, o = _resolved(path), _resolved(other)
    return p == o or o in p.parents


def check_outputs(outputs: Sequence[tuple[str, str | os.PathLike[str] | None]],
                  inputs: Iterable[str | os.PathLike[str]], overwrite: bool = False) -> None:
    """Refuse destinations that would destroy data, before any work is done.

    Args:
        outputs: ``(what, path)`` pairs (``what`` names the flag or argument in messages, e.g. ``"-o"``);
            ``None`` paths are skipped.
        inputs: Every file or folder the run reads (corpus, benchmarks, reports, indexes).
        overwrite: Allow replacing an existing output (never an input).

    Raises:
        PathConflictError: An output is an input, lies inside an input folder, holds an input, or two
            outputs are the same path (whatever ``overwrite`` says).
        OutputExistsError: An output exists (other than an empty folder) and ``overwrite`` is False.
    """
    given = [(what, path) for what, path in outputs if path is not None]
    ins = [p for p in inputs if p is not None and os.path.lexists(os.fspath(p))]
    for i, (what, path) in enumerate(given):
        for src in ins:
            if same_or_inside(path, src):
                kind = "is" if _resolved(path) == _resolved(src) else "lies inside"
                raise PathConflictError(f"{what} {path} {kind} the input {src}: decontam never writes to or "
                                        "inside an input; choose another output path")
            if same_or_inside(src, path):
                raise PathConflictError(f"{what} {path} holds the input {src}: replacing it would destroy the "
                                        "input; choose another output path")
        for other_what, other in given[:i]:
            if _resolved(path) == _resolved(other):
                raise PathConflictError(f"{what} and {other_what} are the same path {path}: give each its own")
        if os.path.lexists(os.fspath(path)) and not overwrite and not _empty_folder(path):
            kind = "folder" if Path(path).is_dir() else "file"
            raise OutputExistsError(f"{what} {path}: the {kind} exists; pass --overwrite to replace it "
                                    "(Python: overwrite=True), or choose another path")


def _empty_folder(path: str | os.PathLike[str]) -> bool:
    """An existing empty folder holds nothing to lose: a folder output may take its place."""
    p = Path(path)
    return p.is_dir() and not p.is_symlink() and not any(p.iterdir())


class OutputLock:
    """Lock files beside a run's destinations, held while it runs: a second run writing any of them fails at
    once, saying which run holds it (a lock left by a run that was killed is taken over).

    Use as a context manager; the lock files are removed on exit, whatever happened.
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str] | None]) -> None:
        self.paths = sorted({_lock_path(p) for p in paths if p is not None})
        self._held: list[Path] = []
        self._made_dirs: list[Path] = []

    def __enter__(self) -> OutputLock:
        try:
            for lock in self.paths:
                self._take(lock)
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _take(self, lock: Path) -> None:
        self._made_dirs += [p for p in [lock.parent, *lock.parent.parents] if not p.exists()]
        lock.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _owner(lock)
                if owner is None or not _alive(owner):  # stale: its run is gone
                    lock.unlink(missing_ok=True)
                    continue
                dest = lock.with_name(lock.name[1 : -len(LOCK_SUFFIX)])
                raise OutputBusyError(f"another decontam run (process {owner}) is writing {dest}; wait for it to "
                                      f"finish, or if no run is, remove {lock}") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self._held.append(lock)
            return
        raise OutputBusyError(f"cannot take the lock {lock}; remove it if no decontam run is writing there")

    def release(self) -> None:
        """Remove the lock files this run holds (and the folders made for them, if left empty)."""
        while self._held:
            self._held.pop().unlink(missing_ok=True)
        for folder in self._made_dirs:  # deepest first
            try:
                folder.rmdir()
            except FileNotFoundError:
                continue
            except OSError:  # not empty: the run's outputs are in it
                break
        self._made_dirs.clear()


def _lock_path(path: str | os.PathLike[str]) -> Path:
    dest = Path(os.path.abspath(os.fspath(path)))
    return dest.with_name(f".{dest.name}{LOCK_SUFFIX}")


def _owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip() or "x")
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
