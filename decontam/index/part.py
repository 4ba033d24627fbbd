"""The documents of an index build, batch by batch: accounted for, normalized, their text stored, their
minimizers selected (:class:`PartBuilder`).

A one-process build feeds every source through one builder, into the index's text stores, and keeps the selected
pairs as sorted runs (:mod:`.build`); a worker of a build in a pool (:mod:`.parts`) feeds it one part of a file,
into spool files. Either way a document's text, its place in the stored text and its selected (key, position)
pairs are computed here, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ..config import DecontamConfig
from ..errors import ConfigError
from ..inputs import Batch, CorpusFile, FilePart, ReadCounts, read_file, text_buffers
from ..normalize import normalize_many
from ..scan import SourceResult, account_batch
from .hashing import select_minimizers, thin

__all__ = ["PartBuilder", "TextSink"]


class TextSink(Protocol):
    """Where a builder's text goes (a store's :class:`~decontam.index.store.TextWriter`, or a spool file)."""

    @property
    def size(self) -> int: ...

    def write(self, data: bytes | memoryview) -> None: ...


class _Unhashed:
    """Stands in for a source's digest where the text is hashed elsewhere (from a spool file, in order)."""

    def update(self, data: Any) -> None:
        """Hash nothing."""


def _batch_ids(batch: Batch) -> list[str | None]:
    """Document ids of a batch as JSON text (None where absent), as :meth:`Batch.doc_id` reads them."""
    n = len(batch)
    return [None if v is None else json.dumps(v, ensure_ascii=False) for v in batch.doc_ids(range(n))]


class PartBuilder:
    """Sources in order, batches in order: their documents' table, text and selected pairs.

    Args:
        config: The build's options (normalizer, fields, error policy).
        text: Where the normalized text goes; positions count from its start.
        raw: Where the original text goes.
        pairs: Called with each batch's selected (stored key, position) pairs, thinned, in position order, and
            the position of the batch's start in ``text`` (the pairs' positions count from it).
        hashed: Whether sources hash their text into their digests (False where the text is hashed elsewhere).
    """

    def __init__(self, config: DecontamConfig, text: TextSink, raw: TextSink,
                 pairs: Callable[[np.ndarray, np.ndarray, int], None], hashed: bool = True) -> None:
        self.config = config
        self.text = text
        self.raw = raw
        self.pairs = pairs
        self.hashed = hashed
        self.sources: list[SourceResult] = []
        self.doc_start: list[np.ndarray] = []
        self.doc_raw: list[np.ndarray] = []
        self.doc_source: list[np.ndarray] = []
        self.doc_row: list[np.ndarray] = []
        self.doc_line: list[np.ndarray] = []
        self.doc_id: list[str | None] = []

    def source(self, label: str) -> SourceResult:
        """Start the next source; its batches are added with :meth:`add_batch`."""
        s = SourceResult(label)
        if not self.hashed:
            s.text_digest, s.length_digest = _Unhashed(), _Unhashed()
        self.sources.append(s)
        return s

    def add_file(self, f: CorpusFile, part: FilePart | None = None, counts: ReadCounts | None = None) -> SourceResult:
        """Add a corpus file (or one part of it) as the next source; ``counts`` is filled in with the lines and
        rows read."""
        src = self.source(str(f.path))
        cfg = self.config
        for batch in read_file(f, cfg.text_field, cfg.id_field or None, cfg.on_error, src.rejected,
                               max_bytes=cfg.max_doc_bytes, part=part, counts=counts):
            self.add_batch(batch, src)
        return src

    def add_batch(self, batch: Batch, src: SourceResult) -> None:
        """Account for a batch of ``src``, store its text and documents, and hand on its selected pairs.

        Raises:
            ConfigError: The batch is of several text fields or chats (an index holds one text per document).
        """
        if batch.segment_row is not None:
            raise ConfigError(f"{batch.source}: an index holds one text per document, and these rows have "
                              f"several ({', '.join(batch.fields or ())}); index one string field (--text-field "
                              "NAME), or check the corpus without an index (decontam check / filter), which reads "
                              "several fields and chats")
        account_batch(batch, src)
        data, offsets = text_buffers(batch.texts)
        base, end = int(offsets[0]), int(offsets[-1])
        normalized, noffs = normalize_many(data[base:end], offsets - base, self.config.normalize)
        at, raw_at = self.text.size, self.raw.size
        self.doc_raw.append(offsets[:-1] - base + raw_at)
        self.raw.write(data[base:end])
        self.doc_start.append(noffs[:-1] + at)
        self.doc_source.append(np.full(len(batch), len(self.sources) - 1, dtype=np.int32))
        self.doc_row.append(np.asarray(batch.rows, dtype=np.int64))
        self.doc_line.append(np.asarray(batch.lines, dtype=np.int64))
        self.doc_id.extend(_batch_ids(batch))
        self.pairs(*thin(*select_minimizers(normalized, noffs), noffs), at)
        self.text.write(normalized)

    def documents(self) -> dict[str, Any]:
        """The document table so far: normalized and original starts, source numbers, rows, lines, ids."""
        def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        return {"start": cat(self.doc_start, np.int64), "raw_start": cat(self.doc_raw, np.int64),
                "source": cat(self.doc_source, np.int32), "row": cat(self.doc_row, np.int64),
                "line": cat(self.doc_line, np.int64), "id": self.doc_id}
