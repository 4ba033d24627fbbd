"""Re-scoring on the clean subset: statistics against published values, joins, formats, planted effects."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam import Benchmark, ConfigError, InputError, Item, check
from decontam.rescore import (
    BOOTSTRAP_RESAMPLES,
    Z95,
    _difference,
    fisher_exact,
    load_results,
    rescore,
    subset_stats,
    to_table,
)

# ------------------------------------------------------------------------------ statistics vs known values


@pytest.mark.parametrize("table, p, source", [
    ((3, 1, 1, 3), 34 / 70, "R fisher.test(matrix(c(3,1,1,3),2)): 0.4857 = (1 + 16 + 1 + 16) / 70"),
    ((1, 9, 11, 3), 0.002759, "R fisher.test(matrix(c(1,9,11,3),2)) (Agresti's example)"),
    ((5, 0, 0, 5), 0.007937, "2/choose(10,5)"),
    ((2, 2, 2, 2), 1.0, "a table at its expectation"),
])
def test_fisher_exact_matches_reference_values(table, p, source):
    assert fisher_exact(*table) == pytest.approx(p, abs=5e-6), source


def test_wilson_interval_matches_reference():
    s = subset_stats([1, 1, 1, 0])  # 3/4: Wilson 95% interval [0.3006, 0.9544] (Newcombe 1998, table I)
    assert s["n"] == 4 and s["mean"] == 0.75
    assert s["ci95"] == pytest.approx([0.3006, 0.9544], abs=1e-4)
    assert subset_stats([]) == {"n": 0, "mean": None, "ci95": None}


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), "Interval estimation for the difference between independent proportions", example (a):
    # 56/70 vs 48/80, method 10: 0.2000 (0.0524, 0.3339)
    d = _difference([1] * 56 + [0] * 14, [1] * 48 + [0] * 32, binary=True, seed=0)
    assert d["estimate"] == pytest.approx(0.2)
    assert d["ci95"] == pytest.approx([0.0524, 0.3339], abs=1e-4)


def test_continuous_scores_use_a_seeded_permutation_test():
    a, b = [0.9, 0.8, 0.95, 0.85], [0.1, 0.2, 0.15, 0.3, 0.25]
    d1 = _difference(a, b, binary=False, seed=3)
    assert d1 == _difference(a, b, binary=False, seed=3)  # deterministic
    assert d1["estimate"] == pytest.approx(0.875 - 0.2)
    # all 126 splits of 9 values into 4+5: only the observed one (of the two extreme ones) is as far: p ~ 1/126
    assert d1["p_value"] < 0.03
    same = _difference([0.5, 0.6], [0.6, 0.5], binary=False, seed=0)
    assert same["p_value"] > 0.5


# ---------------------------------------------------------------------------------- joins with a report


def _report(n: int = 10, contaminated: tuple[int, ...] = (1, 4)) -> dict:
    return {"schema_version": 1, "corpus": {"fingerprint": "sha256:" + "0" * 64}, "benchmarks": [{
        "name": "toy", "fingerprint": "sha256:" + "1" * 64, "n_items": n,
        "items": [{"id": f"toy/{i}", "contaminated": i in contaminated, "matches": []} for i in range(n)]}]}


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_hand_computed_scores_and_unmatched_items_are_reported(tmp_path):
    report = _report()
    # items 0..7 have results (item 8, 9 missing); one result names an item not in the report
    scores = {0: 1, 1: 1, 2: 0, 3: 1, 4: 0, 5: 0, 6: 1, 7: 1}
    rows = [{"item_id": f"toy/{i}", "correct": bool(s)} for i, s in scores.items()] + [
        {"item_id": "toy/99", "correct": True}]
    res = load_results([_write_jsonl(tmp_path / "r.jsonl", rows)], [it["id"] for it in report["benchmarks"][0]["items"]])
    assert res.id_source == "item_id" and res.metric == "correct"
    out = rescore(report, res, "toy")
    assert out["all"]["n"] == 8 and out["all"]["mean"] == 5 / 8
    assert out["contaminated"]["n"] == 2 and out["contaminated"]["mean"] == 0.5  # items 1 (1) and 4 (0)
    assert out["clean"]["n"] == 6 and out["clean"]["mean"] == 4 / 6
    assert out["all_minus_clean"] == pytest.approx(5 / 8 - 4 / 6)
    assert out["difference"]["p_value"] == pytest.approx(fisher_exact(1, 1, 4, 2))
    assert out["missing_from_results"] == {"n": 2, "ids": ["toy/8", "toy/9"]}
    assert out["not_in_report"] == {"n": 1, "ids": ["toy/99"]}
    table = to_table(out)
    assert "toy/99" in table and "toy/8" in table and "0.6250" in table


def test_planted_effect_is_detected_and_a_null_effect_is_not():
    """A real check: 40 of 200 items planted in the corpus; contaminated items made to score higher."""
    items = [Item(i, f"Question number {i}: how many apples does the farmer {i} keep after selling a few of them?")
             for i in range(200)]
    bench = Benchmark.from_items("apples", items)
    planted = set(range(0, 200, 5))
    corpus = [f"forum post quoting: {items[i].question}" for i in sorted(planted)] + ["unrelated text"] * 20
    report = check(corpus, [bench], progress=False).to_dict()
    assert set(report["benchmarks"][0]["contaminated_ids"]) == planted

    class Res:  # results as load_results would give them
        def __init__(self, scores):
            self.scores = {str(i): [float(s)] for i, s in scores.items()}
            self.sources, self.format, self.id_source, self.metric = ["mem"], "jsonl", "id", "acc"

    inflated = {i: 1 if i in planted else i % 2 for i in range(200)}  # clean: exactly half pass
    out = rescore(report, Res(inflated), "apples")
    assert out["contaminated"]["mean"] == 1.0 and out["clean"]["mean"] == 0.5
    assert out["all"]["mean"] == pytest.approx((40 + 80) / 200)
    assert out["difference"]["p_value"] < 1e-6
    assert out["difference"]["ci95"][0] > 0.3
    null = {i: i % 2 for i in range(200)}  # same pass rate whatever the contamination
    out0 = rescore(report, Res(null), "apples")
    assert out0["difference"]["p_value"] > 0.5 and out0["difference"]["ci95"][0] < 0 < out0["difference"]["ci95"][1]


# ------------------------------------------------------------------------------------------- file formats


def test_lm_eval_samples_with_filters_and_mmlu_subject_ids(tmp_path):
    report = {"benchmarks": [{"name": "mmlu", "items": [
        {"id": f"anatomy_test/{i}", "contaminated": i == 2, "matches": []} for i in range(4)]}]}
    rows = []
    for flt, shift in (("strict-match", 0), ("flexible-extract", 1)):
        for i in range(4):
            rows.append({"doc_id": i, "doc": {"question": "q"}, "target": "A", "arguments": [], "resps": [["A"]],
                         "filtered_resps": ["A"], "filter": flt, "metrics": ["acc"], "acc": float((i + shift) % 2),
                         "doc_hash": "h"})
    path = _write_jsonl(tmp_path / "samples_mmlu_anatomy_2024-05-01T12-00-00.123456.jsonl", rows)
    ids = [it["id"] for it in report["benchmarks"][0]["items"]]
    with pytest.raises(ConfigError, match="several filters.*--filter"):
        load_results([path], ids)
    res = load_results([path], ids, filter_name="strict-match")
    assert res.format == "lm-eval samples" and res.metric == "acc" and res.id_source == "anatomy_test/{doc_id}"
    assert res.scores == {"anatomy_test/0": [0.0], "anatomy_test/1": [1.0], "anatomy_test/2": [0.0],
                          "anatomy_test/3": [1.0]}
    res2 = load_results([path], ids, filter_name="flexible-extract", id_template="anatomy_test/{doc_id}")
    assert res2.scores["anatomy_test/0"] == [1.0]


def test_humaneval_results_average_several_samples_per_task(tmp_path):
    rows = [{"task_id": "HumanEval/0", "completion": "x", "result": "passed", "passed": True},
            {"task_id": "HumanEval/0", "completion": "y", "result": "failed: AssertionError", "passed": False},
            {"task_id": "HumanEval/1", "completion": "z", "result": "timed out", "passed": False}]
    res = load_results([_write_jsonl(tmp_path / "samples.jsonl_results.jsonl", rows)], ["HumanEval/0", "HumanEval/1"])
    assert res.format == "humaneval results" and res.metric == "passed"
    assert res.scores == {"HumanEval/0": [1.0, 0.0], "HumanEval/1": [0.0]}
    report = {"benchmarks": [{"name": "humaneval", "items": [
        {"id": "HumanEval/0", "contaminated": True}, {"id": "HumanEval/1", "contaminated": False}]}]}
    out = rescore(report, res, "humaneval")
    assert out["binary"] is False and out["samples_per_item"] == {"min": 1, "max": 2}
    assert out["contaminated"]["mean"] == 0.5 and out["clean"]["mean"] == 0.0


def test_csv_with_pass_fail_words_and_integer_ids(tmp_path):
    path = tmp_path / "scores.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["idx", "result"])
        w.writerows([[0, "pass"], [1, "FAIL"], [2, "passed"]])
    res = load_results([path], [0, 1, 2])
    assert res.scores == {"0": [1.0], "1": [0.0], "2": [1.0]} and res.id_source == "idx"


def test_bad_results_are_errors_naming_file_line_and_field(tmp_path):
    path = _write_jsonl(tmp_path / "r.jsonl", [{"id": "a", "score": 1}, {"id": "b", "score": "maybe"}])
    with pytest.raises(InputError, match=r"r\.jsonl, line 2, field 'score'"):
        load_results([path], ["a", "b"])
    with pytest.raises(ConfigError, match="no id field"):
        load_results([_write_jsonl(tmp_path / "s.jsonl", [{"id": "zzz", "score": 1}])], ["a", "b"])
    with pytest.raises(ConfigError, match="no benchmark 'nope'"):
        rescore(_report(), load_results([
            _write_jsonl(tmp_path / "t.jsonl", [{"id": "toy/1", "score": 1}])], ["toy/1"]), "nope")


# -------------------------------------------------------------- intervals of scores that are not 0/1 (issue 11)


def test_bootstrap_interval_stays_in_the_metric_range_where_a_normal_one_would_not():
    """Nine items scoring 0 and one scoring 0.9: the normal interval 0.09 ± 0.18 goes below 0."""
    values = [0.0] * 9 + [0.9]
    n = len(values)
    normal_half = Z95 * float(np.std(values, ddof=1)) / math.sqrt(n)
    assert 0.09 - normal_half < 0  # what the old interval gave
    s = subset_stats(values, seed=0)
    assert s["n"] == n and s["mean"] == pytest.approx(0.09)
    lo, hi = s["ci95"]
    assert 0.0 <= lo < 0.09 < hi <= 0.9
    # the resampled mean is 0.9 * k/10 (k items of 0.9 drawn, k ~ Binomial(10, 0.1)): its 2.5% and 97.5% points
    assert (lo, hi) == (0.0, pytest.approx(0.27))


def test_bootstrap_interval_agrees_with_the_normal_one_for_a_large_symmetric_sample():
    values = list(np.random.default_rng(5).uniform(0.2, 0.8, size=4000))
    lo, hi = subset_stats(values, seed=0)["ci95"]
    half = Z95 * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    assert lo == pytest.approx(np.mean(values) - half, abs=5e-4)
    assert hi == pytest.approx(np.mean(values) + half, abs=5e-4)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(0, 1, allow_nan=False, width=32), min_size=2, max_size=40), seed=st.integers(0, 2**32))
def test_bootstrap_interval_is_within_the_data_and_reproducible_for_a_seed(values, seed):
    s = subset_stats(values, binary=False, seed=seed)
    lo, hi = s["ci95"]
    assert min(values) <= lo <= hi <= max(values)
    assert subset_stats(values, binary=False, seed=seed) == s  # the same seed, the same interval


@settings(max_examples=8, deadline=None)  # each example runs 2 x 10,000 permutations
@given(a=st.lists(st.floats(0, 1, allow_nan=False, width=32), min_size=2, max_size=20),
       b=st.lists(st.floats(0, 1, allow_nan=False, width=32), min_size=2, max_size=20), seed=st.integers(0, 1000))
def test_bootstrap_difference_interval_is_within_its_range_and_reproducible(a, b, seed):
    d = _difference(a, b, binary=False, seed=seed)
    lo, hi = d["ci95"]
    assert min(a) - max(b) <= lo <= hi <= max(a) - min(b)
    assert _difference(a, b, binary=False, seed=seed) == d
    assert "bootstrap percentile interval (10000 resamples, seed" in d["test"]


def test_another_seed_gives_another_draw_but_the_same_interval_within_monte_carlo_error():
    values = list(np.random.default_rng(1).uniform(0, 1, size=200))
    first, second = subset_stats(values, seed=1)["ci95"], subset_stats(values, seed=2)["ci95"]
    assert first != second
    assert first == pytest.approx(second, abs=0.01)


def test_single_non_binary_item_has_no_interval_and_binary_path_is_unchanged():
    assert subset_stats([0.4], seed=3) == {"n": 1, "mean": 0.4, "ci95": None}
    assert subset_stats([1, 0, 1], seed=3) == subset_stats([1, 0, 1], seed=99)  # Wilson: no randomness


def test_result_and_table_name_the_interval_of_each_figure(tmp_path):
    report = _report(6, contaminated=(0, 1))
    ids = [it["id"] for it in report["benchmarks"][0]["items"]]
    binary = load_results([_write_jsonl(tmp_path / "b.jsonl", [{"id": i, "score": k % 2} for k, i in enumerate(ids)])],
                          ids)
    out = rescore(report, binary, "toy", seed=4)
    assert out["intervals"] == {"all": "wilson", "clean": "wilson", "contaminated": "wilson",
                                "difference": "newcombe", "level": 0.95, "bootstrap": None}
    assert "95% CI (Wilson score)" in to_table(out)
    graded = load_results([_write_jsonl(tmp_path / "g.jsonl", [
        {"id": i, "score": s} for i, s in zip(ids, (0.9, 0.7, 0.1, 0.0, 0.2, 0.05))])], ids)
    out = rescore(report, graded, "toy", seed=4)
    assert out["binary"] is False
    assert out["intervals"] == {"all": "bootstrap_percentile", "clean": "bootstrap_percentile",
                                "contaminated": "bootstrap_percentile", "difference": "bootstrap_percentile",
                                "level": 0.95, "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": 4}}
    table = to_table(out)
    assert "95% CI (bootstrap percentile, 10000 resamples, seed 4)" in table
    assert "bootstrap percentile interval (10000 resamples, seed 4)" in table  # the difference line
    for name in ("all", "clean", "contaminated"):
        lo, hi = out[name]["ci95"]
        assert 0.0 <= lo <= out[name]["mean"] <= hi <= 0.9
    assert rescore(report, graded, "toy", seed=4) == out
