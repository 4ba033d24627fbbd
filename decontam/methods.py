"""The method of a report in words, from its ``config``: which rule (the GPT-4 rule, its probes and normalizer
options; or the 13-gram rule, ``--method ngram13``) decided the figures, as the Markdown summary, the card, the
HTML page and the figure state it. Pure functions of the recorded config, so a report read back says the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["NGRAM_RULE", "is_ngram", "method_text", "opening", "summary_method", "too_short_note"]

# The 13-gram rule in one phrase.
NGRAM_RULE = ("13-gram rule of GPT-3 as lm-evaluation-harness's janitor implements it: A-Z lowercased, ASCII "
              "punctuation deleted, split on whitespace; an item is contaminated when one of its word 13-grams is "
              "one of a training document's; an item of fewer than 13 words has none and cannot be checked "
              "(too short)")


def is_ngram(cfg: Mapping[str, Any]) -> bool:
    """True for a report of the 13-gram rule (``--method ngram13``); reports without ``method`` are the GPT-4
    rule's."""
    return cfg.get("method", "gpt4") == "ngram13"


def method_text(cfg: Mapping[str, Any]) -> str:
    """The probes and the normalizer of a report's config, in one phrase."""
    if is_ngram(cfg):
        return f"every word 13-gram of each question; the {NGRAM_RULE}"
    samp = cfg.get("sample", {})
    norm = cfg.get("normalize", {})
    probes = ("every window" if samp.get("mode") == "all"
              else f"{samp.get('n_probes')} seeded random (seed {samp.get('seed')})")
    departures = [k for k in ("lowercase", "nfkc", "unescape") if norm.get(k)]
    rule = ("normalizer: letters, marks and digits only, case kept (the GPT-4 rule, nothing added)"
            if not departures else f"normalizer: the GPT-4 rule plus {', '.join(departures)} (departures)")
    return f"{probes} {samp.get('length')}-character substrings of each normalized question; {rule}"


def summary_method(cfg: Mapping[str, Any]) -> str:
    """The Markdown summary's ``Method:`` line (:meth:`decontam.report.Report.to_markdown`)."""
    if is_ngram(cfg):
        return f"Method: {NGRAM_RULE}."
    samp = cfg.get("sample", {})
    options = [k for k, v in cfg.get("normalize", {}).items() if v] or ["none (GPT-4 rule)"]
    probes = "every window" if samp.get("mode") == "all" else f"{samp.get('n_probes')} seeded random"
    return (f"Method: {probes} {samp.get('length')}-character substrings of each normalized question "
            f"(seed {samp.get('seed')}); normalizer options: {', '.join(options)}.")


def opening(cfg: Mapping[str, Any], version: Any) -> str:
    """The card's first sentence: what a contaminated item is under the report's rule."""
    action = cfg.get("action", "check")
    if is_ngram(cfg):
        return (f"Checked with decontam {version} (`{action}`, `--method ngram13`): a benchmark item is contaminated "
                "when one of its word 13-grams occurs in a training document (the GPT-3 paper's rule as "
                "lm-evaluation-harness implements it, for comparison with figures published that way; not the GPT-4 "
                "rule).")
    return (f"Checked with decontam {version} (`{action}`): a benchmark item is contaminated when one of its probes "
            "is a substring of a normalized training document (the GPT-4 technical report's method).")


def too_short_note(cfg: Mapping[str, Any], n_too_short: int) -> str:
    """What a benchmark's too-short items are, for its sentence on the card ("" when there are none)."""
    if not n_too_short:
        return ""
    why = "fewer than 13 words" if is_ngram(cfg) else "normalized question under --min-question-chars"
    return f"; {n_too_short} items too short to check ({why}), counted neither clean nor contaminated"
