"""Re-scoring on the clean subset: a benchmark score on all items, the clean items and the contaminated items.

Input: per-item outcomes of an evaluation run (:mod:`decontam.results` reads them: lm-evaluation-harness
``--log_samples`` files, lighteval details, EvalPlus ``eval_results.json``, HumanEval results, any table with an
id and a score), joined to a report by item id. Items in the results but not in the report, and the reverse,
are counted and listed in the output, never dropped silently.

Several lm-eval filters (``strict-match``, ``flexible-extract``) give one result per filter
(:func:`rescore_by_filter`): the document is then the first filter's result (so a reader of one result reads
that one, named by ``filter``), with ``filters`` (their names, in the task's order) and ``by_filter`` (every
filter's full result, in that order) added; :func:`to_table` prints one row per filter.

A report made with ``--probe-answers`` also gives ``leak_split``: the score split three ways, as OpenCompass's
contamination analysis splits it (clean, question contaminated, question-and-answer contaminated), plus the
items whose answer was found but not their question (``answer_only``, kept apart rather than hidden in one of
the three). ``clean``/``contaminated`` above stay the GPT-4 rule's (question only).

Statistics (two-sided, 95%):

* **binary outcomes** (one 0/1 score per item): per subset the mean with a Wilson score interval; for
  *contaminated − clean* a Newcombe hybrid score interval and Fisher's exact test;
* **other scores** (e.g. several samples per item averaged, or a metric in [0, 1]): per subset the mean with a
  bootstrap percentile interval; for *contaminated − clean* a bootstrap percentile interval (each subset
  resampled on its own) and a permutation test. A percentile interval lies within the range of the resampled
  means, so it never leaves the metric's range (a normal interval could go below 0).

The result names the interval of each figure (``intervals``), and the table says it. Reproducibility: the
bootstrap and the permutation test draw from ``numpy.random.default_rng(seed)`` (``--seed``), so a seed gives
the same figures on every run; another seed may move the bootstrap limits slightly (the Monte Carlo error of
10,000 resamples) and the permutation p-value likewise.

Example:
    >>> s = subset_stats([1, 1, 0, 1])
    >>> s["n"], s["mean"], [round(x, 4) for x in s["ci95"]]
    (4, 0.75, [0.3006, 0.9544])
    >>> lo, hi = subset_stats([0.2, 0.4, 0.9, 1.0], seed=1)["ci95"]
    >>> 0.2 <= lo < 0.625 < hi <= 1.0
    True
    >>> round(fisher_exact(3, 1, 1, 3), 4)
    0.4857
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError
from .results import ItemResults, item_key, load_results
from .schema_check import shipped_schema

# ItemResults and load_results live in decontam.results; they stay importable from here.
__all__ = ["BOOTSTRAP_RESAMPLES", "LEAK_GROUPS", "PERMUTATIONS", "ItemResults", "fisher_exact", "interval_methods",
           "load_results", "rescore", "rescore_by_filter", "rescore_schema", "subset_stats", "to_table"]

Z95 = 1.959963984540054
PERMUTATIONS = 10_000
BOOTSTRAP_RESAMPLES = 10_000


# --------------------------------------------------------------------------------------------- statistics


def _wilson(k: float, n: int) -> list[float]:
    p = k / n
    denom = 1 + Z95**2 / n
    center = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return [max(0.0, center - half), min(1.0, center + half)]


def _is_binary(values: Iterable[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def subset_stats(values: Sequence[float], binary: bool | None = None, seed: int = 0) -> dict[str, Any]:
    """``{"n", "mean", "ci95"}`` of per-item scores; ``ci95`` is ``None`` without items (or with one, not binary).

    Args:
        values: One score per item.
        binary: Whether the scores are 0/1 outcomes (default: whether every value is 0 or 1).
        seed: Seed of the bootstrap (scores that are not binary).

    Returns:
        The count, the mean and the 95% interval: Wilson score interval if binary, else the bootstrap percentile
        interval of the mean (:data:`BOOTSTRAP_RESAMPLES` resamples, within ``[min(values), max(values)]``).
    """
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "ci95": None}
    arr = np.asarray(values, dtype=float)
    mean = float(arr.mean())
    binary = _is_binary(values) if binary is None else binary
    if binary:
        ci: list[float] | None = _wilson(float(arr.sum()), n)
    elif n > 1:
        lo, hi = np.percentile(_bootstrap_means(arr, np.random.default_rng(seed)), [2.5, 97.5])
        ci = [float(np.clip(lo, arr.min(), arr.max())), float(np.clip(hi, arr.min(), arr.max()))]
    else:
        ci = None
    return {"n": n, "mean": mean, "ci95": ci}


def interval_methods(binary: bool, seed: int) -> dict[str, Any]:
    """Which interval each figure of a :func:`rescore` result uses (``intervals`` in the result).

    Example:
        >>> interval_methods(True, 0)["clean"], interval_methods(False, 0)["difference"]
        ('wilson', 'bootstrap_percentile')
    """
    subset = "wilson" if binary else "bootstrap_percentile"
    return {"all": subset, "clean": subset, "contaminated": subset,
            "difference": "newcombe" if binary else "bootstrap_percentile", "level": 0.95,
            "bootstrap": None if binary else {"resamples": BOOTSTRAP_RESAMPLES, "seed": seed}}


def _bootstrap_means(arr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The means of :data:`BOOTSTRAP_RESAMPLES` resamples (with replacement) of ``arr``, drawn in blocks."""
    n = len(arr)
    means = np.empty(BOOTSTRAP_RESAMPLES)
    block = max(1, 4_000_000 // n)  # indices of about 16 MB at a time
    for start in range(0, BOOTSTRAP_RESAMPLES, block):
        stop = min(BOOTSTRAP_RESAMPLES, start + block)
        means[start:stop] = arr[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return means


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher's exact test of the 2x2 table ``[[a, b], [c, d]]`` (sum of the tables at most as likely).

    Example:
        >>> fisher_exact(1, 9, 11, 3) < 0.01
        True
    """
    row1, col1, n = a + b, a + c, a + b + c + d

    def logp(x: int) -> float:
        return (math.lgamma(col1 + 1) - math.lgamma(x + 1) - math.lgamma(col1 - x + 1)
                + math.lgamma(n - col1 + 1) - math.lgamma(row1 - x + 1) - math.lgamma(n - col1 - row1 + x + 1)
                - math.lgamma(n + 1) + math.lgamma(row1 + 1) + math.lgamma(n - row1 + 1))

    lo, hi = max(0, row1 + col1 - n), min(row1, col1)
    observed = logp(a)
    total = 0.0
    for x in range(lo, hi + 1):
        lp = logp(x)
        if lp <= observed + 1e-7:
            total += math.exp(lp)
    return min(1.0, total)


def _difference(contaminated: Sequence[float], clean: Sequence[float], binary: bool, seed: int) -> dict[str, Any]:
    if not contaminated or not clean:
        return {"estimate": None, "ci95": None, "p_value": None, "test": None,
                "note": "needs at least one item in each subset"}
    m1, m2 = float(np.mean(contaminated)), float(np.mean(clean))
    est = m1 - m2
    if binary:
        n1, n2 = len(contaminated), len(clean)
        k1, k2 = int(round(sum(contaminated))), int(round(sum(clean)))
        l1, u1 = _wilson(k1, n1)
        l2, u2 = _wilson(k2, n2)
        ci = [est - math.sqrt((m1 - l1) ** 2 + (u2 - m2) ** 2), est + math.sqrt((u1 - m1) ** 2 + (m2 - l2) ** 2)]
        p = fisher_exact(k1, n1 - k1, k2, n2 - k2)
        return {"estimate": est, "ci95": ci, "p_value": p, "test": "Fisher's exact test (two-sided); Newcombe "
                "hybrid score interval"}
    a, b = np.asarray(contaminated, float), np.asarray(clean, float)
    ci = None
    if len(a) > 1 and len(b) > 1:
        rng = np.random.default_rng(seed)
        diffs = _bootstrap_means(a, rng) - _bootstrap_means(b, rng)
        lo, hi = np.percentile(diffs, [2.5, 97.5])
        low, high = a.min() - b.max(), a.max() - b.min()
        ci = [float(np.clip(lo, low, high)), float(np.clip(hi, low, high))]
    pooled = np.concatenate([a, b])
    rng = np.random.default_rng(seed)
    hits = 0
    observed = abs(est) - 1e-12
    for _ in range(PERMUTATIONS):
        perm = rng.permutation(pooled)
        if abs(perm[: len(a)].mean() - perm[len(a):].mean()) >= observed:
            hits += 1
    p = (hits + 1) / (PERMUTATIONS + 1)
    return {"estimate": est, "ci95": ci, "p_value": p,
            "test": f"permutation test ({PERMUTATIONS} permutations, seed {seed}, two-sided); bootstrap "
                    f"percentile interval ({BOOTSTRAP_RESAMPLES} resamples, seed {seed})"}


# ------------------------------------------------------------------------------------------------ rescore


def rescore(report: Mapping[str, Any], results: ItemResults, benchmark: str, seed: int = 0) -> dict[str, Any]:
    """Scores on all items, the clean subset and the contaminated subset, with the difference tested.

    Only items both in the report and in the results are scored; the others are counted and listed
    (``missing_from_results``, ``not_in_report``). ``intervals`` names the interval of each figure (see the
    module docstring).

    Args:
        report: The report document (``Report.data``).
        results: Per-item outcomes (:func:`load_results`).
        benchmark: The benchmark of the report the results are for.
        seed: Seed of the bootstrap intervals and the permutation test (scores that are not 0/1); the same seed
            gives the same result.

    Raises:
        ConfigError: No such benchmark in the report, or two report ids with the same text form.
    """
    section = next((b for b in report.get("benchmarks", []) if b["name"] == benchmark), None)
    if section is None:
        names = ", ".join(b["name"] for b in report.get("benchmarks", []))
        raise ConfigError(f"no benchmark {benchmark!r} in the report (it has: {names}); pass --benchmark NAME")
    status: dict[str, bool | None] = {}  # None: not checked (too short, or a portrait could not test it)
    order: list[str] = []
    for it in section.get("items", []):
        k = item_key(it["id"])
        if k is None or k in status:
            raise ConfigError(f"item id {it['id']!r} of {benchmark!r} is not usable as a key (repeated?)")
        status[k] = None if it.get("too_short") or it.get("undecided") else bool(it.get("contaminated"))
        order.append(k)
    per_item = {k: float(np.mean(v)) for k, v in results.scores.items()}
    binary = all(_is_binary(v) for v in results.scores.values()) and all(len(v) == 1 for v in results.scores.values())
    scored = [k for k in order if k in per_item]
    clean = [per_item[k] for k in scored if status[k] is False]
    cont = [per_item[k] for k in scored if status[k] is True]
    unchecked = [k for k in order if status[k] is None]
    missing = [k for k in order if k not in per_item]
    extra = sorted((k for k in per_item if k not in status), key=lambda s: (len(s), s))
    counts = [len(v) for v in results.scores.values()] or [0]
    all_stats = subset_stats([per_item[k] for k in scored], binary, seed)
    clean_stats = subset_stats(clean, binary, seed)
    out = {
        "benchmark": benchmark,
        "benchmark_fingerprint": section.get("fingerprint"),
        "corpus_fingerprint": report.get("corpus", {}).get("fingerprint"),
        "results": list(results.sources),
        "format": results.format,
        "id_source": results.id_source,
        "metric": results.metric,
        **({"filter": flt} if (flt := getattr(results, "filter", None)) is not None else {}),
        "binary": binary,
        "samples_per_item": {"min": min(counts), "max": max(counts)},
        "all": all_stats,
        "clean": clean_stats,
        "contaminated": subset_stats(cont, binary, seed),
        "difference": _difference(cont, clean, binary, seed),
        "intervals": interval_methods(binary, seed),
        "all_minus_clean": (all_stats["mean"] - clean_stats["mean"]
                            if all_stats["mean"] is not None and clean_stats["mean"] is not None else None),
        "n_report_items": len(order),
        "n_report_contaminated": sum(1 for v in status.values() if v),
        "not_checked": {"n": len(unchecked), "ids": unchecked},
        "missing_from_results": {"n": len(missing), "ids": missing},
        "not_in_report": {"n": len(extra), "ids": extra},
    }
    if section.get("upper_bound"):  # a portrait check: its contaminated items are only possibly so
        out.update(upper_bound=True, note=UPPER_BOUND_NOTE)
    if "answer_leak_ids" in section:
        out["leak_split"] = _leak_split(section, per_item, scored, status, binary, seed)
    return out


def rescore_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :func:`rescore`'s document, as shipped in ``decontam/schema/``."""
    return shipped_schema("rescore")


UPPER_BOUND_NOTE = ("the report is a portrait check's: its contaminated subset is the items possibly in the corpus "
                    "(their probes passed the portrait's Bloom filter), an unverified upper bound that may hold clean "
                    "items; its clean subset (items tested and absent) is exact. decontam index check INDEX_DIR "
                    "confirms the possible items")


LEAK_GROUPS = (("clean", "clean (neither found)"), ("question_contaminated", "question only"),
               ("question_and_answer_contaminated", "question and answer"), ("answer_only", "answer only"))


def _leak_split(section: Mapping[str, Any], per_item: Mapping[str, float], scored: Sequence[str],
                status: Mapping[str, bool | None], binary: bool, seed: int) -> dict[str, Any]:
    """The scored, checked items in four groups by what the corpus holds: neither question nor answer, the
    question only, both, the answer only (``--probe-answers``); an item whose answer was not probed (none, or
    shorter than a probe) counts as its answer not found, and each group says how many such items it has."""
    leaked = {item_key(i) for i in section["answer_leak_ids"]}
    unprobed = {item_key(i) for i in section.get("answers_not_probed_ids", [])}
    groups: dict[str, list[str]] = {name: [] for name, _ in LEAK_GROUPS}
    for k in scored:
        if status[k] is None:
            continue
        name = (("question_and_answer_contaminated" if k in leaked else "question_contaminated") if status[k]
                else "answer_only" if k in leaked else "clean")
        groups[name].append(k)
    out: dict[str, Any] = {}
    for name, keys in groups.items():
        out[name] = {**subset_stats([per_item[k] for k in keys], binary, seed),
                     "n_answers_not_probed": sum(1 for k in keys if k in unprobed)}
    out["note"] = ("as OpenCompass's contamination analysis: clean, question contaminated, question-and-answer "
                   "contaminated (answer_only: answer found, question not); an answer not probed counts as not "
                   "found (n_answers_not_probed per group)")
    return out


def rescore_by_filter(report: Mapping[str, Any], results: Sequence[ItemResults], benchmark: str,
                      seed: int = 0) -> dict[str, Any]:
    """:func:`rescore` for each lm-eval filter of :func:`~decontam.results.load_results_by_filter`.

    Args:
        report: The report document (``Report.data``).
        results: One :class:`ItemResults` per filter, in the task's order (or just one).
        benchmark: The benchmark of the report the results are for.
        seed: As for :func:`rescore`.

    Returns:
        With one result, :func:`rescore`'s document, unchanged. With several, the first filter's document (its
        ``filter`` names it) plus ``filters`` (the names, in order) and ``by_filter`` (each filter's full
        document, in order, the first included): a reader of one result keeps working and reads the first
        filter, a reader of several reads ``by_filter``.

    Raises:
        ValueError: No results.
        ConfigError: As for :func:`rescore`.
    """
    if not results:
        raise ValueError("rescore_by_filter needs at least one ItemResults (got none)")
    rows = [rescore(report, r, benchmark, seed) for r in results]
    if len(rows) == 1:
        return rows[0]
    return {**rows[0], "filters": [r.get("filter") for r in rows], "by_filter": rows}


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _interval_name(result: Mapping[str, Any]) -> str:
    """The subsets' interval, for people: ``"Wilson score"`` or ``"bootstrap percentile, N resamples, seed S"``."""
    methods = result["intervals"]
    if methods["all"] == "wilson":
        return "Wilson score"
    boot = methods["bootstrap"]
    return f"bootstrap percentile, {boot['resamples']} resamples, seed {boot['seed']}"


_UNMATCHED = (("not_checked", "report items not checked (too short, or untestable on a portrait; in 'all' only)"),
              ("missing_from_results", "report items with no result (not scored)"),
              ("not_in_report", "results for items not in the report (not scored)"))


def _unmatched_lines(r: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The items left out of the scores, each group on a line (its first ten ids shown)."""
    lines = []
    for key, label in _UNMATCHED:
        g = r[key]
        if g["n"]:
            shown = ", ".join(g["ids"][:10]) + (f" … (+{g['n'] - 10})" if g["n"] > 10 else "")
            lines.append(f"{prefix}{label}: {g['n']}: {shown}")
        else:
            lines.append(f"{prefix}{label}: 0")
    return lines


def _header(r: Mapping[str, Any], low: int, high: int) -> str:
    flt = f" (filter {r['filter']})" if r.get("filter") is not None else ""
    return (f"{r['benchmark']}: metric {r['metric']}{flt} from {r['format']} (ids: {r['id_source']}; "
            f"{low}–{high} sample(s) per item)")


def to_table(result: Mapping[str, Any]) -> str:
    """The re-scoring result as a plain-text table (stdout); one row per filter when there are several."""
    r = result
    if r.get("by_filter"):
        return _filters_table(r["by_filter"])
    lines = [_header(r, r["samples_per_item"]["min"], r["samples_per_item"]["max"])]
    lines.append(f"{'subset':<14}{'items':>7}{'score':>10}   95% CI ({_interval_name(r)})")
    for name in ("all", "clean", "contaminated"):
        g = r[name]
        ci = "n/a" if not g["ci95"] else f"[{_fmt(g['ci95'][0])}, {_fmt(g['ci95'][1])}]"
        lines.append(f"{_subset_name(r, name):<14}{g['n']:>7}{_fmt(g['mean']):>10}   {ci}")
    d = r["difference"]
    versus = f"{_subset_name(r, 'contaminated')} − clean"
    if d["estimate"] is None:
        lines.append(f"{versus}: n/a ({d.get('note')})")
    else:
        ci = "n/a" if not d["ci95"] else f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
        lines.append(f"{versus}: {d['estimate']:+.4f}  95% CI {ci}  p = {d['p_value']:.4g}  ({d['test']})")
    if r["all_minus_clean"] is not None:
        lines.append(f"all − clean: {r['all_minus_clean']:+.4f}")
    return "\n".join(lines + _leak_lines(r) + _unmatched_lines(r) + _upper_bound_lines(r)) + "\n"


def _subset_name(r: Mapping[str, Any], name: str) -> str:
    """A subset's name in a table: the contaminated subset of a portrait check is ``possible``."""
    return "possible" if name == "contaminated" and r.get("upper_bound") else name


def _upper_bound_lines(r: Mapping[str, Any]) -> list[str]:
    return [f"possible: {r['note']}"] if r.get("upper_bound") else []


def _leak_lines(r: Mapping[str, Any], label: str = "") -> list[str]:
    """The leak split (``--probe-answers``) as table rows, or nothing."""
    split = r.get("leak_split")
    if not split:
        return []
    lines = [f"by leak{label} (--probe-answers; as OpenCompass splits it; answers not probed count as not found):"]
    for name, title in LEAK_GROUPS:
        g = split[name]
        ci = "n/a" if not g["ci95"] else f"[{_fmt(g['ci95'][0])}, {_fmt(g['ci95'][1])}]"
        unprobed = f"   ({g['n_answers_not_probed']} answer(s) not probed)" if g["n_answers_not_probed"] else ""
        lines.append(f"  {title:<22}{g['n']:>7}{_fmt(g['mean']):>10}   {ci}{unprobed}")
    return lines


def _subset_cell(g: Mapping[str, Any], with_n: bool) -> str:
    ci = "" if not g["ci95"] else f" [{_fmt(g['ci95'][0])}, {_fmt(g['ci95'][1])}]"
    return _fmt(g["mean"]) + ci + (f" (n={g['n']})" if with_n else "")


def _difference_cell(d: Mapping[str, Any]) -> str:
    if d["estimate"] is None:
        return "n/a"
    ci = "" if not d["ci95"] else f" [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
    return f"{d['estimate']:+.4f}{ci} p={d['p_value']:.4g}"


def _filters_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Several filters' results in one table: a row per filter (score and 95% interval of each subset, and
    contaminated − clean), then what the intervals are and which items were left out."""
    low = min(r["samples_per_item"]["min"] for r in rows)
    high = max(r["samples_per_item"]["max"] for r in rows)
    first = {k: v for k, v in rows[0].items() if k != "filter"}
    lines = [_header(first, low, high) + f"; {len(rows)} filters, one row each"]
    names = ("all", "clean", "contaminated")
    sizes = {name: {r[name]["n"] for r in rows} for name in names}  # one size: said once, in the header
    label = {n: _subset_name(rows[0], n) for n in names}
    head = (["filter"] + [f"{label[n]} (n={min(sizes[n])})" if len(sizes[n]) == 1 else label[n] for n in names]
            + [f"{label['contaminated']} − clean"])
    table = [head] + [[str(r.get("filter"))] + [_subset_cell(r[n], len(sizes[n]) > 1) for n in names]
                      + [_difference_cell(r["difference"])] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines += ["   ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    methods = {(_interval_name(r), r["difference"].get("test")) for r in rows}
    for r in rows if len(methods) > 1 else rows[:1]:
        who = f"{r.get('filter')}: " if len(methods) > 1 else ""
        test = r["difference"].get("test") or "n/a"
        lines.append(f"{who}95% CI: {_interval_name(r)}; {label['contaminated']} − clean: {test}")
    gaps = [f"{r.get('filter')} {r['all_minus_clean']:+.4f}" for r in rows if r["all_minus_clean"] is not None]
    if gaps:
        lines.append("all − clean: " + "; ".join(gaps))
    for r in rows:
        lines += _leak_lines(r, f" ({r.get('filter')})")
    if all(_unmatched_lines(r) == _unmatched_lines(rows[0]) for r in rows):
        lines += _unmatched_lines(rows[0])
    else:
        for r in rows:
            lines += _unmatched_lines(r, f"{r.get('filter')}: ")
    return "\n".join(lines + _upper_bound_lines(rows[0])) + "\n"
