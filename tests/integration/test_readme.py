"""The README's Quick start works as written, and says what it does.

The first ```bash block of README.md's first section ("Quick start") installs decontam and runs it on the
repository's examples/; the second runs the tests (it is what .ci/run runs). Here the decontam command of the
first block runs in a subprocess (the installed package stands in for ``pip install .``) with cwd = a
temporary folder holding a copy of examples/, and its outputs are held to what README.md and
examples/README.md say about them.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from decontam import load_benchmark


def first_section(readme: str) -> str:
    """The text of the first ``## `` section, which must be the Quick start."""
    parts = re.split(r"^## ", readme, flags=re.M)
    assert len(parts) > 1 and parts[1].lower().startswith("quick start"), "README.md must open with ## Quick start"
    return "## " + parts[1]


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, flags=re.M | re.S)


def decontam_command(block: str) -> list[str]:
    """The ``decontam ...`` command of a shell block (after any ``&&``, continuation lines joined)."""
    joined = block.replace("\\\n", " ")
    for line in joined.splitlines():
        for part in line.split("&&"):
            words = shlex.split(part, comments=True)
            if words and words[0] == "decontam":
                return words[1:]
    raise AssertionError(f"no decontam command in:\n{block}")


def option(args: list[str], *names: str) -> str:
    for i, a in enumerate(args):
        if a in names:
            return args[i + 1]
    raise AssertionError(f"no {names} in {args}")


@pytest.fixture(scope="module")
def readme(repo_root) -> str:
    return (repo_root / "README.md").read_text("utf-8")


@pytest.fixture(scope="module")
def quick_start(readme) -> list[str]:
    blocks = bash_blocks(first_section(readme))
    assert len(blocks) >= 2, "README.md's Quick start needs a run block and a test block"
    return blocks[:2]


def examples_claims(examples_dir: Path) -> dict[str, tuple[str, bool]]:
    """What examples/README.md says: ``doc -> (item, found by the default rule?)``."""
    claims = {}
    for doc, item, rest in re.findall(r"^\s*- `(doc-\d+)`: .*?`(toy-\d+)`(.*)$",
                                      (examples_dir / "README.md").read_text("utf-8"), flags=re.M):
        never = "never a match" in rest
        lowercase_only = "only `--lowercase`" in rest
        claims[doc] = (item, not (never or lowercase_only))
    return claims


def test_quick_start_runs_and_does_what_the_readme_says(quick_start, readme, examples_dir, tmp_path, run_cli,
                                                        validate_report):
    args = decontam_command(quick_start[0])
    assert args[0] in ("filter", "check")
    shutil.copytree(examples_dir, tmp_path / "examples")
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report_path = tmp_path / option(args, "--report")
    report = json.loads(report_path.read_text("utf-8"))
    validate_report(report)

    claims = examples_claims(examples_dir)
    assert len(claims) >= 6, claims  # "Six of them hold benchmark material"
    found = {d: i for d, (i, by_default) in claims.items() if by_default}
    removed = {(r["doc_id"], r["item_id"]) for r in report["training"]["removed"]}
    # every leak examples/README.md says the default rule finds is found, with its item; the others are not
    assert set(found.items()) <= removed
    assert not {d for d, _ in removed} & {d for d, (_, by_default) in claims.items() if not by_default}
    # and nothing else is, except what short questions used whole explain (checked by the oracle)
    bench_arg = option(args, "-b", "--benchmark")
    name, _, path = bench_arg.partition("=")
    section = report["benchmarks"][0]
    assert section["name"] == name and section["n_items"] == len(load_benchmark(
        name, tmp_path / path, question_field=section["question_field"], id_field=section["id_field"]).items)
    extra = {(d, i) for d, i in removed if d not in found}
    for doc_id, item_id in extra:
        entry = next(it for it in section["items"] if it["id"] == item_id)
        assert len(entry["probes"]) == 1 and len(entry["probes"][0]) < 50, (doc_id, item_id)

    # the README's own figures ("4 of the 10 toy items", "36 of 40 documents")
    m = re.search(r"(\d+) of the (\d+) toy items", readme)
    assert m, "README.md no longer says how many toy items are found: update this test with it"
    assert (section["n_contaminated"], section["n_items"]) == (int(m[1]), int(m[2]))
    m = re.search(r"\((\d+) of (\d+) documents", readme)
    assert m, "README.md no longer says how many documents are kept: update this test with it"
    assert (report["training"]["n_kept"], report["training"]["n_documents"]) == (int(m[1]), int(m[2]))
    if args[0] == "filter":
        output = tmp_path / option(args, "-o", "--output")
        lines = (tmp_path / "examples" / "corpus.jsonl").read_bytes().splitlines()
        removed_docs = {d for d, _ in removed}
        kept = [line for line in lines if json.loads(line)["id"] not in removed_docs]
        assert output.read_bytes() == b"".join(line + b"\n" for line in kept)
    assert f"| {name} | {section['n_items']} | {section['n_contaminated']} |" in out.stdout


def test_examples_readme_command_runs_too(examples_dir, tmp_path, run_cli):
    blocks = bash_blocks((examples_dir / "README.md").read_text("utf-8"))
    assert blocks, "examples/README.md has no bash block to run"
    args = decontam_command(blocks[0])
    shutil.copytree(examples_dir, tmp_path / "examples")
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / option(args, "--report")).exists()


def test_the_test_block_is_what_ci_runs(quick_start, repo_root):
    block = quick_start[1]
    assert "pytest" in block
    ci = repo_root / ".ci" / "run"
    assert ci.is_file(), "the README says .ci/run runs the tests"
    commands = [line for line in ci.read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert commands[-1].strip() == block.strip().replace("\\\n", " ").splitlines()[-1].strip()


def test_every_examples_file_the_readmes_mention_exists_and_loads(readme, repo_root, examples_dir):
    mentioned = set(re.findall(r"examples/([\w./-]+\.\w+)", readme))
    mentioned |= set(re.findall(r"`([\w-]+\.jsonl)`", (examples_dir / "README.md").read_text("utf-8")))
    assert {"corpus.jsonl", "benchmark.jsonl"} <= mentioned
    for name in sorted(mentioned):
        path = examples_dir / name
        assert path.is_file(), f"README mentions examples/{name}, which does not exist"
        if name.endswith(".jsonl"):
            rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
            assert rows and all(isinstance(r, dict) for r in rows)
    bench = load_benchmark("toy", examples_dir / "benchmark.jsonl", question_field="question", id_field="id")
    assert len(bench.items) == 10  # "a 10-item toy benchmark"
    corpus = [json.loads(line) for line in (examples_dir / "corpus.jsonl").read_text("utf-8").splitlines()]
    assert len(corpus) == 40 and len({r["id"] for r in corpus}) == 40  # "40 training documents (id, text)"
    assert all(set(r) == {"id", "text"} for r in corpus)
    assert all(set(r) == {"id", "question", "answer"} for r in
               (json.loads(line) for line in (examples_dir / "benchmark.jsonl").read_text("utf-8").splitlines()))
