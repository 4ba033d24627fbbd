"""``--method ngram13`` on the command line, as a real subprocess: check, filter, processes, verify, the card.

The expected documents and items come from the 13-gram rule written out in plain Python (the oracle of
tests/unit/test_ngram.py), on the repository's examples and on a corpus with copies the GPT-4 rule misses.
"""

from __future__ import annotations

import json
import shutil
import string
from pathlib import Path

import pytest

TABLE = str.maketrans(string.ascii_lowercase + string.ascii_uppercase, string.ascii_lowercase * 2,
                      string.punctuation)
TOY = ["-b", "toy=examples/benchmark.jsonl", "--question-field", "question", "--item-id-field", "id"]


def grams(text: str) -> set[tuple[str, ...]]:
    words = text.translate(TABLE).split()
    return {tuple(words[i : i + 13]) for i in range(len(words) - 12)}


@pytest.fixture()
def examples(tmp_path, examples_dir) -> Path:
    shutil.copytree(examples_dir, tmp_path / "examples")
    return tmp_path / "examples"


def expected(examples: Path) -> tuple[set[str], set[str]]:
    """(contaminated item ids, removed document ids) by the 13-gram rule, brute force."""
    items = [json.loads(line) for line in examples.joinpath("benchmark.jsonl").read_text("utf-8").splitlines()]
    docs = [json.loads(line) for line in examples.joinpath("corpus.jsonl").read_text("utf-8").splitlines()]
    item_grams = {it["id"]: grams(it["question"]) for it in items}
    every = set().union(*item_grams.values())
    doc_grams = {d["id"]: grams(d["text"]) for d in docs}
    found = set().union(*doc_grams.values())
    return ({i for i, g in item_grams.items() if g & found}, {d for d, g in doc_grams.items() if g & every})


def test_check_and_filter_with_ngram13(run_cli, examples, validate_report):
    cwd = examples.parent
    items, docs = expected(examples)
    assert items and docs  # the examples hold 13-gram copies
    out = run_cli("filter", "examples/corpus.jsonl", *TOY, "--method", "ngram13", "-o", "one/clean.jsonl",
                  "--report", "one/r.json", cwd=cwd)
    assert out.returncode == 0, out.stderr
    report = json.loads((cwd / "one/r.json").read_text("utf-8"))
    validate_report(report)
    assert report["config"]["method"] == "ngram13" and report["config"]["ngram"] == {"n": 13}
    b = report["benchmarks"][0]
    assert set(b["contaminated_ids"]) == items
    assert {r["doc_id"] for r in report["training"]["removed"]} == docs
    lines = examples.joinpath("corpus.jsonl").read_bytes().splitlines(keepends=True)
    kept = [ln for ln in lines if json.loads(ln)["id"] not in docs]
    assert (cwd / "one/clean.jsonl").read_bytes() == b"".join(kept)
    assert "13-gram" in out.stdout
    # the same with two processes, and as a check: the same verdicts
    two = run_cli("filter", "examples/corpus.jsonl", *TOY, "--method", "ngram13", "-o", "two/clean.jsonl",
                  "--report", "two/r.json", "--num-proc", "2", cwd=cwd)
    assert two.returncode == 0, two.stderr
    assert (cwd / "two/r.json").read_bytes() == (cwd / "one/r.json").read_bytes()
    assert (cwd / "two/clean.jsonl").read_bytes() == (cwd / "one/clean.jsonl").read_bytes()
    chk = run_cli("check", "examples/corpus.jsonl", *TOY, "--method", "ngram13", "--report", "c.json", cwd=cwd)
    assert chk.returncode == 0, chk.stderr
    checked = json.loads((cwd / "c.json").read_text("utf-8"))
    assert checked["benchmarks"] == report["benchmarks"] and checked["config"]["action"] == "check"
    # the card names the method, and its reproduce command re-creates the report; verify says so
    card = run_cli("report", "c.json", "--format", "md", "-o", "card.md", cwd=cwd)
    assert card.returncode == 0, card.stderr
    text = (cwd / "card.md").read_text("utf-8")
    assert "--method ngram13" in text and "lm-evaluation-harness" in text
    ver = run_cli("verify", "c.json", "examples/corpus.jsonl", cwd=cwd)
    assert ver.returncode == 0, ver.stdout + ver.stderr
    assert "REPRODUCED" in ver.stdout


def test_ngram13_finds_re_punctuated_and_upper_cased_copies_the_default_misses(run_cli, tmp_path):
    q = ("Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for "
         "her friends every day with four.")
    (tmp_path / "b.jsonl").write_text(json.dumps({"q": q}) + "\n")
    docs = [{"id": "upper", "text": "x " + q.upper()}, {"id": "punct", "text": q.replace(".", ";")},
            {"id": "half", "text": " ".join(q.split()[:12])}]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    found = {}
    for method in ("gpt4", "ngram13"):
        out = run_cli("check", "c.jsonl", "-b", "mine=b.jsonl", "--question-field", "q", "--method", method,
                      "--report", f"{method}.json", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        rep = json.loads((tmp_path / f"{method}.json").read_text("utf-8"))
        found[method] = sorted(r["doc_id"] for r in rep["training"]["removed"])
    assert found == {"gpt4": ["punct"], "ngram13": ["punct", "upper"]}  # 12 words: no 13-gram


@pytest.mark.parametrize(("extra", "words"), [
    (["--lowercase"], ["--lowercase", "GPT-4 rule", "--method gpt4"]),
    (["--probes", "all"], ["--probes all"]),
    (["--seed", "3"], ["--seed"]),
    (["--min-question-chars", "20"], ["--min-question-chars"]),
])
def test_gpt4_flags_are_refused_with_ngram13(run_cli, tmp_path, extra, words):
    (tmp_path / "b.jsonl").write_text(json.dumps({"q": "a question"}) + "\n")
    (tmp_path / "c.jsonl").write_text(json.dumps({"text": "a document"}) + "\n")
    out = run_cli("check", "c.jsonl", "-b", "mine=b.jsonl", "--question-field", "q", "--method", "ngram13", *extra,
                  "--report", "r.json", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert all(w in out.stderr for w in words), out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "r.json").exists()


def test_unknown_method_is_a_usage_error(run_cli, tmp_path):
    out = run_cli("check", "c.jsonl", "-b", "mine=b.jsonl", "--method", "ngram12", cwd=tmp_path)
    assert out.returncode == 2 and "invalid choice" in out.stderr and "ngram13" in out.stderr
