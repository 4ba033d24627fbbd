"""Re-scoring on the clean subset: a benchmark score on all items, the clean items and the contaminated items.

Input: per-item outcomes of an evaluation run, joined to a report by item id.

* **lm-evaluation-harness** ``--log_samples`` files (``samples_<task>_<time>.jsonl``; JSON lines with
  ``doc_id``, ``doc``, ``filter``, ``metrics`` and one key per metric, e.g. ``"acc": 1.0``);
* **HumanEval** ``*_results.jsonl`` from ``evaluate_functional_correctness`` (``task_id``, ``passed``; several
  samples per task are averaged per item, i.e. the per-item pass@1 estimate);
* any **JSONL / JSON array / CSV** with an item id and a score (number, boolean, or ``pass``/``fail`` words).

Ids: unless ``id_field`` or ``id_template`` says how, every plausible id of a record (``doc_id``,
``doc.task_id``, ``task_id``, ``id``...; for lm-eval MMLU subtasks ``<subject>_test/<doc_id>``) is tried and the
one that names the most of the report's items wins; the choice is printed. Items in the results but not in the
report, and the reverse, are counted and listed in the output, never dropped silently.

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

import csv
import gzip
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .benchmarks import field_value
from .errors import ConfigError, InputError

__all__ = ["BOOTSTRAP_RESAMPLES", "PERMUTATIONS", "ItemResults", "fisher_exact", "interval_methods",
           "load_results", "rescore", "subset_stats", "to_table"]

Z95 = 1.959963984540054
PERMUTATIONS = 10_000
BOOTSTRAP_RESAMPLES = 10_000
_TRUE = {"true", "pass", "passed", "correct", "yes", "y", "t", "1", "ok", "success"}
_FALSE = {"false", "fail", "failed", "incorrect", "wrong", "no", "n", "f", "0", "timeout", "timed out", "error"}
_GENERIC_IDS = ("id", "item_id", "task_id", "doc_id", "question_id", "qid", "idx", "uid", "index")
_GENERIC_SCORES = ("score", "passed", "pass", "correct", "is_correct", "acc", "accuracy", "exact_match", "em",
                   "result", "pass@1")
_LM_EVAL_METRICS = ("acc", "exact_match", "pass@1", "acc_norm", "mc2", "mc1", "f1", "em", "bleu", "rougeL")
_LM_EVAL_STAMP = re.compile(r"^samples_(?P<task>.+?)_\d{4}-\d{2}-\d{2}T[\d\-.:]+\.jsonl(?:\.gz)?$")


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


# -------------------------------------------------------------------------------------------------- input


@dataclass
class ItemResults:
    """Per-item outcomes read from results files.

    Attributes:
        scores: ``id key -> list of per-sample scores`` (the item's score is their mean).
        format: ``"lm-eval samples"``, ``"humaneval results"``, ``"jsonl"`` or ``"csv"``.
        id_source: Where the ids came from (a field path or a template).
        metric: The score field used.
        n_records: Records read.
        sources: The files read.
    """

    scores: dict[str, list[float]] = field(default_factory=dict)
    format: str = ""
    id_source: str = ""
    metric: str = ""
    n_records: int = 0
    sources: list[str] = field(default_factory=list)


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig")


def _records(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """``[(line, record)]`` and the base format (``jsonl`` or ``csv``)."""
    if not path.exists():
        raise InputError("no such results file", path=str(path))
    text = _open_text(path)
    base = path.name[:-3] if path.name.endswith(".gz") else path.name
    if base.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        return [(i + 2, dict(row)) for i, row in enumerate(reader)], "csv"
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            reason = "nested too deeply to read" if isinstance(exc, RecursionError) else str(exc)
            raise InputError(f"not valid JSON: {reason}", path=str(path)) from None
        return [(i + 1, r) for i, r in enumerate(data) if isinstance(r, dict)], "jsonl"
    out = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as exc:
            reason = "nested too deeply to read" if isinstance(exc, RecursionError) else str(exc)
            raise InputError(f"not a JSON object: {reason}", path=str(path), line=i + 1) from None
        if not isinstance(rec, dict):
            raise InputError("each line must be a JSON object", path=str(path), line=i + 1)
        out.append((i + 1, rec))
    return out, "jsonl"


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        v = value.strip().lower()
        try:
            return float(v)
        except ValueError:
            pass
        if v in _TRUE:
            return 1.0
        if v in _FALSE or v.startswith("failed") or v.startswith("timed out"):
            return 0.0
    return None


def _key(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _detect(records: list[tuple[int, dict[str, Any]]], base: str) -> str:
    if base == "csv" or not records:
        return base
    rec = records[0][1]
    if "doc_id" in rec and ("filtered_resps" in rec or "resps" in rec or "doc" in rec):
        return "lm-eval samples"
    if "task_id" in rec and ("passed" in rec or "result" in rec):
        return "humaneval results"
    return base


def _id_candidates(fmt: str, task: str | None) -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    cands: list[tuple[str, Callable[[dict[str, Any]], Any]]] = []
    if fmt == "lm-eval samples":
        cands.append(("doc_id", lambda r: r.get("doc_id")))
        for f in ("doc.task_id", "doc.id", "doc.question_id", "doc.idx"):
            cands.append((f, lambda r, f=f: field_value(r, f)))
        if task:
            subject = task.split("_", 1)[1] if task.startswith("mmlu_") else task
            cands.append((f"{subject}_test/{{doc_id}}", lambda r, s=subject: f"{s}_test/{r.get('doc_id')}"))
    else:
        for f in _GENERIC_IDS:
            cands.append((f, lambda r, f=f: r.get(f)))
    return cands


def load_results(
    paths: Sequence[str | os.PathLike[str]],
    report_ids: Iterable[Any] = (),
    *,
    id_field: str | None = None,
    id_template: str | None = None,
    score_field: str | None = None,
    filter_name: str | None = None,
) -> ItemResults:
    """Read per-item outcomes from results files (see the module docstring for the formats).

    Args:
        paths: Results files (several lm-eval sample files, e.g. one per MMLU subject, are read together).
        report_ids: The benchmark's item ids in the report, used to pick the id field automatically.
        id_field: Field (dotted path) holding the item id.
        id_template: A ``str.format`` template over the record's fields (and ``task``, from an lm-eval file
            name), e.g. ``"anatomy_test/{doc_id}"``.
        score_field: Field holding the score (default: lm-eval's first metric, HumanEval's ``passed``, or the
            first of ``score``, ``passed``, ``correct``, ``acc``...).
        filter_name: lm-eval filter to keep when a file has several (``strict-match``...).

    Raises:
        InputError: An unreadable file, a record without id or score (names file, line, field).
        ConfigError: Several lm-eval filters and no ``filter_name``; or no id field that names report items.
    """
    wanted = {k for k in (_key(i) for i in report_ids) if k is not None}
    out = ItemResults()
    loaded = [_read_results_file(Path(p), filter_name) for p in paths]
    out.sources = [str(path) for path, _, _, _ in loaded]
    out.format = ", ".join(sorted({fmt for _, fmt, _, _ in loaded}))
    id_sources, metrics = [], []
    for path, fmt, task, records in loaded:
        id_name, id_fn = _choose_id(path, fmt, task, records, wanted, id_field, id_template)
        metric = score_field if score_field is not None else _default_metric(path, fmt, records)
        for line, rec in records:
            key = _key(id_fn(rec))
            if key is None:
                raise InputError(f"no item id ({id_name})", path=str(path), line=line, field=id_name)
            value = _score(field_value(rec, metric))
            if value is None:
                raise InputError(f"score is missing or not a number/boolean/pass-fail word: "
                                 f"{field_value(rec, metric)!r}", path=str(path), line=line, field=metric)
            out.scores.setdefault(key, []).append(value)
            out.n_records += 1
        id_sources.append(id_name)
        metrics.append(metric)
    out.id_source = ", ".join(sorted(set(id_sources)))
    out.metric = ", ".join(sorted(set(metrics)))
    return out


_Records = list[tuple[int, dict[str, Any]]]


def _read_results_file(path: Path, filter_name: str | None) -> tuple[Path, str, str | None, _Records]:
    """One results file: its format, its lm-eval task (from the file name) and its records (of one filter)."""
    records, base = _records(path)
    fmt = _detect(records, base)
    m = _LM_EVAL_STAMP.match(path.name)
    task = m.group("task") if m else None
    if fmt == "lm-eval samples":
        filters = sorted({str(r.get("filter")) for _, r in records if "filter" in r})
        if len(filters) > 1:
            if filter_name is None:
                raise ConfigError(f"{path}: these lm-eval samples hold several filters ({', '.join(filters)}); "
                                  "choose one with --filter NAME")
            records = [(ln, r) for ln, r in records if str(r.get("filter")) == filter_name]
            if not records:
                raise ConfigError(f"{path}: no sample with filter {filter_name!r} (has: {', '.join(filters)})")
    return path, fmt, task, records


def _choose_id(path: Path, fmt: str, task: str | None, records: _Records, wanted: set[str], id_field: str | None,
               id_template: str | None) -> tuple[str, Callable[[dict[str, Any]], Any]]:
    """The record field (or template) that names report items: given, or the candidate naming the most."""
    if id_template is not None:
        def render(r: dict[str, Any]) -> Any:
            try:
                return id_template.format(task=task or "", **{k: v for k, v in r.items() if k != "task"})
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(f"--id-template {id_template!r}: {exc!r} (record fields: "
                                  f"{', '.join(sorted(r))})") from None
        return id_template, render
    if id_field is not None:
        return id_field, lambda r: field_value(r, id_field)
    best: tuple[int, str, Callable[[dict[str, Any]], Any]] | None = None
    for name, fn in _id_candidates(fmt, task):
        keys = [_key(fn(r)) for _, r in records]
        if any(k is None for k in keys):
            continue
        hits = len(set(keys) & wanted)
        if best is None or hits > best[0]:
            best = (hits, name, fn)
    if best is None or (wanted and best[0] == 0):
        sample_ids = ", ".join(map(str, list(wanted)[:3]))
        raise ConfigError(f"{path}: found no id field whose values name the report's items (e.g. {sample_ids}); "
                          "pass --id-field FIELD or --id-template TEMPLATE")
    return best[1], best[2]


def _default_metric(path: Path, fmt: str, records: _Records) -> str:
    """The field holding the score when none is given: lm-eval's first metric, HumanEval's ``passed``, or the
    first of the usual names."""
    first = records[0][1] if records else {}
    if fmt == "lm-eval samples":
        listed = first.get("metrics")
        metric = listed[0] if isinstance(listed, list) and listed else next(
            (m for m in _LM_EVAL_METRICS if m in first), "")
    elif fmt == "humaneval results":
        metric = "passed" if "passed" in first else "result"
    else:
        metric = next((m for m in _GENERIC_SCORES if m in first), "")
    if not metric:
        raise ConfigError(f"{path}: cannot tell which field holds the score; pass --score-field FIELD")
    return metric


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
        k = _key(it["id"])
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
    return out


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _interval_name(result: Mapping[str, Any]) -> str:
    """The subsets' interval, for people: ``"Wilson score"`` or ``"bootstrap percentile, N resamples, seed S"``."""
    methods = result["intervals"]
    if methods["all"] == "wilson":
        return "Wilson score"
    boot = methods["bootstrap"]
    return f"bootstrap percentile, {boot['resamples']} resamples, seed {boot['seed']}"


def to_table(result: Mapping[str, Any]) -> str:
    """The re-scoring result as a plain-text table (stdout)."""
    r = result
    lines = [f"{r['benchmark']}: metric {r['metric']} from {r['format']} (ids: {r['id_source']}; "
             f"{r['samples_per_item']['min']}–{r['samples_per_item']['max']} sample(s) per item)"]
    lines.append(f"{'subset':<14}{'items':>7}{'score':>10}   95% CI ({_interval_name(r)})")
    for name in ("all", "clean", "contaminated"):
        g = r[name]
        ci = "n/a" if not g["ci95"] else f"[{_fmt(g['ci95'][0])}, {_fmt(g['ci95'][1])}]"
        lines.append(f"{name:<14}{g['n']:>7}{_fmt(g['mean']):>10}   {ci}")
    d = r["difference"]
    if d["estimate"] is None:
        lines.append(f"contaminated − clean: n/a ({d.get('note')})")
    else:
        ci = "n/a" if not d["ci95"] else f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
        lines.append(f"contaminated − clean: {d['estimate']:+.4f}  95% CI {ci}  p = {d['p_value']:.4g}  "
                     f"({d['test']})")
    if r["all_minus_clean"] is not None:
        lines.append(f"all − clean: {r['all_minus_clean']:+.4f}")
    for key, label in (("not_checked", "report items not checked (too short, or untestable on a portrait; in "
                                       "'all' only)"),
                       ("missing_from_results", "report items with no result (not scored)"),
                       ("not_in_report", "results for items not in the report (not scored)")):
        g = r[key]
        if g["n"]:
            shown = ", ".join(g["ids"][:10]) + (f" … (+{g['n'] - 10})" if g["n"] > 10 else "")
            lines.append(f"{label}: {g['n']}: {shown}")
        else:
            lines.append(f"{label}: 0")
    return "\n".join(lines) + "\n"
