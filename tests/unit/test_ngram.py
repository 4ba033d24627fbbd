"""The 13-gram rule (``method="ngram13"``) against a brute-force oracle, and what it must leave alone.

The oracle is the rule written out in plain Python, as lm-evaluation-harness states it: each text's words are
``text.translate(JANITOR_TABLE).split()``; its 13-grams are the tuples of 13 consecutive words; an item is
contaminated when one of its 13-grams is one of some document's, and a document holds benchmark text when one
of its 13-grams is one of some item's. Sets of tuples, intersected: nothing of decontam's matcher.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import Report, check, filter_dataset, filter_files
from decontam.benchmarks import Benchmark, Item
from decontam.config import DecontamConfig, make_config
from decontam.errors import ConfigError
from decontam.inputs import files
from decontam.render import to_card, to_html
from decontam.verify import check_command
from decontam.words import janitor_words

N = 13
JANITOR_TABLE = str.maketrans(string.ascii_lowercase + string.ascii_uppercase, string.ascii_lowercase * 2,
                              string.punctuation)


def grams(text: str) -> set[tuple[str, ...]]:
    words = text.translate(JANITOR_TABLE).split()
    return {tuple(words[i : i + N]) for i in range(len(words) - N + 1)}


def oracle(questions: list[str], docs: list[str]) -> dict:
    q_grams = [grams(q) for q in questions]
    d_grams = [grams(d) for d in docs]
    every_doc = set().union(*d_grams) if d_grams else set()
    every_q = set().union(*q_grams) if q_grams else set()
    n_words = [len(q.translate(JANITOR_TABLE).split()) for q in questions]
    return {
        "contaminated": [i for i, g in enumerate(q_grams) if g & every_doc],
        "too_short": [i for i, n in enumerate(n_words) if 0 < n < N],
        "docs": [j for j, g in enumerate(d_grams) if g & every_q],
        "pairs": {(i, j) for i, qg in enumerate(q_grams) for j, dg in enumerate(d_grams) if qg & dg},
    }


# Words from a small vocabulary (so that copies, near copies and chance 13-grams all occur), written with the
# case, punctuation and whitespace the rule ignores, and with what it does not ignore (non-ASCII case).
WORDS = ["a", "b", "ab", "the", "x1", "7", "É", "é", "ß", "don't", "e-mail", "$4", "€4", "(a)", "A.", "B,", "naïve"]
SPACES = [" ", "  ", "\n", "\t", "\n    ", "\xa0", "\u2028", "\x1c", " - ", " -- ", " # ", " >>> ", " ... "]
word = st.sampled_from(WORDS)
space = st.sampled_from(SPACES)


def written(draw, words: list[str]) -> str:
    """The words as a text: random separators, some upper-cased, some with punctuation glued on."""
    out = []
    for w in words:
        w = w.upper() if draw(st.integers(0, 4)) == 0 else w
        w = w + draw(st.sampled_from(["", "", ",", ".", "!", ")", "'", '"']))
        out.append(w + draw(space))
    return "".join(out)


@st.composite
def cases(draw, max_docs: int = 6):
    """(questions, docs): questions of 0 to 25 words; docs of noise and of copies (whole, sliced, one word
    changed) of the questions, re-written."""
    lengths = st.one_of(st.integers(0, 12), st.integers(13, 25), st.integers(13, 25))  # mostly 13 words or more
    qwords = [draw(st.lists(word, min_size=n, max_size=n)) for n in draw(st.lists(lengths, min_size=1, max_size=4))]
    questions = [written(draw, ws) for ws in qwords]
    docs = []
    for _ in range(draw(st.integers(0, max_docs))):
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            ws = draw(st.sampled_from(qwords))
            kind = draw(st.sampled_from(["noise", "copy", "copy", "slice", "slice", "changed"]))
            if kind == "noise" or not ws:
                ws = draw(st.lists(word, max_size=30))
            elif kind == "slice":  # often 13 words or so: found or not by one word
                i = draw(st.integers(0, len(ws)))
                ws = ws[i : i + draw(st.one_of(st.integers(0, len(ws)), st.integers(12, 14)))]
            elif kind == "changed":
                i = draw(st.integers(0, len(ws) - 1))
                ws = ws[:i] + [draw(word)] + ws[i + 1 :]
            parts.append(written(draw, ws))
        docs.append(draw(space).join(parts))
    return questions, docs


PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def bench(questions: list[str]) -> Benchmark:
    return Benchmark.from_items("demo", [Item(i, q) for i, q in enumerate(questions)])


def assert_exact(report: dict, questions: list[str], docs: list[str]) -> dict:
    """The report says what the oracle says, and each match's probe and evidence are what they claim."""
    truth = oracle(questions, docs)
    b = report["benchmarks"][0]
    assert b["contaminated_ids"] == truth["contaminated"]
    assert b.get("too_short_ids", []) == truth["too_short"]
    assert sorted({r["row"] for r in report["training"]["removed"]}) == truth["docs"]
    assert report["training"]["n_removed"] == len(truth["docs"])
    pairs = set()
    for it in b["items"]:
        q = questions[it["id"]]
        assert it["normalized_question"] == " ".join(janitor_words(q))
        assert it["n_probes"] == max(0, len(janitor_words(q)) - N + 1)
        for m in it["matches"]:
            pairs.add((it["id"], m["row"]))
            probe = tuple(m["probe"].split(" "))
            assert len(probe) == N and probe in grams(q) and probe in grams(docs[m["row"]])
            # the span: whole words of the question, 13 or more, found in that order in the document (the longest
            # such run; the probe is the first 13-gram found, which may lie in another run)
            s, e = m["span"]
            run = it["normalized_question"][s:e]
            doc_words = " " + " ".join(janitor_words(docs[m["row"]])) + " "
            assert len(run.split(" ")) >= N and f" {run} " in doc_words and f" {run} " in f" {it['normalized_question']} "
            ev = m["evidence"]
            hs, he = ev["highlight"]
            shown = " ".join(janitor_words(ev["excerpt"][hs:he]))
            assert " ".join(janitor_words(it["normalized_question"][s:e])) in shown
            qs, qe = ev["question_highlight"]
            assert " ".join(janitor_words(q[qs:qe])) == it["normalized_question"][s:e]
    assert pairs == truth["pairs"]
    return truth


@PROPERTY
@given(cases())
def test_ngram13_is_the_13_gram_rule(case):
    questions, docs = case
    filtered, report = filter_dataset(docs, [bench(questions)], return_report=True, progress=False,
                                      method="ngram13")
    truth = assert_exact(report.data, questions, docs)
    assert filtered == [d for j, d in enumerate(docs) if j not in truth["docs"]]
    assert report.data["config"]["method"] == "ngram13"
    assert report.data["config"]["ngram"] == {"n": 13}
    empty = any(it.get("empty") for it in report.data["benchmarks"][0]["items"])  # (no word at all)
    assert [w["kind"] for w in report.data["warnings"]] == (["empty_questions"] if empty else [])


def test_questions_under_13_words_are_too_short_not_clean():
    q12 = " ".join(["word"] * 12)
    q13 = " ".join(["word"] * 13)
    report = check([q13 + " and more"], [bench([q12, q13, "?!"])], method="ngram13", progress=False)
    b = report.benchmark("demo")
    assert b["contaminated_ids"] == [1] and b["too_short_ids"] == [0] and b["clean_ids"] == [2]
    assert b["items"][2]["empty"] is True
    assert b["contamination_rate"] == round(1 / 3, 6)  # over all items, as lm-eval counts


def test_the_default_is_unchanged_by_the_option():
    q = "Write a function that returns the sum of two integers given as arguments, or zero otherwise."
    docs = ["x " + q.upper(), "y " + q]
    default = check(docs, [bench([q])], progress=False)
    assert "method" not in default.data["config"] and "ngram" not in default.data["config"]  # as before the option
    assert default.contaminated_ids("demo") == [0]
    assert [r["row"] for r in default.data["training"]["removed"]] == [1]
    ngram = check(docs, [bench([q])], method="ngram13", progress=False)
    assert [r["row"] for r in ngram.data["training"]["removed"]] == [0, 1]  # it lowercases


@pytest.mark.parametrize("option", [{"seed": 1}, {"probes": "all"}, {"probes": 5}, {"probe_length": 30},
                                    {"min_question_chars": 5}, {"lowercase": True}, {"nfkc": True},
                                    {"unescape": True}])
def test_gpt4_options_are_refused_with_ngram13(option):
    with pytest.raises(ConfigError, match="GPT-4 rule's probes and normalizer"):
        make_config(method="ngram13", **option)


@pytest.mark.parametrize(("option", "flag"), [({"probe_answers": True}, "--probe-answers"),
                                              ({"action": "redact"}, "--action redact")])
def test_gpt4_passes_are_refused_with_ngram13(option, flag):
    with pytest.raises(ConfigError, match=f"{flag} work with the GPT-4 rule's probes only"):
        make_config(method="ngram13", **option)


def test_unknown_method_is_refused():
    with pytest.raises(ConfigError, match="gpt4, ngram13"):
        DecontamConfig(method="ngram12")  # type: ignore[arg-type]


def test_config_round_trips_and_the_reproduce_command_names_the_method():
    cfg = make_config(method="ngram13")
    assert DecontamConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.fingerprint() != make_config().fingerprint()
    q = " ".join(f"w{i}" for i in range(20))
    report = check([q], [bench([q])], method="ngram13", progress=False)
    assert "--method ngram13" in check_command(report.data)
    card = to_card(report.data)
    assert "`--method ngram13`" in card and "13-gram" in card and "lm-evaluation-harness" in card
    assert "13-gram" in to_html(report.data)
    assert "13-gram" in report.to_markdown()


def test_index_refuses_ngram13(tmp_path):
    from decontam import build_index

    with pytest.raises(ConfigError, match="GPT-4 rule only"):
        build_index(["some text"], tmp_path / "ix", method="ngram13", progress=False)


# ---------------------------------------------------------------------------------- files, processes, parts

GOOD_LINE = st.builds(lambda i, t: json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False), st.integers(0, 99),
                     cases(max_docs=1).map(lambda c: " ".join(c[1]) or "empty"))
LINES = st.tuples(GOOD_LINE, st.lists(st.one_of(GOOD_LINE, st.just(""), st.just("{not json")), max_size=25)).map(
    lambda t: [t[0], *t[1]])  # a first row that reads: a file of bad rows only is an error, not a result


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(LINES, cases(max_docs=0).map(lambda c: c[0]), st.sampled_from([2, 3]))
def test_num_proc_gives_the_one_process_report_and_output(monkeypatch, lines, questions, num_proc):
    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)  # files of a few hundred bytes are split into parts
    monkeypatch.setattr(files, "PART_MAX_BYTES", 300)
    b = bench(questions)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "c.jsonl"
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        other = Path(tmp) / "d.jsonl"
        other.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
        out = []
        for n in (1, num_proc):
            report = filter_files([src, other], [b], Path(tmp) / f"out{n}", num_proc=n, on_error="skip",
                                  method="ngram13", progress=False)
            out.append((report.to_json(), (Path(tmp) / f"out{n}" / "c.jsonl").read_bytes(),
                        (Path(tmp) / f"out{n}" / "d.jsonl").read_bytes()))
        assert out[0] == out[1]


def test_a_datasets_dataset_with_workers_gives_the_list_result():
    """The ``datasets`` engine (``Dataset.map``, two processes) runs the same rule: the same verdicts and rows."""
    import datasets

    q = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many "
         "clips did Natalia sell altogether in April and May?")
    docs = [f"row {i}: " + (q.upper() if i % 3 == 0 else "nothing to see here") for i in range(12)]
    b = bench([q, "too short to check"])
    expected, rep = filter_dataset(docs, [b], return_report=True, progress=False, method="ngram13")
    ds = datasets.Dataset.from_dict({"text": docs})
    one = filter_dataset(ds, [b], progress=False, method="ngram13")
    got, report = filter_dataset(ds, [b], return_report=True, progress=False, method="ngram13", num_proc=2)
    assert got["text"][:] == one["text"][:] == expected == [d for i, d in enumerate(docs) if i % 3]
    assert report.data["benchmarks"] == rep.data["benchmarks"]
    assert report.data["training"]["removed"] == rep.data["training"]["removed"]


def test_shard_reports_merge_into_the_whole_corpus_report():
    q = " ".join(f"word{i}" for i in range(20))
    docs = ["a " + q, "nothing", q.upper(), "b"]
    whole = check(docs, [bench([q])], method="ngram13", progress=False)
    shards = [check(docs[:2], [bench([q])], method="ngram13", progress=False),
              check(docs[2:], [bench([q])], method="ngram13", progress=False)]
    merged = Report.merge(shards).to_dict()
    expected = whole.to_dict()
    for d in (merged, expected):  # the in-memory sources are named alike; the rest must be the same
        d["corpus"].pop("sources"), d["corpus"].pop("source_digests"), d["corpus"].pop("fingerprint")
        d["training"].pop("by_source")
    assert merged == expected
    assert [r["row"] for r in merged["training"]["removed"]] == [0, 2]


def test_several_text_fields_are_matched_each_on_its_own():
    q = " ".join(f"w{i}" for i in range(14))
    half = " ".join(q.split()[:7]), " ".join(q.split()[7:])
    rows = [{"prompt": half[0], "response": half[1]},  # the 13-gram spans two fields: not found
            {"prompt": "x", "response": "y " + q}]
    report = check(rows, [bench([q])], method="ngram13", text_field=["prompt", "response"], progress=False)
    assert [(r["row"]) for r in report.data["training"]["removed"]] == [1]
    assert report.benchmark("demo")["items"][0]["matches"][0]["field"] == "response"
