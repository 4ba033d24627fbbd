"""Arrow tables as corpora: a ``pyarrow.Table`` (or the table behind a ``datasets.Dataset``) read in batches.

A null text is a malformed row: an :class:`~decontam.errors.InputError` naming the row and column, or with
``on_error="skip"`` a :class:`~decontam.inputs.batch.Rejected` row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .batch import Batch, Rejected, arrow_mask, bad_ids, bad_rows, bad_texts, is_text_type, large_strings
from .fields import arrow_segments, chosen_fields

__all__ = ["TABLE_BATCH_ROWS", "table_batches"]

TABLE_BATCH_ROWS = 8192


def table_batches(table: pa.Table, label: str, text_field: str | Sequence[str], id_field: str | None, on_error: str,
                  rejected: list[Rejected], first_row: int = 0, max_bytes: int | None = None) -> Iterator[Batch]:
    """The batches of an Arrow table; ``Batch.rows`` are the rows' positions in the table.

    Args:
        table: The corpus.
        label: How the report names it (``<table>``, ``<dataset>``...).
        text_field: The column holding the text (strings), or several (strings or chats: see
            :mod:`decontam.inputs.fields`).
        id_field: The column holding document ids, if any (absent: rows are named by number).
        on_error: ``"raise"`` or ``"skip"`` for rows whose text is null, invalid UTF-8 or too long.
        rejected: Skipped rows are appended here.
        first_row: The position of the table's first row in its source (when the table is a slice of it).
        max_bytes: The maximum document size, if any.

    Raises:
        InputError: No such text column, a column that holds neither strings nor chats, or a text that is null,
            invalid UTF-8 or over ``max_bytes`` (``"raise"``).
    """
    asked = (text_field,) if isinstance(text_field, str) else tuple(text_field)
    names = table.column_names
    fields = chosen_fields(asked, names)
    for field in fields:
        if field not in names:
            raise InputError(
                f"no such column; pass text_field= to name the text column (columns: {', '.join(names)})",
                path=label, field=field,
            )
    plain = fields == asked and len(fields) == 1 and _is_string(table.schema.field(fields[0]).type)
    if len(fields) == 1 and not plain and not _is_chat(table.schema.field(fields[0]).type):
        raise InputError(f"text column must hold strings (or chat messages), it holds "
                         f"{table.schema.field(fields[0]).type}", path=label, field=fields[0])
    has_ids = bool(id_field) and id_field in names
    row = first_row
    for rb in table.to_batches(max_chunksize=TABLE_BATCH_ROWS):
        positions = np.arange(row, row + rb.num_rows, dtype=np.int64)
        ids = rb.column(rb.schema.get_field_index(id_field)) if has_ids else None
        if plain:
            yield from _plain_batch(rb, fields[0], positions, ids, label, id_field, on_error, rejected, max_bytes)
        else:
            yield _segment_batch(rb, asked, fields, positions, ids, label, id_field, on_error, rejected, max_bytes)
        row += rb.num_rows


def _is_string(t: pa.DataType) -> bool:
    return is_text_type(t)


def _is_chat(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_struct(t.value_type)


def _plain_batch(rb: pa.RecordBatch, field: str, positions: np.ndarray, ids: pa.Array | None, label: str,
                 id_field: str | None, on_error: str, rejected: list[Rejected],
                 max_bytes: int | None) -> Iterator[Batch]:
    """One text column of strings: the GPT-4 rule's case."""
    texts = large_strings(rb.column(rb.schema.get_field_index(field)))
    bad = bad_rows(bad_texts(texts, max_bytes), field, ids, id_field)
    if bad:
        first, (where, reason) = next(iter(bad.items()))
        if on_error != "skip":
            raise InputError(f"{reason}; or pass on_error='skip' to skip and count such rows",
                             path=label, line=int(positions[first]) + 1, field=where)
        rejected.extend(Rejected(label, int(positions[i]) + 1, f, why) for i, (f, why) in bad.items())
        valid = np.ones(len(texts), dtype=bool)
        valid[list(bad)] = False
        mask = arrow_mask(valid)
        texts = texts.filter(mask)
        ids = ids.filter(mask) if ids is not None else None
        positions = positions[valid]
    yield Batch(texts, label, positions + 1, positions, id_field=id_field, id_column=ids)


def _segment_batch(rb: pa.RecordBatch, asked: tuple[str, ...], fields: tuple[str, ...], positions: np.ndarray,
                   ids: pa.Array | None, label: str, id_field: str | None, on_error: str,
                   rejected: list[Rejected], max_bytes: int | None) -> Batch:
    """Several text columns, or a chat column: a batch of segments (see :mod:`decontam.inputs.fields`)."""
    columns = {f: rb.column(rb.schema.get_field_index(f)) for f in fields}
    got = arrow_segments(columns, fields, rb.num_rows, max_bytes,
                         {i: (id_field, why) for i, why in bad_ids(ids).items()})
    if got is None:
        kinds = ", ".join(f"{f}: {columns[f].type}" for f in fields)
        raise InputError(f"text columns must hold strings or chat messages (lists of structs with a string content "
                         f"or value); here {kinds}", path=label, field=fields[0])
    texts, segment_row, labels, bad, keep = got
    if bad:
        first, (field, reason) = next(iter(bad.items()))
        if on_error != "skip":
            raise InputError(f"{reason}; or pass on_error='skip' to skip and count such rows",
                             path=label, line=int(positions[first]) + 1, field=field)
        rejected.extend(Rejected(label, int(positions[i]) + 1, f, why) for i, (f, why) in bad.items())
        ids = ids.filter(arrow_mask(keep)) if ids is not None else None
        positions = positions[keep]
    return Batch(texts, label, positions + 1, positions, id_field=id_field, id_column=ids,
                 segment_row=segment_row, labels=labels, fields=fields)
