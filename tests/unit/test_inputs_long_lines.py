"""A JSONL line longer than the maximum document size meets the same fate wherever it sits in the file.

The reader takes a file in blocks (``jsonl.BLOCK_BYTES``, monkeypatched small here); an over-long line may lie
inside a block, or cross a block's end with more than the limit before it. Either way, with ``on_error="skip"``
it is a counted skip with the same rejection record (line, field, reason), and the lines after it are read as
they would be; with ``"raise"`` it is the same error. The oracle is the in-block read (one block for the file).
Reading the file in byte ranges (several processes) gives the same rows and rejections too.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import decontam.inputs.jsonl as jsonl
from decontam.errors import InputError
from decontam.inputs import CorpusFile, FilePart, ReadCounts, Rejected, file_format, read_file

MAX = 100  # the maximum document size of these tests, in bytes

short_row = st.builds(lambda t, i: json.dumps({"id": i, "text": t}).encode(), st.text("ab é", max_size=40),
                      st.integers(0, 99))
long_row = st.builds(lambda n: json.dumps({"id": "long", "text": "w " * n}).encode(), st.integers(50, 300))
LINES = st.one_of(
    short_row, short_row, long_row,
    st.integers(MAX + 1, 400).map(lambda n: b" " * n),  # a blank line longer than the limit: no row at all
    st.integers(MAX + 1, 400).map(lambda n: b"x" * n),  # garbage longer than the limit
    st.just(b""), st.just(b"{bad json"),
    st.just(b'{"text": "' + b"y" * (MAX - 12) + b'"}'),  # exactly at the limit: a row
)


def _write(path: Path, lines: list[bytes], crlf: bool, trailing: bool) -> None:
    nl = b"\r\n" if crlf else b"\n"
    data = nl.join(lines) + (nl if trailing and lines else b"")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _read(path: Path, on_error: str, part: FilePart | None = None, counts: ReadCounts | None = None):
    """Rows (text, line, row, id) and rejections (line, field, reason), or the error as (line, message)."""
    rejected: list[Rejected] = []
    rows = []
    try:
        for b in read_file(CorpusFile(path, path.name, str(file_format(path))), "text", "id", on_error, rejected,
                           max_bytes=MAX, part=part, counts=counts):
            rows += list(zip(b.texts.to_pylist(), b.lines.tolist(), b.rows.tolist(), b.doc_ids(range(len(b)))))
    except InputError as exc:
        return "error", exc.line, str(exc)
    return rows, [(r.line, r.field, r.reason) for r in rejected]


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINES, min_size=1, max_size=12), block=st.sampled_from([8, 16, 40, 64, 101, 160, 256]),
       on_error=st.sampled_from(["skip", "raise"]), crlf=st.booleans(), trailing=st.booleans(),
       gz=st.booleans())
@example(lines=[b'{"text": "a"}', json.dumps({"text": "w " * 200}).encode(), b'{"text": "b"}'], block=64,
         on_error="skip", crlf=False, trailing=True, gz=False)  # the audit's case: crossing with > MAX before
@example(lines=[b'{"text": "a"}', json.dumps({"text": "w " * 200}).encode(), b'{"text": "b"}'], block=64,
         on_error="raise", crlf=False, trailing=True, gz=False)
def test_an_over_long_line_meets_the_same_fate_wherever_a_block_ends(tmp_path_factory, monkeypatch, lines, block,
                                                                     on_error, crlf, trailing, gz):
    p = tmp_path_factory.mktemp("long") / ("c.jsonl.gz" if gz else "c.jsonl")
    _write(p, lines, crlf, trailing)
    with monkeypatch.context() as mp:
        mp.setattr(jsonl, "BLOCK_BYTES", 1 << 20)  # the whole file in one block: every line inside it
        whole = _read(p, on_error)
    with monkeypatch.context() as mp:
        mp.setattr(jsonl, "BLOCK_BYTES", block)
        assert _read(p, on_error) == whole


def test_a_skipped_line_crossing_a_block_keeps_the_in_block_record(tmp_path, monkeypatch):
    """The audit's reproducer in small: with > MAX bytes of a long line before a block's end, it is skipped
    and counted (not an error), and recorded as inside a block."""
    p = tmp_path / "late.jsonl"
    rows = [{"id": i, "text": f"row {i}"} for i in range(5)]
    lines = [json.dumps(r).encode() for r in rows]
    lines.insert(3, json.dumps({"id": "long", "text": "w " * 300}).encode())
    _write(p, lines, crlf=False, trailing=True)
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 1 << 20)
    whole = _read(p, "skip")
    assert [r[0] for r in whole[1]] == [4] and "longer than the maximum document size" in whole[1][0][2]
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 80)  # the long line starts within the first block, ends far after
    assert _read(p, "skip") == whole
    assert _read(p, "raise")[:2] == ("error", 4)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINES, min_size=1, max_size=14), block=st.sampled_from([16, 64, 256]),
       n=st.integers(2, 5))
def test_byte_ranges_skip_over_long_lines_as_the_whole_file_does(tmp_path_factory, monkeypatch, lines, block, n):
    """The parts of several processes (byte ranges, numbered from their start) give the whole file's rows and
    rejections: a long line is the same skip whichever part holds it, and wherever that part's blocks end."""
    p = tmp_path_factory.mktemp("parts") / "c.jsonl"
    _write(p, lines, crlf=False, trailing=True)
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", block)
    whole = _read(p, "skip")
    got_rows, got_rejected, n_lines, n_rows = [], [], 0, 0
    for i, r in enumerate(jsonl.jsonl_ranges(p, n, min_bytes=1)):
        counts = ReadCounts()
        rows, rejected = _read(p, "skip", FilePart(i, byte_range=r, fields=("text",)), counts)
        got_rows += [(t, ln + n_lines, row + n_rows, i_) for t, ln, row, i_ in rows]
        got_rejected += [(ln + n_lines, f, why) for ln, f, why in rejected]
        n_lines, n_rows = n_lines + counts.lines, n_rows + counts.rows
    assert (got_rows, got_rejected) == whole


@pytest.mark.parametrize("where", ["in a block", "across a block's end"])
def test_raise_names_the_line_alike_wherever_it_sits(tmp_path, monkeypatch, where):
    p = tmp_path / "c.jsonl"
    _write(p, [b'{"text": "a"}', json.dumps({"text": "z" * 500}).encode(), b'{"text": "b"}'], False, True)
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 1 << 20 if where == "in a block" else 32)
    kind, line, message = _read(p, "raise")
    assert kind == "error" and line == 2
    assert message == (f"{p}, line 2: a line longer than the maximum document size ({MAX} bytes): raise it with "
                       "--max-doc-bytes, split or remove the line, or pass --on-error skip to skip and count such "
                       "rows")


@pytest.mark.parametrize("block", [1 << 20, 48])
def test_a_chat_field_is_chosen_on_the_row_after_an_over_long_first_row(tmp_path, monkeypatch, block):
    """With the default text field, the chat field is chosen on the first row that is not over the limit, whether
    the long first row lies in a block or crosses its end; the byte ranges are told the same."""
    p = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": "w " * 200}]}, {"messages": [{"role": "user", "content": "hi"}]}]
    _write(p, [json.dumps(r).encode() for r in rows], crlf=False, trailing=True)
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", block)
    rejected: list[Rejected] = []
    got = [(b.texts.to_pylist(), b.lines.tolist(), b.fields) for b in
           read_file(CorpusFile(p, p.name, "jsonl"), "text", None, "skip", rejected, max_bytes=MAX)]
    assert got == [(["hi"], [2], ("messages",))] and [r.line for r in rejected] == [1]
    assert jsonl.jsonl_fields(p, "text", MAX) == ("messages",)
