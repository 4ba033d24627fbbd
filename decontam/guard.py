"""Guarding a user's files: an output never replaces an existing file unless asked, never lands on or inside an
input (or holds one), and two runs cannot write one output at the same time.

Every command and API function that writes checks its destinations with :func:`check_outputs` *before any
work*, and holds an :class:`OutputLock` on them until its outputs are committed.

Paths are compared after resolving symlinks and ``.``/``..``, so ``./a``, ``a`` and a link to ``a`` are one file.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import ConfigError, OutputBusyError, OutputExistsError, PathConflictError

__all__ = ["OutputLock", "check_file_outputs", "check_outputs", "same_or_inside"]

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
        PathConflictError: An output is an input, lies inside an input folder, holds an input, is a device, a
            named pipe or a socket, or two outputs are the same path (whatever ``overwrite`` says).
        OutputExistsError: An output exists (other than an empty folder) and ``overwrite`` is False.
        ConfigError: A folder on an output's path is a file.
    """
    given = [(what, path) for what, path in outputs if path is not None]
    ins = [p for p in inputs if p is not None and os.path.lexists(os.fspath(p))]
    for i, (what, path) in enumerate(given):
        blocker = _file_in_the_way(path)
        if blocker is not None:
            raise ConfigError(f"{what} {path}: {blocker} is a file, not a folder; choose another output path")
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
        special = _special_kind(path)
        if special is not None:
            raise PathConflictError(f"{what} {path} is a {special}, not a file: an output is written whole and then "
                                    "put in its path's place, which would replace it (whatever --overwrite says); "
                                    "choose a file path")
        if os.path.lexists(os.fspath(path)) and not overwrite and not _empty_folder(path):
            kind = "folder" if Path(path).is_dir() else "file"
            raise OutputExistsError(f"{what} {path}: the {kind} exists; pass --overwrite to replace it "
                                    "(Python: overwrite=True), or choose another path")


def check_file_outputs(outputs: Sequence[tuple[str, str | os.PathLike[str] | None]]) -> None:
    """Refuse, before any work, outputs written as one file whose path is a folder, empty or not: the file would
    take the folder's place (:func:`check_outputs` lets an empty folder be replaced, as a folder output may).

    Args:
        outputs: ``(what, path)`` pairs, as :func:`check_outputs` takes them; ``None`` paths are skipped.

    Raises:
        ConfigError: naming the flag and the folder (whatever ``overwrite`` says).
    """
    for what, path in outputs:
        if path is not None and Path(path).is_dir():
            raise ConfigError(f"{what} {path} is a folder; give a file path")


def _special_kind(path: str | os.PathLike[str]) -> str | None:
    """What ``path`` is if it is there and is neither a file, a folder nor a link: a device, a pipe, a socket."""
    try:
        mode = os.lstat(os.fspath(path)).st_mode
    except OSError:
        return None
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return None


def _file_in_the_way(path: str | os.PathLike[str]) -> Path | None:
    """The first of ``path``'s folders that exists as something other than a folder, if any."""
    return next((p for p in reversed(Path(path).parents) if p.exists() and not p.is_dir()), None)


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
        dest = lock.with_name(lock.name[1 : -len(LOCK_SUFFIX)])
        self._made_dirs += [p for p in [lock.parent, *lock.parent.parents] if not p.exists()]
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            for _ in range(2):
                if _create(lock):
                    self._held.append(lock)
                    return
                owner = _owner(lock)
                young = owner is None and _age(lock) < 5  # (a lock made without hard links, being written)
                if not young and (owner is None or not _alive(owner)):  # stale: its run is gone
                    lock.unlink(missing_ok=True)
                    continue
                who = "starting now" if owner is None else f"process {owner}"
                raise OutputBusyError(f"another decontam run ({who}) is writing {dest}; wait for it to finish, "
                                      f"or if no run is, remove {lock}")
        except OSError as exc:  # no rights, a full disk...: said as a failure to write the output
            raise OSError(exc.errno, f"cannot write {dest}: cannot create its lock file {lock} "
                                     f"({exc.strerror or exc}); no output was written") from exc
        raise OutputBusyError(f"cannot take the lock {lock}; remove it if no decontam run is writing there")

    def release(self) -> None:
        """Remove the lock files this run holds (and the folders made for them, if left empty)."""
        while self._held:
            self._held.pop().unlink(missing_ok=True)
        # deepest first, each chain of folders made (outputs in several places make several chains)
        for folder in sorted(set(self._made_dirs), key=lambda d: len(d.absolute().parts), reverse=True):
            try:
                folder.rmdir()
            except OSError:  # gone, or not empty (outputs, or something else, are in it): keep it
                continue
        self._made_dirs.clear()


def _lock_path(path: str | os.PathLike[str]) -> Path:
    dest = Path(os.path.abspath(os.fspath(path)))
    return dest.with_name(f".{dest.name}{LOCK_SUFFIX}")


def _create(lock: Path) -> bool:
    """Create ``lock`` holding this process's id, complete from the moment it exists (a run reading it never
    sees it empty); False if it exists. The id is written to a file of its own, then linked into place."""
    tmp = lock.with_name(f"{lock.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            data = str(os.getpid()).encode()
            while data:  # (a write may stop short, at a file size limit)
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        try:
            os.link(tmp, lock)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: create it in place
            try:
                os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            except FileExistsError:
                return False
            lock.write_text(str(os.getpid()))
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _owner(lock: Path) -> int | None:
    try:
        pid = int(lock.read_text().strip() or "x")
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


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
