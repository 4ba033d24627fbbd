"""Tests of decontam.neardup: the near-duplicate pass, held to brute-force oracles.

* :func:`best_window` against the windows counted one by one;
* every near match it reports against the shingles counted on the text: the containment is the share of the
  question's distinctive shingles in the reported span, at least the threshold, and no window of the document
  holds more;
* a planted near copy (a tenth of the words swapped, or the numbers changed) is found; the result does not depend
  on how documents are batched; an item's shingles do not depend on the other benchmarks;
* through the API: the exact rule's report is the same with the pass on (apart from its own fields), a filter
  removes exactly the documents it reports, one process and two give the same report, shard reports merge into
  the whole one, and every report validates against the schema.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import Report, check, filter_dataset, filter_files
from decontam.benchmarks import Benchmark, Item
from decontam.config import DecontamConfig, make_config
from decontam.errors import ConfigError
from decontam.minhash import SHINGLE_BYTES, shingles
from decontam.neardup import (
    COMMON_MAX,
    COMMON_MIN,
    COMMON_SHARE,
    MIN_SHINGLES,
    NearDupIndex,
    best_window,
    distinctive_shingles,
    mixed,
)
from decontam.normalize import normalize, normalize_many

_rng = random.Random(7)
_LETTERS = "bcdfghjklmnprstvwz" + "aeiou"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_LETTERS) for _ in range(rng.randint(4, 9)))


QUESTION_WORDS = sorted({_word(_rng) for _ in range(400)})
FILLER_WORDS = sorted({_word(_rng) for _ in range(400)} - set(QUESTION_WORDS))
SWAP_WORDS = sorted({_word(_rng) for _ in range(200)} - set(QUESTION_WORDS))


def question(rng: random.Random, n_words: int) -> str:
    words = rng.sample(QUESTION_WORDS, n_words)
    words[rng.randrange(n_words)] = str(rng.randint(10, 999))
    return " ".join(words).capitalize() + "?"


def swap_tenth(q: str, rng: random.Random) -> str:
    words = q.split(" ")
    for i in rng.sample(range(len(words)), max(1, len(words) // 10)):
        words[i] = rng.choice(SWAP_WORDS)
    return " ".join(words)


def change_numbers(q: str, rng: random.Random) -> str:
    return " ".join(str(rng.randint(10, 999)) if w.isdigit() else w for w in q.split(" "))


def filler(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(FILLER_WORDS) for _ in range(n_words))


# ------------------------------------------------------------------------------------------ best_window


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 5)), min_size=1, max_size=30), st.integers(0, 25))
def test_best_window_is_the_best_counted_one_by_one(hits, reach):
    hits = sorted(hits)
    pos = np.array([p for p, _ in hits])
    ids = np.array([i for _, i in hits])
    weight_of = {i: 1.0 + (i % 3) for i in range(6)}
    weights = np.array([weight_of[i] for i in ids])
    got = best_window(pos, ids, weights, reach)
    best = None
    for j in range(len(pos)):
        inside = [k for k in range(len(pos)) if pos[j] <= pos[k] <= pos[j] + reach]
        total = sum(weight_of[i] for i in {ids[k] for k in inside})
        if best is None or total > best[0]:
            best = (total, int(pos[j]), int(pos[max(inside)]))
    assert got == best


# ------------------------------------------------------------------------- the index against the oracle


def _distinctive(index: NearDupIndex, qi: int) -> set[int]:
    return set(index.grams[index.bounds[qi]:index.bounds[qi + 1]].tolist())


def _oracle_best(doc: bytes, own: set[int], reach: int) -> int:
    """The most distinct question shingles of any window ``[a, a + reach]`` of shingle starts, counted one by
    one."""
    grams = shingles(doc).tolist()
    starts = [i for i, g in enumerate(grams) if g in own]
    return max((len({grams[i] for i in starts if a <= i <= a + reach}) for a in starts), default=0)


def _check_against_oracle(index: NearDupIndex, questions: list[str], docs: list[bytes]) -> list:
    data = b"".join(docs)
    offsets = np.concatenate(([0], np.cumsum([len(d) for d in docs])))
    found = index.find(data, offsets)
    for f in found:
        qi = int(np.flatnonzero(index.groups == f.group)[0])
        own = _distinctive(index, qi)
        doc = docs[f.doc]
        s, e = f.span
        in_span = {g for g in shingles(doc[s:e]).tolist() if g in own}
        assert f.containment == pytest.approx(len(in_span) / len(own))
        assert f.containment >= index.threshold
        assert e - s - SHINGLE_BYTES <= index.reach[qi] + 3  # a window, plus whole characters
        assert len(in_span) <= _oracle_best(doc, own, int(index.reach[qi]))
        assert 0 <= f.estimate <= 1
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10 ** 6), st.sampled_from(["swap", "numbers"]), st.integers(20, 35))
def test_a_planted_near_copy_is_found_and_measured(seed, how, n_words):
    rng = random.Random(seed)
    questions = [question(rng, n_words) for _ in range(4)]
    target = rng.randrange(4)
    edited = swap_tenth(questions[target], rng) if how == "swap" else change_numbers(questions[target], rng)
    docs = [filler(rng, 300), filler(rng, 80) + "\n" + edited + "\n" + filler(rng, 80), filler(rng, 50)]
    index = NearDupIndex([(10 + i, 0, normalize(q)) for i, q in enumerate(questions)], threshold=0.5)
    found = _check_against_oracle(index, questions, [normalize(d).encode() for d in docs])
    assert [(f.doc, f.group) for f in found] == [(1, 10 + target)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10 ** 6), st.lists(st.sampled_from(["filler", "copy", "half", "mixed"]), min_size=1,
                                         max_size=6), st.floats(0.3, 0.9))
def test_every_near_match_is_measured_on_the_text_and_batching_changes_nothing(seed, kinds, threshold):
    rng = random.Random(seed)
    questions = [question(rng, 22) for _ in range(3)]
    docs = []
    for kind in kinds:
        q = rng.choice(questions)
        words = q.split(" ")
        docs.append({"filler": filler(rng, 60), "copy": swap_tenth(q, rng),
                     "half": " ".join(words[: len(words) // 2]) + " " + filler(rng, 20),
                     "mixed": " ".join(w if rng.random() < 0.6 else rng.choice(FILLER_WORDS) for w in words)}[kind])
    index = NearDupIndex([(i, 0, normalize(q)) for i, q in enumerate(questions)], threshold=threshold)
    normalized = [normalize(d).encode() for d in docs]
    together = _check_against_oracle(index, questions, normalized)
    alone = [dataclasses.replace(f, doc=k) for k, d in enumerate(normalized)
             for f in index.find(d, np.array([0, len(d)]))]
    assert together == alone


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.text("abcAB1 é", max_size=40)), max_size=25), st.integers(1, 8))
def test_distinctive_shingles_are_the_brute_force_ones(questions, k):
    encoded = [normalize(q).encode() for _, q in questions]
    benches = [b for b, _ in questions]
    grams, bounds = distinctive_shingles(encoded, benches, k)
    sets = [set(shingles(q, k).tolist()) for q in encoded]
    for i, (b, _) in enumerate(questions):
        members = [j for j, bj in enumerate(benches) if bj == b]
        limit = min(COMMON_MAX, max(COMMON_MIN, COMMON_SHARE * len(members)))
        want = sorted(g for g in sets[i] if sum(g in sets[j] for j in members) <= limit)
        got = grams[bounds[i]:bounds[i + 1]]
        assert sorted(got.tolist()) == want
        assert (np.diff(mixed(got)) > 0).all()  # kept in the order of mixed, which _measure searches


def test_boilerplate_is_counted_within_each_benchmark_and_short_items_are_left_out():
    rng = random.Random(1)
    stem = "Which of the following statements best describes the "
    mmlu_like = [stem + " ".join(rng.sample(QUESTION_WORDS, 12)) for _ in range(30)]
    other = [" ".join(rng.sample(QUESTION_WORDS, 20)) for _ in range(3)] + [stem]
    alone = NearDupIndex([(i, 0, normalize(q)) for i, q in enumerate(mmlu_like)])
    both = NearDupIndex([(i, 0, normalize(q)) for i, q in enumerate(mmlu_like)]
                        + [(100 + i, 1, normalize(q)) for i, q in enumerate(other)])
    stem_grams = set(shingles(normalize(stem).encode()).tolist())
    for qi in range(len(alone)):
        assert not _distinctive(alone, qi) & stem_grams  # the shared stem is the benchmark's boilerplate
        assert _distinctive(alone, qi) == _distinctive(both, qi)  # the other benchmark changes nothing
    assert 100 + 3 not in both.groups.tolist()  # the stem alone: too few shingles, left to the exact rule
    assert all(len(_distinctive(both, qi)) >= MIN_SHINGLES for qi in range(len(both)))


# ------------------------------------------------------------------------------------------- the API


def _bench(rng: random.Random, n: int = 4, words: int = 24) -> tuple[Benchmark, list[str]]:
    qs = [question(rng, words) for _ in range(n)]
    return Benchmark.from_items("demo", [Item(f"q{i}", q) for i, q in enumerate(qs)]), qs


def _without_near(report: dict) -> dict:
    """A near-dup report less what only the pass adds (its own fields, and the documents it removes from the
    kept count), to compare with the report of the same check without it."""
    d = copy.deepcopy(report)
    for key in ("near_dup", "near_dup_threshold"):
        d["config"].pop(key, None)
    d.pop("near_dup", None)
    for b in d["benchmarks"]:
        for key in ("n_near_duplicates", "near_duplicate_rate", "near_duplicate_ids", "n_near_dup_unchecked",
                    "near_dup_unchecked_ids"):
            b.pop(key)
        for it in b["items"]:
            it.pop("near_dup_unchecked", None)
            if it.pop("near_matches", None) and not it["matches"]:
                it.pop("question")
    t = d["training"]
    t["n_kept"] += t.pop("n_removed_near_dup")
    t.pop("near_removed")
    for s in t["by_source"]:
        s["n_kept"] += s.pop("n_removed_near_dup")
    return d


def _corpus(rng: random.Random, qs: list[str], n_docs: int) -> list[str]:
    docs = []
    for _ in range(n_docs):
        q = rng.choice(qs)
        docs.append(rng.choice([filler(rng, 40), q, swap_tenth(q, rng), change_numbers(q, rng),
                                filler(rng, 10) + " " + swap_tenth(q, rng) + " " + filler(rng, 10)]))
    return docs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10 ** 6), st.integers(1, 12))
def test_the_exact_result_is_the_same_with_the_pass_on(validate_report, seed, n_docs):
    rng = random.Random(seed)
    bench, qs = _bench(rng)
    docs = _corpus(rng, qs, n_docs)
    plain_kept, plain = filter_dataset(docs, [bench], return_report=True, progress=False)
    near_kept, near = filter_dataset(docs, [bench], return_report=True, progress=False, near_dup=True)
    validate_report(near.data)
    validate_report(plain.data)
    assert _without_near(near.data) == plain.data
    rows = {r["row"] for r in near.data["training"]["near_removed"]}
    assert len(rows) == near.data["training"]["n_removed_near_dup"]
    removed = {r["row"] for r in plain.data["training"]["removed"]}
    assert not rows & removed  # counted apart: documents the exact rule does not remove
    assert near_kept == [d for k, d in enumerate(docs) if k not in removed | rows]
    assert plain_kept == [d for k, d in enumerate(docs) if k not in removed]
    for b in near.data["benchmarks"]:
        exact = set(b["contaminated_ids"])
        for it in b["items"]:
            for m in it.get("near_matches", []):
                assert m["containment"] >= m["threshold"] == 0.5
                # a near match is a document where the exact rule did not find the item
                assert m["row"] not in {x["row"] for x in it["matches"]}
            assert (it["id"] in b["near_duplicate_ids"]) == bool(it.get("near_matches") and it["id"] not in exact)


def test_a_near_copy_the_rule_misses_is_reported_apart_with_its_evidence(validate_report):
    q = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How "
         "many clips did Natalia sell altogether in April and May?")
    bench = Benchmark.from_items("gsm", [Item(1, q), Item(2, "Something else entirely, " * 5)])
    doc = "notes\n" + q.replace("48", "52").replace("clips in May", "pins in May").replace("altogether", "in all")
    report = check(["nothing here", doc], [bench], progress=False, near_dup=True, near_dup_threshold=0.6)
    validate_report(report.data)
    b = report.benchmark("gsm")
    assert b["contaminated_ids"] == [] and b["near_duplicate_ids"] == [1] and b["n_near_duplicates"] == 1
    (m,) = b["items"][0]["near_matches"]
    assert (m["doc_id"], m["row"], m["threshold"]) == (1, 1, 0.6) and m["containment"] >= 0.6
    ev = m["evidence"]
    assert ev["excerpt"][ev["highlight"][0]:ev["highlight"][1]].startswith("Natalia sold clips to 52")
    assert report.data["config"]["near_dup"] is True and report.data["config"]["near_dup_threshold"] == 0.6
    assert report.data["training"]["n_removed_near_dup"] == 1 and report.data["training"]["n_kept"] == 1
    assert "estimate" in report.data["near_dup"]["note"]
    assert "Near duplicates" in report.to_markdown()


def test_without_the_pass_the_report_and_fingerprint_are_unchanged():
    cfg = make_config(near_dup=False)
    assert "near_dup" not in cfg.to_dict() and cfg.fingerprint() == DecontamConfig().fingerprint()
    on = make_config(near_dup=True)
    assert on.to_dict()["near_dup"] is True and on.fingerprint() != cfg.fingerprint()
    assert DecontamConfig.from_dict(on.to_dict()) == on
    with pytest.raises(ConfigError, match=r"near_dup_threshold .* must be a number in \(0, 1\]"):
        make_config(near_dup=True, near_dup_threshold=0)
    with pytest.raises(ConfigError, match="turn the pass on"):
        make_config(near_dup_threshold=0.7)
    with pytest.raises(ConfigError, match="not supported"):
        make_config(near_dup=True, action="redact")


def test_answer_probes_and_the_pass_together_count_each_document_once(validate_report):
    """A document holding an answer probe (removed, counted apart) and a near copy of a question is counted once,
    with the answer; n_kept adds up."""
    rng = random.Random(11)
    qs = [question(rng, 24) for _ in range(2)]
    answer = "def solution(values):\n    return sorted(set(values), key=lambda v: (-v, str(v)))[:3]\n"
    bench = Benchmark.from_items("demo", [Item("q0", qs[0], answer=answer), Item("q1", qs[1])])
    edited = " ".join("zz" if i % 6 == 5 else w for i, w in enumerate(qs[1].split(" ")))
    docs = [filler(rng, 30), edited, edited + "\n" + answer, filler(rng, 30) + answer]
    kept, report = filter_dataset(docs, [bench], return_report=True, progress=False, near_dup=True,
                                  probe_answers=True)
    validate_report(report.data)
    t = report.data["training"]
    assert (t["n_removed"], t["n_removed_answer_only"], t["n_removed_near_dup"]) == (0, 2, 1)
    assert kept == [docs[0]] and t["n_kept"] == 1
    (item,) = [it for it in report.benchmark("demo")["items"] if it["id"] == "q1"]
    assert [m["row"] for m in item["near_matches"]] == [1, 2]


def test_one_process_and_two_and_shards_give_the_same_report(tmp_path, validate_report):
    rng = random.Random(5)
    bench, qs = _bench(rng, n=6)
    docs = _corpus(rng, qs, 60)
    paths = []
    for k in range(3):
        p = tmp_path / f"part{k}.jsonl"
        p.write_text("".join(json.dumps({"id": f"d{k}-{i}", "text": d}) + "\n" for i, d in enumerate(docs[k::3])))
        paths.append(p)
    one = check(paths, [bench], progress=False, near_dup=True)
    validate_report(one.data)
    assert one.data["training"]["n_removed_near_dup"] > 0
    assert any(it.get("near_matches") for b in one.benchmarks for it in b["items"])
    two = check(paths, [bench], progress=False, near_dup=True, num_proc=2)
    assert two.to_json() == one.to_json()
    merged = Report.merge([check([p], [bench], progress=False, near_dup=True) for p in paths])
    assert merged.to_json() == one.to_json()
    out = tmp_path / "out"
    filtered = filter_files(paths, [bench], out, progress=False, near_dup=True, num_proc=2)
    kept = [json.loads(line)["id"] for p in sorted(out.iterdir()) for line in p.read_text().splitlines()]
    gone = {r["doc_id"] for r in filtered.data["training"]["removed"] + filtered.data["training"]["near_removed"]}
    assert kept == [f"d{k}-{i}" for k in range(3) for i in range(len(docs[k::3])) if f"d{k}-{i}" not in gone]
    assert len(kept) == filtered.data["training"]["n_kept"]


def test_a_file_read_in_parts_gives_the_one_process_report(tmp_path, monkeypatch):
    """Every core on one file (parts of about 300 bytes, each scanned by a worker): the same near matches."""
    from decontam.inputs import files

    rng = random.Random(6)
    bench, qs = _bench(rng, n=5)
    docs = _corpus(rng, qs, 40)
    path = tmp_path / "one.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    one = check([path], [bench], progress=False, near_dup=True)
    assert one.data["training"]["n_removed_near_dup"] > 0
    monkeypatch.setattr(files, "RANGE_MIN_BYTES", 1)
    monkeypatch.setattr(files, "PART_MAX_BYTES", 300)
    assert check([path], [bench], progress=False, near_dup=True, num_proc=2).to_json() == one.to_json()
    out = tmp_path / "out.jsonl"
    filter_files([path], [bench], out, progress=False, near_dup=True, num_proc=2)
    gone = {r["row"] for r in one.data["training"]["removed"] + one.data["training"]["near_removed"]}
    assert out.read_text().splitlines() == [json.dumps({"text": d}) for k, d in enumerate(docs) if k not in gone]


def test_an_index_or_a_portrait_refuses_the_pass(tmp_path):
    from decontam import build_index

    bench, _ = _bench(random.Random(2))
    index = build_index(["some text", "more text"], tmp_path / "idx", progress=False)
    with pytest.raises(ConfigError, match="near-duplicate pass"):
        index.check([bench], near_dup=True)
    with pytest.raises(ConfigError, match="near_dup is an option of a check"):
        build_index(["x"], tmp_path / "idx2", progress=False, near_dup=True)


def test_rows_of_several_fields_name_the_field_of_their_near_match(validate_report):
    rng = random.Random(9)
    bench, qs = _bench(rng)
    edited = " ".join("zz" if i % 6 == 5 else w for i, w in enumerate(qs[0].split(" ")))  # no probe survives
    rows = [{"prompt": filler(rng, 30), "response": edited}, {"prompt": "x", "response": "y"}]
    report = check(rows, [bench], progress=False, near_dup=True, text_field=["prompt", "response"])
    validate_report(report.data)
    assert report.benchmark("demo")["contaminated_ids"] == []
    (m,) = report.benchmark("demo")["items"][0]["near_matches"]
    assert m["field"] == "response" and m["row"] == 0 and "field" not in m["evidence"]


def test_normalize_many_and_the_pass_agree_on_non_ascii_spans():
    """Spans are on character boundaries: a shingle can start inside a character of several bytes."""
    q = "Ünïcödé qüestiön àbout the çafé wïth 12 tàbles ând ëach tàble hâs fôur chäirs; hôw mâny chäirs ïn all?"
    index = NearDupIndex([(0, 0, normalize(q))], threshold=0.5)
    doc = ("préface " * 5 + q.replace("12", "13") + " fin").encode()
    data, offsets = normalize_many(doc, np.array([0, len(doc)]))
    (f,) = index.find(data, offsets)
    s, e = f.span
    data[s:e].decode("utf-8")  # whole characters
