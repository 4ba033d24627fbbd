"""Answer leaks (``probe_answers``, issue 13 point 3): probes drawn from each item's answer too, reported apart.

The property tests hold a check with ``probe_answers=True`` to a brute-force oracle (every answer probe against
every normalized document with ``in``), and to the same check without the option: the GPT-4 rule's figures
(contaminated items, their matches, documents removed by a question probe, warnings) must not move.
"""

from __future__ import annotations

import json

import datasets
import pytest
from _reports import question_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import Benchmark, ConfigError, DecontamConfig, InputError, Item, Report, check, filter_dataset
from decontam.benchmarks import answer_text, load_benchmark
from decontam.config import NormalizeConfig, SampleConfig
from decontam.normalize import normalize
from decontam.rescore import rescore
from decontam.results import ItemResults
from decontam.sample import sample_item
from decontam.scan.probes import ANSWER_SEED_TAG

# ------------------------------------------------------------------------------------------------ config


def test_the_option_is_off_by_default_and_leaves_the_rules_record_and_fingerprint_as_they_were():
    """The fingerprints below are those the version before the option wrote (main at 41e6b74): an index or a
    report of the GPT-4 rule made then still matches."""
    assert DecontamConfig().fingerprint() == "f9556ff1d491daaa"
    assert DecontamConfig(text_field=("a", "b")).fingerprint() == "0e78ff6f4f92909e"
    assert "probe_answers" not in DecontamConfig().to_dict()
    on = DecontamConfig(probe_answers=True)
    assert on.to_dict()["probe_answers"] is True and on.fingerprint() != DecontamConfig().fingerprint()
    assert DecontamConfig.from_dict(on.to_dict()) == on
    assert DecontamConfig.from_dict(DecontamConfig().to_dict()).probe_answers is False
    with pytest.raises(ConfigError, match="probe_answers"):
        DecontamConfig(probe_answers="yes")  # type: ignore[arg-type]


def test_answer_field_without_probe_answers_is_refused():
    b = Benchmark.from_items("d", [(1, "q" * 60)])
    with pytest.raises(ConfigError, match=r"--answer-field.*--probe-answers"):
        check(["x"], [b], progress=False, answer_field="sol")


# ------------------------------------------------------------------------------------------ loading answers


def test_registry_answer_fields_are_read_only_when_asked(shared_benchmarks):
    path = shared_benchmarks / "gsm8k" / "test.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    plain = load_benchmark("gsm8k", path)
    with_answers = load_benchmark("gsm8k", path, answers=True)
    assert all(it.answer is None for it in plain.items) and plain.answer_field is None
    assert [it.answer for it in with_answers.items] == [r["answer"] for r in rows]
    assert with_answers.answer_field == "answer"
    assert with_answers.fingerprint == plain.fingerprint  # the question fingerprint: answers do not change it
    mbpp = load_benchmark("mbpp", shared_benchmarks / "mbpp" / "mbpp.jsonl", answers=True)
    assert mbpp.answer_field == "code" and "def min_cost(" in mbpp.items[0].answer
    he = load_benchmark("humaneval", shared_benchmarks / "humaneval" / "HumanEval.jsonl.gz", answers=True)
    assert he.answer_field == "canonical_solution" and "return" in he.items[0].answer


def test_custom_answer_fields_and_their_errors(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"q": "question one", "sol": "solution one"}, {"q": "question two", "sol": None},
            {"q": "question three", "sol": ["first of two", "second"]}, {"q": "question four"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    b = load_benchmark("mine", path, question_field="q", answer_field="sol")
    assert [it.answer for it in b.items] == ["solution one", None, "first of two", None]  # absent/null: none
    assert b.answer_field == "sol"
    with pytest.raises(InputError, match="answer field 'solution' is in none of the 4 row") as err:
        load_benchmark("mine", path, question_field="q", answer_field="solution")
    assert err.value.path == str(path) and err.value.field == "solution"
    csv = tmp_path / "mine.csv"
    csv.write_text("q,a\nquestion,answer\n", encoding="utf-8")
    with pytest.raises(InputError, match="no answer column 'sol'"):
        load_benchmark("mine", csv, question_field="q", answer_field="sol")


def test_answer_text_takes_text_and_lists_first_element():
    assert answer_text("x") == "x" and answer_text(3) == "3" and answer_text(["a", "b"]) == "a"
    assert answer_text(None) is None and answer_text(False) is None and answer_text([{"text": "a"}]) is None
    assert answer_text([]) is None


# -------------------------------------------------------------------------------------- the oracle property

TOKENS = ["a", "b", "ab", "ba", "A", "7", "é", "ß", "Ω", " ", ",", "\n", "-", "(", ")"]
token = st.sampled_from(TOKENS)


@st.composite
def answer_cases(draw):
    """(items as (id, question, answer or None), docs, options): docs plant questions, answers, their slices."""
    n = draw(st.integers(1, 4))
    items = []
    for i in range(n):
        q = "".join(draw(st.lists(token, max_size=40)))
        a = draw(st.none() | st.lists(token, min_size=4, max_size=60).map("".join))
        items.append((f"i{i}", q, a))
    answers = [a for _, _, a in items if a]
    pieces = [t for _, q, a in items for t in (q, a) if t]
    docs = []
    for _ in range(draw(st.integers(0, 7))):
        parts = []
        for _ in range(draw(st.integers(0, 3))):
            if pieces and draw(st.booleans()):
                p = draw(st.sampled_from(answers if answers and draw(st.booleans()) else pieces))
                i = draw(st.integers(0, len(p)))
                j = draw(st.integers(i, len(p)))
                parts.append(p if draw(st.booleans()) else p[i:j])
            else:
                parts.append("".join(draw(st.lists(token, max_size=20))))
        docs.append(draw(st.sampled_from([" ", "", "\n"])).join(parts))
    opts = {"probe_length": draw(st.sampled_from([3, 5, 8, 50])), "probes": draw(st.sampled_from([1, 3, "all"])),
            "seed": draw(st.integers(0, 2)), "lowercase": draw(st.booleans())}
    return items, docs, opts


def _windows(norm: str, length: int, exhaustive: bool, sampled: tuple[str, ...]) -> list[str]:
    if exhaustive:
        n = min(length, len(norm))
        return [norm[i : i + n] for i in range(len(norm) - n + 1)] if norm else []
    return list(sampled)


def brute_force(items, docs, opts) -> dict:
    """Per item: the docs holding a question probe, those holding an answer probe (None: answer not probed)."""
    norm = NormalizeConfig(lowercase=opts["lowercase"])
    exhaustive = opts["probes"] == "all"
    samp = SampleConfig(length=opts["probe_length"], n_probes=1 if exhaustive else opts["probes"],
                        mode="all" if exhaustive else "sample", seed=opts["seed"])
    ndocs = [normalize(d, norm) for d in docs]
    out = {}
    for item_id, q, a in items:
        qp = sample_item("b", item_id, q, samp, norm)
        q_probes = _windows(qp.normalized, samp.length, exhaustive, qp.probes)
        q_docs = {k for k, d in enumerate(ndocs) if any(p in d for p in q_probes)}
        a_docs = None
        if a is not None and len(normalize(a, norm)) >= samp.length:  # shorter answers are not probed
            ap = sample_item("b" + ANSWER_SEED_TAG, item_id, a, samp, norm)
            a_probes = _windows(ap.normalized, samp.length, exhaustive, ap.probes)
            a_docs = {k for k, d in enumerate(ndocs) if any(p in d for p in a_probes)}
        out[item_id] = (q_docs, a_docs)
    return out


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_cases())
def test_answer_leaks_match_the_brute_force_and_the_question_figures_do_not_move(validate_report, case):
    items, docs, opts = case
    bench = Benchmark.from_items("b", [Item(i, q, a) for i, q, a in items])
    kept_plain, plain = filter_dataset(docs, [bench], return_report=True, progress=False, **opts)
    kept, on = filter_dataset(docs, [bench], return_report=True, progress=False, probe_answers=True, **opts)
    truth = brute_force(items, docs, opts)
    section = on.data["benchmarks"][0]
    # the answers: answer_leak_ids, each item's answer matches, and what is not probed
    assert section["answer_leak_ids"] == [i for i, _, _ in items if truth[i][1]]
    assert section["answers_not_probed_ids"] == [i for i, _, _ in items if truth[i][1] is None]
    for entry in section["items"]:
        a_docs = truth[entry["id"]][1] or set()
        assert {m["doc_id"] for m in entry["answer_matches"]} == a_docs
        assert all(m["answer"] is True for m in entry["answer_matches"])
        assert entry["answer_leak"] == bool(a_docs)
    # the rows: filter removes a question's or an answer's documents; the rule's count stays the question's
    q_rows = set().union(*(q for q, _ in truth.values()))
    a_rows = set().union(*(a or set() for _, a in truth.values()))
    assert kept == [d for k, d in enumerate(docs) if k not in q_rows | a_rows]
    assert kept_plain == [d for k, d in enumerate(docs) if k not in q_rows]
    training = on.data["training"]
    assert (training["n_removed"], training["n_removed_answer_only"]) == (len(q_rows), len(a_rows - q_rows))
    assert training["n_kept"] == len(kept)
    # the GPT-4 rule's figures: the same as without the option, field for field
    assert question_only(on.data) == plain.data
    assert section["contaminated_ids"] == [i for i, _, _ in items if truth[i][0]]
    validate_report(on.data)


def test_a_dataset_and_shards_give_the_same_answer_report():
    """A ``datasets.Dataset`` (the Dataset.map engine) gives the list's report; shard reports merge into it."""
    q = "Write a function that returns the sum of two integers given as arguments, please."
    a = "def add(a, b):\n    return a + b  # the sum of both arguments, returned to the caller\n"
    b = Benchmark.from_items("d", [Item(1, q, a), Item(2, "x " * 30, "y " * 30)])
    docs = ["nothing", f"copied: {a}", f"both {q} {a}", "tail", f"only {q}"]
    whole = check(docs, [b], progress=False, probe_answers=True)
    ds = datasets.Dataset.from_dict({"text": docs})
    kept, from_ds = filter_dataset(ds, [b], return_report=True, progress=False, probe_answers=True)
    assert kept["text"] == ["nothing", "tail"]
    assert from_ds.data["benchmarks"] == whole.data["benchmarks"]
    assert from_ds.data["training"]["n_removed_answer_only"] == whole.data["training"]["n_removed_answer_only"] == 1
    shards = [check(docs[:2], [b], progress=False, probe_answers=True),
              check(docs[2:], [b], progress=False, probe_answers=True)]
    merged = Report.merge(shards).data
    assert merged["benchmarks"] == whole.data["benchmarks"]
    assert {k: v for k, v in merged["training"].items() if k != "by_source"} == \
        {k: v for k, v in whole.data["training"].items() if k != "by_source"}
    assert [s["n_removed_answer_only"] for s in merged["training"]["by_source"]] == [1, 0]  # per shard
    assert whole.data["benchmarks"][0]["answer_leak_ids"] == [1]
    assert {m["doc_id"] for m in whole.data["benchmarks"][0]["items"][0]["answer_matches"]} == {1, 2}


def test_short_and_missing_answers_are_listed_not_probed_and_warned_of():
    b = Benchmark.from_items("d", [Item(1, "q" * 60, "B"), Item(2, "r" * 60), Item(3, "s" * 60, "...")])
    r = check(["B " * 10, "..."], [b], progress=False, probe_answers=True).data
    sec = r["benchmarks"][0]
    assert sec["answer_leak_ids"] == [] and sec["answers_not_probed_ids"] == [1, 2, 3]
    assert [it["answer_not_probed"] for it in sec["items"]] == [
        "the answer is shorter than the probe length", "no answer", "the answer normalizes to nothing"]
    assert [w["kind"] for w in r["warnings"]] == ["answers_not_probed"]
    assert "probed no answer of 1 benchmark" in r["warnings"][0]["message"]


def test_a_portrait_refuses_to_probe_answers(tmp_path):
    from decontam import build_index
    from decontam.index import CorpusIndex, Portrait

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"text": "hello " * 20}) + "\n", encoding="utf-8")
    build_index(corpus, tmp_path / "ix", progress=False)
    CorpusIndex.load(tmp_path / "ix").export_portrait(tmp_path / "p.dcp")
    b = Benchmark.from_items("d", [Item(1, "hello " * 20, "world " * 20)])
    with pytest.raises(ConfigError, match="portrait cannot probe answers"):
        Portrait.load(tmp_path / "p.dcp").check([b], probe_answers=True)


def test_an_index_check_gives_checks_answer_report(tmp_path):
    from decontam import build_index
    from decontam.index import CorpusIndex

    q = "Write a function that returns the sum of two integers given as arguments, please."
    a = "def add(a, b):\n    return a + b  # the sum of both arguments, returned to the caller\n"
    docs = [{"id": f"d{k}", "text": t} for k, t in enumerate(["nothing", f"copied: {a}", f"both {q} {a}", "tail"])]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    b = Benchmark.from_items("d", [Item(1, q, a), Item(2, "x " * 30, "y " * 30)])
    build_index(corpus, tmp_path / "ix", progress=False)
    from_index = CorpusIndex.load(tmp_path / "ix").check([b], probe_answers=True).to_dict()
    streamed = check(corpus, [b], progress=False, probe_answers=True).to_dict()
    assert from_index["benchmarks"] == streamed["benchmarks"]
    assert from_index["training"]["n_removed_answer_only"] == 1 and from_index["training"]["removed"] == \
        streamed["training"]["removed"]
    assert streamed["benchmarks"][0]["answer_leak_ids"] == [1]


# ------------------------------------------------------------------------------------- rescore: three ways


def test_rescore_splits_the_score_as_opencompass_does():
    """Items 0-9: 0-1 clean, 2-4 question only, 5-7 question and answer, 8 answer only, 9 answer not probed
    (question found); the brute-force means of each group."""
    items = []
    for i in range(10):
        entry = {"id": i, "contaminated": 2 <= i <= 7 or i == 9, "answer_leak": 5 <= i <= 8}
        if i == 9:
            entry["answer_not_probed"] = "no answer"
        items.append(entry)
    section = {"name": "t", "fingerprint": "f", "items": items,
               "answer_leak_ids": [it["id"] for it in items if it["answer_leak"]],
               "answers_not_probed_ids": [9]}
    report = {"benchmarks": [section], "corpus": {}}
    scores = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1]
    out = rescore(report, ItemResults(scores={str(i): [float(s)] for i, s in enumerate(scores)}, format="t"), "t")
    split = out["leak_split"]
    groups = {"clean": [0, 1], "question_contaminated": [2, 3, 4, 9], "question_and_answer_contaminated": [5, 6, 7],
              "answer_only": [8]}
    for name, ids in groups.items():
        assert split[name]["n"] == len(ids)
        assert split[name]["mean"] == pytest.approx(sum(scores[i] for i in ids) / len(ids))
    assert split["question_contaminated"]["n_answers_not_probed"] == 1 and split["clean"]["n_answers_not_probed"] == 0
    assert out["clean"]["n"] == 3 and out["contaminated"]["n"] == 7  # the rule's split: answer_only is clean
    del section["answer_leak_ids"]  # a report made without the option: no split
    assert "leak_split" not in rescore(report, ItemResults(scores={"0": [1.0]}, format="t"), "t")


def test_a_file_in_parts_gives_the_one_process_answer_report_and_output(monkeypatch, tmp_path):
    """Every core on one file (the parts engine, parts lowered to 300 bytes): the same report and output."""
    from decontam import filter_files
    from decontam.inputs import CorpusFile, files

    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 300)
    q = "Write a function that returns the sum of two integers given as arguments, please."
    a = "def add(a, b):\n    return a + b  # the sum of both arguments, returned to the caller\n"
    b = Benchmark.from_items("d", [Item(1, q, a), Item(2, "x " * 30, "y " * 30)])
    texts = [[f"row {i}", f"copied {a}", f"both {q} {a}", f"only {q}"][i % 4] for i in range(80)]
    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    assert len(files.split_file(CorpusFile(src, "c.jsonl", "jsonl"), 2, "text")) > 4  # the file is cut in parts
    reports = [filter_files([src], [b], tmp_path / f"out{n}.jsonl", num_proc=n, progress=False, probe_answers=True)
               for n in (1, 2)]
    assert reports[0].to_json() == reports[1].to_json()
    assert (tmp_path / "out1.jsonl").read_bytes() == (tmp_path / "out2.jsonl").read_bytes()
    assert reports[0].data["training"]["n_removed_answer_only"] == 20 and reports[0].data["training"]["n_kept"] == 20
