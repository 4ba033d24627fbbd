"""Tests of decontam.benchmark_files with real files: which entries of a folder are read, ignored or refused,
and the file-level errors of a file with no rows or without the question field in any row (issue 11).

Real benchmark files are used from ``shared/benchmarks`` in place (linked into temporary folders, never copied
into the repository).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from decontam import load_benchmark
from decontam.benchmark_files import is_documentation, list_folder
from decontam.errors import InputError

MMLU_TEST_ITEMS, MMLU_DEV_ITEMS = 14042, 285


def _mmlu_subset(shared: Path, folder: Path, n: int = 3) -> list[str]:
    """Link the first ``n`` real MMLU test CSVs into ``folder``; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in (shared / "mmlu" / "test").iterdir())[:n]
    for name in names:
        (folder / name).symlink_to(shared / "mmlu" / "test" / name)
    return names


def _n_rows(shared: Path, names: list[str]) -> int:
    return sum(load_benchmark("mmlu", shared / "mmlu" / "test" / name).n_items for name in names)


# ------------------------------------------------------------------------------------- real folders read whole


def test_a_folder_of_several_splits_is_refused_naming_them(shared_benchmarks, tmp_path):
    """The MMLU root (``dev/`` and ``test/``) was read as one benchmark of 14,327 items, and the GSM8K folder
    (``train.jsonl``, ``test.jsonl``, ``test_socratic.jsonl``) as one of 9,584: a contamination rate of no
    split. Such a folder is refused, naming its splits and the one to pass; one split's folder (or a folder of
    one split's shards) reads as before."""
    for folder, splits, pick in (("mmlu", "dev, test", "mmlu/test"), ("gsm8k", "test, train", "gsm8k/test.jsonl")):
        root = shared_benchmarks / folder
        with pytest.raises(InputError, match=re.escape(f"several splits ({splits})")) as err:
            load_benchmark(folder, root)
        assert str(shared_benchmarks / pick) in str(err.value)
    assert load_benchmark("mmlu", shared_benchmarks / "mmlu" / "test").n_items == MMLU_TEST_ITEMS
    math = tmp_path / "MATH"
    for split in ("train", "test"):
        (math / split / "algebra").mkdir(parents=True)
        (math / split / "algebra" / "1.json").write_text(json.dumps({"problem": f"A {split} problem about x + 1 = 2."}))
    with pytest.raises(InputError, match=r"several splits \(test, train\)"):
        load_benchmark("math", math)
    assert load_benchmark("math", math / "test").n_items == 1
    shards = tmp_path / "hub"
    shards.mkdir()
    for name in ("test-00000-of-00002.jsonl", "test-00001-of-00002.jsonl"):
        (shards / name).write_text(json.dumps({"question": f"What is in {name}, the shard of one split?"}) + "\n")
    assert load_benchmark("mine", shards, question_field="question").n_items == 2
    (shards / "train-00000-of-00001.jsonl").write_text(json.dumps({"question": "A training question?"}) + "\n")
    with pytest.raises(InputError, match="several splits"):
        load_benchmark("mine", shards, question_field="question")


@pytest.mark.parametrize(("name", "folder", "files"), [
    ("arc", "arc", ["ARC-Challenge-Test.jsonl", "ARC-Easy-Test.jsonl"]),
    ("truthfulqa", "truthfulqa", ["TruthfulQA.csv", "TruthfulQA_v1_2021.csv"]),
    ("humaneval", "humaneval", ["HumanEval.jsonl.gz"]),
    ("mbpp", "mbpp", ["mbpp.jsonl"]),
])
def test_every_real_benchmark_folder_loads_as_the_sum_of_its_files(shared_benchmarks, name, folder, files):
    """Each real folder holds SOURCES.md (and most a LICENSE) beside the data: documentation, ignored."""
    root = shared_benchmarks / folder
    assert sorted(p.name for p in root.iterdir() if not is_documentation(p.name)) == files
    assert [p.name for p in list_folder(root)] == files
    expected = sum(load_benchmark(name, root / f).n_items for f in files)
    assert load_benchmark(name, root).n_items == expected


@pytest.mark.parametrize(("filename", "doc"), [
    ("README", True), ("README.txt", True), ("readme.rst", True), ("LICENSE", True), ("LICENSE-MIT", True),
    ("Licence.txt", True), ("COPYING", True), ("NOTICE", True), ("SOURCES.md", True), ("CITATION.cff", True),
    ("notes.md", True), ("CHANGES.MD", True),
    ("readme.jsonl", False), ("sources.csv", False), ("LICENSE.json.gz", False),  # data suffix: data
    ("questions.txt", False), ("loader.py", False), ("dataset_infos.yaml", False), ("data", False),
])
def test_documentation_names(filename, doc):
    assert is_documentation(filename) is doc


def test_hidden_and_documentation_files_are_ignored_data_with_doc_names_is_read(shared_benchmarks, tmp_path):
    names = _mmlu_subset(shared_benchmarks, tmp_path / "b")
    (tmp_path / "b" / ".DS_Store").write_bytes(b"\0\1junk")
    (tmp_path / "b" / ".git").mkdir()
    (tmp_path / "b" / ".git" / "config").write_text("[core]\n")
    (tmp_path / "b" / "README").write_text("about\n")
    (tmp_path / "b" / "NOTES.md").write_text("# notes\n")
    (tmp_path / "b" / "LICENSE.txt").symlink_to(tmp_path / "gone")  # a doc name, even broken: ignored
    (tmp_path / "b" / "readme.csv").write_text("question,A,B,C,D,answer\nWhat is in a readme?,a,b,c,d,A\n")
    bench = load_benchmark("mmlu", tmp_path / "b")
    assert bench.n_items == _n_rows(shared_benchmarks, names) + 1
    assert "readme/0" in {item.id for item in bench.items}


# ----------------------------------------------------------------- entries that cannot be read: always errors


def _refused(folder: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_benchmark("mmlu", folder)
    message = str(info.value)
    assert "a benchmark with a file left out is a different benchmark" in message
    assert "rename it to start with '.'" in message
    return info.value


def test_dangling_symlink_in_a_benchmark_folder_is_an_error_naming_it(shared_benchmarks, tmp_path):
    _mmlu_subset(shared_benchmarks, tmp_path / "b")
    link = tmp_path / "b" / "virology_test.csv"
    link.symlink_to(tmp_path / "moved" / "virology_test.csv")
    err = _refused(tmp_path / "b")
    assert err.path == str(link)
    assert f"broken symbolic link (to {str(tmp_path / 'moved' / 'virology_test.csv')!r}" in str(err)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_in_a_benchmark_folder_is_an_error_and_is_never_opened(shared_benchmarks, tmp_path):
    _mmlu_subset(shared_benchmarks, tmp_path / "b")
    fifo = tmp_path / "b" / "zoology_test.csv"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    err = _refused(tmp_path / "b")
    assert err.path == str(fifo) and "not a regular file (a FIFO)" in str(err)
    with pytest.raises(InputError, match=r"not a regular file \(a FIFO\)"):
        load_benchmark("mmlu", fifo)  # given directly, too


@pytest.mark.parametrize("filename", ["extra_questions.txt", "loader.py", "dataset_infos.yaml", "data"])
def test_file_of_unknown_type_in_a_benchmark_folder_is_an_error(shared_benchmarks, tmp_path, filename):
    _mmlu_subset(shared_benchmarks, tmp_path / "b")
    (tmp_path / "b" / filename).write_text("What is 2 + 2?\n")
    err = _refused(tmp_path / "b")
    assert err.path == str(tmp_path / "b" / filename)
    assert "not a benchmark file: unsupported file type" in str(err)
    assert (f"'{Path(filename).suffix}'" if Path(filename).suffix else "'(no suffix)'") in str(err)


def test_symlink_loop_is_an_error_not_an_endless_walk(shared_benchmarks, tmp_path):
    _mmlu_subset(shared_benchmarks, tmp_path / "b")
    (tmp_path / "b" / "sub").mkdir()
    (tmp_path / "b" / "sub" / "back").symlink_to(tmp_path / "b")
    err = _refused(tmp_path / "b")
    assert err.path == str(tmp_path / "b" / "sub" / "back") and "symbolic link loop" in str(err)


def test_symlinked_subfolder_is_followed(shared_benchmarks, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "test").symlink_to(shared_benchmarks / "mmlu" / "test")
    bench = load_benchmark("mmlu", tmp_path / "b")
    assert bench.n_items == MMLU_TEST_ITEMS and bench.items[0].id == "test/abstract_algebra_test/0"


def test_several_bad_entries_are_listed_together_on_the_folder(shared_benchmarks, tmp_path):
    _mmlu_subset(shared_benchmarks, tmp_path / "b")
    (tmp_path / "b" / "a_link.csv").symlink_to(tmp_path / "nowhere.csv")
    (tmp_path / "b" / "sub").mkdir()
    (tmp_path / "b" / "sub" / "notes.txt").write_text("x\n")
    err = _refused(tmp_path / "b")
    message = str(err)
    assert err.path == str(tmp_path / "b")
    assert "2 entries of this folder cannot be read as benchmark files" in message
    assert "a_link.csv: broken symbolic link" in message and "sub/notes.txt: not a benchmark file" in message


_NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def _load_without_privileges(folder: Path) -> subprocess.CompletedProcess[str]:
    """``load_benchmark('mmlu', folder)`` in a subprocess that file permissions apply to (root without its
    permission-override capabilities), or in a plain subprocess for another user."""
    code = ("import sys\nfrom decontam import load_benchmark\nfrom decontam.errors import InputError\n"
            "try:\n    print(load_benchmark('mmlu', sys.argv[1]).n_items)\n"
            "except InputError as e:\n    print(e.path); print(e); sys.exit(3)\n")
    prefix = _NO_DAC if os.geteuid() == 0 else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run([*prefix, sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                          env=env, cwd=folder.parent, timeout=60, check=False)


@pytest.mark.skipif(not hasattr(os, "geteuid") or (os.geteuid() == 0 and shutil.which("setpriv") is None),
                    reason="as root, needs setpriv to drop the capabilities that override file permissions")
@pytest.mark.parametrize("what", ["file", "subfolder"])
def test_permission_denied_is_an_error_naming_the_entry(shared_benchmarks, tmp_path, what):
    names = _mmlu_subset(shared_benchmarks, tmp_path / "b")
    assert _load_without_privileges(tmp_path / "b").stdout.split() == [str(_n_rows(shared_benchmarks, names))]
    if what == "file":
        entry = tmp_path / "b" / "secret_test.csv"
        entry.write_text("question,A,B,C,D,answer\nq?,a,b,c,d,A\n")
    else:
        entry = tmp_path / "b" / "locked"
        entry.mkdir()
        (entry / "locked_test.csv").write_text("question,A,B,C,D,answer\nq?,a,b,c,d,A\n")
    entry.chmod(0)
    try:
        res = _load_without_privileges(tmp_path / "b")
    finally:
        entry.chmod(0o755)
    assert res.returncode == 3, res.stderr
    path, message = res.stdout.split("\n", 1)
    assert path == str(entry)
    assert "Permission denied" in message and "a benchmark with a file left out is a different benchmark" in message


# ------------------------------------------------------------------- no rows, or the field in none of the rows


def _parquet(path: Path, rows: list[dict] | None, columns: dict | None = None) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.Table.from_pylist(rows) if rows else pa.table(columns or {"a": pa.array([], pa.string())})
    pq.write_table(table, path)
    return path


# (description, file name, content, words in the message)
NO_ROWS = [
    ("empty JSONL", "e.jsonl", "", "the file has no rows"),
    ("JSONL of blank lines", "b.jsonl", "\n  \n", "the file has no rows"),
    ("gzipped empty JSONL", "e.jsonl.gz", gzip.compress(b""), "the file has no rows"),
    ("empty JSON list", "e.json", "[]", "the file has no rows"),
    ("JSON object with an empty list", "d.json", '{"data": []}', "the file has no rows"),
    ("empty JSON file", "z.json", "", "the file has no rows"),
    ("empty CSV", "e.csv", "", "the file has no rows"),
    ("CSV header only", "h.csv", "q,answer\n", "the file has a header (columns: q, answer) but no rows"),
]


@pytest.mark.parametrize(("name", "content", "words"), [c[1:] for c in NO_ROWS], ids=[c[0] for c in NO_ROWS])
def test_a_file_with_no_rows_is_an_error_naming_the_field(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as info:
        load_benchmark("mine", path, question_field="q")
    message = str(info.value)
    assert info.value.path == str(path) and info.value.line is None
    assert message.startswith(f"{path}: no items: ") and words in message and "expected rows with a 'q' field" in message


def test_a_parquet_file_with_no_rows_is_an_error(tmp_path):
    pa = pytest.importorskip("pyarrow")
    path = _parquet(tmp_path / "e.parquet", None, {"q": pa.array([], pa.string()), "answer": pa.array([], pa.string())})
    with pytest.raises(InputError, match=r"header \(columns: q, answer\) but no rows"):
        load_benchmark("mine", path, question_field="q")


# (description, file name, content, the file-level words)
FIELD_IN_NO_ROW = [
    ("JSONL", "a.jsonl", '{"question": "x", "answer": 1}\n{"question": "y", "label": 2}\n',
     "the question field 'q' is in none of the 2 row(s) (fields present: question, answer, label)"),
    ("gzipped JSONL", "a.jsonl.gz", gzip.compress(b'{"prompt": "x"}\n{"prompt": "y"}\n{"prompt": "z"}\n'),
     "the question field 'q' is in none of the 3 row(s) (fields present: prompt)"),
    ("JSON list", "a.json", '[{"text": "x"}, {"text": "y"}]',
     "the question field 'q' is in none of the 2 row(s) (fields present: text)"),
    ("JSON object with one list", "b.json", '{"data": [{"text": "x"}]}',
     "the question field 'q' is in none of the 1 row(s) (fields present: text)"),
    ("CSV (a missing column)", "a.csv", "text,answer\nx,1\n", "no question column 'q' (columns: text, answer)"),
]


@pytest.mark.parametrize(("name", "content", "words"), [c[1:] for c in FIELD_IN_NO_ROW],
                         ids=[c[0] for c in FIELD_IN_NO_ROW])
def test_a_field_in_no_row_is_one_error_for_the_file(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as info:
        load_benchmark("mine", path, question_field="q")
    message = str(info.value)
    assert info.value.path == str(path) and info.value.field == "q"
    assert words in message and "--question-field mine=FIELD" in message


def test_a_parquet_file_without_the_question_column(tmp_path):
    path = _parquet(tmp_path / "a.parquet", [{"text": "x", "n": 1}, {"text": "y", "n": 2}])
    with pytest.raises(InputError, match=r"no question column 'q' \(columns: text, n\)"):
        load_benchmark("mine", path, question_field="q")


def test_a_field_in_some_rows_is_still_the_error_of_the_first_row_without_it(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "x"}\n{"q": "y"}\n{"text": "z"}\n')
    with pytest.raises(InputError) as info:
        load_benchmark("mine", path, question_field="q")
    assert (info.value.line, info.value.field) == (1, "q") and "the question field is missing" in str(info.value)


def test_an_id_field_in_no_row_names_the_item_id_flag(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps({"q": f"question {i}", "key": i}) + "\n" for i in range(4)))
    with pytest.raises(InputError) as info:
        load_benchmark("mine", path, question_field="q", id_field="id")
    message = str(info.value)
    assert info.value.field == "id" and info.value.line is None
    assert "the item id field 'id' is in none of the 4 row(s) (fields present: q, key)" in message
    assert "--item-id-field mine=FIELD (Python: id_field='FIELD')" in message and "--id-field" not in message


def test_real_file_read_with_the_wrong_registry_name_says_so_for_the_file(shared_benchmarks):
    """GSM8K's test file loaded as HumanEval: 'prompt' is in none of its 1,319 rows."""
    path = shared_benchmarks / "gsm8k" / "test.jsonl"
    with pytest.raises(InputError) as info:
        load_benchmark("humaneval", path)
    message = str(info.value)
    assert "the question field 'prompt' is in none of the 1319 row(s) (fields present: question, answer)" in message
    assert "--question-field humaneval=FIELD" in message
