"""Tests of decontam.filter: ``filter_dataset`` and ``check`` on every supported input kind.

The property tests draw random benchmarks and corpora (planted questions, re-spaced and re-punctuated copies,
near misses, unrelated noise) and hold each result to a brute-force oracle (``contamination_oracle`` and
``assert_report_exact`` in conftest.py): a row is removed if and only if one of the probes listed in the report
is a substring of the normalized row, and those probes are the ones ``sample_item`` draws (the sampler is held to
its own oracle, ``random.Random.sample``, in test_sample.py).
"""

from __future__ import annotations

import json
import re
import tempfile
import warnings
from pathlib import Path

import datasets  # a core dependency: if it is missing, fail rather than skip the oracle tests with it
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import Report, check, filter_dataset
from decontam.benchmarks import Benchmark, Item
from decontam.config import DecontamConfig, NormalizeConfig, make_config
from decontam.errors import BenchmarkNotFoundError, ConfigError, InputError

Q_LONG = (
    "A farmer has 17 sheep and buys 5 more each week. After how many weeks will the farmer have "
    "exactly 62 sheep in the field?"
)
Q_CODE = (
    "Write a function `rotate(xs, k)` that returns the list xs rotated to the right by k positions, "
    "where k may exceed len(xs)."
)
Q_SHORT = "2 + 2 = ?"  # normalizes to '22': used whole


def bench(*questions: str, name: str = "demo") -> Benchmark:
    return Benchmark.from_items(name, [Item(f"q{i}", q) for i, q in enumerate(questions)])


def unlabelled(training: dict) -> dict:
    """A training section with its per-source counts but not the sources' labels (``<list>``, ``<table>``)."""
    return {**training, "by_source": [{k: v for k, v in s.items() if k != "source"} for s in training["by_source"]]}


def options(report: Report) -> NormalizeConfig:
    return NormalizeConfig(**report.data["config"]["normalize"])


# ------------------------------------------------------------------------------ strategies for the oracle

# Tokens, not characters: multi-character escapes and entities (for --unescape), letters that change under
# NFKC or lowercasing (some of them changing length), combining marks, digits, and the separators the GPT-4
# rule strips.
LETTERS = ["a", "b", "ab", "ba", "A", "B", "0", "1", "7", "é", "É", "ß", "Ω", "ω", "\u0301", "ﬁ", "①", "２",
           "İ", "n", "u"]
SEPARATORS = [" ", "  ", ",", ".", "\n", "\t", "-", "_", "\u00a0", "\\n", "\\", "&amp;", "&#39;", "\\u00e9",
              "'", "$", "(", ")"]
token = st.sampled_from(LETTERS + SEPARATORS)
separator = st.sampled_from(SEPARATORS)
text = st.lists(token, max_size=40).map("".join)


@st.composite
def corpora(draw, max_docs: int = 8):
    """(questions, docs, config options): docs mix noise, planted questions (re-spaced), and near misses."""
    questions = draw(st.lists(st.lists(token, min_size=0, max_size=60).map("".join), min_size=1, max_size=4))
    docs = []
    for _ in range(draw(st.integers(0, max_docs))):
        parts = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["noise", "plant", "respaced", "near-miss", "slice"]))
            q = draw(st.sampled_from(questions))
            if kind == "noise" or not q:
                parts.append(draw(text))
            elif kind == "plant":
                parts.append(q)
            elif kind == "respaced":  # separators inserted between characters: same normalized text
                sep = draw(separator)
                parts.append("".join(c + (sep if draw(st.booleans()) else "") for c in q))
            elif kind == "near-miss":  # one character replaced
                i = draw(st.integers(0, len(q) - 1))
                parts.append(q[:i] + draw(st.sampled_from(LETTERS)) + q[i + 1 :])
            else:
                i = draw(st.integers(0, len(q)))
                j = draw(st.integers(i, len(q)))
                parts.append(q[i:j])
        docs.append(draw(separator).join(parts))
    opts = {
        "probe_length": draw(st.sampled_from([1, 3, 5, 15, 16, 17, 50])),
        "probes": draw(st.sampled_from([1, 2, 3, "all"])),
        "seed": draw(st.integers(0, 3)),
        "lowercase": draw(st.booleans()),
        "nfkc": draw(st.booleans()),
        "unescape": draw(st.booleans()),
    }
    return questions, docs, opts


PROPERTY = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_PROPERTY = settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(corpora())
def test_list_of_strings_matches_the_oracle(assert_report_exact, case):
    questions, docs, opts = case
    b = bench(*questions)
    filtered, report = filter_dataset(docs, [b], return_report=True, progress=False, **opts)
    truth = assert_report_exact(report.data, docs, list(range(len(docs))), [b])
    assert filtered == [d for i, d in enumerate(docs) if i not in truth["docs"]]
    assert report.data["config"]["action"] == "filter"
    # check() gives the same verdicts (it only reports, nothing else differs but the action)
    checked = check(docs, [b], progress=False, **opts)
    assert checked.data["benchmarks"] == report.data["benchmarks"]
    assert checked.data["training"] == report.data["training"]
    assert checked.data["config"]["action"] == "check"


@PROPERTY
@given(corpora())
def test_dicts_and_arrow_tables_match_the_oracle(assert_report_exact, case):
    questions, docs, opts = case
    b = bench(*questions)
    ids = [f"doc-{i}" for i in range(len(docs))]
    rows = [{"id": d, "text": t, "n": i} for i, (d, t) in enumerate(zip(ids, docs))]
    kept, report = filter_dataset(rows, [b], return_report=True, progress=False, **opts)
    truth = assert_report_exact(report.data, docs, ids, [b])
    assert kept == [r for r in rows if r["id"] not in truth["docs"]]
    assert all(a is b for a, b in zip(kept, [r for r in rows if r["id"] not in truth["docs"]]))  # rows untouched

    table = pa.table({"text": pa.array(docs, pa.string()), "id": ids, "n": list(range(len(docs)))})
    out, report2 = filter_dataset(table, [b], return_report=True, progress=False, **opts)
    assert isinstance(out, pa.Table) and out.schema == table.schema
    mask = pa.array([d not in truth["docs"] for d in ids], pa.bool_())
    assert out.equals(table.filter(mask))
    assert report2.data["benchmarks"] == report.data["benchmarks"]
    assert unlabelled(report2.data["training"]) == unlabelled(report.data["training"])


@SLOW_PROPERTY
@given(corpora(max_docs=6))
def test_hf_datasets_match_the_oracle(assert_report_exact, case):
    questions, docs, opts = case
    b = bench(*questions)
    ds = datasets.Dataset.from_dict({"text": docs, "n": list(range(len(docs)))},
                                    features=datasets.Features({"text": datasets.Value("string"),
                                                                "n": datasets.Value("int64")}))
    out, report = filter_dataset(ds, [b], return_report=True, progress=False, **opts)
    truth = assert_report_exact(report.data, docs, list(range(len(docs))), [b])
    assert isinstance(out, datasets.Dataset)
    assert out.column_names == ["text", "n"]
    assert out["n"][:] == [i for i in range(len(docs)) if i not in truth["docs"]]

    if not docs:
        return  # datasets cannot make an iterable dataset of no rows
    lazy, lazy_report = filter_dataset(ds.to_iterable_dataset(), [b], return_report=True, progress=False, **opts)
    assert isinstance(lazy, datasets.IterableDataset)
    assert [row["n"] for row in lazy] == out["n"][:]
    assert lazy_report.data["benchmarks"] == report.data["benchmarks"]
    assert unlabelled(lazy_report.data["training"]) == unlabelled(report.data["training"])


@SLOW_PROPERTY
@given(corpora(max_docs=6), st.sampled_from(["jsonl", "parquet"]))
def test_files_match_the_oracle(assert_report_exact, case, fmt):
    questions, docs, opts = case
    b = bench(*questions)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"corpus.{fmt}"
        if fmt == "jsonl":
            lines = [json.dumps({"text": t, "k": i}, ensure_ascii=i % 2 == 0).encode() for i, t in enumerate(docs)]
            src.write_bytes(b"".join(line + b"\n" for line in lines))
        else:
            pq.write_table(pa.table({"text": pa.array(docs, pa.string()), "k": list(range(len(docs)))}), src)
        if not docs:
            with pytest.raises(InputError, match="empty"):
                filter_dataset(src, [b], progress=False, **opts)
            return
        out, report = filter_dataset(src, [b], return_report=True, progress=False, **opts)
        truth = assert_report_exact(report.data, docs, list(range(len(docs))), [b])
        assert out == src.with_name(f"corpus.decontam.{fmt}")
        keep = [i for i in range(len(docs)) if i not in truth["docs"]]
        if fmt == "jsonl":
            assert out.read_bytes() == b"".join(lines[i] + b"\n" for i in keep)
        else:
            assert pq.read_table(out).to_pydict() == {"text": [docs[i] for i in keep], "k": keep}


# -------------------------------------------------------------------------------------- the method, by case

# (description, question, documents, contaminated?)
CASES = [
    ("verbatim inside other text", Q_LONG, ["intro. " + Q_LONG + " outro"], True),
    ("re-wrapped over lines and indented", Q_LONG, [Q_LONG.replace(" ", "\n    ")], True),
    ("punctuation and spacing changed", Q_LONG, [Q_LONG.replace(" ", " ; ").replace("?", " ??")], True),
    ("code question inside a docstring", Q_CODE, ['def f():\n    """' + Q_CODE + '"""\n    pass'], True),
    ("case changed: the GPT-4 rule keeps case", Q_LONG, [Q_LONG.upper()], False),
    ("one letter changed in the middle: near miss", Q_LONG, [Q_LONG.replace("many", "mány")], False),
    ("question split over two documents: matches never span documents", Q_LONG,
     [Q_LONG[:60], Q_LONG[60:]], False),
    ("short question used whole: any document with '22'", Q_SHORT, ["x = 22 + y"], True),
    ("short question, digits apart", Q_SHORT, ["2 3 2"], False),
    ("question that normalizes to nothing never matches", "?!? ...", ["?!? ...", ""], False),
    ("non-ASCII letters are letters", "Ça coûte 12 € — très cher, n'est-ce pas ? Oui, vraiment très, très cher !",
     ["« Ça coûte 12€ : très cher... n’est-ce pas? Oui vraiment très très cher »"], True),
    ("only the answer leaked (answers are never probed)", Q_LONG, ["The farmer has 62 sheep after 9 weeks."], False),
]


@pytest.mark.parametrize(("question", "docs", "contaminated"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_method_cases(question, docs, contaminated):
    b = bench(question)
    report = check(docs, [b], progress=False)
    assert report.contaminated_ids("demo") == (["q0"] if contaminated else [])
    assert report.clean_ids("demo") == ([] if contaminated else ["q0"])
    kept = filter_dataset(docs, [b], progress=False)
    assert (kept != docs) == contaminated


def test_departures_are_options_and_named_in_the_report():
    b = bench(Q_LONG)
    # each change falls inside every 50-character window of the question, so no probe survives it
    docs = [Q_LONG.upper(), "ＡＢＣ " + Q_LONG.replace("many", "ｍａｎｙ"), json.dumps(Q_LONG.replace("many ", "many\n"))]
    plain = check(docs, [b], progress=False)
    assert plain.data["training"]["removed"] == []
    assert plain.data["config"]["normalize"] == {"lowercase": False, "nfkc": False, "unescape": False}
    assert check(docs, [b], progress=False, lowercase=True).removed_doc_ids == [0]
    assert check(docs, [b], progress=False, nfkc=True).removed_doc_ids == [1]
    assert check(docs, [b], progress=False, unescape=True).removed_doc_ids == [2]
    everything = check(docs, [b], progress=False, lowercase=True, nfkc=True, unescape=True)
    assert everything.removed_doc_ids == [0, 1, 2]
    assert everything.data["config"]["normalize"] == {"lowercase": True, "nfkc": True, "unescape": True}


def test_probes_depend_on_the_seed_and_all_mode_takes_every_window():
    b = bench(Q_LONG, Q_CODE)
    r0 = check(["x"], [b], progress=False, seed=0).benchmark("demo")["items"]
    r0_again = check(["y"], [b], progress=False, seed=0).benchmark("demo")["items"]
    r1 = check(["x"], [b], progress=False, seed=1).benchmark("demo")["items"]
    assert [i["probes"] for i in r0] == [i["probes"] for i in r0_again]
    assert [i["probes"] for i in r0] != [i["probes"] for i in r1]
    assert all(len(i["probes"]) == 3 and all(len(p) == 50 for p in i["probes"]) for i in r0)
    every = check(["x"], [b], progress=False, probes="all").benchmark("demo")["items"]
    for entry, q in zip(every, (Q_LONG, Q_CODE)):
        n = len("".join(c for c in q if c.isalnum()))
        assert entry["n_probes"] == n - 50 + 1 and entry["probes"] == []


# ------------------------------------------------------------------------------------- kinds of input


def test_each_kind_comes_back_as_the_same_kind(tmp_path):
    b = bench(Q_LONG)
    docs = ["clean one", "leak: " + Q_LONG, "clean two"]
    assert filter_dataset(docs, [b], progress=False) == ["clean one", "clean two"]
    # a tuple of documents is read as a list of them and comes back as a list, not a tuple
    assert filter_dataset(tuple(docs), [b], progress=False) == ["clean one", "clean two"]
    rows = [{"text": t, "meta": {"i": i}} for i, t in enumerate(docs)]
    assert filter_dataset(rows, [b], progress=False) == [rows[0], rows[2]]
    table = pa.table({"text": docs, "i": [0, 1, 2]})
    assert filter_dataset(table, [b], progress=False).column("i").to_pylist() == [0, 2]
    ds = datasets.Dataset.from_dict({"text": docs, "i": [0, 1, 2]})
    out = filter_dataset(ds, [b], progress=False)
    assert isinstance(out, datasets.Dataset) and out["i"][:] == [0, 2]
    it = filter_dataset(ds.to_iterable_dataset(), [b], progress=False)
    assert isinstance(it, datasets.IterableDataset) and [r["i"] for r in it] == [0, 2]
    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in docs))
    assert filter_dataset(src, [b], progress=False) == tmp_path / "c.decontam.jsonl"
    dest = filter_dataset(str(src), [b], progress=False, output=tmp_path / "out" / "clean.jsonl")
    assert dest == tmp_path / "out" / "clean.jsonl"
    assert dest.read_text().splitlines() == [json.dumps({"text": t}) for t in (docs[0], docs[2])]
    with pytest.raises(ConfigError, match="output"):
        filter_dataset(tmp_path, [b], progress=False)


def test_return_report_gives_the_filtered_object_and_its_report():
    b = bench(Q_LONG, Q_CODE)
    docs = ["a " + Q_CODE, "b", "c " + Q_LONG + Q_CODE]
    out, report = filter_dataset(docs, [b], return_report=True, progress=False)
    assert out == ["b"]
    assert isinstance(report, Report)
    assert report.contaminated_ids("demo") == ["q0", "q1"] and report.clean_ids("demo") == []
    assert report.n_removed == 2 and report.removed_doc_ids == [0, 2]
    assert report.data["training"]["n_kept"] == 1


def test_check_reports_contaminated_and_clean_ids_per_benchmark():
    gsm = Benchmark.from_items("gsm", [Item(0, Q_LONG), Item(1, "Tom reads 20 pages a day for 30 days; how many "
                                                               "pages does he read altogether in that month?")])
    code = Benchmark.from_items("code", [Item("C/0", Q_CODE), Item("C/1", Q_SHORT)])
    report = check([{"text": Q_CODE, "id": "x"}, {"text": "22 " + Q_LONG, "id": "y"}], [gsm, code], progress=False)
    assert [b["name"] for b in report.benchmarks] == ["gsm", "code"]
    assert report.contaminated_ids("gsm") == [0] and report.clean_ids("gsm") == [1]
    assert report.contaminated_ids("code") == ["C/0", "C/1"] and report.clean_ids("code") == []
    assert report.removed_doc_ids == ["x", "y"]
    with pytest.raises(KeyError, match="gsm, code"):
        report.benchmark("nope")


def test_dataset_num_proc_2_gives_the_same_result_as_one_process():
    b = bench(Q_LONG, Q_CODE, Q_SHORT)
    docs = [f"row {i} " + (Q_LONG if i % 17 == 3 else Q_CODE.upper() if i % 5 == 0 else "x") for i in range(300)]
    ds = datasets.Dataset.from_dict({"text": docs, "id": [f"r{i}" for i in range(300)]})
    one, r1 = filter_dataset(ds, [b], return_report=True, progress=False)
    two, r2 = filter_dataset(ds, [b], return_report=True, progress=False, num_proc=2)
    assert isinstance(two, datasets.Dataset)
    # Q_SHORT normalizes to '22', used whole: it is found in every row whose number holds '22'
    expected = [f"r{i}" for i in range(300) if i % 17 != 3 and "22" not in str(i)]
    assert two["id"][:] == one["id"][:] == expected
    assert "num_proc" not in r1.data["config"]
    assert r2.to_json() == r1.to_json()


def test_iterable_dataset_is_filtered_lazily_and_its_report_fills_in():
    b = bench(Q_LONG)
    ds = datasets.Dataset.from_dict({"text": ["a", Q_LONG, "b"] * 700}).to_iterable_dataset()
    out, report = filter_dataset(ds, [b], return_report=True, progress=False)
    assert "training" not in report.data  # nothing read yet
    rows = list(out)
    assert [r["text"] for r in rows] == ["a", "b"] * 700
    assert report.data["training"]["n_documents"] == 2100 and report.n_removed == 700
    assert report.removed_doc_ids == list(range(1, 2100, 3))


# ----------------------------------------------------------------------------------------- bad input


def test_list_rows_without_text_raise_or_are_skipped_and_counted():
    b = bench(Q_LONG)
    rows = [{"text": "fine"}, {"text": 7}, {"body": "no text"}, {"text": Q_LONG}]
    with pytest.raises(InputError) as err:
        filter_dataset(rows, [b], progress=False)
    assert err.value.line == 2 and err.value.field == "text" and "int" in str(err.value)
    out, report = filter_dataset(rows, [b], return_report=True, progress=False, on_error="skip")
    assert out == [rows[0]]
    corpus = report.data["corpus"]
    assert corpus["n_rejected"] == 2 and corpus["n_documents"] == 2
    assert [(r["line"], r["field"]) for r in corpus["rejected"]] == [(2, "text"), (3, "text")]
    assert "int" in corpus["rejected"][0]["reason"] and "missing" in corpus["rejected"][1]["reason"]
    assert report.removed_doc_ids == [3]  # row numbers count the rejected rows


def test_null_text_in_tables_and_datasets():
    b = bench(Q_LONG)
    table = pa.table({"text": ["a", None, Q_LONG, "b"]})
    with pytest.raises(InputError, match="null") as err:
        filter_dataset(table, [b], progress=False)
    assert err.value.line == 2
    out, report = filter_dataset(table, [b], return_report=True, progress=False, on_error="skip")
    assert out.column("text").to_pylist() == ["a", "b"]
    assert report.data["corpus"]["n_rejected"] == 1 and report.removed_doc_ids == [2]
    ds = datasets.Dataset.from_dict({"text": ["a", None, Q_LONG, "b"]})
    out, report = filter_dataset(ds, [b], return_report=True, progress=False, on_error="skip")
    assert out["text"][:] == ["a", "b"]
    assert report.data["corpus"]["rejected"][0]["line"] == 2 and report.removed_doc_ids == [2]
    it = datasets.Dataset.from_dict({"body": ["a"]}).to_iterable_dataset()
    with pytest.raises(InputError, match="text_field"):
        list(filter_dataset(it, [b], progress=False))
    with pytest.raises(InputError, match="text_field"):
        filter_dataset(datasets.Dataset.from_dict({"body": ["a"]}), [b], progress=False)


def test_unsupported_inputs_and_options():
    b = bench(Q_LONG)
    with pytest.raises(TypeError, match="unsupported corpus type"):
        filter_dataset(42, [b])
    with pytest.raises(TypeError, match="only strings or only dicts"):
        filter_dataset(["a", {"text": "b"}], [b])
    with pytest.raises(ConfigError, match="unknown option"):
        filter_dataset(["a"], [b], colour="blue")
    with pytest.raises(ConfigError, match="probes"):
        make_config(probes="many")
    with pytest.raises(ConfigError, match="num_proc must be a positive integer or 'auto', got 0"):
        make_config(num_proc=0)
    with pytest.raises(ConfigError, match="unique"):
        check(["a"], [b, b], progress=False)
    with pytest.raises(ConfigError, match="no benchmark"):
        check(["a"], [], progress=False)
    with pytest.raises(BenchmarkNotFoundError, match="unknown benchmark 'no-such-bench'"):
        check(["a"], ["no-such-bench"], progress=False)
    cfg = make_config(DecontamConfig(), probes="all", seed=5, lowercase=True)
    assert cfg.sample.mode == "all" and cfg.sample.seed == 5 and cfg.normalize.lowercase
    # values of the wrong type are refused, never coerced ("false" read as True, 2.9 as 2) nor a raw TypeError
    wrong = [({"lowercase": "false"}, "lowercase (--lowercase) must be True or False, got 'false'"),
             ({"nfkc": 1}, "nfkc (--nfkc) must be True or False, got 1"),
             ({"probes": 2.9}, "probes must be a positive integer or 'all', got 2.9"),
             ({"probes": True}, "probes must be a positive integer or 'all', got True"),
             ({"id_field": ["id"]}, "id_field must be a field name"), ({"id_field": ""}, "id_field must be a field name"),
             ({"text_field": 5}, "text_field must be a field name or a list"),
             ({"text_field": {"text": 1}}, "text_field must be a field name or a list")]
    for options, words in wrong:
        with pytest.raises(ConfigError, match=re.escape(words)):
            check(["a"], [b], progress=False, **options)
    with pytest.raises(ConfigError, match="config must be a DecontamConfig, got a dict"):
        check(["a"], [b], {"seed": 1}, progress=False)
    with pytest.raises(ConfigError, match="unescape"):
        NormalizeConfig(unescape="no")
    assert make_config(probes=2).sample.n_probes == 2 and DecontamConfig(id_field=None).id_field is None


def test_engine_options_are_checked_and_never_part_of_the_result():
    """``engine`` and ``ray_address`` say where a run executes, like ``num_proc``: checked at once, absent from
    the report's config and from the fingerprint; the report names the engine in ``run.engine``."""
    b = bench(Q_LONG)
    with pytest.raises(ConfigError, match="engine must be 'local' or 'ray', got 'spark'"):
        make_config(engine="spark")
    with pytest.raises(ConfigError, match="is for the local engine"):
        make_config(engine="ray", num_proc=2)
    with pytest.raises(ConfigError, match="needs engine='ray'"):
        make_config(ray_address="10.0.0.1:6379")
    with pytest.raises(ConfigError, match="engine='ray' scans files or a ray.data.Dataset, not a list"):
        check(["a"], [b], progress=False, engine="ray")  # refused before Ray is needed
    ray_cfg = make_config(engine="ray", ray_address="10.0.0.1:6379")
    assert ray_cfg.to_dict() == DecontamConfig().to_dict() and ray_cfg.fingerprint() == DecontamConfig().fingerprint()
    report = check(["a", "b " + Q_LONG], [b], progress=False)
    assert report.data["run"] == {"engine": "local"} and "engine" not in report.data["config"]
    assert list(report.data)[:4] == ["schema_version", "tool", "config", "run"]


def test_benchmark_argument_forms(tmp_path):
    from decontam import load_benchmark

    gsm = tmp_path / "gsm.jsonl"
    gsm.write_text(json.dumps({"question": Q_CODE, "answer": Q_LONG}) + "\n")
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps({"id": "m1", "prompt": Q_LONG}) + "\n")
    docs = [Q_LONG, Q_CODE]
    # a registry name with a local file (registry fields): NAME=PATH string, (name, path) pair, loaded object
    r1 = check(docs, f"gsm8k={gsm}", progress=False)
    r2 = check(docs, [("gsm8k", gsm)], progress=False)
    r3 = check(docs, [load_benchmark("gsm8k", gsm)], progress=False)
    assert r1.to_json() == r2.to_json() == r3.to_json()
    assert r1.contaminated_ids("gsm8k") == [0] and r1.removed_doc_ids == [1]  # the answer is not probed
    section = r1.benchmark("gsm8k")
    assert section["question_field"] == "question" and section["source"] == str(gsm)
    # a custom benchmark needs its question field
    with pytest.raises(ConfigError, match="question"):
        check(docs, f"mine={mine}", progress=False)
    both = check(docs, [f"gsm8k={gsm}", load_benchmark("mine", mine, question_field="prompt", id_field="id")],
                 progress=False)
    assert both.contaminated_ids("mine") == ["m1"] and both.removed_doc_ids == [0, 1]


def test_empty_corpus_file_is_an_error(tmp_path):
    b = bench(Q_LONG)
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(InputError, match="empty") as err:
        check([tmp_path / "empty.jsonl"], [b], progress=False)
    assert "empty.jsonl" in str(err.value)


def test_null_text_rows_leave_the_fingerprint_of_the_valid_rows_in_every_container():
    """A rejected (null) row is not part of the checked text: a Dataset, a Table and a list agree."""
    bench = Benchmark.from_items("d", [(1, "Write a function that returns the sum of two integers given as arguments.")])
    rows = [{"text": "a"}, {"text": None}, {"text": "b"}]
    via_ds = check(datasets.Dataset.from_list(rows), [bench], progress=False, on_error="skip").to_dict()
    via_table = check(pa.table({"text": ["a", None, "b"]}), [bench], progress=False, on_error="skip").to_dict()
    valid_only = check([{"text": "a"}, {"text": "b"}], [bench], progress=False).to_dict()
    assert via_ds["corpus"]["n_rejected"] == via_table["corpus"]["n_rejected"] == 1
    assert via_ds["corpus"]["fingerprint"] == via_table["corpus"]["fingerprint"] == valid_only["corpus"]["fingerprint"]


def test_a_list_of_str_that_are_paths_warns_to_pass_path_objects(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"text": "x"}) + "\n")
    bench = Benchmark.from_items("b", [Item(1, "Write a function that returns the sum of two integers given.")])
    with pytest.warns(UserWarning, match=r"pass pathlib.Path objects"):
        report = check([str(f)], [bench], progress=False)
    assert report.data["corpus"]["sources"] == ["<list>"]  # checked as one document, as documented
    assert check([f], [bench], progress=False).data["corpus"]["sources"] == [str(f)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(["a document that names no file"], [bench], progress=False)


def _forged_strings(values: list[bytes]) -> pa.Array:
    """A string array holding arbitrary bytes, as a table read from a file another tool wrote can (pyarrow
    checks no UTF-8 when it builds an array from buffers)."""
    import numpy as np

    offsets = np.cumsum([0, *map(len, values)]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(values), [None, pa.py_buffer(offsets.tobytes()),
                                                            pa.py_buffer(b"".join(values))])


@pytest.mark.parametrize("column", ["text", "id"])
@pytest.mark.parametrize("kind", ["table", "dataset", "dataset, 2 processes"])
def test_invalid_utf8_in_a_table_or_dataset_column_names_row_and_column_or_is_a_counted_skip(kind, column):
    bench = Benchmark.from_items("b", [Item(1, Q_LONG)])
    bad = _forged_strings([b"fine", b"bad \xff\xfe bytes", b"leak " + Q_LONG.encode()])
    table = pa.table({"id": bad if column == "id" else pa.array(["a", "b", "c"]),
                      "text": bad if column == "text" else pa.array(["x", "y", "leak " + Q_LONG]), "n": [1, 2, 3]})
    obj = table if kind == "table" else datasets.Dataset(table)
    options = {"num_proc": 2} if "2 processes" in kind else {}
    where = "<table>" if kind == "table" else "<dataset>"
    with pytest.raises(InputError, match=rf"^{where}, line 2, field '{column}': .*invalid UTF-8 \(invalid start byte"):
        filter_dataset(obj, [bench], progress=False, **options)
    out, report = filter_dataset(obj, [bench], progress=False, on_error="skip", return_report=True, **options)
    assert list(out["n"] if kind != "table" else out.column("n").to_pylist()) == [1]  # row 2 skipped, row 3 removed
    (rejected,) = report.data["corpus"]["rejected"]
    assert (rejected["source"], rejected["line"], rejected["field"]) == (where, 2, column)
    assert "invalid UTF-8" in rejected["reason"] and report.data["training"]["n_removed"] == 1


def test_an_id_field_the_corpus_does_not_have_is_refused_by_the_api_too(tmp_path):
    """``id_field="docid"`` on a corpus without it named every document by its row number, silently (the command
    line refused it; the API did not): refused for files, datasets, dataset dicts, tables and lists, by ``check``,
    ``filter_dataset`` and ``filter_files``, before any output; the default ``id`` and a field the rows have are
    read as before."""
    from decontam import filter_files

    bench = Benchmark.from_items("demo", [Item(1, Q_LONG)])
    rows = [{"text": "nothing here"}, {"text": "22 " + Q_LONG, "doc": "d1"}]
    rows[0]["doc"] = "d0"
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet")
    ds = datasets.Dataset.from_list(rows)
    corpora = [tmp_path / "c.jsonl", tmp_path / "c.parquet", ds, datasets.DatasetDict({"train": ds}),
               pa.Table.from_pylist(rows), rows, [r["text"] for r in rows]]
    for corpus in corpora:
        for fn in (check, filter_dataset):
            with pytest.raises(ConfigError, match="docid.*documents would be named by row number"):
                fn(corpus, [bench], id_field="docid", progress=False)
        if isinstance(corpus, list) and isinstance(corpus[0], str):
            continue  # a list of strings has no field to name them by
        assert check(corpus, [bench], id_field="doc", progress=False).removed_doc_ids == ["d1"]
        assert check(corpus, [bench], progress=False).removed_doc_ids == [1]  # the default id: absent, row number
    with pytest.raises(ConfigError, match="docid"):
        filter_files([tmp_path / "c.jsonl"], [bench], tmp_path / "out.jsonl", id_field="docid", progress=False)
    assert not (tmp_path / "out.jsonl").exists()
    assert not list(tmp_path.glob("c.decontam.*"))
