"""Parquet corpus files, read in Arrow record batches (the text column, the id column, all columns for output)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .batch import (
    Batch,
    Rejected,
    bad_ids,
    bad_rows,
    bad_texts,
    filter_rows,
    is_text_type,
    large_strings,
    single_chunk,
)
from .fields import arrow_segments, chosen_fields

__all__ = ["parquet_module", "read_parquet"]


def parquet_module() -> Any:
    """``pyarrow.parquet``, imported on first use: a JSONL-only run never pays for its import."""
    import pyarrow.parquet as pq

    return pq


def read_parquet(
    path: Path, text_field: str | Sequence[str], id_field: str | None, on_error: str, rejected: list[Rejected],
    all_columns: bool, max_bytes: int | None = None, row_groups: Sequence[int] | None = None,
) -> Iterator[Batch]:
    """The batches of a Parquet file, 8192 rows each, row group by row group (a batch never spans two, so
    reading some row groups gives the batches a whole-file read gives for them).

    Args:
        path: The file.
        text_field: The column holding the text (a string column), or several (strings or chats: see
            :mod:`decontam.inputs.fields`).
        id_field: The column holding document ids, if any.
        on_error: ``"raise"`` (an :class:`~decontam.errors.InputError` at the first bad text: null, invalid
            UTF-8 or over ``max_bytes``) or ``"skip"``.
        rejected: Skipped rows are appended here.
        all_columns: Read every column (to write the surviving rows out), not only the text and id.
        max_bytes: The maximum document size, if any.
        row_groups: Read only these row groups (in order; rows keep their numbers in the file).
    """
    try:
        pf = parquet_module().ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({exc})", path=str(path)) from exc
    names = pf.schema_arrow.names
    asked = (text_field,) if isinstance(text_field, str) else tuple(text_field)
    fields = chosen_fields(asked, names)
    for field in fields:
        if field not in names:
            raise InputError(
                f"no such column; use --text-field to name the text column (columns: {', '.join(names)})",
                path=str(path), field=field,
            )
    ftype = pf.schema_arrow.field(fields[0]).type
    plain = fields == asked and len(fields) == 1 and is_text_type(ftype)
    if len(fields) == 1 and not plain and not (pa.types.is_list(ftype) or pa.types.is_large_list(ftype)):
        raise InputError(f"text column must hold strings (or chat messages), it holds {ftype}", path=str(path),
                         field=fields[0])
    has_id = bool(id_field) and id_field in names
    columns = None if all_columns else [*fields] + ([id_field] if has_id and id_field not in fields else [])
    meta = pf.metadata
    starts = np.concatenate(([0], np.cumsum([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])))
    per_row = path.stat().st_size / max(1, int(starts[-1]))  # bytes per row, for progress
    for group in (range(meta.num_row_groups) if row_groups is None else row_groups):
        yield from _group_batches(pf, group, int(starts[group]), columns, path, asked, fields, plain,
                                  id_field if has_id else None, on_error, rejected, max_bytes, per_row)


_BATCH_BYTES = 8 << 20  # the uncompressed size of a batch (from the row group's metadata)


def _group_batches(pf: Any, group: int, row: int, columns: list[str] | None, path: Path, asked: tuple[str, ...],
                   fields: tuple[str, ...], plain: bool, id_field: str | None, on_error: str,
                   rejected: list[Rejected], max_bytes: int | None, per_row: float) -> Iterator[Batch]:
    """The batches of one row group, whose first row is row ``row`` of the file."""
    has_id = id_field is not None
    # Batches of about _BATCH_BYTES, on one thread: larger buffers (a 4,096-row group of source files is
    # 50 MB) are each mapped afresh by the C library's allocator, and memory freshly given to a process must be
    # zeroed first, which on a virtual machine cost more than the decoding; pyarrow's threads took fresh
    # memory for their buffers too (docs/performance.md).
    meta = pf.metadata.row_group(group)
    rows = int(min(8192, max(1, _BATCH_BYTES * meta.num_rows // max(1, meta.total_byte_size))))
    for rb in _record_batches(pf, group, row, rows, columns, path):
        lines = row + 1 + np.arange(rb.num_rows, dtype=np.int64)
        row += rb.num_rows
        read = int(per_row * rb.num_rows)
        if not plain:
            batch = _segments(rb, path, asked, fields, lines, id_field, on_error, rejected, max_bytes)
            batch.read_bytes = read
            yield batch
            continue
        text_field = fields[0]
        texts = large_strings(single_chunk(rb.column(rb.schema.get_field_index(text_field))))
        id_col = single_chunk(rb.column(rb.schema.get_field_index(id_field))) if has_id else None
        bad = bad_rows(bad_texts(texts, max_bytes), text_field, id_col, id_field)
        if bad:
            first, (field, reason) = next(iter(bad.items()))
            if on_error != "skip":
                raise InputError(f"{reason}; or pass --on-error skip to skip and count such rows",
                                 path=str(path), line=int(lines[first]), field=field)
            rejected.extend(Rejected(str(path), int(lines[i]), f, why) for i, (f, why) in bad.items())
            valid = np.ones(len(texts), dtype=bool)
            valid[list(bad)] = False
            rb = filter_rows(rb, valid)  # (rb keeps the file's types: it is what the output gets)
            texts = large_strings(single_chunk(rb.column(rb.schema.get_field_index(text_field))))
            id_col = single_chunk(rb.column(rb.schema.get_field_index(id_field))) if has_id else None
            lines = lines[valid]
        yield Batch(texts, str(path), lines, lines - 1, id_field=id_field, raw=rb, id_column=id_col, read_bytes=read)


def _record_batches(pf: Any, group: int, row: int, batch_rows: int, columns: list[str] | None,
                    path: Path) -> Iterator[pa.RecordBatch]:
    """The record batches of row group ``group`` (whose first row is row ``row`` of the file); data that cannot
    be decoded (a damaged page, dictionary indices out of bounds: the footer read, the data not) is an error
    naming the file and the row group."""
    batches = pf.iter_batches(batch_size=batch_rows, columns=columns, row_groups=[group], use_threads=False)
    while True:
        try:
            rb = next(batches)
        except StopIteration:
            return
        except MemoryError:
            raise  # (out of memory: the command line says what to change)
        except (OSError, pa.ArrowException) as exc:
            n = pf.metadata.row_group(group).num_rows
            raise InputError(f"cannot read row group {group} (rows {row + 1} to {row + n}) ({exc}); is it a "
                             "complete, valid file?", path=str(path)) from exc
        yield rb


def _segments(rb: pa.RecordBatch, path: Path, asked: tuple[str, ...], fields: tuple[str, ...], lines: np.ndarray,
              id_field: str | None, on_error: str, rejected: list[Rejected], max_bytes: int | None) -> Batch:
    """A record batch of several text columns, or a chat column, as a batch of segments."""
    columns = {f: single_chunk(rb.column(rb.schema.get_field_index(f))) for f in fields}
    ids = single_chunk(rb.column(rb.schema.get_field_index(id_field))) if id_field else None
    got = arrow_segments(columns, fields, rb.num_rows, max_bytes,
                         {i: (id_field, why) for i, why in bad_ids(ids).items()})
    if got is None:
        kinds = ", ".join(f"{f}: {columns[f].type}" for f in fields)
        raise InputError(f"text columns must hold strings or chat messages (lists of structs with a string content "
                         f"or value, or a content of parts with a string text); here {kinds}", path=str(path),
                         field=fields[0])
    texts, segment_row, labels, bad, keep = got
    if bad:
        first, (field, reason) = next(iter(bad.items()))
        if on_error != "skip":
            raise InputError(f"{reason}; or pass --on-error skip to skip and count such rows", path=str(path),
                             line=int(lines[first]), field=field)
        rejected.extend(Rejected(str(path), int(lines[i]), f, why) for i, (f, why) in bad.items())
        rb = filter_rows(rb, keep)
        lines = lines[keep]
    ids = rb.column(rb.schema.get_field_index(id_field)) if id_field else None
    return Batch(texts, str(path), lines, lines - 1, id_field=id_field, raw=rb, id_column=ids,
                 segment_row=segment_row, labels=labels, fields=fields)
