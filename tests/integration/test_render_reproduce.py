"""The card's and the page's "Reproduce" commands run as printed: a corpus file or report whose name starts with
``-`` (which the command line would read as an option) and a name holding a bidi control are written so that a
shell runs them, and the check they run writes the same report."""

from __future__ import annotations

import html
import json
import re
import shlex
import subprocess
import sys

Q = "A train leaves the station at 4pm travelling at sixty miles per hour towards the coast of the sea."


def _commands(text: str, fence: str) -> list[str]:
    """The command lines of the card's bash block (or the page's <pre>), comments taken off."""
    block = text.split(fence, 1)[1].split("```" if fence == "```bash" else "</pre>", 1)[0]
    block = html.unescape(block) if fence != "```bash" else block
    return [line.split("   #")[0].strip() for line in block.strip().splitlines() if line.strip()]


def _run(line: str, cwd) -> subprocess.CompletedProcess[str]:
    """``line`` run by bash, ``decontam`` being this interpreter's decontam."""
    script = f'decontam() {{ {shlex.quote(sys.executable)} -m decontam "$@"; }}\n{line}\n'
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_printed_commands_run_for_a_corpus_path_starting_with_a_dash(run_cli, tmp_path):
    (tmp_path / "bench.jsonl").write_text(json.dumps({"question": Q}) + "\n")
    (tmp_path / "-x.jsonl").write_text(json.dumps({"text": "pre " + Q}) + "\n")
    res = run_cli("check", "./-x.jsonl", "-b", "toy=bench.jsonl", "--question-field", "question",
                  "--report", "./-r.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    original = json.loads((tmp_path / "-r.json").read_text(encoding="utf-8"))
    assert original["corpus"]["sources"] == ["-x.jsonl"]
    for fmt, fence in (("md", "```bash"), ("html", "<pre>")):
        res = run_cli("report", "./-r.json", "--format", fmt, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        check_line, *rest = _commands(res.stdout, fence)
        (tmp_path / "-r.json").rename(tmp_path / "kept.json")
        done = _run(check_line, tmp_path)
        assert done.returncode == 0, (check_line, done.stderr)
        assert json.loads((tmp_path / "-r.json").read_text(encoding="utf-8")) == original
        if fmt == "md":  # the verify line too
            done = _run(rest[0], tmp_path)
            assert done.returncode == 0, (rest[0], done.stdout, done.stderr)
        (tmp_path / "-r.json").unlink()
        (tmp_path / "kept.json").rename(tmp_path / "-r.json")


def test_printed_command_with_a_bidi_control_shows_it_and_runs(run_cli, tmp_path):
    name = "b\u202ex.jsonl"
    (tmp_path / "bench.jsonl").write_text(json.dumps({"question": Q}) + "\n")
    (tmp_path / name).write_text(json.dumps({"text": "pre " + Q}) + "\n")
    res = run_cli("check", name, "-b", "toy=bench.jsonl", "--question-field", "question", "--report", "r.json",
                  cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    original = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    card = run_cli("report", "r.json", cwd=tmp_path).stdout
    line = _commands(card, "```bash")[0]
    assert "\u202e" not in line and re.search(r"\$'\\u202e'", line)
    (tmp_path / "r.json").unlink()
    done = _run(line, tmp_path)
    assert done.returncode == 0, (line, done.stderr)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == original


def test_printed_command_runs_for_a_benchmark_named_with_a_dash(run_cli, tmp_path):
    """A benchmark named ``-toy`` printed ``-b -toy=bench.jsonl``, which the command line reads as two options
    ("expected one argument"): written ``-b=-toy=...`` (and ``--question-field=-toy=...``), it runs."""
    (tmp_path / "bench.jsonl").write_text(json.dumps({"question": Q}) + "\n")
    (tmp_path / "c.jsonl").write_text(json.dumps({"text": "pre " + Q}) + "\n")
    res = run_cli("check", "c.jsonl", "-b=-toy=bench.jsonl", "--question-field=-toy=question", "--report", "r.json",
                  cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    original = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    line = _commands(run_cli("report", "r.json", cwd=tmp_path).stdout, "```bash")[0]
    (tmp_path / "r.json").unlink()
    done = _run(line, tmp_path)
    assert done.returncode == 0, (line, done.stderr)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == original
