"""Tests of decontam.inputs and decontam.outputs: strict JSONL/Parquet reading (fast and careful paths agree),
expansion of corpus arguments, and all-or-nothing output that keeps every surviving row byte for byte."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from _files import ROWS, jsonl_file, parquet_file, read_all, write_jsonl  # noqa: E402
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decontam.inputs.jsonl as jsonl
from decontam.errors import ConfigError, InputError
from decontam.inputs import CorpusFile, Rejected, SkippedFile, arrow_mask, expand_corpus, read_file


@pytest.fixture
def slow_only(monkeypatch):
    """Force the careful line-by-line path for every block."""
    monkeypatch.setattr(jsonl, "_fast_jsonl_block", lambda *a, **k: None)


@pytest.fixture
def fast_calls(monkeypatch):
    """Record whether the pyarrow fast path accepted each block."""
    calls: list[bool] = []
    real = jsonl._fast_jsonl_block

    def spy(*a, **k):
        out = real(*a, **k)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(jsonl, "_fast_jsonl_block", spy)
    return calls


# ------------------------------------------------------------------------------------- JSONL: good input



@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_fast_and_slow_paths_read_the_same_rows(tmp_path, monkeypatch, fast_calls, ensure_ascii, newline):
    p = tmp_path / "c.jsonl"
    write_jsonl(p, ROWS, ensure_ascii=ensure_ascii, newline=newline)
    fast = read_all(p)
    assert fast_calls and all(fast_calls)  # the fast path really was taken
    monkeypatch.setattr(jsonl, "_fast_jsonl_block", lambda *a, **k: None)
    slow = read_all(p)
    assert fast == slow
    texts, lines, rows, ids, rejected = fast
    assert texts == [r["text"] for r in ROWS]
    assert lines == [1, 2, 3, 4, 5, 6] and rows == [0, 1, 2, 3, 4, 5]
    assert ids == [1, "b", 3.5, None, True, 6]
    assert rejected == []


row_text = st.text(st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from('\n\r\\"{}&é中𝐀')),
                   max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(row_text, max_size=20), ensure_ascii=st.booleans(),
       block=st.sampled_from([64, 200, 1 << 20]), crlf=st.booleans(), trailing=st.booleans())
def test_fast_and_slow_paths_agree_on_random_files(tmp_path_factory, monkeypatch, texts, ensure_ascii, block,
                                                  crlf, trailing):
    p = tmp_path_factory.mktemp("r") / "r.jsonl"
    write_jsonl(p, [{"text": t, "n": i} for i, t in enumerate(texts)], ensure_ascii=ensure_ascii,
                newline=b"\r\n" if crlf else b"\n", trailing=trailing)
    real, accepted = jsonl._fast_jsonl_block, []

    def spy(*a, **k):
        out = real(*a, **k)
        accepted.append(out is not None)
        return out

    with monkeypatch.context() as mp:
        mp.setattr(jsonl, "BLOCK_BYTES", block)
        mp.setattr(jsonl, "_fast_jsonl_block", spy)
        fast = read_all(p, id_field="n")
        mp.setattr(jsonl, "_fast_jsonl_block", lambda *a, **k: None)
        slow = read_all(p, id_field="n")
    assert all(accepted) and bool(accepted) == bool(texts)  # the fast path really read every block
    assert fast == slow
    assert fast[0] == texts
    assert fast[1] == list(range(1, len(texts) + 1))
    assert fast[3] == list(range(len(texts)))


@pytest.mark.parametrize("force_slow", [False, True])
def test_blank_lines_are_not_rows(tmp_path, monkeypatch, force_slow):
    if force_slow:
        monkeypatch.setattr(jsonl, "_fast_jsonl_block", lambda *a, **k: None)
    p = tmp_path / "blank.jsonl"
    p.write_bytes(b'\n{"text": "a"}\n\n   \n{"text": "b"}\r\n\r\n\t\n{"text": "c"}\n\n')
    texts, lines, rows, _, rejected = read_all(p)
    assert texts == ["a", "b", "c"]
    assert lines == [2, 5, 8]  # real line numbers, blank lines counted
    assert rows == [0, 1, 2]  # row numbers count rows only
    assert rejected == []


def test_last_line_without_newline(tmp_path):
    p = tmp_path / "nonl.jsonl"
    p.write_bytes(b'{"text": "a"}\n{"text": "b"}\n{"text": "last"}')
    texts, lines, rows, _, _ = read_all(p)
    assert texts == ["a", "b", "last"] and lines == [1, 2, 3] and rows == [0, 1, 2]


def test_empty_file_has_no_rows(tmp_path):
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"")
    assert read_all(p)[0] == []
    p.write_bytes(b"\n\n  \n")
    assert read_all(p)[0] == []


@pytest.mark.parametrize("block", [1, 7, 64, 1000])
def test_small_blocks_and_lines_longer_than_a_block(tmp_path, monkeypatch, block):
    """Blocks end at line ends; a line longer than a block is carried over whole; line numbers stay right."""
    rows = [{"text": "é" * n + str(n)} for n in (0, 5, 40, 200, 1, 3000, 63, 64, 65)]
    p = tmp_path / "long.jsonl"
    write_jsonl(p, rows, ensure_ascii=False, trailing=False)
    with p.open("ab") as fh:
        fh.write(b"\n\n" + b'{"text": 5}' + b"\n" + json.dumps({"text": "z" * 500}).encode())
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", block)
    with pytest.raises(InputError) as info:
        read_all(p)
    assert info.value.line == len(rows) + 2 and "line 11" in str(info.value)
    texts, lines, rows_, _, rejected = read_all(p, on_error="skip")
    assert texts == [r["text"] for r in rows] + ["z" * 500]
    assert lines == list(range(1, len(rows) + 1)) + [len(rows) + 3]
    # the rejected row is counted, the blank line not
    assert rows_ == list(range(len(rows))) + [len(rows) + 1]
    assert [(r.line, r.field) for r in rejected] == [(len(rows) + 2, "text")]


def test_jsonl_gz(tmp_path):
    plain, packed = tmp_path / "c.jsonl", tmp_path / "c.jsonl.gz"
    write_jsonl(plain, ROWS)
    write_jsonl(packed, ROWS)
    assert jsonl_file(packed).format == "jsonl.gz"
    assert read_all(packed) == read_all(plain)
    assert read_all(packed)[0] == [r["text"] for r in ROWS]


def test_truncated_gz_is_an_input_error(tmp_path):
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(gzip.compress(b'{"text": "a"}\n' * 1000)[:-20])
    with pytest.raises(InputError) as info:
        read_all(p)
    assert "cut.jsonl.gz" in str(info.value)


# -------------------------------------------------------------------------------------- JSONL: bad input

BAD_LINES = [
    # (description, line bytes, field named in the error, words in the reason)
    ("malformed JSON", b'{"text": "a"', None, "malformed JSON"),
    ("trailing garbage", b'{"text": "a"} x', None, "malformed JSON"),
    ("an array, not an object", b'["text", "a"]', None, "expected a JSON object, got list"),
    ("a string, not an object", b'"text"', None, "expected a JSON object, got str"),
    ("a number, not an object", b"5", None, "expected a JSON object, got int"),
    ("null, not an object", b"null", None, "expected a JSON object, got NoneType"),
    ("missing text field", b'{"body": "a", "id": 1}', "text", "missing text field"),
    ("text is a number", b'{"text": 5}', "text", "must be a string, got int"),
    ("text is null", b'{"text": null}', "text", "text is null"),
    ("text is a list", b'{"text": ["a"]}', "text", "must be a string, got list"),
    ("text is an object", b'{"text": {"a": 1}}', "text", "must be a string, got dict"),
    ("text is a bool", b'{"text": true}', "text", "must be a string, got bool"),
    ("invalid UTF-8 (Latin-1 bytes)", b'{"text": "caf\xe9"}', None, "invalid UTF-8"),
    ("invalid UTF-8 in another field", b'{"text": "ok", "x": "\xff\xfe"}', None, "invalid UTF-8"),
    ("two objects on one line", b'{"text": "a"} {"text": "b"}', None, "malformed JSON"),
    ("two objects, no space", b'{"text": "a"}{"text": "b"}', None, "malformed JSON"),
]


def _bad_file(tmp_path: Path, bad: bytes, newline: bytes = b"\n") -> Path:
    p = tmp_path / "bad.jsonl"
    good = [b'{"text": "one"}', b"", b'{"text": "two"}', bad, b'{"text": "three"}']  # bad row on line 4
    p.write_bytes(newline.join(good) + newline)
    return p


@pytest.mark.parametrize(("bad", "field", "reason"), [c[1:] for c in BAD_LINES],
                         ids=[c[0] for c in BAD_LINES])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_bad_line_raises_naming_file_line_and_field(tmp_path, bad, field, reason, newline):
    p = _bad_file(tmp_path, bad, newline)
    with pytest.raises(InputError) as info:
        read_all(p)
    err = info.value
    assert isinstance(err, ValueError)
    assert str(p) in str(err) and "line 4" in str(err)
    assert err.path == str(p) and err.line == 4 and err.field == field
    if field is not None:
        assert f"field {field!r}" in str(err)
    assert reason in str(err)
    assert "--on-error skip" in str(err)  # the message says how to go on


@pytest.mark.parametrize(("bad", "field", "reason"), [c[1:] for c in BAD_LINES],
                         ids=[c[0] for c in BAD_LINES])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_bad_line_is_skipped_and_recorded(tmp_path, bad, field, reason, newline):
    p = _bad_file(tmp_path, bad, newline)
    texts, lines, rows, _, rejected = read_all(p, on_error="skip")
    assert texts == ["one", "two", "three"]
    assert lines == [1, 3, 5]
    assert rows == [0, 1, 3]  # the rejected row keeps its row number (2); the blank line has none
    assert len(rejected) == 1
    r = rejected[0]
    assert (r.source, r.line, r.field) == (str(p), 4, field)
    assert reason in r.reason
    assert r.to_dict() == {"source": str(p), "line": 4, "field": field, "reason": r.reason}


@pytest.mark.parametrize(
    "content",
    [
        b'{"text": "a"} {"text": "b"}\n   \n',
        b'{"text": "a"} {"text": "b"}\r\n\r\n',
        b'{"text": "a"}{"text": "b"}\n\t\n{"text": "c"}\n',
        b'{"text":\n"a"} {"text": "b"}\n',
        b'{"text": "a",\n"x": 1}\n{"text": "b"}\n',
    ],
    ids=[
        "two objects + a line of spaces", "two objects + a CRLF blank line", "two objects + a tab line",
        "object split over lines + two objects", "object split over two lines",
    ],
)
def test_row_count_coincidences_do_not_fool_the_fast_path(tmp_path, content):
    """The fast path checks rows == lines; a line with two objects must not pair up with a line with none.

    Each of these files has as many parsed objects as non-empty lines, yet no line holds exactly one object
    where it should: the careful path must see them and name the first bad line.
    """
    p = tmp_path / "tricky.jsonl"
    p.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_all(p)
    assert info.value.line == 1
    _, _, _, _, rejected = read_all(p, on_error="skip")
    assert rejected and rejected[0].line == 1


def test_lone_surrogate_escape_is_read_not_rejected(tmp_path):
    """A JSON "\\ud800" escape is valid JSON, not valid Unicode: the row is kept (the surrogate dropped)."""
    p = tmp_path / "sur.jsonl"
    p.write_bytes(b'{"text": "a\\ud800b"}\n{"text": "\\ud835\\udc00"}\n')
    texts, lines, _, _, rejected = read_all(p)
    assert lines == [1, 2] and rejected == []
    assert texts[0].startswith("a") and texts[0].endswith("b") and "\ud800" not in texts[0]
    assert texts[1] == "\U0001d400"  # a valid pair is one character
    for t in texts:
        t.encode("utf-8")  # Arrow strings are valid UTF-8


def test_text_field_option(tmp_path):
    p = tmp_path / "f.jsonl"
    p.write_bytes(b'{"content": "a", "text": 1}\n{"content": "b"}\n')
    assert read_all(p, text_field="content")[0] == ["a", "b"]
    with pytest.raises(InputError) as info:
        read_all(p, text_field="body")
    assert "field 'body'" in str(info.value) and "line 1" in str(info.value)
    assert "content" in str(info.value)  # names the fields that are there


# ------------------------------------------------------------------------------------------------ Parquet


def read_pq(f: CorpusFile, on_error="raise", for_output=False):
    rejected: list[Rejected] = []
    batches = list(read_file(f, "text", "id", on_error, rejected, for_output=for_output))
    return batches, rejected


@pytest.mark.parametrize("text_type", [pa.string(), pa.large_string()])
def test_parquet_reads_text_and_ids(tmp_path, text_type):
    t = pa.table({"id": ["a", "b", "c"], "text": pa.array(["x", "é中", ""], type=text_type), "n": [1, 2, 3]})
    batches, rejected = read_pq(parquet_file(tmp_path / "t.parquet", t))
    assert rejected == []
    assert sum((b.texts.to_pylist() for b in batches), []) == ["x", "é中", ""]
    assert [b.doc_id(i) for b in batches for i in range(len(b))] == ["a", "b", "c"]
    assert np.concatenate([b.lines for b in batches]).tolist() == [1, 2, 3]
    assert np.concatenate([b.rows for b in batches]).tolist() == [0, 1, 2]


def test_parquet_missing_text_column(tmp_path):
    f = parquet_file(tmp_path / "t.parquet", pa.table({"content": ["a"], "id": [1]}))
    with pytest.raises(InputError) as info:
        read_pq(f)
    assert str(f.path) in str(info.value) and "field 'text'" in str(info.value)
    assert "content" in str(info.value)  # lists the columns that exist


def test_parquet_non_string_text_column(tmp_path):
    f = parquet_file(tmp_path / "t.parquet", pa.table({"text": [1, 2]}))
    with pytest.raises(InputError) as info:
        read_pq(f)
    assert str(f.path) in str(info.value) and "field 'text'" in str(info.value) and "int64" in str(info.value)


def test_parquet_unreadable_file(tmp_path):
    p = tmp_path / "junk.parquet"
    p.write_bytes(b"not parquet at all")
    with pytest.raises(InputError) as info:
        read_pq(CorpusFile(p, p.name, "parquet"))
    assert "junk.parquet" in str(info.value)


def test_parquet_null_text(tmp_path):
    n = 20_000  # more than one 8192-row batch: row numbers must carry over between batches
    text = [f"row {i}" for i in range(n)]
    bad = [5, 9000, 19_999]
    for i in bad:
        text[i] = None
    f = parquet_file(tmp_path / "n.parquet", pa.table({"text": text, "id": list(range(n))}),
                     row_group_size=3000)
    with pytest.raises(InputError) as info:
        read_pq(f)
    assert info.value.line == 6 and "line 6" in str(info.value) and "field 'text'" in str(info.value)
    assert str(f.path) in str(info.value)
    batches, rejected = read_pq(f, on_error="skip")
    assert [(r.line, r.field, r.reason) for r in rejected] == [(i + 1, "text", "text is null") for i in bad]
    kept = [i for i in range(n) if i not in bad]
    assert sum((b.texts.to_pylist() for b in batches), []) == [f"row {i}" for i in kept]
    assert np.concatenate([b.rows for b in batches]).tolist() == kept  # rows count the rejected ones
    assert [b.doc_id(i) for b in batches for i in range(len(b))] == kept


# ------------------------------------------------------------------------------------------ expand_corpus


def test_expand_folder_recursive_sorted(tmp_path):
    root = tmp_path / "corpus"
    for rel in ["b/z.jsonl", "a.jsonl", "b/a.parquet", "c.jsonl.gz", "b/sub/y.JSONL", "notes.txt", "x.json",
                ".hidden/h.jsonl", ".dot.jsonl", "b/.cache/k.parquet"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")
    with pytest.raises(InputError, match=r"notes.txt: unsupported corpus format.*--on-error skip"):
        expand_corpus([root])  # another kind of file is never skipped silently
    skipped: list[SkippedFile] = []
    files = expand_corpus([root], "skip", skipped)
    assert [f.relative for f in files] == [
        "a.jsonl", "b/a.parquet", "b/sub/y.JSONL", "b/z.jsonl", "c.jsonl.gz"]
    assert [f.format for f in files] == ["jsonl", "parquet", "jsonl", "jsonl", "jsonl.gz"]
    assert all(f.path == root / f.relative for f in files)
    assert [Path(f.path).name for f in skipped] == ["notes.txt", "x.json"]  # hidden names stay ignored


def test_folder_entries_that_cannot_be_read_are_errors_or_counted_skips(tmp_path):
    """Dangling links, special files and links into a loop are named, never skipped silently; a linked folder
    is read (once, whatever links lead to it)."""
    root = tmp_path / "corpus"
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.jsonl").write_text('{"text": "a"}\n')
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.jsonl").write_text('{"text": "b"}\n')
    os.symlink(tmp_path / "elsewhere", root / "linked")  # a linked folder: read
    os.symlink(root, root / "real" / "loop")  # a link back up: not read twice
    os.symlink(tmp_path / "gone.jsonl", root / "dangling.jsonl")
    os.mkfifo(root / "pipe.jsonl")
    with pytest.raises(InputError, match=r"dangling.jsonl: a dangling symbolic link"):
        expand_corpus([root])
    skipped: list[SkippedFile] = []
    files = expand_corpus([root], "skip", skipped)
    assert [f.relative for f in files] == ["linked/b.jsonl", "real/a.jsonl"]
    assert [(Path(f.path).name, f.reason.split(",")[0]) for f in skipped] == [
        ("dangling.jsonl", "a dangling symbolic link (its target does not exist)"), ("pipe.jsonl", "a FIFO")]


def test_expand_files_keep_argument_order(tmp_path):
    a, b = tmp_path / "z.jsonl", tmp_path / "a.parquet"
    a.write_bytes(b"")
    b.write_bytes(b"")
    assert [(f.path, f.relative, f.format) for f in expand_corpus([str(a), b])] == [
        (a, "z.jsonl", "jsonl"), (b, "a.parquet", "parquet")]


@pytest.mark.parametrize(
    ("setup", "arg", "words"),
    [
        (lambda d: (d / "c.csv").write_text("text\n"), "c.csv", "unsupported corpus format"),
        (lambda d: (d / "c.json").write_text("{}"), "c.json", "unsupported corpus format"),
        (lambda d: None, "missing.jsonl", "no such file or folder"),
        (lambda d: (d / "empty").mkdir(), "empty", "holds no"),
        (lambda d: ((d / "txt").mkdir(), (d / "txt" / "a.txt").write_text("x")), "txt", "a.txt: unsupported"),
    ],
    ids=["csv suffix", "json suffix", "missing path", "empty folder", "folder without corpus files"],
)
def test_expand_errors(tmp_path, setup, arg, words):
    setup(tmp_path)
    with pytest.raises(InputError) as info:
        expand_corpus([tmp_path / arg])
    assert words in str(info.value) and str(tmp_path / arg) in str(info.value)


def test_expand_duplicate_output_names(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    for d in ("x", "y"):
        (tmp_path / d / "part.jsonl").write_bytes(b"")
    with pytest.raises(ConfigError) as info:
        expand_corpus([tmp_path / "x" / "part.jsonl", tmp_path / "y" / "part.jsonl"])
    assert "part.jsonl" in str(info.value)
    with pytest.raises(ConfigError, match="same output name 'part.jsonl'"):
        expand_corpus([tmp_path / "x", tmp_path / "y"])  # both folders hold part.jsonl
    with pytest.raises(ConfigError, match="same output name 'part.jsonl'"):
        expand_corpus([tmp_path / "x" / "part.jsonl", tmp_path / "x" / "part.jsonl"])


# ---------------------------------------------------------------------------------------------- ids

id_values = st.one_of(st.none(), st.text(max_size=8), st.integers(-2**70, 2**70), st.booleans(),
                      st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(), max_size=2),
                      st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.one_of(id_values, st.just("absent")), min_size=1, max_size=12),
       same_type=st.sampled_from([None, "str", "int"]), data=st.data())
def test_doc_ids_of_many_rows_equal_doc_id_of_each(tmp_path, ids, same_type, data):
    """Ids of several removed rows, read together by pyarrow when they are all strings or all integers, are
    exactly the ids ``json.loads`` gives row by row (any type, absent, null)."""
    if same_type == "str":
        ids = [str(i) for i in ids]
    elif same_type == "int":
        ids = [data.draw(st.integers(-2**63, 2**63 - 1)) for _ in ids]
    path = tmp_path / "ids.jsonl"
    rows = [{"text": f"doc {k}"} | ({} if i == "absent" else {"id": i}) for k, i in enumerate(ids)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (batch,) = list(read_file(jsonl_file(path), "text", "id", "raise", []))
    assert isinstance(batch.raw, tuple)  # the fast path: ids are read lazily
    pick = sorted(set(data.draw(st.lists(st.integers(0, len(ids) - 1), min_size=1))))
    assert batch.doc_ids(pick) == [batch.doc_id(i) for i in pick]
    expected = [None if i in ("absent", None) else i if isinstance(i, (str, int, float, bool)) else str(i)
                for i in (ids[k] for k in pick)]
    assert batch.doc_ids(pick) == expected


@given(st.lists(st.booleans(), max_size=70))
def test_arrow_mask_equals_the_numpy_mask(values):
    mask = arrow_mask(np.array(values, dtype=bool))
    assert mask.type == pa.bool_() and mask.null_count == 0
    assert mask.to_pylist() == values


def test_block_buffers_are_reused_only_when_nothing_views_them(tmp_path, monkeypatch):
    """A block's buffer is read into again only once no view of the block is alive: blocks whose views are
    kept stay intact (each still equals what the file held), blocks whose views are dropped lend their buffer
    to later ones."""
    lines = [json.dumps({"text": f"row {i} " + "x" * (i % 13)}).encode() + b"\n" for i in range(400)]
    p = tmp_path / "c.jsonl"
    p.write_bytes(b"".join(lines))
    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 256)
    kept = [(view, bytes(view)) for view, _ in jsonl._iter_blocks(p, 1 << 30)]  # every view held to the end
    assert len(kept) > 10
    assert all(bytes(view) == copy for view, copy in kept)
    assert b"".join(copy for _, copy in kept) == p.read_bytes()
    assert len({id(view.obj) for view, _ in kept}) == len(kept)  # no buffer shared while viewed
    owners, copies = [], []
    for view, _ in jsonl._iter_blocks(p, 1 << 30):  # each view dropped before the next block is read
        owners.append(id(view.obj))
        copies.append(bytes(view))
        del view
    assert b"".join(copies) == p.read_bytes()
    assert len(set(owners)) < len(owners) / 4  # buffers went round


def test_unviewed_sees_memoryviews_and_pyarrow_buffers():
    buf = bytearray(b"abc")
    assert jsonl._unviewed(buf) and buf == bytearray(b"abc")
    view = memoryview(buf)[1:]
    assert not jsonl._unviewed(buf)
    del view
    arrow = pa.py_buffer(memoryview(buf))
    assert not jsonl._unviewed(buf)
    del arrow
    assert jsonl._unviewed(buf) and buf == bytearray(b"abc")


def test_a_large_parquet_row_group_is_read_in_batches_of_about_8_mb(tmp_path):
    """One row group of 24 MB of text: read in batches of about 8 MB each (the C library maps larger buffers
    afresh every time), every row once, in order, numbered as in the file."""
    import pyarrow.parquet as pq

    rows = [f"{i:04d}" + "x" * 200_000 for i in range(120)]
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(120)], "text": rows}), path, row_group_size=1000,
                   compression="none", use_dictionary=False)
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    batches = list(read_file(CorpusFile(path, "big.parquet", "parquet"), "text", "id", "raise", []))
    assert len(batches) >= 3
    assert max(b.texts.nbytes for b in batches) <= 10 << 20
    assert [t for b in batches for t in b.texts.to_pylist()] == rows
    assert [int(x) for b in batches for x in b.lines] == list(range(1, 121))
