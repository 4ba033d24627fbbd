"""``decontam rescore`` through the command line, on checks of real benchmark items.

On real HumanEval prompts: the interval each figure uses is named in the table and the JSON (Wilson for 0/1
outcomes, a seeded bootstrap percentile interval for averaged samples), the bootstrap limits stay within the
scores' range, and a seed reproduces them. On real GSM8K, MMLU, MBPP and HumanEval items: results in the formats
lm-eval (two filters: one row each), lighteval (by ``doc.id``, and by query text) and EvalPlus write join to the
report's ids.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest
from _harness import write_evalplus_results, write_lighteval_details, write_lm_eval_samples

N_TASKS = 30
PLANTED = (3, 8, 21)


@pytest.fixture(scope="module")
def checked(tmp_path_factory, shared_benchmarks, run_cli) -> Path:
    """A check of the first 30 real HumanEval tasks against a corpus quoting three of them."""
    root = tmp_path_factory.mktemp("rescore-cli")
    with gzip.open(shared_benchmarks / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        tasks = [json.loads(line) for line in fh][:N_TASKS]
    (root / "he.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    docs = [{"id": f"doc{i}", "text": f"# copied from a forum\n{tasks[i]['prompt']}\n"} for i in PLANTED]
    docs.append({"id": "other", "text": "def unrelated():\n    return 42\n"})
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    res = run_cli("check", "corpus.jsonl", "-b", "humaneval=he.jsonl", "--report", "report.json", cwd=root)
    assert res.returncode == 0, res.stderr
    report = json.loads((root / "report.json").read_text("utf-8"))
    assert sorted(report["benchmarks"][0]["contaminated_ids"]) == sorted(f"HumanEval/{i}" for i in PLANTED)
    return root


def _results(root: Path, name: str, samples_per_task: int) -> Path:
    """HumanEval results: contaminated tasks pass every sample, the others one sample in ``samples_per_task``
    for every third task."""
    rows = []
    for i in range(N_TASKS):
        for k in range(samples_per_task):
            passed = i in PLANTED or (i % 3 == 0 and k == 0)
            rows.append({"task_id": f"HumanEval/{i}", "completion": "", "passed": passed,
                         "result": "passed" if passed else "failed: AssertionError"})
    path = root / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_averaged_samples_get_a_seeded_bootstrap_interval_named_in_table_and_json(checked, run_cli):
    results = _results(checked, "four_samples_results.jsonl", 4)
    res = run_cli("rescore", "report.json", "--results", results.name, "--seed", "7", "--json", "a.json",
                  cwd=checked)
    assert res.returncode == 0, res.stderr
    assert "95% CI (bootstrap percentile, 10000 resamples, seed 7)" in res.stdout
    assert "bootstrap percentile interval (10000 resamples, seed 7)" in res.stdout
    out = json.loads((checked / "a.json").read_text("utf-8"))
    assert out["binary"] is False and out["samples_per_item"] == {"min": 4, "max": 4}
    assert out["intervals"]["clean"] == "bootstrap_percentile"
    assert out["intervals"]["bootstrap"] == {"resamples": 10000, "seed": 7}
    clean = out["clean"]  # per-item scores 0.25 (every third task) or 0
    assert clean["n"] == N_TASKS - len(PLANTED)
    assert 0.0 <= clean["ci95"][0] <= clean["mean"] <= clean["ci95"][1] <= 0.25
    assert out["contaminated"]["ci95"] == [1.0, 1.0]  # every item 1: the resampled means are all 1
    # the same seed reproduces every figure; another seed draws other resamples
    res = run_cli("rescore", "report.json", "--results", results.name, "--seed", "7", "--format", "json",
                  cwd=checked)
    assert json.loads(res.stdout) == out
    res = run_cli("rescore", "report.json", "--results", results.name, "--seed", "8", "--format", "json",
                  cwd=checked)
    other = json.loads(res.stdout)
    assert other["intervals"]["bootstrap"]["seed"] == 8 and other["all"]["mean"] == out["all"]["mean"]


def test_one_outcome_per_item_keeps_the_wilson_interval(checked, run_cli):
    results = _results(checked, "one_sample_results.jsonl", 1)
    res = run_cli("rescore", "report.json", "--results", results.name, "--format", "json", cwd=checked)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["binary"] is True
    assert out["intervals"] == {"all": "wilson", "clean": "wilson", "contaminated": "wilson",
                                "difference": "newcombe", "level": 0.95, "bootstrap": None}
    assert out["contaminated"]["ci95"] == pytest.approx([0.4385, 1.0], abs=1e-4)  # Wilson 3/3
    res = run_cli("rescore", "report.json", "--results", results.name, cwd=checked)
    assert "95% CI (Wilson score)" in res.stdout and "Newcombe hybrid score interval" in res.stdout
    assert "seed of the bootstrap intervals and the permutation test" in " ".join(
        run_cli("rescore", "--help").stdout.split())


# ------------------------------------------ more harnesses (issue 12, point 5): a check of real GSM8K, MMLU, MBPP
# and HumanEval items, re-scored from files in the formats lm-eval, lighteval and EvalPlus write (tests/_harness.py;
# each writer checked against the tools' own files in tests/unit/test_rescore.py)

GSM_PLANTED = (3, 10, 42)
MMLU_PLANTED = ("anatomy_test/5", "astronomy_test/7")
MBPP_PLANTED = (11, 15)
HE_PLANTED = ("HumanEval/2",)
SUBJECTS = ("anatomy", "astronomy")


@pytest.fixture(scope="module")
def harness_run(tmp_path_factory, shared_benchmarks, run_cli):
    """``decontam check`` of a corpus quoting a few real items of four benchmarks; returns (folder, items)."""
    import csv

    root = tmp_path_factory.mktemp("rescore-harnesses")
    gsm = [json.loads(line) for line in (shared_benchmarks / "gsm8k" / "test.jsonl").read_text("utf-8").splitlines()]
    (root / "mmlu").mkdir()
    mmlu = {}
    for subject in SUBJECTS:
        src = shared_benchmarks / "mmlu" / "test" / f"{subject}_test.csv"
        shutil.copyfile(src, root / "mmlu" / src.name)
        with src.open(encoding="utf-8", newline="") as fh:
            mmlu[subject] = list(csv.DictReader(fh))
    mbpp = {r["task_id"]: r for r in map(json.loads, (shared_benchmarks / "mbpp" / "mbpp.jsonl").read_text("utf-8")
                                         .splitlines())}
    with gzip.open(shared_benchmarks / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        he = [json.loads(line) for line in fh]
    quoted = ([gsm[i]["question"] for i in GSM_PLANTED]
              + [mmlu[s.split("_")[0]][int(s.rsplit("/", 1)[1])]["question"] for s in MMLU_PLANTED]
              + [mbpp[i]["text"] for i in MBPP_PLANTED] + [he[2]["prompt"]])
    docs = [{"id": f"doc{k}", "text": f"copied from a forum:\n{q}\n"} for k, q in enumerate(quoted)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    res = run_cli("check", "corpus.jsonl", "-b", f"gsm8k={shared_benchmarks / 'gsm8k' / 'test.jsonl'}",
                  "-b", "mmlu=mmlu", "-b", f"mbpp={shared_benchmarks / 'mbpp' / 'mbpp.jsonl'}",
                  "-b", f"humaneval={shared_benchmarks / 'humaneval' / 'HumanEval.jsonl.gz'}",
                  "--report", "report.json", cwd=root)
    assert res.returncode == 0, res.stderr
    report = json.loads((root / "report.json").read_text("utf-8"))
    assert {b["name"]: sorted(map(str, b["contaminated_ids"])) for b in report["benchmarks"]} == {
        "gsm8k": sorted(map(str, GSM_PLANTED)), "mmlu": sorted(MMLU_PLANTED), "mbpp": sorted(map(str, MBPP_PLANTED)),
        "humaneval": list(HE_PLANTED)}
    return root, {"gsm8k": gsm, "mmlu": mmlu, "mbpp": mbpp, "humaneval": he}


def _rescore_json(run_cli, root, *args):
    res = run_cli("rescore", "report.json", *args, "--format", "json", cwd=root)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_lm_eval_file_with_two_filters_gives_one_row_per_filter(harness_run, run_cli):
    root, items = harness_run
    gsm = items["gsm8k"]
    docs = [(i, r, f"Question: {r['question']}\nAnswer:") for i, r in enumerate(gsm)]
    strict = [1.0 if i in GSM_PLANTED or i % 2 == 0 else 0.0 for i in range(len(gsm))]
    flexible = [1.0 if i in GSM_PLANTED or i % 4 != 3 else 0.0 for i in range(len(gsm))]
    write_lm_eval_samples(root / "samples_gsm8k_2025-06-01T12-30-45.123456.jsonl", docs,
                          {"strict-match": strict, "flexible-extract": flexible})
    res = run_cli("rescore", "report.json", "--benchmark", "gsm8k", "--results",
                  "samples_gsm8k_2025-06-01T12-30-45.123456.jsonl", "--json", "gsm8k.rescore.json", cwd=root)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "2 filters, one row each" in lines[0]
    assert lines[1].split()[:3] == ["filter", "all", f"(n={len(gsm)})"]
    assert lines[2].startswith("strict-match ") and lines[3].startswith("flexible-extract ")
    out = json.loads((root / "gsm8k.rescore.json").read_text("utf-8"))
    assert out["filters"] == ["strict-match", "flexible-extract"] and out["filter"] == "strict-match"
    clean = [i for i in range(len(gsm)) if i not in GSM_PLANTED]
    for row, scores in zip(out["by_filter"], (strict, flexible)):
        assert row["contaminated"]["mean"] == 1.0 and row["clean"]["n"] == len(clean)
        assert row["clean"]["mean"] == pytest.approx(sum(scores[i] for i in clean) / len(clean))
    assert out["all"] == out["by_filter"][0]["all"]  # a reader of one result reads the first filter
    jsonschema = pytest.importorskip("jsonschema")  # the schema `report --scores` holds results to: the oracle's
    from decontam.rescore import rescore_schema
    from decontam.schema_check import schema_problem

    jsonschema.Draft202012Validator.check_schema(rescore_schema())
    jsonschema.validate(out, rescore_schema())
    assert schema_problem(out, rescore_schema()) is None
    wrong = {**out, "by_filter": [out["by_filter"][0], {**out["by_filter"][1], "clean": {"n": -1, "mean": 0.5}}]}
    assert not jsonschema.Draft202012Validator(rescore_schema()).is_valid(wrong)
    assert schema_problem(wrong, rescore_schema()) == "at by_filter[1].clean.n: -1 is out of range [0, ]"
    one = _rescore_json(run_cli, root, "--benchmark", "gsm8k", "--results",
                        "samples_gsm8k_2025-06-01T12-30-45.123456.jsonl", "--filter", "flexible-extract")
    assert one == out["by_filter"][1] and "by_filter" not in one
    card = run_cli("report", "report.json", "--scores", "gsm8k.rescore.json", cwd=root)
    assert card.returncode == 0, card.stderr
    for row in out["by_filter"]:  # one row per filter, named
        assert re.search(rf"\| gsm8k \| exact_match \({row['filter']}\) \| {row['all']['mean']:.4f} \(n={len(gsm)}\) \|",
                         card.stdout)


def test_lighteval_details_join_by_doc_id_and_by_query_text(harness_run, run_cli):
    """lighteval >= 0.11 names documents by row (``doc.id``); older details only hold the query."""
    root, items = harness_run
    gsm = items["gsm8k"]
    rows = [{"id": i, "query": f"Question: {r['question']}\nAnswer:", "task_name": "gsm8k|5",
             "metrics": {"extractive_match": 1.0 if i in GSM_PLANTED or i % 3 == 0 else 0.0}}
            for i, r in enumerate(gsm)]
    write_lighteval_details(root / "details_gsm8k|5_2025-06-01T12-30-45.123456.parquet", rows)
    new = _rescore_json(run_cli, root, "--benchmark", "gsm8k", "--results",
                        "details_gsm8k|5_2025-06-01T12-30-45.123456.parquet")
    assert (new["format"], new["id_source"], new["metric"]) == ("lighteval details", "doc.id", "extractive_match")
    assert new["missing_from_results"]["n"] == 0 and new["not_in_report"]["n"] == 0
    assert new["contaminated"]["mean"] == 1.0
    old_rows = [dict(r, metrics={"qem": r["metrics"]["extractive_match"]}) for r in rows[::-1]]  # out of order
    write_lighteval_details(root / "details_lighteval|gsm8k|5_2024-05-01T10-00-00.000000.parquet", old_rows, "0.9")
    old = _rescore_json(run_cli, root, "--benchmark", "gsm8k", "--results",
                        "details_lighteval|gsm8k|5_2024-05-01T10-00-00.000000.parquet")
    assert (old["id_source"], old["metric"]) == ("query text", "qem")
    for subset in ("all", "clean", "contaminated"):
        assert old[subset] == new[subset]
    assert old["missing_from_results"]["n"] == 0 and old["not_in_report"]["n"] == 0

    paths = []
    for subject in SUBJECTS:  # lighteval's mmlu prompt; one details file per subject
        rows = [{"id": i, "task_name": f"mmlu:{subject}|5", "metrics": {"em": float(i % 2)},
                 "query": f"The following are multiple choice questions (with answers) about {subject}.\n\n"
                          f"Question: {r['question']}\nA. {r['choice0']}\nB. {r['choice1']}\nC. {r['choice2']}\n"
                          f"D. {r['choice3']}\nAnswer:"} for i, r in enumerate(items["mmlu"][subject])]
        paths.append(write_lighteval_details(root / f"details_mmlu:{subject}|5_2025-06-01T12-30-45.123456.parquet",
                                             rows).name)
    mmlu = _rescore_json(run_cli, root, "--benchmark", "mmlu", "--results", paths[0], "--results", paths[1])
    assert mmlu["id_source"] == "anatomy_test/{doc.id}, astronomy_test/{doc.id}"
    assert mmlu["all"]["n"] == sum(len(v) for v in items["mmlu"].values()) and mmlu["not_in_report"]["n"] == 0
    assert mmlu["contaminated"]["mean"] == 1.0  # rows 5 and 7 are odd


def test_evalplus_results_for_humaneval_and_mbpp(harness_run, run_cli):
    """EvalPlus ``HumanEval/N`` is HumanEval's ``task_id``; ``Mbpp/N`` is MBPP's ``task_id`` N."""
    root, items = harness_run
    he = {t["task_id"]: [("pass", "pass"), ("pass" if t["task_id"] in HE_PLANTED else "fail", "fail")]
          for t in items["humaneval"]}
    write_evalplus_results(root / "samples_eval_results.json", he)
    out = _rescore_json(run_cli, root, "--benchmark", "humaneval", "--results", "samples_eval_results.json")
    assert (out["format"], out["id_source"], out["metric"]) == ("evalplus results", "task_id", "base_status")
    assert out["contaminated"]["mean"] == 1.0 and out["clean"]["mean"] == 0.5
    assert out["samples_per_item"] == {"min": 2, "max": 2} and out["not_in_report"]["n"] == 0
    plus = _rescore_json(run_cli, root, "--benchmark", "humaneval", "--results", "samples_eval_results.json",
                         "--score-field", "plus")
    assert plus["metric"] == "plus" and plus["contaminated"]["mean"] == 0.5 and plus["clean"]["mean"] == 0.5

    ids = list(range(11, 61))  # MBPP+ holds a subset of MBPP; the other items are listed as without result
    mb = {f"Mbpp/{i}": [("success" if i in MBPP_PLANTED or i % 2 else "failed", None)] for i in ids}
    write_evalplus_results(root / "mbpp_eval_results.json", mb, layout="0.2")
    out = _rescore_json(run_cli, root, "--benchmark", "mbpp", "--results", "mbpp_eval_results.json")
    assert out["id_source"] == "task_id number (Mbpp/2 -> 2)" and out["all"]["n"] == len(ids)
    assert out["contaminated"] == {"n": 2, "mean": 1.0, "ci95": pytest.approx([0.3424, 1.0], abs=1e-4)}
    assert out["missing_from_results"]["n"] == len(items["mbpp"]) - len(ids) and out["not_in_report"]["n"] == 0


def test_a_portrait_checks_contaminated_subset_is_named_possible_an_upper_bound(checked, run_cli):
    """Re-scoring a portrait check: its contaminated items are only possibly in the corpus (they passed a Bloom
    filter), so the table names that subset ``possible`` with what it means, the JSON says ``upper_bound``, and
    the card's scores table says so too; an exact check's figures keep their names."""
    for args in (["index", "build", "corpus.jsonl", "-o", "ix", "--no-progress"],
                 ["index", "portrait", "ix", "-o", "p.dcp"],
                 ["index", "check", "p.dcp", "-b", "humaneval=he.jsonl", "--report", "portrait.json"]):
        assert run_cli(*args, cwd=checked).returncode == 0, args
    results = _results(checked, "one_sample_results.jsonl", 1).name
    res = run_cli("rescore", "portrait.json", "--results", results, "--json", "p.json", cwd=checked)
    assert res.returncode == 0, res.stderr
    rows = {line.split()[0]: line.split()[1] for line in res.stdout.splitlines()[2:5]}
    assert rows == {"all": str(N_TASKS), "clean": str(N_TASKS - len(PLANTED)), "possible": str(len(PLANTED))}
    assert "\npossible − clean: " in res.stdout and "contaminated − clean" not in res.stdout
    assert "an unverified upper bound that may hold clean items" in res.stdout.splitlines()[-1]
    out = json.loads((checked / "p.json").read_text("utf-8"))
    assert out["upper_bound"] is True and "upper bound" in out["note"] and out["contaminated"]["n"] == len(PLANTED)
    res = run_cli("report", "portrait.json", "--scores", "p.json", "--format", "md", "-o", "card.md", cwd=checked)
    assert res.returncode == 0, res.stderr
    assert f"(n={len(PLANTED)}) (possible: an upper bound, unverified)" in (checked / "card.md").read_text("utf-8")
    res = run_cli("rescore", "report.json", "--results", results, "--json", "exact.json", cwd=checked)
    assert "possible" not in res.stdout and "contaminated − clean" in res.stdout
    assert "upper_bound" not in json.loads((checked / "exact.json").read_text("utf-8"))


def test_id_field_and_id_template_are_one_or_the_other(checked, run_cli):
    """Both given, the template won and the field was ignored without a word: refused by the parser."""
    results = _results(checked, "one_sample_results.jsonl", 1).name
    res = run_cli("rescore", "report.json", "--results", results, "--id-field", "task_id", "--id-template",
                  "x{task_id}", cwd=checked)
    assert res.returncode == 2 and "argument --id-template: not allowed with argument --id-field" in res.stderr
