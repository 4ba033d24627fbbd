"""Tests of decontam.benchmarks: the registry, the file loaders, errors and the hub path (never the network)."""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decontam import benchmarks, registry
from decontam.benchmarks import REGISTRY, Benchmark, BenchmarkSpec, Item, load_benchmark
from decontam.errors import BenchmarkNotFoundError, ConfigError, InputError

# ------------------------------------------------------------------------------------------- real files

# (description, registry name, path under shared/benchmarks, items, first id, last id, first question starts)
REAL_FILES = [
    ("HumanEval, gzipped JSONL", "humaneval", "humaneval/HumanEval.jsonl.gz", 164, "HumanEval/0",
     "HumanEval/163", "from typing import List\n\n\ndef has_close_elements("),
    ("MBPP, int task ids", "mbpp", "mbpp/mbpp.jsonl", 974, 1, 974,
     "Write a function to find the minimum cost path"),
    ("GSM8K, row-number ids", "gsm8k", "gsm8k/test.jsonl", 1319, 0, 1318, "Janet\u2019s ducks lay 16 eggs"),
    ("ARC, nested question.stem", "arc", "arc/ARC-Challenge-Test.jsonl", 1172, "Mercury_7175875",
     None, "An astronomer observes that a planet rotates faster"),
    ("MMLU, folder of 57 CSVs", "mmlu", "mmlu/test", 14042, "abstract_algebra_test/0",
     "world_religions_test/170", "Find the degree for the given field extension"),
    ("TruthfulQA 2025, CSV with multi-line fields", "truthfulqa", "truthfulqa/TruthfulQA.csv", 790, 0, 789,
     "What happens to you if you eat watermelon seeds?"),
    ("TruthfulQA v1, CSV with a BOM", "truthfulqa", "truthfulqa/TruthfulQA_v1_2021.csv", 817, 0, 816,
     "What happens to you if you eat watermelon seeds?"),
]


@pytest.mark.parametrize(
    ("name", "rel", "n", "first_id", "last_id", "first_q"),
    [case[1:] for case in REAL_FILES],
    ids=[case[0] for case in REAL_FILES],
)
def test_real_benchmark_files(shared_benchmarks, name, rel, n, first_id, last_id, first_q):
    path = shared_benchmarks / rel
    bench = load_benchmark(name, path)
    assert bench.n_items == n == len(bench.items)
    assert bench.name == name
    assert bench.source == str(path)
    assert bench.items[0].id == first_id
    assert type(bench.items[0].id) is type(first_id)  # JSON ints stay ints
    if last_id is not None:
        assert bench.items[-1].id == last_id
    assert bench.items[0].question.startswith(first_q)
    assert all(isinstance(item.question, str) for item in bench.items)
    assert len({item.id for item in bench.items}) == n


def test_real_mmlu_folder_ids_are_unique_per_subject_file(shared_benchmarks):
    bench = load_benchmark("mmlu", shared_benchmarks / "mmlu" / "test")
    subjects = {str(item.id).rsplit("/", 1)[0] for item in bench.items}
    assert len(subjects) == 57
    assert "astronomy_test/0" in {item.id for item in bench.items}
    # sorted by relative path: abstract_algebra first, world_religions last
    assert str(bench.items[0].id).startswith("abstract_algebra_test/")
    assert str(bench.items[-1].id).startswith("world_religions_test/")


def test_real_questions_are_kept_raw(shared_benchmarks):
    bench = load_benchmark("humaneval", shared_benchmarks / "humaneval" / "HumanEval.jsonl.gz")
    with gzip.open(shared_benchmarks / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    assert [(i.id, i.question) for i in bench.items] == [(r["task_id"], r["prompt"]) for r in rows]


# ----------------------------------------------------------------------------------------------- registry


def test_registry_entries():
    expected = {
        "humaneval": ("prompt", "task_id", "openai_humaneval", None, "test"),
        "mbpp": ("text", "task_id", "mbpp", "full", "test"),
        "gsm8k": ("question", None, "gsm8k", "main", "test"),
        "mmlu": ("question", None, "cais/mmlu", "all", "test"),
        "arc": ("question.stem", "id", "allenai/ai2_arc", "ARC-Challenge", "test"),
        "truthfulqa": ("Question", None, "truthful_qa", "generation", "validation"),
        "hellaswag": ("ctx", "ind", "Rowan/hellaswag", None, "validation"),
    }
    for name, fields in expected.items():
        spec = REGISTRY[name]
        assert isinstance(spec, BenchmarkSpec)
        assert spec.name == name
        assert (spec.question_field, spec.id_field, spec.hub_path, spec.hub_config, spec.hub_split) == fields


def test_registry_name_is_case_insensitive(tmp_path):
    path = _write(tmp_path / "g.jsonl", '{"question": "q1"}\n')
    assert load_benchmark("GSM8K", path).name == "gsm8k"


def test_explicit_fields_override_the_registry(tmp_path):
    path = _write(tmp_path / "g.jsonl", '{"question": "q", "answer": "a", "k": "x"}\n')
    bench = load_benchmark("gsm8k", path, question_field="answer", id_field="k")
    assert bench.items == (Item("x", "a"),)
    assert (bench.question_field, bench.id_field) == ("answer", "k")


def test_registry_field_missing_in_local_file_names_the_flag(tmp_path):
    path = _write(tmp_path / "h.jsonl", '{"task_id": "t/0", "question": "q"}\n')
    with pytest.raises(InputError) as info:
        load_benchmark("humaneval", path)
    assert (info.value.line, info.value.field) == (None, "prompt")  # in no row: the file's error, not line 1's
    message = str(info.value)
    assert "'prompt' is in none of the 1 row(s)" in message and "fields present: task_id, question" in message
    # the flag as the command line takes it for a registry benchmark (a bare FIELD applies to custom ones only)
    assert "--question-field humaneval=FIELD" in message and "question_field='FIELD'" in message


# ------------------------------------------------------------------------------------------------ formats


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def test_custom_benchmark_needs_question_field(tmp_path):
    path = _write(tmp_path / "mine.jsonl", '{"q": "hello"}\n')
    with pytest.raises(ConfigError, match="--question-field"):
        load_benchmark("mine", path)
    bench = load_benchmark("mine", path, question_field="q")
    assert bench.items == (Item(0, "hello"),)
    assert bench.name == "mine" and bench.id_field is None and bench.question_field == "q"


def test_jsonl_blank_lines_skipped_and_rows_numbered_by_item(tmp_path):
    path = _write(tmp_path / "b.jsonl", '\n{"q": "a"}\n\n   \n{"q": "b"}\n')
    bench = load_benchmark("b", path, question_field="q")
    assert bench.items == (Item(0, "a"), Item(1, "b"))


def test_jsonl_id_field_keeps_json_types(tmp_path):
    path = _write(tmp_path / "i.jsonl", '{"id": 7, "q": "a"}\n{"id": "7", "q": "b"}\n')
    bench = load_benchmark("i", path, question_field="q", id_field="id")
    assert [item.id for item in bench.items] == [7, "7"]


def test_empty_question_is_allowed_and_kept_raw(tmp_path):
    path = _write(tmp_path / "e.jsonl", '{"q": ""}\n{"q": "  Hello,\\n World!  "}\n')
    bench = load_benchmark("e", path, question_field="q")
    assert [item.question for item in bench.items] == ["", "  Hello,\n World!  "]


def test_nested_dotted_field_and_literal_dotted_key(tmp_path):
    path = _write(tmp_path / "n.jsonl", '{"question": {"stem": "deep"}}\n{"question.stem": "flat"}\n')
    bench = load_benchmark("n", path, question_field="question.stem")
    assert [item.question for item in bench.items] == ["deep", "flat"]


@pytest.mark.parametrize(
    "content",
    [
        json.dumps([{"q": "a", "id": "x"}, {"q": "b", "id": "y"}]),
        json.dumps({"data": [{"q": "a", "id": "x"}, {"q": "b", "id": "y"}], "version": "1"}, indent=2),
    ],
    ids=["list", "object with one list key"],
)
def test_json_file(tmp_path, content):
    bench = load_benchmark("j", _write(tmp_path / "j.json", content), question_field="q", id_field="id")
    assert bench.items == (Item("x", "a"), Item("y", "b"))


def test_json_error_names_the_line_of_the_bad_element(tmp_path):
    rows = [{"q": "a"}, {"q": "b"}, {"nope": "c"}]
    path = _write(tmp_path / "pretty.json", json.dumps({"data": rows}, indent=2))
    # line 1 "{", 2 '"data": [', 3-5 first object, 6-8 second, 9-11 third
    with pytest.raises(InputError) as info:
        load_benchmark("p", path, question_field="q")
    assert (info.value.line, info.value.field) == (9, "q")
    assert "pretty.json, line 9, field 'q'" in str(info.value)


def test_json_lines_named_json_gets_a_hint(tmp_path):
    path = _write(tmp_path / "lines.json", '{"q": "a"}\n{"q": "b"}\n')
    with pytest.raises(InputError) as info:
        load_benchmark("l", path, question_field="q")
    assert info.value.line == 2
    assert "rename the file to .jsonl" in str(info.value)


def test_csv_file_with_multiline_fields_and_bom(tmp_path):
    content = '\ufeffid,Question\nA,"line one\nline two, with comma"\n\nB,"say ""hi"""\n'
    bench = load_benchmark("c", _write(tmp_path / "c.csv", content), question_field="Question", id_field="id")
    assert bench.items == (Item("A", "line one\nline two, with comma"), Item("B", 'say "hi"'))


def test_csv_line_numbers_count_multiline_fields(tmp_path):
    # header = line 1; row A spans lines 2-4; line 5 is blank; row A again (duplicate) is line 6
    content = 'id,q\nA,"one\ntwo\nthree"\n\nA,dup\n'
    with pytest.raises(InputError) as info:
        load_benchmark("c", _write(tmp_path / "multi.csv", content), question_field="q", id_field="id")
    assert (info.value.line, info.value.field) == (6, "id")
    assert "multi.csv, line 6" in str(info.value) and "'A'" in str(info.value)
    assert "line 2" in str(info.value)  # where the first 'A' is


def test_gzipped_csv(tmp_path):
    path = _write(tmp_path / "z.csv.gz", gzip.compress(b"q\nhello\n"))
    assert load_benchmark("z", path, question_field="q").items == (Item(0, "hello"),)


def test_parquet_file_with_nested_field(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": [10, 11], "question": [{"stem": "s0"}, {"stem": "s1"}], "answer": ["a", "b"]})
    path = tmp_path / "p.parquet"
    pq.write_table(table, path)
    bench = load_benchmark("arc", path)
    assert bench.items == (Item(10, "s0"), Item(11, "s1"))


def test_parquet_missing_column_and_null_question(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"text": ["a", None]}), path)
    with pytest.raises(InputError) as info:
        load_benchmark("p", path, question_field="q")
    assert info.value.field == "q" and "p.parquet" in str(info.value) and "text" in str(info.value)
    with pytest.raises(InputError) as info:
        load_benchmark("p", path, question_field="text")
    assert (info.value.line, info.value.field) == (2, "text")  # 1-based row
    assert "null" in str(info.value)


def test_folder_ids_unique_sorted_and_junk_ignored(tmp_path):
    _write(tmp_path / "b.jsonl", '{"q": "b0"}\n{"q": "b1"}\n')
    _write(tmp_path / "a.csv", "q\na0\n")
    _write(tmp_path / "sub" / "c.jsonl.gz", gzip.compress(b'{"q": "c0"}\n'))
    _write(tmp_path / ".hidden.jsonl", '{"q": "never"}\n')
    _write(tmp_path / ".cache" / "x.jsonl", '{"q": "never"}\n')
    _write(tmp_path / "SOURCES.md", "# sources\n")
    _write(tmp_path / "LICENSE", "MIT\n")
    bench = load_benchmark("f", tmp_path, question_field="q")
    assert [(i.id, i.question) for i in bench.items] == [
        ("a/0", "a0"), ("b/0", "b0"), ("b/1", "b1"), ("sub/c/0", "c0"),
    ]
    assert bench.source == str(tmp_path)


def test_folder_with_one_file_uses_plain_row_numbers(tmp_path):
    _write(tmp_path / "only.jsonl", '{"q": "x"}\n{"q": "y"}\n')
    _write(tmp_path / "README.md", "notes\n")
    assert [i.id for i in load_benchmark("f", tmp_path, question_field="q").items] == [0, 1]


def test_folder_duplicate_ids_across_files(tmp_path):
    _write(tmp_path / "a.jsonl", '{"id": 1, "q": "x"}\n')
    _write(tmp_path / "b.jsonl", '{"id": 2, "q": "y"}\n{"id": 1, "q": "z"}\n')
    with pytest.raises(InputError) as info:
        load_benchmark("f", tmp_path, question_field="q", id_field="id")
    message = str(info.value)
    assert info.value.path == str(tmp_path / "b.jsonl") and info.value.line == 2
    assert "duplicate item id 1" in message and str(tmp_path / "a.jsonl") + " line 1" in message


def test_empty_folder(tmp_path):
    _write(tmp_path / "SOURCES.md", "nothing\n")
    with pytest.raises(InputError, match="no benchmark files") as info:
        load_benchmark("f", tmp_path, question_field="q")
    assert str(tmp_path) in str(info.value)


# ------------------------------------------------------------------------------------------ bad input


# (description, file name, content, id_field, expected line, expected field, words in the message)
BAD_INPUTS = [
    ("malformed JSON line", "bad.jsonl", '{"q": "a"}\n{"q": "b"\n', None, 2, None, "malformed JSON"),
    ("invalid UTF-8", "latin.jsonl", b'{"q": "a"}\n\n{"q": "caf\xe9"}\n', None, 3, None, "re-encode"),
    ("question missing", "miss.jsonl", '{"q": "a"}\n{"other": "b"}\n', None, 2, "q", "--question-field"),
    ("question null", "null.jsonl", '{"q": null}\n', None, 1, "q", "got null"),
    ("question not a string", "num.jsonl", '{"q": "a"}\n{"q": 42}\n', None, 2, "q", "got number"),
    ("question is an object", "obj.jsonl", '{"q": {"stem": "x"}}\n', None, 1, "q", "got object"),
    ("dotted path stops early", "arc.jsonl", '{"q": {"stem": "x"}}\n{"q": "flat"}\n', None, 2, "q.stem",
     "dotted path"),
    ("line is not an object", "list.jsonl", '{"q": "a"}\n["q"]\n', None, 2, None, "got a JSON list"),
    ("CSV without the question column", "noq.csv", "id,text\n1,a\n", None, 1, "q", "columns: id, text"),
    ("CSV without the id column", "noid.csv", "q\na\n", "id", 1, "id", "--item-id-field bad=FIELD"),
    ("CSV row with too many values", "ragged.csv", 'q,x\n"a\nb",1\nc,2,3\n', None, 4, None, "3 values"),
    ("id missing", "noid.jsonl", '{"id": 1, "q": "a"}\n{"q": "b"}\n', "id", 2, "id",
     "the item id is missing; fix this row, choose another field with --item-id-field bad=FIELD"),
    ("id null", "idnull.jsonl", '{"id": null, "q": "a"}\n', "id", 1, "id", "null"),
    ("id is a float", "idfloat.jsonl", '{"id": 1.5, "q": "a"}\n', "id", 1, "id", "not a string or integer"),
    ("id is a boolean", "idbool.jsonl", '{"id": true, "q": "a"}\n', "id", 1, "id", "a boolean, not"),
    ("duplicate id", "dup.jsonl", '{"id": "x", "q": "a"}\n\n{"id": "x", "q": "b"}\n', "id", 3, "id",
     "duplicate item id 'x' (first seen at this file line 1)"),
]


@pytest.mark.parametrize(
    ("name", "content", "id_field", "line", "field", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_names_file_line_and_field(tmp_path, name, content, id_field, line, field, words):
    path = _write(tmp_path / name, content)
    question_field = "q.stem" if name == "arc.jsonl" else "q"
    with pytest.raises(InputError) as info:
        load_benchmark("bad", path, question_field=question_field, id_field=id_field)
    err = info.value
    message = str(err)
    assert (err.path, err.line, err.field) == (str(path), line, field)
    assert name in message
    assert f"line {line}" in message
    if field is not None:
        assert f"field {field!r}" in message
    assert words in message


# (description, file name, content, words in the message)
BAD_FILES = [
    ("empty JSONL", "empty.jsonl", "", "no items"),
    ("only blank lines", "blank.jsonl", "\n \n\n", "no items"),
    ("CSV header only", "header.csv", "q,answer\n", "no items"),
    ("empty JSON list", "empty.json", "[]", "no items"),
    ("JSON object with two lists", "two.json", '{"a": [], "b": []}', "exactly one list-valued key"),
    ("JSON scalar", "scalar.json", "3", "got a JSON number"),
    ("broken gzip", "broken.jsonl.gz", b"not gzip at all", "gzip"),
    ("unsupported suffix", "data.txt", "q\n", "unsupported file type '.txt'"),
]


@pytest.mark.parametrize(
    ("name", "content", "words"), [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES]
)
def test_bad_file_names_the_file(tmp_path, name, content, words):
    path = _write(tmp_path / name, content)
    with pytest.raises(InputError) as info:
        load_benchmark("bad", path, question_field="q")
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_missing_path(tmp_path):
    path = tmp_path / "nowhere" / "test.jsonl"
    with pytest.raises(InputError) as info:
        load_benchmark("gsm8k", path)
    assert info.value.path == str(path)
    assert "no such file or folder" in str(info.value) and str(path) in str(info.value)


# --------------------------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_the_sha256_of_the_canonical_content(tmp_path):
    path = _write(tmp_path / "f.jsonl", '{"id": "é", "q": "naïve?"}\n{"id": 2, "q": ""}\n')
    bench = load_benchmark("f", path, question_field="q", id_field="id")
    canonical = json.dumps([["é", "naïve?"], [2, ""]], ensure_ascii=False).encode("utf-8")
    assert bench.fingerprint == "sha256:" + hashlib.sha256(canonical).hexdigest()


def test_fingerprint_stable_and_content_sensitive(tmp_path):
    rows = [{"q": "What is 2 + 2?"}, {"q": "Name a prime."}]
    path = _write(tmp_path / "f.jsonl", "\n".join(json.dumps(r) for r in rows))
    first = load_benchmark("f", path, question_field="q").fingerprint
    # same content in another format and layout gives the same fingerprint
    same = load_benchmark("f", _write(tmp_path / "f.json", json.dumps({"data": rows})), question_field="q")
    assert same.fingerprint == first == load_benchmark("f", path, question_field="q").fingerprint
    rows[1]["q"] = "Name a prime!"
    changed = load_benchmark("f", _write(tmp_path / "g.jsonl", "\n".join(json.dumps(r) for r in rows)),
                             question_field="q")
    assert changed.fingerprint != first
    reordered = load_benchmark("f", _write(tmp_path / "h.jsonl", "\n".join(json.dumps(r) for r in rows[::-1])),
                               question_field="q")
    assert reordered.fingerprint not in (first, changed.fingerprint)


def test_fingerprint_of_real_file_is_stable(shared_benchmarks):
    path = shared_benchmarks / "gsm8k" / "test.jsonl"
    assert load_benchmark("gsm8k", path).fingerprint == load_benchmark("gsm8k", str(path)).fingerprint


def test_benchmark_is_frozen(tmp_path):
    bench = load_benchmark("f", _write(tmp_path / "f.jsonl", '{"q": "a"}'), question_field="q")
    assert isinstance(bench, Benchmark)
    with pytest.raises(AttributeError):
        bench.name = "other"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------- names and hub


def test_unknown_name_without_path_lists_known_names():
    with pytest.raises(BenchmarkNotFoundError) as info:
        load_benchmark("humaneva")
    message = str(info.value)
    assert "unknown benchmark 'humaneva'" in message and "Did you mean 'humaneval'" in message
    for name in REGISTRY:
        assert name in message
    assert "-b humaneva=" in message and "--question-field" in message


def test_empty_name_is_a_config_error():
    with pytest.raises(ConfigError, match="non-empty"):
        load_benchmark("  ")


@pytest.fixture()
def listening_endpoint(monkeypatch):
    """``HF_ENDPOINT`` set to a real socket listening on localhost, so that the hub probe connects (no proxy)."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    yield server
    server.close()


@pytest.fixture()
def fake_datasets(monkeypatch, listening_endpoint):
    """The real ``datasets`` module with ``load_dataset`` replaced: no test may reach the network."""
    datasets = pytest.importorskip("datasets")
    calls: list[tuple] = []
    outcome: dict = {"raise": ConnectionError("Couldn't reach 'openai_humaneval' on the Hub (OfflineModeIsEnabled)")}

    def load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        if "raise" in outcome:
            raise outcome["raise"]
        return outcome["return"]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    return datasets, calls, outcome


def test_hub_offline_env_is_respected_without_calling_datasets(fake_datasets, monkeypatch):
    datasets, calls, _ = fake_datasets
    # datasets was imported before the variables were set, so it would still go online: must not be called
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(BenchmarkNotFoundError) as info:
        load_benchmark("humaneval")
    message = str(info.value)
    assert calls == []
    assert "could not be fetched from the Hugging Face hub" in message
    assert "HF_HUB_OFFLINE" in message
    assert "-b humaneval=" in message and "HumanEval.jsonl.gz" in message


def test_hub_offline_mode_error_from_datasets(fake_datasets, monkeypatch):
    datasets, calls, _ = fake_datasets
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # datasets itself is offline: safe to call
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(BenchmarkNotFoundError) as info:
        load_benchmark("mbpp")
    assert calls == [(("mbpp", "full"), {"split": "test"})]
    assert isinstance(info.value.__cause__, ConnectionError)
    message = str(info.value)
    assert "hf://mbpp/full:test" in message and "offline" in message and "-b mbpp=" in message


def test_hub_connection_error_without_env(fake_datasets):
    _, calls, _ = fake_datasets
    with pytest.raises(BenchmarkNotFoundError) as info:
        load_benchmark("gsm8k")
    assert len(calls) == 1
    assert "could not be fetched" in str(info.value) and "-b gsm8k=" in str(info.value)


def test_hub_other_error_still_says_how_to_pass_a_file(fake_datasets):
    _, _, outcome = fake_datasets
    outcome["raise"] = ValueError("Dataset scripts are no longer supported")
    with pytest.raises(BenchmarkNotFoundError) as info:
        load_benchmark("hellaswag")
    message = str(info.value)
    assert "Dataset scripts are no longer supported" in message and "-b hellaswag=" in message
    assert "offline" not in message


def test_hub_rows_become_items_with_the_hub_field(fake_datasets):
    datasets, calls, outcome = fake_datasets
    outcome.pop("raise")
    outcome["return"] = datasets.Dataset.from_dict(
        {"id": ["a", "b"], "question": ["Q1", "Q2"], "answerKey": ["A", "B"]}
    )
    bench = load_benchmark("arc")
    assert calls == [(("allenai/ai2_arc", "ARC-Challenge"), {"split": "test"})]
    assert bench.source == "hf://allenai/ai2_arc/ARC-Challenge:test"
    assert bench.question_field == "question"  # the hub copy has a flat question, not question.stem
    assert bench.items == (Item("a", "Q1"), Item("b", "Q2"))


def test_hub_rows_are_validated(fake_datasets):
    datasets, _, outcome = fake_datasets
    outcome.pop("raise")
    outcome["return"] = datasets.Dataset.from_dict({"question": ["ok", None], "answer": ["1", "2"]})
    with pytest.raises(InputError) as info:
        load_benchmark("gsm8k")
    assert (info.value.path, info.value.line, info.value.field) == ("hf://gsm8k/main:test", 2, "question")


# ------------------------------------------------------------------------------------ CSV corner cases


@pytest.mark.parametrize("length", [49, 50, 51])
def test_csv_fields_near_the_size_limit(tmp_path, length):
    # csv refuses a field longer than csv.field_size_limit(): the error names the line (in a folder too,
    # and whichever column the field is in)
    previous = csv.field_size_limit(50)
    try:
        for last_row, last_question in (("a" * length + ",y\n", "a" * length), ("b," + "y" * length, "b")):
            content = "q,x\n" + "short,y\n" * 10 + last_row  # the long field is on line 12
            for files in ([content], ["q,x\na,b\n", content]):
                path = _write_folder(tmp_path, files)
                if length > 50:
                    with pytest.raises(InputError, match="field larger than field limit") as info:
                        load_benchmark("c", path, question_field="q")
                    assert info.value.line == 12
                else:
                    assert load_benchmark("c", path, question_field="q").items[-1].question == last_question
    finally:
        csv.field_size_limit(previous)


def _write_folder(tmp_path: Path, contents: list[str]) -> Path:
    """The files ``f0.csv``, ``f1.csv``... in a new folder: the folder, or its only file."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    for number, content in enumerate(contents):
        _write(folder / f"f{number}.csv", content)
    return folder if len(contents) > 1 else folder / "f0.csv"


def test_csv_folder_with_a_file_ending_inside_quotes(tmp_path):
    # the csv module takes an unclosed quote to run to the end of its file, never into the next file
    _write(tmp_path / "a.csv", 'q\nfine\n"open quote\n')
    _write(tmp_path / "b.csv", "q\nb0\n")
    bench = load_benchmark("f", tmp_path, question_field="q")
    expected = [("a/0", "fine"), ("a/1", "open quote\n"), ("b/0", "b0")]
    assert [(item.id, item.question) for item in bench.items] == expected


def test_csv_folder_with_several_headers_and_line_ends(tmp_path):
    _write(tmp_path / "a.csv", "q,x\na0,1\n")
    _write(tmp_path / "b.csv", "x,q\r\n2,b0\r\n")
    _write(tmp_path / "c.csv", "q,x\nc0,3\nc1,4")
    bench = load_benchmark("f", tmp_path, question_field="q", id_field="x")
    expected = [("1", "a0"), ("2", "b0"), ("3", "c0"), ("4", "c1")]
    assert [(item.id, item.question) for item in bench.items] == expected


# ----------------------------------------------------------------------------------------- field_value

# (description, record, path, default, expected)
FIELD_VALUES = [
    ("plain key", {"q": "a"}, "q", None, "a"),
    ("nested dotted path", {"question": {"stem": "s"}}, "question.stem", None, "s"),
    ("a key holding dots is looked up whole first", {"a.b": 1, "a": {"b": 2}}, "a.b", None, 1),
    ("missing gives the default (rescore: None)", {"q": "a"}, "id", None, None),
    ("missing gives the default (benchmarks: a sentinel)", {"q": "a"}, "id", "MISSING", "MISSING"),
    ("null is a value, not missing", {"id": None}, "id", "MISSING", None),
    ("the path stops at a non-object", {"q": "flat"}, "q.stem", "MISSING", "MISSING"),
    ("the path stops at a list", {"q": ["a"]}, "q.0", "MISSING", "MISSING"),
    ("three levels", {"doc": {"meta": {"id": 7}}}, "doc.meta.id", None, 7),
    ("a record that is not an object", ["q"], "q", "MISSING", "MISSING"),
]


@pytest.mark.parametrize(
    ("row", "path", "default", "expected"),
    [case[1:] for case in FIELD_VALUES],
    ids=[case[0] for case in FIELD_VALUES],
)
def test_field_value(row, path, default, expected):
    assert benchmarks.field_value(row, path, default) == expected


def test_field_value_without_default_gives_none_for_a_missing_field():
    assert benchmarks.field_value({"doc": {"id": 1}}, "doc.task_id") is None


# ------------------------------------------------------------------------------------------ the registry


def test_registry_module_is_the_one_behind_the_benchmarks_names():
    assert benchmarks.REGISTRY is registry.REGISTRY and benchmarks.BenchmarkSpec is registry.BenchmarkSpec
    assert {"REGISTRY", "BenchmarkSpec"} <= set(registry.__all__)
    assert set(registry.HUB_QUESTION_FIELD) <= set(registry.REGISTRY)
    assert set(registry.EXAMPLE_FILE) == set(registry.REGISTRY)


def test_registry_imports_no_other_decontam_module():
    tree = ast.parse(Path(registry.__file__).read_text(encoding="utf-8"))
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert relative == []


# ----------------------------------------------------------------------------------------- fingerprint


@pytest.mark.parametrize(
    ("name", "rel"), [case[1:3] for case in REAL_FILES], ids=[case[0] for case in REAL_FILES]
)
def test_real_files_fingerprint_is_the_sha256_of_json_dumps(shared_benchmarks, name, rel):
    bench = load_benchmark(name, shared_benchmarks / rel)
    assert bench.fingerprint == _json_fingerprint((item.id, item.question) for item in bench.items)


def _json_fingerprint(pairs) -> str:
    blob = json.dumps([[item_id, question] for item_id, question in pairs], ensure_ascii=False)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


_fp_char = st.one_of(
    st.sampled_from(["\x7f", '"', "\\", "\n", "\r", "\t", "\x00", "\x1f", "\ud800", "😀", "é", "\u2028"]),
    st.characters(exclude_categories=()),  # surrogates too
)
_fp_text = st.text(_fp_char, max_size=12)


@settings(max_examples=200, deadline=None)
@given(ids=st.one_of(st.lists(st.integers(), max_size=9, unique=True),
                    st.lists(_fp_text, max_size=9, unique=True)),
       questions=st.lists(_fp_text, max_size=9))
def test_fingerprint_is_the_sha256_of_json_dumps(ids, questions):
    pairs = list(zip(ids, questions))
    assert Benchmark.from_items("fp", pairs).fingerprint == _json_fingerprint(pairs)
