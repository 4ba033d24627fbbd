"""Scan results -> the report document: every item with its probes and matches, every removed document.

The sections are laid out by :mod:`decontam.report`, which computes every total; this module only turns the
engine's results (corpus-order :class:`~decontam.scan.step.SourceResult` s, the :class:`ProbeSet`) into entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import DecontamConfig
from ..evidence import DocumentMap
from ..inputs import SkippedFile
from ..report import (
    Report,
    benchmark_section,
    corpus_section,
    item_entry,
    report_document,
    source_counts,
    training_section,
)
from ..runtime import gc_paused
from ..utf8 import char_span
from .probes import ProbeSet
from .step import SourceResult

__all__ = ["build_report"]


@gc_paused()  # a dict or two per item, none in a cycle
def build_report(probes: ProbeSet, results: Sequence[SourceResult], config: DecontamConfig, action: str,
                 sources: Sequence[str], skipped: Sequence[SkippedFile] = ()) -> Report:
    """Assemble the report of a check from its scan results.

    Args:
        probes: The probes checked.
        results: One result per source, in corpus order.
        config: The options of the check (recorded in the report; its engine in ``run.engine``).
        action: ``check``, ``filter``, ``index-check`` or ``portrait-check``.
        sources: How the report names the sources (paths, or labels of in-memory corpora).
        skipped: Entries of corpus folders that were not read (``on_error="skip"``).
    """
    per_item, removed, n_removed = _matches(probes, results, config)
    exhaustive = config.sample.mode == "all"
    sections = []
    for bi, bench in enumerate(probes.benchmarks):
        items = [item_entry(item.item_id, len(item.offsets), [] if exhaustive else item.probes,
                            per_item.get((bi, ii), []), normalized_question=item.normalized if exhaustive else None,
                            empty=item.empty, too_short=item.too_short, question=bench.items[ii].question)
                 for ii, item in enumerate(probes.items[bi])]
        sections.append(benchmark_section({
            "name": bench.name, "source": bench.source, "question_field": bench.question_field,
            "id_field": bench.id_field, "fingerprint": bench.fingerprint, "n_items": len(bench.items),
            "n_empty": sum(1 for item in probes.items[bi] if item.empty),
        }, items))
    n_docs = sum(r.n_documents for r in results)
    corpus = corpus_section(sources, n_docs, sum(r.n_characters for r in results),
                            [rj.to_dict() for r in results for rj in r.rejected],
                            [{"source": r.source, "text_sha256": r.text_digest.hexdigest(),
                              "lengths_sha256": r.length_digest.hexdigest()} for r in results],
                            [f.to_dict() for f in skipped],
                            [{"source": r.source, "fields": list(r.fields)} for r in results if r.fields])
    cfg = config.to_dict()
    cfg["action"] = action
    by_source = [source_counts(r.source, r.n_documents, len(r.rejected), len(r.rows)) for r in results]
    return Report(report_document(cfg, corpus, sections, training_section(n_docs, n_removed, removed, by_source),
                                  config.engine))


def _matches(probes: ProbeSet, results: Sequence[SourceResult],
             config: DecontamConfig) -> tuple[dict[tuple[int, int], list[dict[str, Any]]], list[dict[str, Any]], int]:
    """Per item, its match entries in corpus order; the removed-document entries; the number of documents
    holding a probe."""
    per_item: dict[tuple[int, int], list[dict[str, Any]]] = {}
    removed: list[dict[str, Any]] = []
    question_maps: dict[tuple[int, int], DocumentMap] = {}  # item -> its question's normalized->original map
    offset = 0  # rows of the sources before this one
    n_removed = 0
    for res in results:
        for rm in res.rows:
            n_removed += 1
            # Where the document is (corpus-wide row), and whether its id is that row: what a merge of shard
            # reports needs to renumber.
            where: dict[str, Any] = {"row": offset + rm.row, **({"id_is_row": True} if rm.doc_id is None else {})}
            doc_id = rm.doc_id if rm.doc_id is not None else offset + rm.row
            for gi, windows, run in rm.found:
                bi, ii = probes.owner[gi]
                item = probes.items[bi][ii]
                span = list(char_span(item.normalized, *run))
                extra = dict(where)
                if gi in rm.evidence:
                    qmap = question_maps.get((bi, ii))
                    if qmap is None:
                        qmap = question_maps[(bi, ii)] = DocumentMap(
                            probes.benchmarks[bi].items[ii].question, config.normalize, item.normalized)
                    extra["evidence"] = {**rm.evidence[gi], "question_highlight": list(qmap.span(*span))}
                entries = _match_entries(item.probe, windows, doc_id, span, extra, config.sample.mode == "all")
                if gi in rm.fields:
                    _name_fields(entries, windows, rm.fields[gi], run, item)
                per_item.setdefault((bi, ii), []).extend(entries)
                removed.append({"doc_id": doc_id, "benchmark": probes.benchmarks[bi].name,
                                "item_id": item.item_id, "probe": item.probe(windows[0]), **where})
        offset += res.n_documents + len(res.rejected)
    return per_item, removed, n_removed


def _name_fields(entries: list[dict[str, Any]], windows: Sequence[int],
                 where: dict[int, tuple[str, tuple[int, int]]], run: tuple[int, int], item: Any) -> None:
    """Name the segment of each entry of a row of several segments (a field, a message): an entry's probe and
    span are in the segment it names; the evidence (one per item and row) is that of the longest run, on the
    entry of its segment. In ``all`` mode (one entry) the entry is that of the longest run."""
    if len(entries) == 1 and len(windows) > 1:  # all mode: the longest run's segment, and a probe found there
        label = next(lab for lab, r in where.values() if r == run)
        entries[0]["field"] = label
        entries[0]["probe"] = item.probe(next(w for w in windows if where[w] == (label, run)))
        return
    evidence = entries[0].pop("evidence", None)
    for entry, w in zip(entries, windows):
        label, r = where[w]
        entry["field"] = label
        entry["span"] = list(char_span(item.normalized, *r))
        if evidence is not None and r == run:
            entry["evidence"], evidence = evidence, None


def _match_entries(probe: Any, windows: Sequence[int], doc_id: Any, span: list[int], extra: dict[str, Any],
                   exhaustive: bool) -> list[dict[str, Any]]:
    """The match entries of one (item, document) pair: one per probe found, or one in ``all`` mode.

    The evidence (one excerpt per item and document) goes on the first entry only.
    """
    if exhaustive:
        return [{"probe": probe(windows[0]), "doc_id": doc_id, "n_probes_matched": len(windows), "span": span,
                 **extra}]
    shared = {k: v for k, v in extra.items() if k != "evidence"}
    return [{"probe": probe(w), "doc_id": doc_id, "span": span, **(extra if j == 0 else shared)}
            for j, w in enumerate(windows)]

