"""Damaged corpus files through the real command line: a gzip stream with corrupt deflate data, Parquet files whose
footer is intact but whose data is not (a damaged page header, dictionary indices out of bounds).

Each is one error line naming the file (and, for Parquet, the row group), exit 1, never a traceback nor an
"internal error", with one process and with two; a folder of shards names the shard that is damaged. The parts of
a Parquet file that several processes read (its row groups) fail alike.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from decontam.errors import InputError
from decontam.inputs import CorpusFile, FilePart, Rejected, read_file

Q = "What is the capital city of France, and why is it the capital city?"


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TQDM_DISABLE="1", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "decontam", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _damaged_gz(path: Path) -> None:
    data = b"".join(json.dumps({"text": f"hello number {i} some words here"}).encode() + b"\n" for i in range(20000))
    packed = bytearray(gzip.compress(data, 6, mtime=0))
    for k in range(200, 240):  # (there, the damage is one zlib finds: "invalid distance too far back")
        packed[k] ^= 0x5A
    path.write_bytes(bytes(packed))


def _damaged_page_header(path: Path) -> None:
    """Two row groups; the text column's page header in the second one overwritten."""
    pq.write_table(pa.table({"id": list(range(1000)), "text": [f"some text number {i} here" for i in range(1000)]}),
                   path, compression="none", row_group_size=500)
    at = pq.ParquetFile(path).metadata.row_group(1).column(1).data_page_offset
    with open(path, "r+b") as fh:
        fh.seek(at + 2)
        fh.write(b"\xff" * 8)


def _damaged_dictionary_indices(path: Path) -> None:
    pq.write_table(pa.table({"text": [f"t{i % 50}" for i in range(1000)], "id": list(range(1000))}), path,
                   compression="none")
    col = pq.ParquetFile(path).metadata.row_group(0).column(0)
    end = col.dictionary_page_offset + col.total_compressed_size
    data = bytearray(path.read_bytes())
    data[end - 60 : end - 10] = b"\xff" * 50
    path.write_bytes(bytes(data))


DAMAGED = [
    ("corrupt deflate data", "c.jsonl.gz", _damaged_gz, "cannot read file (Error -3 while decompressing data"),
    ("damaged page header", "c.parquet", _damaged_page_header, "cannot read row group 1 (rows 501 to 1000)"),
    ("dictionary indices out of bounds", "c.parquet", _damaged_dictionary_indices,
     "cannot read row group 0 (rows 1 to 1000)"),
]


def _assert_one_error_naming(done: subprocess.CompletedProcess[str], path: str, words: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"decontam: error: {path}: {words}"), line
    assert line.endswith("is it a complete, valid file?"), line


@pytest.mark.parametrize("num_proc", ["1", "2"])
@pytest.mark.parametrize(("name", "make", "words"), [c[1:] for c in DAMAGED], ids=[c[0] for c in DAMAGED])
def test_a_damaged_file_is_one_error_naming_it(tmp_path, name, make, words, num_proc):
    (tmp_path / "b.jsonl").write_text(json.dumps({"q": Q}) + "\n")
    make(tmp_path / name)
    bench = ["-b", "t=b.jsonl", "--question-field", "q", "--no-progress", "--num-proc", num_proc]
    _assert_one_error_naming(_cli("check", name, *bench, cwd=tmp_path), name, words)
    # (an id field is first looked for in the file's first row: that read fails alike, or leaves it to the reader)
    _assert_one_error_naming(_cli("check", name, *bench, "--id-field", "id", cwd=tmp_path), name, words)
    for on_error in ("raise", "skip"):  # a damaged file is no bad row to skip
        done = _cli("filter", name, "-o", f"out-{on_error}", *bench, "--on-error", on_error, cwd=tmp_path)
        _assert_one_error_naming(done, name, words)
        assert not (tmp_path / f"out-{on_error}").exists()


@pytest.mark.parametrize("num_proc", ["1", "2"])
def test_a_damaged_shard_in_a_folder_is_named(tmp_path, num_proc):
    (tmp_path / "b.jsonl").write_text(json.dumps({"q": Q}) + "\n")
    shards = tmp_path / "shards"
    shards.mkdir()
    for i in range(4):
        pq.write_table(pa.table({"text": [f"shard {i} row {j}" for j in range(600)]}), shards / f"part-{i:04d}.parquet")
    _damaged_page_header(shards / "part-0002.parquet")
    done = _cli("check", "shards", "-b", "t=b.jsonl", "--question-field", "q", "--no-progress", "--num-proc",
                num_proc, cwd=tmp_path)
    _assert_one_error_naming(done, str(Path("shards") / "part-0002.parquet"), "cannot read row group 1")


@pytest.mark.parametrize("for_output", [False, True])
def test_the_row_groups_of_a_parquet_part_fail_alike(tmp_path, for_output):
    """What a worker of the parts engine reads (some row groups of the file) names the file and row group."""
    path = tmp_path / "c.parquet"
    _damaged_page_header(path)
    f = CorpusFile(path, path.name, "parquet")
    rejected: list[Rejected] = []
    assert len(list(read_file(f, "text", "id", "skip", rejected, for_output, part=FilePart(0, row_groups=(0,))))) > 0
    with pytest.raises(InputError) as info:
        list(read_file(f, "text", "id", "skip", rejected, for_output, part=FilePart(1, row_groups=(1,))))
    assert str(info.value).startswith(f"{path}: cannot read row group 1 (rows 501 to 1000) (")
    assert info.value.path == str(path) and rejected == []
