"""Tests of decontam.report: the schema, (de)serialization, determinism, fingerprints, queries, Markdown."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import Report, check, filter_files
from decontam.benchmarks import Benchmark, Item
from decontam.errors import OutputExistsError
from decontam.report import SCHEMA_VERSION, report_schema

Q1 = ("Write a function `rotate(xs, k)` that returns the list xs rotated to the right by k positions, "
      "where k may exceed len(xs).")
Q2 = "Déterminez la dérivée de la fonction f(x) = x² · sin(x) sur l'intervalle ouvert ]0, π[ et concluez."
Q3 = "2 + 2 = ?"
DOCS = [
    {"id": "a", "text": "nothing to see"},
    {"id": "b", "text": "copied: " + Q1.replace(" ", "\n")},
    {"id": "c", "text": "22 and " + Q2},
    {"id": "d", "text": Q1 + " " + Q1},
]


def bench() -> Benchmark:
    return Benchmark.from_items("demo", [Item("q1", Q1), Item("q2", Q2), Item("q3", Q3), Item("q4", "?!")])


@pytest.fixture(scope="module")
def report() -> Report:
    return check(DOCS, [bench()], progress=False)


# ------------------------------------------------------------------------------------------------ schema


def test_report_schema_is_the_shipped_file_and_a_valid_schema():
    jsonschema = pytest.importorskip("jsonschema")  # (only here and in validate_report: the rest runs without it)
    shipped = Path(__file__).resolve().parents[2] / "decontam" / "schema" / "report.schema.json"
    schema = report_schema()
    assert schema == json.loads(shipped.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


@pytest.fixture(scope="module")
def documents(tmp_path_factory, report) -> list[dict]:
    """Reports of every kind: a check, a filter with rejected rows, an index check and a portrait check."""
    from decontam.index import CorpusIndex, Portrait

    tmp = tmp_path_factory.mktemp("docs")
    (tmp / "c.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    ix = CorpusIndex.build([tmp / "c.jsonl"], tmp / "ix", progress=False)
    portrait = Portrait.load(ix.export_portrait(tmp / "p.dcp"))
    filtered = check(DOCS + [{"text": 5}], [bench()], progress=False, on_error="skip", lowercase=True)
    return [report.to_dict(), filtered.to_dict(), ix.check([bench()]).to_dict(), portrait.check([bench()]).to_dict()]


def _places(doc, at=()):
    """Every (container, key) in a document: where a value can be replaced or removed."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield at + (key,)
        yield from _places(value, at + (key,))


_json = st.recursive(st.none() | st.booleans() | st.integers(-2, 2**40) | st.floats(-1, 2, allow_nan=False) |
                     st.text(max_size=4) | st.sampled_from(["sha256:" + "0" * 64, "0" * 64, "decontam", "check",
                                                            "filter", "text", "raise"]),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                 max_size=3), max_leaves=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_schema_problem_agrees_with_jsonschema_on_edited_reports(documents, data):
    """The check ``report``, ``rescore``, ``verify`` and ``merge`` use to say how a report was edited: it finds a
    problem exactly when jsonschema (the oracle) finds the document invalid, for a value replaced by any JSON
    value, one copied from elsewhere in a report, a field removed, or a list element repeated."""
    jsonschema = pytest.importorskip("jsonschema")
    from decontam.schema_check import schema_problem

    schema = report_schema()
    validator = jsonschema.Draft202012Validator(schema)
    doc = copy.deepcopy(data.draw(st.sampled_from(documents)))
    assert schema_problem(doc, schema) is None
    for _ in range(data.draw(st.integers(1, 2))):
        *parents, key = data.draw(st.sampled_from(list(_places(doc))))  # (of the document as edited so far)
        holder = doc
        for k in parents:
            holder = holder[k]
        how = data.draw(st.sampled_from(["any", "copy", "remove", "repeat"]))
        if how == "remove" and isinstance(holder, dict):
            del holder[key]
            break
        if how == "repeat" and isinstance(holder, list):
            holder.append(copy.deepcopy(holder[key]))
            break
        if how == "copy":
            source = documents[0]
            for k in data.draw(st.sampled_from(list(_places(source)))):
                source = source[k]
            holder[key] = copy.deepcopy(source)
        else:
            holder[key] = data.draw(_json)
    problem = schema_problem(doc, schema)
    assert (problem is None) == validator.is_valid(doc), (problem, next(validator.iter_errors(doc), None))
    if problem is not None:
        assert problem.startswith("at ")


@pytest.mark.parametrize(
    "options",
    [{}, {"probes": "all"}, {"lowercase": True, "nfkc": True, "unescape": True, "seed": 3},
     {"probe_length": 8, "probes": 1}, {"method": "ngram13"}],
    ids=["GPT-4 rule", "all windows", "every departure", "short probes", "13-gram rule"],
)
def test_reports_validate_against_the_schema(validate_report, options):
    r = check(DOCS + [{"text": 5}], [bench()], progress=False, on_error="skip", **options)
    validate_report(r.data)
    validate_report(json.loads(r.to_json()))
    assert r.data["corpus"]["n_rejected"] == 1


# (description, mutation) — each makes a valid report invalid, so the schema is known to bite
BREAKAGES = [
    ("no training section", lambda d: d.pop("training")),
    ("another schema version", lambda d: d.update(schema_version=2)),
    ("fingerprint without sha256: prefix", lambda d: d["corpus"].update(fingerprint="abc")),
    ("unknown action", lambda d: d["config"].update(action="dance")),
    ("unknown method", lambda d: d["config"].update(method="ngram12")),
    ("doc id that is a list", lambda d: d["training"]["removed"][0].update(doc_id=[1])),
    ("negative count", lambda d: d["training"].update(n_kept=-1)),
    ("rate above 1", lambda d: d["benchmarks"][0].update(contamination_rate=1.5)),
    ("item without probes", lambda d: d["benchmarks"][0]["items"][0].pop("probes")),
    ("span of three numbers", lambda d: d["benchmarks"][0]["items"][0]["matches"][0].update(span=[1, 2, 3])),
]


@pytest.mark.parametrize("mutate", [b[1] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_the_schema_rejects_broken_reports(validate_report, report, mutate):
    broken = copy.deepcopy(report.data)
    validate_report(broken)
    mutate(broken)
    with pytest.raises(AssertionError, match="does not match its schema"):
        validate_report(broken)


# ------------------------------------------------------------------------------------------ serialization


def test_documents_as_strings_or_dicts_give_the_same_compact_utf8_report_without_timestamps():
    """A list of strings and a list of ``{"text": ...}`` dicts (no ids: both name documents by row) give the
    same bytes. (Byte-identical reports across processes, seeds and workers: tests/integration/test_determinism.py.)"""
    first = check([d["text"] for d in DOCS], [bench()], progress=False).to_json()
    second = check([{"text": d["text"]} for d in DOCS], [bench()], progress=False).to_json()
    assert first == second
    assert json.loads(first)["training"]["n_removed"] == 3  # what is compared found something
    assert first.endswith("}\n") and "\n" not in first[:-1]
    assert "dérivée" in first  # UTF-8, not \u escapes
    assert "time" not in json.loads(first)["corpus"] and "date" not in json.loads(first)["tool"]


def test_save_writes_atomically_with_ordinary_permissions_and_load_round_trips(tmp_path, report):
    dest = tmp_path / "sub" / "report.json"
    assert report.save(dest) == dest
    assert dest.read_text("utf-8") == report.to_json()
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    assert Report.load(dest).data == report.data
    dest.write_text("old")
    with pytest.raises(OutputExistsError):
        report.save(dest)  # an existing file is replaced only when asked
    assert dest.read_text() == "old"
    report.save(dest, overwrite=True)
    assert Report.load(dest).data == report.data
    assert sorted(p.name for p in dest.parent.iterdir()) == ["report.json"]  # no temporary left behind


def test_corpus_fingerprint_is_the_documented_digest():
    texts = [d["text"] for d in DOCS]
    blob = "".join(texts).encode("utf-8")
    lengths = b"".join(len(t.encode("utf-8")).to_bytes(8, "little") for t in texts)
    inner = hashlib.sha256(blob).digest() + hashlib.sha256(lengths).digest()
    r = check(DOCS, [bench()], progress=False)
    assert r.data["corpus"]["fingerprint"] == "sha256:" + hashlib.sha256(inner).hexdigest()
    # ids and other fields do not enter it; the text and the order do
    renamed = [{"id": d["id"] + "!", "text": d["text"], "x": 1} for d in DOCS]
    assert check(renamed, [bench()], progress=False).data["corpus"]["fingerprint"] == r.data["corpus"]["fingerprint"]
    swapped = [DOCS[1], DOCS[0], *DOCS[2:]]
    assert check(swapped, [bench()], progress=False).data["corpus"]["fingerprint"] != r.data["corpus"]["fingerprint"]
    split = [{"text": "ab"}, {"text": "c"}]
    joined = [{"text": "a"}, {"text": "bc"}]
    assert (check(split, [bench()], progress=False).data["corpus"]["fingerprint"]
            != check(joined, [bench()], progress=False).data["corpus"]["fingerprint"])


def test_benchmark_fingerprint_is_the_documented_digest(report):
    b = bench()
    blob = json.dumps([[it.id, it.question] for it in b.items], ensure_ascii=False).encode("utf-8")
    assert report.benchmark("demo")["fingerprint"] == "sha256:" + hashlib.sha256(blob).hexdigest()


# ----------------------------------------------------------------------------------------------- queries


def test_queries(report):
    assert report.contaminated_ids("demo") == ["q1", "q2", "q3"]
    assert report.clean_ids("demo") == ["q4"]  # normalizes to nothing: never contaminated
    section = report.benchmark("demo")
    assert section["n_empty"] == 1 and section["items"][3]["empty"] is True
    assert section["contamination_rate"] == 0.75
    assert report.n_removed == 3
    assert report.removed_doc_ids == ["b", "c", "d"]  # corpus order, each once ("c" holds q2 and q3)
    assert [(r["doc_id"], r["item_id"]) for r in report.data["training"]["removed"]] == [
        ("b", "q1"), ("c", "q2"), ("c", "q3"), ("d", "q1")]
    assert report.data["training"]["n_kept"] == 1
    assert [b["name"] for b in report.benchmarks] == ["demo"]
    report.benchmarks.clear()  # a copy: the report is untouched
    assert report.benchmarks
    with pytest.raises(KeyError, match="no benchmark 'gsm8k'.*demo"):
        report.benchmark("gsm8k")
    q1 = section["items"][0]
    assert len(q1["probes"]) == 3 and all(len(p) == 50 for p in q1["probes"])
    assert [m["doc_id"] for m in q1["matches"]] == ["b"] * 3 + ["d"] * 3  # one per (probe, document)
    assert section["items"][2]["probes"] == ["22"]  # short question used whole


def test_a_report_is_a_value_its_dicts_are_copies():
    """from_dict and to_dict copy: changing the dict given or the dict returned leaves the report as it was."""
    data = {"schema_version": 1, "benchmarks": [{"name": "b", "contaminated_ids": [1], "clean_ids": []}]}
    r = Report.from_dict(data)
    data["benchmarks"][0]["contaminated_ids"].append(2)
    out = r.to_dict()
    out["benchmarks"][0]["clean_ids"].append(3)
    assert r.contaminated_ids("b") == [1] and r.clean_ids("b") == []
    assert out == {"schema_version": 1, "benchmarks": [{"name": "b", "contaminated_ids": [1], "clean_ids": [3]}]}
    assert r.n_removed == 0 and r.removed_doc_ids == []


# ---------------------------------------------------------------------------------------------- Markdown


def test_markdown_summary(report):
    md = report.to_markdown()
    assert md.startswith("# Contamination report")
    assert "| demo | 4 | 3 | 75.00% |" in md
    assert "none (GPT-4 rule)" in md and "seed 0" in md and "3 seeded random 50-character" in md
    assert report.data["corpus"]["fingerprint"] in md
    assert "3 of 4" in md
    departures = check(DOCS, [bench()], progress=False, lowercase=True, probes="all").to_markdown()
    assert "lowercase" in departures and "none (GPT-4 rule)" not in departures
    assert "every window" in departures
    skipped = check(DOCS + [{"id": "e"}], [bench()], progress=False, on_error="skip").to_markdown()
    assert "Rejected input rows (skipped): 1." in skipped


def test_empty_questions_are_a_warning_and_a_run_with_no_probe_at_all_is_refused():
    """An item whose question normalizes to nothing counts as clean (it can never be found), which the report's
    ``empty_questions`` warning now says; ``require_probes`` (the command line's check before reading the
    corpus) refuses exactly the runs whose report would hold no item with a probe."""
    from decontam.config import DecontamConfig
    from decontam.errors import ConfigError
    from decontam.scan.probes import require_probes

    rep = check(DOCS, [bench()], progress=False)
    (warning,) = [w for w in rep.data["warnings"] if w["kind"] == "empty_questions"]
    assert warning["benchmarks"] == ["demo"] and "demo (1 of 4)" in warning["message"]
    cases = [
        ([bench()], DecontamConfig(), False),
        ([Benchmark.from_items("e", [Item(1, "?!"), Item(2, "")])], DecontamConfig(), True),
        ([Benchmark.from_items("e", [Item(1, "?!")]), bench()], DecontamConfig(), False),
        ([bench()], DecontamConfig.from_dict({"sample": {"min_question_chars": 10**6}}), True),
        ([Benchmark.from_items("w", [Item(1, "only four words here")])], DecontamConfig.from_dict(
            {"method": "ngram13"}), True),
    ]
    for benches, cfg, refused in cases:
        report = check(DOCS, benches, cfg, progress=False)
        with_probe = [it for b in report.data["benchmarks"] for it in b["items"] if it["n_probes"]]
        assert (not with_probe) == refused
        if refused:
            with pytest.raises(ConfigError, match="no item of the benchmarks has a probe, so nothing would be "):
                require_probes(benches, cfg)
        else:
            require_probes(benches, cfg)


def test_ids_json_cannot_hold_are_named_not_fatal_and_bad_items_are_refused(tmp_path):
    """A document id of NaN (Python's json reads it from a JSONL line) made the report unwritable after the
    whole scan: it is held as the text ``"nan"``. A benchmark item whose id is not a str or int (a tuple, NaN, a
    bool), or whose question or answer is not a str, is refused where it is built, naming it; a numpy integer
    id is its int."""
    import math

    import numpy as np

    from decontam.errors import ConfigError

    q = "Write a function that returns the sum of two integers given as its two arguments."
    (tmp_path / "n.jsonl").write_text('{"text": "a ' + q + '", "id": NaN}\n{"text": "b", "id": Infinity}\n')
    b = Benchmark.from_items("x", [Item(1, q)])
    for corpus in (tmp_path / "n.jsonl", [{"text": "a " + q, "id": math.nan}, {"text": "b", "id": math.inf}]):
        rep = check(corpus, [b], progress=False)
        assert [r["doc_id"] for r in rep.data["training"]["removed"]] == ["nan"]
        assert json.loads(rep.to_json())["training"]["removed"][0]["doc_id"] == "nan"
    assert Benchmark.from_items("x", zip(np.arange(2), ["q1", "q2"])).items[1].id == 1
    for bad, words in ((Item((1, 2), q), "item id (1, 2) is a tuple"), (Item(math.nan, q), "item id nan is a float"),
                       (Item(True, q), "item id True is a bool"), (Item(1, 123), "item 1: its question is a int"),
                       (Item(1, b"q"), "its question is a bytes"), (Item(1, q, answer=5), "its answer is a int")):
        with pytest.raises(ConfigError, match=re.escape(words)):
            Benchmark.from_items("x", [bad])


def test_benchmarks_given_as_a_tuple_or_a_generator(tmp_path):
    """A tuple of benchmarks was read as one ``(name, path)`` pair (IndexError, AttributeError), and a generator
    given to ``filter_files`` was used up by the output checks ("no benchmark given"): each is read as the list
    of its benchmarks; a ``(name, path)`` pair still is one benchmark."""
    q = "Write a function that returns the sum of two integers given as its two arguments."
    b, b2 = Benchmark.from_items("x", [Item(1, q)]), Benchmark.from_items("y", [Item(1, "Name every prime below 100.")])
    assert check(["a " + q], (b,), progress=False).contaminated_ids("x") == [1]
    assert [s["name"] for s in check(["a " + q], (b, b2), progress=False).data["benchmarks"]] == ["x", "y"]
    (tmp_path / "c.jsonl").write_text(json.dumps({"text": "a " + q}) + "\n" + json.dumps({"text": "b"}) + "\n")
    rep = filter_files([tmp_path / "c.jsonl"], (x for x in [b]), tmp_path / "o.jsonl", progress=False)
    assert rep.n_removed == 1 and (tmp_path / "o.jsonl").read_text() == '{"text": "b"}\n'
    (tmp_path / "b.jsonl").write_text(json.dumps({"q": q}) + "\n")
    rep = check(["a " + q], ("mine", tmp_path / "b.jsonl"), question_field="q", progress=False)
    assert rep.contaminated_ids("mine") == [0]
    rep = check(["a " + q], ("mine", str(tmp_path / "b.jsonl")), question_field="q", progress=False)
    assert rep.contaminated_ids("mine") == [0]


def test_load_benchmark_refuses_a_field_that_is_not_a_name(tmp_path):
    """``id_field=5`` raised an AttributeError from inside the reader."""
    from decontam import load_benchmark
    from decontam.errors import ConfigError

    (tmp_path / "b.jsonl").write_text(json.dumps({"q": "What is the capital of France, and why?", "k": 1}) + "\n")
    for fields in ({"question_field": "q", "id_field": 5}, {"question_field": ""}, {"question_field": ["q"]}):
        with pytest.raises(ConfigError, match="fields are names"):
            load_benchmark("m", tmp_path / "b.jsonl", **fields)
    assert load_benchmark("m", tmp_path / "b.jsonl", question_field="q", id_field="k").items[0].id == 1


def test_the_markdown_summary_never_rounds_a_rate_to_all_or_none():
    """19,999 of 20,000 items read "100.00%" in the summary `decontam check` prints (and 1 of 200,000 "0.00%"):
    the rate is now ">99.99%" / "<0.01%" unless it is exactly all or none."""
    from decontam import check
    from decontam.benchmarks import Benchmark, Item

    q = "Write a function that returns the sum of two integers given as arguments."
    report = check([q], [Benchmark.from_items("b", [Item(1, q)])], progress=False)
    section = report.data["benchmarks"][0]
    for n_items, n_hit, shown in ((20_000, 19_999, "| >99.99% |"), (200_000, 1, "| <0.01% |"), (4, 4, "| 100.00% |"),
                                  (4, 0, "| 0.00% |"), (3, 1, "| 33.33% |")):
        section.update(n_items=n_items, n_contaminated=n_hit, contamination_rate=n_hit / n_items)
        assert f"| b | {n_items} | {n_hit} {shown}" in report.to_markdown()
