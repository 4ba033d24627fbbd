"""Several text fields and chats: each field (each message) is matched on its own, never across a boundary.

The oracle: a row is contaminated by an item when one of the item's probes is a substring of the normalized
text of one of the row's segments (a field's string, a message's content), checked with ``in``, one segment at
a time. Every container (dicts, Arrow tables, ``datasets``, JSONL, Parquet) must agree with it and with each
other, and a match names the segment it was found in.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import check, filter_dataset
from decontam.benchmarks import Benchmark, Item
from decontam.errors import ConfigError, InputError
from decontam.index import CorpusIndex
from decontam.inputs.fields import chosen_fields, row_segments
from decontam.normalize import normalize

Q = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."
HALF = len(Q) // 2


def bench() -> Benchmark:
    return Benchmark.from_items("demo", [Item("q0", Q)])


def matched_fields(report) -> dict[object, str]:
    """doc id -> the field of its match (one item here)."""
    return {m["doc_id"]: m.get("field") for b in report.data["benchmarks"] for it in b["items"]
            for m in it["matches"]}


def test_a_probe_split_across_two_fields_is_not_a_match_and_a_whole_one_names_its_field():
    rows = [
        {"id": "split", "prompt": "Question: " + Q[:HALF], "response": Q[HALF:] + " The answer is 72."},
        {"id": "in-response", "prompt": "What is this?", "response": "It is: " + Q},
        {"id": "in-prompt", "prompt": Q, "response": "72"},
        {"id": "clean", "prompt": "hello", "response": "world"},
    ]
    kept, report = filter_dataset(rows, [bench()], text_field=["prompt", "response"], return_report=True,
                                  progress=False, probe_length=50)
    # the whole question normalizes to more than 50 characters, so no probe fits either half of "split"
    assert len(normalize(Q[:HALF])) < 50 and len(normalize(Q[HALF:])) < 50
    assert [r["id"] for r in kept] == ["split", "clean"]
    assert matched_fields(report) == {"in-response": "response", "in-prompt": "prompt"}
    assert report.data["corpus"]["text_fields"] == [{"source": "<list>", "fields": ["prompt", "response"]}]
    assert report.data["config"]["text_field"] == ["prompt", "response"]
    # the same text in one field is a match: the boundary, not the text, is what kept "split" in
    joined = [{"id": r["id"], "text": r["prompt"] + r["response"]} for r in rows]
    kept_joined = filter_dataset(joined, [bench()], progress=False)
    assert [r["id"] for r in kept_joined] == ["clean"]


CHAT_ROWS = [
    {"id": "a", "messages": [{"role": "user", "content": "Solve: " + Q}, {"role": "assistant", "content": "72"}]},
    {"id": "b", "messages": [{"role": "user", "content": "hi"},
                             {"role": "assistant", "content": [{"type": "text", "text": "Sure. " + Q}]}]},
    {"id": "c", "messages": [{"role": "user", "content": Q[:HALF]}, {"role": "assistant", "content": Q[HALF:]}]},
    {"id": "d", "messages": [{"role": "user", "content": "hello"}, {"role": "tool", "content": None}]},
]


def test_chat_rows_are_read_by_default_when_there_is_no_text_field_and_each_message_is_matched_alone(tmp_path):
    kept, report = filter_dataset(CHAT_ROWS, [bench()], return_report=True, progress=False)
    assert [r["id"] for r in kept] == ["c", "d"]
    assert matched_fields(report) == {"a": "messages[0]", "b": "messages[1]"}
    assert report.data["corpus"]["text_fields"] == [{"source": "<list>", "fields": ["messages"]}]

    # the same rows as a JSONL file, a Parquet file and a datasets.Dataset: the same verdicts
    jsonl = tmp_path / "chat.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in CHAT_ROWS))
    got = check([jsonl], [bench()], progress=False)
    assert matched_fields(got) == {"a": "messages[0]", "b": "messages[1]"}
    sharegpt = [{"id": r["id"], "conversations": [{"from": m["role"], "value": m["content"]}
                                                  for m in r["messages"] if isinstance(m["content"], str)]}
                for r in CHAT_ROWS]
    table = pa.Table.from_pylist(sharegpt)
    parquet = tmp_path / "chat.parquet"
    pq.write_table(table, parquet)
    got = check([parquet], [bench()], progress=False)
    assert matched_fields(got) == {"a": "conversations[0]"}  # "b"'s text was in parts, dropped above
    ds = datasets.Dataset.from_list(sharegpt)
    out, got = filter_dataset(ds, [bench()], return_report=True, progress=False)
    assert out["id"] == ["b", "c", "d"]
    assert matched_fields(got) == {"a": "conversations[0]"}


def test_a_missing_or_null_field_names_the_file_line_and_field_or_is_counted(tmp_path):
    src = tmp_path / "pairs.jsonl"
    src.write_text(json.dumps({"prompt": "a", "response": "b"}) + "\n"
                   + json.dumps({"prompt": "a"}) + "\n"
                   + json.dumps({"prompt": "a", "response": None}) + "\n")
    with pytest.raises(InputError) as err:
        check([src], [bench()], text_field=["prompt", "response"], progress=False)
    assert err.value.path == str(src) and err.value.line == 2 and err.value.field == "response"
    report = check([src], [bench()], text_field=["prompt", "response"], on_error="skip", progress=False)
    assert [(r["line"], r["field"]) for r in report.data["corpus"]["rejected"]] == [(2, "response"),
                                                                                    (3, "response")]
    assert report.data["corpus"]["n_documents"] == 1

    table = pa.table({"prompt": ["a", "b"], "response": ["c", None]})
    with pytest.raises(InputError) as err:
        check(table, [bench()], text_field=["prompt", "response"], progress=False)
    assert err.value.line == 2 and err.value.field == "response"


def test_an_index_holds_one_text_per_row_and_refuses_several_fields_or_chats(tmp_path):
    with pytest.raises(ConfigError, match="one text per document"):
        CorpusIndex.build([{"prompt": "a", "response": "b"}], tmp_path / "ix", text_field=["prompt", "response"])
    src = tmp_path / "chat.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in CHAT_ROWS))
    with pytest.raises(ConfigError, match="one text per document"):
        CorpusIndex.build([src], tmp_path / "ix2")
    assert not (tmp_path / "ix").exists() and not (tmp_path / "ix2").exists()


def test_field_choice_and_segments():
    assert chosen_fields(("text",), ["text", "messages"]) == ("text",)
    assert chosen_fields(("text",), ["conversations"]) == ("conversations",)
    assert chosen_fields(("body",), ["messages"]) == ("body",)  # a named field is never replaced
    assert row_segments({"p": "x", "r": "y"}, ("r", "p")) == [("r", "y"), ("p", "x")]
    with pytest.raises(ConfigError):
        filter_dataset(["a"], [bench()], text_field=["p", "p"])


# ------------------------------------------------------------------------ property: every container, oracle

WORDS = ["Natalia", "sold", "clips", "48", "friends", "April", "half", "May", "x", " ", ", ", "\n", "é"]


@st.composite
def rows_and_question(draw):
    question = "".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=12)))
    n = draw(st.integers(0, 6))
    rows = []
    for i in range(n):
        parts = []
        for _ in range(3):  # three fields, each a mix of noise, the question, or a piece of it
            kind = draw(st.sampled_from(["noise", "whole", "head", "tail"]))
            cut = draw(st.integers(0, len(question)))
            noise = "".join(draw(st.lists(st.sampled_from(WORDS), max_size=4)))
            parts.append({"noise": noise, "whole": noise + question, "head": question[:cut],
                          "tail": question[cut:] + noise}[kind])
        rows.append({"id": f"r{i}", "p": parts[0], "r": parts[1], "s": parts[2]})
    length = draw(st.sampled_from([3, 8, 16]))
    return question, rows, length, draw(st.sampled_from([3, "all"]))


def oracle(question: str, rows: list[dict], fields: tuple[str, ...], length: int, probes: list[str]) -> set[str]:
    return {r["id"] for r in rows if any(p in normalize(r[f]) for f in fields for p in probes)}


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_and_question(), st.sampled_from([("p",), ("p", "r"), ("s", "p", "r")]))
def test_every_container_agrees_with_the_per_field_oracle(case, fields):
    question, rows, length, n_probes = case
    b = Benchmark.from_items("demo", [Item("q0", question)])
    kept, report = filter_dataset(rows, [b], text_field=list(fields), probe_length=length, probes=n_probes,
                                  return_report=True, progress=False)
    item = report.data["benchmarks"][0]["items"][0]
    probes = item["probes"]
    if n_probes == "all":  # every window of the question (the whole question when shorter)
        q = item["normalized_question"]
        probes = [q[i:i + min(length, len(q))] for i in range(max(1, len(q) - length + 1))] if q else []
    want = oracle(question, rows, fields, length, probes)
    assert {r["id"] for r in rows} - {r["id"] for r in kept} == want
    for m in item["matches"]:  # a match's probe and span are in the field it names
        label = m.get("field", fields[0])
        assert (m.get("field") is None) == (len(fields) == 1)
        segment = normalize(next(r for r in rows if r["id"] == m["doc_id"])[label])
        s, e = m["span"]
        assert label in fields and m["probe"] in segment and normalize(question)[s:e] in segment
    table = pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in ("id", "p", "r", "s")]))
    out, report_t = filter_dataset(table, [b], text_field=list(fields), probe_length=length, probes=n_probes,
                                   return_report=True, progress=False)
    assert out["id"].to_pylist() == [r["id"] for r in kept]
    assert report_t.data["benchmarks"] == report.data["benchmarks"]
    assert report_t.data["corpus"]["fingerprint"] == report.data["corpus"]["fingerprint"]
    with tempfile.TemporaryDirectory() as tmp:
        if rows:
            jsonl, parquet = Path(tmp) / "c.jsonl", Path(tmp) / "c.parquet"
            jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
            pq.write_table(table, parquet)
            for path in (jsonl, parquet):
                got = check([path], [b], text_field=list(fields), probe_length=length, probes=n_probes,
                            progress=False)
                assert got.data["benchmarks"] == report.data["benchmarks"], path.suffix
        ds = datasets.Dataset(table)
        out_ds, report_ds = filter_dataset(ds, [b], text_field=list(fields), probe_length=length,
                                           probes=n_probes, return_report=True, progress=False)
        assert out_ds["id"] == [r["id"] for r in kept]
        assert report_ds.data["benchmarks"] == report.data["benchmarks"]


def test_a_chat_message_of_another_shape_is_a_problem_never_read_as_empty(tmp_path):
    """Text under a key decontam does not read (``{"role", "text"}``, or a text part without ``text``) named,
    with file, line and field, or counted as rejected; a tool call and an image part are no text, and no
    problem."""
    src = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": "fine"},
                          {"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]},
                          {"role": "assistant", "tool_calls": [{"id": "d"}]},
                          {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}},
                                                        {"type": "text", "text": "also fine"}]}]},
            {"messages": [{"role": "user", "text": "unread"}]},
            {"messages": [{"role": "user", "content": [{"type": "input_text", "input": "unread"}]}]}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError, match="message 0 has neither content") as err:
        check([src], [bench()], progress=False)
    assert err.value.path == str(src) and err.value.line == 2 and err.value.field == "messages"
    assert "its keys: role, text" in str(err.value)
    report = check([src], [bench()], on_error="skip", progress=False)
    rejected = report.data["corpus"]["rejected"]
    assert [(r["line"], r["field"]) for r in rejected] == [(2, "messages"), (3, "messages")]
    assert "a part of type 'input_text' has no text string" in rejected[1]["reason"]
    assert report.data["corpus"]["n_documents"] == 1
    assert report.data["corpus"]["n_characters"] == len("fine") + len("also fine")
    assert row_segments(rows[0], ("messages",)) == [("messages[0]", "fine"), ("messages[3]", "also fine")]
