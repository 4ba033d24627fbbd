"""Reading corpora: files (JSONL, gzipped JSONL, Parquet) and in-memory objects, as batches of Arrow strings.

One reader per format (:mod:`.jsonl`, :mod:`.parquet`), one adapter per in-memory kind (:mod:`.tables`,
:mod:`.memory`), all yielding :class:`Batch` es and recording skipped rows as :class:`Rejected`.
"""

from .batch import (
    Batch,
    ReadCounts,
    Rejected,
    TextEdit,
    arrow_mask,
    arrow_strings,
    filter_rows,
    plain_id,
    single_chunk,
    text_buffers,
)
from .fields import chosen_fields, cut_text, edit_row, label_field
from .files import (
    PART_MAX_BYTES,
    CorpusFile,
    FilePart,
    SkippedFile,
    expand_corpus,
    file_format,
    read_file,
    require_id_field,
    split_file,
)
from .memory import (
    Source,
    as_paths,
    dict_batches,
    field_names,
    is_dataset,
    is_dataset_dict,
    is_iterable_dataset,
    is_iterable_dataset_dict,
    is_pathlike,
    is_ray_dataset,
    memory_source,
)
from .parquet import parquet_module
from .tables import table_batches

__all__ = [
    "PART_MAX_BYTES",
    "Batch",
    "CorpusFile",
    "FilePart",
    "ReadCounts",
    "Rejected",
    "SkippedFile",
    "Source",
    "TextEdit",
    "arrow_mask",
    "arrow_strings",
    "as_paths",
    "chosen_fields",
    "cut_text",
    "dict_batches",
    "edit_row",
    "expand_corpus",
    "field_names",
    "file_format",
    "filter_rows",
    "is_dataset",
    "is_dataset_dict",
    "is_iterable_dataset",
    "is_iterable_dataset_dict",
    "is_pathlike",
    "is_ray_dataset",
    "label_field",
    "memory_source",
    "parquet_module",
    "plain_id",
    "read_file",
    "require_id_field",
    "single_chunk",
    "split_file",
    "table_batches",
    "text_buffers",
]
