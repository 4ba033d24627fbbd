"""The report commands end to end, in real subprocesses, on a real run (benchmarks planted in stdlib sources):
``report`` (card, HTML, PNG), ``verify`` (reproduces byte for byte; fails clearly when the corpus or a
benchmark changed), ``merge`` (shard reports add up to the whole), ``rescore`` (lm-eval samples, HumanEval
results)."""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest
from _planted import build


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_benchmarks, run_cli):
    root = tmp_path_factory.mktemp("cli-run")
    info = build(root, shared_benchmarks)
    info["bench_args"] = [a for name in ("humaneval", "gsm8k", "mmlu")
                          for a in ("-b", f"{name}={info['benchmarks'][name].relative_to(root)}")]
    info["shard_args"] = [str(s.relative_to(root)) for s in info["shards"]]
    res = run_cli("check", *info["shard_args"], *info["bench_args"], "--report", "report.json", cwd=root)
    assert res.returncode == 0, res.stderr
    return root, info


def _copy(root, tmp_path):
    dest = tmp_path / "copy"
    shutil.copytree(root, dest)
    return dest


def test_card_has_figures_fingerprints_and_a_command_that_reproduces_the_report(run, run_cli, tmp_path,
                                                                                 validate_report):
    root, info = run
    validate_report(json.loads((root / "report.json").read_text(encoding="utf-8")))  # new fields in the schema
    res = run_cli("report", "report.json", "--format", "md", "-o", tmp_path / "card.md", cwd=root)
    assert res.returncode == 0, res.stderr
    card = (tmp_path / "card.md").read_text(encoding="utf-8")
    report = json.loads((root / "report.json").read_text(encoding="utf-8"))
    for b in report["benchmarks"]:
        rate = f"{100 * b['contamination_rate']:.2f}%"
        assert f"| {b['name']} | {b['n_items']} | {b['n_contaminated']} | {rate} |" in card
        assert b["fingerprint"] in card
    assert report["corpus"]["fingerprint"] in card and "decontam 0.1.0" in card
    assert "`HumanEval/2`, `HumanEval/7`" in card
    command = next(line for line in card.splitlines() if line.startswith("decontam check "))
    # run the card's command in a copy of the folder: the report must come out byte for byte the same
    copy = _copy(root, tmp_path)
    (copy / "report.json").unlink()
    res = run_cli(*shlex.split(command)[1:], cwd=copy)
    assert res.returncode == 0, res.stderr
    assert (copy / "report.json").read_bytes() == (root / "report.json").read_bytes()
    # stdout without -o
    res = run_cli("report", "report.json", cwd=root)
    assert res.returncode == 0 and res.stdout.startswith("# Contamination card")


def test_verify_reproduces_and_fails_clearly_when_inputs_change(run, run_cli, tmp_path):
    root, info = run
    res = run_cli("verify", "report.json", *info["shard_args"], cwd=root)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("REPRODUCED")

    copy = _copy(root, tmp_path)
    # the corpus changed: one character of one document of the second shard
    shard = copy / info["shard_args"][1]
    lines = shard.read_text(encoding="utf-8").splitlines(keepends=True)
    row = json.loads(lines[3])
    row["text"] = row["text"].replace("def ", "def  ", 1)
    lines[3] = json.dumps(row) + "\n"
    shard.write_text("".join(lines), encoding="utf-8")
    res = run_cli("verify", "report.json", *info["shard_args"], cwd=copy)
    assert res.returncode == 1
    assert "NOT REPRODUCED" in res.stdout and "corpus changed" in res.stdout
    assert f"changed source(s): {info['shard_args'][1]}" in res.stdout
    assert info["shard_args"][0] + "," not in res.stdout.split("changed source(s):")[1]

    # a benchmark changed: one GSM8K question edited
    copy2 = _copy(root, tmp_path / "b")
    gsm = copy2 / info["benchmarks"]["gsm8k"].relative_to(root)
    rows = [json.loads(x) for x in gsm.read_text(encoding="utf-8").splitlines()]
    rows[20]["question"] += " (edited)"
    gsm.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = run_cli("verify", "report.json", *info["shard_args"], cwd=copy2)
    assert res.returncode == 1
    assert "benchmark 'gsm8k' changed: fingerprint recorded sha256:" in res.stdout
    assert "humaneval' changed" not in res.stdout and "corpus changed" not in res.stdout

    # the same data elsewhere (other paths): reproduced, with notes saying what was relabelled
    elsewhere = _copy(root, tmp_path / "c")
    res = run_cli("verify", root / "report.json", *[elsewhere / s for s in info["shard_args"]],
                  "-b", f"gsm8k={elsewhere / info['benchmarks']['gsm8k'].relative_to(root)}", cwd=tmp_path)
    assert res.returncode == 1  # humaneval/mmlu recorded as relative paths: not found from this folder
    assert "cannot be loaded" in res.stdout
    res = run_cli("verify", root / "report.json", *[elsewhere / s for s in info["shard_args"]], cwd=root)
    assert res.returncode == 0, res.stdout
    assert "note: corpus paths differ" in res.stdout


def test_merge_of_shard_reports_is_the_whole_report(run, run_cli, tmp_path):
    root, info = run
    parts = []
    for k, shard in enumerate(info["shard_args"]):
        out = tmp_path / f"part{k}.json"
        res = run_cli("check", shard, *info["bench_args"], "--report", out, cwd=root)
        assert res.returncode == 0, res.stderr
        parts.append(out)
    res = run_cli("merge", *parts, "-o", tmp_path / "merged.json", cwd=root)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "merged.json").read_bytes() == (root / "report.json").read_bytes()
    whole = json.loads((root / "report.json").read_text(encoding="utf-8"))
    mmlu = next(b for b in whole["benchmarks"] if b["name"] == "mmlu")
    m = next(it for it in mmlu["items"] if it["contaminated"])["matches"][0]
    assert m["doc_id"] == info["mmlu_row"] and m["id_is_row"]  # a row id in the second shard, renumbered
    res = run_cli("merge", parts[0], root / "report.json", "-o", tmp_path / "x.json", cwd=root)
    assert res.returncode == 2 and "both hold the source file" in res.stderr  # overlapping shards: refused
    assert not (tmp_path / "x.json").exists()
    res = run_cli("merge", parts[0], tmp_path / "nope.json", "-o", tmp_path / "y.json", cwd=root)
    assert res.returncode == 1 and "nope.json" in res.stderr


def test_html_and_png_outputs(run, run_cli, tmp_path):
    root, _ = run
    res = run_cli("report", "report.json", "-o", tmp_path / "r.html", cwd=root)
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<svg id=\"rate-chart\"" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    pytest.importorskip("matplotlib")
    res = run_cli("report", "report.json", "--format", "png", "-o", tmp_path / "rates.png", cwd=root)
    assert res.returncode == 0, res.stderr
    data = (tmp_path / "rates.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 1000 and height >= 300


def test_rescore_with_lm_eval_samples_and_humaneval_results(run, run_cli, tmp_path):
    root, info = run
    report = json.loads((root / "report.json").read_text(encoding="utf-8"))
    gsm = next(b for b in report["benchmarks"] if b["name"] == "gsm8k")
    contaminated = set(gsm["contaminated_ids"])
    assert contaminated == set(info["gsm8k"])
    samples = tmp_path / "samples_gsm8k_2024-06-01T10-11-12.345678.jsonl"
    # contaminated items pass; the clean ones pass one time in three; doc 59 missing; doc 75 not in the benchmark
    rows = [{"doc_id": i, "doc": {"question": "..."}, "target": "1", "arguments": [], "resps": [["1"]],
             "filtered_resps": ["1"], "filter": "strict-match", "metrics": ["exact_match"],
             "exact_match": 1.0 if i in contaminated or i % 3 == 0 else 0.0} for i in range(59)] + [
        {"doc_id": 75, "doc": {}, "resps": [], "filtered_resps": [], "filter": "strict-match",
         "metrics": ["exact_match"], "exact_match": 1.0}]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = run_cli("rescore", root / "report.json", "--results", samples, "--benchmark", "gsm8k",
                  "--json", tmp_path / "gsm8k.rescore.json")
    assert res.returncode == 0, res.stderr
    out = json.loads((tmp_path / "gsm8k.rescore.json").read_text(encoding="utf-8"))
    clean_ids = [i for i in range(59) if i not in contaminated]
    assert out["format"] == "lm-eval samples" and out["id_source"] == "doc_id" and out["metric"] == "exact_match"
    assert out["contaminated"] == {"n": 2, "mean": 1.0, "ci95": pytest.approx([0.342, 1.0], abs=1e-3)}
    assert out["clean"]["n"] == 57 and out["clean"]["mean"] == pytest.approx(
        sum(i % 3 == 0 for i in clean_ids) / len(clean_ids))
    assert out["missing_from_results"] == {"n": 1, "ids": ["59"]} and out["not_in_report"] == {"n": 1, "ids": ["75"]}
    assert "contaminated − clean" in res.stdout and "75" in res.stdout and "warning" in res.stderr
    # the card with the scores
    res = run_cli("report", root / "report.json", "--scores", tmp_path / "gsm8k.rescore.json")
    assert res.returncode == 0 and "## Scores on the clean subset" in res.stdout
    assert re.search(r"\| gsm8k \| exact_match \| [0-9.]+ \(n=59\) \| [0-9.]+ \(n=57\) \| 1\.0000 \(n=2\) \|", res.stdout)
    assert "gsm8k: 3.33% of items (2/60) found in the training corpus; exact_match " in res.stdout

    he = tmp_path / "samples.jsonl_results.jsonl"
    he_rows = [{"task_id": f"HumanEval/{i}", "completion": "", "passed": i in (2, 7) or i % 2 == 0,
                "result": "passed" if i in (2, 7) or i % 2 == 0 else "failed: x"} for i in range(info["n_humaneval"])]
    he.write_text("".join(json.dumps(r) + "\n" for r in he_rows), encoding="utf-8")
    res = run_cli("rescore", root / "report.json", "--results", he, "--benchmark", "humaneval", "--format", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["format"] == "humaneval results" and out["all"]["n"] == info["n_humaneval"]
    assert out["missing_from_results"]["n"] == 0 and out["not_in_report"]["n"] == 0


def test_usage_and_input_errors(run, run_cli, tmp_path):
    root, info = run
    res = run_cli("report", "report.json", "--format", "png", cwd=root)
    assert res.returncode == 2 and "needs -o" in res.stderr
    (tmp_path / "notreport.json").write_text("[1, 2]")
    res = run_cli("report", tmp_path / "notreport.json")
    assert res.returncode == 1 and "not a decontam report" in res.stderr
    res = run_cli("rescore", root / "report.json", "--results", tmp_path / "missing.jsonl")
    assert res.returncode == 2 and "several benchmarks" in res.stderr
    res = run_cli("rescore", root / "report.json", "--results", tmp_path / "missing.jsonl", "--benchmark", "gsm8k")
    assert res.returncode == 1 and "missing.jsonl" in res.stderr
    res = run_cli("verify", "report.json", "no/such/dir", cwd=root)
    assert res.returncode == 1 and "no/such/dir" in res.stderr
    for cmd in ("report", "rescore", "verify", "merge"):
        res = run_cli(cmd, "--help")
        assert res.returncode == 0 and "usage: decontam " + cmd in res.stdout


def test_scores_and_reports_edited_or_of_another_check_are_refused_in_one_line(run, run_cli, tmp_path):
    """``report --scores`` holds a rescore result to its schema and to the report it is shown with (another
    corpus, another benchmark: refused, not rendered beside figures it does not belong to), and every report
    command holds a report to its schema before any work: NaN, Infinity (which Python's json reads and JSON has
    not) and a rate out of its range are one line naming the file, never a card saying ``nan%`` or ``700.00%``
    and never an internal error."""
    root, info = run
    he = tmp_path / "samples.jsonl_results.jsonl"
    he.write_text("".join(json.dumps({"task_id": f"HumanEval/{i}", "passed": i % 2 == 0, "completion": "",
                                      "result": "passed"}) + "\n" for i in range(info["n_humaneval"])))
    res = run_cli("rescore", root / "report.json", "--results", he, "--benchmark", "humaneval", "--json",
                  tmp_path / "s.json")
    assert res.returncode == 0, res.stderr
    good = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    report = json.loads((root / "report.json").read_text(encoding="utf-8"))

    def edited(name: str, doc: dict) -> str:
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
        return str(tmp_path / name)

    scores = {
        "no clean subset": ({k: v for k, v in good.items() if k != "clean"}, "(at the top: no clean)"),
        "a mean as text": ({**good, "clean": {**good["clean"], "mean": "high"}},
                           "(at clean.mean: expected number or null, found a str)"),
        "a NaN": ({**good, "all": {**good["all"], "mean": float("nan")}}, "(at all.mean: nan is not a number JSON"),
        "another benchmark": ({**good, "benchmark": "zzz"}, "scores of benchmark 'zzz', which the report does not"),
        "another corpus": ({**good, "corpus_fingerprint": "sha256:" + "0" * 64},
                           "computed with another report: its corpus fingerprint is sha256:000"),
    }
    for what, (doc, words) in scores.items():
        for fmt in ("md", "html"):
            res = run_cli("report", root / "report.json", "--scores", edited("s2.json", doc), "--format", fmt)
            assert res.returncode == 1 and res.stdout == "", (what, res.stderr)
            assert res.stderr.startswith(f"decontam: error: {tmp_path / 's2.json'}: ") and words in res.stderr, \
                (what, res.stderr)
            assert len(res.stderr.splitlines()) == 1 and "internal error" not in res.stderr
    bench = report["benchmarks"][0]
    reports = {
        "a NaN rate": dict(report, benchmarks=[{**bench, "contamination_rate": float("nan")}, *report["benchmarks"][1:]]),
        "an infinite count": dict(report, corpus={**report["corpus"], "n_documents": float("inf")}),
        "a rate of 700%": dict(report, benchmarks=[{**bench, "contamination_rate": 7.0}, *report["benchmarks"][1:]]),
    }
    for what, doc in reports.items():
        path = edited("r2.json", doc)
        for args in (["report", path, "--format", "md"], ["report", path, "--format", "png", "-o", tmp_path / "f.png"],
                     ["verify", path, *info["shard_args"]], ["merge", path, "-o", tmp_path / "m.json"],
                     ["rescore", path, "--results", he, "--benchmark", "humaneval"]):
            res = run_cli(*args, cwd=root)
            assert res.returncode == 1 and res.stdout == "", (what, args, res.stderr)
            assert res.stderr.startswith(f"decontam: error: {path}: not a report as decontam writes it (at "), \
                (what, args, res.stderr)
            assert len(res.stderr.splitlines()) == 1
        assert not (tmp_path / "f.png").exists() and not (tmp_path / "m.json").exists()
