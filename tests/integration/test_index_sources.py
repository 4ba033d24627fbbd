"""Index commands against what an audit found: a source named two ways, a link to an index, options that were
dropped (``--on-error`` with ``--append``, a misspelt ``--id-field``), shards built with other options, an add
that raced another, custom benchmarks in the API, and damaged or foreign files: each a clear refusal, or the
right answer, never a count twice or a traceback. Real subprocess runs of the command line."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from decontam.index import CorpusIndex, Portrait
from decontam.index.format import read_portrait, write_portrait


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "decontam", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def _n_documents(index: Path) -> int:
    return CorpusIndex.load(index).manifest["corpus"]["n_documents"]


@pytest.fixture()
def files(tmp_path, shared_benchmarks):
    """a.jsonl (a GSM8K question in row 2), bad.jsonl (row 2's text is a number), c.jsonl, e.jsonl."""
    gsm = shared_benchmarks / "gsm8k" / "test.jsonl"
    q = json.loads(gsm.read_text().splitlines()[0])["question"]
    rows = {"a.jsonl": [{"id": "a1", "text": "hello world"}, {"id": "a2", "text": q}],
            "bad.jsonl": [{"id": "b1", "text": "more text here"}, {"id": "b2", "text": 5}],
            "c.jsonl": [{"id": "c1", "text": "another document"}],
            "e.jsonl": [{"id": "e1", "text": "yet another document"}]}
    for name, rs in rows.items():
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rs))
    (tmp_path / "mine.jsonl").write_text(json.dumps({"key": "q1", "question": q}) + "\n")
    return tmp_path, f"gsm8k={gsm}"


def test_a_file_named_two_ways_is_one_source(files):
    """``a.jsonl`` and ``$PWD/a.jsonl`` (or ``../x/a.jsonl``) are one file: adding or merging it again counted
    its documents twice (4 documents, "2 of 4"); refused, and the index is left as it was."""
    d, _ = files
    assert _run("index", "build", "a.jsonl", "-o", "ix", "--no-progress", cwd=d).returncode == 0
    for spelling in (str(d / "a.jsonl"), f"../{d.name}/a.jsonl"):
        done = _run("index", "add", "ix", spelling, "--no-progress", cwd=d)
        assert done.returncode == 2 and "already holds the same source" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert _n_documents(d / "ix") == 2
    assert _run("index", "build", str(d / "a.jsonl"), "-o", "i2", "--no-progress", cwd=d).returncode == 0
    done = _run("index", "merge", "ix", "i2", "-o", "m", cwd=d)
    assert done.returncode == 2 and "both hold the same source" in done.stderr, done.stderr
    assert not (d / "m").exists()
    assert _run("index", "add", "ix", "c.jsonl", "--no-progress", cwd=d).returncode == 0  # another file: added
    assert _n_documents(d / "ix") == 3


def test_adding_through_a_link_updates_the_folder_it_points_to(files):
    """``current -> ix-v1``: the add replaced the link with a new folder and left ix-v1 stale; the link now
    stays a link and the folder it points to holds the documents."""
    d, _ = files
    assert _run("index", "build", "a.jsonl", "-o", "ix-v1", "--no-progress", cwd=d).returncode == 0
    os.symlink("ix-v1", d / "current")
    done = _run("index", "add", "current", "c.jsonl", "--no-progress", cwd=d)
    assert done.returncode == 0, done.stderr
    assert (d / "current").is_symlink() and os.readlink(d / "current") == "ix-v1"
    assert _n_documents(d / "ix-v1") == 3
    assert not [p.name for p in d.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_on_error_is_honoured_when_adding_and_recorded_when_merging(files):
    """``build --append --on-error skip`` ignored the flag and advised passing it; ``index add`` advised a flag
    it had not; a merge of a ``raise`` and a ``skip`` shard recorded ``raise`` with a rejected row, so
    ``verify`` failed. The added rows are skipped and counted; the index records ``skip``; verify confirms."""
    d, gsm = files
    assert _run("index", "build", "a.jsonl", "-o", "ix", "--no-progress", cwd=d).returncode == 0
    done = _run("index", "build", "bad.jsonl", "-o", "ix", "--append", "--no-progress", cwd=d)
    assert done.returncode == 1 and "--on-error skip" in done.stderr  # the advice names a flag --append takes
    done = _run("index", "build", "bad.jsonl", "-o", "ix", "--append", "--on-error", "skip", "--no-progress", cwd=d)
    assert done.returncode == 0, done.stderr
    manifest = CorpusIndex.load(d / "ix").manifest
    assert manifest["on_error"] == "skip" and manifest["corpus"]["n_documents"] == 3
    assert _run("index", "build", "a.jsonl", "-o", "j", "--no-progress", cwd=d).returncode == 0
    (d / "bad2.jsonl").write_text((d / "bad.jsonl").read_text().replace("b1", "x1"))
    assert _run("index", "add", "j", "bad2.jsonl", "--on-error", "skip", "--no-progress", cwd=d).returncode == 0
    assert CorpusIndex.load(d / "j").manifest["on_error"] == "skip"
    assert _run("index", "build", "a.jsonl", "-o", "ia", "--no-progress", cwd=d).returncode == 0
    assert _run("index", "build", "bad.jsonl", "-o", "ib", "--on-error", "skip", "--no-progress", cwd=d).returncode == 0
    assert _run("index", "merge", "ia", "ib", "-o", "m", cwd=d).returncode == 0
    assert CorpusIndex.load(d / "m").manifest["on_error"] == "skip"
    assert _run("index", "check", "m", "-b", gsm, "--report", "r.json", cwd=d).returncode == 0
    assert json.loads((d / "r.json").read_text())["config"]["on_error"] == "skip"
    done = _run("verify", "r.json", "a.jsonl", "bad.jsonl", cwd=d)
    assert done.returncode == 0, done.stdout + done.stderr
    done = _run("index", "build", "c.jsonl", "-o", "m", "--append", "--bloom-fp", "0.01", cwd=d)
    assert done.returncode == 2 and "--bloom-fp" in done.stderr  # the index's rate, not silently another


def test_a_misspelt_id_field_is_refused_by_index_build(files):
    """``index build --id-field doc_id`` named documents by row number (``check`` refused it): refused, by the
    command line and the API, before any output."""
    d, _ = files
    done = _run("index", "build", "a.jsonl", "-o", "ix", "--id-field", "doc_id", "--no-progress", cwd=d)
    assert done.returncode == 2 and "--id-field doc_id: the first row of no corpus file has it" in done.stderr
    assert not (d / "ix").exists()
    from decontam.errors import ConfigError

    with pytest.raises(ConfigError, match="doc_id"):
        CorpusIndex.build([d / "a.jsonl"], d / "ix", id_field="doc_id")
    assert not (d / "ix").exists()


def test_an_add_that_raced_another_is_refused_not_lost(files):
    """Run B opened the index, run A added c.jsonl, then B added e.jsonl from what it had read: A's file was
    gone. B is now refused (the index changed since it was opened), and A's file stays."""
    d, _ = files
    assert _run("index", "build", "a.jsonl", "-o", "ix", "--no-progress", cwd=d).returncode == 0
    b = CorpusIndex.load(d / "ix")
    assert _run("index", "add", "ix", "c.jsonl", "--no-progress", cwd=d).returncode == 0
    from decontam.errors import ConfigError

    with pytest.raises(ConfigError, match="changed since it was opened"):
        b.add([d / "e.jsonl"])
    sources = [s["source"] for s in CorpusIndex.load(d / "ix").manifest["corpus"]["sources"]]
    assert [Path(s).name for s in sources] == ["a.jsonl", "c.jsonl"]


def test_custom_benchmarks_take_their_fields_in_the_index_api(files):
    """``CorpusIndex.check`` and ``Portrait.check`` refused ``question_field`` (an unknown option), while their
    error for a custom benchmark told the user to pass it."""
    d, _ = files
    ix = CorpusIndex.build([d / "a.jsonl"], d / "ix")
    spec = f"mine={d / 'mine.jsonl'}"
    assert ix.check([spec], question_field="question", item_id_field="key").contaminated_ids("mine") == ["q1"]
    ix.export_portrait(d / "p.dcp")
    report = Portrait.load(d / "p.dcp").check([spec], question_field="question", item_id_field="key")
    assert report.benchmark("mine")["possible_ids"] == ["q1"]


def test_damaged_text_and_foreign_portraits_are_named_errors(files, shared_benchmarks):
    """With ``--no-verify``, a damaged ``raw.zst`` was "a bug in decontam" (UnicodeDecodeError) or an error that
    named no file; a portrait header with the fields but other contents a KeyError. Each is now one line naming
    the file, exit 1."""
    d, gsm = files
    qs = [json.loads(x)["question"] for x in (shared_benchmarks / "gsm8k" / "test.jsonl").read_text().splitlines()]
    rng = random.Random(0)
    words = ["alpha", "beta", "é", "中文", "gamma", "delta", "42"]
    with open(d / "big.jsonl", "w", encoding="utf-8") as fh:
        for i in range(2000):
            text = " ".join(rng.choice(words) for _ in range(100)) + " " + qs[i % 1000]
            fh.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    assert _run("index", "build", "big.jsonl", "-o", "ix", "--no-progress", cwd=d).returncode == 0
    pristine = (d / "ix" / "raw.zst").read_bytes()
    for offset in (20, 50, 100, 500):  # (some others leave valid text, changed: what --no-verify risks)
        damaged = bytearray(pristine)
        damaged[offset] ^= 0xFF
        (d / "ix" / "raw.zst").write_bytes(bytes(damaged))
        done = _run("index", "check", "ix", "-b", gsm, "--no-verify", cwd=d)
        assert done.returncode == 1 and "Traceback" not in done.stderr and "bug" not in done.stderr, done.stderr
        assert done.stderr.startswith("decontam: error: ix/raw.zst: ") and len(done.stderr.splitlines()) == 1
    assert _run("index", "build", "a.jsonl", "-o", "small", "--no-progress", cwd=d).returncode == 0
    header, bits = read_portrait(d / "small" / "portrait.dcp")
    header = {k: v for k, v in header.items() if k not in ("format", "format_version", "payload_size",
                                                           "payload_sha256")}
    for name, change in (("nofp", lambda h: h["bloom"].pop("fp_rate")), ("corpus", lambda h: h.update(corpus="x")),
                         ("norm", lambda h: h.update(normalize="x")),
                         ("sources", lambda h: h.update(corpus={"sources": [{}]}))):
        h = json.loads(json.dumps(header))
        change(h)
        write_portrait(d / f"{name}.dcp", h, bits)
        done = _run("index", "check", f"{name}.dcp", "-b", gsm, cwd=d)
        assert done.returncode == 1 and "Traceback" not in done.stderr and "bug" not in done.stderr, done.stderr
        assert done.stderr.startswith(f"decontam: error: {name}.dcp: corrupted portrait, or one decontam did not")


def test_an_index_of_texts_with_nothing_to_normalize_says_so(tmp_path):
    """The summary divided by max(1, 0): "portrait 1544.000 bytes per normalized character" for no character."""
    (tmp_path / "p.jsonl").write_text('{"text": "!!!"}\n')
    done = _run("index", "build", "p.jsonl", "-o", "ix", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bytes per normalized character: none" in done.stdout
