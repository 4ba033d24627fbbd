"""The near-duplicate pass on the command line, run as a real subprocess (``python -m decontam``), offline.

``filter --near-dup`` removes the documents holding an edited copy and counts them apart; the report validates
against its schema and reads the same with one process and two; ``report`` renders the near duplicates under
their own heading; ``verify`` reproduces the check from the command the report records; bad thresholds are
clear errors (exit 2) that leave no output.
"""

from __future__ import annotations

import json
from pathlib import Path

Q1 = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many "
      "clips did Natalia sell altogether in April and May?")
Q2 = ("Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did "
      "she earn, counting every minute of it at the same hourly rate?")
EDITED = Q1.replace("48", "52").replace("clips in May", "pins in May").replace("altogether", "in all")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    bench = _write(tmp_path / "bench.jsonl", [{"id": "q1", "question": Q1}, {"id": "q2", "question": Q2}])
    rows = [{"id": f"clean-{i}", "text": f"def f{i}(x):\n    return x + {i}\n" * 5} for i in range(6)]
    rows.insert(2, {"id": "edited", "text": "# notes\n" + EDITED + "\nprint('done')\n"})
    rows.insert(5, {"id": "verbatim", "text": "Q: " + Q2})
    corpus = _write(tmp_path / "corpus.jsonl", rows)
    return bench, corpus


def test_filter_near_dup_removes_the_edited_copy_and_counts_it_apart(tmp_path, run_cli, validate_report):
    bench, corpus = _setup(tmp_path)
    args = ["filter", corpus, "-b", f"gsm={bench}", "--question-field", "question", "--item-id-field", "id",
            "--near-dup", "--no-progress"]
    r = run_cli(*args, "-o", tmp_path / "out.jsonl", "--report", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    kept = [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert kept == [f"clean-{i}" for i in range(6)]
    report = json.loads((tmp_path / "r.json").read_text())
    validate_report(report)
    b = report["benchmarks"][0]
    assert b["contaminated_ids"] == ["q2"] and b["near_duplicate_ids"] == ["q1"]
    training = report["training"]
    assert (training["n_removed"], training["n_removed_near_dup"], training["n_kept"]) == (1, 1, 6)
    assert training["near_removed"][0]["doc_id"] == "edited"
    assert "Near duplicates" in r.stdout and "estimated search" in r.stdout

    r2 = run_cli(*args, "--num-proc", "2", "-o", tmp_path / "out2.jsonl", "--report", tmp_path / "r2.json")
    assert r2.returncode == 0, r2.stderr
    assert (tmp_path / "r2.json").read_bytes() == (tmp_path / "r.json").read_bytes()
    assert (tmp_path / "out2.jsonl").read_bytes() == (tmp_path / "out.jsonl").read_bytes()

    card = run_cli("report", tmp_path / "r.json")
    assert card.returncode == 0, card.stderr
    assert "## Near duplicates (beyond the GPT-4 rule: an estimated search)" in card.stdout
    assert "--near-dup" in card.stdout  # the reproduce command
    page = run_cli("report", tmp_path / "r.json", "--format", "html")
    assert page.returncode == 0 and 'id="near-duplicates"' in page.stdout
    assert "containment" in page.stdout and "Natalia sold clips to 52" in page.stdout

    check = run_cli("check", corpus, "-b", f"gsm={bench}", "--question-field", "question", "--item-id-field", "id",
                    "--near-dup", "--report", tmp_path / "c.json", "--no-progress")
    assert check.returncode == 0, check.stderr
    verified = run_cli("verify", tmp_path / "c.json", corpus, "--no-progress")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "REPRODUCED" in verified.stdout


def test_bad_thresholds_are_clear_errors_and_write_nothing(tmp_path, run_cli):
    bench, corpus = _setup(tmp_path)
    base = ["check", corpus, "-b", f"gsm={bench}", "--question-field", "question", "--no-progress",
            "--report", tmp_path / "r.json"]
    for extra, message in ((["--near-dup-threshold", "0.7"], "--near-dup"),
                           (["--near-dup", "--near-dup-threshold", "1.5"], "(0, 1]"),
                           (["--near-dup", "--near-dup-threshold", "0"], "(0, 1]")):
        r = run_cli(*base, *extra)
        assert r.returncode == 2, (extra, r.stdout, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "r.json").exists()
    r = run_cli(*base[:-2], "--near-dup", "--near-dup-threshold", "x")
    assert r.returncode == 2 and "--near-dup-threshold" in r.stderr
