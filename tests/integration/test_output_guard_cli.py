"""Every command that writes, run as a real subprocess (``python -m decontam``): an output path that exists is
refused before any work (exit 2, the file untouched) unless ``--overwrite`` is given, and an output that is an
input (corpus, benchmark, report, index, portrait, results), lies inside an input folder or holds an input is
refused even with ``--overwrite``, whether it is named as the input is, as ``./input``, or through a symlink.

The guard itself (``decontam.guard``) has its own unit tests; these show that each command hands it every path
it reads and writes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

Q = "What is the capital city of France, and why was it chosen as the capital?"
B = ["-b", "t=b.jsonl", "--question-field", "q"]
TAKEN = "somebody's data, not to be lost"


@pytest.fixture(scope="module")
def base(tmp_path_factory, run_cli) -> Path:
    """A corpus folder, a benchmark, a report of a check, an index, a portrait and rescore results."""
    d = tmp_path_factory.mktemp("guard")
    (d / "corpus").mkdir()
    rows = [{"id": "d0", "text": "nothing here"}, {"id": "d1", "text": "copied: " + Q}]
    (d / "corpus" / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "b.jsonl").write_text(json.dumps({"q": Q}) + "\n" + json.dumps({"q": "Name a prime number."}) + "\n")
    (d / "results.jsonl").write_text('{"doc_id": 0, "acc": 1.0}\n{"doc_id": 1, "acc": 0.0}\n')
    for args in (["check", "corpus/c.jsonl", *B, "--report", "r.json"],
                 ["index", "build", "corpus", "-o", "ix", "--no-progress"],
                 ["index", "portrait", "ix", "-o", "p.dcp"]):
        done = run_cli(*args, cwd=d)
        assert done.returncode == 0, (args, done.stderr)
    return d


@pytest.fixture()
def work(base, tmp_path) -> Path:
    shutil.copytree(base, tmp_path / "w")
    return tmp_path / "w"


def digest(path: Path) -> str:
    """The content of a file or a folder (every file's relative path and bytes)."""
    h = hashlib.sha256()
    for p in sorted([path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]):
        h.update(p.relative_to(path.parent).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes().hex() if p.is_file() else "dir")
            for p in sorted(folder.rglob("*")) if not p.is_symlink()}


# (name, the command with OUT for the output, the flag the message names, the output's name)
WRITERS = [
    ("filter -o", ["filter", "corpus/c.jsonl", *B, "-o", "OUT"], "-o", "taken.jsonl"),
    ("filter -o a folder", ["filter", "corpus", *B, "-o", "OUT"], "-o", "taken/"),
    ("filter --report", ["filter", "corpus/c.jsonl", *B, "-o", "new.jsonl", "--report", "OUT"], "--report", "taken.json"),
    ("filter --markdown", ["filter", "corpus/c.jsonl", *B, "-o", "new.jsonl", "--markdown", "OUT"], "--markdown",
     "taken.md"),
    ("check --report", ["check", "corpus/c.jsonl", *B, "--report", "OUT"], "--report", "taken.json"),
    ("check --markdown", ["check", "corpus/c.jsonl", *B, "--markdown", "OUT"], "--markdown", "taken.md"),
    ("report -o", ["report", "r.json", "-o", "OUT"], "-o", "taken.md"),
    ("rescore --json", ["rescore", "r.json", "--results", "results.jsonl", "--json", "OUT"], "--json", "taken.json"),
    ("verify --rerun", ["verify", "r.json", "corpus/c.jsonl", "--rerun", "OUT"], "--rerun", "taken.json"),
    ("merge -o", ["merge", "r.json", "-o", "OUT"], "-o", "taken.json"),
    ("index build -o", ["index", "build", "corpus", "-o", "OUT", "--no-progress"], "-o", "taken/"),
    ("index merge -o", ["index", "merge", "ix", "-o", "OUT"], "-o", "taken/"),
    ("index portrait -o", ["index", "portrait", "ix", "-o", "OUT"], "-o", "taken.dcp"),
    ("index check --report", ["index", "check", "ix", *B, "--report", "OUT"], "--report", "taken.json"),
    ("index check --markdown", ["index", "check", "p.dcp", *B, "--markdown", "OUT"], "--markdown", "taken.md"),
]


@pytest.mark.parametrize(("args", "flag", "name"), [w[1:] for w in WRITERS], ids=[w[0] for w in WRITERS])
def test_an_existing_output_is_refused_before_any_work_unless_overwrite(work, run_cli, args, flag, name):
    folder = name.endswith("/")
    name = name.rstrip("/")
    taken = work / name
    if folder:
        taken.mkdir()
        (taken / "keep.txt").write_text(TAKEN)
    else:
        taken.write_text(TAKEN)
    before = snapshot(work)
    command = [a if a != "OUT" else name for a in args]
    done = run_cli(*command, cwd=work)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"decontam: error: {flag} {name}: the {'folder' if folder else 'file'} exists; "
                                  "pass --overwrite"), done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""
    assert snapshot(work) == before  # nothing written, nothing begun ("before any work")
    done = run_cli(*command, "--overwrite", cwd=work)
    assert done.returncode == 0, done.stderr
    assert not (taken / "keep.txt").exists() if folder else taken.read_bytes() != TAKEN.encode()  # replaced whole


# (name, the command (with --overwrite), the input it must not touch, words of the message)
ON_INPUTS = [
    ("filter -o the corpus", ["filter", "corpus/c.jsonl", *B, "-o", "corpus/c.jsonl"], "corpus/c.jsonl",
     "-o corpus/c.jsonl is the input corpus/c.jsonl"),
    ("filter -o ./corpus", ["filter", "corpus/c.jsonl", *B, "-o", "./corpus/c.jsonl"], "corpus/c.jsonl",
     "-o ./corpus/c.jsonl is the input corpus/c.jsonl"),
    ("filter -o a link to the corpus", ["filter", "corpus/c.jsonl", *B, "-o", "link.jsonl"], "corpus/c.jsonl",
     "-o link.jsonl is the input corpus/c.jsonl"),
    ("filter -o inside the corpus folder", ["filter", "corpus", *B, "-o", "corpus/clean"], "corpus",
     "-o corpus/clean lies inside the input corpus"),
    ("filter -o the folder holding the corpus", ["filter", "corpus", *B, "-o", "."], "corpus",
     "-o . holds the input corpus"),
    ("filter --report the benchmark", ["filter", "corpus/c.jsonl", *B, "-o", "new.jsonl", "--report", "b.jsonl"],
     "b.jsonl", "--report b.jsonl is the input b.jsonl"),
    ("check --report the corpus", ["check", "corpus/c.jsonl", *B, "--report", "corpus/c.jsonl"], "corpus/c.jsonl",
     "--report corpus/c.jsonl is the input corpus/c.jsonl"),
    ("check --markdown the benchmark", ["check", "corpus/c.jsonl", *B, "--markdown", "./b.jsonl"], "b.jsonl",
     "--markdown ./b.jsonl is the input b.jsonl"),
    ("report -o the report", ["report", "r.json", "-o", "r.json"], "r.json", "-o r.json is the input r.json"),
    ("rescore --json the results", ["rescore", "r.json", "--results", "results.jsonl", "--json", "results.jsonl"],
     "results.jsonl", "--json results.jsonl is the input results.jsonl"),
    ("verify --rerun the report", ["verify", "r.json", "corpus/c.jsonl", "--rerun", "r.json"], "r.json",
     "--rerun r.json is the input r.json"),
    ("merge -o a shard", ["merge", "r.json", "-o", "./r.json"], "r.json", "-o ./r.json is the input r.json"),
    ("index build -o inside the corpus", ["index", "build", "corpus", "-o", "corpus/ix", "--no-progress"], "corpus",
     "-o corpus/ix lies inside the input corpus"),
    ("index merge -o the index", ["index", "merge", "ix", "-o", "ix"], "ix", "-o ix is the input ix"),
    ("index portrait -o inside the index", ["index", "portrait", "ix", "-o", "ix/p.dcp"], "ix",
     "-o ix/p.dcp lies inside the input ix"),
    ("index check --report the portrait", ["index", "check", "p.dcp", *B, "--report", "p.dcp"], "p.dcp",
     "--report p.dcp is the input p.dcp"),
]


@pytest.mark.parametrize(("args", "source", "words"), [c[1:] for c in ON_INPUTS], ids=[c[0] for c in ON_INPUTS])
def test_an_output_on_inside_or_around_an_input_is_refused_even_with_overwrite(work, run_cli, args, source, words):
    (work / "link.jsonl").symlink_to(work / "corpus" / "c.jsonl")
    kept = digest(work / source)
    before = snapshot(work)
    done = run_cli(*args, "--overwrite", cwd=work)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"decontam: error: {words}"), done.stderr
    assert "never writes to or inside an input" in done.stderr or "would destroy the input" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert digest(work / source) == kept and snapshot(work) == before


@pytest.mark.parametrize("kind", ["named pipe", "socket"])
@pytest.mark.parametrize(("args", "flag", "name"), [w[1:] for w in WRITERS if not w[3].endswith("/")],
                         ids=[w[0] for w in WRITERS if not w[3].endswith("/")])
def test_a_pipe_or_socket_in_an_outputs_place_is_refused_even_with_overwrite(work, run_cli, args, flag, name, kind):
    """An output is written whole and renamed into place, which would replace a named pipe, a socket or a device
    (``--report /dev/null`` made ``/dev/null`` a regular file): refused, and the entry left as it was."""
    import os
    import socket
    import stat

    taken = work / name
    if kind == "named pipe":
        os.mkfifo(taken)
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(taken))
        sock.close()
    done = run_cli(*[a if a != "OUT" else name for a in args], "--overwrite", cwd=work)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"decontam: error: {flag} {name} is a {kind}, not a file"), done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""
    mode = os.lstat(taken).st_mode
    assert stat.S_ISFIFO(mode) if kind == "named pipe" else stat.S_ISSOCK(mode)


@pytest.mark.parametrize("name", ["clean.json", "out.txt"])
def test_one_files_output_named_like_another_kind_of_file_is_refused(work, run_cli, name):
    """``-o clean.json`` for one JSONL file silently made a folder ``clean.json/c.jsonl``: refused before any work,
    saying what to name it; a folder of that name made beforehand, or a name without a suffix, is a folder
    output as before."""
    before = snapshot(work)
    done = run_cli("filter", "corpus/c.jsonl", *B, "-o", name, cwd=work)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"decontam: error: output {name}: for one input file, -o is a file in its format "
                                  "(name it with the suffix .jsonl) or a folder"), done.stderr
    assert snapshot(work) == before
    (work / name).mkdir()
    assert run_cli("filter", "corpus/c.jsonl", *B, "-o", name, cwd=work).returncode == 0
    assert run_cli("filter", "corpus/c.jsonl", *B, "-o", "plain", cwd=work).returncode == 0
    assert (work / name / "c.jsonl").read_bytes() == (work / "plain" / "c.jsonl").read_bytes()
