"""Real benchmarks planted into real text, through the command line.

The corpus is a few hundred modules of the Python standard library (real code and prose, read from
``sysconfig.get_paths()['stdlib']``), split over a ``.jsonl``, a ``.jsonl.gz`` and a ``.parquet`` file. Into
some of them we plant questions taken from the real benchmark files in ``shared/benchmarks`` (HumanEval, MBPP,
GSM8K, the MMLU folder of CSVs, ARC, TruthfulQA), each re-spaced or re-punctuated in its own way. Then
``decontam check`` / ``filter`` run in a subprocess and the report is held to the brute-force oracle.

The GPT-4 rule uses a question shorter than 50 normalized characters whole, so MMLU items such as
``'−4 + ( −3 )='`` (normalized: ``'43'``) are flagged in every module containing those characters: correct
behaviour. The expected set is therefore computed by the oracle, not hard-coded; the planted items must be
among the flagged ones, with the documents they were planted in.
"""

from __future__ import annotations

import gzip
import json
import sysconfig
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from decontam import load_benchmark
from decontam.normalize import normalize

# (registry name, path under shared/benchmarks, how many items to plant)
BENCHMARKS = [
    ("humaneval", "humaneval/HumanEval.jsonl.gz", 5),
    ("mbpp", "mbpp/mbpp.jsonl", 5),
    ("gsm8k", "gsm8k/test.jsonl", 5),
    ("mmlu", "mmlu/test", 5),
    ("arc", "arc/ARC-Challenge-Test.jsonl", 2),
    ("truthfulqa", "truthfulqa/TruthfulQA.csv", 2),
]
N_MODULES = 300
SKIP_PARTS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__", "lib2to3", "idlelib"}


def variants(question: str) -> list[str]:
    """Five ways a question shows up in scraped text; none adds or removes a letter or digit."""
    return [
        question,
        "\n".join("# " + line for line in textwrap.wrap(question, width=31)),
        question.replace(", ", " ; ").replace(". ", " ... ").replace("?", " ??"),
        '    """' + question.replace(" ", "  ") + '"""',
        question.replace(" ", "\t"),
    ]


def stdlib_modules() -> list[tuple[str, str]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root)
        if SKIP_PARTS & set(rel.parts) or not 1_000 <= path.stat().st_size <= 20_000:
            continue
        try:
            found.append(("stdlib/" + rel.as_posix(), path.read_text("utf-8")))
        except (UnicodeDecodeError, OSError):
            continue
    if len(found) < N_MODULES:
        pytest.skip(f"only {len(found)} standard library modules found under {root}")
    step = len(found) / N_MODULES
    return [found[int(i * step)] for i in range(N_MODULES)]


class Setup:
    """Everything built once for the module: the corpus, the plants, the benchmark args, the first report."""

    def __init__(self, root: Path, shared: Path, run_cli) -> None:
        self.root = root
        self.run_cli = run_cli
        self.benchmarks = [load_benchmark(name, shared / rel) for name, rel, _ in BENCHMARKS]
        self.bench_args = [a for name, rel, _ in BENCHMARKS for a in ("-b", f"{name}={shared / rel}")]
        docs = [{"id": i, "text": t} for i, t in stdlib_modules()]
        self.planted: dict[tuple[str, object], str] = {}  # (benchmark, item id) -> doc id
        host = 0
        for (name, _, n), bench in zip(BENCHMARKS, self.benchmarks):
            long_items = [it for it in bench.items if len(normalize(it.question)) >= 100]
            for k, item in enumerate(long_items[:: max(1, len(long_items) // n)][:n]):
                host = (host + 37) % len(docs)
                doc = docs[host]
                cut = doc["text"].find("\n", len(doc["text"]) // 2) + 1
                text = variants(item.question)[k % 5]
                doc["text"] = doc["text"][:cut] + text + "\n" + doc["text"][cut:]
                self.planted[(name, item.id)] = doc["id"]
        self.docs = docs
        corpus = root / "corpus"
        (corpus / "b").mkdir(parents=True)
        third = len(docs) // 3
        parts = [docs[:third], docs[third : 2 * third], docs[2 * third :]]
        self.jsonl_lines = [json.dumps(d, ensure_ascii=False).encode() for d in parts[0]]
        (corpus / "a.jsonl").write_bytes(b"".join(line + b"\n" for line in self.jsonl_lines))
        with gzip.open(corpus / "b" / "b.jsonl.gz", "wb") as fh:
            fh.write(b"".join(json.dumps(d).encode() + b"\n" for d in parts[1]))
        pq.write_table(pa.table({"id": [d["id"] for d in parts[2]], "text": [d["text"] for d in parts[2]]}),
                       corpus / "c.parquet")
        # corpus order: a.jsonl, b/b.jsonl.gz, c.parquet (sorted relative paths)
        self.order = parts[0] + parts[1] + parts[2]
        out = self.check("report.json")
        assert out.returncode == 0, out.stderr
        self.report_bytes = (root / "report.json").read_bytes()
        self.report = json.loads(self.report_bytes)

    def check(self, report: str):
        return self.run_cli("check", "corpus", *self.bench_args, "--report", report, cwd=self.root, timeout=300)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, shared_benchmarks, run_cli) -> Setup:
    return Setup(tmp_path_factory.mktemp("real"), shared_benchmarks, run_cli)


def test_report_validates_against_its_schema(setup, validate_report):
    validate_report(setup.report)
    assert [b["name"] for b in setup.report["benchmarks"]] == [name for name, _, _ in BENCHMARKS]
    assert [b["n_items"] for b in setup.report["benchmarks"]] == [164, 974, 1319, 14042, 1172, 790]
    assert setup.report["corpus"]["n_documents"] == N_MODULES
    assert setup.report["corpus"]["sources"] == ["corpus/a.jsonl", "corpus/b/b.jsonl.gz", "corpus/c.parquet"]


def test_exactly_the_oracle_items_are_flagged_with_the_right_documents(setup, assert_report_exact):
    truth = assert_report_exact(setup.report, [d["text"] for d in setup.order], [d["id"] for d in setup.order],
                                setup.benchmarks)
    for (name, item_id), doc_id in setup.planted.items():
        assert doc_id in truth["items"][(name, item_id)], (name, item_id)
        section = next(b for b in setup.report["benchmarks"] if b["name"] == name)
        assert item_id in section["contaminated_ids"]
        entry = next(it for it in section["items"] if it["id"] == item_id)
        matches = [m for m in entry["matches"] if m["doc_id"] == doc_id]
        assert len(matches) == 3  # all three probes of a long question, re-spaced or not
    assert len(setup.planted) == sum(n for _, _, n in BENCHMARKS)
    # the short-question effect the GPT-4 rule has: only MMLU/MBPP-style short questions (used whole) hit
    # modules that nothing was planted in
    planted_docs = set(setup.planted.values())
    for (name, item_id), docs in truth["items"].items():
        if docs - planted_docs:
            entry = next(it for b in setup.report["benchmarks"] if b["name"] == name
                         for it in b["items"] if it["id"] == item_id)
            assert entry["n_probes"] == 1 and len(entry["probes"][0]) < 50, (name, item_id)


def test_planted_long_questions_are_found_nowhere_else(setup):
    section = {b["name"]: b for b in setup.report["benchmarks"]}
    for (name, item_id), doc_id in setup.planted.items():
        entry = next(it for it in section[name]["items"] if it["id"] == item_id)
        assert {m["doc_id"] for m in entry["matches"]} == {doc_id}


def test_the_same_check_twice_gives_a_byte_identical_report(setup):
    out = setup.check("again.json")
    assert out.returncode == 0, out.stderr
    assert (setup.root / "again.json").read_bytes() == setup.report_bytes


def test_filter_drops_exactly_the_flagged_documents(setup):
    out = setup.run_cli("filter", "corpus", *setup.bench_args, "-o", "clean", "--report", "filter.json",
                        cwd=setup.root, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads((setup.root / "filter.json").read_text("utf-8"))
    flagged = {r["doc_id"] for r in report["training"]["removed"]}
    assert report["benchmarks"] == setup.report["benchmarks"]
    assert flagged == {r["doc_id"] for r in setup.report["training"]["removed"]}
    clean = setup.root / "clean"
    kept_a = [line for line, d in zip(setup.jsonl_lines, setup.order) if d["id"] not in flagged]
    assert (clean / "a.jsonl").read_bytes() == b"".join(line + b"\n" for line in kept_a)
    with gzip.open(clean / "b" / "b.jsonl.gz", "rb") as fh:
        b_ids = [json.loads(line)["id"] for line in fh]
    c_ids = pq.read_table(clean / "c.parquet").column("id").to_pylist()
    kept_ids = [json.loads(line)["id"] for line in kept_a] + b_ids + c_ids
    assert kept_ids == [d["id"] for d in setup.order if d["id"] not in flagged]
    assert report["training"]["n_kept"] == len(kept_ids)
