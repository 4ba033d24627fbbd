"""Corpus input and output: JSONL, JSONL.gz, Parquet files and folders, read in Arrow batches.

Reading is fast and strict at once: each block of a JSONL file is parsed by pyarrow's JSON reader (only the
text field is materialized); if anything about the block is off (a malformed line, a missing or non-string
field, invalid UTF-8, two objects on one line) the block is re-read line by line with :mod:`json`, which either
raises an :class:`~decontam.errors.InputError` naming the file, line and field, or (``on_error="skip"``)
skips the row and records it in :class:`Rejected`.

Writing keeps every surviving row byte for byte (JSONL lines are copied, not re-serialized; Parquet batches are
filtered, schema kept) and in order, to a temporary file that is renamed into place only when complete.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.json as pa_json

from .atomic import default_mode
from .errors import ConfigError, InputError

__all__ = [
    "Batch",
    "CorpusFile",
    "FileWriter",
    "Rejected",
    "OutputSet",
    "expand_corpus",
    "read_file",
]

_FORMATS = {".jsonl": "jsonl", ".jsonl.gz": "jsonl.gz", ".parquet": "parquet"}
_BLOCK = 16 << 20  # bytes of JSONL parsed at a time: bounded memory, whatever the file size


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


def expand_corpus(paths: Sequence[str | os.PathLike[str]]) -> list[CorpusFile]:
    """Expand corpus arguments (files and folders) into files, in a stable order.

    Folders are searched recursively for ``.jsonl``, ``.jsonl.gz`` and ``.parquet`` files, sorted by
    relative path. Names starting with ``.`` are ignored.

    Raises:
        InputError: A path does not exist, a file has an unsupported suffix, or a folder holds no corpus file.
        ConfigError: Two inputs would write the same output name.
    """
    files: list[CorpusFile] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError("no such file or folder; check the corpus path", path=str(p))
        if p.is_dir():
            found = sorted(
                (f for f in p.rglob("*") if f.is_file() and file_format(f)
                 and not any(part.startswith(".") for part in f.relative_to(p).parts)),
                key=lambda f: f.relative_to(p).as_posix(),
            )
            if not found:
                raise InputError(
                    "folder holds no .jsonl, .jsonl.gz or .parquet file", path=str(p)
                )
            files += [CorpusFile(f, f.relative_to(p).as_posix(), str(file_format(f))) for f in found]
        else:
            fmt = file_format(p)
            if fmt is None:
                raise InputError(
                    "unsupported corpus format: use .jsonl, .jsonl.gz or .parquet (or a folder of them)",
                    path=str(p),
                )
            files.append(CorpusFile(p, p.name, fmt))
    seen: dict[str, Path] = {}
    for f in files:
        if f.relative in seen:
            raise ConfigError(
                f"two corpus inputs would write the same output name {f.relative!r}: {seen[f.relative]} and "
                f"{f.path}; pass their common folder instead"
            )
        seen[f.relative] = f.path
    return files


@dataclass(frozen=True)
class Rejected:
    """A skipped input row (``on_error="skip"``)."""

    source: str
    line: int
    field: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class Batch:
    """A batch of corpus rows.

    Attributes:
        texts: The text field, a non-null Arrow string array.
        source: Where the rows come from (file path, or a label such as ``<dataset>``).
        lines: 1-based line (JSONL) or row (Parquet, in-memory) number of each row within ``source``.
        rows: 0-based row number of each row within ``source``, counting rejected rows (not blank lines).
        ids: Document ids where the id field is present (``None`` entries elsewhere), or None to compute them
            lazily with :meth:`doc_id`.
        raw: What a writer needs to copy the rows out: JSONL ``(block, starts, ends)``, or a Parquet
            ``pa.RecordBatch``.
    """

    texts: pa.Array
    source: str
    lines: np.ndarray
    rows: np.ndarray
    id_field: str | None = None
    ids: list[Any] | None = None
    raw: Any = None
    id_column: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def doc_id(self, i: int) -> Any:
        """The id field of row ``i`` (str, int, float, bool; other types as ``str``), or None if absent."""
        value: Any = None
        if self.ids is not None:
            value = self.ids[i]
        elif self.id_column is not None:
            value = self.id_column[i].as_py()
        elif self.id_field is not None and isinstance(self.raw, tuple):
            block, starts, ends = self.raw
            try:
                obj = json.loads(bytes(block[int(starts[i]) : int(ends[i])]))
                value = obj.get(self.id_field) if isinstance(obj, dict) else None
            except ValueError:
                value = None
        return _plain_id(value)

    def doc_ids(self, rows: Sequence[int]) -> list[Any]:
        """:meth:`doc_id` of several rows; JSONL lines are parsed together by pyarrow when their ids are all
        strings or all integers (a removed row's line is read again only for its id)."""
        if self.ids is None and self.id_column is not None:
            values = self.id_column.to_pylist()  # (take() converts its indices with pandas: 0.4 s to import)
            return [_plain_id(values[i]) for i in rows]
        if self.ids is None and self.id_column is None and self.id_field and isinstance(self.raw, tuple) \
                and len(rows) > 1:
            block, starts, ends = self.raw
            lines = b"\n".join(block[int(starts[i]) : int(ends[i])] for i in rows)
            for typ in (pa.string(), pa.int64()):
                try:
                    col = pa_json.read_json(
                        io.BytesIO(lines),
                        read_options=pa_json.ReadOptions(use_threads=False, block_size=len(lines) + 1),
                        parse_options=pa_json.ParseOptions(explicit_schema=pa.schema([(self.id_field, typ)]),
                                                           unexpected_field_behavior="ignore"),
                    ).column(self.id_field)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    continue
                if len(col) == len(rows):
                    return col.to_pylist()
        return [self.doc_id(i) for i in rows]


def _parquet() -> Any:
    """``pyarrow.parquet``, imported on first use (20 ms at start-up otherwise, for JSONL-only runs)."""
    import pyarrow.parquet as pq

    return pq


def arrow_mask(keep: np.ndarray) -> pa.Array:
    """A numpy bool mask as an Arrow boolean array, without ``pa.array`` (which imports pandas: 0.4 s)."""
    bits = np.packbits(np.asarray(keep, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(keep), [None, pa.py_buffer(bits.tobytes())])


def _plain_id(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def text_buffers(arr: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The UTF-8 data buffer and ``n + 1`` int64 offsets (relative to that buffer) of a string array."""
    if pa.types.is_string(arr.type):
        off_type: Any = np.int32
    elif pa.types.is_large_string(arr.type):
        off_type = np.int64
    else:
        raise TypeError(f"expected a string array, got {arr.type}")
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_type)[arr.offset : arr.offset + len(arr) + 1]
    offsets = offsets.astype(np.int64)
    data = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
    return data, offsets


def _as_string_array(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


# ---------------------------------------------------------------------------------------------- JSONL


def _open_binary(path: Path) -> BinaryIO:
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _unviewed(buf: bytearray) -> bool:
    """True when no view of ``buf`` is alive (no memoryview, no pyarrow buffer): Python refuses to resize a
    bytearray while any buffer export of it exists, so a one-byte resize tells."""
    try:
        buf.append(0)
    except BufferError:
        return False
    del buf[-1]
    return True


def _block_buffer(pool: list[bytearray], size: int) -> bytearray:
    """A buffer of at least ``size`` bytes that nothing views any more, from ``pool`` or new (then pooled).

    Reusing the buffers of blocks already processed saves the kernel's zero-filled pages of a fresh 16 MB
    buffer per block: 33,000 page faults and 0.1 s of system time on the 150 MB benchmark corpus (glibc does
    not keep the freed blocks for reuse on its own).
    """
    for buf in pool:
        if len(buf) >= size and _unviewed(buf):
            return buf
    buf = bytearray(size + (size >> 3))  # headroom: the carried-over partial line differs from block to block
    if len(pool) < 3:  # the block being read, the one being scanned, one spare
        pool.append(buf)
    return buf


def _iter_blocks(path: Path) -> Iterator[memoryview]:
    """Blocks of whole lines (the last one may lack its newline), each a view of its own buffer: the file is
    read into it once and never copied again (pyarrow, the writer and the scan all take views). A buffer is
    read into again only once no view of its earlier block is left (see :func:`_block_buffer`)."""
    tail = b""
    pool: list[bytearray] = []
    with _open_binary(path) as fh:
        while True:
            buf = _block_buffer(pool, len(tail) + _BLOCK)
            buf[: len(tail)] = tail
            try:
                got = fh.readinto(memoryview(buf)[len(tail) :])
            except (OSError, EOFError) as exc:
                raise InputError(f"cannot read file ({exc}); is it a complete, valid file?", path=str(path)) from exc
            if not got:
                break
            end = len(tail) + got
            cut = buf.rfind(b"\n", 0, end)
            if cut < 0:
                tail = bytes(buf[:end])
                continue
            tail = bytes(buf[cut + 1 : end])
            yield memoryview(buf)[: cut + 1]
    if tail:
        yield memoryview(tail)


def _line_bounds(block: bytes | memoryview) -> tuple[np.ndarray, np.ndarray, int]:
    """Start and end (newline excluded) of each line of a block, and the block's number of newlines."""
    arr = np.frombuffer(block, dtype=np.uint8)
    # In 1 MB slices: a 16 MB temporary mask would be a fresh mapping the kernel zeroes for every block.
    step = 1 << 20
    nl = np.concatenate([np.flatnonzero(arr[i : i + step] == 10) + i for i in range(0, len(arr), step)] or
                        [np.zeros(0, dtype=np.int64)])
    ends = nl if (len(block) and block[-1] == 10) else np.append(nl, len(block))
    starts = np.concatenate(([0], nl + 1))[: len(ends)]
    return starts.astype(np.int64), ends.astype(np.int64), len(nl)


def _fast_jsonl_block(
    block: bytes | memoryview, text_field: str, starts: np.ndarray, ends: np.ndarray, id_field: str | None = None,
    id_types: list[pa.DataType] | None = None,
) -> tuple[pa.Array, pa.Array | None] | None:
    """Parse a block with pyarrow: the text column and, when it is all strings or all integers, the id column.

    Args:
        id_types: Types to try for the id column, first to last; a type that fails is removed, so that the
            later blocks of a file do not try it again (the ids are then read per row, only for removed rows).

    Returns:
        ``(texts, ids or None)``, or None if the block needs the line-by-line path.
    """
    lengths = ends - starts
    if (lengths == 0).any() or not text_field or "." in text_field:
        return None  # blank lines or odd field names: let the careful path count them
    # pyarrow reads the block as one stream of objects, so "as many rows as lines" alone does not mean one
    # object per line: a line with two objects can pair up with a whitespace-only line ("\r" in CRLF files) or
    # with an object split over two lines. Require every line to start with "{" and end with "}" (before an
    # optional "\r"): then no line is blank, and no object spans a newline ("}" then "{" never occurs inside a
    # valid JSON value, and strings cannot hold a raw newline), so equal counts mean one object per line.
    arr = np.frombuffer(block, dtype=np.uint8)
    last = ends - 1
    last = np.where((arr[last] == 0x0D) & (lengths >= 2), last - 1, last)
    if not ((arr[starts] == 0x7B) & (arr[last] == 0x7D)).all():
        return None
    with_id = id_field and id_field != text_field and "." not in id_field and id_types is not None
    for id_type in [*(id_types if with_id and id_types else []), None]:
        fields = [(text_field, pa.string())] + ([(id_field, id_type)] if id_type is not None else [])
        try:
            table = pa_json.read_json(
                pa.BufferReader(pa.py_buffer(block)),  # zero-copy (io.BytesIO copies)
                read_options=pa_json.ReadOptions(use_threads=False, block_size=len(block) + 1),
                parse_options=pa_json.ParseOptions(explicit_schema=pa.schema(fields),
                                                   unexpected_field_behavior="ignore"),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError, pa.ArrowNotImplementedError):
            if id_type is None:
                return None
            id_types.remove(id_type)  # type: ignore[union-attr]
            continue
        break
    if table.num_rows != len(starts):
        return None
    col = _as_string_array(table.column(text_field))
    if col.null_count:
        return None
    ids = _as_string_array(table.column(id_field)) if id_type is not None else None
    try:
        col.validate(full=True)  # pyarrow's JSON reader passes invalid UTF-8 through: let the careful path name it
        if ids is not None:
            ids.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return col, ids


def _slow_jsonl_block(
    block: bytes,
    first_line: int,
    path: Path,
    text_field: str,
    id_field: str | None,
    on_error: str,
    rejected: list[Rejected],
    starts: np.ndarray,
    ends: np.ndarray,
) -> tuple[list[str], list[Any], list[int], list[int], list[int]]:
    texts: list[str] = []
    ids: list[Any] = []
    lines: list[int] = []
    kept_starts: list[int] = []
    kept_ends: list[int] = []
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
        lineno = first_line + k
        raw = block[s:e]
        if not raw.strip():
            continue  # a blank line is no row
        problem: tuple[str | None, str] | None = None
        obj: Any = None
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problem = (None, f"invalid UTF-8 ({exc.reason} at byte {exc.start}); re-encode the file as UTF-8")
        except ValueError as exc:
            problem = (None, f"malformed JSON ({exc}); each line must be one JSON object")
        if problem is None:
            if not isinstance(obj, dict):
                problem = (None, f"expected a JSON object, got {type(obj).__name__}")
            elif text_field not in obj:
                problem = (text_field, f"missing text field; use --text-field to name the field holding "
                                       f"the text (fields here: {', '.join(sorted(map(str, obj))[:10])})")
            elif not isinstance(obj[text_field], str):
                problem = (text_field, f"text field must be a string, got {type(obj[text_field]).__name__}")
        if problem is not None:
            if on_error == "skip":
                rejected.append(Rejected(str(path), lineno, problem[0], problem[1]))
                continue
            raise InputError(problem[1] + "; or pass --on-error skip to skip and count such rows",
                             path=str(path), line=lineno, field=problem[0])
        texts.append(obj[text_field])
        ids.append(obj.get(id_field) if id_field else None)
        lines.append(lineno)
        kept_starts.append(s)
        kept_ends.append(e)
    return texts, ids, lines, kept_starts, kept_ends


def _read_jsonl(
    path: Path, text_field: str, id_field: str | None, on_error: str, rejected: list[Rejected]
) -> Iterator[Batch]:
    row = 0
    next_line = 1
    id_types = [pa.string(), pa.int64()]
    for block in _iter_blocks(path):
        starts, ends, n_newlines = _line_bounds(block)
        first_line, next_line = next_line, next_line + n_newlines
        fast = _fast_jsonl_block(block, text_field, starts, ends, id_field, id_types)
        if fast is not None:
            lines = first_line + np.arange(len(starts), dtype=np.int64)
            rows = row + np.arange(len(starts), dtype=np.int64)
            row += len(starts)
            yield Batch(fast[0], str(path), lines, rows, id_field=id_field, raw=(block, starts, ends),
                        id_column=fast[1])
            continue
        block = bytes(block)  # the careful path slices and strips lines as bytes
        texts, ids, lines_l, ks, ke = _slow_jsonl_block(
            block, first_line, path, text_field, id_field, on_error, rejected, starts, ends
        )
        # Row numbers count every non-blank line, rejected ones included.
        nonblank = [first_line + k for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist()))
                    if block[s:e].strip()]
        row_of_line = {ln: row + j for j, ln in enumerate(nonblank)}
        row += len(nonblank)
        if not texts:
            continue
        try:
            arr = pa.array(texts, type=pa.large_string())
        except (pa.ArrowInvalid, UnicodeEncodeError):
            # Lone surrogates (from "\ud800" escapes) cannot be UTF-8 encoded by Arrow: drop them, as the
            # normalizer would.
            arr = pa.array([t.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if not t.isascii()
                            else t for t in texts], type=pa.large_string())
        yield Batch(arr, str(path), np.asarray(lines_l, dtype=np.int64),
                    np.asarray([row_of_line[ln] for ln in lines_l], dtype=np.int64), id_field=id_field, ids=ids,
                    raw=(block, np.asarray(ks, dtype=np.int64), np.asarray(ke, dtype=np.int64)))


# -------------------------------------------------------------------------------------------- Parquet


def _read_parquet(
    path: Path, text_field: str, id_field: str | None, on_error: str, rejected: list[Rejected],
    all_columns: bool,
) -> Iterator[Batch]:
    try:
        pf = _parquet().ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({exc})", path=str(path)) from exc
    names = pf.schema_arrow.names
    if text_field not in names:
        raise InputError(
            f"no such column; use --text-field to name the text column (columns: {', '.join(names)})",
            path=str(path), field=text_field,
        )
    ftype = pf.schema_arrow.field(text_field).type
    if not (pa.types.is_string(ftype) or pa.types.is_large_string(ftype)):
        raise InputError(f"text column must hold strings, it holds {ftype}", path=str(path), field=text_field)
    has_id = bool(id_field) and id_field in names
    columns = None if all_columns else [text_field] + ([id_field] if has_id else [])
    row = 0
    for rb in pf.iter_batches(batch_size=8192, columns=columns):
        n_rows = rb.num_rows
        texts = _as_string_array(rb.column(rb.schema.get_field_index(text_field)))
        lines = row + 1 + np.arange(rb.num_rows, dtype=np.int64)
        if texts.null_count:
            valid = np.asarray(texts.is_valid().to_numpy(zero_copy_only=False))
            first_bad = int(np.flatnonzero(~valid)[0])
            if on_error != "skip":
                raise InputError("text is null; or pass --on-error skip to skip and count such rows",
                                 path=str(path), line=int(lines[first_bad]), field=text_field)
            for i in np.flatnonzero(~valid).tolist():
                rejected.append(Rejected(str(path), int(lines[i]), text_field, "text is null"))
            rb = rb.filter(arrow_mask(valid))
            texts = _as_string_array(rb.column(rb.schema.get_field_index(text_field)))
            lines = lines[valid]
        id_col = rb.column(rb.schema.get_field_index(id_field)) if has_id else None
        yield Batch(texts, str(path), lines, lines - 1, id_field=id_field, raw=rb, id_column=id_col)
        row += n_rows


def read_file(
    f: CorpusFile,
    text_field: str,
    id_field: str | None,
    on_error: str,
    rejected: list[Rejected],
    for_output: bool = False,
) -> Iterator[Batch]:
    """Read one corpus file as batches (see the module docstring for the error policy)."""
    if f.format == "parquet":
        return _read_parquet(f.path, text_field, id_field, on_error, rejected, all_columns=for_output)
    return _read_jsonl(f.path, text_field, id_field, on_error, rejected)


# --------------------------------------------------------------------------------------------- Output


class FileWriter:
    """Writes the surviving rows of one input file to a temporary file beside its destination."""

    def __init__(self, dest: Path, fmt: str, source: Path) -> None:
        self.dest = dest
        self.source = source
        self.format = fmt
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
        os.fchmod(fd, default_mode())
        os.close(fd)
        self.tmp = Path(tmp)
        self._pq: Any = None
        self._fh: BinaryIO | None = None
        if fmt == "jsonl.gz":
            self._fh = gzip.open(self.tmp, "wb", compresslevel=1)  # type: ignore[assignment]
        elif fmt == "jsonl":
            self._fh = open(self.tmp, "wb")
        self.rows = 0

    def write(self, batch: Batch, keep: np.ndarray) -> None:
        if self.format == "parquet":
            rb: pa.RecordBatch = batch.raw
            if self._pq is None:
                self._pq = _parquet().ParquetWriter(self.tmp, rb.schema)
            self._pq.write_batch(rb.filter(arrow_mask(keep)) if not keep.all() else rb)
        else:
            assert self._fh is not None
            block, starts, ends = batch.raw
            kept = np.flatnonzero(keep)
            if len(kept) == 0:
                return
            # Copy maximal runs of kept rows that are adjacent lines in the block as one slice each (rows
            # of a batch need not be adjacent: rejected rows and blank lines between them are not copied).
            s, e = starts[kept], ends[kept]
            breaks = np.flatnonzero(s[1:] != e[:-1] + 1)
            run_first = np.concatenate(([0], breaks + 1))
            run_last = np.concatenate((breaks, [len(kept) - 1]))
            for a, b in zip(run_first.tolist(), run_last.tolist()):
                self._fh.write(block[int(s[a]) : int(e[b])])
                self._fh.write(b"\n")
        self.rows += int(keep.sum())

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def finish(self) -> Path:
        """Close the temporary file and return its path (renamed into place by :meth:`OutputSet.commit`)."""
        self.close()
        if self.format == "parquet" and self.tmp.stat().st_size == 0:
            # No batch was written (an input without rows): an empty file with the input's schema.
            _parquet().write_table(_parquet().read_schema(self.source).empty_table(), self.tmp)
        return self.tmp

    def abort(self) -> None:
        self.close()
        self.tmp.unlink(missing_ok=True)


@dataclass
class OutputSet:
    """Outputs of a filter run: one file, or a folder mirroring the inputs; all-or-nothing.

    Each input's rows are written to a temporary file beside :meth:`destination` (by :class:`FileWriter`,
    possibly in a worker process); :meth:`commit` renames them into place once every input succeeded, and a
    folder output is staged in a temporary folder renamed as a whole.

    Args:
        output: The ``-o`` path.
        files: The expanded inputs.
    """

    output: Path
    files: list[CorpusFile]
    _stage: Path | None = None

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        self.single = len(self.files) == 1 and file_format(self.output) is not None
        if self.single:
            if file_format(self.output) != self.files[0].format:
                raise ConfigError(
                    f"output {self.output} must be in the input's format ({self.files[0].format}): "
                    f"name it with the suffix .{self.files[0].format}"
                )
            self.output.parent.mkdir(parents=True, exist_ok=True)
        else:
            if self.output.exists() and (not self.output.is_dir() or any(self.output.iterdir())):
                raise ConfigError(
                    f"output folder {self.output} already exists and is not empty; remove it or choose another -o"
                )
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self._stage = Path(tempfile.mkdtemp(prefix=f".{self.output.name}.", suffix=".partial",
                                                dir=self.output.parent))
            self._stage.chmod(default_mode(directory=True))

    def destination(self, f: CorpusFile) -> Path:
        """Where the output of input ``f`` goes (inside the staging folder for a folder output)."""
        if self._stage is None:
            return self.output
        return self._stage / f.relative

    def commit(self, written: Sequence[Path]) -> None:
        """Rename every temporary output into place (``written`` in the order of :attr:`files`)."""
        for f, tmp in zip(self.files, written):
            os.replace(tmp, self.destination(f))
        if self._stage is not None:
            if self.output.exists():
                self.output.rmdir()
            os.replace(self._stage, self.output)
            self._stage = None

    def abort(self) -> None:
        """Remove the staging folder (temporary files beside a single output are removed by their writer)."""
        if self._stage is not None:
            import shutil

            shutil.rmtree(self._stage, ignore_errors=True)
            self._stage = None
