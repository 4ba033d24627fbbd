"""Corpus index end to end: index check == check == brute force, merge/add, portrait, file safety (the
minimizer guarantee is in test_index_hashing.py, the build's internals in test_index_build.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from _reports import comparable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import check
from decontam.benchmarks import Benchmark, Item
from decontam.config import NormalizeConfig, SampleConfig
from decontam.errors import IndexMismatchError
from decontam.index import CorpusIndex, Portrait
from decontam.normalize import normalize
from decontam.sample import sample_item

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Small alphabets make repeats (ties, shared grams, many candidate positions) common.
_TEXT = st.text(alphabet=st.sampled_from(list("ab c\n,.xyzé日")), min_size=0, max_size=300)


def _comparable(report):
    return comparable(json.loads(json.dumps(report.data)))


def _oracle(bench, docs, sample=SampleConfig()):
    """Items with a probe that is a substring of a normalized document."""
    norm_docs = [normalize(d) for d in docs]
    out = []
    for it in bench.items:
        p = sample_item(bench.name, it.id, it.question, sample)
        if any(probe in nd for probe in p.probes for nd in norm_docs):
            out.append(it.id)
    return out


def _write_jsonl(path: Path, docs, ids=True):
    with open(path, "w", encoding="utf-8") as fh:
        for i, d in enumerate(docs):
            row = {"text": d}
            if ids and i % 3:
                row["id"] = f"doc-{i}" if i % 2 else i
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


# --------------------------------------------------------------------------- index check == check == oracle


_QUESTIONS = [
    "Write a function that returns the sum of two integers given as arguments, please.",
    "Given a list of numbers, return True if any two are closer than the threshold value.",
    "Short one?",
    "Héllo wörld — a question with accents and 日本語 characters that is long enough to probe well.",
    "",
    "Return the number of vowels in the given string, counting y only at the end of the word.",
]


@SETTINGS
@given(st.lists(_TEXT, min_size=0, max_size=8),
       st.lists(st.tuples(st.integers(0, len(_QUESTIONS) - 1), st.integers(0, 120), st.integers(0, 120),
                          st.integers(0, 7)), max_size=6),
       st.sampled_from(["3", "all"]), st.integers(0, 3))
def test_index_check_equals_check_and_oracle(tmp_path_factory, noise, leaks, probes, seed):
    docs = list(noise) + ["x"] * (2 - len(noise))  # each shard below has a row (an empty corpus is an error)
    for qi, a, b, at in leaks:  # plant pieces of questions (whole or partial) inside documents
        q = _QUESTIONS[qi]
        a, b = min(a, b, len(q)), min(max(a, b), len(q))
        docs[at % len(docs)] += " " + q[a:b].upper() if at == 7 else " " + q[a:b] + " "
    tmp = tmp_path_factory.mktemp("ix")
    bench = Benchmark.from_items("t", [Item(i, q) for i, q in enumerate(_QUESTIONS)])
    half = len(docs) // 2
    files = [_write_jsonl(tmp / "a.jsonl", docs[:half]), _write_jsonl(tmp / "b.jsonl", docs[half:])]
    ix = CorpusIndex.build(files, tmp / "ix", progress=False)
    got = ix.check([bench], probes=probes, seed=seed)
    want = check(files, [bench], probes=probes, seed=seed, progress=False)
    assert _comparable(got) == _comparable(want)
    sample = SampleConfig(mode="all") if probes == "all" else SampleConfig(seed=seed)
    assert got.contaminated_ids("t") == _oracle(bench, docs, sample)
    idx = got.data["index"]
    assert idx["confirmed"] + idx["rejected"] == idx["bloom_hits"] and idx["verified"] is True
    # merge(build(a), build(b)) answers like build(a + b); so does add()
    a = CorpusIndex.build(files[:1], tmp / "ia", progress=False)
    b = CorpusIndex.build(files[1:], tmp / "ib", progress=False)
    merged = CorpusIndex.merge([a, b], tmp / "iab")
    assert _comparable(merged.check([bench], probes=probes, seed=seed)) == _comparable(want)
    assert merged.fingerprint == ix.fingerprint == want.data["corpus"]["fingerprint"]
    grown = a.add(files[1:])
    assert _comparable(grown.check([bench], probes=probes, seed=seed)) == _comparable(want)
    # the portrait never misses an item the exact check finds: each is possible or (too short to test) undecided
    ix.export_portrait(tmp / "p.dcp")
    loose = Portrait.load(tmp / "p.dcp").check([bench], probes=probes, seed=seed)
    sec = loose.benchmark("t")
    assert set(want.contaminated_ids("t")) <= set(sec["possible_ids"]) | set(sec["undecided_ids"])
    assert not set(want.contaminated_ids("t")) & set(sec["absent_ids"])
    assert loose.data["index"]["unverified"] is True


def test_coverage_fraction_and_longest_run(tmp_path):
    q = "abcdefghij" * 3 + "klmnopqrstuvwxyz0123456789" * 2 + "ABCDEFGHIJ" * 3
    nq = normalize(q)
    present = nq[10:95]  # windows starting at 10..45 are in the corpus
    f = _write_jsonl(tmp_path / "c.jsonl", ["noise " + present + " noise", "other text"])
    bench = Benchmark.from_items("t", [Item(0, q)])
    ix = CorpusIndex.build([f], tmp_path / "ix", progress=False)
    item = ix.check([bench], probes="all").data["benchmarks"][0]["items"][0]
    n_windows = len(nq) - 50 + 1
    assert item["coverage"]["windows_found"] == 95 - 50 - 10 + 1
    assert item["coverage"]["fraction"] == round((95 - 50 - 10 + 1) / n_windows, 6)
    assert item["coverage"]["longest_run"] == [10, 95]


def test_short_probe_length_answered_exactly_by_scan(tmp_path):
    docs = ["zz Given a list of numbers zz", "nothing here", "x" * 100]
    f = _write_jsonl(tmp_path / "c.jsonl", docs)
    bench = Benchmark.from_items("t", [Item(i, q) for i, q in enumerate(_QUESTIONS)])
    ix = CorpusIndex.build([f], tmp_path / "ix", progress=False)
    got = ix.check([bench], probe_length=12, probes="all")
    want = check([f], [bench], probe_length=12, probes="all", progress=False)
    assert _comparable(got) == _comparable(want)
    assert got.contaminated_ids("t") == [1] and got.data["index"]["n_probes_scanned"] > 0


def test_in_memory_corpora_match_check(tmp_path):
    q = _QUESTIONS[0]
    rows = [{"text": "a " + q, "id": "x1"}, {"text": "b"}, {"text": q.lower(), "id": 7}]
    bench = Benchmark.from_items("t", [Item(0, q)])
    for corpus in (rows, [r["text"] for r in rows], pa.table({"text": [r["text"] for r in rows]})):
        name = type(corpus).__name__ + str(len(list(tmp_path.iterdir())))
        ix = CorpusIndex.build(corpus, tmp_path / name, progress=False)
        assert _comparable(ix.check([bench])) == _comparable(check(corpus, [bench], progress=False))


def test_in_memory_corpora_are_read_as_check_reads_them_bad_rows_included(tmp_path):
    """The index reads in-memory corpora through check's own adapters (it had a drifted copy): a lone surrogate
    is read, not a UnicodeEncodeError; on_error="skip" skips and counts; "raise" names the row and field."""
    from decontam.errors import InputError

    q = _QUESTIONS[0]
    bench = Benchmark.from_items("t", [Item(0, q)])
    surrogate = ["lone \ud800 surrogate " + q, "plain"]
    ix = CorpusIndex.build(surrogate, tmp_path / "s", progress=False)
    assert ix.check([bench]).contaminated_ids("t") == [0]
    assert _comparable(ix.check([bench])) == _comparable(check(surrogate, [bench], progress=False))
    rows = [{"text": q}, {"text": None}, {"body": "x"}, {"text": 5}, {"text": "fine"}]
    ix = CorpusIndex.build(rows, tmp_path / "k", on_error="skip", progress=False)
    streamed = check(rows, [bench], progress=False, on_error="skip")
    assert ix.manifest["corpus"]["n_documents"] == 2
    assert [r["line"] for r in ix.manifest["corpus"]["sources"][0]["rejected"]] == [2, 3, 4]
    assert _comparable(ix.check([bench])) == _comparable(streamed)
    with pytest.raises(InputError, match=r"<list>, line 2, field 'text': text is null"):
        CorpusIndex.build(rows, tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_lowercase_index_and_mismatch(tmp_path):
    q = _QUESTIONS[1]
    f = _write_jsonl(tmp_path / "c.jsonl", ["X " + q.upper()])
    bench = Benchmark.from_items("t", [Item(0, q)])
    ix = CorpusIndex.build([f], tmp_path / "ix", lowercase=True, progress=False)
    assert ix.check([bench], lowercase=True).contaminated_ids("t") == [0]
    with pytest.raises(IndexMismatchError, match="lowercase=True"):
        ix.check([bench])
    with pytest.raises(IndexMismatchError, match="another normalizer"):
        CorpusIndex.load(tmp_path / "ix", NormalizeConfig())
    a = CorpusIndex.build([f], tmp_path / "plain", progress=False)
    with pytest.raises(IndexMismatchError, match="another normalizer"):
        CorpusIndex.merge([ix, a], tmp_path / "m")


# ------------------------------------------------------------------------------------------ file safety


@pytest.fixture()
def built(tmp_path):
    f = _write_jsonl(tmp_path / "c.jsonl", ["some text " + _QUESTIONS[0]] * 20 + [_QUESTIONS[3]])
    CorpusIndex.build([f], tmp_path / "ix", progress=False)
    return tmp_path / "ix"


@pytest.mark.parametrize("name", ["keys.u64", "text.zst", "portrait.dcp", "docs.arrow", "raw.zst"])
def test_flipped_byte_is_detected(built, name):
    p = built / name
    blob = bytearray(p.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    p.write_bytes(bytes(blob))
    with pytest.raises(IndexMismatchError, match="corrupted"):
        CorpusIndex.load(built)


@pytest.mark.parametrize("name", ["keys.u64", "pos.u4", "text.zst", "portrait.dcp"])
def test_truncated_file_is_detected(built, name):
    p = built / name
    p.write_bytes(p.read_bytes()[:-3])
    with pytest.raises(IndexMismatchError, match="truncated"):
        CorpusIndex.load(built, verify=False)


def test_newer_version_and_missing_manifest(built):
    m = json.loads((built / "manifest.json").read_text())
    m["format_version"] = 99
    (built / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="newer"):
        CorpusIndex.load(built)
    m["format_version"] = 1  # format 1 partitioned its Bloom filter otherwise: refused, not misread
    (built / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="older.*rebuild"):
        CorpusIndex.load(built)
    (built / "manifest.json").unlink()  # what an interrupted build looks like
    with pytest.raises(IndexMismatchError, match="did not finish"):
        CorpusIndex.load(built)


def test_edited_manifest_is_detected(built):
    m = json.loads((built / "manifest.json").read_text())
    m["normalize"]["lowercase"] = True  # would silently change every answer
    (built / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="checksum"):
        CorpusIndex.load(built)


def test_portrait_file_errors(built, tmp_path):
    ix = CorpusIndex.load(built)
    p = ix.export_portrait(tmp_path / "p.dcp")
    blob = p.read_bytes()
    (tmp_path / "trunc.dcp").write_bytes(blob[:-1])
    with pytest.raises(IndexMismatchError, match="truncated"):
        Portrait.load(tmp_path / "trunc.dcp")
    (tmp_path / "bad.dcp").write_bytes(b"NOTMAGIC" + blob[8:])
    with pytest.raises(IndexMismatchError, match="not a decontam portrait"):
        Portrait.load(tmp_path / "bad.dcp")
    newer = bytearray(blob)
    newer[16:20] = (7).to_bytes(4, "little")
    (tmp_path / "new.dcp").write_bytes(bytes(newer))
    with pytest.raises(IndexMismatchError, match="newer"):
        Portrait.load(tmp_path / "new.dcp")
    newer[16:20] = (1).to_bytes(4, "little")
    (tmp_path / "old.dcp").write_bytes(bytes(newer))
    with pytest.raises(IndexMismatchError, match="older"):
        Portrait.load(tmp_path / "old.dcp")
    with pytest.raises(IndexMismatchError, match="another normalizer"):
        Portrait.load(p, NormalizeConfig(nfkc=True))


def test_an_existing_index_is_replaced_only_when_asked_and_never_an_input(built):
    from decontam.errors import OutputExistsError, PathConflictError

    before = {p.name: p.stat().st_mtime_ns for p in built.iterdir()}
    with pytest.raises(OutputExistsError, match="overwrite"):
        CorpusIndex.build([built.parent / "c.jsonl"], built, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in built.iterdir()} == before  # untouched
    with pytest.raises(PathConflictError, match="holds the input"):
        CorpusIndex.build([built.parent / "c.jsonl"], built.parent, progress=False, overwrite=True)
    with pytest.raises(PathConflictError, match="lies inside the input"):
        CorpusIndex.load(built).export_portrait(built / "p.dcp")
    CorpusIndex.build([built.parent / "c.jsonl"], built, progress=False, overwrite=True)
    assert sorted(p.name for p in built.parent.iterdir() if p.name.startswith(".")) == []  # no temporaries
    shutil.rmtree(built)


def test_index_and_portrait_reports_match_the_schema(built, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    from decontam.report import report_schema

    ix = CorpusIndex.load(built)
    bench = Benchmark.from_items("t", [Item(i, q) for i, q in enumerate(_QUESTIONS)])
    pt = Portrait.load(ix.export_portrait(tmp_path / "p.dcp"))
    for probes in ("3", "all"):
        exact, loose = ix.check([bench], probes=probes), pt.check([bench], probes=probes)
        for rep in (exact, loose):
            jsonschema.validate(rep.data, report_schema())
        assert exact.contaminated_ids("t") == [0, 3]
        # the portrait cannot test "Short one?" (shorter than a window): undecided, neither contaminated nor clean
        sec = loose.benchmark("t")
        assert loose.contaminated_ids("t") == sec["possible_ids"] == [0, 3]
        assert sec["undecided_ids"] == [2] and sec["absent_ids"] == loose.clean_ids("t") == [1, 4, 5]
        short = sec["items"][2]
        assert short["undecided"] == "probe shorter than the portrait's 50-byte window"
        assert short["contaminated"] is False and short["matches"] == []


def test_candidates_of_shared_grams_are_compared_in_bounded_pieces(tmp_path, monkeypatch):
    """Templated questions (the same boilerplate, a number apart) in a corpus holding each: a gram of the
    boilerplate is every question's, and its (question, corpus) candidate pairs were built all at once (20,000
    such questions: 711 MB). They are built in pieces now: the same report as the streaming check, whatever the
    piece size."""
    import decontam.index.query as query

    questions = [f"Question {i}: how many widgets does warehouse number {i} hold at the end of the year?"
                 for i in range(200)]
    bench = Benchmark.from_items("w", [Item(i, q) for i, q in enumerate(questions)])
    corpus = [f"intro {q} outro" for q in questions[::3]] + ["nothing here at all, not a widget"]
    ix = CorpusIndex.build(corpus, tmp_path / "ix")
    want = _comparable(check(corpus, [bench], progress=False))
    pieces: list[int] = []
    real = query.bounded_slices

    def recorded(count, limit):
        for a, b in real(count, limit):
            pieces.append(int(count[a:b].sum()) if b - a > 1 else 0)
            yield a, b

    for limit in (1 << 20, 50, 1):
        pieces.clear()
        monkeypatch.setattr(query, "_MAX_CANDIDATES", limit)
        monkeypatch.setattr(query, "bounded_slices", recorded)
        assert _comparable(ix.check([bench])) == want
        assert max(pieces) <= limit and (limit > 1000 or len(pieces) >= 5)
