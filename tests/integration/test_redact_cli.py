"""``decontam filter --action redact`` end to end, in real subprocesses, on a real corpus: HumanEval prompts,
GSM8K and MMLU questions planted (verbatim, re-indented, re-wrapped) into Python's stdlib sources.

What is written is held to the brute-force oracle (``tests/_redact.py``) with the probes the report lists; every
other line of the output is the input's, byte for byte; a check of the output finds nothing any more; one and
two processes write the same bytes; the report validates against its schema, renders its redaction section and
is reproduced by ``verify``; bad options are refused before any work.
"""

from __future__ import annotations

import json

import pytest
from _planted import build
from _redact import oracle_redact

from decontam.outputs import json_value_spans

CONTEXT = 40


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_benchmarks, run_cli):
    root = tmp_path_factory.mktemp("redact-run")
    info = build(root, shared_benchmarks)
    bench = [a for name in ("humaneval", "gsm8k", "mmlu")
             for a in ("-b", f"{name}={info['benchmarks'][name].relative_to(root)}")]
    outs = {}
    for n in (1, 2):
        res = run_cli("filter", "corpus", *bench, "-o", f"out{n}", "--action", "redact", "--redact-context", CONTEXT,
                      "--num-proc", n, "--report", f"report{n}.json", cwd=root)
        assert res.returncode == 0, res.stderr
        outs[n] = res.stdout
    return root, info, bench, outs


def test_the_output_is_the_oracles_and_every_other_byte_is_kept(run, validate_report):
    root, info, _, outs = run
    report = json.loads((root / "report1.json").read_text("utf-8"))
    validate_report(report)
    probes = [(b["name"], p) for b in report["benchmarks"] for it in b["items"] for p in it["probes"]]
    red = report["training"]["redaction"]
    assert red["n_redacted"] == 5 and red["n_dropped"] == 0  # the five planted documents, each long enough
    assert report["training"]["n_removed"] == 0 and report["training"]["n_kept"] == report["corpus"]["n_documents"]
    assert {b["name"]: b["n_redacted"] for b in red["by_benchmark"]} == {"humaneval": 2, "gsm8k": 2, "mmlu": 1}
    changed = 0
    for shard in info["shards"]:
        before = shard.read_text("utf-8").splitlines()
        after = (root / "out1" / shard.name).read_text("utf-8").splitlines()
        assert len(before) == len(after)
        for old, new in zip(before, after):
            text = json.loads(old)["text"]
            left = oracle_redact(text, probes, CONTEXT)["text"]
            if left == text:
                assert new == old
                continue
            changed += 1
            a, b = json_value_spans(old)["text"]
            c, d = json_value_spans(new)["text"]
            assert new[:c] == old[:a] and new[d:] == old[b:]  # every byte but the text value
            assert json.loads(new)["text"] == left
    assert changed == 5
    assert red["n_characters_removed"] == sum(
        len(json.loads(line)["text"]) for s in info["shards"] for line in s.read_text("utf-8").splitlines()) - sum(
        len(json.loads(line)["text"]) for s in info["shards"]
        for line in (root / "out1" / s.name).read_text("utf-8").splitlines())
    assert outs[1] == outs[2] and "5 redacted" in outs[1]


def test_two_processes_write_the_same_bytes(run):
    root, info, _, _ = run
    assert (root / "report1.json").read_bytes() == (root / "report2.json").read_bytes()
    for shard in info["shards"]:
        assert (root / "out1" / shard.name).read_bytes() == (root / "out2" / shard.name).read_bytes()


def test_a_check_of_the_output_finds_nothing(run, run_cli):
    root, _, bench, _ = run
    res = run_cli("check", "out1", *bench, "--report", "after.json", cwd=root)
    assert res.returncode == 0, res.stderr
    after = json.loads((root / "after.json").read_text("utf-8"))
    assert [b["n_contaminated"] for b in after["benchmarks"]] == [0, 0, 0]


def test_the_report_renders_its_redaction_and_verify_reproduces_it(run, run_cli, tmp_path):
    root, _, _, _ = run
    res = run_cli("report", "report1.json", "--format", "md", "-o", tmp_path / "card.md", cwd=root)
    assert res.returncode == 0, res.stderr
    card = (tmp_path / "card.md").read_text("utf-8")
    assert "## Redaction" in card and f"with {CONTEXT} characters on each side" in card
    assert "| humaneval | 2 | 0 |" in card
    assert f"--action redact --redact-context {CONTEXT}" in card  # the command that reproduces it
    res = run_cli("report", "report1.json", "--format", "html", "-o", tmp_path / "page.html", cwd=root)
    assert res.returncode == 0 and 'id="redaction"' in (tmp_path / "page.html").read_text("utf-8")
    res = run_cli("verify", "report1.json", "corpus", cwd=root)
    assert res.returncode == 0 and "REPRODUCED" in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize("flags, message", [
    (["--redact-context", "5"], "--redact-context"),
    (["--action", "drop", "--redact-max-pieces", "3"], "--redact-max-pieces"),
    (["--action", "redact", "--redact-max-pieces", "0"], "--redact-max-pieces"),
    (["--action", "cut"], "--action"),
])
def test_bad_redaction_flags_are_usage_errors_and_nothing_is_written(run, run_cli, flags, message):
    root, _, bench, _ = run
    res = run_cli("filter", "corpus", *bench, "-o", "bad-out", "--report", "bad.json", *flags, cwd=root)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
    assert not (root / "bad-out").exists() and not (root / "bad.json").exists()
