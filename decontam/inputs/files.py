"""Corpus files: which paths are corpus files (by suffix), expanding folders, and reading one file.

``.jsonl``, ``.jsonl.gz`` and ``.parquet`` files are read by :mod:`~decontam.inputs.jsonl` and
:mod:`~decontam.inputs.parquet`; a folder stands for every such file inside it, recursively, in order of
relative path.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..benchmark_files import is_documentation
from ..config import MAX_DOC_BYTES
from ..errors import ConfigError, InputError
from .batch import Batch, ReadCounts, Rejected
from .jsonl import RANGE_MIN_BYTES, jsonl_fields, jsonl_ranges, read_jsonl
from .parquet import parquet_module, read_parquet

__all__ = ["CorpusFile", "FilePart", "SkippedFile", "expand_corpus", "file_format", "first_row_names", "read_file",
           "require_id_field", "split_file"]

PART_MAX_BYTES = 16 << 20  # a file split for several processes is split into parts of at most about this size

_FORMATS = {".jsonl": "jsonl", ".jsonl.gz": "jsonl.gz", ".parquet": "parquet"}


def file_format(path: str | os.PathLike[str]) -> str | None:
    """The corpus format of a path by its suffix (``jsonl``, ``jsonl.gz``, ``parquet``), or None."""
    name = str(path).lower()
    for suffix in (".jsonl.gz", ".jsonl", ".parquet"):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    return None


@dataclass(frozen=True)
class CorpusFile:
    """One input file and the path its output takes, relative to the output folder."""

    path: Path
    relative: str
    format: str


@dataclass(frozen=True)
class FilePart:
    """A piece of a corpus file that one process reads: a byte range of whole lines of a JSONL file, or some
    row groups of a Parquet file.

    Attributes:
        index: Its position among the file's parts.
        byte_range: JSONL: the bytes ``[start, end)``; line and row numbers count from the range's start.
        row_groups: Parquet: the row groups (rows keep their numbers in the file).
        fields: The text fields chosen for the whole file (see :func:`~decontam.inputs.jsonl.jsonl_fields`).
        size: Its size in bytes (for progress).
    """

    index: int
    byte_range: tuple[int, int] | None = None
    row_groups: tuple[int, ...] | None = None
    fields: tuple[str, ...] | None = None
    size: int = 0


def split_file(f: CorpusFile, n: int, text_field: str | Sequence[str],
               max_bytes: int = MAX_DOC_BYTES, part_bytes: int | None = None) -> list[FilePart] | None:
    """Split a corpus file into parts for ``n`` processes (at least ``2 * n`` parts, each of
    :data:`~decontam.inputs.jsonl.RANGE_MIN_BYTES` or more and about ``part_bytes`` (default
    :data:`PART_MAX_BYTES`) or less, so that the processes stay busy to the end), or None when it is not worth
    splitting or cannot be split (gzip: a stream is read from its start).

    Reading the parts in order gives the rows of the file in order, each once.
    """
    size = f.path.stat().st_size
    wanted = max(2 * n, -(-size // (part_bytes or PART_MAX_BYTES)))
    if n < 2 or size < 2 * RANGE_MIN_BYTES:
        return None
    if f.format == "jsonl":
        ranges = jsonl_ranges(f.path, wanted, RANGE_MIN_BYTES)
        if len(ranges) < 2:
            return None
        fields = jsonl_fields(f.path, text_field, max_bytes)
        return [FilePart(i, byte_range=r, fields=fields, size=r[1] - r[0]) for i, r in enumerate(ranges)]
    if f.format == "parquet":
        try:
            meta = parquet_module().ParquetFile(f.path).metadata
        except Exception:  # noqa: BLE001 - not readable: the whole-file reader says why
            return None
        groups = meta.num_row_groups
        if groups < 2:
            return None
        sizes = [meta.row_group(i).total_byte_size for i in range(groups)]
        cuts = _balanced_cuts(sizes, min(wanted, groups))
        total = max(1, sum(sizes))
        return [FilePart(i, row_groups=tuple(range(a, b)), size=int(size * sum(sizes[a:b]) / total))
                for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:]))]
    return None


def _balanced_cuts(sizes: Sequence[int], k: int) -> list[int]:
    """Cut a sequence into ``k`` runs of consecutive items of about equal total size; the cut positions."""
    total, cuts, acc = sum(sizes), [0], 0
    for i, s in enumerate(sizes):
        acc += s
        if acc >= total * len(cuts) / k and len(cuts) < k and i + 1 < len(sizes):
            cuts.append(i + 1)
    return [*cuts, len(sizes)]


@dataclass(frozen=True)
class SkippedFile:
    """An entry of a corpus folder that is not read (``on_error="skip"``), and why."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """The report's entry for this file."""
        return {"path": self.path, "reason": self.reason}


def expand_corpus(paths: Sequence[str | os.PathLike[str]], on_error: str = "raise",
                  skipped: list[SkippedFile] | None = None) -> list[CorpusFile]:
    """Expand corpus arguments (files and folders) into files, in a stable order.

    Folders are searched recursively (symlinked folders followed, each real folder once), in order of relative
    path. Names starting with ``.`` are ignored (hidden files, version-control folders), and so is
    documentation (``README*``, ``LICENSE*``, ``*.md``..., as in a benchmark folder). Every other entry
    must be a readable ``.jsonl``, ``.jsonl.gz`` or ``.parquet`` file: a dangling symlink, a special file
    (FIFO, socket, device), an unreadable entry or a file of another type is an error naming it, or with
    ``on_error="skip"`` a skipped file appended to ``skipped`` (and listed in the report): never a silent skip.

    Raises:
        InputError: A path does not exist, an entry cannot be read or is of an unsupported type (unless
            skipped), or a folder holds no corpus file.
        ConfigError: Two inputs would write the same output name.
    """
    files: list[CorpusFile] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError("no such file or folder; check the corpus path", path=str(p))
        if p.is_dir():
            found = _folder_files(p, on_error, skipped)
            if not found:
                raise InputError("folder holds no .jsonl, .jsonl.gz or .parquet file", path=str(p))
            files += [CorpusFile(f, f.relative_to(p).as_posix(), str(file_format(f))) for f in found]
        else:
            problem = _entry_problem(p)
            if problem is not None:
                raise InputError(problem, path=str(p))
            files.append(CorpusFile(p, p.name, str(file_format(p))))
    seen: dict[str, Path] = {}
    for f in files:
        if f.relative in seen:
            raise ConfigError(
                f"two corpus inputs would write the same output name {f.relative!r}: {seen[f.relative]} and "
                f"{f.path}; pass their common folder instead"
            )
        seen[f.relative] = f.path
    return files


def first_row_names(f: CorpusFile) -> list[str] | None:
    """The fields of a corpus file's first row (a Parquet file's columns), or None when it has no row to read
    (the readers say what is wrong with it)."""
    if f.format == "parquet":
        try:
            return list(parquet_module().read_schema(f.path).names)
        except (OSError, ValueError):
            return None
    opener = gzip.open if f.format == "jsonl.gz" else open
    try:
        with opener(f.path, "rb") as fh:
            line = next((raw for raw in fh if raw.strip()), b"")
        row = json.loads(line) if line else None
    except (OSError, ValueError, EOFError, zlib.error):  # (a damaged gzip stream: the reader names the file)
        return None
    return [str(k) for k in row] if isinstance(row, dict) else None


def require_id_field(files: Sequence[CorpusFile], field: str, option: str = "id_field=",
                     files_looked_at: int = 20) -> None:
    """Refuse an id field that the first row of none of the first ``files_looked_at`` corpus files has: a
    misspelt name would otherwise name every document by its row number, silently. A file whose first row
    cannot be read (the readers say what is wrong with it) stops the search: it settles nothing.

    Raises:
        ConfigError: No file looked at has the field in its first row; ``option`` names the option in the message.
    """
    seen: list[str] = []
    for f in files[:files_looked_at]:
        names = first_row_names(f)
        if names is None or field in names:
            return
        seen.append(f"{f.path}: {', '.join(names[:10])}")
    if seen:
        raise ConfigError(f"{option} {field}: the first row of no corpus file has it ({'; '.join(seen[:3])}); "
                          f"documents would be named by row number: check the name, or leave {option} out")


def _folder_files(root: Path, on_error: str, skipped: list[SkippedFile] | None) -> list[Path]:
    """The corpus files under ``root``, sorted by relative path; other entries raise or are skipped."""
    found: list[Path] = []
    visited = {os.path.realpath(root)}

    def unreadable(exc: OSError) -> None:  # a subfolder that cannot be listed (permission denied...)
        problem = f"a folder that cannot be read ({exc.strerror or exc})"
        if on_error == "skip" and skipped is not None:
            skipped.append(SkippedFile(str(exc.filename), problem))
        else:
            raise InputError(problem + "; make it readable, remove it, name the files to read, or pass "
                             "--on-error skip to skip and count it", path=str(exc.filename))

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=unreadable):
        here = Path(folder)
        keep = []
        for d in sorted(dirs):
            real = os.path.realpath(here / d)
            if not d.startswith(".") and real not in visited:  # a link back up is not read twice
                visited.add(real)
                keep.append(d)
        dirs[:] = keep
        for name in sorted(names):
            entry = here / name
            if name.startswith(".") or (file_format(name) is None and is_documentation(name)):
                continue
            problem = _entry_problem(entry)
            if problem is None:
                found.append(entry)
            elif on_error == "skip" and skipped is not None:
                skipped.append(SkippedFile(str(entry), problem))
            else:
                raise InputError(problem + "; remove it from the folder, name the files to read, or pass "
                                 "--on-error skip to skip and count it", path=str(entry))
    return sorted(found, key=lambda f: f.relative_to(root).as_posix())


def _entry_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a corpus file, or None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "a dangling symbolic link (its target does not exist)" if path.is_symlink() else "no such file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else \
            "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
        return f"{kind}, not a corpus file"
    if file_format(path) is None:
        return "unsupported corpus format: use .jsonl, .jsonl.gz or .parquet (or a folder of them)"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def read_file(
    f: CorpusFile,
    text_field: str | Sequence[str],
    id_field: str | None,
    on_error: str,
    rejected: list[Rejected],
    for_output: bool = False,
    max_bytes: int = MAX_DOC_BYTES,
    part: FilePart | None = None,
    counts: ReadCounts | None = None,
) -> Iterator[Batch]:
    """Read one corpus file as batches (the error policy is the readers': see their modules).

    Args:
        f: The file.
        text_field: The field (column) holding the text.
        id_field: The field holding document ids, if any.
        on_error: ``"raise"`` or ``"skip"`` (skipped rows are appended to ``rejected``).
        rejected: Where skipped rows go.
        for_output: Keep what a writer needs to copy the rows out (every Parquet column).
        max_bytes: The maximum document size.
        part: Read only this part of the file (from :func:`split_file`).
        counts: JSONL: filled in with the newlines and rows read, once the file (or part) has been read.
    """
    if f.format == "parquet":
        return read_parquet(f.path, text_field, id_field, on_error, rejected, all_columns=for_output,
                            max_bytes=max_bytes, row_groups=part.row_groups if part is not None else None)
    if part is not None:
        return read_jsonl(f.path, text_field, id_field, on_error, rejected, max_bytes, part.byte_range, part.fields,
                          counts)
    return read_jsonl(f.path, text_field, id_field, on_error, rejected, max_bytes, counts=counts)
