"""The ``datasets`` engine: the scan step over a ``datasets.Dataset``, run by ``Dataset.map``.

``map`` gives what a dataset user expects: its batching, ``num_proc`` worker processes, its cache and its
progress bar. Each map batch runs the same step as every other input (:func:`decontam.scan.step.scan_batches`
over :func:`decontam.inputs.table_batches`) and returns its partial result as one row of JSON; the partial
results add up in row order to the dataset's result.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..config import DecontamConfig
from ..errors import InputError
from ..inputs import Rejected, TextEdit, chosen_fields, table_batches
from ..match import Matcher
from ..neardup import NearDupIndex
from ..outputs import edit_arrow
from ..version import __version__
from .probes import ProbeSet
from .step import NearRow, RowMatch, SourceResult, hash_texts, require_rows, scan_batches

__all__ = ["scan_dataset"]

LABEL = "<dataset>"
_PART = "_decontam_part"
MAP_BATCH_ROWS = 2000


class _MapScanner:
    """The ``datasets.map`` function (picklable): one map batch -> one row holding its partial result."""

    def __init__(self, matcher: Matcher, cfg: DecontamConfig, label: str, near: NearDupIndex | None = None) -> None:
        self.matcher = matcher
        self.cfg = cfg
        self.label = label
        self.near = near

    def __call__(self, table: pa.Table, indices: list[int]) -> pa.Table:
        part = SourceResult(self.label)
        first = int(indices[0]) if len(indices) else 0
        cfg = self.cfg
        batches = table_batches(table, self.label, cfg.text_field, cfg.id_field or None, cfg.on_error, part.rejected,
                                first_row=first, max_bytes=cfg.max_doc_bytes)
        for _ in scan_batches(batches, self.matcher, cfg.text_rule, part, cfg.redact, self.near):
            pass
        blob = json.dumps([part.n_documents, part.n_characters, [rm.to_list() for rm in part.rows],
                           [rj.to_dict() for rj in part.rejected], [nr.to_list() for nr in part.near_rows]],
                          ensure_ascii=False)
        return pa.table({_PART: pa.array([blob], type=pa.large_string())})


def scan_dataset(ds: Any, probes: ProbeSet, cfg: DecontamConfig, want_output: bool,
                 progress: bool | None, label: str = LABEL) -> tuple[SourceResult, Any]:
    """Scan a ``datasets.Dataset`` with ``Dataset.map`` (``cfg.num_proc`` processes); ``label`` names it in
    the report and in errors (``<dataset>``, or ``<dataset:train>`` for a split).

    Returns:
        The dataset's result, and (``want_output``) the dataset without its matched and rejected rows (under
        redaction: without its dropped and rejected rows, the redacted ones with their texts cut).

    Raises:
        InputError: No such text column, or a malformed row (``on_error="raise"``).
    """
    import datasets

    for name in chosen_fields(cfg.text_fields, ds.column_names):
        if name not in ds.column_names:
            raise InputError(
                f"no such column; pass text_field= to name the text column (columns: {', '.join(ds.column_names)})",
                path=label, field=name,
            )
    result = SourceResult(label)
    if ds.num_rows == 0:  # map() over no rows adds no columns: nothing to scan, nothing to drop
        return result, (ds if want_output else None)
    # Everything the result depends on: a benchmark's name seeds its probes, its answers are probed too. (The scan
    # itself is kept in memory, so no cache file is read or written: not inside the input's folder either.)
    fingerprint = hashlib.sha256((str(ds._fingerprint) + label + cfg.fingerprint() + __version__ + json.dumps(
        [[b.name, b.fingerprint, b.answer_fingerprint] for b in probes.benchmarks])).encode()).hexdigest()[:32]
    quiet = progress is False and datasets.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    try:
        scanned = ds.with_format("arrow").map(
            _MapScanner(probes.matcher, cfg, label, probes.near), batched=True, batch_size=MAP_BATCH_ROWS,
            with_indices=True, remove_columns=ds.column_names, num_proc=cfg.num_proc if cfg.num_proc > 1 else None,
            new_fingerprint=fingerprint, desc=f"decontam: scanning {label}", keep_in_memory=True,
        )
    finally:
        if quiet:
            datasets.enable_progress_bars()
    for blob in scanned.with_format("arrow")[:].column(_PART).to_pylist():
        n_documents, n_characters, rows, rejected, *more = json.loads(blob)
        near_rows = more[0] if more else []  # (a datasets cache of an earlier version has no near rows)
        result.n_documents += n_documents
        result.n_characters += n_characters
        result.rows += [RowMatch.from_list(r) for r in rows]
        result.near_rows += [NearRow.from_list(r) for r in near_rows]
        result.rejected += [Rejected.from_dict(r) for r in rejected]
    # The digests cover the checked text in row order, as for files (rejected rows are not checked text).
    table = ds.data.table if ds._indices is None else ds.with_format("arrow")[:]
    for batch in table_batches(table, label, cfg.text_field, None, "skip", [], max_bytes=cfg.max_doc_bytes):
        if len(batch.texts):
            hash_texts(batch.texts, result)
        result.fields = batch.fields or result.fields
    require_rows([result], allow_empty=True)
    if not want_output:
        return result, None
    keep = np.ones(ds.num_rows, dtype=bool)
    keep[[rm.row for rm in result.rows if not rm.kept]] = False
    keep[[nr.row for nr in result.near_rows]] = False
    keep[[rj.line - 1 for rj in result.rejected]] = False
    edits = {rm.row: [TextEdit(label, t.cuts, t.n_characters) for label, t in rm.redaction.texts]
             for rm in result.rows if rm.kept and rm.redaction is not None}
    if edits:
        ds = _redacted(ds, edits, cfg, fingerprint, progress)
    return result, ds.select(np.flatnonzero(keep))


class _MapEditor:
    """The ``datasets.map`` function (picklable) that writes the redacted texts of some rows."""

    def __init__(self, edits: dict[int, list[TextEdit]], text_field: str) -> None:
        self.edits = edits
        self.text_field = text_field

    def __call__(self, table: pa.Table, indices: list[int]) -> pa.Table:
        here = {k: self.edits[i] for k, i in enumerate(indices) if i in self.edits}
        return edit_arrow(table, here, self.text_field)


def _redacted(ds: Any, edits: dict[int, list[TextEdit]], cfg: DecontamConfig, fingerprint: str,
              progress: bool | None) -> Any:
    """The dataset with the redacted texts of its kept matched rows written in (``Dataset.map``; format kept)."""
    import datasets

    blob = json.dumps(sorted((r, [[e.label, e.cuts, e.n_characters] for e in es]) for r, es in edits.items()))
    new_fingerprint = hashlib.sha256((fingerprint + blob).encode()).hexdigest()[:32]
    quiet = progress is False and datasets.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    # A dataset read from files is written, redacted, to the datasets cache folder, not beside its files (an input)
    cache = None
    if ds.cache_files:
        folder = Path(datasets.config.HF_DATASETS_CACHE) / "decontam"
        folder.mkdir(parents=True, exist_ok=True)
        cache = str(folder / f"redacted-{new_fingerprint}.arrow")
    try:
        out = ds.with_format("arrow").map(
            _MapEditor(edits, cfg.text_fields[0]), batched=True, batch_size=MAP_BATCH_ROWS, with_indices=True,
            num_proc=cfg.num_proc if cfg.num_proc > 1 else None, new_fingerprint=new_fingerprint,
            desc="decontam: redacting", cache_file_name=cache)
    finally:
        if quiet:
            datasets.enable_progress_bars()
    fmt = ds.format
    return out.with_format(fmt["type"], columns=fmt["columns"], output_all_columns=fmt["output_all_columns"],
                           **fmt["format_kwargs"])
