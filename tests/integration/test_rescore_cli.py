"""``decontam rescore`` through the command line, on a check of real HumanEval prompts: the interval each
figure uses is named in the table and the JSON (Wilson for 0/1 outcomes, a seeded bootstrap percentile interval
for averaged samples), the bootstrap limits stay within the scores' range, and a seed reproduces them.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

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
