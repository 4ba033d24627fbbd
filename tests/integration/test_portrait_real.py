"""The portrait's MMLU figure on real code (issue 11): short MMLU questions, used whole, are shorter than the
portrait's 50-byte window. They used to be counted contaminated (18.64% of MMLU on 150 MB of Python where the
exact index finds 4 items); now they are undecided, and the items the exact index finds are each possible or
undecided, never absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _files import stdlib_code_jsonl

from decontam.benchmarks import load_benchmark
from decontam.normalize import normalize

N_FILES = 400


@pytest.fixture(scope="module")
def code_corpus(tmp_path_factory) -> Path:
    """Real code: the first stdlib .py files, as JSONL."""
    folder = tmp_path_factory.mktemp("portrait-real")
    stdlib_code_jsonl(folder / "code.jsonl", N_FILES)
    return folder


def test_mmlu_on_a_portrait_of_real_code(code_corpus, shared_benchmarks, run_cli, validate_report):
    mmlu_path = shared_benchmarks / "mmlu" / "test"
    mmlu = f"mmlu={mmlu_path}"
    assert run_cli("index", "build", "code.jsonl", "-o", "ix", "--no-progress", cwd=code_corpus).returncode == 0
    assert run_cli("index", "portrait", "ix", "-o", "code.dcp", cwd=code_corpus).returncode == 0
    out = run_cli("index", "check", "code.dcp", "-b", mmlu, "--report", "p.json", cwd=code_corpus)
    assert out.returncode == 0, out.stderr
    out_exact = run_cli("index", "check", "ix", "-b", mmlu, "--report", "i.json", cwd=code_corpus)
    assert out_exact.returncode == 0, out_exact.stderr
    portrait = json.loads((code_corpus / "p.json").read_text("utf-8"))
    exact = json.loads((code_corpus / "i.json").read_text("utf-8"))
    validate_report(portrait)
    sec, found = portrait["benchmarks"][0], set(exact["benchmarks"][0]["contaminated_ids"])

    # undecided: exactly the non-empty questions whose probe (the question, used whole) is shorter than 50 bytes
    # of normalized UTF-8 (counted independently); 'δβ-thalassaemia' has 48 characters, 50 bytes: tested
    bench = load_benchmark("mmlu", mmlu_path)
    short = {it.id for it in bench.items if 0 < len(normalize(it.question).encode("utf-8")) < 50}
    assert len(short) > 2000 and set(sec["undecided_ids"]) == short
    assert "medical_genetics_test/30" not in short
    assert sec["undecided_reasons"] == {"probe shorter than the portrait's 50-byte window": len(short)}
    # never counted contaminated, never clean
    assert not set(sec["contaminated_ids"]) & short and not set(sec["clean_ids"]) & short
    assert sec["n_contaminated"] == sec["n_possible"] < 100  # was len(short) + possible: 18% of MMLU
    assert sec["n_possible"] + sec["n_undecided"] + sec["n_absent"] == sec["n_items"] == 14042
    # the exact index's items are each possible or undecided (the short ones like "43" are undecided)
    assert found and found <= set(sec["possible_ids"]) | short
    assert "elementary_mathematics_test/22" in found and "elementary_mathematics_test/22" in sec["undecided_ids"]
    assert "possible (upper bound, unverified)" in out.stdout and "undecided (not testable)" in out.stdout
