"""Every core on one file, for the index: a build by several processes (files cut into parts) writes the index
folder of a one-process build, byte for byte, and so answers every check with the same report.

The oracle is the one-process build (itself held to the brute-force oracle in ``test_index.py``). Everything
that cuts the work is made small for the test, so that a few hundred bytes exercise every seam: parts of about
300 bytes, text blocks of 64 bytes (a block takes bytes from several parts), merge ranges of a few entries (each
worker sorts several), Bloom partitions of 64 bits in groups of two (each worker fills several). Identity is
checked on every file of the folder (the manifest records every file's size and SHA-256, so it checks them
too), and on the reports of ``index check``.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _files import DEMO_BENCH, DEMO_QUESTIONS
from _runs import spools_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decontam.bloom as bloom_mod
import decontam.index.parts as parts_mod
import decontam.index.store as store_mod
import decontam.index.write as write_mod
from decontam.config import make_config
from decontam.errors import InputError
from decontam.index import CorpusIndex
from decontam.inputs import CorpusFile, files

Q, BENCH = DEMO_QUESTIONS, DEMO_BENCH


@pytest.fixture(autouse=True)
def _no_spool_left_behind():
    yield
    assert spools_of(os.getpid(), "index") == []  # this process's index spools, wherever they went


@pytest.fixture
def small(monkeypatch):
    """Every seam a few bytes apart: parts, text blocks, merge ranges, Bloom partitions and their groups."""
    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 300)
    monkeypatch.setattr(parts_mod, "_PART_BYTES", 300)
    monkeypatch.setattr(store_mod, "_TEXT_BLOCK", 64)
    monkeypatch.setattr(write_mod, "_MERGE_ENTRIES", 4)
    monkeypatch.setattr(bloom_mod, "_PARTITION_BITS", 64)
    monkeypatch.setattr(bloom_mod, "_GROUP_BITS", 128)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def build(paths, out: Path, num_proc: int, on_error: str = "skip") -> dict[str, bytes]:
    CorpusIndex.build(paths, out, num_proc=num_proc, on_error=on_error, progress=False)
    return folder_bytes(out)


def reports(index: Path) -> list[str]:
    ix = CorpusIndex.load(index)
    return [ix.check([BENCH], probes=p).to_json() for p in ("3", "all")]


def assert_same_index(one: Path, many: Path) -> None:
    a, b = folder_bytes(one), folder_bytes(many)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], name
    assert reports(one) == reports(many)


LINE = st.one_of(
    st.builds(lambda i, q, pad: json.dumps({"id": f"d{i}", "text": pad + q + pad}), st.integers(0, 10 ** 6),
              st.sampled_from(Q), st.text("ab \n", max_size=40)),
    st.builds(lambda t: json.dumps({"text": t}), st.text(max_size=80)),  # no id: named by row number
    st.builds(lambda n, c: json.dumps({"id": n, "text": c * n}), st.integers(0, 200), st.sampled_from("a7é")),
    st.builds(lambda t: json.dumps({"id": 1.5, "text": "noise " + t}, ensure_ascii=False), st.text(max_size=90)),
    st.just(""),  # a blank line: no row, but a line
    st.just("{not json"),  # a bad row
    st.just('{"id": 5, "text": null}'),
)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(LINE, min_size=1, max_size=40), st.sampled_from([2, 3]))
def test_a_jsonl_file_in_parts_gives_the_one_process_index(small, lines, num_proc):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "c.jsonl"
        lines.append(json.dumps({"text": "one good row " + Q[0]}))
        src.write_text("\n".join(lines) + "\n")
        parts = files.split_file(CorpusFile(src, "c.jsonl", "jsonl"), num_proc, "text")
        assert parts is None or len(parts) >= 2
        build([src], Path(tmp) / "one", 1)
        build([src], Path(tmp) / "many", num_proc)
        assert_same_index(Path(tmp) / "one", Path(tmp) / "many")
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["c.jsonl", "many", "one"]


def test_many_parts_blocks_ranges_and_slices_really_happen(small, tmp_path):
    """The seams the property test relies on are there: many parts, text blocks taking bytes from several
    parts, several merge ranges and Bloom slices per process; and two or three processes agree."""
    rng = random.Random(7)
    words = " ".join(Q).split()
    rows = [json.dumps({"id": i, "text": " ".join(rng.choices(words, k=5 + i % 40))}) for i in range(150)]
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(rows) + "\n")
    jobs = parts_mod.plan_jobs([CorpusFile(src, "c.jsonl", "jsonl")], make_config(num_proc=2))
    assert len(jobs) > 20 and max(j.size for j in jobs) < 1000
    one = build([src], tmp_path / "one", 1)
    assert build([src], tmp_path / "two", 2) == one == build([src], tmp_path / "three", 3)
    ix = CorpusIndex.load(tmp_path / "one")
    assert ix.manifest["corpus"]["n_normalized_bytes"] > 100 * 64  # > 100 blocks, each part < 1000 bytes
    assert ix.manifest["table"]["n_entries"] > 4 << 7  # 128 merge ranges or more: several per call
    assert ix.manifest["bloom"]["n_partitions"] > 2 * 4 * 3  # groups of 2: more than 4 slices per process


def test_parquet_row_groups_in_parts_give_the_one_process_index(small, tmp_path):
    n = 1200
    texts = [(Q[i % 3] if i % 7 == 0 else f"row {i} plain text {'x' * (i % 90)}") if i % 41 else None
             for i in range(n)]
    table = pa.table({"text": texts, "id": [f"r{i}" if i % 5 else None for i in range(n)]})
    src = tmp_path / "c.parquet"
    pq.write_table(table, src, row_group_size=100)
    assert len(files.split_file(CorpusFile(src, "c.parquet", "parquet"), 2, "text")) >= 4
    build([src], tmp_path / "one", 1)
    build([src], tmp_path / "many", 2)
    assert_same_index(tmp_path / "one", tmp_path / "many")
    rejected = CorpusIndex.load(tmp_path / "one").manifest["corpus"]["sources"][0]["rejected"]
    assert [r["line"] for r in rejected] == [i + 1 for i in range(0, n, 41)]  # null texts: rows named


def test_several_files_some_split_some_whole(small, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    big = [json.dumps({"text": f"{i} " + (Q[i % 3] if i % 9 == 0 else "nothing much " * (i % 7))})
           for i in range(200)]
    (folder / "a.jsonl").write_text("\n".join(big) + "\n")
    (folder / "b.jsonl").write_text(json.dumps({"text": Q[1]}) + "\n\n" + json.dumps({"text": "x"}) + "\n")
    pq.write_table(pa.table({"text": [Q[2], "y" * 70] * 300}), folder / "c.parquet", row_group_size=100)
    (folder / "d.jsonl.gz").write_bytes(gzip.compress(b'{"text": "zzz"}\n' * 50 + b'{"text": "%s"}\n' %
                                                      Q[0].encode()))
    build([folder], tmp_path / "one", 1)
    build([folder], tmp_path / "many", 2)
    assert_same_index(tmp_path / "one", tmp_path / "many")
    sources = CorpusIndex.load(tmp_path / "many").manifest["corpus"]["sources"]
    assert [Path(s["source"]).name for s in sources] == ["a.jsonl", "b.jsonl", "c.parquet", "d.jsonl.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "many", "one"]


def test_an_error_in_a_later_part_names_the_line_a_one_process_build_names(small, tmp_path):
    rows = [json.dumps({"id": i, "text": f"row {i} " + Q[i % 3]}) for i in range(60)]
    rows.insert(45, "")
    rows[50] = '{"id": 50, "text": 7}'
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(rows) + "\n")
    assert len(files.split_file(CorpusFile(src, "c.jsonl", "jsonl"), 2, "text")) > 4
    errors = []
    for n in (1, 2):
        with pytest.raises(InputError) as err:
            CorpusIndex.build([src], tmp_path / f"ix{n}", num_proc=n, progress=False)
        errors.append((str(err.value), err.value.line, err.value.field))
    assert errors[0] == errors[1] and errors[0][1] == 51 and errors[0][2] == "text"
    assert list(tmp_path.iterdir()) == [src]  # no index, no staging folder, no spool


def test_a_file_whose_every_row_is_rejected_fails_as_in_one_process(small, tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": i}) + "\n" for i in range(80)))
    errors = []
    for n in (1, 2):
        with pytest.raises(InputError) as err:
            CorpusIndex.build([src], tmp_path / f"ix{n}", num_proc=n, on_error="skip", progress=False)
        errors.append(str(err.value))
    assert errors[0] == errors[1] and "no row of this input was accepted (80 rejected" in errors[0]
    assert list(tmp_path.iterdir()) == [src]


@pytest.mark.parametrize("room", ["none", "texts only"])
def test_spools_go_to_the_staging_folder_when_shared_memory_has_no_room(small, tmp_path, monkeypatch, room):
    """Without room in shared memory (a corpus too large for it) the runs, or every spool, go inside the staging
    folder: the same index, and nothing left in it."""
    rows = [json.dumps({"id": i, "text": f"row {i} " + Q[i % 3] * (i % 3)}) for i in range(90)]
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(rows) + "\n")
    build([src], tmp_path / "one", 1)
    asked = []
    real = parts_mod.shared_memory

    def shm(need: int):
        asked.append(need)
        return real(need) if room == "texts only" and len(asked) == 2 else None

    monkeypatch.setattr(parts_mod, "shared_memory", shm)
    build([src], tmp_path / "many", 2)
    assert len(asked) == 2 and asked[0] > asked[1]  # runs and texts, then texts alone
    assert_same_index(tmp_path / "one", tmp_path / "many")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "many", "one"]
