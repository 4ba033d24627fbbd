"""Tests of decontam.guard: outputs never replace an existing file unless asked, never land on, inside or
around an input (whatever ``overwrite`` says; links and ``./a`` vs ``a`` count as the same path), and two runs
cannot hold one output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from decontam.errors import ConfigError, OutputBusyError, OutputExistsError, PathConflictError
from decontam.guard import OutputLock, check_outputs


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "bench.jsonl").write_text('{"q": "y"}\n')
    (tmp_path / "old.json").write_text("{}")
    os.symlink(tmp_path / "bench.jsonl", tmp_path / "link.jsonl")
    os.symlink(tmp_path / "corpus" / "a.jsonl", tmp_path / "link2.jsonl")
    return tmp_path


INPUTS = ["corpus", "bench.jsonl"]


@pytest.mark.parametrize("output, words", [
    ("bench.jsonl", "is the input"),
    ("./bench.jsonl", "is the input"),
    ("corpus/../bench.jsonl", "is the input"),
    ("link.jsonl", "is the input"),  # a link to an input file is that file
    ("link2.jsonl", "lies inside the input"),  # a link to a file of an input folder
    ("corpus/a.jsonl", "lies inside the input"),
    ("corpus/new.jsonl", "lies inside the input"),
    ("corpus/sub/new.jsonl", "lies inside the input"),
    (".", "holds the input"),
], ids=["same file", "dot slash", "dot dot", "symlink", "symlink into folder", "file in input folder", "new file in input folder",
        "deeper in input folder", "folder holding inputs"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_outputs_on_inside_or_around_inputs_are_refused_even_with_overwrite(tree, output, words, overwrite):
    with pytest.raises(PathConflictError) as info:
        check_outputs([("-o", output)], INPUTS, overwrite=overwrite)
    assert words in str(info.value) and str(info.value).startswith(f"-o {output}")
    assert isinstance(info.value, ConfigError)  # exit code 2 on the command line


def test_an_existing_output_needs_overwrite(tree):
    with pytest.raises(OutputExistsError) as info:
        check_outputs([("--report", "old.json")], INPUTS)
    assert "--overwrite" in str(info.value) and "overwrite=True" in str(info.value)
    check_outputs([("--report", "old.json")], INPUTS, overwrite=True)
    check_outputs([("--report", "new.json"), ("--markdown", None)], INPUTS)
    assert (tree / "old.json").read_text() == "{}"


def test_two_outputs_on_one_path_are_refused(tree):
    with pytest.raises(PathConflictError, match="same path"):
        check_outputs([("--report", "r.json"), ("--markdown", "./r.json")], INPUTS)


def test_a_lock_keeps_a_second_run_out_and_leaves_nothing(tree):
    with OutputLock(["out/clean.jsonl", "r.json", None]):
        assert sorted(p.name for p in (tree / "out").iterdir()) == [".clean.jsonl.decontam-lock"]
        code = ("import sys; from decontam.guard import OutputLock\n"
                "try:\n    OutputLock(['r.json']).__enter__()\n"
                "except Exception as e:\n    print(type(e).__name__, e); sys.exit(3)\n")
        done = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True)
        assert done.returncode == 3 and done.stdout.startswith("OutputBusyError")
        assert f"process {os.getpid()}" in done.stdout and "r.json" in done.stdout
    assert not (tree / "out").exists()  # the folder made for the lock is gone with it
    assert not list(tree.glob(".*lock"))


def test_a_lock_left_by_a_killed_run_is_taken_over(tree):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tree / ".r.json.decontam-lock").write_text(dead.stdout.strip())  # that process has ended
    with OutputLock(["r.json"]):
        assert (tree / ".r.json.decontam-lock").read_text() == str(os.getpid())
    assert not (tree / ".r.json.decontam-lock").exists()


def test_the_same_run_cannot_take_one_lock_twice(tree):
    with OutputLock(["r.json"]), pytest.raises(OutputBusyError):
        OutputLock(["r.json"]).__enter__()


# ------------------------------------------------------------------------- the API functions that write paths

Q = "What is the capital city of France, and why was it chosen as the capital?"


@pytest.fixture
def bench(tree):
    (tree / "b.jsonl").write_text('{"q": "' + Q + '"}\n')
    return "t=b.jsonl"


def test_filter_files_and_filter_dataset_refuse_an_existing_output_unless_overwrite(tree, bench):
    from decontam import filter_dataset, filter_files

    (tree / "taken.jsonl").write_text("mine")
    for call in (lambda **kw: filter_files(["corpus/a.jsonl"], [bench], "taken.jsonl", question_field="q",
                                           progress=False, **kw),
                 lambda **kw: filter_dataset(os.path.join("corpus", "a.jsonl"), [bench], output="taken.jsonl",
                                             question_field="q", progress=False, **kw)):
        with pytest.raises(OutputExistsError, match="overwrite=True"):
            call()
        assert (tree / "taken.jsonl").read_text() == "mine"
    (tree / "r.json").write_text("mine")
    with pytest.raises(OutputExistsError, match="report_path r.json"):
        filter_files(["corpus/a.jsonl"], [bench], "new.jsonl", question_field="q", report_path="r.json",
                     progress=False)
    assert not (tree / "new.jsonl").exists() and (tree / "r.json").read_text() == "mine"
    filter_files(["corpus/a.jsonl"], [bench], "taken.jsonl", question_field="q", progress=False, overwrite=True)
    assert (tree / "taken.jsonl").read_text() == '{"text": "x"}\n'


@pytest.mark.parametrize("output", ["corpus/a.jsonl", "./corpus/a.jsonl", "link2.jsonl", "b.jsonl"])
def test_filter_files_never_writes_an_input_even_with_overwrite(tree, bench, output):
    from decontam import filter_files

    before = {p: p.read_bytes() for p in (tree / "corpus/a.jsonl", tree / "b.jsonl")}
    as_report = output == "b.jsonl"  # the benchmark is an input too
    with pytest.raises(PathConflictError, match="input"):
        filter_files(["corpus/a.jsonl"], [bench], "new.jsonl" if as_report else output, question_field="q",
                     report_path=output if as_report else None, progress=False, overwrite=True)
    assert {p: p.read_bytes() for p in before} == before and not (tree / "new.jsonl").exists()


def test_report_save_and_portrait_export_refuse_an_existing_file_unless_overwrite(tree, bench):
    from pathlib import Path

    from decontam import CorpusIndex, check

    report = check([Path("corpus/a.jsonl")], [bench], question_field="q", progress=False)
    with pytest.raises(OutputExistsError):
        report.save("old.json")
    assert (tree / "old.json").read_text() == "{}"
    report.save("old.json", overwrite=True)
    assert json.loads((tree / "old.json").read_text())["corpus"]["sources"] == ["corpus/a.jsonl"]
    index = CorpusIndex.build(["corpus/a.jsonl"], "ix", progress=False)
    (tree / "p.dcp").write_text("mine")
    with pytest.raises(OutputExistsError):
        index.export_portrait("p.dcp")
    assert (tree / "p.dcp").read_text() == "mine"
    with pytest.raises(PathConflictError, match="lies inside the input"):
        index.export_portrait("ix/p.dcp", overwrite=True)
    index.export_portrait("p.dcp", overwrite=True)
    assert (tree / "p.dcp").read_bytes().startswith(b"DECONTAMPORTRAIT")
