"""Span redaction (``action="redact"``) held to a brute-force oracle.

The oracle redacts with nothing but a per-character test of the GPT-4 rule (``[\\p{L}\\p{M}\\p{N}]``), a search
of every probe at every position of the normalized text, and character-by-character walks to the line ends:
each pass cuts, for every occurrence of every probe, its span, ``context`` characters on each side, and the
whole lines that touches; passes repeat until no probe occurs. The fast path (:mod:`decontam.redact`) must give
exactly its text, its pieces, and (per item) its characters cut; after it, no probe survives, and nothing outside
the widened spans has changed (the text *is* the oracle's, which only ever removes such spans).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from _redact import brute_normalize, oracle_redact  # noqa: E402
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import RedactConfig, filter_dataset
from decontam.benchmarks import Benchmark, Item
from decontam.config import DecontamConfig, NormalizeConfig, make_config
from decontam.errors import ConfigError
from decontam.inputs import TextEdit, cut_text, edit_row
from decontam.match import Matcher, ProbeGroup
from decontam.normalize import normalize
from decontam.outputs import edit_jsonl_line, json_value_spans
from decontam.redact import RowRedaction, TextRedaction, decide, merge_ranges, redact_texts


def found_by(matcher: Matcher, texts: list[str], norm: NormalizeConfig = NormalizeConfig()) -> list[dict]:
    """Per text, the windows per group the matcher finds (the scan's first pass)."""
    data = [normalize(t, norm).encode() for t in texts]
    offsets = np.cumsum([0] + [len(d) for d in data]).astype(np.int64)
    found = matcher.scan(b"".join(data), offsets)
    out: list[dict] = [{} for _ in texts]
    for (doc, gi), windows in found.windows.items():
        out[doc][gi] = sorted(windows)
    return out


def is_line_range(text: str, a: int, b: int) -> bool:
    return (a == 0 or text[a - 1] == "\n") and (b == len(text) or text[b - 1] == "\n")


# ------------------------------------------------------------------------------------------- strategies

ALPHABET = "abcé1"  # few letters: probes occur often, and occur again across the joins a cut makes
NOISE = [" ", "\n", "\n\n", ",", "-", "  ", "\t", "Ω", "\u0301", "x", "\r\n"]


@st.composite
def cases(draw):
    """Items (normalized questions with probe offsets and a probe length) and texts made of pieces of them."""
    length = draw(st.integers(2, 5))
    groups, questions = [], []
    for _ in range(draw(st.integers(1, 3))):
        q = draw(st.text(ALPHABET, min_size=1, max_size=10))
        if len(q) <= length:  # a short question is used whole, as the GPT-4 rule says
            groups.append(ProbeGroup.from_chars(q, [0], len(q)))
        else:
            offs = sorted(draw(st.sets(st.integers(0, len(q) - length), min_size=1, max_size=3)))
            groups.append(ProbeGroup.from_chars(q, offs, length))
        questions.append(q)

    def piece(q: str) -> st.SearchStrategy[str]:
        return st.tuples(st.integers(0, len(q)), st.integers(0, len(q))).map(lambda ij: q[min(ij): max(ij)])

    # a question split around a line holding another: once that line is cut, the question's two halves join
    split = st.tuples(st.sampled_from(questions), st.sampled_from(questions), st.integers(1, 9)).map(
        lambda qqk: qqk[0][: qqk[2]] + "\n" + qqk[1] + "\n" + qqk[0][qqk[2]:])
    token = st.one_of(st.sampled_from(NOISE), st.sampled_from(questions).flatmap(piece),
                      st.sampled_from(questions), st.text(ALPHABET, max_size=3), split)
    texts = draw(st.lists(st.lists(token, max_size=25).map("".join), min_size=1, max_size=4))
    return groups, texts


def probes_of(groups: list[ProbeGroup]) -> list[tuple[int, str]]:
    return [(gi, g.question[int(s) : int(e)].decode()) for gi, g in enumerate(groups)
            for s, e in zip(g.starts, g.ends)]


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------- property tests


@SETTINGS
@given(cases(), st.integers(0, 6))
def test_redaction_is_the_oracles(case, context):
    groups, texts = case
    matcher = Matcher(groups)
    probes = probes_of(groups)
    results = redact_texts(matcher, texts, found_by(matcher, texts), context=context)
    for text, r in zip(texts, results):
        want = oracle_redact(text, probes, context)
        left = cut_text(text, r.cuts)
        assert left == want["text"]
        assert {i for a, b in r.cuts for i in range(a, b)} == want["removed"]
        assert r.n_pieces == want["pieces"] and r.n_left == len(left) and r.n_characters == len(text)
        for gi, ranges in r.by_group.items():  # the characters cut for each item's probes
            assert {i for a, b in ranges for i in range(a, b)} == want["by_owner"][gi]
        assert set(r.by_group) == set(want["by_owner"])
        # no probe survives; every cut is whole lines of the text it was cut from (here: of the original,
        # as whole lines of what is left are whole lines of the original)
        assert not any(p in brute_normalize(left) for _, p in probes)
        assert all(is_line_range(text, a, b) for a, b in r.cuts)
        assert r.cuts == merge_ranges(r.cuts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 4), st.sampled_from([NormalizeConfig(lowercase=True), NormalizeConfig(nfkc=True),
                                                    NormalizeConfig(unescape=True)]))
def test_no_probe_survives_under_any_normalizer(case, context, norm):
    """Where normalization is not character by character, the spans are the minimal ones the evidence maps
    to: no probe is left in ``normalize(text, options)``, and cuts are whole lines."""
    groups, texts = case
    texts = [t.replace("a", "A").replace("c", "\\u0063") for t in texts]  # case and escapes to undo
    matcher = Matcher(groups)
    results = redact_texts(matcher, texts, found_by(matcher, texts, norm), norm, context)
    for text, r in zip(texts, results):
        left = normalize(cut_text(text, r.cuts), norm)
        assert not any(p in left for _, p in probes_of(groups))
        assert all(is_line_range(text, a, b) for a, b in r.cuts)


def test_a_probe_formed_where_a_cut_joins_two_lines_is_cut_in_a_second_pass():
    # "abcdef" is not in the text; cutting the line of "XYZQW" brings "abc" and "def" together
    groups = [ProbeGroup.from_chars("XYZQW", [0], 5), ProbeGroup.from_chars("abcdef", [0], 6)]
    matcher = Matcher(groups)
    text = "keep\nabc\nXYZ QW!\ndef\nkeep too\n"
    found = found_by(matcher, [text])
    assert found == [{0: [0]}]
    [r] = redact_texts(matcher, [text], found, context=0)
    assert cut_text(text, r.cuts) == "keep\nkeep too\n"
    assert r.by_group == {0: [(9, 17)], 1: [(5, 9), (17, 21)]}
    assert r.n_pieces == 2


def test_every_occurrence_is_cut_not_only_the_evidence():
    q = "Write a function that returns the sum of two integers given as arguments."
    bench = Benchmark.from_items("demo", [Item(1, q)])
    filler = "".join(f"line {i} of the document\n" for i in range(20))
    doc = filler + q + "\n" + filler + "again: " + q.upper() + "\n" + filler + "and " + q + "\n" + filler
    [out], report = filter_dataset([doc], [bench], progress=False, action="redact", redact_context=0,
                                   return_report=True)
    # both verbatim copies cut (the upper-cased one is no match under the rule: it stays)
    assert out == filler * 2 + "again: " + q.upper() + "\n" + filler * 2
    entry = report.data["training"]["redaction"]["documents"][0]
    assert entry["outcome"] == "redacted" and entry["n_characters_removed"] == len(q + "\n") + len("and " + q + "\n")
    assert entry["n_pieces"] == 3


# ------------------------------------------------------------------------------------------ drop rules


def test_drop_rules_too_short_first_then_too_many_pieces():
    t = TextRedaction(300, [(0, 10), (20, 30), (40, 50)], {0: [(0, 10)]}, 3)
    assert decide([(None, t)], 300, RedactConfig(min_chars=270, max_pieces=3)).outcome == "redacted"
    short = decide([(None, t)], 300, RedactConfig(min_chars=271, max_pieces=2))
    assert (short.outcome, short.reason) == ("dropped", "too_short")
    split = decide([("prompt", TextRedaction(10, [], {}, 1)), ("response", t)], 310,
                   RedactConfig(min_chars=0, max_pieces=2))
    assert (split.outcome, split.reason, split.field) == ("dropped", "too_many_pieces", "response")
    assert RowRedaction.from_list(json.loads(json.dumps(split.to_list()))) == split


Q1 = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."
Q2 = "Write a function that returns the sum of two integers given as arguments, or zero."
BENCH = Benchmark.from_items("demo", [Item("a", Q1), Item("b", Q2)])
OTHER = Benchmark.from_items("other", [Item("z", "A question that is nowhere in the corpus at all, none at all.")])


def lines(n: int, tag: str) -> str:
    return "".join(f"{tag} line {i}: nothing to see here.\n" for i in range(n))


@pytest.mark.parametrize("min_chars, max_pieces, outcome, reason", [
    (200, 10, "redacted", None),
    (10_000, 10, "dropped", "too_short"),
    (0, 2, "dropped", "too_many_pieces"),
    (0, 3, "redacted", None),
])
def test_drop_rules_decide_what_is_written(min_chars, max_pieces, outcome, reason):
    doc = lines(5, "a") + Q1 + "\n" + lines(5, "b") + Q2 + "\n" + lines(5, "c")
    out, report = filter_dataset(["clean " * 50, doc], [BENCH, OTHER], progress=False, action="redact",
                                 redact_context=0, redact_min_chars=min_chars, redact_max_pieces=max_pieces,
                                 return_report=True)
    red = report.data["training"]["redaction"]
    assert red["documents"][0]["outcome"] == outcome and red["documents"][0].get("reason") == reason
    assert red["documents"][0]["n_pieces"] == 3
    if outcome == "redacted":
        assert out == ["clean " * 50, lines(5, "a") + lines(5, "b") + lines(5, "c")]
        assert report.data["training"]["n_removed"] == 0 and report.data["training"]["n_kept"] == 2
        assert red["n_characters_removed"] == len(Q1) + len(Q2) + 2
    else:
        assert out == ["clean " * 50]
        assert report.data["training"]["n_removed"] == 1 and red["n_characters_dropped"] == len(doc)
        assert red[f"n_dropped_{reason}"] == 1 and red["n_characters_removed"] == 0
    assert red["by_benchmark"] == [
        {"name": "demo", "n_redacted": int(outcome == "redacted"), "n_dropped": int(outcome == "dropped"),
         "n_characters_removed": (len(Q1) + len(Q2) + 2) if outcome == "redacted" else 0},
        {"name": "other", "n_redacted": 0, "n_dropped": 0, "n_characters_removed": 0}]
    # the items found are the same whatever is done with the documents
    assert report.contaminated_ids("demo") == ["a", "b"]


# ------------------------------------------------------------------------ end to end against the oracle

WORDS = st.sampled_from(["the", "clips", "sum", "of", "two", "48", "friends", "April", "é", "zero", "function"])


@st.composite
def rows(draw):
    """Rows of two fields, each lines of noise, of the questions whole and of pieces of them."""
    def field():
        parts = draw(st.lists(st.one_of(
            st.lists(WORDS, max_size=8).map(" ".join), st.sampled_from([Q1, Q2, Q1.upper()]),
            st.tuples(st.sampled_from([Q1, Q2]), st.integers(0, 60)).map(lambda qi: qi[0][qi[1]: qi[1] + 55])),
            max_size=6))
        return "\n".join(parts) + draw(st.sampled_from(["", "\n"]))

    return [{"id": i, "prompt": field(), "response": field()} for i in range(draw(st.integers(1, 5)))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows(), st.integers(0, 30), st.integers(0, 120), st.integers(1, 3))
def test_filter_dataset_redacts_each_field_as_the_oracle(data, context, min_chars, max_pieces):
    out, report = filter_dataset(data, [BENCH], progress=False, text_field=["prompt", "response"],
                                 action="redact", redact_context=context, redact_min_chars=min_chars,
                                 redact_max_pieces=max_pieces, probe_length=20, return_report=True)
    probes = [((b["name"], it["id"]), p) for b in report.data["benchmarks"] for it in b["items"] for p in it["probes"]]
    want, docs = [], []
    for row in data:
        fields = {f: oracle_redact(row[f], probes, context) for f in ("prompt", "response")}
        hit = {f: r for f, r in fields.items() if r["removed"]}
        if not hit:
            want.append(row)
            continue
        too_short = [f for f, r in hit.items() if len(r["text"]) < min_chars]
        too_many = [f for f, r in hit.items() if r["pieces"] > max_pieces]
        docs.append((row["id"], "too_short" if too_short else "too_many_pieces" if too_many else None,
                     sum(len(r["removed"]) for r in hit.values())))
        if not (too_short or too_many):
            want.append({**row, **{f: r["text"] for f, r in hit.items()}})
    assert out == want
    red = report.data["training"]["redaction"]
    assert [(d["doc_id"], d.get("reason"), d["n_characters_removed"]) for d in red["documents"]] == docs
    for d in red["documents"]:
        assert sum(f["n_characters_removed"] for f in d["fields"]) == d["n_characters_removed"]
    assert red["n_redacted"] + red["n_dropped"] == len(docs) == red["n_documents"]
    assert report.data["training"]["n_kept"] == len(out)


# ----------------------------------------------------------------------------- writing redacted rows


def test_a_jsonl_line_keeps_every_byte_but_the_text_value():
    line = '{"id":  7, "text": "keep\\nCUT\\u00e9\\nkeep", "meta": {"a": [1,2]} }'.encode()
    edit = TextEdit(None, [(5, 10)], 14)
    out = edit_jsonl_line(line, [edit], "text")
    assert out == b'{"id":  7, "text": "keep\\nkeep", "meta": {"a": [1,2]} }'
    raw = "{\"text\": \"é\\nCUT\\n\", \"id\": 1}".encode()
    assert edit_jsonl_line(raw, [TextEdit(None, [(2, 6)], 6)], "text") == "{\"text\": \"é\\n\", \"id\": 1}".encode()


def test_a_chat_line_changes_only_its_messages_value():
    messages = [{"role": "user", "content": "hi\nCUT\n"}, {"role": "assistant", "content": [
        {"type": "text", "text": "a\nCUT"}, {"type": "image"}, {"type": "text", "text": "b"}]}]
    line = json.dumps({"id": 1, "messages": messages, "x": "y"}).encode()
    out = edit_jsonl_line(line, [TextEdit("messages[0]", [(3, 7)], 7), TextEdit("messages[1]", [(2, 6)], 7)],
                          "text")
    got = json.loads(out)
    assert got["messages"][0]["content"] == "hi\n"
    assert got["messages"][1]["content"] == [{"type": "text", "text": "a\n"}, {"type": "image"},
                                             {"type": "text", "text": "b"}]
    spans, old = json_value_spans(out.decode()), json_value_spans(line.decode())
    assert out.decode()[: spans["messages"][0]] == line.decode()[: old["messages"][0]]
    assert out.decode()[spans["messages"][1]:] == line.decode()[old["messages"][1]:]


def test_edit_row_copies_and_checks_what_it_cuts():
    row = {"text": "abcdef", "messages": [{"role": "user", "value": "xyz"}]}
    got = edit_row(row, [TextEdit(None, [(1, 3)], 6), TextEdit("messages[0]", [(0, 1)], 3)], "text")
    assert got == {"text": "adef", "messages": [{"role": "user", "value": "yz"}]}
    assert row == {"text": "abcdef", "messages": [{"role": "user", "value": "xyz"}]}  # unchanged
    with pytest.raises(ValueError, match="characters"):
        edit_row(row, [TextEdit(None, [(1, 3)], 5)], "text")


# --------------------------------------------------------------------------------------------- config


def test_the_default_config_and_its_fingerprint_do_not_know_redaction():
    assert "redact" not in DecontamConfig().to_dict()
    assert make_config(action="drop") == DecontamConfig()
    assert make_config(action="drop").fingerprint() == DecontamConfig().fingerprint()
    cfg = make_config(action="redact", redact_max_pieces=4)
    assert cfg.redact == RedactConfig(200, 200, 4) and cfg.to_dict()["redact"] == {
        "context": 200, "min_chars": 200, "max_pieces": 4}
    assert DecontamConfig.from_dict(cfg.to_dict()) == cfg
    assert make_config(cfg, redact_context=3).redact == RedactConfig(3, 200, 4)
    assert make_config(cfg, action="drop").redact is None


@pytest.mark.parametrize("options, message", [
    ({"redact_context": 5}, "only with action='redact'"),
    ({"action": "drop", "redact_min_chars": 5}, "only with action='redact'"),
    ({"action": "cut"}, "must be 'drop' or 'redact'"),
    ({"action": "redact", "redact_context": -1}, "redact_context"),
    ({"action": "redact", "redact_max_pieces": 0}, r"redact_max_pieces \(--redact-max-pieces\) must be an integer >= 1"),
    ({"action": "redact", "redact_min_chars": 1.5}, "redact_min_chars"),
])
def test_bad_redaction_options_are_refused_by_name(options, message):
    with pytest.raises(ConfigError, match=message):
        make_config(**options)
