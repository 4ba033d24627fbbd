"""Parts of one file (byte ranges of JSONL, row groups of Parquet), read in order, give the whole file's rows.

The oracle is the whole-file read: every part's rows, rejected rows, texts and ids, with the part's line numbers
moved by the newlines before it and its row numbers by the rows before it, concatenated in order, must be
exactly what reading the file in one go gives.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam.inputs import CorpusFile, FilePart, Rejected, read_file, split_file
from decontam.inputs.jsonl import jsonl_fields, jsonl_ranges

LINES = st.one_of(
    st.builds(lambda t, i: json.dumps({"id": i, "text": t}), st.text(max_size=30), st.integers(0, 99)),
    st.builds(lambda t: json.dumps({"text": t}, ensure_ascii=False), st.text(max_size=30)),
    st.just(""), st.just("   "), st.just("{bad json"), st.just('{"text": 5}'), st.just('{"id": 1}'),
    st.builds(lambda t: json.dumps({"text": t}) + "\r", st.text(max_size=10)),
)


def read(path: Path, part: FilePart | None = None, on_error: str = "skip"):
    rejected: list[Rejected] = []
    out = []
    for b in read_file(CorpusFile(path, path.name, "parquet" if path.suffix == ".parquet" else "jsonl"), "text",
                       "id", on_error, rejected, part=part):
        ids = b.doc_ids(range(len(b)))
        out += list(zip(b.texts.to_pylist(), b.lines.tolist(), b.rows.tolist(), ids))
    return out, [(r.line, r.field, r.reason) for r in rejected]


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=40), st.integers(1, 7), st.booleans())
def test_byte_ranges_read_in_order_are_the_whole_file(lines, n, trailing_newline):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.jsonl"
        data = "\n".join(lines).encode() + (b"\n" if trailing_newline and lines else b"")
        path.write_bytes(data)
        whole = read(path)
        ranges = jsonl_ranges(path, n, min_bytes=1)
        assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))  # contiguous, no byte twice
        assert all(data[e - 1 : e] == b"\n" for _, e in ranges[:-1])  # each cut just after a newline
        rows, rejected, row_offset = [], [], 0
        for i, r in enumerate(ranges):
            line_offset = data[: r[0]].count(b"\n")
            got, bad = read(path, FilePart(i, byte_range=r, fields=jsonl_fields(path, "text")))
            rows += [(t, ln + line_offset, row + row_offset, d) for t, ln, row, d in got]
            rejected += [(ln + line_offset, f, why) for ln, f, why in bad]
            # rows of a range: its non-blank lines (rejected ones too)
            row_offset += sum(1 for line in data[r[0] : r[1]].split(b"\n") if line.strip())
        assert (rows, rejected) == whole


def test_a_chat_file_split_in_ranges_reads_the_chat_field_chosen_on_its_first_row(tmp_path):
    path = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"row {i}"}]} for i in range(50)]
    rows[30] = {"messages": [{"role": "user", "content": "x"}], "text": "a text field here, later on"}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert jsonl_fields(path, "text") == ("messages",)
    texts = []
    for i, r in enumerate(jsonl_ranges(path, 4, min_bytes=1)):
        rejected: list[Rejected] = []
        for b in read_file(CorpusFile(path, "chat.jsonl", "jsonl"), "text", None, "raise", rejected,
                           part=FilePart(i, byte_range=r, fields=("messages",))):
            texts += b.texts.to_pylist()
    assert texts == [f"row {i}" if i != 30 else "x" for i in range(50)]  # never the later row's text field


def test_parquet_row_groups_read_in_order_are_the_whole_file(tmp_path):
    path = tmp_path / "c.parquet"
    n = 50_000
    table = pa.table({"text": [f"doc {i}" if i % 7 else None for i in range(n)], "id": list(range(n))})
    pq.write_table(table, path, row_group_size=9_000)  # row groups of 9,000 rows: batches of 8,192 and 808
    whole = read(path)
    f = CorpusFile(path, path.name, "parquet")
    assert split_file(f, 2, "text") is None  # small: not worth splitting
    parts = [FilePart(i, row_groups=g) for i, g in enumerate([(0, 1), (2,), (3, 4, 5)])]
    got, bad = [], []
    for p in parts:
        rows, rejected = read(path, p)
        got += rows
        bad += rejected
    assert (got, bad) == whole
    assert len(whole[0]) == n - len(range(0, n, 7)) and whole[1][0] == (1, "text", "text is null")


def test_split_file_covers_a_large_file_once_and_not_a_gzip_one(tmp_path):
    path = tmp_path / "big.jsonl"
    line = json.dumps({"text": "x" * 1000}).encode() + b"\n"
    path.write_bytes(line * 40_000)  # 40 MB
    parts = split_file(CorpusFile(path, path.name, "jsonl"), 2, "text")
    assert parts is not None and len(parts) >= 4
    assert parts[0].byte_range[0] == 0 and parts[-1].byte_range[1] == path.stat().st_size
    assert sum(p.size for p in parts) == path.stat().st_size
    assert [p.index for p in parts] == list(range(len(parts)))
    gz = tmp_path / "big.jsonl.gz"
    gz.write_bytes(path.read_bytes())  # (the name decides the format: never split)
    assert split_file(CorpusFile(gz, gz.name, "jsonl.gz"), 2, "text") is None
    assert split_file(CorpusFile(path, path.name, "jsonl"), 1, "text") is None
