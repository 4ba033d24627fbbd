"""JSONL (and gzipped JSONL) corpus files, read in blocks of whole lines with memory bounded by the block.

Reading is fast and strict at once: each block is parsed by pyarrow's JSON reader (only the text and id fields
are materialized); if anything about the block is off (a malformed line, a missing or non-string field, invalid
UTF-8, two objects on one line) the block is re-read line by line with :mod:`json`, which either raises an
:class:`~decontam.errors.InputError` naming the file, line and field, or (``on_error="skip"``) skips the row and
records it as :class:`~decontam.inputs.batch.Rejected`.

The file is read into a few reused buffers and never copied again: pyarrow, the writer and the scan take views.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.json as pa_json

from ..config import MAX_DOC_BYTES
from ..errors import InputError
from .batch import Batch, ReadCounts, Rejected, arrow_strings, single_chunk
from .fields import DEFAULT_FIELDS, FieldProblem, chosen_fields, flatten_segments, row_segments

__all__ = ["BLOCK_BYTES", "RANGE_MIN_BYTES", "LineProblem", "jsonl_fields", "jsonl_ranges", "parse_line",
           "read_jsonl"]

BLOCK_BYTES = 16 << 20  # bytes of JSONL parsed at a time: bounded memory, whatever the file size
RANGE_MIN_BYTES = 8 << 20  # the smallest byte range a file is split into for several processes


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

    Reusing the buffers of blocks already processed spares the kernel zero-filling a fresh 16 MB buffer per
    block (glibc does not keep freed blocks that large for reuse); ``docs/performance.md`` has the figures.
    Buffers grown for a long line are not kept: memory goes back to the size of a few blocks after it.
    """
    for buf in pool:
        if len(buf) >= size and _unviewed(buf):
            return buf
    buf = bytearray(size + (size >> 3))  # headroom: the carried-over partial line differs from block to block
    if len(pool) < 3:  # the block being read, the one being scanned, one spare
        pool.append(buf)
    return buf


# The buffers of byte ranges read in this process: a worker reads part after part, and reusing one part's
# buffers for the next spares the kernel faulting in and zero-filling fresh ones (about a third of a worker's
# system time; see docs/performance.md). Only ranges use it, so a one-process run keeps nothing after it ends.
# One pool per thread: a buffer is checked and then filled, which two threads must not do at once.
_RANGE_POOLS = threading.local()


def _range_pool() -> list[bytearray]:
    pool: list[bytearray] | None = getattr(_RANGE_POOLS, "pool", None)
    if pool is None:
        pool = _RANGE_POOLS.pool = []
    return pool


class _LineTooLong(Exception):
    """A line longer than the maximum document size: reading it whole would take unbounded memory."""


class _LongLine(NamedTuple):
    """A line longer than the maximum document size, read past (never held whole) in place of a block."""

    length: int  # its bytes, the newline excluded (a "\r" before it included), as a block's lines are measured
    blank: bool  # only whitespace: no row, as a blank line inside a block is none


_NONBLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # what ``bytes.strip()`` keeps: a line with one is not blank


def too_long_reason(length: int, max_bytes: int) -> str:
    """Why a line over the maximum document size is skipped (the rejection's reason, wherever the line sits)."""
    return (f"line is {length} bytes, longer than the maximum document size ({max_bytes} bytes); raise it with "
            "--max-doc-bytes")


def _too_long_error(path: Path, line: int | None, max_bytes: int) -> InputError:
    """The error for a line over the maximum document size with ``on_error="raise"`` (wherever it sits: the
    reader stops as soon as it knows, before reading the line to its end)."""
    return InputError(f"a line longer than the maximum document size ({max_bytes} bytes): raise it with "
                      "--max-doc-bytes, split or remove the line, or pass --on-error skip to skip and count such rows",
                      path=str(path), line=line)


class _Window:
    """The bytes ``[start, end)`` of a file, read as a file (a byte range of a JSONL file)."""

    def __init__(self, fh: BinaryIO, start: int, end: int) -> None:
        fh.seek(start)
        self.fh, self.left = fh, end - start

    def readinto(self, view: memoryview) -> int:
        if self.left <= 0:
            return 0
        with view[: min(len(view), self.left)] as part:
            got = self.fh.readinto(part) or 0
        self.left -= got
        return got


def _raw_position(fh: Any) -> int:
    """How far into the file on disk reading is (for gzip, into the compressed bytes): for progress."""
    inner = getattr(fh, "fileobj", None) or getattr(getattr(fh, "fh", None), "fileobj", None)
    if inner is not None:
        return int(inner.tell())
    return int((fh.fh if isinstance(fh, _Window) else fh).tell())


def _iter_blocks(path: Path, max_bytes: int, byte_range: tuple[int, int] | None = None,
                 on_error: str = "raise") -> Iterator[tuple[memoryview | _LongLine, int]]:
    """Blocks of whole lines (the last one may lack its newline), each a view of its own buffer, with how far
    into the file reading is. The file is read into a buffer once and never copied again (pyarrow, the writer
    and the scan all take views). A buffer is read into again only once no view of its earlier block is left
    (see :func:`_block_buffer`). A line longer than a block grows its buffer in place (a resize the kernel does
    without copying). With ``byte_range``, only those bytes of the file are read (a range of whole lines).

    A line that grows past ``max_bytes`` before its newline comes is read past in chunks (never held whole) and
    given as a :class:`_LongLine` in place of a block; a longer line inside a block is the block's to reject.

    Raises:
        _LineTooLong: With ``on_error`` other than ``"skip"``, such a line (once it is known not to be blank).
    """
    tail = b""
    pool: list[bytearray] = _range_pool() if byte_range is not None else []
    with _open_binary(path) as whole:
        fh: Any = _Window(whole, *byte_range) if byte_range is not None else whole
        compressed = isinstance(whole, gzip.GzipFile)  # (progress then counts compressed bytes, read ahead)
        while True:
            buf = _block_buffer(pool, len(tail) + BLOCK_BYTES)
            buf[: len(tail)] = tail
            try:
                if len(tail) > max_bytes:
                    raise _LineTooLong(len(tail))
                end, cut = _fill(fh, buf, len(tail), max_bytes, path)
                skipped = None
            except _LineTooLong as exc:  # read past the line: what follows its newline is moved to buf's start
                skipped, end = _skip_line(fh, buf, exc.args[0], path, stop_at_text=on_error != "skip")
                cut = buf.rfind(b"\n", 0, end) if end > 0 else -1
            if len(buf) > 2 * (BLOCK_BYTES + (BLOCK_BYTES >> 3)) and any(b is buf for b in pool):
                pool[:] = [b for b in pool if b is not buf]  # grown for a long line: not kept for reuse
            if skipped is not None:
                yield skipped, _raw_position(fh) - (0 if compressed else max(end, 0))
                if end < 0:
                    return
                if cut < 0:  # no whole line after it in what was read
                    tail = bytes(buf[:end])
                    continue
            if cut < 0:  # the end of the file: what is left is a last line without its newline
                if end:
                    yield memoryview(buf)[:end], _raw_position(fh)
                return
            tail = bytes(buf[cut + 1 : end])
            yield memoryview(buf)[: cut + 1], _raw_position(fh) - (0 if compressed else len(tail))


def _read_into(fh: Any, view: memoryview, path: Path) -> int:
    """``fh.readinto(view)``, a file that cannot be read (truncated, damaged gzip data) an error naming it."""
    try:
        return int(fh.readinto(view) or 0)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read file ({exc}); is it a complete, valid file?", path=str(path)) from exc
    finally:
        view.release()


def _fill(fh: Any, buf: bytearray, end: int, max_bytes: int, path: Path) -> tuple[int, int]:
    """Read into ``buf`` from ``end`` until some data holds a newline (or the file ends), growing ``buf`` while
    a line goes on past its size; returns the data's end and the last newline's position (-1: end of file)."""
    while True:
        if end > max_bytes:
            raise _LineTooLong(end)
        if end == len(buf):
            buf.extend(bytes(BLOCK_BYTES))
        got = _read_into(fh, memoryview(buf)[end:], path)
        if not got:
            return end, -1
        cut = buf.rfind(b"\n", end, end + got)
        end += got
        if cut >= 0:
            return end, cut


def _skip_line(fh: Any, buf: bytearray, end: int, path: Path, stop_at_text: bool) -> tuple[_LongLine, int]:
    """Read past the line whose first ``end`` bytes are ``buf[:end]`` (no newline among them), reading into
    ``buf`` again and again, so that memory stays that of a block whatever the line's length.

    Returns:
        The line, and how many bytes after its newline were read, now at the start of ``buf`` (-1: the file
        ended first).

    Raises:
        _LineTooLong: With ``stop_at_text``, as soon as the line is known not to be blank.
    """
    length, blank, got = 0, True, end
    while True:
        nl = buf.find(b"\n", 0, got)
        stop = nl if nl >= 0 else got
        if blank and _NONBLANK.search(buf, 0, stop) is not None:
            blank = False
            if stop_at_text:
                raise _LineTooLong(length + stop)
        length += stop
        if nl >= 0:
            buf[: got - nl - 1] = buf[nl + 1 : got]
            return _LongLine(length, blank), got - nl - 1
        got = _read_into(fh, memoryview(buf), path)
        if not got:
            return _LongLine(length, blank), -1


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
    col = single_chunk(table.column(text_field))
    if col.null_count or not _valid_utf8(block, arr):
        return None  # pyarrow passes invalid UTF-8 through, in any field: the careful path rejects such lines
    ids = single_chunk(table.column(id_field)) if id_type is not None else None
    return col, ids


def _valid_utf8(block: bytes | memoryview, arr: np.ndarray) -> bool:
    """Whether the whole block is valid UTF-8 (ASCII blocks are, at the cost of one pass over their bytes)."""
    if len(arr) == 0 or arr.max() < 0x80:
        return True
    offsets = pa.py_buffer(np.array([0, len(arr)], dtype=np.int64).tobytes())
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(block)])
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _slow_jsonl_block(
    block: bytes,
    first_line: int,
    path: Path,
    fields: Sequence[str],
    id_field: str | None,
    on_error: str,
    rejected: list[Rejected],
    starts: np.ndarray,
    ends: np.ndarray,
    max_bytes: int = MAX_DOC_BYTES,
) -> tuple[list[list[tuple[str, str]]], list[Any], list[int], list[int], list[int]]:
    """The rows of a block, line by line: each line a row (its labelled text segments), a rejected row
    (``on_error="skip"``) or an :class:`~decontam.errors.InputError` naming its line and field."""
    texts: list[list[tuple[str, str]]] = []
    ids: list[Any] = []
    lines: list[int] = []
    kept_starts: list[int] = []
    kept_ends: list[int] = []
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
        lineno = first_line + k
        raw = block[s:e]
        if not raw.strip():
            continue  # a blank line is no row
        if len(raw) > max_bytes:  # (as when the line crosses a block's end: see _iter_blocks)
            if on_error != "skip":
                raise _too_long_error(path, lineno, max_bytes)
            rejected.append(Rejected(str(path), lineno, None, too_long_reason(len(raw), max_bytes)))
            continue
        try:
            text, doc_id = parse_line(raw, fields, id_field)
        except LineProblem as problem:
            if on_error == "skip":
                rejected.append(Rejected(str(path), lineno, problem.field, problem.reason))
                continue
            raise InputError(problem.reason + "; or pass --on-error skip to skip and count such rows",
                             path=str(path), line=lineno, field=problem.field) from None
        texts.append(text)
        ids.append(doc_id)
        lines.append(lineno)
        kept_starts.append(s)
        kept_ends.append(e)
    return texts, ids, lines, kept_starts, kept_ends


class _LineIds:
    """Reads the ids of some lines of a block on demand (the fast path parses ids with the text only when they
    are all strings or all integers): pyarrow parses the lines together when their ids allow, else each line
    is read as the careful path reads it."""

    def __init__(self, block: bytes | memoryview, starts: np.ndarray, ends: np.ndarray, id_field: str | None) -> None:
        self.block, self.starts, self.ends, self.id_field = block, starts, ends, id_field

    def __call__(self, rows: Sequence[int]) -> list[Any]:
        lines = [bytes(self.block[int(self.starts[i]) : int(self.ends[i])]) for i in rows]
        if self.id_field and len(rows) > 1:
            joined = b"\n".join(lines)
            for typ in (pa.string(), pa.int64()):
                try:
                    col = pa_json.read_json(
                        pa.BufferReader(pa.py_buffer(joined)),
                        read_options=pa_json.ReadOptions(use_threads=False, block_size=len(joined) + 1),
                        parse_options=pa_json.ParseOptions(explicit_schema=pa.schema([(self.id_field, typ)]),
                                                           unexpected_field_behavior="ignore"),
                    ).column(self.id_field)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    continue
                if len(col) == len(rows):
                    return col.to_pylist()
        return [_line_id(line, self.id_field) for line in lines]


def _line_id(raw: bytes, id_field: str | None) -> Any:
    """The id field of one line (None where absent or unreadable), read as :func:`parse_line` reads it."""
    if not id_field:
        return None
    try:
        obj = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    except RecursionError:
        return _deep_field(raw, id_field, (pa.string(), pa.int64()))
    return obj.get(id_field) if isinstance(obj, dict) else None


class LineProblem(Exception):
    """Why a JSONL line is not a row: the field concerned (or None) and the reason."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def parse_line(raw: bytes, fields: Sequence[str], id_field: str | None) -> tuple[list[tuple[str, str]], Any]:
    """The labelled text segments (see :mod:`decontam.inputs.fields`) and the id of one JSONL line, read as the
    fast path reads it.

    :mod:`json` parses the line; a line nested too deeply for it (which pyarrow's parser reads) is read by
    pyarrow, field by field, so that whether a line is a row never depends on the lines around it.

    Raises:
        LineProblem: Invalid UTF-8, malformed JSON, not an object, or a missing, null or non-string text.
    """
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise LineProblem(None, f"invalid UTF-8 ({exc.reason} at byte {exc.start}); re-encode the file as "
                                "UTF-8") from None
    except ValueError as exc:
        raise LineProblem(None, f"malformed JSON ({exc}); each line must be one JSON object") from None
    except RecursionError:
        return _parse_deep_line(raw, fields, id_field)
    if not isinstance(obj, dict):
        raise LineProblem(None, f"expected a JSON object, got {type(obj).__name__}")
    try:
        segments = row_segments(obj, fields)
    except FieldProblem as problem:
        raise LineProblem(problem.field, problem.reason) from None
    return segments, obj.get(id_field) if id_field else None


def _parse_deep_line(raw: bytes, fields: Sequence[str], id_field: str | None) -> tuple[list[tuple[str, str]], Any]:
    """A line too deeply nested for :mod:`json`: its text fields (strings) and id (a string or an integer) read
    by pyarrow."""
    segments = []
    for field in fields:
        try:
            text = _deep_field(raw, field, (pa.string(),), strict=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise LineProblem(None, "malformed JSON (nested too deeply, and its text field is not a string); "
                                    "each line must be one JSON object") from None
        if text is None:
            raise LineProblem(field, "missing text field or null text (in a line nested too deeply to list "
                                     "its fields)")
        segments.append((field, text))
    return segments, _deep_field(raw, id_field, (pa.string(), pa.int64())) if id_field else None


def _deep_field(raw: bytes, name: str, types: Sequence[pa.DataType], strict: bool = False) -> Any:
    """One field of a JSON line, parsed by pyarrow as the first of ``types`` that fits (None if none does,
    or with ``strict``, the parse error)."""
    for i, typ in enumerate(types):
        try:
            table = pa_json.read_json(
                pa.BufferReader(pa.py_buffer(raw)),
                read_options=pa_json.ReadOptions(use_threads=False, block_size=len(raw) + 1),
                parse_options=pa_json.ParseOptions(explicit_schema=pa.schema([(name, typ)]),
                                                   unexpected_field_behavior="ignore"))
            if table.num_rows != 1:
                raise pa.ArrowInvalid("not one object")
            return table.column(name)[0].as_py()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if strict and i == len(types) - 1:
                raise
    return None


def read_jsonl(
    path: Path, text_field: str | Sequence[str], id_field: str | None, on_error: str, rejected: list[Rejected],
    max_bytes: int = MAX_DOC_BYTES, byte_range: tuple[int, int] | None = None,
    fields: tuple[str, ...] | None = None, counts: ReadCounts | None = None,
) -> Iterator[Batch]:
    """The batches of a ``.jsonl`` or ``.jsonl.gz`` file, a block of lines each (see the module docstring).

    Args:
        path: The file.
        text_field: The field holding the text, or several (see :mod:`decontam.inputs.fields`).
        id_field: The field holding document ids, if any.
        on_error: ``"raise"`` (an :class:`~decontam.errors.InputError` at the first bad row) or ``"skip"``.
        rejected: Skipped rows are appended here.
        max_bytes: The maximum document size: a longer line is rejected (or with ``"raise"`` an error naming
            its line) wherever it sits; one that crosses a block's end is read past, never held whole.
        byte_range: Read only these bytes of a plain ``.jsonl`` file (a range from :func:`jsonl_ranges`); line
            and row numbers (in batches, rejected rows and errors) then count from the range's start, for the
            caller to shift.
        fields: The text fields to read, as :func:`jsonl_fields` chose them for the whole file (default: chosen
            from the first row read).
        counts: Filled in with the newlines and rows read, once the whole input has been read.
    """
    asked = (text_field,) if isinstance(text_field, str) else tuple(text_field)
    try:
        yield from _read_jsonl(path, asked, id_field, on_error, rejected, max_bytes, byte_range, fields,
                               counts if counts is not None else ReadCounts())
    except _LineTooLong as exc:
        raise _too_long_error(path, exc.args[1] if len(exc.args) > 1 else None, max_bytes) from None


def _read_jsonl(path: Path, asked: tuple[str, ...], id_field: str | None, on_error: str, rejected: list[Rejected],
                max_bytes: int, byte_range: tuple[int, int] | None,
                fields: tuple[str, ...] | None, counts: ReadCounts) -> Iterator[Batch]:
    """Why this is long: one loop reads a block, takes the fast path or the careful one, and numbers its rows;
    split up, the row and line counters would be threaded through every piece."""
    row = 0
    next_line = 1
    id_types = [pa.string(), pa.int64()]
    blocks = _iter_blocks(path, max_bytes, byte_range, on_error)
    position = byte_range[0] if byte_range is not None else 0
    plain_file = not str(path).lower().endswith(".gz")  # (then a block's end is where it ends in the file)
    while True:
        try:
            block, now = next(blocks)
        except StopIteration:
            counts.lines, counts.rows = next_line - 1, row
            return
        except _LineTooLong as exc:
            raise _LineTooLong(exc.args[0], next_line) from None
        if isinstance(block, _LongLine):  # read past (its bytes count in the next block's progress)
            next_line += 1
            if not block.blank:  # (the fields are chosen on the next row, as for such a line inside a block)
                rejected.append(Rejected(str(path), next_line - 1, None, too_long_reason(block.length, max_bytes)))
                row += 1
            continue
        read, position = now - position, now
        at = now - len(block) if plain_file else None
        starts, ends, n_newlines = _line_bounds(block)
        first_line, next_line = next_line, next_line + n_newlines
        if fields is None:
            fields = chosen_fields(asked, _first_row_names(block, starts, ends, max_bytes))
        plain = len(fields) == 1 and fields == asked
        fast = None if not plain or int((ends - starts).max(initial=0)) > max_bytes else \
            _fast_jsonl_block(block, fields[0], starts, ends, id_field, id_types)
        if fast is not None:
            lines = first_line + np.arange(len(starts), dtype=np.int64)
            rows = row + np.arange(len(starts), dtype=np.int64)
            row += len(starts)
            yield Batch(fast[0], str(path), lines, rows, id_field=id_field, raw=(block, starts, ends),
                        id_column=fast[1], id_reader=_LineIds(block, starts, ends, id_field), read_bytes=read,
                        raw_at=at)
            continue
        block = bytes(block)  # the careful path slices and strips lines as bytes
        per_row, ids, lines_l, ks, ke = _slow_jsonl_block(
            block, first_line, path, fields, id_field, on_error, rejected, starts, ends, max_bytes
        )
        # Row numbers count every non-blank line, rejected ones included.
        nonblank = [first_line + k for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist()))
                    if block[s:e].strip()]
        row_of_line = {ln: row + j for j, ln in enumerate(nonblank)}
        row += len(nonblank)
        if not per_row:
            continue
        texts, segment_row, labels = flatten_segments(per_row, fields)
        yield Batch(arrow_strings(texts), str(path), np.asarray(lines_l, dtype=np.int64),
                    np.asarray([row_of_line[ln] for ln in lines_l], dtype=np.int64), id_field=id_field, ids=ids,
                    raw=(block, np.asarray(ks, dtype=np.int64), np.asarray(ke, dtype=np.int64)),
                    segment_row=segment_row, labels=labels,
                    fields=fields if (fields != asked or segment_row is not None) else None, read_bytes=read,
                    raw_at=at)


def jsonl_fields(path: Path, text_field: str | Sequence[str], max_bytes: int = MAX_DOC_BYTES) -> tuple[str, ...]:
    """The text fields a whole-file read of ``path`` would read (a chat field in place of a missing default
    ``text`` is chosen on the first row): what the reader of each byte range must be told."""
    asked = (text_field,) if isinstance(text_field, str) else tuple(text_field)
    if asked != DEFAULT_FIELDS:
        return asked
    try:
        for block, _ in _iter_blocks(path, max_bytes, on_error="skip"):
            if isinstance(block, _LongLine):
                continue  # a first row too long to read: the next one, as the whole-file reader takes it
            starts, ends, _ = _line_bounds(block)
            return chosen_fields(asked, _first_row_names(block, starts, ends, max_bytes))
    except (_LineTooLong, InputError):
        pass  # the reader of the first range says what is wrong
    return asked


def jsonl_ranges(path: Path, n: int, min_bytes: int = RANGE_MIN_BYTES) -> list[tuple[int, int]]:
    """Split a plain ``.jsonl`` file into up to ``n`` byte ranges of whole lines, of about equal size and at
    least ``min_bytes`` each (one range for a smaller file); a range ends just after a newline, or at the end
    of the file.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.jsonl"
        >>> _ = p.write_bytes(b'{"text": "a"}\\n' * 10)
        >>> jsonl_ranges(p, 3, min_bytes=1)
        [(0, 56), (56, 98), (98, 140)]
    """
    size = path.stat().st_size
    n = max(1, min(n, size // max(1, min_bytes)))
    cuts = [0]
    with open(path, "rb") as fh:
        for k in range(1, n):
            at = max(cuts[-1], size * k // n)
            fh.seek(at)
            while True:  # the first newline from ``at`` on (a line longer than a range: the next one)
                chunk = fh.read(1 << 16)
                if not chunk:
                    at = size
                    break
                nl = chunk.find(b"\n")
                if nl >= 0:
                    at += nl + 1
                    break
                at += len(chunk)
            if cuts[-1] < at < size:
                cuts.append(at)
    cuts.append(size)
    return list(zip(cuts[:-1], cuts[1:]))


def _first_row_names(block: bytes | memoryview, starts: np.ndarray, ends: np.ndarray,
                     max_bytes: int = MAX_DOC_BYTES) -> list[str]:
    """The fields of a block's first row, if it parses as a JSON object (for choosing the text field); rows over
    ``max_bytes`` are passed over, wherever they sit (one crossing a block's end is never held whole)."""
    for s, e in zip(starts.tolist(), ends.tolist()):
        raw = bytes(block[s:e])
        if raw.strip():
            if e - s > max_bytes:
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError):
                return []
            return list(obj) if isinstance(obj, dict) else []
    return []
