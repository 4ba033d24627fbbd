"""``decontam rescore`` (and ``merge``) refusing what they cannot score or write, as real subprocess runs: one
line on stderr, the exit code of its kind (2 bad usage, 1 bad input), no traceback, no output written.

The report is a real ``decontam check`` of the toy items of ``tests/_harness.py``; the results files are the
tools' own (``tests/fixtures/harness/``) or written by the harness writers in the tools' formats.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _harness import FIXTURES, TOY_CODE, TOY_GSM, write_lm_eval_samples

LM_GSM = FIXTURES / "lm-eval-0.4.13/samples_toy_gsm_2025-06-01T12-30-45.123456.jsonl"
OTHER = ["What happens to you if you eat watermelon seeds after midnight on a full moon in the summer?",
         "Why do veins appear blue when you look at them through the skin of your wrist on a sunny day?",
         "What is the spiciest part of a chili pepper according to the people who grow them for a living?",
         "How long should you wait before filing a missing person report when someone has not come home?"]


@pytest.fixture(scope="module")
def base(tmp_path_factory, run_cli) -> Path:
    """A check of the toy GSM8K items and of MBPP tasks 1-4 (MBPP's own file format), and results files."""
    d = tmp_path_factory.mktemp("rescore-refusals")
    (d / "gsm.jsonl").write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in TOY_GSM))
    mbpp = [{"task_id": i + 1, "text": f"Write a function {name}({args}) for toy task {i}, in Python please.",
             "code": f"def {name}({args}):\n    {body}\n", "test_list": []}
            for i, (name, args, body, *_) in enumerate(TOY_CODE)]
    (d / "mbpp.jsonl").write_text("".join(json.dumps(r) + "\n" for r in mbpp))
    (d / "corpus.jsonl").write_text(json.dumps({"id": "d0", "text": f"forum: {TOY_GSM[1][0]}"}) + "\n")
    done = run_cli("check", "corpus.jsonl", "-b", "gsm8k=gsm.jsonl", "--report", "r.json", cwd=d)
    assert done.returncode == 0, done.stderr
    done = run_cli("check", "corpus.jsonl", "-b", "mbpp=mbpp.jsonl", "--report", "m.json", cwd=d)
    assert done.returncode == 0, done.stderr
    shutil.copyfile(LM_GSM, d / "samples_gsm8k_2025-06-01T12-30-45.123456.jsonl")
    shutil.copyfile(LM_GSM, d / "samples_gsm8k_2025-07-01T09-00-00.000000.jsonl")
    shutil.copyfile(FIXTURES / "evalplus-0.3.1/samples_eval_results.json", d / "he_eval_results.json")
    docs = [(i, {"question": q, "answer": "#### 1"}, f"Q: {q}\nA:") for i, q in enumerate(OTHER)]
    write_lm_eval_samples(d / "samples_truthfulqa_mc1_2025-06-02T10-00-00.000000.jsonl", docs,
                          {"none": [1.0, 0.0, 1.0, 1.0]}, "acc")
    one = [json.loads(line) for line in LM_GSM.read_text("utf-8").splitlines()[:4]]  # strict-match only
    (d / "one_filter.jsonl").write_text("".join(json.dumps(r) + "\n" for r in one))
    (d / "nan.csv").write_text("id,score\n0,1\n1,nan\n2,0\n3,1\n")
    (d / "empty.jsonl").write_text("")
    del one[2]["doc_id"]
    (d / "no_id.jsonl").write_text("".join(json.dumps(r) + "\n" for r in one))
    return d


@pytest.fixture()
def work(base, tmp_path) -> Path:
    shutil.copytree(base, tmp_path / "w")
    return tmp_path / "w"


def _error(done, code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("decontam: error: "), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    return lines[0]


def test_two_runs_of_one_task_are_refused_not_averaged(work, run_cli):
    first, second = "samples_gsm8k_2025-06-01T12-30-45.123456.jsonl", "samples_gsm8k_2025-07-01T09-00-00.000000.jsonl"
    msg = _error(run_cli("rescore", "r.json", "--results", first, "--results", second, "--json", "out.json",
                         cwd=work), 1)
    assert f"{second}, line 1: " in msg and f"{first}, line 1" in msg and "one run" in msg, msg
    assert not (work / "out.json").exists()
    msg = _error(run_cli("rescore", "r.json", "--results", first, "--results", f"./{first}", cwd=work), 2)
    assert "given twice" in msg, msg


def test_another_benchmarks_lm_eval_samples_are_refused(work, run_cli):
    name = "samples_truthfulqa_mc1_2025-06-02T10-00-00.000000.jsonl"
    msg = _error(run_cli("rescore", "r.json", "--results", name, cwd=work), 1)
    assert name in msg and "0 of 4" in msg, msg


def test_evalplus_humaneval_results_are_not_joined_to_an_mbpp_report(work, run_cli):
    msg = _error(run_cli("rescore", "m.json", "--results", "he_eval_results.json", cwd=work), 1)
    assert "he_eval_results.json" in msg and "HumanEval/0" in msg and "mbpp" in msg, msg


def test_a_filter_the_files_do_not_hold_is_an_error(work, run_cli):
    msg = _error(run_cli("rescore", "r.json", "--results", "one_filter.jsonl", "--filter", "flexible-extract",
                         cwd=work), 2)
    assert "flexible-extract" in msg and "strict-match" in msg, msg


def test_a_nan_score_is_an_input_error_and_no_json_is_written(work, run_cli):
    msg = _error(run_cli("rescore", "r.json", "--results", "nan.csv", "--json", "out.json", cwd=work), 1)
    assert "nan.csv, line 3, field 'score'" in msg, msg
    assert not (work / "out.json").exists()


@pytest.mark.parametrize("command", [
    ["rescore", "r.json", "--results", "one_filter.jsonl", "--json", "DIR"],
    ["merge", "r.json", "-o", "DIR"],
    ["verify", "r.json", "corpus.jsonl", "--rerun", "DIR"],
], ids=["rescore --json", "merge -o", "verify --rerun"])
@pytest.mark.parametrize("content", ["empty", "full", "full --overwrite"])
def test_a_folder_given_as_an_output_file_is_refused(work, run_cli, command, content):
    folder = work / "DIR"
    folder.mkdir()
    if content.startswith("full"):
        (folder / "keep.txt").write_text("somebody's data")
    extra = ["--overwrite"] if content.endswith("--overwrite") else []
    msg = _error(run_cli(*command, *extra, cwd=work), 2)
    flag = command[-2]
    assert msg == f"decontam: error: {flag} DIR is a folder; give a file path", msg
    assert folder.is_dir() and sorted(p.name for p in folder.iterdir()) == ([] if content == "empty" else ["keep.txt"])


def test_an_empty_results_file_and_a_record_without_id(work, run_cli):
    msg = _error(run_cli("rescore", "r.json", "--results", "empty.jsonl", cwd=work), 1)
    assert "empty.jsonl" in msg and "no records" in msg and "--id-field" not in msg, msg
    msg = _error(run_cli("rescore", "r.json", "--results", "no_id.jsonl", cwd=work), 1)
    assert "no_id.jsonl, line 3, field 'doc_id'" in msg and "--id-field" not in msg, msg
