"""Arrow tables as corpora: a ``pyarrow.Table`` (or the table behind a ``datasets.Dataset``) read in batches.

A null text is a malformed row: an :class:`~decontam.errors.InputError` naming the row and column, or with
``on_error="skip"`` a :class:`~decontam.inputs.batch.Rejected` row.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .batch import Batch, Rejected, arrow_mask, bad_texts

__all__ = ["TABLE_BATCH_ROWS", "table_batches"]

TABLE_BATCH_ROWS = 8192


def table_batches(table: pa.Table, label: str, text_field: str, id_field: str | None, on_error: str,
                  rejected: list[Rejected], first_row: int = 0, max_bytes: int | None = None) -> Iterator[Batch]:
    """The batches of an Arrow table; ``Batch.rows`` are the rows' positions in the table.

    Args:
        table: The corpus.
        label: How the report names it (``<table>``, ``<dataset>``...).
        text_field: The column holding the text (strings).
        id_field: The column holding document ids, if any (absent: rows are named by number).
        on_error: ``"raise"`` or ``"skip"`` for rows whose text is null.
        rejected: Skipped rows are appended here.
        first_row: The position of the table's first row in its source (when the table is a slice of it).
        max_bytes: The maximum document size, if any.

    Raises:
        InputError: No such text column, a column that does not hold strings, or a text that is null, invalid
            UTF-8 or over ``max_bytes`` (``"raise"``).
    """
    names = table.column_names
    if text_field not in names:
        raise InputError(
            f"no such column; pass text_field= to name the text column (columns: {', '.join(names)})",
            path=label, field=text_field,
        )
    col = table.column(text_field)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise InputError(f"text column must hold strings, it holds {col.type}", path=label, field=text_field)
    has_ids = bool(id_field) and id_field in names
    row = first_row
    for rb in table.to_batches(max_chunksize=TABLE_BATCH_ROWS):
        texts = rb.column(rb.schema.get_field_index(text_field))
        positions = np.arange(row, row + rb.num_rows, dtype=np.int64)
        ids = rb.column(rb.schema.get_field_index(id_field)) if has_ids else None
        bad = bad_texts(texts, max_bytes)
        if bad:
            first, reason = next(iter(bad.items()))
            if on_error != "skip":
                raise InputError(f"{reason}; or pass on_error='skip' to skip and count such rows",
                                 path=label, line=int(positions[first]) + 1, field=text_field)
            rejected.extend(Rejected(label, int(positions[i]) + 1, text_field, why) for i, why in bad.items())
            valid = np.ones(len(texts), dtype=bool)
            valid[list(bad)] = False
            mask = arrow_mask(valid)
            texts = texts.filter(mask)
            ids = ids.filter(mask) if ids is not None else None
            positions = positions[valid]
        yield Batch(texts, label, positions + 1, positions, id_field=id_field, id_column=ids)
        row += rb.num_rows
