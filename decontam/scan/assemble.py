"""Scan results -> the report document: every item with its probes and matches, every removed document.

The sections are laid out by :mod:`decontam.report`, which computes every total; this module only turns the
engine's results (corpus-order :class:`~decontam.scan.step.SourceResult` s, the :class:`ProbeSet`) into entries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from ..config import DecontamConfig
from ..evidence import DocumentMap, WordMap
from ..inputs import SkippedFile
from ..neardup import near_dup_section
from ..redact import merge_ranges, redaction_section
from ..report import (
    ANSWER_EMPTY,
    ANSWER_MISSING,
    ANSWER_TOO_SHORT,
    Report,
    benchmark_section,
    corpus_section,
    item_entry,
    report_document,
    source_counts,
    training_section,
)
from ..runtime import gc_paused
from ..sample import ItemProbes
from .probes import ProbeSet
from .step import RowMatch, SourceResult

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
    per_item, per_answer, removed, answer_rows, redacted = _matches(probes, results, config)
    near_item, near_removed, near_per_source = _near_matches(probes, results, config)
    checked = {probes.owner[g] for g in probes.near.groups.tolist()} if probes.near is not None else set()
    exhaustive = config.every_window
    sections = []
    for bi, bench in enumerate(probes.benchmarks):
        items = [item_entry(item.item_id, len(item.offsets), [] if exhaustive else item.probes,
                            per_item.get((bi, ii), []), normalized_question=item.normalized if exhaustive else None,
                            empty=item.empty, too_short=item.too_short, question=bench.items[ii].question,
                            answer=None if probes.answers is None else _answer_part(
                                probes.answers[bi][ii], bench.items[ii].answer, per_answer.get((bi, ii), []),
                                exhaustive),
                            near_matches=near_item.get((bi, ii)),
                            near_dup_unchecked=probes.near is not None and (bi, ii) not in checked)
                 for ii, item in enumerate(probes.items[bi])]
        fields = {"name": bench.name, "source": bench.source, "question_field": bench.question_field,
                  "id_field": bench.id_field, "fingerprint": bench.fingerprint, "n_items": len(bench.items),
                  "n_empty": sum(1 for item in probes.items[bi] if item.empty)}
        if probes.answers is not None:
            fields.update(answer_field=bench.answer_field, answer_fingerprint=bench.answer_fingerprint)
        sections.append(benchmark_section(fields, items, probes.near is not None))
    n_docs = sum(r.n_documents for r in results)
    corpus = corpus_section(sources, n_docs, sum(r.n_characters for r in results),
                            [rj.to_dict() for r in results for rj in r.rejected],
                            [{"source": r.source, "text_sha256": r.text_digest.hexdigest(),
                              "lengths_sha256": r.length_digest.hexdigest()} for r in results],
                            [f.to_dict() for f in skipped],
                            [{"source": r.source, "fields": list(r.fields)} for r in results if r.fields])
    cfg = config.to_dict()
    cfg["action"] = action
    # Rows holding a question probe are the rule's (n_removed); with probe_answers, rows holding an answer probe
    # and no question probe are counted apart (filter removes them too). Under redaction, only the rows dropped
    # are removed; the rows written with cuts are counted in the redaction section.
    redact = config.redact is not None
    n_answer_only = sum(answer_rows) if probes.answers is not None else None
    dropped = [sum(1 for rm in r.rows if not rm.kept) for r in results]
    by_source = [source_counts(r.source, r.n_documents, len(r.rejected), d - a,
                               a if probes.answers is not None else None, len(r.rows) - d if redact else None, n_near)
                 for r, a, d, n_near in zip(results, answer_rows, dropped, near_per_source)]
    redaction = redaction_section(redacted, [b.name for b in probes.benchmarks]) if redact else None
    training = training_section(n_docs, sum(dropped) - sum(answer_rows), removed, by_source, n_answer_only,
                                redaction, near_removed)
    near = near_dup_section(probes.near) if probes.near is not None else None
    return Report(report_document(cfg, corpus, sections, training, near, config.engine))


def _near_matches(probes: ProbeSet, results: Sequence[SourceResult], config: DecontamConfig) -> tuple[
        dict[tuple[int, int], list[dict[str, Any]]], list[dict[str, Any]] | None, list[int | None]]:
    """The near-duplicate pass's results: per item, its near match entries in corpus order (documents where the
    exact rule did not find that item); the entries of the documents it removes that the exact rule does not;
    and, per source, the number of such documents (all None without the pass)."""
    if probes.near is None:
        return {}, None, [None] * len(results)
    per_item: dict[tuple[int, int], list[dict[str, Any]]] = {}
    removed: list[dict[str, Any]] = []
    per_source: list[int | None] = []
    threshold = config.near_dup_threshold
    offset = 0
    for res in results:
        exact = {(rm.row, gi) for rm in res.rows for gi, _, _ in rm.found}
        exact_rows = {rm.row for rm in res.rows}
        n_docs = 0
        for nr in res.near_rows:
            where: dict[str, Any] = {"row": offset + nr.row, **({"id_is_row": True} if nr.doc_id is None else {})}
            doc_id = nr.doc_id if nr.doc_id is not None else offset + nr.row
            kept = [f for f in nr.found if (nr.row, f[0]) not in exact]
            for gi, containment, estimate, evidence in kept:
                bi, ii = probes.owner[gi]
                evidence = dict(evidence)
                label = evidence.pop("field", None)
                entry = {"doc_id": doc_id, **where, "containment": round(containment, 4),
                         "estimated_containment": round(estimate, 4), "threshold": threshold,
                         **({"field": label} if label is not None else {}), "evidence": evidence}
                per_item.setdefault((bi, ii), []).append(entry)
                if nr.row not in exact_rows:
                    removed.append({"doc_id": doc_id, "benchmark": probes.benchmarks[bi].name,
                                    "item_id": probes.items[bi][ii].item_id, "containment": round(containment, 4),
                                    **where})
            n_docs += bool(kept) and nr.row not in exact_rows
        per_source.append(n_docs)
        offset += res.n_documents + len(res.rejected)
    return per_item, removed, per_source


def _answer_part(probes: ItemProbes | None, answer: str | None, matches: list[dict[str, Any]],
                 exhaustive: bool) -> dict[str, Any]:
    """What an item's entry says about its answer (see :func:`decontam.report.item_entry`)."""
    if probes is None or answer is None:
        return {"n_probes": 0, "probes": [], "not_probed": ANSWER_MISSING, "matches": []}
    reason = (ANSWER_EMPTY if probes.empty else ANSWER_TOO_SHORT if probes.too_short else None)
    return {"n_probes": len(probes.offsets), "probes": [] if exhaustive else list(probes.probes),
            "normalized": probes.normalized if exhaustive and reason is None else None, "not_probed": reason,
            "matches": matches, "text": answer}


_Entries = dict[tuple[int, int], list[dict[str, Any]]]


def _matches(probes: ProbeSet, results: Sequence[SourceResult], config: DecontamConfig,
             ) -> tuple[_Entries, _Entries, list[dict[str, Any]], list[int], list[dict[str, Any]]]:
    """Per item, its question's match entries and its answer's, in corpus order; the removed-document entries
    (answer matches marked ``"answer": true``; under redaction, of the documents dropped only); per source, the
    removed rows holding answer probes only; under redaction, the entry of every matched document."""
    per_item: _Entries = {}
    per_answer: _Entries = {}
    removed: list[dict[str, Any]] = []
    redacted: list[dict[str, Any]] = []
    text_maps: dict[tuple[int, int, bool], Callable[[int, int], tuple[int, int]]] = {}  # normalized->original
    offset = 0  # rows of the sources before this one
    answer_rows = []
    for res in results:
        n_answer_only = 0
        for rm in res.rows:
            # Where the document is (corpus-wide row), and whether its id is that row: what a merge of shard
            # reports needs to renumber.
            where: dict[str, Any] = {"row": offset + rm.row, **({"id_is_row": True} if rm.doc_id is None else {})}
            doc_id = rm.doc_id if rm.doc_id is not None else offset + rm.row
            if rm.redaction is not None:
                redacted.append(_redaction_entry(rm, doc_id, where, probes))
            n_answer_only += not rm.kept and all(probes.answer_of(gi) is not None for gi, _, _ in rm.found)
            for gi, windows, run in rm.found:
                of_answer = probes.answer_of(gi)
                bi, ii = of_answer if of_answer is not None else probes.owner[gi]
                item = probes.items[bi][ii] if of_answer is None else probes.answers[bi][ii]  # type: ignore[index]
                assert item is not None  # (an answer group's item has an answer)
                span = list(probes.question_span(item, run))
                extra: dict[str, Any] = dict(where)
                if gi in rm.evidence:
                    key = (bi, ii, of_answer is not None)
                    if key not in text_maps:
                        source = probes.benchmarks[bi].items[ii]
                        text_maps[key] = _text_map(source.question if of_answer is None else str(source.answer),
                                                   item.normalized, probes, config)
                    label = "answer_highlight" if of_answer is not None else "question_highlight"
                    extra["evidence"] = {**rm.evidence[gi], label: list(text_maps[key](*span))}
                if of_answer is not None:
                    extra["answer"] = True
                entries = _match_entries(item.probe, windows, doc_id, span, extra, config.every_window)
                if gi in rm.fields:
                    _name_fields(entries, windows, rm.fields[gi], run, item, probes)
                (per_item if of_answer is None else per_answer).setdefault((bi, ii), []).extend(entries)
                if not rm.kept:
                    removed.append({"doc_id": doc_id, "benchmark": probes.benchmarks[bi].name,
                                    "item_id": item.item_id, "probe": item.probe(windows[0]), **where,
                                    **({"answer": True} if of_answer is not None else {})})
        answer_rows.append(n_answer_only)
        offset += res.n_documents + len(res.rejected)
    return per_item, per_answer, removed, answer_rows, redacted


def _redaction_entry(rm: RowMatch, doc_id: Any, where: dict[str, Any], probes: ProbeSet) -> dict[str, Any]:
    """A document's entry in ``training.redaction.documents``: its fate, and the characters cut per benchmark
    (the union of the ranges cut for that benchmark's items, text by text)."""
    red = rm.redaction
    assert red is not None
    entry: dict[str, Any] = {"doc_id": doc_id, **where, "outcome": red.outcome}
    if red.reason is not None:
        entry["reason"] = red.reason
        if red.field is not None:
            entry["field"] = red.field
    entry.update({"n_characters": red.n_characters, "n_characters_removed": sum(t.n_removed for _, t in red.texts),
                  "n_pieces": max((t.n_pieces for _, t in red.texts), default=0)})
    per_bench: dict[int, int] = {}
    for _, t in red.texts:
        ranges: dict[int, list[tuple[int, int]]] = {}
        for gi, rs in t.by_group.items():
            ranges.setdefault((probes.answer_of(gi) or probes.owner[gi])[0], []).extend(rs)
        for bi, rs in ranges.items():
            per_bench[bi] = per_bench.get(bi, 0) + sum(b - a for a, b in merge_ranges(rs))
    entry["benchmarks"] = [{"name": probes.benchmarks[bi].name, "n_characters_removed": n}
                           for bi, n in sorted(per_bench.items())]
    if any(label is not None for label, _ in red.texts):
        entry["fields"] = [{"field": label, "n_characters": t.n_characters, "n_characters_removed": t.n_removed,
                            "n_pieces": t.n_pieces} for label, t in red.texts]
    return entry


def _text_map(text: str, normalized: str, probes: ProbeSet,
              config: DecontamConfig) -> Callable[[int, int], tuple[int, int]]:
    """Where a span of an item's normalized question (or answer) lies in the text as written."""
    if probes.words:
        return functools.partial(WordMap(text).span, normalized)
    return DocumentMap(text, config.normalize, normalized).span


def _name_fields(entries: list[dict[str, Any]], windows: Sequence[int],
                 where: dict[int, tuple[str, tuple[int, int]]], run: tuple[int, int], item: Any,
                 probes: ProbeSet) -> None:
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
        entry["span"] = list(probes.question_span(item, r))
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

