"""Rendering a report for people: a Markdown contamination card, a self-contained HTML page, a PNG figure.

* :func:`to_card` — Markdown for a model card or a paper's appendix: per benchmark the items, contaminated
  items and rate; the method and options; corpus and benchmark fingerprints; the tool version; and the exact
  commands to reproduce and to verify the check. Optional re-scoring results (``decontam rescore --json``)
  add the clean-subset scores.
* :func:`to_html` — one HTML file that needs no network (inline CSS, inline SVG chart, inline script; a
  Content-Security-Policy forbids any fetch): a chart of contamination rates, the evidence of every
  contaminated item (the question, and the passage of the training document in its original form with the
  matched span highlighted and the document id), and a sortable, filterable table of all items.
* :func:`to_png` — a bar chart of contamination rates per benchmark for a paper (needs matplotlib; drawn by
  :mod:`decontam.render_figure`).

Everything is escaped: training documents are arbitrary text and are shown as text, never as markup.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from .html_assets import PAGE_CSS, PAGE_SCRIPT
from .markup import BIDI_CONTROLS, md_code, md_fence, md_text, percent
from .methods import is_ngram, method_text, opening, too_short_note
from .redact import redaction_method, redaction_summary, redaction_table
from .render_evidence import (
    MAX_EVIDENCE_ITEMS,
    anchor,
    answer_leaks_html,
    doc_key,
    evidence_card,
    near_dup_html,
    near_note,
    prose,
    user,
)
from .render_evidence import escape as _e
from .render_figure import bar_label, figure, portrait_index, rate, to_png
from .verify import check_command

__all__ = ["figure", "to_card", "to_html", "to_png"]

_MAX_IDS = 30  # contaminated ids listed per benchmark in the card


_SCORE_HEAD = ("benchmark", "metric", "all items", "clean subset", "contaminated subset", "contaminated − clean",
               "items without results", "results")


def _score_labels(scores: Sequence[Mapping[str, Any]]) -> list[str]:
    """Which results each re-scoring result is of (the results files ``rescore`` read), told apart by their place
    among the scores given where two name the same files."""
    base = [", ".join(map(str, s.get("results") or [])) or "results not named" for s in scores]
    seen = [(s["benchmark"], label) for s, label in zip(scores, base)]
    return [label + (f" (scores {k + 1})" if seen.count(seen[k]) > 1 else "") for k, label in enumerate(base)]


def _score_totals(s: Mapping[str, Any]) -> tuple[int, int | None]:
    """The items scored and the report's items (None where the result does not say)."""
    n, total = s["all"]["n"], s.get("n_report_items")
    missing = s.get("missing_from_results", {}).get("n")
    return n, total if total is not None else (n + missing if missing is not None else None)


def _coverage(s: Mapping[str, Any]) -> str:
    """On how many items the scores are: ``on all 20 items``, ``on the 15 of 20 items with results``."""
    n, total = _score_totals(s)
    if total is None:
        return f"on the {n} items with results"
    return f"on all {total} items" if n >= total else f"on the {n} of {total} items with results"


def _expanded(scores: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], str]]:
    """Every re-scoring result with the label of its results: a result of several lm-eval filters holds every
    filter's result in ``by_filter``, one row each."""
    return [(f, label) for s, label in zip(scores, _score_labels(scores)) for f in (s.get("by_filter") or [s])]


def _score_table(scores: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """The cells (plain text) of the scores table: one row per re-scoring result (per filter, for several)."""
    rows = []
    for s, label in _expanded(scores):
        def cell(g: Mapping[str, Any]) -> str:
            return "n/a (0 items)" if g["mean"] is None else f"{g['mean']:.4f} (n={g['n']})"

        diff = s.get("difference", {})
        dtxt = "n/a"
        if diff.get("estimate") is not None:
            lo, hi = diff.get("ci95", [None, None])
            dtxt = f"{diff['estimate']:+.4g}"
            if lo is not None:
                dtxt += f" [{lo:+.3g}, {hi:+.3g}]"
            if diff.get("p_value") is not None:
                dtxt += f", p={diff['p_value']:.3g}"
        metric = str(s.get("metric", "score")) + (f" ({s['filter']})" if s.get("filter") else "")
        possible = " (possible: an upper bound, unverified)" if s.get("upper_bound") else ""
        n, total = _score_totals(s)
        rows.append([str(s["benchmark"]), metric, cell(s["all"]), cell(s["clean"]),
                     cell(s["contaminated"]) + possible, dtxt, "n/a" if total is None else f"{total - n} of {total}",
                     label])
    return rows


def _score_rows(scores: Sequence[Mapping[str, Any]]) -> list[str]:
    """The scores table in Markdown."""
    lines = ["| " + " | ".join(_SCORE_HEAD) + " |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    return lines + ["| " + " | ".join(md_text(c) for c in row) + " |" for row in _score_table(scores)]


def _undecided_why(b: Mapping[str, Any]) -> str:
    """Why a portrait left a benchmark's items undecided (its ``undecided_reasons``), as text."""
    return "; ".join(f"{n}: {why}" if len(b["undecided_reasons"]) > 1 else why
                     for why, n in b["undecided_reasons"].items()) if b.get("undecided_reasons") else "none"


def _portrait_line(b: Mapping[str, Any]) -> str:
    """A benchmark's three groups of a portrait check, in one sentence."""
    tested = b.get("n_possible", b["n_contaminated"]) + b.get("n_absent", 0)
    return (f"{md_text(b['name'])}: at most {b['n_contaminated']} of the {tested} items the portrait could test "
            f"possibly in the training corpus ({rate(b)} of {b['n_items']} items; an upper "
            f"bound, unverified); {b.get('n_undecided', 0)} undecided ({md_text(_undecided_why(b))}: not counted, "
            f"either way); {b.get('n_absent', 0)} absent")


def _portrait_note(pt: Mapping[str, Any]) -> str:
    """What a portrait check's figures mean, as the report says it (``index.note``, plain text)."""
    return str(pt.get("note") or "A portrait check: its figures are unverified upper bounds, which the exact index "
               "confirms (decontam index check INDEX_DIR).")


def _card_summary(d: Mapping[str, Any], scores: Sequence[Mapping[str, Any]]) -> list[str]:
    """The card's opening: what was checked, the table of benchmarks, warnings, one sentence per benchmark
    and the scores on the clean subset."""
    cfg, tool, benches, pt = d.get("config", {}), d.get("tool", {}), d.get("benchmarks", []), portrait_index(d)
    out = [opening(cfg, tool.get("version"))]
    if pt:
        out[0] = (f"Checked with decontam {tool.get('version')} (`portrait-check`) against a portrait of the training "
                  f"corpus, not the corpus itself. {md_text(_portrait_note(pt))}")
        out += ["", "| benchmark | items | possible (upper bound, unverified) | undecided (not testable) | absent |",
                "| --- | ---: | ---: | ---: | ---: |"]
        out += [f"| {md_text(b['name'])} | {b['n_items']} | {b['n_contaminated']} ({rate(b)}) "
                f"| {b.get('n_undecided', 0)} | {b.get('n_absent', 0)} |" for b in benches]
    else:
        out += ["", "| benchmark | items | contaminated | rate |", "| --- | ---: | ---: | ---: |"]
        out += [f"| {md_text(b['name'])} | {b['n_items']} | {b['n_contaminated']} | {rate(b)} |"
                for b in benches]
        out += _card_answers(benches)
    warnings = d.get("warnings", [])
    if warnings:
        out += ["", "## Warnings", "", *(f"- **{md_text(w['kind'])}**: {md_text(w['message'])}" for w in warnings)]
    out += ["", "In one sentence (for the paper or the model card):", ""]
    labels = _score_labels(scores)
    for b in benches:
        line = f"- {_portrait_line(b)}" if pt else (f"- {md_text(b['name'])}: {rate(b)} of "
                                                    f"items ({b['n_contaminated']}/{b['n_items']}) found in the "
                                                    "training corpus")
        line += "" if pt else too_short_note(cfg, b.get("n_too_short", 0))
        mine = [(sc, label) for sc, label in zip(scores, labels) if sc["benchmark"] == b["name"]]
        line += "".join(_score_clause(sc, label if len(mine) > 1 else None) for sc, label in mine)
        out.append(line + ".")
    if scores:
        out += ["", "## Scores on the clean subset", ""] + _score_rows(scores)
        out += ["", "Difference: contaminated − clean, with its 95% confidence interval and a two-sided test "
                "(see `decontam rescore`)."]
        out += _card_leak_scores(scores)
    return out


def _score_clause(sc: Mapping[str, Any], label: str | None) -> str:
    """A re-scoring result in the card's sentence: its metric (and lm-eval filter, named: with several, the
    first's, as the table below gives them all), on how many items, on the clean subset; ``label`` names its
    results where the benchmark has several."""
    if sc["all"]["mean"] is None or sc["clean"]["mean"] is None:
        return ""
    metric = md_text(sc.get("metric", "score"))
    if sc.get("filter") is not None:
        n = len(sc.get("filters") or [sc["filter"]])
        metric += (f" (lm-eval filter {md_code(sc['filter'])}"
                   + (f", the first of {n}; each in the table below" if n > 1 else "") + ")")
    return (f"; {metric} {sc['all']['mean']:.4f} {_coverage(sc)}, {sc['clean']['mean']:.4f} on the clean subset "
            f"(n={sc['clean']['n']})" + (f" (results {md_code(label)})" if label else ""))


def _card_answers(benches: Sequence[Mapping[str, Any]]) -> list[str]:
    """The answer-leak table (``--probe-answers``): answers probed, found (with and without the question) and not
    probed per benchmark; nothing for a report made without the option."""
    rows = []
    for b in benches:
        if "answer_leak_ids" in b:
            contaminated = {json.dumps(i) for i in b["contaminated_ids"]}
            both = sum(1 for i in b["answer_leak_ids"] if json.dumps(i) in contaminated)
            rows.append(f"| {md_text(b['name'])} | {md_code(b.get('answer_field') or 'none', True)} | "
                        f"{b['n_answers_probed']} | {b['n_answer_leaks']} | {both} | {b['n_answer_leaks'] - both} | "
                        f"{b['n_answers_not_probed']} |")
    if not rows:
        return []
    return ["", "**Answer leaks** (`--probe-answers`: probes drawn from each item's answer too, reported apart; the "
            "table above is the question's, the GPT-4 rule, unchanged; answers shorter than the probe length are "
            "not probed):", "", "| benchmark | answer field | answers probed | answer found | with the question | "
            "answer only | not probed |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |", *rows]


_LEAK_HEAD = ("benchmark", "metric", "clean", "question contaminated", "question and answer contaminated",
              "answer only", "results")
_LEAK_NOTE = ("Scores split as OpenCompass's contamination analysis splits them (--probe-answers; an answer not "
              "probed counts as not found)")


def _leak_table(scores: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """The cells (plain text) of the scores split by leak (``rescore`` of a ``--probe-answers`` report), one row
    per result (per filter, for several); none without a split."""
    rows = []
    for r, label in ((f, label) for f, label in _expanded(scores) if f.get("leak_split")):
        metric = str(r.get("metric", "score")) + (f" ({r['filter']})" if r.get("filter") else "")
        split = r["leak_split"]
        rows.append([str(r["benchmark"]), metric] + [
            "n/a (0 items)" if split[k]["mean"] is None else f"{split[k]['mean']:.4f} (n={split[k]['n']})"
            for k in ("clean", "question_contaminated", "question_and_answer_contaminated", "answer_only")] + [label])
    return rows


def _card_leak_scores(scores: Sequence[Mapping[str, Any]]) -> list[str]:
    """The scores split by leak, in Markdown (nothing without a split)."""
    rows = _leak_table(scores)
    if not rows:
        return []
    return ["", md_text(_LEAK_NOTE) + ":", "", "| " + " | ".join(_LEAK_HEAD) + " |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |", *("| " + " | ".join(md_text(c) for c in row) + " |"
                                                             for row in rows)]


def _fields(value: Any) -> str:
    """`` `text` `` or ``s `prompt`, `response` `` (several fields, each matched on its own)."""
    if isinstance(value, list):
        return "s " + ", ".join(md_code(v) for v in value) + " (each matched on its own)"
    return " " + md_code(value)


def _card_details(d: Mapping[str, Any]) -> list[str]:
    """The card's method, corpus and benchmarks sections."""
    cfg, corpus, benches = d.get("config", {}), d.get("corpus", {}), d.get("benchmarks", [])
    out = ["## Method", "", f"- Probes: {method_text(cfg)}.",
           f"- Corpus field{_fields(cfg.get('text_field'))}; document ids from {md_code(cfg.get('id_field'))} "
           "(row numbers where absent)."]
    if cfg.get("sample", {}).get("mode") != "all" and not is_ngram(cfg):
        out.append("- Short questions (under the probe length once normalized) are used whole; items whose "
                   "question normalizes to nothing cannot match (listed as empty).")
    if cfg.get("probe_answers"):
        out.append("- Answers (`--probe-answers`, a departure reported apart): probes drawn the same way from each "
                   "item's answer or solution, except that an answer shorter than the probe length is not probed; "
                   "documents holding one are removed by `filter` too, counted apart "
                   f"({d.get('training', {}).get('n_removed_answer_only', 0)} holding an answer probe only).")
    out += ["", "## Corpus", "",
            f"- {corpus.get('n_documents')} documents, {corpus.get('n_characters')} characters, "
            f"{len(corpus.get('sources', []))} source(s).",
            f"- Fingerprint: {md_code(corpus.get('fingerprint'))}."]
    if corpus.get("n_rejected"):
        out.append(f"- Rejected input rows (skipped, listed in the report): {corpus['n_rejected']}.")
    srcs = corpus.get("sources", [])
    shown = ", ".join(md_code(s) for s in srcs[:10]) + (f" and {len(srcs) - 10} more" if len(srcs) > 10 else "")
    out.append(f"- Sources: {shown}.")
    per = d.get("training", {}).get("by_source", [])
    if len(per) > 1:
        answers = "n_removed_answer_only" in per[0]  # --probe-answers: the answer-only rows, apart
        out += ["", "| source | rows checked | removed | " + ("removed (answer only) | " if answers else "")
                + "kept | rejected |", "| --- | ---: | ---: | ---: | ---: |" + (" ---: |" if answers else "")]
        out += [f"| {md_code(s['source'], True)} | {s['n_documents']} | {s['n_removed']} | "
                + (f"{s['n_removed_answer_only']} | " if answers else "") + f"{s['n_kept']} | {s['n_rejected']} |"
                for s in per[:20]]
        if len(per) > 20:
            out.append(f"\n{len(per) - 20} more sources in the JSON report.")
    training = d.get("training", {})
    if "redaction" in training and "redact" in cfg:
        head, rows = redaction_table(training)
        out += ["", "## Redaction", "", md_text(redaction_method(cfg["redact"])), "",
                md_text(redaction_summary(training)),
                "", "| " + " | ".join(head) + " |", "| --- | ---: | ---: | ---: |",
                *("| " + " | ".join(md_text(c) for c in row) + " |" for row in rows)]
    out += ["", "## Benchmarks", "", "| benchmark | source | question field | id field | fingerprint |",
            "| --- | --- | --- | --- | --- |"]
    for b in benches:
        out.append(f"| {md_text(b['name'])} | {md_code(b.get('source'), True)} | "
                   f"{md_code(b.get('question_field'), True)} | {md_code(b.get('id_field') or '(row number)', True)} "
                   f"| {md_code(b.get('fingerprint'), True)} |")
    return out


def _card_ids(d: Mapping[str, Any], report_path: str) -> list[str]:
    """The ids of the contaminated items (a portrait's: possible, then undecided), at most ``_MAX_IDS`` each."""
    out: list[str] = []
    pt = portrait_index(d)
    lists = [("possible_ids", "Possible items (Bloom filter positives: unverified upper bound)"),
             ("undecided_ids", "Undecided items (the portrait cannot test them)")] if pt else \
        [("contaminated_ids", "Contaminated items"), ("answer_leak_ids", "Items whose answer is in the corpus "
                                                                          "(--probe-answers)")]
    for key, heading in lists:
        listed = [b for b in d.get("benchmarks", []) if b.get(key)]
        if listed:
            out += ["", f"## {heading}", ""]
        for b in listed:
            ids = b[key]
            text = ", ".join(md_code(i) for i in ids[:_MAX_IDS])
            if len(ids) > _MAX_IDS:
                text += f" and {len(ids) - _MAX_IDS} more (all in {md_code(report_path)})"
            out.append(f"- {md_text(b['name'])} ({len(ids)}): {text}")
    return out


def _arg(path: str) -> str:
    """A path as a command's argument: one starting with ``-`` (which the command line would read as an
    option) as ``./-x.jsonl``."""
    return f"./{path}" if path.startswith("-") else path


_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def _shown(commands: str) -> str:
    """Commands as printed: each bidi control (which would reorder the line as shown) written as bash's
    ``$'\\u202e'``. Every such character stands in a word :func:`shlex.quote` put in single quotes, so the quote
    is closed, the character given, the quote reopened: the command shows it and still runs as it is."""
    return _BIDI.sub(lambda m: f"'$'\\u{ord(m.group()):04x}''", commands)


def _commands(d: Mapping[str, Any], report_path: str, verify: bool) -> str:
    """The commands that reproduce the check, as printed (see :func:`_shown`; paths starting with ``-`` as
    ``./-x``): ``check`` and, with ``verify``, ``verify``; for a portrait, its check and the one that confirms
    it on the exact index."""
    corpus = dict(d.get("corpus", {}))
    srcs = [_arg(s) for s in corpus.get("sources", [])]
    d, report_path = {**d, "corpus": {**corpus, "sources": srcs}}, _arg(report_path)
    if portrait_index(d):
        return _shown(_portrait_commands(d, report_path))
    lines = [check_command(d, report_path)]
    if verify:
        lines.append(f"decontam verify {shlex.quote(report_path)} "
                     + (" ".join(map(shlex.quote, srcs)) if len(srcs) <= 10 else "CORPUS...")
                     + "   # re-runs the check, compares byte for byte")
    return _shown("\n".join(lines))


def _index_command(d: Mapping[str, Any], target: str, report_path: str) -> str:
    """The ``decontam index check TARGET`` command with the report's benchmarks and probe options (an index
    or a portrait records its corpus fields itself)."""
    cfg = {k: v for k, v in d.get("config", {}).items() if k not in ("text_field", "id_field", "on_error")}
    line = check_command({**d, "config": cfg, "corpus": {"sources": [target]}}, report_path)
    return "decontam index " + line.removeprefix("decontam ")


def _portrait_commands(d: Mapping[str, Any], report_path: str) -> str:
    """The command of a portrait check, and the one that confirms it on the exact index."""
    return "\n".join([_index_command(d, "PORTRAIT.dcp", report_path),
                      _index_command(d, "INDEX_DIR", "confirmed.json")
                      + "   # whoever holds the index: confirms the possible items, decides the undecided ones"])


def _card_reproduce(d: Mapping[str, Any], report_path: str) -> list[str]:
    """The commands that reproduce the check (and verify it, or for a portrait, confirm it on the index)."""
    return ["## Reproduce", "", *md_fence(_commands(d, report_path, verify=True), "bash")]


def to_card(report: Mapping[str, Any], report_path: str = "report.json",
            scores: Sequence[Mapping[str, Any]] = ()) -> str:
    """The Markdown contamination card of a report.

    A portrait check's card shows its three groups (possible: an unverified upper bound; undecided; absent)
    instead of contaminated items, and the command that confirms them on the exact index.

    Args:
        report: The report document.
        report_path: The report's file name, used in the reproduce/verify commands.
        scores: Re-scoring results (``decontam rescore --json`` documents) to include.
    """
    tool = report.get("tool", {})
    return "\n".join(["# Contamination card", "", *_card_summary(report, scores), "", *_card_details(report),
                      *_card_ids(report, report_path), *_card_near(report, report_path), "",
                      *_card_reproduce(report, report_path), "",
                      f"Tool: decontam {md_text(tool.get('version'))}, report schema {report.get('schema_version')}"
                      + (f", {md_text(_engine(report))} engine" if _engine(report) else "") + ".",
                      ""])


def _engine(report: Mapping[str, Any]) -> str:
    """Where the scan ran (``run.engine``: ``local``, ``ray``), or "" for a report without it."""
    return str(report.get("run", {}).get("engine") or "")


# ------------------------------------------------------------------------------------------------- HTML


def _chart_svg(benches: Sequence[Mapping[str, Any]], portrait: bool = False) -> str:
    """A horizontal bar chart of contamination rates (inline SVG: renders with no script and no network); for a
    portrait check, of its possible items, labelled as unverified upper bounds, with the undecided counts."""
    width, left, right, bar_h, gap, top = 760, 150, 130, 22, 10, 28
    n = max(1, len(benches))
    height = top + n * (bar_h + gap) + 24
    peak = max([b["contamination_rate"] for b in benches] + [0.0])
    nice = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0]
    scale = next((x for x in nice if x >= peak), 1.0)
    plot_w = width - left - right
    parts = [f'<svg id="rate-chart" role="img" aria-label="Contamination rate per benchmark" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for k in range(5):
        frac = k / 4
        x = left + frac * plot_w
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 20}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" fill="#5b6478">'
                     f'{100 * scale * frac:.3g}%</text>')
    caption = ("possible items (upper bound, unverified; undecided items not counted), % of the benchmark"
               if portrait else "contaminated items, % of the benchmark")
    parts.append(f'<text x="{left}" y="14" font-size="12" fill="#5b6478">{caption}</text>')
    for i, b in enumerate(benches):
        y = top + i * (bar_h + gap)
        w = plot_w * (b["contamination_rate"] / scale if scale else 0.0)
        parts.append(f'<text x="{left - 8}" y="{y + bar_h * 0.7:.1f}" font-size="13" text-anchor="end">'
                     f'{_e(b["name"])}</text>')
        parts.append(f'<rect class="bar" data-benchmark="{_e(b["name"])}" x="{left}" y="{y}" '
                     f'width="{max(w, 1.0):.1f}" height="{bar_h}" fill="#c2410c" rx="2"/>')
        parts.append(f'<text x="{left + max(w, 1.0) + 6:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="12">'
                     f'{_e(bar_label(b, portrait))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _evidence_html(b: Mapping[str, Any], portrait: bool = False) -> tuple[str, set[str]]:
    """The evidence of a benchmark's contaminated items (a portrait's possible items: their positive probes)."""
    items = [it for it in b.get("items", []) if it.get("contaminated")]
    what = "possible item" if portrait else "contaminated item"
    if not items:
        return f'<p class="muted">{user(b["name"])}: no {what}.</p>', set()
    out = [f'<h3>{user(b["name"])}: {len(items)} {what}(s)'
           + (" (unverified: an upper bound)" if portrait else "") + "</h3>"]
    shown = items[:MAX_EVIDENCE_ITEMS]
    out += [_possible_html(b["name"], it) if portrait else evidence_card(b["name"], it) for it in shown]
    if len(items) > MAX_EVIDENCE_ITEMS:
        out.append(f'<p class="muted">and {len(items) - MAX_EVIDENCE_ITEMS} more {what}s '
                   '(all in the JSON report and the table below)</p>')
    return "".join(out), {anchor(b["name"], it["id"]) for it in shown}


def _card_near(d: Mapping[str, Any], report_path: str) -> list[str]:
    """The card's near-duplicate section (nothing without the pass)."""
    near = d.get("near_dup")
    if not near:
        return []
    out = ["", "## Near duplicates (beyond the GPT-4 rule: an estimated search)", "", md_text(near_note(near)), "",
           "| benchmark | near duplicates | rate | not checked (too few distinctive shingles) |",
           "| --- | ---: | ---: | ---: |"]
    benches = d.get("benchmarks", [])
    out += [f"| {md_text(b['name'])} | {b.get('n_near_duplicates', 0)} | "
            f"{percent(b.get('n_near_duplicates', 0), b['n_items'])} "
            f"| {b.get('n_near_dup_unchecked', 0)} |" for b in benches]
    training = d.get("training", {})
    if "n_removed_near_dup" in training:
        out += ["", f"Training documents holding a near duplicate and no probe: {training['n_removed_near_dup']} "
                    f"(a filter with --near-dup removes them too)."]
    listed = [b for b in benches if b.get("near_duplicate_ids")]
    if listed:
        out.append("")
    for b in listed:
        ids = b["near_duplicate_ids"]
        text = ", ".join(md_code(i) for i in ids[:_MAX_IDS])
        if len(ids) > _MAX_IDS:
            text += f" and {len(ids) - _MAX_IDS} more (all in {md_code(report_path)})"
        out.append(f"- {md_text(b['name'])} ({len(ids)}): {text}")
    return out


def _possible_html(bench: str, it: Mapping[str, Any]) -> str:
    """A portrait's possible item: its probes that passed the Bloom filter (a portrait names no document)."""
    probes = sorted({m["probe"] for m in it.get("matches", [])})
    return (f'<div class="card evidence" id="{anchor(bench, it["id"])}"><div><b>item {user(it["id"])}</b> '
            '<span class="muted">possible (unverified): probe(s) that passed the portrait\'s Bloom filter: </span>'
            f'<code>{user(", ".join(probes))}</code></div><div class="muted">A portrait holds no text and names no '
            "document: the exact index confirms or rejects this item.</div></div>")


def _json_script(obj: Any) -> str:
    """JSON safe to embed in a <script> element (no '</script>', no '<!--', no raw bidi control)."""
    text = (json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def to_html(report: Mapping[str, Any], report_path: str = "report.json", title: str | None = None,
            scores: Sequence[Mapping[str, Any]] = ()) -> str:
    """The report as one self-contained HTML page (works offline; nothing is fetched)."""
    d = report
    cfg = d.get("config", {})
    corpus = d.get("corpus", {})
    tool = d.get("tool", {})
    benches = d.get("benchmarks", [])
    title = title or "Contamination report"
    evidence_parts = []
    anchors: set[str] = set()
    pt = portrait_index(d)
    for b in benches:
        part, got = _evidence_html(b, pt is not None)
        evidence_parts.append(part)
        anchors |= got
    options = "".join(f'<option value="{_e(b["name"])}">{_e(b["name"])}</option>' for b in benches)
    csp = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{_e(title)}</title><style>{PAGE_CSS}</style></head>
<body>
<h1>{user(title)}</h1>
<div class="muted">decontam {_e(tool.get("version"))} · {_e(cfg.get("action", "check"))} ·
{prose(method_text(cfg))}{f" · {_e(_engine(d))} engine" if _engine(d) else ""}</div>
<div class="muted">corpus: {corpus.get("n_documents")} documents, {corpus.get("n_characters")} characters ·
fingerprint <span class="mono">{_e(corpus.get("fingerprint"))}</span></div>
{_portrait_html(pt)}{_warnings_html(d.get("warnings", []))}
<h2>Contamination rate per benchmark{" (upper bounds, unverified)" if pt else ""}</h2>
{_chart_svg(benches, pt is not None)}
{_summary_html(benches, pt is not None)}
{answer_leaks_html(benches)}
{_redaction_html(d)}{_scores_html(scores)}
<h2 id="evidence">Evidence</h2>
<p class="muted">{_e(_EVIDENCE_NOTE[pt is not None])}</p>
{"".join(evidence_parts)}
{near_dup_html(d)}
<h2>All items</h2>
<div class="controls"><input type="search" id="filter-text" placeholder="filter: id, probe or question text">
<select id="filter-bench"><option value="">all benchmarks</option>{options}</select>
<label><input type="checkbox" id="filter-contaminated"> {"possible" if pt else "contaminated"} only</label>
<span id="items-status" class="muted"></span></div>
<table id="items"><thead><tr><th data-key="benchmark">benchmark</th><th data-key="id">item</th>
<th data-key="contaminated">status</th><th data-key="documents" class="n">documents</th>
<th data-key="probe">first probe</th></tr></thead><tbody></tbody></table>
<noscript><p>The item table needs JavaScript; every item is in the JSON report.</p></noscript>
<h2>Reproduce</h2>
<pre>{_e(_commands(d, report_path, verify=False))}</pre>
<script type="application/json" id="items-data">{_json_script(_item_rows(benches, anchors, pt is not None))}</script>
<script>{PAGE_SCRIPT}</script>
</body></html>
"""
    return page


_EVIDENCE_NOTE = {
    False: "For each contaminated item: the question, and the passage of the training document where a probe was "
           "found, in its original form, with the matched span highlighted.",
    True: "For each possible item: the probes that passed the portrait's Bloom filter. Unverified: a portrait has "
          "no text to show and may answer falsely positive; the exact index confirms.",
}


def _portrait_html(pt: Mapping[str, Any] | None) -> str:
    """For a portrait check, the box that says what its figures are (unverified upper bounds), else nothing."""
    if pt is None:
        return ""
    return (f'<div class="card warn" id="portrait-note"><h2>Portrait check: unverified upper bounds</h2>'
            f"<p>{prose(_portrait_note(pt))}</p></div>")


def _warnings_html(warnings: Sequence[Mapping[str, Any]]) -> str:
    """The report's warnings, in a box above the figures they qualify."""
    if not warnings:
        return ""
    items = "".join(f"<li><strong>{prose(w['kind'])}</strong>: {prose(w['message'])}</li>" for w in warnings)
    return f'<div class="card warn" id="warnings"><h2>Warnings</h2><ul>{items}</ul></div>'


def _status(it: Mapping[str, Any], portrait: bool) -> str:
    """An item's status in the page's table (a portrait's: possible, undecided or absent)."""
    if it.get("too_short"):
        return "left out (too short)"
    if portrait:
        return "possible" if it.get("contaminated") else "undecided" if it.get("undecided") else "absent"
    if it.get("contaminated"):
        return "contaminated"
    return "empty" if it.get("empty") else "clean (near duplicate)" if it.get("near_matches") else "clean"


def _item_rows(benches: Sequence[Mapping[str, Any]], anchors: set[str], portrait: bool = False) -> list[dict[str, Any]]:
    """The rows of the page's item table (its script renders them): one per item of every benchmark."""
    rows = []
    for b in benches:
        for it in b.get("items", []):
            docs = {doc_key(m) for m in it.get("matches", []) if not m.get("unverified")}
            probe = it["probes"][0] if it.get("probes") else (it.get("normalized_question", "")[:60])
            item_anchor = anchor(b["name"], it["id"])
            rows.append({
                "benchmark": b["name"], "id": str(it["id"]), "contaminated": bool(it.get("contaminated")),
                "empty": bool(it.get("empty")), "status": _status(it, portrait),
                "documents": len(docs) if portrait else it.get("n_documents", len(docs)),
                "probe": probe,
                "anchor": item_anchor if item_anchor in anchors else "",
                "text": (f"{it['id']} {probe} {it.get('question', '')}").lower(),
            })
    return rows


def _summary_html(benches: Sequence[Mapping[str, Any]], portrait: bool = False) -> str:
    """The table of benchmarks: items, contaminated items, rate, fingerprint (a portrait's: possible items, an
    upper bound, then undecided and absent items)."""
    heads = ["possible (upper bound, unverified)", "rate (possible)", "undecided (not testable)", "absent"] \
        if portrait else ["contaminated", "rate"]
    summary = ['<table class="summary"><thead><tr><th>benchmark</th><th class="n">items</th>'
               + "".join(f'<th class="n">{h}</th>' for h in heads) + "<th>fingerprint</th></tr></thead><tbody>"]
    for b in benches:
        cells = [b["n_contaminated"], _e(rate(b))]
        if portrait:
            cells += [b.get("n_undecided", 0), b.get("n_absent", 0)]
        summary.append(f'<tr><td>{user(b["name"])}</td><td class="n">{b["n_items"]}</td>'
                       + "".join(f'<td class="n">{c}</td>' for c in cells)
                       + f'<td class="mono">{_e(b.get("fingerprint"))}</td></tr>')
    summary.append("</tbody></table>")
    return "".join(summary)


def _redaction_html(d: Mapping[str, Any]) -> str:
    """Under redaction, what was cut and dropped (per benchmark), else nothing."""
    training, cfg = dict(d.get("training", {})), d.get("config", {})
    if "redaction" not in training or "redact" not in cfg:
        return ""
    head, rows = redaction_table(training)
    return (f'<h2 id="redaction">Redaction</h2><p>{_e(redaction_method(cfg["redact"]))}</p>'
            f"<p>{_e(redaction_summary(training))}</p><table><thead><tr>"
            + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f'<td{"" if i == 0 else " class=n"}>{user(c)}</td>' for i, c in enumerate(row))
                      + "</tr>" for row in rows) + "</tbody></table>")


def _scores_html(scores: Sequence[Mapping[str, Any]]) -> str:
    """The clean-subset scores (``decontam rescore --json``) as a table, or nothing."""
    if not scores:
        return ""
    leak = _leak_table(scores)
    split = "" if not leak else (
        f'<h3>{_e(_LEAK_NOTE)}</h3><table class="leak-split"><thead><tr>'
        + "".join(f"<th>{_e(h)}</th>" for h in _LEAK_HEAD) + "</tr></thead><tbody>"
        + "".join("<tr>" + "".join(f"<td>{user(c)}</td>" for c in row) + "</tr>" for row in leak) + "</tbody></table>")
    return ("<h2>Scores on the clean subset</h2><table><thead><tr>"
            + "".join(f"<th>{_e(h)}</th>" for h in _SCORE_HEAD) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{user(c)}</td>" for c in row) + "</tr>" for row in _score_table(scores))
            + "</tbody></table>" + split)
