"""decontam.index.build and .write: merging build runs is a full sort, spilling changes nothing, a failed build
leaves nothing behind."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decontam.index.build as build_mod
import decontam.index.write as write_mod
from decontam.index import CorpusIndex
from decontam.index.hashing import radix_order

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=60), min_size=1, max_size=6),
       st.integers(0, 5), st.sampled_from([1, 7, 64, 1 << 20]), st.booleans())
def test_merging_build_runs_equals_a_full_sort(tmp_path_factory, runs, narrow, merge_entries, sorted_runs):
    """The build keeps each batch's pairs only bucketed by the keys' top bits (`bucketed`) and sorts them
    fully when the runs are merged, one key range at a time (`merge_runs`); fully sorted runs (an index's
    table, when indexes are merged) go the same way. Either way the table is exactly the stable full sort of
    all pairs by the keys' top 32 bits, ties in position order."""
    from unittest import mock

    shift = np.uint64(narrow * 12)  # narrow > 0: few distinct prefixes, many ties across runs
    parts, all_k, all_p, at = [], [], [], 0
    for r in runs:
        k = np.array(r, dtype=np.uint64) >> shift << shift
        p = at + np.arange(len(k), dtype=np.int64) * 3  # position order inside a run, runs in order
        at += 3 * len(k) + 5
        all_k.append(k)
        all_p.append(p)
        o = radix_order(k) if sorted_runs else np.argsort(k >> np.uint64(56), kind="stable")
        parts.append((k[o], p[o], 0))
    folder = tmp_path_factory.mktemp("merge")
    with mock.patch.object(write_mod, "_MERGE_ENTRIES", merge_entries):  # several ranges, or one
        _, _, distinct = write_mod.merge_runs(parts, folder, "u8", 32 if sorted_runs else 8)
    keys = np.fromfile(folder / "keys.u64", dtype="<u8")
    pos = np.fromfile(folder / "pos.u8", dtype="<u8")
    k, p = np.concatenate(all_k), np.concatenate(all_p)
    full = np.argsort(k >> np.uint64(32), kind="stable")
    assert np.array_equal(keys, k[full])
    assert np.array_equal(pos, p[full].astype(np.uint64))
    adjacent_repeat = keys[1:] == keys[:-1] if len(keys) else np.zeros(0, dtype=bool)
    assert distinct == len(keys) - int(adjacent_repeat.sum())


def test_spilled_runs_give_the_same_index(tmp_path, monkeypatch):
    """A build that spills its runs to disk every few batches (large corpora), and reads the corpus in small
    batches, writes the same table."""
    rng = np.random.default_rng(5)
    docs = ["".join(rng.choice(list("abcdefgh ,"), 300)) for _ in range(60)] + ["ab" * 200, "a" * 500]
    f = tmp_path / "c.jsonl"
    ids = [{"id": f"doc-{i}" if i % 2 else i} if i % 3 else {} for i in range(len(docs))]  # str, int, none
    f.write_text("".join(json.dumps({"text": d, **i}) + "\n" for d, i in zip(docs, ids)))
    CorpusIndex.build([f], tmp_path / "whole", progress=False)
    monkeypatch.setattr(build_mod, "_SPILL_ENTRIES", 250)
    from decontam.inputs import jsonl

    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 2000)  # many small batches, so several runs spill
    spills = []
    spill = build_mod._Runs._spill
    monkeypatch.setattr(build_mod._Runs, "_spill",
                        lambda self: spills.append(len(self.runs)) or spill(self))
    CorpusIndex.build([f], tmp_path / "spilled", progress=False)
    assert len(spills) > 2 and max(spills) > 1  # several spills, of several batch runs each
    for name in ("keys.u64", "pos.u4", "docs.arrow"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "spilled" / name).read_bytes(), name
    assert not list((tmp_path / "spilled").glob(".run*"))


def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps({"text": "a" * 100}) + "\n")

    def boom(*a, **k):
        raise RuntimeError("killed")

    monkeypatch.setattr(build_mod, "write_index", boom)
    with pytest.raises(RuntimeError):
        CorpusIndex.build([f], tmp_path / "ix", progress=False)
    assert not (tmp_path / "ix").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["c.jsonl"]
