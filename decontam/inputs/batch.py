"""What every corpus reader yields: batches of rows as Arrow strings, and the rows it skipped.

A :class:`Batch` is the unit the scan engine works on, whatever the corpus is (a JSONL or Parquet file, a
``datasets`` object, an Arrow table, a list in memory): the text field as a non-null Arrow string array, where
each row is in its source (line, row number), its document id, and what a writer needs to copy the rows out.
A :class:`Rejected` is a row skipped under ``on_error="skip"``, with the reason: nothing is dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

__all__ = [
    "Batch",
    "ReadCounts",
    "Rejected",
    "TextEdit",
    "arrow_mask",
    "arrow_strings",
    "bad_ids",
    "bad_rows",
    "bad_texts",
    "filter_rows",
    "is_text_type",
    "large_strings",
    "plain_id",
    "single_chunk",
    "text_buffers",
]


@dataclass(frozen=True)
class Rejected:
    """A skipped input row (``on_error="skip"``): where it is and why it was skipped."""

    source: str
    line: int
    field: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The report's entry for this row."""
        return {"source": self.source, "line": self.line, "field": self.field, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rejected:
        """Read back :meth:`to_dict`."""
        return cls(data["source"], data["line"], data["field"], data["reason"])


@dataclass
class ReadCounts:
    """What a reader counted once it has read its whole input: newlines and rows (blank lines are no rows;
    rejected rows are). Filled in by the JSONL reader of a byte range, so that the reader of the next range
    knows its line and row numbers' offsets."""

    lines: int = 0
    rows: int = 0


class TextEdit(NamedTuple):
    """A text of a row to be written redacted (``filter --action redact``).

    Attributes:
        label: The segment's label (``response``, ``messages[2]``), or None for the one plain text field.
        cuts: The ranges cut, ``[start, end)`` character offsets of the text, sorted and disjoint.
        n_characters: The length of the text the cuts are offsets of (a check on the value they are applied to).
        new_text: The text with the cuts made, when the writer has it at hand (else made from the row's value).
    """

    label: str | None
    cuts: list[tuple[int, int]]
    n_characters: int
    new_text: str | None = None


@dataclass
class Batch:
    """A batch of corpus rows.

    Attributes:
        texts: The text field, a non-null Arrow string array.
        source: Where the rows come from (file path, or a label such as ``<dataset>``).
        lines: 1-based line (JSONL) or row (Parquet, in-memory) number of each row within ``source``.
        rows: 0-based row number of each row within ``source``, counting rejected rows (not blank lines).
        id_field: The corpus field holding document ids, if any.
        ids: Document ids (``None`` entries where the field is absent), or None to read them lazily with
            :meth:`doc_id`.
        raw: What a writer needs to copy the rows out: JSONL ``(block, starts, ends)``, a Parquet
            ``pa.RecordBatch``, or the row objects of an in-memory corpus.
        id_column: The id field as an Arrow array, when the reader parsed it with the text.
        id_reader: Reads the ids of some rows on demand, when the reader did not parse them with the text.
        segment_row: When a row has several texts (several fields, a chat): each text's row in the batch (then
            :attr:`texts` holds the segments, in row order); None for one text per row.
        labels: Each segment's label (``response``, ``messages[2]``), with :attr:`segment_row`.
        fields: The text fields read, when not the one plain field asked for (several fields, or a chat field
            found in place of the default ``text``).
        read_bytes: Bytes of the source file read for this batch (for progress; 0 when not known).
        raw_at: Where the JSONL block of :attr:`raw` starts in the source file, for a plain (not compressed)
            ``.jsonl`` file: the rows' bytes are then ``raw_at + starts`` to ``raw_at + ends`` of the file.
        edits: Set by the scan step under redaction: per row (index in the batch) kept with cuts, its texts to
            write redacted; None when no row of the batch is.
    """

    texts: pa.Array
    source: str
    lines: np.ndarray
    rows: np.ndarray
    id_field: str | None = None
    ids: list[Any] | None = None
    raw: Any = None
    id_column: pa.Array | None = None
    id_reader: Callable[[Sequence[int]], list[Any]] | None = None
    segment_row: np.ndarray | None = None
    labels: list[str] | None = None
    fields: tuple[str, ...] | None = None
    read_bytes: int = 0
    raw_at: int | None = None
    edits: dict[int, list[TextEdit]] | None = None

    def __len__(self) -> int:
        """The number of rows (not of segments)."""
        return len(self.lines)

    def doc_id(self, i: int) -> Any:
        """The id field of row ``i`` (str, int, float, bool; other types as ``str``), or None if absent."""
        return self.doc_ids([i])[0]

    def doc_ids(self, rows: Sequence[int]) -> list[Any]:
        """:meth:`doc_id` of several rows: from :attr:`ids` or :attr:`id_column` if the reader gave them, else
        read now by its ``id_reader`` (JSONL: only the lines of the rows asked for, such as removed ones)."""
        if self.ids is not None:
            return [plain_id(self.ids[i]) for i in rows]
        if self.id_column is not None:
            values = self.id_column.to_pylist()  # (take() converts its indices with pandas, a slow import)
            return [plain_id(values[i]) for i in rows]
        if self.id_reader is not None and self.id_field:
            return [plain_id(v) for v in self.id_reader(rows)]
        return [None] * len(rows)


def plain_id(value: Any) -> Any:
    """A document id as the report holds it: str, int, float, bool or None kept; anything else as ``str``, and
    so is a float JSON cannot hold (NaN, infinite: Python's json reads them from a JSONL line).

    Example:
        >>> plain_id(7), plain_id(["a", 1]), plain_id(float("nan"))
        (7, "['a', 1]", 'nan')
    """
    if value is None or isinstance(value, (str, int, bool)) or isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)


def arrow_mask(keep: np.ndarray) -> pa.Array:
    """A numpy bool mask as an Arrow boolean array, without ``pa.array`` (which imports pandas).

    Example:
        >>> arrow_mask(np.array([True, False, True])).to_pylist()
        [True, False, True]
    """
    bits = np.packbits(np.asarray(keep, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(keep), [None, pa.py_buffer(bits.tobytes())])


def arrow_strings(texts: Sequence[Any]) -> pa.Array:
    """Python strings (or None) as an Arrow ``large_string`` array.

    Lone surrogates (from a JSON ``"\\ud800"`` escape) cannot be UTF-8: each becomes U+FFFD replacement
    characters, symbols the normalizer drops as it drops the surrogate itself, so matching is unchanged.

    Example:
        >>> [t.replace("\ufffd", "?") for t in arrow_strings(["a", "b" + chr(0xD800) + "c"]).to_pylist()]
        ['a', 'b???c']
    """
    try:
        return pa.array(texts, type=pa.large_string())
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return pa.array([t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                         if isinstance(t, str) and not t.isascii() else t for t in texts], type=pa.large_string())


def text_buffers(arr: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The UTF-8 data buffer and ``n + 1`` int64 offsets (relative to that buffer) of a string array.

    Example:
        >>> data, offsets = text_buffers(pa.array(["ab", "c"]))
        >>> bytes(data[offsets[0] : offsets[-1]]), offsets.tolist()
        (b'abc', [0, 2, 3])
    """
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


def bad_texts(texts: pa.Array, max_bytes: int | None = None) -> dict[int, str]:
    """The rows of a text column that cannot be checked, and why: null, invalid UTF-8 (Arrow columns from
    Parquet files or ``datasets`` are not validated when read), or longer than ``max_bytes``.

    Example:
        >>> bad_texts(pa.array(["ok", None, "x" * 10]), max_bytes=5)
        {1: 'text is null', 2: 'text is 10 bytes, longer than the maximum document size (5 bytes)'}
    """
    bad: dict[int, str] = {}
    if texts.null_count:
        valid = np.asarray(texts.is_valid().to_numpy(zero_copy_only=False))
        bad.update(dict.fromkeys(np.flatnonzero(~valid).tolist(), "text is null"))
    if len(texts) - texts.null_count == 0:
        return bad
    data, offsets = text_buffers(texts)
    if max_bytes is not None:
        lengths = np.diff(offsets)
        for i in np.flatnonzero(lengths > max_bytes).tolist():
            bad.setdefault(i, f"text is {int(lengths[i])} bytes, longer than the maximum document size "
                              f"({max_bytes} bytes)")
    try:
        texts.validate(full=True)
    except pa.ArrowInvalid:
        for i in range(len(texts)):
            try:
                bytes(data[int(offsets[i]) : int(offsets[i + 1])]).decode("utf-8")
            except UnicodeDecodeError as exc:
                bad.setdefault(i, f"invalid UTF-8 ({exc.reason} at byte {exc.start} of the text)")
    return dict(sorted(bad.items()))


def is_text_type(t: pa.DataType) -> bool:
    """Whether an Arrow column of type ``t`` holds text: strings (``string``, ``large_string``, ``string_view``),
    or strings dictionary-encoded (a pandas ``category``).

    Example:
        >>> is_text_type(pa.dictionary(pa.int32(), pa.string())), is_text_type(pa.binary())
        (True, False)
    """
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def large_strings(arr: pa.Array) -> pa.Array:
    """A text column (see :func:`is_text_type`) as plain strings, the form matching reads: a ``string`` or
    ``large_string`` array as it is, another (dictionary-encoded, ``string_view``) cast to ``large_string``.

    Example:
        >>> large_strings(pa.array(["a", "b", "a"]).dictionary_encode()).to_pylist()
        ['a', 'b', 'a']
    """
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    return arr.cast(pa.large_string())


def filter_rows(data: Any, keep: np.ndarray) -> Any:
    """The rows of a record batch or table whose ``keep`` is True, every column of its type: Arrow cannot
    filter a ``string_view`` or ``binary_view`` column (pyarrow 26), so such a column is filtered as a
    ``large_string`` (``large_binary``) one and cast back.

    Example:
        >>> rb = pa.record_batch([pa.array(["a", "b", "c"]).cast(pa.string_view())], names=["t"])
        >>> out = filter_rows(rb, np.array([True, False, True]))
        >>> out.column(0).to_pylist(), out.schema == rb.schema
        (['a', 'c'], True)
    """
    mask = arrow_mask(keep)
    views = [i for i, t in enumerate(data.schema.types) if pa.types.is_string_view(t) or pa.types.is_binary_view(t)]
    if not views:
        return data.filter(mask)
    columns = list(data.columns)
    for i in views:
        wide = pa.large_string() if pa.types.is_string_view(columns[i].type) else pa.large_binary()
        columns[i] = columns[i].cast(wide)
    narrow = type(data).from_arrays(columns, names=data.schema.names).filter(mask)
    return type(data).from_arrays([c.cast(t) if i in views else c
                                   for i, (c, t) in enumerate(zip(narrow.columns, data.schema.types))],
                                  schema=data.schema)


def single_chunk(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One Arrow array for a (possibly chunked) column."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def bad_ids(ids: pa.Array | None) -> dict[int, str]:
    """The rows whose id (a string column) is invalid UTF-8: Arrow columns read from Parquet files are not
    validated, and such an id could not be written into a report.

    Example:
        >>> bad = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(np.array([0, 1, 3], np.int32)),
        ...                                              pa.py_buffer(b"a\\xff\\xfe")])
        >>> bad_ids(bad)
        {1: 'id is invalid UTF-8 (invalid start byte at byte 0 of the id)'}
    """
    if ids is None or not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        return {}
    try:
        ids.validate(full=True)
        return {}
    except pa.ArrowInvalid:
        pass
    data, offsets = text_buffers(ids)
    valid = np.asarray(ids.is_valid().to_numpy(zero_copy_only=False))
    bad = {}
    for i in np.flatnonzero(valid).tolist():
        try:
            bytes(data[int(offsets[i]) : int(offsets[i + 1])]).decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[i] = f"id is invalid UTF-8 ({exc.reason} at byte {exc.start} of the id)"
    return bad


def bad_rows(texts_bad: dict[int, str], text_field: str, ids: pa.Array | None,
             id_field: str | None) -> dict[int, tuple[str | None, str]]:
    """The rows that cannot be checked, each with the field concerned and why: the text's problems
    (:func:`bad_texts`) first, then the id's (:func:`bad_ids`); in row order."""
    bad: dict[int, tuple[str | None, str]] = {i: (text_field, why) for i, why in texts_bad.items()}
    for i, why in bad_ids(ids).items():
        bad.setdefault(i, (id_field, why))
    return dict(sorted(bad.items()))
