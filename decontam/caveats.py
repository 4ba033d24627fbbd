"""What a reader of a report's figures must know: the warnings computed from the document itself.

:func:`report_warnings` reads a report document (a scan's, an index's, a merge's) and says which of its figures
need a caveat: folders not fully read, many rejected rows, short probes that match many documents, answers
not probed, questions with no probe. It is computed from the document alone, so a merge of shard reports recomputes it; the report
model (:mod:`decontam.report`) calls it for every document it lays out.
"""

from __future__ import annotations

import json
from typing import Any

from .markup import rate_text
from .methods import is_ngram

__all__ = ["HANDFUL", "REJECTED_SHARE", "report_warnings"]

REJECTED_SHARE = 0.01  # a share of rejected input rows above this is a warning
HANDFUL = 5  # a short probe matching more documents than this (or than 1% of them) is a warning


def report_warnings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """What a reader of the figures must know, computed from the document itself (so a merge recomputes it):

    * ``skipped_files``: entries of the corpus folders were not read (``--on-error skip``);
    * ``rejected_rows``: more than 1% of the input rows were rejected (skipped), so not checked;
    * ``short_probes``: items whose question is shorter than the probe length (used whole, as the GPT-4 rule
      says) match more than a handful of documents (or 1% of them): such a figure may count coincidences,
      and the documents removed because of such probes alone are counted (answer matches aside);
    * ``empty_questions``: benchmarks with questions that normalize to nothing: they have no probe, can never be
      found and count as clean (a clean that was never looked for; many of them suggest the wrong field);
    * ``answers_not_probed``: with ``probe_answers``, benchmarks none of whose answers was probed (no answer
      field, or every answer shorter than the probe length), so that their empty ``answer_leak_ids`` is not
      read as "no answer leaked".
    """
    out: list[dict[str, Any]] = []
    corpus = doc["corpus"]
    if corpus.get("skipped_files"):
        files = corpus["skipped_files"]
        named = "; ".join(f"{f['path']} ({f['reason']})" for f in files[:5]) + \
            (f"; and {len(files) - 5} more" if len(files) > 5 else "")
        out.append({"kind": "skipped_files", "n_skipped_files": len(files),
                    "message": f"{len(files)} entr{'y' if len(files) == 1 else 'ies'} of the corpus folders "
                               f"were not read (listed under corpus.skipped_files): {named}"})
    n_rows = corpus["n_documents"] + corpus["n_rejected"]
    if n_rows and corpus["n_rejected"] / n_rows > REJECTED_SHARE:
        out.append({"kind": "rejected_rows", "n_rejected": corpus["n_rejected"], "n_rows": n_rows,
                    "message": f"{corpus['n_rejected']} of {n_rows} input rows "
                               f"({rate_text(corpus['n_rejected'] / n_rows, 1)}) were rejected and not checked "
                               "(listed under corpus.rejected)"})
    short = _short_probe_items(doc)
    if short:
        flagged = {(it["benchmark"], json.dumps(it["id"])) for it in short}
        items_of_row: dict[Any, set[tuple[str, str]]] = {}
        for r in doc["training"]["removed"]:
            if r.get("answer"):
                continue  # the question figures' warning, as without probe_answers
            items_of_row.setdefault(r.get("row", json.dumps(r["doc_id"])), set()).add(
                (r["benchmark"], json.dumps(r["item_id"])))
        alone = sum(1 for items in items_of_row.values() if items <= flagged)
        named = "; ".join(f"{it['benchmark']} {it['id']!r} (probe {it['probe']!r}: {it['n_documents']} documents)"
                          for it in short[:10]) + (f"; and {len(short) - 10} more" if len(short) > 10 else "")
        out.append({"kind": "short_probes", "items": short, "n_documents_removed_by_these_alone": alone,
                    "message": f"{len(short)} item(s) shorter than the probe length, used whole as the GPT-4 rule "
                               f"says, match many documents: {named}. {alone} document(s) were removed because "
                               "of such probes alone; --min-question-chars N leaves such items out "
                               "(docs/method.md)"})
    empty = [b for b in doc["benchmarks"] if b.get("n_empty")]
    if empty:
        named = "; ".join(f"{b['name']} ({b['n_empty']} of {b['n_items']})" for b in empty)
        out.append({"kind": "empty_questions", "benchmarks": [b["name"] for b in empty],
                    "message": f"questions that normalize to nothing (no letter or digit) have no probe and can "
                               f"never be found, so they count as clean: {named}; if that is many, check the "
                               "question field"})
    unprobed = [b for b in doc["benchmarks"] if "n_answers_probed" in b and b["n_answers_probed"] == 0]
    if unprobed:
        named = "; ".join(f"{b['name']} (answer field: {b.get('answer_field') or 'none'})" for b in unprobed)
        out.append({"kind": "answers_not_probed", "benchmarks": [b["name"] for b in unprobed],
                    "message": f"--probe-answers probed no answer of {len(unprobed)} benchmark(s): {named}: they "
                               "have no answer field (or were given as Benchmark objects loaded without answers: "
                               "load_benchmark(..., answers=True)), or every answer is shorter than the probe length; "
                               "no answer leak can be reported for them (--answer-field NAME=FIELD names a field)"})
    return out


def _short_probe_items(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The items used whole (shorter than the probe length) that match more than a handful of documents."""
    if is_ngram(doc.get("config", {})):  # the 13-gram rule uses no item whole
        return []
    length = doc.get("config", {}).get("sample", {}).get("length", 50)
    limit = min(HANDFUL, 0.01 * doc["corpus"]["n_documents"])
    out = []
    for b in doc["benchmarks"]:
        for it in b["items"]:
            probe = it["probes"][0] if it["probes"] else it.get("normalized_question", "")
            if it.get("n_documents", 0) > limit and len(probe) < length:
                out.append({"benchmark": b["name"], "id": it["id"], "probe": probe,
                            "n_documents": it["n_documents"]})
    return out
