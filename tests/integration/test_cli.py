"""The command line, run as a real subprocess (``python -m decontam``), offline.

Covers every documented form of ``check`` and ``filter``, the exit codes, the bad inputs (each with a clear
error, or counted and listed with ``--on-error skip``), atomic outputs, determinism, the output formats, and
a property test of ``filter`` against the brute-force oracle.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decontam import load_benchmark
from decontam.benchmarks import Benchmark, Item
from decontam.config import NormalizeConfig
from decontam.normalize import normalize

Q1 = ("A farmer has 17 sheep and buys 5 more each week. After how many weeks will the farmer have exactly 62 "
      "sheep in the field?")
Q2 = ("Write a function `rotate(xs, k)` that returns the list xs rotated to the right by k positions, where k "
      "may exceed len(xs).")
EXAMPLE_CONTAMINATED = {"doc-003": "toy-001", "doc-011": "toy-002", "doc-017": "toy-004", "doc-025": "toy-007"}


# --------------------------------------------------------------------------------------------- helpers


def write_jsonl(path: Path, rows: list, ensure_ascii: bool = True) -> list[bytes]:
    """Write rows (dicts, or raw ``bytes`` lines) as JSONL; return the lines (without newline)."""
    lines = [r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=ensure_ascii).encode("utf-8") for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return lines


def write_bench(path: Path, questions: dict) -> Path:
    write_jsonl(path, [{"key": k, "prompt": q, "answer": "not probed"} for k, q in questions.items()])
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def assert_no_trace(folder: Path, before: list[str]) -> None:
    """Nothing was added to ``folder`` except empty parent folders: no output, no report, no temporary file."""
    added = [p for p in set(listing(folder)) - set(before) if not (folder / p).is_dir()]
    assert added == [], f"left behind: {added}"
    assert not [p for p in listing(folder) if ".partial" in p]


@pytest.fixture()
def examples(tmp_path, examples_dir) -> Path:
    """A copy of the repository's examples/ in tmp_path (the commands run with cwd = tmp_path)."""
    shutil.copytree(examples_dir, tmp_path / "examples")
    return tmp_path / "examples"


def example_corpus(examples: Path) -> tuple[list[bytes], list[dict]]:
    lines = examples.joinpath("corpus.jsonl").read_bytes().splitlines()
    return lines, [json.loads(line) for line in lines]


TOY = ["-b", "toy=examples/benchmark.jsonl", "--question-field", "question", "--item-id-field", "id"]


# ------------------------------------------------------------------------------------------------- help


COMMANDS = ["check", "filter", "benchmarks", "report", "rescore", "verify", "merge", "index"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)], ids=["top", *COMMANDS])
def test_help_on_every_command(run_cli, command):
    out = run_cli(*command, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(" ".join(["usage: decontam", *command]))
    assert "%%" not in out.stdout  # (argparse help strings escape %: a literal %% is a slip)
    if command == ["rescore"]:
        assert "95% intervals" in " ".join(out.stdout.split())
    if command in (["check"], ["filter"]):
        for flag in ("--benchmark", "--report", "--question-field", "--text-field", "--id-field", "--seed",
                     "--probes", "--lowercase", "--nfkc", "--unescape", "--num-proc", "--on-error"):
            assert flag in out.stdout, flag
    if command == ["filter"]:
        assert "--output" in out.stdout
    if not command:  # the commands listed are exactly the ones tested here
        assert re.findall(r"^    (\w+)", out.stdout, flags=re.M) == COMMANDS


def test_version_and_benchmarks_listing(run_cli):
    import decontam

    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"decontam {decontam.__version__}"
    out = run_cli("benchmarks")
    assert out.returncode == 0
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert names == sorted(decontam.REGISTRY) and "humaneval" in names and "mmlu" in names


# ------------------------------------------------------------------------------------- the example data


def test_filter_on_the_examples(run_cli, examples, validate_report, assert_report_exact):
    cwd = examples.parent
    out = run_cli("filter", "examples/corpus.jsonl", *TOY, "-o", "out/clean.jsonl", "--report", "out/report.json",
                  cwd=cwd)
    assert out.returncode == 0, out.stderr
    report = json.loads((cwd / "out/report.json").read_text("utf-8"))
    validate_report(report)
    lines, rows = example_corpus(examples)
    bench = load_benchmark("toy", examples / "benchmark.jsonl", question_field="question", id_field="id")
    truth = assert_report_exact(report, [r["text"] for r in rows], [r["id"] for r in rows], [bench])
    assert truth["docs"] == set(EXAMPLE_CONTAMINATED)  # what examples/README.md says
    section = report["benchmarks"][0]
    assert section["contaminated_ids"] == sorted(EXAMPLE_CONTAMINATED.values())
    for entry in section["items"]:
        assert {m["doc_id"] for m in entry["matches"]} == {d for d, i in EXAMPLE_CONTAMINATED.items()
                                                           if i == entry["id"]}
    # surviving lines byte-identical, in order
    kept = [line for line, row in zip(lines, rows) if row["id"] not in EXAMPLE_CONTAMINATED]
    assert (cwd / "out/clean.jsonl").read_bytes() == b"".join(line + b"\n" for line in kept)
    assert len(kept) == 36
    assert report["config"]["action"] == "filter" and report["corpus"]["sources"] == ["examples/corpus.jsonl"]
    assert "| toy | 10 | 4 | 40.00% |" in out.stdout


def test_check_with_lowercase_finds_the_capitalized_copy(run_cli, examples, validate_report):
    cwd = examples.parent
    out = run_cli("check", "examples/corpus.jsonl", *TOY, "--lowercase", "--report", "r.json", "--markdown",
                  "r.md", cwd=cwd)
    assert out.returncode == 0, out.stderr
    report = json.loads((cwd / "r.json").read_text("utf-8"))
    validate_report(report)
    removed = {(r["doc_id"], r["item_id"]) for r in report["training"]["removed"]}
    assert removed == set(EXAMPLE_CONTAMINATED.items()) | {("doc-031", "toy-003")}
    assert "doc-036" not in {d for d, _ in removed}  # the near miss stays a miss
    assert report["config"]["normalize"]["lowercase"] is True and report["config"]["action"] == "check"
    assert (cwd / "r.md").read_text("utf-8") == out.stdout
    assert listing(cwd) == sorted(["examples", "r.json", "r.md", *(f"examples/{p}" for p in listing(examples))])


def test_same_command_twice_gives_byte_identical_report_and_output(run_cli, examples):
    cwd = examples.parent
    results = []
    for run in ("one", "two"):
        out = run_cli("filter", "examples/corpus.jsonl", *TOY, "-o", f"{run}/clean.jsonl", "--report",
                      f"{run}/report.json", "--seed", "7", cwd=cwd)
        assert out.returncode == 0, out.stderr
        results.append((out.stdout, (cwd / run / "report.json").read_bytes(), (cwd / run / "clean.jsonl").read_bytes()))
    assert results[0] == results[1]
    assert json.loads(results[0][1])["config"]["sample"]["seed"] == 7


def test_seed_and_probes_all(run_cli, examples):
    cwd = examples.parent
    reports = {}
    for name, extra in {"s0": [], "s1": ["--seed", "1"], "all": ["--probes", "all"],
                        "two": ["--probes", "2", "--probe-length", "30"]}.items():
        out = run_cli("check", "examples/corpus.jsonl", *TOY, *extra, "--report", f"{name}.json", cwd=cwd)
        assert out.returncode == 0, out.stderr
        reports[name] = json.loads((cwd / f"{name}.json").read_text("utf-8"))
    bench = load_benchmark("toy", examples / "benchmark.jsonl", question_field="question", id_field="id")
    from decontam.config import SampleConfig
    from decontam.sample import sample_item

    for name, cfg in {"s0": SampleConfig(), "s1": SampleConfig(seed=1),
                      "two": SampleConfig(n_probes=2, length=30)}.items():
        got = [it["probes"] for it in reports[name]["benchmarks"][0]["items"]]
        assert got == [list(sample_item("toy", it.id, it.question, cfg).probes) for it in bench.items]
    assert [it["probes"] for it in reports["s0"]["benchmarks"][0]["items"]] != [
        it["probes"] for it in reports["s1"]["benchmarks"][0]["items"]]
    every = reports["all"]["benchmarks"][0]
    assert every["contaminated_ids"] == reports["s0"]["benchmarks"][0]["contaminated_ids"]
    assert all(it["probes"] == [] and len(it["normalized_question"]) - 49 == it["n_probes"]
               for it in every["items"] if len(it["normalized_question"]) >= 50)
    assert reports["all"]["config"]["sample"]["mode"] == "all"


# -------------------------------------------------------------------------------- fields and departures


def test_custom_fields_and_departures(run_cli, tmp_path, validate_report):
    bench = write_bench(tmp_path / "mine.jsonl", {"k1": Q1, "k2": Q2})
    rows = [
        {"doc": "plain", "content": "nothing here"},
        {"doc": "upper", "content": Q1.upper()},
        {"doc": "wide", "content": Q1.replace("many", "ｍａｎｙ")},  # fullwidth letters: --nfkc
        # a JSON string literal, wrapped inside a word that every probe covers: only --unescape finds it
        {"doc": "escaped", "content": json.dumps("x = " + Q2.replace("rotated", "rota\nted"))},
        {"doc": "answer", "content": "not probed"},
        {"content": "no doc id: " + Q2},
    ]
    write_jsonl(tmp_path / "corpus.jsonl", rows)
    base = ["check", "corpus.jsonl", "-b", "mine=mine.jsonl", "--question-field", "prompt", "--item-id-field",
            "key", "--text-field", "content", "--id-field", "doc"]
    expected = {(): [(5, "k2")], ("--lowercase",): [("upper", "k1"), (5, "k2")],
                ("--nfkc",): [("wide", "k1"), (5, "k2")], ("--unescape",): [("escaped", "k2"), (5, "k2")],
                ("--lowercase", "--nfkc", "--unescape"): [("upper", "k1"), ("wide", "k1"), ("escaped", "k2"),
                                                         (5, "k2")]}
    for flags, removed in expected.items():
        out = run_cli(*base, *flags, "--report", "r.json", "--overwrite", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        report = json.loads((tmp_path / "r.json").read_text("utf-8"))
        validate_report(report)
        assert [(r["doc_id"], r["item_id"]) for r in report["training"]["removed"]] == removed, flags
        assert report["config"]["text_field"] == "content" and report["config"]["id_field"] == "doc"
        assert {k for k, v in report["config"]["normalize"].items() if v} == {f[2:] for f in flags}
        section = report["benchmarks"][0]
        assert section["question_field"] == "prompt" and section["id_field"] == "key"
    assert bench.exists()


def test_several_text_fields_and_chats_from_the_command_line(run_cli, tmp_path, validate_report):
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1, "k2": Q2})
    half = len(Q1) // 2
    pairs = [{"id": "a", "prompt": "Solve: " + Q1, "response": "12"},
             {"id": "b", "prompt": "hi", "response": Q2},
             {"id": "c", "prompt": Q1[:half], "response": Q1[half:]}]  # split across the fields: not a match
    lines = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    args = ["filter", "pairs.jsonl", "-b", "mine=mine.jsonl", "--question-field", "prompt", "--item-id-field",
            "key", "--text-field", "prompt", "--text-field", "response", "-o", "out.jsonl", "--report", "r.json"]
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "out.jsonl").read_bytes() == lines[2] + b"\n"
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    validate_report(report)
    assert report["config"]["text_field"] == ["prompt", "response"]
    found = {(m["doc_id"], m["field"]) for b in report["benchmarks"] for it in b["items"] for m in it["matches"]}
    assert found == {("a", "prompt"), ("b", "response")}
    card = run_cli("report", "r.json", cwd=tmp_path)
    assert card.returncode == 0 and "`prompt`, `response` (each matched on its own)" in card.stdout, card.stderr
    again = run_cli("verify", "r.json", "pairs.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr

    chats = [{"id": "x", "messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": Q2}]}]
    write_jsonl(tmp_path / "chat.jsonl", chats)
    out = run_cli("check", "chat.jsonl", "-b", "mine=mine.jsonl", "--question-field", "prompt", "--item-id-field",
                  "key", "--report", "c.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "c.json").read_text("utf-8"))
    validate_report(report)
    assert report["corpus"]["text_fields"] == [{"source": "chat.jsonl", "fields": ["messages"]}]
    assert {(m["doc_id"], m["field"]) for it in report["benchmarks"][0]["items"] for m in it["matches"]} == \
        {("x", "messages[1]")}
    refused = run_cli("index", "build", "chat.jsonl", "-o", "ix", cwd=tmp_path)
    assert refused.returncode != 0 and "one text per document" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "ix").exists()


def test_registry_names_with_local_files(run_cli, tmp_path):
    write_jsonl(tmp_path / "HumanEval.jsonl", [{"task_id": "HumanEval/0", "prompt": Q2, "canonical_solution": Q1}])
    write_jsonl(tmp_path / "gsm.jsonl", [{"question": Q1, "answer": "9"}, {"question": "Unseen?", "answer": "1"}])
    write_jsonl(tmp_path / "corpus.jsonl", [{"id": "x", "text": Q1}, {"id": "y", "text": "y"}])
    out = run_cli("check", "corpus.jsonl", "-b", "humaneval=HumanEval.jsonl", "-b", "gsm8k=gsm.jsonl",
                  "--report", "r.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    he, gsm = report["benchmarks"]
    assert he["name"] == "humaneval" and he["question_field"] == "prompt" and he["id_field"] == "task_id"
    assert he["contaminated_ids"] == [] and he["clean_ids"] == ["HumanEval/0"]  # the solution is not probed
    assert gsm["contaminated_ids"] == [0] and gsm["clean_ids"] == [1] and gsm["id_field"] is None


# ------------------------------------------------------------------------------ formats, folders, order


def make_mixed_folder(root: Path) -> dict[str, list]:
    """a.jsonl, sub/b.jsonl.gz, c.parquet; every 4th row holds Q1."""
    def text(i: int) -> str:
        return f"row {i}: " + (Q1 if i % 4 == 1 else "an ordinary training document, nothing leaked")

    a = [{"id": f"a{i}", "text": text(i), "meta": {"k": [i]}} for i in range(8)]
    write_jsonl(root / "a.jsonl", a, ensure_ascii=False)
    b = [{"id": f"b{i}", "text": text(i) + " é"} for i in range(8)]
    (root / "sub").mkdir(parents=True)
    with gzip.open(root / "sub" / "b.jsonl.gz", "wb") as fh:
        fh.write(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in b))
    c = pa.table({"id": [f"c{i}" for i in range(8)], "text": [text(i) for i in range(8)],
                  "score": pa.array([i / 2 for i in range(8)], pa.float32())},
                 metadata={b"origin": b"test"})
    pq.write_table(c, root / "c.parquet")
    return {"a": a, "b": b, "c": c}


@pytest.mark.parametrize("num_proc", [1, 2])
def test_filter_a_folder_of_mixed_formats(run_cli, tmp_path, num_proc, validate_report):
    src = tmp_path / "corpus"
    data = make_mixed_folder(src)
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1})
    out = run_cli("filter", "corpus", "-b", "mine=mine.jsonl", "--question-field", "prompt", "-o", "clean",
                  "--report", "r.json", "--num-proc", num_proc, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert listing(tmp_path / "clean") == ["a.jsonl", "c.parquet", "sub", "sub/b.jsonl.gz"]
    keep = [i for i in range(8) if i % 4 != 1]
    a_lines = (src / "a.jsonl").read_bytes().splitlines()
    assert (tmp_path / "clean/a.jsonl").read_bytes() == b"".join(a_lines[i] + b"\n" for i in keep)
    b_lines = gzip.decompress((src / "sub/b.jsonl.gz").read_bytes()).splitlines()
    assert gzip.decompress((tmp_path / "clean/sub/b.jsonl.gz").read_bytes()) == b"".join(
        b_lines[i] + b"\n" for i in keep)
    got = pq.read_table(tmp_path / "clean/c.parquet")
    assert got.schema.equals(data["c"].schema, check_metadata=True)
    assert got.equals(data["c"].take(keep))
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    validate_report(report)
    assert report["corpus"]["sources"] == ["corpus/a.jsonl", "corpus/c.parquet", "corpus/sub/b.jsonl.gz"]
    assert report["benchmarks"][0]["items"][0]["matches"][0]["doc_id"] == "a1"
    assert report["training"]["n_documents"] == 24 and report["training"]["n_removed"] == 6
    assert [r["doc_id"] for r in report["training"]["removed"]] == ["a1", "a5", "c1", "c5", "b1", "b5"]


def test_num_proc_does_not_change_the_report(run_cli, tmp_path):
    make_mixed_folder(tmp_path / "corpus")
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1, "k2": Q2})
    reports = []
    for n in (1, 2):
        out = run_cli("check", "corpus", "-b", "mine=mine.jsonl", "--question-field", "prompt", "--report",
                      f"r{n}.json", "--num-proc", n, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        reports.append((tmp_path / f"r{n}.json").read_bytes())
    assert b"num_proc" not in reports[0]  # how a run is executed is not part of what it found
    assert reports[0] == reports[1]


def test_row_numbers_name_documents_without_ids_across_files(run_cli, tmp_path):
    write_jsonl(tmp_path / "c" / "1.jsonl", [{"text": "a"}, {"text": 3}, b"", {"text": "b"}])
    write_jsonl(tmp_path / "c" / "2.jsonl", [{"text": "c"}, {"text": "x " + Q2}])
    write_bench(tmp_path / "mine.jsonl", {"k2": Q2})
    out = run_cli("filter", "c", "-b", "mine=mine.jsonl", "--question-field", "prompt", "-o", "out", "--report",
                  "r.json", "--on-error", "skip", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    # rows: 1.jsonl -> 0 'a', 1 rejected, (blank line: no row), 2 'b'; 2.jsonl -> 3 'c', 4 Q2
    assert report["training"]["removed"][0]["doc_id"] == 4
    assert report["corpus"]["rejected"] == [{"source": "c/1.jsonl", "line": 2, "field": "text",
                                             "reason": report["corpus"]["rejected"][0]["reason"]}]
    assert (tmp_path / "out/1.jsonl").read_text() == '{"text": "a"}\n{"text": "b"}\n'
    assert (tmp_path / "out/2.jsonl").read_text() == '{"text": "c"}\n'


def test_output_permissions_are_ordinary(run_cli, tmp_path):
    import os

    make_mixed_folder(tmp_path / "corpus")
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1})
    out = run_cli("filter", "corpus", "-b", "mine=mine.jsonl", "--question-field", "prompt", "-o", "clean",
                  "--report", "r.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "clean").stat().st_mode & 0o777 == 0o777 & ~umask
    for p in ("clean/a.jsonl", "clean/c.parquet", "clean/sub/b.jsonl.gz", "r.json"):
        assert (tmp_path / p).stat().st_mode & 0o777 == 0o666 & ~umask, p


# ---------------------------------------------------------------------------------------------- bad input

GOOD1 = b'{"id": 1, "text": "first row"}'
GOOD3 = b'{"id": 3, "text": "third row"}'

# (description, the bad second line, expected field, words of the message, words of the skip reason)
BAD_LINES = [
    ("malformed JSON", b'{"id": 2, "text": "unterminated', None, ["malformed JSON", "--on-error skip"], "malformed"),
    ("missing text field", b'{"id": 2, "body": "x"}', "text", ["missing text field", "--text-field"], "missing"),
    ("non-string text", b'{"id": 2, "text": 42}', "text", ["must be a string, got int"], "got int"),
    ("null text", b'{"id": 2, "text": null}', "text", ["text is null"], "text is null"),
    ("invalid UTF-8", b'{"id": 2, "text": "caf\xe9"}', None, ["invalid UTF-8", "re-encode"], "invalid UTF-8"),
    ("not an object", b"[1, 2, 3]", None, ["expected a JSON object"], "expected a JSON object"),
    ("two objects on one line", b'{"id": 2, "text": "a"} {"id": 4, "text": "b"}', None, ["malformed JSON"],
     "malformed"),
]


@pytest.mark.parametrize(("bad", "field", "words", "reason"), [b[1:] for b in BAD_LINES],
                         ids=[b[0] for b in BAD_LINES])
def test_bad_rows_fail_clearly_or_are_skipped_and_counted(run_cli, tmp_path, bad, field, words, reason):
    write_jsonl(tmp_path / "corpus.jsonl", [GOOD1, bad, GOOD3])
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1})
    before = listing(tmp_path)
    args = ["filter", "corpus.jsonl", "-b", "mine=mine.jsonl", "--question-field", "prompt", "-o", "out/clean.jsonl",
            "--report", "out/report.json"]
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert out.stderr.startswith("decontam: error: corpus.jsonl, line 2")
    assert (f"field {field!r}" in out.stderr) == (field is not None)
    assert all(w in out.stderr for w in words), out.stderr
    assert "Traceback" not in out.stderr
    assert_no_trace(tmp_path, before)
    # with --on-error skip: counted, listed, left out of the output
    out = run_cli(*args, "--on-error", "skip", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "out/report.json").read_text("utf-8"))
    corpus = report["corpus"]
    assert corpus["n_rejected"] == 1 and corpus["n_documents"] == 2
    (rejected,) = corpus["rejected"]
    assert (rejected["source"], rejected["line"], rejected["field"]) == ("corpus.jsonl", 2, field)
    assert reason in rejected["reason"]
    assert (tmp_path / "out/clean.jsonl").read_bytes() == GOOD1 + b"\n" + GOOD3 + b"\n"
    assert "Rejected input rows (skipped): 1." in out.stdout


def test_a_malformed_line_at_the_end_of_a_big_file_leaves_nothing(run_cli, tmp_path):
    corpus = tmp_path / "big.jsonl"
    with corpus.open("w") as fh:
        for i in range(190_000):
            fh.write(json.dumps({"id": i, "text": f"row {i}: " + ("x" * 60 if i != 7 else Q1)}) + "\n")
        fh.write('{"id": "bad", "text": oops}\n{"id": "last", "text": "fine"}\n')
    assert corpus.stat().st_size > 16 << 20  # more than one read block: rows were written before the failure
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1})
    before = listing(tmp_path)
    out = run_cli("filter", "big.jsonl", "-b", "mine=mine.jsonl", "--question-field", "prompt", "-o",
                  "clean.jsonl", "--report", "report.json", cwd=tmp_path)
    assert out.returncode == 1
    assert "big.jsonl, line 190001" in out.stderr and "malformed JSON" in out.stderr
    assert not (tmp_path / "clean.jsonl").exists() and not (tmp_path / "report.json").exists()
    assert_no_trace(tmp_path, before)


@pytest.mark.parametrize("num_proc", [1, 2])
def test_a_bad_file_in_a_folder_leaves_no_output_folder(run_cli, tmp_path, num_proc):
    make_mixed_folder(tmp_path / "corpus")
    write_jsonl(tmp_path / "corpus" / "z.jsonl", [GOOD1, GOOD3, b'{"id": 9, "text": 9}'])
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1})
    before = listing(tmp_path)
    out = run_cli("filter", "corpus", "-b", "mine=mine.jsonl", "--question-field", "prompt", "-o", "out/clean",
                  "--report", "out/report.json", "--num-proc", num_proc, cwd=tmp_path)
    assert out.returncode == 1
    assert "z.jsonl, line 3, field 'text'" in out.stderr
    assert not (tmp_path / "out/clean").exists() and not (tmp_path / "out/report.json").exists()
    assert_no_trace(tmp_path, before)


def test_check_failure_leaves_no_report_and_keeps_an_old_one(run_cli, tmp_path):
    write_jsonl(tmp_path / "corpus.jsonl", [GOOD1, b"{oops"])
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1})
    (tmp_path / "report.json").write_text("previous report")
    args = ["check", "corpus.jsonl", "-b", "mine=mine.jsonl", "--question-field", "prompt", "--report", "report.json"]
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 2 and "--overwrite" in out.stderr  # refused before any work
    out = run_cli(*args, "--overwrite", cwd=tmp_path)
    assert out.returncode == 1 and "line 2" in out.stderr  # the run fails: the old report stays
    assert (tmp_path / "report.json").read_text() == "previous report"
    assert not [p for p in listing(tmp_path) if ".partial" in p]


def test_bad_parquet_text_column(run_cli, tmp_path):
    pq.write_table(pa.table({"id": [1, 2], "text": [5, 6]}), tmp_path / "ints.parquet")
    pq.write_table(pa.table({"id": [1, 2, 3], "text": ["ok", None, Q1]}), tmp_path / "nulls.parquet")
    write_bench(tmp_path / "mine.jsonl", {"k1": Q1})
    b = ["-b", "mine=mine.jsonl", "--question-field", "prompt"]
    out = run_cli("check", "ints.parquet", *b, cwd=tmp_path)
    assert out.returncode == 1 and "ints.parquet, field 'text'" in out.stderr and "strings" in out.stderr
    out = run_cli("filter", "nulls.parquet", *b, "-o", "o.parquet", cwd=tmp_path)
    assert out.returncode == 1 and "nulls.parquet, line 2, field 'text'" in out.stderr
    assert not (tmp_path / "o.parquet").exists()
    out = run_cli("filter", "nulls.parquet", *b, "-o", "o.parquet", "--report", "r.json", "--on-error", "skip",
                  cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert pq.read_table(tmp_path / "o.parquet").to_pydict() == {"id": [1], "text": ["ok"]}
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["corpus"]["rejected"][0]["line"] == 2 and report["training"]["removed"][0]["doc_id"] == 3


# (description, arguments, files to create, exit code, words of the error)
USAGE = [
    ("no command", [], 2, ["usage"]),
    ("unknown option", ["check", "c.jsonl", "-b", "mine=b.jsonl", "--colour"], 2, ["unrecognized", "--colour"]),
    ("no benchmark", ["check", "c.jsonl"], 2, ["-b/--benchmark"]),
    ("filter without -o", ["filter", "c.jsonl", "-b", "mine=b.jsonl"], 2, ["-o/--output"]),
    ("bad --probes", ["check", "c.jsonl", "-b", "mine=b.jsonl", "--question-field", "q", "--probes", "many"], 2,
     ["probes"]),
    ("bad --num-proc", ["check", "c.jsonl", "-b", "mine=b.jsonl", "--question-field", "q", "--num-proc", "0"], 2,
     ["--num-proc", "positive number of processes or auto"]),
    ("bad --on-error", ["check", "c.jsonl", "-b", "mine=b.jsonl", "--on-error", "ignore"], 2, ["invalid choice"]),
    ("custom benchmark without --question-field", ["check", "c.jsonl", "-b", "mine=b.jsonl"], 2,
     ["--question-field"]),
    ("unknown benchmark name", ["check", "c.jsonl", "-b", "humaneval2"], 1,
     ["unknown benchmark 'humaneval2'", "humaneval", "-b humaneval2=path"]),
    ("missing corpus file", ["check", "nope.jsonl", "-b", "mine=b.jsonl", "--question-field", "q"], 1,
     ["nope.jsonl", "no such file"]),
    ("missing benchmark file", ["check", "c.jsonl", "-b", "mine=nope.jsonl", "--question-field", "q"], 1,
     ["nope.jsonl", "no such file"]),
    ("corpus of an unsupported format", ["check", "b.csv", "-b", "mine=b.jsonl", "--question-field", "q"], 1,
     ["b.csv", "unsupported corpus format"]),
    ("empty corpus file", ["check", "empty.jsonl", "-b", "mine=b.jsonl", "--question-field", "q"], 1,
     ["empty.jsonl", "empty"]),
    ("empty corpus folder", ["check", "void", "-b", "mine=b.jsonl", "--question-field", "q"], 1,
     ["void", "no .jsonl"]),
    ("output in another format", ["filter", "c.jsonl", "-b", "mine=b.jsonl", "--question-field", "q", "-o",
                                  "o.parquet"], 2, ["o.parquet", "jsonl"]),
    ("output folder not empty", ["filter", "c.jsonl", "b.jsonl", "-b", "mine=b.jsonl", "--question-field", "q", "-o",
                                 "full"], 2, ["-o full", "exists", "--overwrite"]),
    ("report path is a folder", ["check", "c.jsonl", "-b", "mine=b.jsonl", "--question-field", "q", "--report",
                                 "full"], 2, ["--report", "folder"]),
]


@pytest.mark.parametrize(("args", "code", "words"), [u[1:] for u in USAGE], ids=[u[0] for u in USAGE])
def test_exit_codes_and_messages(run_cli, tmp_path, args, code, words):
    write_jsonl(tmp_path / "c.jsonl", [{"id": "d", "text": Q1}])
    write_jsonl(tmp_path / "b.jsonl", [{"q": Q1}])
    (tmp_path / "b.csv").write_text("q\nx\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "void").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    before = listing(tmp_path)
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == code, out.stderr
    assert all(w in out.stderr for w in words), out.stderr
    assert "Traceback" not in out.stderr
    assert_no_trace(tmp_path, before)


def test_registry_name_without_a_file_offline_says_to_pass_one(run_cli, tmp_path):
    write_jsonl(tmp_path / "c.jsonl", [{"text": Q1}])
    out = run_cli("check", "c.jsonl", "-b", "gsm8k", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "gsm8k" in out.stderr and "-b gsm8k=" in out.stderr and "Traceback" not in out.stderr


# -------------------------------------------------------------------------------- property: the oracle

TOKENS = ["a", "b", "ab", "A", "0", "1", "é", "Ω", "ß", "\u0301", "ﬁ", "２", " ", ",", "\n", "\\n", "&amp;", "_",
          "\t", "\"", "-"]
token = st.sampled_from(TOKENS)


@st.composite
def cli_cases(draw):
    questions = draw(st.lists(st.lists(token, max_size=50).map("".join), min_size=1, max_size=3))
    docs = []
    for _ in range(draw(st.integers(1, 6))):
        q = draw(st.sampled_from(questions))
        kind = draw(st.sampled_from(["noise", "plant", "respaced", "near-miss"]))
        noise = "".join(draw(st.lists(token, max_size=20)))
        if kind == "noise" or not q:
            docs.append(noise)
        elif kind == "plant":
            docs.append(noise + q)
        elif kind == "respaced":
            docs.append(" ".join(q) + noise)
        else:
            i = draw(st.integers(0, len(q) - 1))
            docs.append(q[:i] + "z" + q[i + 1 :])
    flags = []
    flags += ["--probe-length", str(draw(st.sampled_from([2, 5, 16, 50])))]
    flags += ["--probes", str(draw(st.sampled_from(["1", "3", "all"])))]
    flags += ["--seed", str(draw(st.integers(0, 2)))]
    flags += [f for f in ("--lowercase", "--nfkc", "--unescape") if draw(st.booleans())]
    return questions, docs, flags, draw(st.booleans())


@settings(max_examples=6, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cli_cases())
def test_cli_filter_matches_the_oracle(run_cli, assert_report_exact, validate_report, case):
    questions, docs, flags, ascii_json = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ids = [f"d{i}" for i in range(len(docs))]
        lines = write_jsonl(tmp / "corpus.jsonl", [{"id": d, "text": t} for d, t in zip(ids, docs)], ascii_json)
        write_jsonl(tmp / "q.jsonl", [{"question": q} for q in questions])
        out = run_cli("filter", "corpus.jsonl", "-b", "q=q.jsonl", "--question-field", "question", *flags,
                      "-o", "out.jsonl", "--report", "r.json", cwd=tmp)
        norm = NormalizeConfig(**{k: f"--{k}" in flags for k in ("lowercase", "nfkc", "unescape")})
        if all(normalize(q, norm) == "" for q in questions):  # no probe at all: refused, nothing written
            assert out.returncode == 2 and "no item of the benchmarks has a probe" in out.stderr, out.stderr
            assert not (tmp / "out.jsonl").exists() and not (tmp / "r.json").exists()
            return
        assert out.returncode == 0, out.stderr
        report = json.loads((tmp / "r.json").read_text("utf-8"))
        validate_report(report)
        bench = Benchmark.from_items("q", [Item(i, q) for i, q in enumerate(questions)])
        truth = assert_report_exact(report, docs, ids, [bench])
        kept = [line for line, d in zip(lines, ids) if d not in truth["docs"]]
        assert (tmp / "out.jsonl").read_bytes() == b"".join(line + b"\n" for line in kept)
