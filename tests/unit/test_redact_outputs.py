"""Redacted rows as they are written: in every format and by every engine, only the text changes.

JSONL: every byte of a redacted line but the text field's value is kept (the value is re-serialized in the
line's own style), clean lines are copied; Parquet, Arrow tables and ``datasets``: only the text column changes,
the schema is kept; several fields and chats: each text is redacted on its own. The redacted text is the
brute-force oracle's (``tests/_redact.py``), with the probes the report lists. Every engine gives the same bytes:
one process, files in parts (``--num-proc``), batches scanned by workers (one gzipped file), ``Dataset.map`` with
one or two processes.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _redact import oracle_redact  # noqa: E402

from decontam import check, filter_dataset, filter_files
from decontam.benchmarks import Benchmark, Item
from decontam.errors import ConfigError
from decontam.index import build_index
from decontam.inputs import CorpusFile, files
from decontam.outputs import json_value_spans
from decontam.report import merge_reports

Q = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting.",
    "Write a function that returns the sum of two integers given as arguments, or zero.",
]
BENCH = Benchmark.from_items("demo", [Item(i, q) for i, q in enumerate(Q)])
CONTEXT = 30
OPTIONS = {"action": "redact", "redact_context": CONTEXT, "redact_min_chars": 40, "progress": False}


def filler(i: int, n: int = 4) -> str:
    return "".join(f"document {i}, line {k}: café and tea.\n" for k in range(n))


def doc(i: int) -> str:
    """Clean, redacted (a question amid lines, once or twice), or dropped (little else): by ``i``."""
    kind = i % 5
    if kind == 0:
        return filler(i)
    if kind == 1:
        return filler(i) + "Q: " + Q[i % 3] + "\n" + filler(i + 1)
    if kind == 2:
        return filler(i, 2) + Q[i % 3] + "\nmiddle\n" * 3 + Q[(i + 1) % 3].upper() + "\n" + Q[i % 3] + "\n" + filler(i)
    if kind == 3:
        return "see: " + Q[i % 3]
    return filler(i, 1) + "\t" + Q[i % 3] + "  \n" + filler(i, 6)


def expected(text: str, report: dict) -> str:
    probes = [(None, p) for b in report["benchmarks"] for it in b["items"] for p in it["probes"]]
    return oracle_redact(text, probes, CONTEXT)["text"]


def fate(text: str, report: dict) -> str | None:
    """The oracle's text of a row as written, or None when it is dropped (too little left)."""
    left = expected(text, report)
    return None if left != text and len(left) < 40 else left


# ---------------------------------------------------------------------------------------------------- JSONL


def jsonl_lines(n: int) -> list[str]:
    """Lines in several styles: spacing, key order, escapes or raw UTF-8, extra fields, blank lines."""
    out = []
    for i in range(n):
        text = doc(i)
        style = i % 3
        if style == 0:
            out.append(json.dumps({"id": i, "text": text, "meta": {"k": [1, 2]}}))
        elif style == 1:
            out.append('{ "text" :' + json.dumps(text, ensure_ascii=False) + f' ,"id":{i},"x":[true,null] }}')
        else:
            out.append(json.dumps({"source": "web", "text": text, "id": i}, separators=(",", ":")))
        if i % 7 == 6:
            out.append("")
    return out


def test_jsonl_lines_keep_every_byte_but_the_text_value(tmp_path):
    lines = jsonl_lines(40)
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = filter_files([src], [BENCH], tmp_path / "out.jsonl", **OPTIONS).to_dict()
    written = (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
    want = []
    for line in filter(None, lines):
        left = fate(json.loads(line)["text"], report)
        if left is None:
            continue
        if left == json.loads(line)["text"]:
            want.append(line)  # copied as it is
            continue
        a, b = json_value_spans(line)["text"]
        want.append(line[:a] + json.dumps(left, ensure_ascii=line[a:b].isascii()) + line[b:])
    assert written == want
    red = report["training"]["redaction"]
    assert red["n_redacted"] > 5 and red["n_dropped"] > 5 and red["n_dropped"] == report["training"]["n_removed"]
    assert report["training"]["n_kept"] == len(written)
    # gzipped: the same lines
    gz = tmp_path / "c.jsonl.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    filter_files([gz], [BENCH], tmp_path / "out.jsonl.gz", **OPTIONS)
    assert gzip.decompress((tmp_path / "out.jsonl.gz").read_bytes()) == (tmp_path / "out.jsonl").read_bytes()


def test_check_reports_what_filter_would_redact_and_shards_merge(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(jsonl_lines(30)) + "\n")
    filtered = filter_files([src], [BENCH], tmp_path / "o.jsonl", **OPTIONS).to_dict()
    checked = check([src], [BENCH], **OPTIONS).to_dict()
    assert checked["config"].pop("action") == "check" and filtered["config"].pop("action") == "filter"
    assert checked == filtered
    halves = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    lines = src.read_text().splitlines()
    halves[0].write_text("\n".join(lines[:17]) + "\n")
    halves[1].write_text("\n".join(lines[17:]) + "\n")
    merged = merge_reports([check([h], [BENCH], **OPTIONS).to_dict() for h in halves])
    whole = check(halves, [BENCH], **OPTIONS).to_dict()
    assert merged == whole and merged["training"]["redaction"]["n_documents"] > 10


def test_drop_stays_the_default_byte_for_byte(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(jsonl_lines(20)) + "\n")
    plain = filter_files([src], [BENCH], tmp_path / "a.jsonl", progress=False)
    dropped = filter_files([src], [BENCH], tmp_path / "b.jsonl", progress=False, action="drop")
    assert plain.to_json() == dropped.to_json() and "redaction" not in plain.data["training"]
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


# ------------------------------------------------------------------------------------------- Parquet and Arrow


def table(n: int) -> pa.Table:
    texts = [doc(i) for i in range(n)]
    return pa.table({"id": pa.array(range(n), pa.int32()), "text": pa.array(texts, pa.large_string()),
                     "tags": [[i, i + 1] for i in range(n)]}).replace_schema_metadata({"origin": "test"})


def expected_table(t: pa.Table, report: dict) -> pa.Table:
    rows = [(i, fate(x, report)) for i, x in enumerate(t.column("text").to_pylist())]
    keep = [i for i, left in rows if left is not None]
    out = t.take(keep)
    return out.set_column(1, "text", pa.array([rows[i][1] for i in keep], pa.large_string()))


def test_parquet_only_the_text_column_changes(tmp_path):
    t = table(60)
    pq.write_table(t, tmp_path / "c.parquet", row_group_size=16)
    report = filter_files([tmp_path / "c.parquet"], [BENCH], tmp_path / "o.parquet", **OPTIONS).to_dict()
    got = pq.read_table(tmp_path / "o.parquet")
    assert got.schema == t.schema and got.schema.metadata[b"origin"] == b"test"
    assert got.equals(expected_table(t, report))


def test_arrow_tables_and_datasets_change_only_their_text_column():
    t = table(50)
    out, report = filter_dataset(t, [BENCH], return_report=True, **OPTIONS)
    assert out.equals(expected_table(t, report.data))
    ds = datasets.Dataset.from_dict({"id": list(range(50)), "text": t.column("text").to_pylist(),
                                     "tags": [[i] for i in range(50)]})
    got = {n: filter_dataset(ds, [BENCH], num_proc=n, return_report=True, **OPTIONS) for n in (1, 2)}
    assert got[1][1].to_json() == got[2][1].to_json()
    assert got[1][0].to_list() == got[2][0].to_list()
    assert list(got[1][0]["text"]) == expected_table(t, report.data).column("text").to_pylist()
    assert got[1][0].features == ds.features
    assert list(got[1][0]["tags"]) == [[i] for i in out.column("id").to_pylist()]
    splits, rep = filter_dataset(datasets.DatasetDict({"a": ds.select(range(25)), "b": ds.select(range(25, 50))}),
                                 [BENCH], return_report=True, **OPTIONS)
    assert list(splits["a"]["text"]) + list(splits["b"]["text"]) == list(got[1][0]["text"])
    assert rep.data["training"]["redaction"]["n_redacted"] == report.data["training"]["redaction"]["n_redacted"]


def test_iterable_datasets_and_lists_of_dicts_are_redacted_lazily_and_copied():
    rows = [{"id": i, "text": doc(i)} for i in range(30)]
    before = json.dumps(rows)
    listed, report = filter_dataset(rows, [BENCH], return_report=True, **OPTIONS)
    assert json.dumps(rows) == before  # the caller's rows are not changed
    want = [{"id": r["id"], "text": fate(r["text"], report.data)} for r in rows if fate(r["text"], report.data)
            is not None]
    assert listed == want
    stream, lazy = filter_dataset(datasets.IterableDataset.from_generator(lambda: iter(rows)), [BENCH],
                                  return_report=True, **OPTIONS)
    assert list(stream) == want and lazy.to_json() == report.to_json().replace('"<list>"', '"<iterable dataset>"')
    assert filter_dataset([r["text"] for r in rows], [BENCH], **OPTIONS) == [r["text"] for r in want]


# ----------------------------------------------------------------------------------------- several texts, chats


def chat_rows(n: int) -> list[dict]:
    return [{"id": i, "messages": [{"role": "system", "content": "Be brief.\n" + filler(i, 1)},
                                   {"role": "user", "content": doc(i)},
                                   {"role": "assistant", "content": doc(i + 1)}],
             "prompt": doc(i + 2), "response": filler(i)} for i in range(n)]


def expected_row(row: dict, report: dict, fields: list[str]) -> dict | None:
    out = json.loads(json.dumps(row))
    for f in fields:
        if isinstance(row[f], str):
            texts = [(out, f)]
        else:
            texts = [(m, "content") for m in out[f]]
        for holder, key in texts:
            left = expected(holder[key], report)
            if left != holder[key] and len(left) < 40:
                return None
            holder[key] = left
    return out


@pytest.mark.parametrize("fields", [["messages"], ["prompt", "response"], ["messages", "prompt"]])
def test_each_field_and_message_is_redacted_on_its_own(tmp_path, fields, validate_report):
    rows = chat_rows(25)
    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    opts = {**OPTIONS, "text_field": fields}
    report = filter_files([src], [BENCH], tmp_path / "o.jsonl", **opts).to_dict()
    validate_report(report)
    bad = json.loads(json.dumps(report))
    bad["training"]["redaction"]["documents"][0]["fields"][0]["n_pieces"] = -1
    with pytest.raises(AssertionError, match="n_pieces"):  # the schema describes the new fields, to their depth
        validate_report(bad)
    want = [w for r in rows if (w := expected_row(r, report, fields)) is not None]
    got = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert got == want
    assert report["training"]["redaction"]["n_redacted"] > 3
    dropped = [d for d in report["training"]["redaction"]["documents"] if d["outcome"] == "dropped"]
    assert dropped and all(d["field"].split("[")[0] in fields for d in dropped)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet")
    filter_files([tmp_path / "c.parquet"], [BENCH], tmp_path / "o.parquet", **opts)
    assert pq.read_table(tmp_path / "o.parquet").to_pylist() == want
    assert filter_dataset(datasets.Dataset.from_list(rows), [BENCH], **opts).to_list() == want


# ------------------------------------------------------------------------------------------------- engines


@pytest.fixture
def small_parts(monkeypatch):
    """Split any file of a few hundred bytes into parts of about 2,000 bytes."""
    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 2000)


def test_one_process_and_several_give_the_same_bytes(small_parts, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(jsonl_lines(120)) + "\n")
    pq.write_table(table(200), folder / "b.parquet", row_group_size=20)
    chats = "".join(json.dumps(r) + "\n" for r in chat_rows(30))
    (folder / "c.jsonl").write_text(chats)
    assert len(files.split_file(CorpusFile(folder / "a.jsonl", "a.jsonl", "jsonl"), 2, "text")) >= 4
    assert len(files.split_file(CorpusFile(folder / "b.parquet", "b.parquet", "parquet"), 2, "text")) >= 4
    runs = {n: filter_files([folder], [BENCH], tmp_path / f"out{n}", num_proc=n, **OPTIONS).to_json()
            for n in (1, 2, 3)}
    assert runs[1] == runs[2] == runs[3]
    for name in ("a.jsonl", "b.parquet", "c.jsonl"):
        one = (tmp_path / "out1" / name).read_bytes()
        assert one == (tmp_path / "out2" / name).read_bytes() == (tmp_path / "out3" / name).read_bytes(), name
    assert json.loads(runs[1])["training"]["redaction"]["n_redacted"] > 30
    # one gzipped file, fewer files than processes: read here, batches scanned by the workers
    gz = tmp_path / "one.jsonl.gz"
    gz.write_bytes(gzip.compress((folder / "a.jsonl").read_bytes()))
    outs = {n: filter_files([gz], [BENCH], tmp_path / f"gz{n}.jsonl.gz", num_proc=n, **OPTIONS).to_json()
            for n in (1, 2)}
    assert outs[1] == outs[2]
    assert (tmp_path / "gz1.jsonl.gz").read_bytes() == (tmp_path / "gz2.jsonl.gz").read_bytes()
    assert gzip.decompress((tmp_path / "gz1.jsonl.gz").read_bytes()) == (tmp_path / "out1" / "a.jsonl").read_bytes()


def test_an_index_check_cannot_redact(tmp_path):
    index = build_index([doc(i) for i in range(10)], tmp_path / "ix", progress=False)
    with pytest.raises(ConfigError, match="cannot redact"):
        index.check([BENCH], action="redact")
    with pytest.raises(ConfigError, match="redaction"):
        build_index([doc(0)], tmp_path / "ix2", progress=False, action="redact")
    assert Path(tmp_path / "ix").is_dir() and not Path(tmp_path / "ix2").exists()


def test_answer_probes_are_cut_too_and_counted_apart():
    """With ``probe_answers`` a row holding an answer probe is acted on too: redacted, or dropped and counted in
    ``n_removed_answer_only`` when it holds no question probe."""
    answer = "def add(a, b):\n    # the sum of the two integers given, or zero when neither is given\n    return a + b\n"
    bench = Benchmark.from_items("code", [Item("c1", Q[2], answer=answer)])
    rows = [filler(0, 8) + answer + filler(1, 8),  # the answer only, in a long document: redacted
            "x = 1\n" + answer,  # the answer only, little else: dropped
            filler(2, 8) + Q[2] + "\n" + answer + filler(3, 8)]  # both
    out, report = filter_dataset(rows, [bench], return_report=True, probe_answers=True, **OPTIONS)
    training = report.data["training"]
    assert [d["outcome"] for d in training["redaction"]["documents"]] == ["redacted", "dropped", "redacted"]
    assert training["n_removed"] == 0 and training["n_removed_answer_only"] == 1 and training["n_kept"] == 2
    probes = [(None, p) for b in report.data["benchmarks"] for it in b["items"]
              for p in it["probes"] + it["answer_probes"]]
    assert out == [oracle_redact(rows[0], probes, CONTEXT)["text"], oracle_redact(rows[2], probes, CONTEXT)["text"]]
    assert "return a + b" not in out[0] and report.data["benchmarks"][0]["answer_leak_ids"] == ["c1"]
