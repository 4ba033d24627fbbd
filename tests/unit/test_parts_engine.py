"""Every core on one file: a file scanned in parts by several processes gives the one-process report and output.

The oracle is the one-process run (itself held to the brute-force oracle in ``test_filter.py``): with files cut
into many small parts (the part size is lowered for the test), reports and outputs must be byte for byte the
same, for JSONL and Parquet, with blank lines, bad rows (skipped, or the error naming the same line), rows
without ids, and several files of which some are split and some are not.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _files import DEMO_BENCH, DEMO_QUESTIONS
from _runs import spools_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import check, filter_files
from decontam.errors import InputError
from decontam.inputs import CorpusFile, files, read_file

Q, BENCH = DEMO_QUESTIONS, DEMO_BENCH


@pytest.fixture(autouse=True)
def _no_spool_left_behind():
    yield
    assert spools_of(os.getpid(), "parts") == []  # this process's parts spools, wherever they went


@pytest.fixture
def small_parts(monkeypatch):
    """Split any file of a few hundred bytes into parts of about 300 bytes."""
    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 300)


LINE = st.one_of(
    st.builds(lambda i, q, pad: json.dumps({"id": f"d{i}", "text": pad + q + pad}), st.integers(0, 10 ** 6),
              st.sampled_from(Q), st.text("ab \n", max_size=20)),
    st.builds(lambda t: json.dumps({"text": t}), st.text(max_size=60)),  # no id: named by row number
    st.builds(lambda t: json.dumps({"id": 1, "text": "noise " + t}, ensure_ascii=False), st.text(max_size=60)),
    st.just(""),  # a blank line: no row, but a line
    st.just("{not json"),  # a bad row
    st.just('{"id": 5, "text": null}'),
)


def run(paths, out: Path, num_proc: int, on_error: str = "skip"):
    report = filter_files(paths, [BENCH], out, num_proc=num_proc, on_error=on_error, progress=False)
    return report.to_json()


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(LINE, min_size=1, max_size=40), st.sampled_from([2, 3]), st.sampled_from(["\n", "\r\n"]),
       st.booleans())
def test_jsonl_in_parts_gives_the_one_process_report_and_output(small_parts, lines, num_proc, newline, last_nl):
    """Kept rows are copied from the input by byte range: CRLF lines and a last line without its newline
    come out as a one-process run writes them."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "c.jsonl"
        if not any(line.startswith('{"id": "d') or line.startswith('{"text"') for line in lines):
            lines.append(json.dumps({"text": "one good row"}))
        src.write_bytes((newline.join(lines) + (newline if last_nl else "")).encode())
        one = run([src], Path(tmp) / "one.jsonl", 1)
        parts = files.split_file(CorpusFile(src, "c.jsonl", "jsonl"), num_proc, "text")
        assert parts is None or len(parts) >= 2
        many = run([src], Path(tmp) / "many.jsonl", num_proc)
        assert many == one
        assert (Path(tmp) / "many.jsonl").read_bytes() == (Path(tmp) / "one.jsonl").read_bytes()


def test_an_error_in_a_later_part_names_the_line_a_one_process_run_names(small_parts, tmp_path):
    rows = [json.dumps({"id": i, "text": f"row {i} " + Q[i % 3]}) for i in range(60)]
    rows.insert(45, "")
    rows[50] = '{"id": 50, "text": 7}'
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(rows) + "\n")
    assert len(files.split_file(CorpusFile(src, "c.jsonl", "jsonl"), 2, "text")) > 4
    errors = []
    for n in (1, 2):
        with pytest.raises(InputError) as err:
            check([src], [BENCH], num_proc=n, progress=False)
        errors.append((str(err.value), err.value.line, err.value.field))
    assert errors[0] == errors[1] and errors[0][1] == 51 and errors[0][2] == "text"
    assert list(tmp_path.iterdir()) == [src]  # no spool left behind


def test_parquet_row_groups_in_parts_give_the_one_process_report_and_output(small_parts, tmp_path):
    n = 3000
    texts = [(Q[i % 3] if i % 97 == 0 else f"row {i} plain text") if i % 41 else None for i in range(n)]
    table = pa.table({"text": texts, "id": [f"r{i}" if i % 5 else None for i in range(n)], "n": list(range(n))})
    src = tmp_path / "c.parquet"
    pq.write_table(table, src, row_group_size=250)
    assert len(files.split_file(CorpusFile(src, "c.parquet", "parquet"), 2, "text")) >= 4
    one = run([src], tmp_path / "one.parquet", 1)
    many = run([src], tmp_path / "many.parquet", 2)
    assert many == one
    assert (tmp_path / "many.parquet").read_bytes() == (tmp_path / "one.parquet").read_bytes()
    assert json.loads(one)["training"]["n_removed"] == len(range(0, n, 97)) - len(range(0, n, 97 * 41))


def test_several_files_some_split_some_whole(small_parts, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    big = [json.dumps({"text": f"{i} " + (Q[i % 3] if i % 9 == 0 else "nothing")}) for i in range(200)]
    (folder / "a.jsonl").write_text("\n".join(big) + "\n")
    (folder / "b.jsonl").write_text(json.dumps({"text": Q[1]}) + "\n" + json.dumps({"text": "x"}) + "\n")
    pq.write_table(pa.table({"text": [Q[2], "y"] * 300}), folder / "c.parquet", row_group_size=100)
    (folder / "d.jsonl.gz").write_bytes(__import__("gzip").compress(b'{"text": "zzz"}\n' * 50))
    one = run([folder], tmp_path / "one", 1)
    many = run([folder], tmp_path / "many", 2)
    assert many == one
    for name in ("a.jsonl", "b.jsonl", "c.parquet", "d.jsonl.gz"):
        assert (tmp_path / "many" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "many", "one"]  # no spool left behind


@pytest.mark.parametrize("num_proc", [2, 3])
def test_small_split_files_whose_parts_are_in_the_workers_at_once(small_parts, tmp_path, num_proc):
    """The parts of two files in flight together spool apart (they once shared the part-numbered spool files:
    a FileNotFoundError, or the corpus digest of the other file's text, in about a third of such runs)."""
    for size in range(2, 10):  # files of a few parts: both files' parts are in the 2 * num_proc jobs in flight
        rows = [json.dumps({"id": f"d{i}", "text": "noise " * (7 * i % 20) + (Q[i % 3] if i % 2 else "x")})
                for i in range(size)]
        inputs = [tmp_path / "c.jsonl", tmp_path / "d.jsonl"]
        inputs[0].write_text("\n".join(rows) + "\n")
        inputs[1].write_text("\n".join(reversed(rows)) + "\n")
        one = run(inputs, tmp_path / "one", 1)
        assert run(inputs, tmp_path / "many", num_proc) == one, size
        for name in ("c.jsonl", "d.jsonl"):
            assert (tmp_path / "many" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
        shutil.rmtree(tmp_path / "many")
        shutil.rmtree(tmp_path / "one")


def test_batches_say_how_much_of_the_file_they_read(tmp_path):
    """Progress moves within a file: the bytes batches report add up to the file's size (JSONL exactly)."""
    src = tmp_path / "c.jsonl"
    src.write_bytes(b"".join(json.dumps({"text": "x" * 5000}).encode() + b"\n" for _ in range(8000)))  # 40 MB
    reads = [b.read_bytes for b in read_file(CorpusFile(src, "c.jsonl", "jsonl"), "text", None, "raise", [])]
    assert len(reads) >= 3 and all(r > 0 for r in reads) and sum(reads) == src.stat().st_size
