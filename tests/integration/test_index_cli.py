"""`decontam index ...` end to end, as subprocesses, on real benchmark files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from _reports import comparable


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "decontam", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def _comparable(path: Path) -> dict:
    return comparable(json.loads(path.read_text()))


@pytest.fixture()
def corpus(tmp_path, shared_benchmarks):
    """Two shards: filler text, with HumanEval prompts 3 and 10 (whole) and part of 20 leaked in."""
    prompts = [json.loads(line)["prompt"] for line in gzip.open(shared_benchmarks / "humaneval" / "HumanEval.jsonl.gz")]
    rows = [{"id": f"doc{i}", "text": f"filler document {i} " * 20} for i in range(60)]
    rows[5]["text"] += prompts[3]
    rows[33]["text"] = "header\n" + prompts[10] + "\nfooter"
    rows[50]["text"] += prompts[20][40:200]
    (tmp_path / "corpus").mkdir()
    for name, part in (("a.jsonl", rows[:30]), ("b.jsonl", rows[30:])):
        with open(tmp_path / "corpus" / name, "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in part)
    return tmp_path


def test_build_check_portrait_merge(corpus, shared_benchmarks):
    he = f"humaneval={shared_benchmarks / 'humaneval' / 'HumanEval.jsonl.gz'}"
    r = _run("index", "build", "corpus", "-o", "ix", "--no-progress", "--num-proc", "2", cwd=corpus)
    assert r.returncode == 0, r.stderr
    assert "60 documents" in r.stdout
    r = _run("index", "build", "corpus", "-o", "ix1", "--no-progress", "--num-proc", "1", cwd=corpus)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (corpus / "ix").iterdir())
    assert names == sorted(p.name for p in (corpus / "ix1").iterdir())
    for name in names:  # two processes write the one-process index, byte for byte
        assert (corpus / "ix" / name).read_bytes() == (corpus / "ix1" / name).read_bytes(), name
    for probes in ("3", "all"):
        r = _run("index", "check", "ix", "-b", he, "--probes", probes, "--report", f"i{probes}.json", cwd=corpus)
        assert r.returncode == 0, r.stderr
        r = _run("check", "corpus", "-b", he, "--probes", probes, "--report", f"c{probes}.json", "--no-progress",
                 cwd=corpus)
        assert r.returncode == 0, r.stderr
        assert _comparable(corpus / f"i{probes}.json") == _comparable(corpus / f"c{probes}.json")
    rep = json.loads((corpus / "iall.json").read_text())
    assert rep["config"]["action"] == "index-check"
    assert {i for i in rep["benchmarks"][0]["contaminated_ids"]} == {"HumanEval/3", "HumanEval/10", "HumanEval/20"}
    cov = {it["id"]: it["coverage"] for it in rep["benchmarks"][0]["items"]}
    assert cov["HumanEval/10"]["fraction"] == 1.0 and 0 < cov["HumanEval/20"]["fraction"] < 1
    assert cov["HumanEval/0"] == {"windows_found": 0, "fraction": 0.0, "longest_run": None}

    r = _run("index", "portrait", "ix", "-o", "pub/corpus.dcp", cwd=corpus)
    assert r.returncode == 0, r.stderr
    r = _run("index", "check", "pub/corpus.dcp", "-b", he, "--report", "p.json", cwd=corpus)
    assert r.returncode == 0, r.stderr
    p = json.loads((corpus / "p.json").read_text())
    assert p["config"]["action"] == "portrait-check" and p["index"]["unverified"] is True
    assert p["index"]["false_positive_rate_per_probe"] <= 1e-6
    assert set(json.loads((corpus / "c3.json").read_text())["benchmarks"][0]["contaminated_ids"]) <= \
        set(p["benchmarks"][0]["contaminated_ids"])

    assert _run("index", "build", "corpus/a.jsonl", "-o", "sa", "--no-progress", cwd=corpus).returncode == 0
    assert _run("index", "build", "corpus/b.jsonl", "-o", "sb", "--no-progress", cwd=corpus).returncode == 0
    assert _run("index", "merge", "sa", "sb", "-o", "m", cwd=corpus).returncode == 0
    r = _run("index", "check", "m", "-b", he, "--report", "m.json", cwd=corpus)
    assert r.returncode == 0, r.stderr
    assert _comparable(corpus / "m.json") == _comparable(corpus / "i3.json")
    assert _run("index", "build", "corpus/b.jsonl", "-o", "sa", "--append", "--no-progress", cwd=corpus).returncode == 0
    assert _run("index", "check", "sa", "-b", he, "--report", "s.json", cwd=corpus).returncode == 0
    assert _comparable(corpus / "s.json") == _comparable(corpus / "i3.json")


def test_exit_codes(corpus, shared_benchmarks):
    he = f"humaneval={shared_benchmarks / 'humaneval' / 'HumanEval.jsonl.gz'}"
    assert _run("index", "build", "corpus", "-o", "ix", "--no-progress", cwd=corpus).returncode == 0
    r = _run("index", "build", "corpus", "-o", "ix", "--no-progress", cwd=corpus)
    assert r.returncode == 2 and "-o ix: the folder exists; pass --overwrite" in r.stderr
    r = _run("index", "check", "ix", "-b", he, "--lowercase", cwd=corpus)
    assert r.returncode == 1 and "another normalizer" in r.stderr
    keys = corpus / "ix" / "keys.u64"
    keys.write_bytes(keys.read_bytes()[:-1])
    r = _run("index", "check", "ix", "-b", he, cwd=corpus)
    assert r.returncode == 1 and "truncated" in r.stderr
    r = _run("index", "check", "corpus/a.jsonl", "-b", he, cwd=corpus)
    assert r.returncode == 1 and "not a decontam portrait" in r.stderr
    assert _run("index", "frobnicate", cwd=corpus).returncode == 2


def test_portrait_check_says_upper_bounds_on_stdout_and_in_every_file(corpus, shared_benchmarks):
    """A HumanEval question shorter than 50 characters cannot be tested by a portrait: undecided, not counted."""
    he = f"humaneval={shared_benchmarks / 'humaneval' / 'HumanEval.jsonl.gz'}"
    assert _run("index", "build", "corpus", "-o", "ix", "--no-progress", cwd=corpus).returncode == 0
    assert _run("index", "portrait", "ix", "-o", "p.dcp", cwd=corpus).returncode == 0
    r = _run("index", "check", "p.dcp", "-b", he, "--report", "p.json", "--markdown", "p.md", cwd=corpus)
    assert r.returncode == 0, r.stderr
    sec = json.loads((corpus / "p.json").read_text())["benchmarks"][0]
    assert sec["possible_ids"] == sec["contaminated_ids"] and sec["n_undecided"] >= 0
    assert sec["n_possible"] + sec["n_undecided"] + sec["n_absent"] == sec["n_items"] == 164
    for text in (r.stdout, (corpus / "p.md").read_text()):
        assert "**Portrait check.**" in text and "unverified upper bounds" in text
        assert "possible (upper bound, unverified)" in text
        assert "decontam index check INDEX_DIR" in text
        assert f"| humaneval | 164 | {sec['n_possible']} (" in text
    r = _run("report", "p.json", cwd=corpus)
    assert r.returncode == 0 and "unverified upper bounds" in r.stdout
    r = _run("report", "p.json", "-o", "p.html", cwd=corpus)
    assert r.returncode == 0, r.stderr
    assert "Portrait check: unverified upper bounds" in (corpus / "p.html").read_text()


def test_info_verify_names_the_file_that_fails(corpus):
    assert _run("index", "build", "corpus", "-o", "ix", "--no-progress", cwd=corpus).returncode == 0
    assert _run("index", "portrait", "ix", "-o", "p.dcp", cwd=corpus).returncode == 0
    for target in ("ix", "p.dcp"):
        r = _run("index", "info", target, cwd=corpus)
        assert r.returncode == 0 and json.loads(r.stdout)["format_version"] == 2
        assert "decontam: not verified:" in r.stderr and "pass --verify" in r.stderr
        r = _run("index", "info", target, "--verify", cwd=corpus)
        assert r.returncode == 0 and json.loads(r.stdout)["format_version"] == 2
        assert f"decontam: verified {target}:" in r.stderr
    for name in ("ix/text.zst", "p.dcp"):  # one flipped byte, same size: only the SHA-256 finds it
        blob = bytearray((corpus / name).read_bytes())
        blob[-1] ^= 0x01
        (corpus / name).write_bytes(bytes(blob))
    r = _run("index", "info", "ix", cwd=corpus)
    assert r.returncode == 0 and "not verified" in r.stderr
    r = _run("index", "info", "ix", "--verify", cwd=corpus)
    assert r.returncode == 1 and "ix/text.zst: corrupted index file (checksum mismatch)" in r.stderr
    assert r.stdout == ""
    r = _run("index", "info", "p.dcp", "--verify", cwd=corpus)
    assert r.returncode == 1 and "p.dcp: portrait bits are corrupted (checksum mismatch)" in r.stderr


def test_a_manifest_fault_is_named_on_the_command_line(corpus):
    import hashlib

    assert _run("index", "build", "corpus", "-o", "ix", "--no-progress", cwd=corpus).returncode == 0
    path = corpus / "ix" / "manifest.json"
    m = json.loads(path.read_text())
    m["format_version"] = "2"
    del m["checksum"]
    m["checksum"] = "sha256:" + hashlib.sha256(json.dumps(m, sort_keys=True, ensure_ascii=False,
                                                          separators=(",", ":")).encode()).hexdigest()
    path.write_text(json.dumps(m))
    r = _run("index", "info", "ix", cwd=corpus)
    assert r.returncode == 1
    assert 'ix: index has format_version "2" (a string), expected an integer' in r.stderr
    assert "newer" not in r.stderr


def test_merging_or_adding_a_source_an_index_holds_is_refused(corpus):
    """An index given twice to ``index merge``, or a file ``index add`` gives an index that holds it, would count
    its documents twice (it did: 60 documents became 120): refused, nothing written, the index as it was. A
    source by another name merges as before, as report shards do."""
    def documents(folder: str) -> int:
        return json.loads((corpus / folder / "manifest.json").read_text())["corpus"]["n_documents"]

    for args in (["corpus", "-o", "ix"], ["corpus/a.jsonl", "-o", "ia"], ["corpus/b.jsonl", "-o", "ib"]):
        assert _run("index", "build", *args, "--no-progress", cwd=corpus).returncode == 0
    r = _run("index", "merge", "ix", "./ix", "-o", "m", cwd=corpus)
    assert r.returncode == 2 and r.stderr.startswith(
        "decontam: error: indexes ix and ix both hold the source file corpus/a.jsonl: merging them would count "
        "its documents twice"), r.stderr
    r = _run("index", "merge", "ia", "ix", "-o", "m", cwd=corpus)
    assert r.returncode == 2 and "indexes ia and ix both hold the source file corpus/a.jsonl" in r.stderr
    assert not (corpus / "m").exists()
    manifest = (corpus / "ix" / "manifest.json").read_bytes()
    r = _run("index", "add", "ix", "corpus/b.jsonl", "--no-progress", cwd=corpus)
    assert r.returncode == 2 and r.stderr.startswith(
        "decontam: error: the index ix already holds the source file corpus/b.jsonl: adding it again"), r.stderr
    assert (corpus / "ix" / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in corpus.iterdir()) == ["corpus", "ia", "ib", "ix"]
    assert _run("index", "merge", "ia", "ib", "-o", "m", cwd=corpus).returncode == 0 and documents("m") == 60
    assert _run("index", "add", "ia", "corpus/b.jsonl", "--no-progress", cwd=corpus).returncode == 0
    assert documents("ia") == 60


def test_verify_reproduces_an_index_check_and_refuses_a_portrait_check(corpus, shared_benchmarks):
    """An index check's report is the report a check of the corpus gives, plus how the index answered: ``verify``
    re-runs that check and compares all but the index section (it always failed: "/index: missing in the
    re-run"), and still catches a changed figure. A portrait check's upper bounds are not what a check gives:
    refused, saying how to confirm them."""
    he = f"humaneval={shared_benchmarks / 'humaneval' / 'HumanEval.jsonl.gz'}"
    for args in (["index", "build", "corpus", "-o", "ix", "--no-progress"], ["index", "portrait", "ix", "-o", "p.dcp"],
                 ["index", "check", "ix", "-b", he, "--report", "ix.json"],
                 ["index", "check", "p.dcp", "-b", he, "--report", "p.json"]):
        assert _run(*args, cwd=corpus).returncode == 0, args
    r = _run("verify", "ix.json", "corpus", "--no-progress", cwd=corpus)
    assert r.returncode == 0 and r.stdout.startswith("REPRODUCED"), r.stdout + r.stderr
    assert "the report is an index check's: compared with a check of the corpus itself" in r.stdout
    report = json.loads((corpus / "ix.json").read_text())
    assert report["benchmarks"][0]["n_contaminated"] == 3
    report["benchmarks"][0]["n_contaminated"] = 2
    (corpus / "changed.json").write_text(json.dumps(report, indent=2))
    r = _run("verify", "changed.json", "corpus", "--no-progress", cwd=corpus)
    assert r.returncode == 1 and "n_contaminated" in r.stdout, r.stdout + r.stderr
    r = _run("verify", "p.json", "corpus", "--no-progress", cwd=corpus)
    assert r.returncode == 1 and "the report is a portrait check's" in r.stdout, r.stdout + r.stderr
    assert "decontam index check INDEX_DIR" in r.stdout


def test_index_build_refuses_several_text_fields_as_the_api_does(corpus):
    """``--text-field`` given twice kept only the last one, silently (an index holds one text per row; the API
    refuses several): refused, nothing written."""
    (corpus / "pairs.jsonl").write_text(json.dumps({"prompt": "a question", "response": "an answer"}) + "\n")
    r = _run("index", "build", "pairs.jsonl", "--text-field", "prompt", "--text-field", "response", "-o", "ix",
             "--no-progress", cwd=corpus)
    assert r.returncode == 2 and "an index holds one text per document; got text_field=['prompt', 'response']" \
        in r.stderr, r.stderr
    assert not (corpus / "ix").exists()
    r = _run("index", "build", "pairs.jsonl", "--text-field", "response", "-o", "ix", "--no-progress", cwd=corpus)
    assert r.returncode == 0, r.stderr
    assert json.loads((corpus / "ix" / "manifest.json").read_text())["text_field"] == "response"
