"""In-memory corpora: ``datasets`` objects, Arrow tables and Python lists, each read by one adapter.

Every kind becomes a :class:`Source`: a label for the report, its number of rows when known, and a function
that yields its :class:`~decontam.inputs.batch.Batch` es (appending skipped rows to a list). The stream
direction (``check``, ``filter_dataset``) and the index direction (``build_index``) read them through the same
adapters, so they accept the same inputs and treat bad rows the same way.

=====================================  ===================  =====================================================
kind                                   label                read as
=====================================  ===================  =====================================================
``datasets.Dataset``                   ``<dataset>``        its Arrow table (:func:`~decontam.inputs.tables.table_batches`)
``datasets.IterableDataset``           ``<iterable dataset>``  its rows, as dicts, 1,000 at a time
``pyarrow.Table``                      ``<table>``          :func:`~decontam.inputs.tables.table_batches`
list of ``str``                        ``<list>``           the documents themselves
list of ``dict``                       ``<list>``           rows with a text field (and an id field)
=====================================  ===================  =====================================================
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..config import MAX_DOC_BYTES
from ..errors import InputError
from .batch import Batch, Rejected, arrow_strings
from .fields import FieldProblem, chosen_fields, flatten_segments, row_segments
from .tables import TABLE_BATCH_ROWS, table_batches

__all__ = ["Source", "as_paths", "dict_batches", "field_names", "is_dataset", "is_iterable_dataset", "is_pathlike",
           "is_ray_dataset", "memory_source"]

ITERABLE_BATCH_ROWS = 1000  # rows of an iterable dataset held at a time (its output is yielded batch by batch)


@dataclass(frozen=True)
class Source:
    """One in-memory corpus, ready to be read.

    Attributes:
        label: How reports name it (``<list>``, ``<table>``...).
        n_rows: Its rows (rejected ones included), or None when unknown until read (an iterable dataset).
        read: ``read(rejected)`` yields its batches; ``Batch.rows`` are row positions in the source, and for
            lists and iterables ``Batch.raw`` holds the row objects of the batch.
    """

    label: str
    n_rows: int | None
    read: Callable[[list[Rejected]], Iterator[Batch]]


def is_pathlike(obj: Any) -> bool:
    """Whether a corpus argument names files: a ``str`` or ``PathLike``, or a non-empty list of ``PathLike``.

    (A list of ``str`` is a list of documents.)
    """
    if isinstance(obj, (str, os.PathLike)):
        return True
    return isinstance(obj, (list, tuple)) and bool(obj) and all(isinstance(x, os.PathLike) for x in obj)


def as_paths(obj: Any) -> list[str | os.PathLike[str]]:
    """A path argument (see :func:`is_pathlike`) as a list of paths."""
    return [obj] if isinstance(obj, (str, os.PathLike)) else list(obj)


def is_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a ``datasets.Dataset``."""
    datasets = _datasets_if_imported()
    return datasets is not None and isinstance(obj, datasets.Dataset)


def is_iterable_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a ``datasets.IterableDataset``."""
    datasets = _datasets_if_imported()
    return datasets is not None and isinstance(obj, datasets.IterableDataset)


def is_dataset_dict(obj: Any) -> bool:
    """Whether ``obj`` is a ``datasets.DatasetDict`` (splits of ``Dataset`` s)."""
    datasets = _datasets_if_imported()
    return datasets is not None and isinstance(obj, datasets.DatasetDict)


def is_iterable_dataset_dict(obj: Any) -> bool:
    """Whether ``obj`` is a ``datasets.IterableDatasetDict`` (splits of ``IterableDataset`` s)."""
    datasets = _datasets_if_imported()
    return datasets is not None and isinstance(obj, datasets.IterableDatasetDict)


def is_ray_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a ``ray.data.Dataset`` (only when the caller's program has imported Ray Data: else
    no object can be one, and nothing here imports Ray)."""
    import sys

    ray_data = sys.modules.get("ray.data")
    return ray_data is not None and isinstance(obj, ray_data.Dataset)


def _datasets_if_imported() -> Any:
    """The ``datasets`` module when the caller's program has imported it (else no object can be one of its
    types, and a run on files need not pay for importing it)."""
    import sys

    return sys.modules.get("datasets")


def field_names(obj: Any) -> list[str] | None:
    """The fields an in-memory corpus's rows have, where known without reading it: a dataset's or a table's
    columns (every split's, for a dataset dict), a list of dicts' first row's keys, ``["text"]`` for a list of
    strings; None for the others (streams, Ray datasets)."""
    if is_dataset_dict(obj):
        return sorted({name for ds in obj.values() for name in ds.column_names})
    if is_dataset(obj) or isinstance(obj, pa.Table):
        return list(obj.column_names)
    if isinstance(obj, (list, tuple)) and obj:
        if isinstance(obj[0], dict):
            return [str(k) for k in obj[0]]
        if isinstance(obj[0], str):
            return ["text"]
    return None


def memory_source(obj: Any, text_field: str | Sequence[str], id_field: str | None, on_error: str,
                  max_bytes: int = MAX_DOC_BYTES, label: str | None = None) -> Source:
    """The :class:`Source` of an in-memory corpus (see the module docstring for the kinds); ``label``, when
    given, names it instead of its kind's label (a split of a dataset dict: ``<dataset:train>``).

    Raises:
        TypeError: Not a kind decontam reads, or a list mixing strings and dicts.
    """
    def table_source(table: pa.Table, label: str) -> Source:
        return Source(label, table.num_rows,
                      lambda rejected: table_batches(table, label, text_field, id_field, on_error, rejected,
                                                     max_bytes=max_bytes))

    if is_dataset(obj):
        # The table behind the dataset (one copy only when it is a selection of another dataset's rows).
        table = obj.with_format("arrow")[:] if obj._indices is not None else obj.data.table
        return table_source(table, label or "<dataset>")
    if is_iterable_dataset(obj):
        name = label or "<iterable dataset>"
        return Source(name, None,
                      lambda rejected: dict_batches(obj, name, text_field, id_field, on_error,
                                                    rejected, ITERABLE_BATCH_ROWS, max_bytes))
    if isinstance(obj, pa.Table):
        return table_source(obj, "<table>")
    if isinstance(obj, (list, tuple)):
        if all(isinstance(x, str) for x in obj):  # the documents themselves, whatever fields were named
            return Source("<list>", len(obj), lambda rejected: table_batches(
                pa.table({"text": arrow_strings(list(obj))}), "<list>", "text", id_field, on_error, rejected,
                max_bytes=max_bytes))
        if all(isinstance(x, dict) for x in obj):
            return Source("<list>", len(obj),
                          lambda rejected: dict_batches(obj, "<list>", text_field, id_field, on_error, rejected,
                                                        TABLE_BATCH_ROWS, max_bytes))
        raise TypeError("a list corpus must hold only strings or only dicts")
    raise TypeError(
        f"unsupported corpus type {type(obj).__name__}: pass a path, a datasets.Dataset or IterableDataset, "
        "a pyarrow.Table, or a list of strings or dicts"
    )


def dict_batches(rows: Iterable[dict[str, Any]], label: str, text_field: str | Sequence[str], id_field: str | None,
                 on_error: str, rejected: list[Rejected], batch_rows: int,
                 max_bytes: int = MAX_DOC_BYTES) -> Iterator[Batch]:
    """Batches of rows given as dicts (a list, or an iterable dataset's stream); ``Batch.raw`` holds the
    batch's row dicts.

    A row whose text field is missing, null or not a string (or a chat) is malformed: an
    :class:`~decontam.errors.InputError` naming the row and field, or with ``on_error="skip"`` a rejected row.
    """
    asked = (text_field,) if isinstance(text_field, str) else tuple(text_field)
    fields: tuple[str, ...] | None = None  # decided on the first row (a chat field in place of the default)
    buffer: list[dict[str, Any]] = []
    first = 0  # position of buffer[0] in the stream
    for row in rows:
        if fields is None:
            fields = chosen_fields(asked, list(row))
        buffer.append(row)
        if len(buffer) >= batch_rows:
            yield _dict_batch(buffer, first, label, fields, id_field, on_error, rejected, max_bytes)
            first += len(buffer)
            buffer = []
    if buffer:
        yield _dict_batch(buffer, first, label, fields or asked, id_field, on_error, rejected, max_bytes)


def _dict_batch(buffer: Sequence[dict[str, Any]], first: int, label: str, fields: tuple[str, ...],
                id_field: str | None, on_error: str, rejected: list[Rejected], max_bytes: int) -> Batch:
    good: list[int] = []
    per_row: list[list[tuple[str, str]]] = []
    for i, row in enumerate(buffer):
        try:
            segments = row_segments(row, fields)
            for name, text in segments:
                if len(text) > max_bytes // 4 and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
                    raise FieldProblem(name.split("[")[0], f"text is longer than the maximum document size "
                                                           f"({max_bytes} bytes)")
        except FieldProblem as problem:
            hint = "; pass text_field= to name the field holding the text" if problem.reason.startswith("missing") \
                else "; or pass on_error='skip' to skip and count such rows"
            if on_error != "skip":
                raise InputError(problem.reason + hint, path=label, line=first + i + 1, field=problem.field) from None
            rejected.append(Rejected(label, first + i + 1, problem.field, problem.reason))
            continue
        good.append(i)
        per_row.append(segments)
    positions = first + np.asarray(good, dtype=np.int64)
    kept = [buffer[i] for i in good]
    texts, segment_row, labels = flatten_segments(per_row, fields)
    return Batch(arrow_strings(texts), label, positions + 1, positions,
                 id_field=id_field, ids=[row.get(id_field) for row in kept] if id_field else None, raw=kept,
                 segment_row=segment_row, labels=labels,
                 fields=fields if segment_row is not None or len(fields) > 1 else None)
