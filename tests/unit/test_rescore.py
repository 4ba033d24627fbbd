"""Re-scoring on the clean subset: statistics against published values, joins, formats, planted effects."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _harness import (
    FIXTURES,
    TOY_CODE,
    TOY_GSM,
    TOY_MMLU,
    write_evalplus_results,
    write_lighteval_details,
    write_lm_eval_samples,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam import Benchmark, ConfigError, InputError, Item, check, render
from decontam import results as results_module
from decontam.config import NormalizeConfig
from decontam.normalize import normalize
from decontam.rescore import (
    BOOTSTRAP_RESAMPLES,
    Z95,
    _difference,
    fisher_exact,
    load_results,
    rescore,
    rescore_by_filter,
    subset_stats,
    to_table,
)
from decontam.results import QuestionFinder, load_results_by_filter

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


# ------------------------------------------------------- harness files as the tools write them (issue 12, point 5)
# tests/fixtures/harness/ holds files written by lm-eval 0.4.13, lighteval 0.13.0 and 0.9.2 and EvalPlus 0.3.1 and
# 0.2.0 themselves, on toy items (its README.md says how); tests/_harness.py writes the same formats.


@pytest.fixture(scope="module")
def toy_report():
    """A real check of the fixtures' toy items, ids as decontam names them: GSM8K row numbers, MMLU
    ``anatomy_test/<row>``, HumanEval ``task_id``, MBPP ``task_id`` (an integer). Item 1 (GSM8K), 2 (MMLU),
    ``HumanEval/3`` and MBPP 14 are planted in the corpus."""
    gsm = Benchmark.from_items("gsm8k", [(i, q) for i, (q, _) in enumerate(TOY_GSM)])
    mmlu = Benchmark.from_items("mmlu", [(f"anatomy_test/{i}", q) for i, q in enumerate(TOY_MMLU)])
    prompts = [f'def {name}({args}):\n    """Toy task {i}."""\n' for i, (name, args, *_) in enumerate(TOY_CODE)]
    he = Benchmark.from_items("humaneval", [(f"HumanEval/{i}", p) for i, p in enumerate(prompts)])
    mbpp = Benchmark.from_items("mbpp", [(i + 11, p) for i, p in enumerate(prompts)])
    corpus = [f"forum post: {TOY_GSM[1][0]}", f"quiz night: {TOY_MMLU[2]}", f"snippet:\n{prompts[3]}"]
    report = check(corpus, [gsm, mmlu, he, mbpp], progress=False).to_dict()
    assert {b["name"]: b["contaminated_ids"] for b in report["benchmarks"]} == {
        "gsm8k": [1], "mmlu": ["anatomy_test/2"], "humaneval": ["HumanEval/3"], "mbpp": [14]}
    return report


def _ids(report, name):
    return [it["id"] for b in report["benchmarks"] if b["name"] == name for it in b["items"]]


def _copy_as(tmp_path, fixture, name):
    """A fixture under the name the tool gave it (lighteval's hold ``|`` and ``:``, not allowed everywhere)."""
    path = tmp_path / name
    shutil.copyfile(FIXTURES / fixture, path)
    return path


LM_GSM = "lm-eval-0.4.13/samples_toy_gsm_2025-06-01T12-30-45.123456.jsonl"
LM_MMLU = "lm-eval-0.4.13/samples_mmlu_anatomy_2025-06-01T12-30-45.123456.jsonl"


@pytest.mark.parametrize("fixture, fmt, task, n, description", [
    (LM_GSM, "lm-eval samples", "toy_gsm", 8, "lm-eval, two filters: every document once per filter"),
    (LM_MMLU, "lm-eval samples", "mmlu_anatomy", 4, "lm-eval, multiple choice, filter none"),
    ("lighteval-0.13.0/details_gsm8k-0.parquet", "lighteval details", "gsm8k|0", 4, "lighteval >= 0.11: doc struct"),
    ("lighteval-0.13.0/details_mmlu-anatomy-0.parquet", "lighteval details", "mmlu:anatomy|0", 4, "task in doc"),
    ("lighteval-0.9.2/details_lighteval-gsm8k-5.parquet", "lighteval details", None, 4, "lighteval <= 0.10: flat"),
    ("evalplus-0.3.1/samples_eval_results.json", "evalplus results", None, 8, "EvalPlus >= 0.2.1, 2 samples/task"),
    ("evalplus-0.3.1/mbpp_samples_eval_results.json", "evalplus results", None, 8, "EvalPlus MBPP+"),
    ("evalplus-0.2.0/samples_eval_results.json", "evalplus results", None, 8, "EvalPlus <= 0.2.0 layout"),
])
def test_harness_files_are_told_apart_by_their_shape(fixture, fmt, task, n, description):
    f = results_module._read(FIXTURES / fixture)
    assert (f.format, f.task, len(f.records)) == (fmt, task, n), description


def test_lm_eval_file_with_two_filters_gives_one_result_per_filter_in_the_tasks_order(toy_report):
    """lm-eval writes every document once per filter (``evaluate`` loops over the filters, then the documents)."""
    ids = _ids(toy_report, "gsm8k")
    by_filter = load_results_by_filter([FIXTURES / LM_GSM], ids)
    assert [r.filter for r in by_filter] == ["strict-match", "flexible-extract"]
    assert [r.scores for r in by_filter] == [{"0": [1.0], "1": [0.0], "2": [0.0], "3": [1.0]},
                                             {"0": [1.0], "1": [1.0], "2": [0.0], "3": [1.0]}]
    assert all(r.id_source == "doc_id" and r.metric == "exact_match" and r.n_records == 4 for r in by_filter)
    with pytest.raises(ConfigError, match="several filters.*--filter"):  # one result asked for: choose
        load_results([FIXTURES / LM_GSM], ids)
    picked = load_results([FIXTURES / LM_GSM], ids, filter_name="flexible-extract")
    assert picked.filter == "flexible-extract" and picked.scores == by_filter[1].scores
    single = load_results_by_filter([FIXTURES / LM_MMLU], _ids(toy_report, "mmlu"))
    assert len(single) == 1 and single[0].filter is None and single[0].id_source == "anatomy_test/{doc_id}"


def test_rescore_by_filter_json_keeps_single_results_unchanged_and_lists_several(toy_report):
    ids = _ids(toy_report, "gsm8k")
    one = rescore_by_filter(toy_report, load_results_by_filter([FIXTURES / LM_MMLU], _ids(toy_report, "mmlu")),
                            "mmlu")
    assert "filter" not in one and "by_filter" not in one and "filters" not in one  # as before
    assert one == rescore(toy_report, load_results([FIXTURES / LM_MMLU], _ids(toy_report, "mmlu")), "mmlu")
    both = rescore_by_filter(toy_report, load_results_by_filter([FIXTURES / LM_GSM], ids), "gsm8k")
    assert both["filters"] == ["strict-match", "flexible-extract"]
    assert [r["filter"] for r in both["by_filter"]] == both["filters"]
    # the top level is the first filter's document, so a reader of one result reads strict-match
    assert {k: v for k, v in both.items() if k not in ("filters", "by_filter")} == both["by_filter"][0]
    strict, flexible = both["by_filter"]
    assert (strict["clean"]["mean"], strict["contaminated"]["mean"]) == (2 / 3, 0.0)  # item 1 is contaminated
    assert (flexible["clean"]["mean"], flexible["contaminated"]["mean"]) == (2 / 3, 1.0)
    json.loads(json.dumps(both))  # plain JSON
    table = to_table(both)
    lines = table.splitlines()
    assert "2 filters, one row each" in lines[0] and "metric exact_match" in lines[0]
    assert lines[1].split() == ["filter", "all", "(n=4)", "clean", "(n=3)", "contaminated", "(n=1)",
                                "contaminated", "−", "clean"]
    assert lines[2].startswith("strict-match ") and "0.5000 [" in lines[2] and "0.0000 [" in lines[2]
    assert lines[3].startswith("flexible-extract ") and "0.7500 [" in lines[3]
    assert sum(line.startswith(("strict-match", "flexible-extract")) for line in lines) == 2  # one row each
    assert "95% CI: Wilson score; contaminated − clean: Fisher's exact test" in table
    assert "all − clean: strict-match -0.1667; flexible-extract +0.0833" in table
    picked = rescore(toy_report, load_results([FIXTURES / LM_GSM], ids, filter_name="strict-match"), "gsm8k")
    assert picked == strict and "(filter strict-match)" in to_table(picked)


def test_card_and_page_give_one_score_row_per_filter(toy_report):
    """``decontam report --scores`` reads rescore JSON through ``decontam.render``, which knows one result."""
    both = rescore_by_filter(toy_report, load_results_by_filter([FIXTURES / LM_GSM], _ids(toy_report, "gsm8k")),
                             "gsm8k")
    card = render.to_card(toy_report, "report.json", [both])
    # one row per filter, each labelled with its filter, in the task's order
    strict = re.search(r"\| gsm8k \| exact_match \(strict-match\) \| 0\.5000 \(n=4\) \| 0\.6667 \(n=3\) \| "
                       r"0\.0000 \(n=1\) \|", card)
    flexible = re.search(r"\| gsm8k \| exact_match \(flexible-extract\) \| 0\.7500 \(n=4\) \| 0\.6667 \(n=3\) \| "
                         r"1\.0000 \(n=1\) \|", card)
    assert strict and flexible and strict.start() < flexible.start()
    page = render.to_html(toy_report, "report.json", scores=[both])
    assert "exact_match (strict-match)" in page and "exact_match (flexible-extract)" in page


def test_lighteval_details_join_by_doc_id_and_mmlu_subject(toy_report, tmp_path):
    """lighteval >= 0.11: ``doc.id`` is the row of the evaluation split (``LightevalTask._get_docs_from_split``),
    which is how decontam names GSM8K items; ``mmlu:anatomy`` rows are ``anatomy_test/<row>``."""
    gsm = load_results([FIXTURES / "lighteval-0.13.0/details_gsm8k-0.parquet"], _ids(toy_report, "gsm8k"),
                       questions=QuestionFinder.from_report(toy_report, "gsm8k"))
    assert (gsm.format, gsm.id_source, gsm.metric) == ("lighteval details", "doc.id", "extractive_match")
    assert gsm.scores == {"0": [1.0], "1": [1.0], "2": [0.0], "3": [1.0]}
    mmlu_ids = _ids(toy_report, "mmlu")
    mmlu = load_results([FIXTURES / "lighteval-0.13.0/details_mmlu-anatomy-0.parquet"], mmlu_ids)
    assert (mmlu.id_source, mmlu.metric) == ("anatomy_test/{doc.id}", "em")
    assert mmlu.scores == {"anatomy_test/0": [1.0], "anatomy_test/1": [0.0], "anatomy_test/2": [1.0],
                           "anatomy_test/3": [0.0]}
    by_template = load_results([FIXTURES / "lighteval-0.13.0/details_mmlu-anatomy-0.parquet"], mmlu_ids,
                               id_template="anatomy_test/{doc[id]}")
    assert by_template.scores == mmlu.scores
    out = rescore(toy_report, mmlu, "mmlu")
    assert out["contaminated"] == {"n": 1, "mean": 1.0, "ci95": pytest.approx([0.2065, 1.0], abs=1e-4)}


def test_lighteval_details_without_ids_join_by_the_query_text(toy_report, tmp_path):
    """lighteval <= 0.10 writes no document id and not in document order: the query names the item."""
    gsm = _copy_as(tmp_path, "lighteval-0.9.2/details_lighteval-gsm8k-5.parquet",
                   "details_lighteval|gsm8k|5_2024-05-01T10-00-00.000000.parquet")
    with pytest.raises(ConfigError, match="no id field"):  # without the report's probes there is no id
        load_results([gsm], _ids(toy_report, "gsm8k"))
    res = load_results([gsm], _ids(toy_report, "gsm8k"), questions=QuestionFinder.from_report(toy_report, "gsm8k"))
    assert (res.id_source, res.metric) == ("query text", "qem")
    assert res.scores == {"0": [1.0], "1": [1.0], "2": [0.0], "3": [1.0]}
    mmlu = _copy_as(tmp_path, "lighteval-0.9.2/details_leaderboard-mmlu-anatomy-5.parquet",
                    "details_leaderboard|mmlu:anatomy|5_2024-05-01T10-00-00.000000.parquet")
    res = load_results([mmlu], _ids(toy_report, "mmlu"), questions=QuestionFinder.from_report(toy_report, "mmlu"))
    assert res.scores == {"anatomy_test/0": [1.0], "anatomy_test/1": [0.0], "anatomy_test/2": [1.0],
                          "anatomy_test/3": [0.0]}
    assert results_module._read(mmlu).task == "leaderboard|mmlu:anatomy|5"


def test_lighteval_query_join_beats_a_row_number_that_is_not_the_items_id(toy_report, tmp_path):
    """MBPP's ids are its ``task_id`` (11, 12...), not rows: the row ids name fewer items than the queries."""
    prompts = [f'def {name}({args}):\n    """Toy task {i}."""\n' for i, (name, args, *_) in enumerate(TOY_CODE)]
    rows = [{"id": row, "query": f"You are an expert Python programmer.\n{p}", "task_name": "mbpp|0",
             "metrics": {"pass@1": float(row % 2)}} for row, p in enumerate(prompts)]
    path = write_lighteval_details(tmp_path / "details_mbpp|0_2025-01-01T00-00-00.000000.parquet", rows)
    res = load_results([path], [11, 12, 13, 14, 1, 2], questions=QuestionFinder.from_report(toy_report, "mbpp"))
    assert res.id_source == "query text" and res.scores == {"11": [0.0], "12": [1.0], "13": [0.0], "14": [1.0]}


@pytest.mark.parametrize("version", ["0.13", "0.9", "0.6"])
def test_lighteval_writer_of_the_tests_matches_the_tools_files(version, toy_report, tmp_path):
    """``write_lighteval_details`` writes the columns (and nested fields) lighteval writes; its 0.6 layout, where
    every value is a string, reads the same."""
    real = FIXTURES / ("lighteval-0.13.0/details_mmlu-anatomy-0.parquet" if version == "0.13"
                       else "lighteval-0.9.2/details_lighteval-gsm8k-5.parquet")
    rows = [{"id": i, "query": f"Question: {q}\nAnswer:", "task_name": "gsm8k|0", "metrics": {"qem": i % 2}}
            for i, (q, _) in enumerate(TOY_GSM)]
    mine = write_lighteval_details(tmp_path / "details_lighteval|gsm8k|5_2025-01-01T00-00-00.000000.parquet", rows,
                                   version)

    def shape(fields):
        """Column names, and the field names of struct columns, all the way down (metric names aside)."""
        return {f.name: shape(list(f.type)) if pa.types.is_struct(f.type) else None for f in fields
                if f.name != "metric"}

    mine_schema, real_schema = pq.read_schema(mine), pq.read_schema(real)
    if version == "0.6":  # lighteval <= 0.7: the same columns, every one a string
        assert mine_schema.names == real_schema.names
        assert all(pa.types.is_string(t) for t in mine_schema.types)
    else:
        assert shape(mine_schema) == shape(real_schema)
    res = load_results([mine], _ids(toy_report, "gsm8k"), questions=QuestionFinder.from_report(toy_report, "gsm8k"))
    assert res.metric == "qem" and res.scores == {"0": [0.0], "1": [1.0], "2": [0.0], "3": [1.0]}


def test_evalplus_results_average_samples_base_and_plus_and_join_mbpp_numbers(toy_report):
    """EvalPlus ``task_id`` ``HumanEval/3`` is HumanEval's; ``Mbpp/14`` is MBPP's ``task_id`` 14. ``base_status`` is
    the original tests; ``plus`` both the original and the extra tests, as EvalPlus counts HumanEval+/MBPP+."""
    base = {"0": [1.0, 1.0], "1": [1.0, 1.0], "2": [0.0, 0.0], "3": [1.0, 0.0]}
    plus = {"0": [1.0, 1.0], "1": [1.0, 0.0], "2": [0.0, 0.0], "3": [1.0, 0.0]}
    for version in ("0.3.1", "0.2.0"):
        he = load_results([FIXTURES / f"evalplus-{version}/samples_eval_results.json"], _ids(toy_report, "humaneval"))
        assert (he.format, he.id_source, he.metric) == ("evalplus results", "task_id", "base_status")
        assert he.scores == {f"HumanEval/{k}": v for k, v in base.items()}
        mbpp = load_results([FIXTURES / f"evalplus-{version}/mbpp_samples_eval_results.json"],
                            _ids(toy_report, "mbpp"), score_field="plus")
        assert mbpp.id_source == "task_id number (Mbpp/2 -> 2)" and mbpp.metric == "plus"
        assert mbpp.scores == {str(int(k) + 11): v for k, v in plus.items()}
    out = rescore(toy_report, he, "humaneval")
    assert out["samples_per_item"] == {"min": 2, "max": 2} and out["binary"] is False
    assert out["contaminated"]["mean"] == 0.5 and out["clean"]["mean"] == pytest.approx(2 / 3)


def test_evalplus_writer_of_the_tests_matches_the_tools_files(tmp_path):
    for layout, version in (("0.3", "0.3.1"), ("0.2", "0.2.0")):
        real = json.loads((FIXTURES / f"evalplus-{version}/samples_eval_results.json").read_text("utf-8"))
        outcomes = [("pass", "pass"), ("fail", None)] if layout == "0.3" else [("success", "success")]
        mine = json.loads(write_evalplus_results(tmp_path / f"{layout}.json", {"HumanEval/0": outcomes}, layout)
                          .read_text("utf-8"))
        assert sorted(mine) == sorted(real) == ["date", "eval", "hash"]
        first_real, first_mine = real["eval"]["HumanEval/0"], mine["eval"]["HumanEval/0"]
        if layout == "0.3":
            assert sorted(first_mine[0]) == sorted(first_real[0])
        else:
            assert sorted(first_mine) == sorted(first_real) == ["base", "nfiles", "plus"]
    with pytest.raises(InputError, match=r"eval\['HumanEval/0'\]\[1\]\.plus"):  # base-only sample: no plus outcome
        load_results([tmp_path / "0.3.json"], ["HumanEval/0"], score_field="plus")


def test_lm_eval_writer_of_the_tests_matches_the_tools_files(tmp_path):
    real = json.loads((FIXTURES / LM_GSM).read_text("utf-8").splitlines()[0])
    mine_path = write_lm_eval_samples(tmp_path / "samples_gsm8k_2025-01-01T00-00-00.000000.jsonl",
                                      [(0, {"question": "q", "answer": "a"}, "Question: q\nAnswer:")],
                                      {"strict-match": [1.0], "flexible-extract": [0.0]})
    mine = [json.loads(line) for line in mine_path.read_text("utf-8").splitlines()]
    assert [list(m) for m in mine] == [list(real)] * 2  # the same keys, in lm-eval's order
    assert [r.filter for r in load_results_by_filter([mine_path], [0])] == ["strict-match", "flexible-extract"]


TEMPLATE = "For which of these two scenarios does the main character do something clearly morally wrong? "


@pytest.mark.parametrize("texts, prefer, expected, description", [
    (["Which of the following is true of the human heart? In this question..."], None, ["heart"],
     "sampled probes (long) beat a short question used whole that the text also holds"),
    (["Q: Which of the following is true?"], None, ["true"], "a short question used whole, alone"),
    (["Which of the following is true, today?"], None, ["true, today"],
     "a short question holding another short one names the text"),
    (["Keynes\nA. showed how Say's Law operated\nB. was American"], None, [None],
     "two short questions, neither part of the other (one in a choice): no guess"),
    (["Name the bone."], None, [None], "a question asked twice: no guess"),
    (["Name the bone."], "anatomy_test/", ["anatomy_test/5"], "... unless the subject tells them apart"),
    (["Name the bone.", "Which of the following is true of bones? Name the bone."], "anatomy_test/", [None, None],
     "a short question found in another text (whose own item the report lacks): no guess"),
    ([TEMPLATE + "Scenario 1: I ate the apples.", TEMPLATE + "Scenario 1: I sold the pears.",
      TEMPLATE + "Scenario 1: I grew plums."], None, ["apples", "pears", None],
     "a shared template: the item no other text holds; one whose probes all lie in the template names none"),
    (["Nothing here", None], None, [None, None], "no item"),
])
def test_question_finder_names_an_item_only_when_it_is_certain(texts, prefer, expected, description):
    t = normalize(TEMPLATE)
    f = QuestionFinder([
        ("true", ["Whichofthefollowingistrue"]), ("true, today", ["Whichofthefollowingistruetoday"]),
        ("heart", ["WhichofthefollowingistrueofthehumanheartInthis", "heartInthisquestion"]),
        ("keynes", ["Keynes"]), ("say", ["SaysLaw"]),
        ("anatomy_test/5", ["Namethebone"]), ("biology_test/9", ["Namethebone"]),
        ("apples", [t[:50], t[-20:] + "Scenario1Iatetheapples"]), ("pears", [t[:50], "Scenario1Isoldthepears"]),
        ("template only", [t[:50], t[30:80]])], NormalizeConfig())
    assert f.find(texts, prefer=prefer) == expected, description


def test_question_finder_normalizes_as_the_check_did():
    lower = QuestionFinder([("a", ["howmanyapples"])], NormalizeConfig(lowercase=True))
    assert lower.find(["HOW MANY APPLES?"]) == ["a"]
    assert QuestionFinder([("a", ["howmanyapples"])], NormalizeConfig()).find(["HOW MANY APPLES?"]) == [None]
    assert QuestionFinder([], NormalizeConfig()).find(["x"]) == [None]


def test_a_query_that_names_no_item_is_listed_not_dropped(toy_report, tmp_path):
    rows = [{"id": 0, "query": f"Question: {TOY_GSM[0][0]}", "task_name": "gsm8k|0", "metrics": {"em": 1}},
            {"id": 0, "query": "Question: a problem the report does not have", "task_name": "gsm8k|0",
             "metrics": {"em": 0}}]
    path = write_lighteval_details(tmp_path / "d.parquet", rows, "0.9")
    res = load_results([path], _ids(toy_report, "gsm8k"), questions=QuestionFinder.from_report(toy_report, "gsm8k"))
    out = rescore(toy_report, res, "gsm8k")
    assert out["not_in_report"] == {"n": 1, "ids": ["d.parquet row 2"]}
    assert out["missing_from_results"]["ids"] == ["1", "2", "3"] and out["all"]["n"] == 1


def test_any_parquet_with_an_id_and_a_score(tmp_path):
    path = tmp_path / "scores.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "correct": [True, False]}), path)
    res = load_results([path], ["a", "b"])
    assert (res.format, res.id_source, res.metric) == ("parquet", "id", "correct")
    assert res.scores == {"a": [1.0], "b": [0.0]}
