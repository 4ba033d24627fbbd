"""A ``ray.data.Dataset`` in, a ``ray.data.Dataset`` out: the scan step in ``map_batches`` tasks, one call per
block, and the report assembled from the blocks' own reports by the report model's merge.

Each block is scanned by a task (the probes and matcher loaded once per worker process: :class:`~.ray.Shared`)
and yields, as the run needs:

* ``filter`` (``filter_dataset`` without a report): the block's kept rows (under ``action="redact"``, the
  redacted ones with their texts cut), lazily, nothing else;
* ``check``: one row holding the block's report (a whole report document, its rows numbered within the block)
  and the text it checked (what the source's digests hash);
* ``mark`` (``filter_dataset(..., return_report=True)``): the block's rows with a keep flag, its report and
  text on its first row; materialized once, then filtered lazily.

This process takes the blocks' reports in order and merges them with :func:`decontam.report.merge_blocks`
(rows moved by the blocks before, every total recomputed by the report model), and hashes their text in order:
SHA-256 over a source does not add up from its blocks' digests. So the report is the one the local engine
writes for the same rows as a ``datasets.Dataset`` (both are named ``<dataset>``), apart from ``run.engine``.
Blocks are the dataset's own: ``ds.repartition(n)`` gives more of them, and so more parallel tasks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from ..config import DecontamConfig
from ..errors import InputError
from ..inputs import Rejected, TextEdit, chosen_fields, table_batches
from ..outputs import edit_arrow
from ..report import Report, merge_blocks
from .assemble import build_report
from .probes import ProbeSet
from .ray import Shared, ray_session
from .step import SourceResult, require_rows, scan_batches

__all__ = ["LABEL", "check_ray_dataset", "filter_ray_dataset"]

LABEL = "<dataset>"
_KEEP, _PART, _TEXT, _LENGTHS = "__decontam_keep", "__decontam_part", "__decontam_text", "__decontam_lengths"
_MARKS = [_KEEP, _PART, _TEXT, _LENGTHS]
_MERGE_AT = 64  # block reports merged into one as they come, this many at a time (memory stays bounded)


class _Collected:
    """Stands in for a digest in a task: keeps the bytes, for this process to hash in block order."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.sha = hashlib.sha256()

    def update(self, data: Any) -> None:
        data = bytes(data)
        self.chunks.append(data)
        self.sha.update(data)

    def hexdigest(self) -> str:
        return self.sha.hexdigest()

    def digest(self) -> bytes:
        return self.sha.digest()

    def value(self) -> bytes:
        return b"".join(self.chunks)


def _scan_block(table: pa.Table, shared: Shared, cfg: DecontamConfig, action: str, mode: str) -> pa.Table:
    """The ``map_batches`` function: one block scanned (see the module docstring for what each mode gives)."""
    probes: ProbeSet = shared.get()
    part = SourceResult(LABEL)
    part.text_digest, part.length_digest = _Collected(), _Collected()
    keep = np.zeros(table.num_rows, dtype=bool)
    edits: dict[int, list[TextEdit]] = {}  # rows kept redacted (action="redact"): their texts
    error: InputError | None = None
    try:
        batches = table_batches(table, LABEL, cfg.text_field, cfg.id_field or None, cfg.on_error, part.rejected,
                                max_bytes=cfg.max_doc_bytes)
        for batch, kept in scan_batches(batches, probes.matcher, cfg.text_rule, part, cfg.redact, probes.near):
            keep[batch.rows[kept]] = True
            edits.update({int(batch.rows[k]): es for k, es in (batch.edits or {}).items()})
    except InputError as exc:
        if mode == "filter":  # no report to move the row into: say how it is counted
            raise InputError(f"{exc.reason} (the line counts the rows of one block of the Ray dataset; check() "
                             "names its row in the whole dataset)", path=exc.path, line=exc.line,
                             field=exc.field) from None
        error, keep[:] = exc, False
    table = edit_arrow(table, edits, cfg.text_fields[0]) if error is None else table
    if mode == "filter":
        return table.filter(keep)
    if error is not None:
        summary = {"error": {"reason": error.reason, "line": error.line, "field": error.field}}
    else:
        summary = {"report": build_report(probes, [part], cfg, action, [LABEL]).data}
    values = [json.dumps(summary, ensure_ascii=False), part.text_digest.value(), part.length_digest.value()]
    types = [pa.large_string(), pa.large_binary(), pa.large_binary()]
    if mode == "check":
        return pa.table({name: pa.array([v], type=t) for name, v, t in zip(_MARKS[1:], values, types)})
    marks = {_KEEP: pa.array(keep)}
    for name, v, t in zip(_MARKS[1:], values, types):
        marks[name] = pa.array([v] + [None] * (table.num_rows - 1) if table.num_rows else [], type=t)
    for name, column in marks.items():
        table = table.append_column(name, column)
    return table


def _drop_marked(table: pa.Table) -> pa.Table:
    """The kept rows of a marked block, without the marks."""
    return table.filter(table.column(_KEEP)).drop_columns(_MARKS)


def _mapped(ds: Any, probes: ProbeSet, cfg: DecontamConfig, action: str, mode: str) -> Any:
    """``ds`` with every block scanned (``mode``), in order."""
    names = ds.columns()
    for name in chosen_fields(cfg.text_fields, names):
        if name not in names:
            raise InputError(f"no such column; pass text_field= to name the text column (columns: "
                             f"{', '.join(names)})", path=LABEL, field=name)
    out = ds.map_batches(_scan_block, fn_args=(Shared(probes), cfg, action, mode), batch_format="pyarrow",
                         batch_size=None, zero_copy_batch=True)
    out.context.execution_options.preserve_order = True
    return out


def _blocks(ds: Any) -> Iterator[tuple[str, bytes, bytes]]:
    """The blocks' summaries and texts, in order (the rows that hold one)."""
    parts = ds.select_columns(_MARKS[1:])
    parts.context.execution_options.preserve_order = True
    for batch in parts.iter_batches(batch_format="pyarrow", batch_size=None):
        for summary, text, lengths in zip(*(batch.column(c).to_pylist() for c in _MARKS[1:])):
            if summary is not None:
                yield summary, text, lengths


def _report(blocks: Iterator[tuple[str, bytes, bytes]], probes: ProbeSet, cfg: DecontamConfig,
            action: str) -> Report:
    """The dataset's report from its blocks' reports (merged by the report model, a bounded number at a time)
    and its text hashed in order.

    Raises:
        InputError: The first malformed row in dataset order (its line counted from the dataset's start), or a
            dataset of which every row was rejected.
    """
    text, lengths = hashlib.sha256(), hashlib.sha256()
    digests = {"text_sha256": "", "lengths_sha256": ""}  # of groups of blocks: replaced at the end
    merged: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    before = 0  # rows of the blocks before this one
    for summary, block_text, block_lengths in blocks:
        data = json.loads(summary)
        if "error" in data:
            e = data["error"]
            raise InputError(e["reason"], path=LABEL, line=None if e["line"] is None else e["line"] + before,
                             field=e["field"])
        text.update(block_text)
        lengths.update(block_lengths)
        corpus = data["report"]["corpus"]
        before += corpus["n_documents"] + corpus["n_rejected"]
        pending.append(data["report"])
        if len(pending) == _MERGE_AT:
            merged.append(merge_blocks(pending, digests))
            pending = []
    merged += pending
    if not merged:  # a dataset without a block
        return build_report(probes, [SourceResult(LABEL)], cfg, action, [LABEL])
    doc = merge_blocks(merged, {"text_sha256": text.hexdigest(), "lengths_sha256": lengths.hexdigest()})
    corpus = doc["corpus"]
    require_rows([SourceResult(LABEL, n_documents=corpus["n_documents"],
                               rejected=[Rejected.from_dict(r) for r in corpus["rejected"]])], allow_empty=True)
    return Report(doc)


def check_ray_dataset(ds: Any, probes: ProbeSet, cfg: DecontamConfig) -> Report:
    """Check a ``ray.data.Dataset``: its blocks scanned by Ray tasks, their reports merged here.

    Raises:
        InputError: No such text column; a malformed row (``on_error="raise"``), named by its row in the
            dataset; a dataset of which every row was rejected.
    """
    with ray_session(cfg.ray_address, stop=False), contextlib.closing(_blocks(_mapped(ds, probes, cfg, "check",
                                                                                    "check"))) as blocks:
        return _report(blocks, probes, cfg, "check")


def filter_ray_dataset(ds: Any, probes: ProbeSet, cfg: DecontamConfig, want_report: bool) -> tuple[Any, Report | None]:
    """A ``ray.data.Dataset`` without the rows that hold a probe (or were rejected).

    Without ``want_report`` the result is lazy: its blocks are scanned when it is read (a malformed row, with
    ``on_error="raise"``, then fails the read, named by its row within its block). With it, the dataset is
    scanned once, now: its blocks (rows marked kept or not) are materialized in Ray's object store, the report
    is assembled, and the result filters the materialized blocks lazily.

    Raises:
        InputError: As :func:`check_ray_dataset` (with ``want_report``; else only a missing column).
    """
    with ray_session(cfg.ray_address, stop=False):
        if not want_report:
            return _mapped(ds, probes, cfg, "filter", "filter"), None
        marked = _mapped(ds, probes, cfg, "filter", "mark").materialize()
        with contextlib.closing(_blocks(marked)) as blocks:
            report = _report(blocks, probes, cfg, "filter")
        filtered = marked.map_batches(_drop_marked, batch_format="pyarrow", batch_size=None)
        filtered.context.execution_options.preserve_order = True
        return filtered, report
