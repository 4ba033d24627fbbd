"""Shared by the index tests: a report with what only an index (or only a check) reports taken out, so that
``index check`` and ``check`` reports can be compared whole; and by the answer-leak tests: a report of
``--probe-answers`` with the answers taken out, to compare with the same check without the option."""

from __future__ import annotations

import copy
from typing import Any


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of report ``data`` without the index section, the action, and per-item coverage."""
    d = copy.deepcopy(data)
    d.pop("index", None)
    d["config"].pop("action")
    for b in d["benchmarks"]:
        for it in b["items"]:
            it.pop("coverage", None)
    return d


ANSWER_SECTION_KEYS = ("answer_field", "answer_fingerprint", "n_answers_probed", "n_answer_leaks", "answer_leak_ids",
                       "n_answers_not_probed", "answers_not_probed_ids")
ANSWER_ITEM_KEYS = ("n_answer_probes", "answer_probes", "normalized_answer", "answer_not_probed", "answer_leak",
                    "answer", "answer_matches")


def question_only(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a ``--probe-answers`` report as the GPT-4 rule alone would have written it: the answer fields,
    the answer entries of ``training.removed`` and the ``answers_not_probed`` warning taken out, and the rows
    removed for an answer alone counted as kept (what ``n_kept`` is without the option)."""
    d = copy.deepcopy(data)
    d["config"].pop("probe_answers", None)
    for b in d["benchmarks"]:
        for key in ANSWER_SECTION_KEYS:
            b.pop(key, None)
        for it in b["items"]:
            for key in ANSWER_ITEM_KEYS:
                it.pop(key, None)
    t = d["training"]
    t["removed"] = [r for r in t["removed"] if not r.get("answer")]
    t["n_kept"] += t.pop("n_removed_answer_only", 0)
    for s in t.get("by_source", []):
        s["n_kept"] += s.pop("n_removed_answer_only", 0)
    d["warnings"] = [w for w in d["warnings"] if w["kind"] != "answers_not_probed"]
    return d
