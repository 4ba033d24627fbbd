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
from decontam.errors import ConfigError
from decontam.inputs import CorpusFile, Rejected, expand_corpus, read_file
from decontam.outputs import FileWriter, OutputSet

# ------------------------------------------------------------------------------------------------- output


def write_through(out: OutputSet, f: CorpusFile, keep_fn, on_error="raise") -> tuple[Path, list[Rejected]]:
    rejected: list[Rejected] = []
    w = FileWriter(out.destination(f), f.format, f.path)
    for b in read_file(f, "text", "id", on_error, rejected, for_output=True):
        w.write(b, np.array([keep_fn(t) for t in b.texts.to_pylist()], dtype=bool))
    return w.finish(), rejected


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
    out = OutputSet(dest, [f])
    tmp, rejected = write_through(out, f, lambda t: not t.startswith("drop"), on_error="skip")
    assert not dest.exists()  # nothing at the destination before commit
    out.commit([tmp])
    assert not tmp.exists()
    got = dest.read_bytes()
    if fmt == "jsonl.gz":
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
    f = jsonl_file(src)
    out = OutputSet(tmp_path / "o.jsonl", [f])
    tmp, _ = write_through(out, f, lambda t: True)
    out.commit([tmp])
    assert (tmp_path / "o.jsonl").read_bytes() == data


def test_jsonl_output_nothing_kept_is_an_empty_file(tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, ROWS)
    f = jsonl_file(src)
    out = OutputSet(tmp_path / "o.jsonl", [f])
    tmp, _ = write_through(out, f, lambda t: False)
    out.commit([tmp])
    assert (tmp_path / "o.jsonl").read_bytes() == b""


def test_parquet_output_round_trips(tmp_path):
    t = pa.table({
        "id": pa.array(list(range(10)), type=pa.int32()),
        "text": [f"doc {i} é" if i != 4 else None for i in range(10)],
        "meta": [{"k": i} for i in range(10)],
    })
    f = parquet_file(tmp_path / "in.parquet", t)
    dest = tmp_path / "out.parquet"
    out = OutputSet(dest, [f])
    tmp, rejected = write_through(out, f, lambda s: not s.startswith("doc 7"), on_error="skip")
    out.commit([tmp])
    got = pq.read_table(dest)
    assert got.schema == t.schema  # every column, types kept
    expected = t.filter(pa.array([i not in (4, 7) for i in range(10)]))
    assert got.equals(expected)
    assert [r.line for r in rejected] == [5]


def test_parquet_output_with_no_rows_keeps_the_schema(tmp_path):
    t = pa.table({"text": pa.array([], type=pa.string()), "id": pa.array([], type=pa.int64())})
    f = parquet_file(tmp_path / "in.parquet", t)
    out = OutputSet(tmp_path / "out.parquet", [f])
    tmp, _ = write_through(out, f, lambda s: True)
    out.commit([tmp])
    got = pq.read_table(tmp_path / "out.parquet")
    assert got.num_rows == 0 and got.schema == t.schema
    # all rows removed: also an empty file with the schema
    f2 = parquet_file(tmp_path / "in2.parquet", pa.table({"text": ["a", "b"], "x": [1.5, 2.5]}))
    out2 = OutputSet(tmp_path / "out2.parquet", [f2])
    tmp2, _ = write_through(out2, f2, lambda s: False)
    out2.commit([tmp2])
    got2 = pq.read_table(tmp_path / "out2.parquet")
    assert got2.num_rows == 0 and got2.schema.names == ["text", "x"]


def test_abort_leaves_nothing_behind(tmp_path):
    src = tmp_path / "src" / "in.jsonl"
    src.parent.mkdir()
    write_jsonl(src, ROWS)
    f = jsonl_file(src)
    dest = tmp_path / "out" / "clean.jsonl"
    out = OutputSet(dest, [f])
    w = FileWriter(out.destination(f), f.format, f.path)
    for b in read_file(f, "text", None, "raise", []):
        w.write(b, np.ones(len(b), dtype=bool))
    assert w.tmp.exists() and w.tmp.parent == dest.parent  # written beside the destination, under a temp name
    w.abort()
    out.abort()
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # no half-written file under any name


def test_folder_output_appears_only_at_commit(tmp_path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    write_jsonl(root / "a.jsonl", [{"text": "keep a"}, {"text": "drop a"}])
    write_jsonl(root / "sub" / "b.jsonl.gz", [{"text": "drop b"}, {"text": "keep b"}])
    pq.write_table(pa.table({"text": ["keep c", "drop c"]}), root / "sub" / "c.parquet")
    files = expand_corpus([root])
    dest = tmp_path / "out"
    out = OutputSet(dest, files)
    written = [write_through(out, f, lambda t: t.startswith("keep"))[0] for f in files]
    assert not dest.exists()  # staged elsewhere until every input is done
    out.commit(written)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "a.jsonl", "sub/b.jsonl.gz", "sub/c.parquet"]
    assert (dest / "a.jsonl").read_bytes() == b'{"text": "keep a"}\n'
    assert gzip.decompress((dest / "sub" / "b.jsonl.gz").read_bytes()) == b'{"text": "keep b"}\n'
    assert pq.read_table(dest / "sub" / "c.parquet").column("text").to_pylist() == ["keep c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no staging folder left


def test_folder_output_abort_leaves_nothing(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    write_jsonl(root / "a.jsonl", [{"text": "x"}])
    files = expand_corpus([root])
    out = OutputSet(tmp_path / "out", files)
    w = FileWriter(out.destination(files[0]), "jsonl", files[0].path)
    w.abort()
    out.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_output_set_refuses_a_non_empty_folder_and_a_wrong_suffix(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    write_jsonl(root / "a.jsonl", [{"text": "x"}])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="already exists and is not empty"):
        OutputSet(tmp_path / "full", expand_corpus([root]))
    assert (tmp_path / "full" / "old.txt").read_text() == "keep me"
    with pytest.raises(ConfigError) as info:
        OutputSet(tmp_path / "o.parquet", expand_corpus([root / "a.jsonl"]))
    assert "jsonl" in str(info.value)
    # an existing empty folder is fine
    (tmp_path / "emptyout").mkdir()
    OutputSet(tmp_path / "emptyout", expand_corpus([root])).abort()
