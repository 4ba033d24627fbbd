"""Report.merge: the reports of a corpus's shards merge into the report of the whole corpus, byte for byte."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from decontam import Benchmark, ConfigError, Item, Report, check
from decontam.config import make_config
from decontam.inputs import table_batches
from decontam.report import merge_blocks
from decontam.scan import ProbeSet, SourceResult, build_report, scan_batches

QUESTIONS = [
    "Write a function that returns the sum of two integers given as arguments, and test it well.",
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning.",
    "What is 4 + 3?",  # short: used whole ('43')
    "Which of the following best describes the role of mitochondria in a eukaryotic cell today?",
]
BENCH = Benchmark.from_items("mix", [Item(f"q{i}", q) for i, q in enumerate(QUESTIONS)])
FILLER = ["plain text about nothing", "def f(x):\n    return x * 2\n", "", "numbers 1 2 3 and 4", "ünïcödé text"]

# one document: (text pieces, has id?, is malformed?)
doc_strategy = st.tuples(
    st.lists(st.sampled_from(FILLER + [q.upper() for q in QUESTIONS[:1]] + QUESTIONS), min_size=1, max_size=3),
    st.booleans(),
    st.booleans(),
)


def _write(path: Path, docs: list[tuple[list[str], bool, bool]], start: int) -> None:
    lines = []
    for k, (pieces, has_id, bad) in enumerate(docs):
        row: dict[str, object] = {"text": " ~ ".join(pieces)} if not bad else {"body": "no text field"}
        if has_id:
            row["id"] = f"doc-{start + k}"
        lines.append(json.dumps(row))
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(doc_strategy, min_size=2, max_size=14), cuts=st.lists(st.integers(1, 13), max_size=3),
       seed=st.integers(0, 3))
def test_merge_of_shards_equals_the_whole_run(docs, cuts, seed):
    bounds = sorted({c for c in cuts if c < len(docs)} | {0, len(docs)})
    # a shard whose every row is rejected is an error, not a report (test_trust_figures.py holds it to that)
    assume(all(any(not bad for _, _, bad in docs[a:b]) for a, b in zip(bounds, bounds[1:])))
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
            f = Path(tmp) / f"part-{k:03d}.jsonl"
            _write(f, docs[a:b], a)
            files.append(f)
        whole = check(files, [BENCH], progress=False, seed=seed, on_error="skip")
        parts = [check([f], [BENCH], progress=False, seed=seed, on_error="skip") for f in files]
        merged = Report.merge(parts)
        assert merged.to_json() == whole.to_json()
        assert sum(parts[1:], parts[0]).to_json() == whole.to_json()  # Report.__add__ folds the same way


def test_merge_renumbers_row_ids_and_keeps_real_ids(tmp_path):
    q = QUESTIONS[0]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"text": "nothing"}) + "\n" + json.dumps({"text": "x"}) + "\n")
    b.write_text(json.dumps({"text": "leak " + q}) + "\n" + json.dumps({"text": q, "id": "named"}) + "\n")
    merged = Report.merge([check([a], [BENCH], progress=False), check([b], [BENCH], progress=False)]).to_dict()
    removed = merged["training"]["removed"]
    assert [(r["doc_id"], r["row"], r.get("id_is_row", False)) for r in removed] == [
        (2, 2, True), ("named", 3, False)]
    assert merged["corpus"]["sources"] == [str(a), str(b)]
    assert merged["corpus"]["n_documents"] == 4


def test_merge_refuses_reports_of_different_checks(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"text": QUESTIONS[0]}) + "\n")
    r1 = check([f], [BENCH], progress=False, seed=0)
    r2 = check([f], [BENCH], progress=False, seed=1)
    with pytest.raises(ConfigError, match="config"):
        Report.merge([r1, r2])
    other = Benchmark.from_items("mix", [Item("q0", QUESTIONS[1])])
    with pytest.raises(ConfigError, match="fingerprint|n_items"):
        Report.merge([r1, check([f], [other], progress=False)])
    with pytest.raises(ConfigError, match="at least one"):
        Report.merge([])
    old = json.loads(r1.to_json())
    del old["corpus"]["source_digests"]
    with pytest.raises(ConfigError, match="older decontam"):
        Report.merge([old, r1])
    g = tmp_path / "b.jsonl"
    g.write_text(json.dumps({"text": "again: " + QUESTIONS[0]}) + "\n")
    old = check([g], [BENCH], progress=False, seed=0).to_dict()  # matches without their row (removed: with)
    for item in old["benchmarks"][0]["items"]:
        for m in item["matches"]:
            del m["row"]
    assert any(item["matches"] for item in old["benchmarks"][0]["items"])
    with pytest.raises(ConfigError, match="report 1 has matches without a row number"):
        Report.merge([r1, old])


def test_merge_does_not_modify_its_inputs(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"text": "leak " + QUESTIONS[0]}) + "\n")
    g = tmp_path / "b.jsonl"
    g.write_text(json.dumps({"text": "clean"}) + "\n")
    r, r2 = check([f], [BENCH], progress=False), check([g], [BENCH], progress=False)
    before = r.to_json(), r2.to_json()
    Report.merge([r, r2])
    assert (r.to_json(), r2.to_json()) == before


def test_overlapping_shards_are_refused(tmp_path):
    """The same shard twice, or a file in two shards, would count documents twice: refused, naming them."""
    f, g = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    f.write_text(json.dumps({"text": "leak " + QUESTIONS[0]}) + "\n")
    g.write_text(json.dumps({"text": "clean"}) + "\n")
    ra, rb, rab = (check(c, [BENCH], progress=False) for c in ([f], [g], [f, g]))
    for shards, words in (([ra, ra], "reports 0 and 1 both hold the source file"),
                          ([rab, rb], "reports 0 and 1 both hold the source file"),
                          ([ra, rb, ra], "reports 0 and 2")):
        with pytest.raises(ConfigError, match=words):
            Report.merge(shards)
    m1 = check(["leak " + QUESTIONS[0]], [BENCH], progress=False, on_error="skip")
    with pytest.raises(ConfigError, match="the same source <list>"):
        Report.merge([m1, m1])
    # in-memory shards with different contents, and empty ones, are distinct shards
    m2 = check(["something else"], [BENCH], progress=False, on_error="skip")
    e1, e2 = (check([], [BENCH], progress=False, on_error="skip") for _ in range(2))
    assert Report.merge([m1, m2, e1, e2]).data["corpus"]["n_documents"] == 2


def _table(docs: list[tuple[list[str], bool, bool]]) -> pa.Table:
    """The documents as an Arrow table: a null text is a malformed row (rejected with on_error="skip")."""
    return pa.table({"text": [None if bad else " ~ ".join(pieces) for pieces, _, bad in docs],
                     "id": [f"doc-{k}" if has_id else None for k, (_, has_id, _) in enumerate(docs)]})


def _digests(table: pa.Table) -> dict[str, str]:
    """The source digests, computed here from their definition (docs/report.md): SHA-256 of the checked texts
    end to end, and of their UTF-8 lengths as little-endian int64."""
    texts = [t.encode("utf-8") for t in table.column("text").to_pylist() if t is not None]
    lengths = np.array([len(t) for t in texts], dtype="<i8").tobytes()
    return {"text_sha256": hashlib.sha256(b"".join(texts)).hexdigest(),
            "lengths_sha256": hashlib.sha256(lengths).hexdigest()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(doc_strategy, min_size=1, max_size=14), cuts=st.lists(st.integers(1, 13), max_size=3),
       seed=st.integers(0, 3))
def test_merge_of_blocks_of_one_source_equals_the_whole_run(docs, cuts, seed):
    """What the Ray engine does with a dataset's blocks: each block checked alone, its rows numbered from 0,
    the block reports merged with the source's digests (hashed in order) give the report of the whole."""
    assume(any(not bad for _, _, bad in docs))  # a source whose every row is rejected is an error
    table = _table(docs)
    bounds = sorted({c for c in cuts if c < len(docs)} | {0, len(docs)})
    cfg = make_config(seed=seed, on_error="skip", id_field="id")
    whole = check(table, [BENCH], cfg, progress=False)
    probes = ProbeSet.build([BENCH], cfg)

    def block_report(block: pa.Table) -> dict:  # a block scanned alone (it may hold rejected rows only)
        part = SourceResult("<table>")
        for _ in scan_batches(table_batches(block, "<table>", "text", "id", "skip", part.rejected), probes.matcher,
                              cfg.text_rule, part):
            pass
        return build_report(probes, [part], cfg, "check", ["<table>"]).to_dict()

    blocks = [block_report(table.slice(a, b - a)) for a, b in zip(bounds, bounds[1:])]
    merged = merge_blocks(blocks, _digests(table))
    assert Report(merged).to_json() == whole.to_json()
    if len(blocks) > 2:  # merging is associative: groups of blocks, then the groups (bounded memory)
        first = merge_blocks(blocks[:2], {"text_sha256": "", "lengths_sha256": ""})
        again = merge_blocks([first] + blocks[2:], _digests(table))
        assert Report(again).to_json() == whole.to_json()


def test_merge_of_blocks_refuses_other_sources(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"text": QUESTIONS[0]}) + "\n")
    a, b = check(["x"], [BENCH], progress=False).to_dict(), check([f], [BENCH], progress=False).to_dict()
    with pytest.raises(ConfigError, match="one source"):
        merge_blocks([a, b], _digests(pa.table({"text": ["x"]})))
    with pytest.raises(ConfigError, match="at least one"):
        merge_blocks([], {})


def test_a_merge_names_the_engines_of_its_shards(tmp_path):
    f, g = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    f.write_text(json.dumps({"text": "leak " + QUESTIONS[0]}) + "\n")
    g.write_text(json.dumps({"text": "clean"}) + "\n")
    ra, rb = check([f], [BENCH], progress=False).to_dict(), check([g], [BENCH], progress=False).to_dict()
    assert ra["run"] == {"engine": "local"}
    assert Report.merge([ra, rb]).data["run"] == {"engine": "local"}
    rb["run"]["engine"] = "ray"  # as a shard checked with --engine ray records it
    merged = Report.merge([ra, rb]).data
    assert merged["run"] == {"engine": "local+ray"}
    assert {k: v for k, v in merged.items() if k != "run"} == \
        {k: v for k, v in check([f, g], [BENCH], progress=False).data.items() if k != "run"}
