"""Tests of decontam.outputs: all-or-nothing output that keeps every surviving row byte for byte."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _files import ROWS, jsonl_file, parquet_file, read_all, write_jsonl  # noqa: E402

import decontam.inputs.jsonl as jsonl
from decontam.atomic import Commit
from decontam.errors import ConfigError
from decontam.inputs import CorpusFile, Rejected, expand_corpus, read_file
from decontam.outputs import FileWriter, OutputSet

# ------------------------------------------------------------------------------------------------- output


def write_through(out: OutputSet, i: int, f: CorpusFile, keep_fn, on_error="raise") -> list[Rejected]:
    """Write input ``i``'s rows that ``keep_fn`` keeps into its temporary output; returns the rejected rows."""
    rejected: list[Rejected] = []
    w = FileWriter(out.temps[i], f.format, f.path)
    for b in read_file(f, "text", "id", on_error, rejected, for_output=True):
        w.write(b, np.array([keep_fn(t) for t in b.texts.to_pylist()], dtype=bool))
    w.finish()
    return rejected


def commit_one(dest: Path, f: CorpusFile, keep_fn, on_error="raise") -> list[Rejected]:
    with Commit() as commit:
        out = OutputSet(dest, [f], commit)
        rejected = write_through(out, 0, f, keep_fn, on_error)
        out.stage(commit)
        commit.apply()
    return rejected


JSONL_LINES = [
    b'{"text": "keep 1", "id": 1}',
    b'{"text": "drop 2", "id": 2}',
    # odd spacing, raw UTF-8 and an escape: all kept as they are
    b'{"id": 3,   "text":"keep 3 \xc3\xa9\xe4\xb8\xad \\u00e9",  "spacing": [ 1 ,2 ]}',
    b'{"text": "keep 4 crlf"}\r',  # a CRLF line: its \r is part of the line
    b'{"text": "drop 5"}',
    b"",
    b'{"text": "keep 6 after blank"}',
    b'{"text": 7}',  # rejected (skip)
    b'{"text": "keep 8 after rejected"}',
    b'{"text": "keep 9 last, no newline"}',
]


@pytest.mark.parametrize("block", [1 << 24, 50])
@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz"])
def test_jsonl_output_keeps_surviving_lines_byte_for_byte(tmp_path, monkeypatch, block, fmt):
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", block)
    src = tmp_path / f"in.{fmt}"
    raw = b"\n".join(JSONL_LINES)
    src.write_bytes(gzip.compress(raw) if fmt == "jsonl.gz" else raw)
    f = jsonl_file(src)
    dest = tmp_path / "out" / f"clean.{fmt}"
    with Commit() as commit:
        out = OutputSet(dest, [f], commit)
        rejected = write_through(out, 0, f, lambda t: not t.startswith("drop"), on_error="skip")
        assert not dest.exists()  # nothing at the destination before the commit
        assert out.temps[0].parent == dest.parent  # written beside it, under a temporary name
        out.stage(commit)
        commit.apply()
    got = dest.read_bytes()
    if fmt == "jsonl.gz":
        assert got[4:8] == b"\0\0\0\0"  # gzip mtime 0: the same rows give the same bytes on any day
        got = gzip.decompress(got)
    expected = [JSONL_LINES[i] for i in (0, 2, 3, 6, 8, 9)]
    assert got == b"".join(line + b"\n" for line in expected)
    assert [r.line for r in rejected] == [8]
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left beside it
    # and the output reads back as the kept rows
    assert read_all(dest)[0] == ["keep 1", "keep 3 é中 é", "keep 4 crlf", "keep 6 after blank",
                                 "keep 8 after rejected", "keep 9 last, no newline"]


def test_jsonl_output_all_kept_is_the_input(tmp_path):
    src = tmp_path / "in.jsonl"
    data = write_jsonl(src, ROWS, ensure_ascii=False)
    commit_one(tmp_path / "o.jsonl", jsonl_file(src), lambda t: True)
    assert (tmp_path / "o.jsonl").read_bytes() == data


def test_jsonl_output_nothing_kept_is_an_empty_file(tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, ROWS)
    commit_one(tmp_path / "o.jsonl", jsonl_file(src), lambda t: False)
    assert (tmp_path / "o.jsonl").read_bytes() == b""


def test_parquet_output_round_trips(tmp_path):
    t = pa.table({
        "id": pa.array(list(range(10)), type=pa.int32()),
        "text": [f"doc {i} é" if i != 4 else None for i in range(10)],
        "meta": [{"k": i} for i in range(10)],
    })
    f = parquet_file(tmp_path / "in.parquet", t)
    dest = tmp_path / "out.parquet"
    rejected = commit_one(dest, f, lambda s: not s.startswith("doc 7"), on_error="skip")
    got = pq.read_table(dest)
    assert got.schema == t.schema  # every column, types kept
    expected = t.filter(pa.array([i not in (4, 7) for i in range(10)]))
    assert got.equals(expected)
    assert [r.line for r in rejected] == [5]


def test_parquet_output_with_no_rows_keeps_the_schema(tmp_path):
    t = pa.table({"text": pa.array([], type=pa.string()), "id": pa.array([], type=pa.int64())})
    commit_one(tmp_path / "out.parquet", parquet_file(tmp_path / "in.parquet", t), lambda s: True)
    got = pq.read_table(tmp_path / "out.parquet")
    assert got.num_rows == 0 and got.schema == t.schema
    # all rows removed: also an empty file with the schema
    f2 = parquet_file(tmp_path / "in2.parquet", pa.table({"text": ["a", "b"], "x": [1.5, 2.5]}))
    commit_one(tmp_path / "out2.parquet", f2, lambda s: False)
    got2 = pq.read_table(tmp_path / "out2.parquet")
    assert got2.num_rows == 0 and got2.schema.names == ["text", "x"]


def test_a_failure_before_the_commit_leaves_nothing_behind(tmp_path):
    """Temporary outputs, and the folders made to hold them, go when the run fails or is interrupted."""
    src = tmp_path / "src" / "in.jsonl"
    src.parent.mkdir()
    write_jsonl(src, ROWS)
    f = jsonl_file(src)
    dest = tmp_path / "out" / "deeper" / "clean.jsonl"
    for error in (RuntimeError, KeyboardInterrupt):
        with pytest.raises(error), Commit() as commit:
            out = OutputSet(dest, [f], commit)
            w = FileWriter(out.temps[0], f.format, f.path)
            for b in read_file(f, "text", None, "raise", []):
                w.write(b, np.ones(len(b), dtype=bool))
            w.close()
            assert out.temps[0].stat().st_size > 0
            commit.stage_bytes(tmp_path / "out" / "report.json", "{}")
            raise error("interrupted")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # not even the folders made for it


def test_folder_output_appears_only_at_commit(tmp_path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    write_jsonl(root / "a.jsonl", [{"text": "keep a"}, {"text": "drop a"}])
    write_jsonl(root / "sub" / "b.jsonl.gz", [{"text": "drop b"}, {"text": "keep b"}])
    pq.write_table(pa.table({"text": ["keep c", "drop c"]}), root / "sub" / "c.parquet")
    files = expand_corpus([root])
    dest = tmp_path / "out"
    with Commit() as commit:
        out = OutputSet(dest, files, commit)
        for i, f in enumerate(files):
            write_through(out, i, f, lambda t: t.startswith("keep"))
        out.stage(commit)
        assert not dest.exists()  # staged elsewhere until every input is done
        commit.apply()
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "a.jsonl", "sub/b.jsonl.gz", "sub/c.parquet"]
    assert (dest / "a.jsonl").read_bytes() == b'{"text": "keep a"}\n'
    assert gzip.decompress((dest / "sub" / "b.jsonl.gz").read_bytes()) == b'{"text": "keep b"}\n'
    assert pq.read_table(dest / "sub" / "c.parquet").column("text").to_pylist() == ["keep c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no staging folder left


def test_commit_replaces_a_folder_or_a_file_as_a_whole(tmp_path):
    """With --overwrite an output folder is replaced whole (no stale file of the old run stays in it)."""
    old = tmp_path / "out"
    old.mkdir()
    (old / "stale.jsonl").write_text("old run")
    with Commit() as commit:
        stage = commit.temp(old, directory=True)
        (stage / "new.jsonl").write_text("new run")
        commit.stage(stage, old)
        commit.apply()
    assert sorted(p.name for p in old.iterdir()) == ["new.jsonl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_rename_says_what_is_written_and_what_is_not(tmp_path):
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "inside").write_text("a non-empty folder where a file should go")
    with Commit() as commit:
        commit.stage_bytes(tmp_path / "first.txt", "1")
        commit.stage_bytes(tmp_path / "sub" / "second.txt", "2")
        tmp = commit.temp(tmp_path / "blocker" / "inside")
        tmp.write_text("3")
        commit.stage(tmp, tmp_path / "blocker" / "inside" / "x")  # cannot be renamed there
        with pytest.raises(OSError) as info:
            commit.apply()
    message = str(info.value)
    assert "written: " in message and "first.txt" in message and "NOT written: " in message
    assert (tmp_path / "first.txt").read_text() == "1" and (tmp_path / "sub" / "second.txt").read_text() == "2"
    assert not any(p.name.endswith(".partial") for p in tmp_path.rglob("*"))


def test_output_set_refuses_a_wrong_suffix(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    write_jsonl(root / "a.jsonl", [{"text": "x"}])
    with pytest.raises(ConfigError, match="must be in the input.s format") as info, Commit() as commit:
        OutputSet(tmp_path / "o.parquet", expand_corpus([root / "a.jsonl"]), commit)
    assert "jsonl" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
