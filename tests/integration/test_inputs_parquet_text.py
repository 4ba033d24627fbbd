"""Parquet text columns of every kind that holds text, through the real command line.

A dictionary-encoded column (what pandas writes for a ``category``) and a ``string_view`` column are read as
strings: ``check`` gives the report a plain string column gives, and ``filter`` writes the surviving rows with the
input's schema unchanged. A chat column whose messages' content is a list of OpenAI parts (``{"type", "text"}``)
is read as the JSONL reader reads the same rows: each message matched on its own, never across messages, its text
parts joined with newlines, a text part without text a rejected row; the JSONL and Parquet files give one report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

QUESTIONS = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting today.",
]


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TQDM_DISABLE="1", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "decontam", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _bench(folder: Path) -> list[str]:
    (folder / "b.jsonl").write_text("".join(json.dumps({"id": i, "q": q}) + "\n" for i, q in enumerate(QUESTIONS)))
    return ["-b", "demo=b.jsonl", "--question-field", "q", "--no-progress"]


def _report(path: Path, source: str) -> dict:
    """A report without what differs between two runs on two files of the same rows (the run, the file name)."""
    doc = json.loads(path.read_text())
    doc.pop("run", None)
    return json.loads(json.dumps(doc).replace(source, "SOURCE"))


TEXTS = ["an unrelated document", f"Copied: {QUESTIONS[0]} (end)", "another one", "and a last one"]
KINDS = {
    "string": lambda a: a,
    "dictionary (pandas category)": lambda a: a.dictionary_encode(),
    "string_view": lambda a: a.cast(pa.string_view()),
}


def _kind_files(folder: Path, kind: str) -> None:
    ids = pa.array(range(len(TEXTS)), pa.int64())
    for name, make in (("plain", KINDS["string"]), ("kind", KINDS[kind])):
        pq.write_table(pa.table({"id": ids, "text": make(pa.array(TEXTS))}), folder / f"{name}.parquet",
                       row_group_size=2)


@pytest.mark.parametrize("kind", ["dictionary (pandas category)", "string_view"])
def test_dictionary_and_string_view_text_columns_are_checked_as_strings(tmp_path, kind):
    bench = _bench(tmp_path)
    _kind_files(tmp_path, kind)
    for name in ("plain", "kind"):
        done = _cli("check", f"{name}.parquet", *bench, "--id-field", "id", "--report", f"{name}.json",
                    cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert _report(tmp_path / "kind.json", "kind.parquet") == _report(tmp_path / "plain.json", "plain.parquet")
    assert json.loads((tmp_path / "kind.json").read_text())["benchmarks"][0]["n_contaminated"] == 1


@pytest.mark.parametrize("kind", [
    "dictionary (pandas category)",
    "string_view",
])
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_dictionary_and_string_view_text_columns_are_filtered_keeping_the_schema(tmp_path, kind, on_error):
    bench = _bench(tmp_path)
    _kind_files(tmp_path, kind)
    done = _cli("filter", "kind.parquet", "-o", "out.parquet", *bench, "--on-error", on_error, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.equals(pq.read_table(tmp_path / "kind.parquet").schema, check_metadata=True)
    assert pq.read_schema(tmp_path / "out.parquet").equals(pq.read_schema(tmp_path / "kind.parquet"),
                                                            check_metadata=True)
    assert out.column("text").to_pylist() == [t for t in TEXTS if QUESTIONS[0] not in t]
    assert out.column("id").to_pylist() == [0, 2, 3]


def _part(text: str | None, kind: str = "text") -> dict:
    return {"type": kind, "text": text}


half = len(QUESTIONS[1]) // 2
CHATS = [
    # (row, what happens to it)
    ({"id": 0, "messages": [{"role": "user", "content": [_part("Hi there")]},
                            {"role": "assistant", "content": [_part(QUESTIONS[0])]}]}, "removed"),
    # a question split over two messages is in neither: never matched across them
    ({"id": 1, "messages": [{"role": "user", "content": [_part(QUESTIONS[1][:half])]},
                            {"role": "user", "content": [_part(QUESTIONS[1][half:])]}]}, "kept"),
    # a message without text (a tool call: no content; an image part only) is no segment
    ({"id": 2, "messages": [{"role": "assistant", "content": None},
                            {"role": "user", "content": [_part(None, "image_url")]},
                            {"role": "user", "content": [_part("plain words"), _part(None, "image_url"),
                                                         _part("more words")]}]}, "kept"),
    # a text part without its text is a rejected row, as in JSONL
    ({"id": 3, "messages": [{"role": "user", "content": [_part("fine")]},
                            {"role": "user", "content": [_part("x"), _part(None)]}]}, "rejected"),
    ({"id": 4, "messages": []}, "kept"),
    ({"id": 5, "messages": [{"role": "user", "content": [_part("say: "), _part(QUESTIONS[1])]}]}, "removed"),
]


@pytest.mark.parametrize("action", ["check", "filter"])
def test_chat_content_parts_read_from_parquet_as_from_jsonl(tmp_path, action):
    bench = [*_bench(tmp_path), "--id-field", "id", "--on-error", "skip"]
    rows = [r for r, _ in CHATS]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet", row_group_size=4)
    for name in ("c.jsonl", "c.parquet"):
        args = ["-o", f"out-{name}"] if action == "filter" else []
        done = _cli(action, name, *bench, *args, "--report", f"{name}.json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    jsonl, parquet = _report(tmp_path / "c.jsonl.json", "c.jsonl"), _report(tmp_path / "c.parquet.json", "c.parquet")
    assert parquet == jsonl
    report = json.loads((tmp_path / "c.parquet.json").read_text())
    assert report["corpus"]["text_fields"] == [{"source": "c.parquet", "fields": ["messages"]}]
    assert [(r["line"], r["field"], r["reason"]) for r in report["corpus"]["rejected"]] == [
        (4, "messages", "message 1: a part of type 'text' has no text string")]
    assert report["benchmarks"][0]["contaminated_ids"] == [0, 1]
    if action == "filter":
        kept = pq.read_table(tmp_path / "out-c.parquet")
        assert kept.column("id").to_pylist() == [r["id"] for r, fate in CHATS if fate == "kept"]
        assert kept.schema.equals(pq.read_schema(tmp_path / "c.parquet"), check_metadata=True)
