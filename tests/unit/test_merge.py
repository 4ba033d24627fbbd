"""Report.merge: the reports of a corpus's shards merge into the report of the whole corpus, byte for byte."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from decontam import Benchmark, ConfigError, Item, Report, check

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
