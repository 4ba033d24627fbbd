"""Shared pytest fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    """The folder of real benchmark files (``shared/benchmarks``), kept beside the repository, never in it.

    The repository root is ``parents[1]`` of this file; ``shared/`` is its sibling (locally ``/work/shared``,
    in CI a copy placed beside the clone). Set ``DECONTAM_SHARED_BENCHMARKS`` to use another folder.
    """
    override = os.environ.get("DECONTAM_SHARED_BENCHMARKS")
    folder = Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
    if not folder.is_dir():
        pytest.skip(
            f"real benchmark files not found at {folder}: place shared/benchmarks beside the repository "
            "or set DECONTAM_SHARED_BENCHMARKS to their folder"
        )
    return folder


# ---------------------------------------------------------------------------- shared by the filter/CLI tests

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (holds README.md and examples/)."""
    return REPO


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The repository's ``examples/`` folder (read only: copy it before running commands in it)."""
    return REPO / "examples"


def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TQDM_DISABLE="1", PYTHONIOENCODING="utf-8")
    return env


@pytest.fixture(scope="session")
def run_cli():
    """Run ``python -m decontam ARGS...`` in a real subprocess (offline); returns the CompletedProcess."""
    import subprocess
    import sys

    def run(*args: object, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "decontam", *map(str, args)],
            cwd=cwd, env=_cli_env(), capture_output=True, text=True, timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def validate_report():
    """Validate a report document against ``decontam.report.report_schema()`` (raises on any violation)."""
    jsonschema = pytest.importorskip("jsonschema")
    from decontam.report import report_schema

    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

    def validate(doc: dict) -> None:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            raise AssertionError("report does not match its schema:\n" + "\n".join(
                f"  at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:10]))

    return validate


@pytest.fixture(scope="session")
def contamination_oracle():
    """A brute-force oracle for a report: check every probe the report lists against every document.

    ``oracle(texts, doc_ids, report_dict, normalize_config) -> dict`` with, computed with nothing but
    :func:`decontam.normalize.normalize` and ``in``:

    * ``pairs``: the multiset (sorted list) of ``(benchmark, item_id, probe, doc_id)`` for every probe window
      of every item (sample mode: ``items[].probes``; all mode: every window of ``normalized_question``) that
      is a substring of a normalized document;
    * ``items``: ``{(benchmark, item_id): set of doc ids}``;
    * ``docs``: the set of doc ids that contain any probe (the rows ``filter`` must drop).

    Probes of the full probe length are looked up in a set of each document's windows of that length (fast
    enough for real corpora); shorter ones (short questions, used whole) are tested with ``in``.
    """
    from decontam.normalize import normalize

    def oracle(texts, doc_ids, report: dict, norm_config) -> dict:
        normalized = [normalize(t, norm_config) for t in texts]
        length = report["config"]["sample"]["length"]
        exhaustive = report["config"]["sample"]["mode"] == "all"
        windows: dict[tuple[str, object], list[str]] = {}
        for bench in report["benchmarks"]:
            for item in bench["items"]:
                if exhaustive:
                    q = item.get("normalized_question", "")
                    n = min(length, len(q))
                    probes = [q[i : i + n] for i in range(len(q) - n + 1)] if q else []
                else:
                    probes = list(item["probes"])
                windows[(bench["name"], json.dumps(item["id"]))] = probes
        owners: dict[str, list[tuple[str, str]]] = {}  # probe -> its (benchmark, item) windows, repeats kept
        for key, probes in windows.items():
            for probe in probes:
                owners.setdefault(probe, []).append(key)
        long_probes = {p for p in owners if len(p) == length}
        short_probes = [p for p in owners if len(p) != length]
        pairs = []
        items: dict[tuple[str, object], set] = {(b, json.loads(k)): set() for b, k in windows}
        docs: set = set()
        for k, doc in enumerate(normalized):
            found = {doc[i : i + length] for i in range(len(doc) - length + 1)} & long_probes if long_probes else set()
            found |= {p for p in short_probes if p in doc}
            for probe in found:
                for bench, item_key in owners[probe]:
                    pairs.append((bench, item_key, probe, json.dumps(doc_ids[k])))
                    items[(bench, json.loads(item_key))].add(doc_ids[k])
                    docs.add(doc_ids[k])
        return {"pairs": sorted(pairs), "items": items, "docs": docs}

    return oracle


@pytest.fixture(scope="session")
def assert_report_exact(contamination_oracle):
    """Hold a report to the brute-force oracle, field by field; returns the oracle's answer.

    ``assert_report_exact(report_dict, texts, doc_ids, benchmarks)``: ``texts``/``doc_ids`` are the corpus
    documents in corpus order (rejected rows left out), ``benchmarks`` the loaded :class:`Benchmark` objects.
    The expected probes come from :func:`decontam.sample.sample_item`, one item at a time: the production sampler,
    not an independent one (``tests/unit/test_sample.py`` holds it to ``random.Random.sample`` and ``normalize``).
    """
    from collections import Counter

    from decontam.config import NormalizeConfig, SampleConfig
    from decontam.normalize import normalize
    from decontam.sample import sample_item

    def check(report: dict, texts, doc_ids, benchmarks) -> dict:
        norm_cfg = NormalizeConfig(**report["config"]["normalize"])
        samp_cfg = SampleConfig(**report["config"]["sample"])
        exhaustive = samp_cfg.mode == "all"
        assert [b["name"] for b in report["benchmarks"]] == [b.name for b in benchmarks]
        normalized_q: dict[tuple[str, str], str] = {}
        for bench, section in zip(benchmarks, report["benchmarks"]):
            assert [it["id"] for it in section["items"]] == [it.id for it in bench.items]
            assert section["n_items"] == len(bench.items)
            for item, entry in zip(bench.items, section["items"]):
                expected = sample_item(bench.name, item.id, item.question, samp_cfg, norm_cfg)
                normalized_q[(bench.name, json.dumps(item.id))] = expected.normalized
                assert entry["n_probes"] == len(expected.offsets), (bench.name, item.id)
                assert entry.get("empty", False) == (expected.normalized == "")
                if exhaustive:
                    assert entry["probes"] == []
                    assert entry["normalized_question"] == expected.normalized
                else:
                    assert entry["probes"] == list(expected.probes), (bench.name, item.id)
            assert section["n_empty"] == sum(1 for it in section["items"] if it.get("empty"))
        truth = contamination_oracle(texts, doc_ids, report, norm_cfg)
        norm_docs = {json.dumps(d): normalize(t, norm_cfg) for t, d in zip(texts, doc_ids)}
        assert len(norm_docs) == len(texts), "doc ids must be unique for this check"
        position = {json.dumps(d): k for k, d in enumerate(doc_ids)}
        for section in report["benchmarks"]:
            name = section["name"]
            contaminated, clean = [], []
            for entry in section["items"]:
                key = (name, json.dumps(entry["id"]))
                want_docs = truth["items"][(name, entry["id"])]
                got_docs = {json.dumps(m["doc_id"]) for m in entry["matches"]}
                assert got_docs == {json.dumps(d) for d in want_docs}, (name, entry["id"])
                assert entry["contaminated"] == bool(want_docs)
                (contaminated if want_docs else clean).append(entry["id"])
                seq = [position[json.dumps(m["doc_id"])] for m in entry["matches"]]
                assert seq == sorted(seq), "matches must be in corpus order"
                q = normalized_q[key]
                for m in entry["matches"]:
                    doc = norm_docs[json.dumps(m["doc_id"])]
                    assert m["probe"] in doc and m["probe"] in q
                    # span: the longest run of the question found in the document (one per item and
                    # document): it is in both, and holds at least one of the item's matching probes.
                    s, e = m["span"]
                    assert 0 <= s < e <= len(q) and q[s:e] in doc and e - s >= len(m["probe"])
                    if not exhaustive:  # (all mode lists only the first matching window)
                        assert any(o["probe"] in q[s:e] for o in entry["matches"] if o["doc_id"] == m["doc_id"])
                if exhaustive:
                    want_counts = Counter(p[3] for p in truth["pairs"] if p[:2] == key)
                    got_counts = {json.dumps(m["doc_id"]): m["n_probes_matched"] for m in entry["matches"]}
                    assert got_counts == dict(want_counts), key
                    assert len(got_counts) == len(entry["matches"])  # one entry per (item, document)
            assert section["contaminated_ids"] == contaminated
            assert section["clean_ids"] == clean
            assert section["n_contaminated"] == len(contaminated)
            assert section["contamination_rate"] == pytest.approx(
                len(contaminated) / section["n_items"] if section["n_items"] else 0.0, abs=1e-6)
        if not exhaustive:
            got_pairs = sorted((b["name"], json.dumps(it["id"]), m["probe"], json.dumps(m["doc_id"]))
                               for b in report["benchmarks"] for it in b["items"] for m in it["matches"])
            assert got_pairs == truth["pairs"]
        training = report["training"]
        want_removed = sorted({(p[3], p[0], p[1]) for p in truth["pairs"]})
        got_removed = [(json.dumps(r["doc_id"]), r["benchmark"], json.dumps(r["item_id"])) for r in training["removed"]]
        assert sorted(got_removed) == want_removed
        assert len(set(got_removed)) == len(got_removed)
        for r in training["removed"]:
            assert r["probe"] in norm_docs[json.dumps(r["doc_id"])]
        order = [json.dumps(d) for d in doc_ids]
        removed_order = list(dict.fromkeys(json.dumps(r["doc_id"]) for r in training["removed"]))
        assert removed_order == [d for d in order if json.loads(d) in truth["docs"]]  # corpus order
        assert training["n_removed"] == len(truth["docs"])
        assert training["n_documents"] == report["corpus"]["n_documents"] == len(texts)
        assert training["n_kept"] == len(texts) - len(truth["docs"])
        return truth

    return check


# --------------------------------------------------------------------- runs stopped midway (tests/_runs.py)


@pytest.fixture(autouse=True)
def _no_run_outlives_its_test():
    """A test that fails while a run it started with ``_runs.start`` is going kills that run (and its process
    group) rather than leave it behind."""
    yield
    from _runs import kill_started

    kill_started()


@pytest.fixture(scope="session")
def big_corpus(tmp_path_factory) -> Path:
    """About 48 MB of real text (three 16 MB read blocks), as one file (``one.jsonl``) and as a folder of four
    files (``four/``): large enough that a run is still scanning when it is stopped."""
    from _runs import write_big_corpus

    return write_big_corpus(tmp_path_factory.mktemp("big"))
