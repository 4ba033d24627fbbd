"""The messages of benchmark loading through the command line (issue 11): every hint names a flag the command
has, a misspelled registry name fails alike with or without a path, a folder entry that cannot be read stops
the run naming it, and the hub, unreachable, fails within seconds instead of retrying for half a minute.

Each test runs ``python -m decontam`` in a subprocess, on real benchmark files from ``shared/benchmarks``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import decontam
from decontam.benchmarks import hub_unreachable

SHARED_HUMANEVAL = ("humaneval", "HumanEval.jsonl.gz")
MESSAGE_MODULES = ("registry.py", "benchmarks.py", "benchmark_files.py")


@pytest.fixture(scope="module")
def check_flags(run_cli) -> set[str]:
    out = run_cli("check", "--help")
    assert out.returncode == 0, out.stderr
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", out.stdout))


def _flags_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text))


@pytest.fixture()
def corpus(tmp_path) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "d0", "text": "nothing to see here"}) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- hints name real flags


def test_every_flag_named_in_a_benchmark_message_is_a_flag_of_check(check_flags):
    """Every ``--flag`` in the string literals of the benchmark modules is one ``decontam check`` takes."""
    named: dict[str, set[str]] = {}
    for module in MESSAGE_MODULES:
        tree = ast.parse((Path(decontam.__file__).parent / module).read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for flag in _flags_in(node.value):
                    named.setdefault(flag, set()).add(module)
    assert "--question-field" in named and "--item-id-field" in named  # the scan sees the hints
    unknown = {flag: sorted(mods) for flag, mods in named.items() if flag not in check_flags}
    assert not unknown, f"hints name flags `decontam check` does not have: {unknown}"


def test_missing_item_id_hint_names_item_id_field(run_cli, corpus, tmp_path, check_flags):
    bench = tmp_path / "mine.jsonl"
    bench.write_text('{"id": "a", "q": "What is two and two?"}\n{"q": "What is three and three?"}\n')
    res = run_cli("check", corpus, "-b", f"mine={bench}", "--question-field", "q", "--item-id-field", "id")
    assert res.returncode == 1
    assert f"{bench}, line 2, field 'id': the item id is missing" in res.stderr
    assert "--item-id-field mine=FIELD" in res.stderr and "--id-field" not in _flags_in(res.stderr)
    assert _flags_in(res.stderr) <= check_flags
    # the hint works: with another id field the benchmark loads
    bench.write_text('{"id": "a", "key": 1, "q": "What is two and two?"}\n{"key": 2, "q": "What is three?"}\n')
    res = run_cli("check", corpus, "-b", f"mine={bench}", "--question-field", "q", "--item-id-field", "mine=key")
    assert res.returncode == 0, res.stderr


def test_question_field_hint_for_a_registry_benchmark_works_as_written(run_cli, corpus, shared_benchmarks):
    """GSM8K's file given as HumanEval: the hint says --question-field humaneval=FIELD, and following it loads."""
    path = shared_benchmarks / "gsm8k" / "test.jsonl"
    res = run_cli("check", corpus, "-b", f"humaneval={path}")
    assert res.returncode == 1
    assert "the question field 'prompt' is in none of the 1319 row(s) (fields present: question, answer)" in res.stderr
    assert "--question-field humaneval=FIELD" in res.stderr
    res = run_cli("check", corpus, "-b", f"humaneval={path}", "--question-field", "humaneval=question")
    assert res.returncode == 1  # next: HumanEval's id field, task_id
    assert "the item id field 'task_id' is in none of the 1319 row(s)" in res.stderr
    assert "--item-id-field humaneval=FIELD" in res.stderr
    res = run_cli("check", corpus, "-b", f"humaneval={path}", "--question-field", "humaneval=question",
                  "--item-id-field", "humaneval=question")  # questions are unique: usable as ids
    assert res.returncode == 0, res.stderr


# --------------------------------------------------------------------------------- misspelled registry names


def test_misspelled_registry_name_fails_alike_with_or_without_a_path(run_cli, corpus, shared_benchmarks, check_flags):
    path = shared_benchmarks.joinpath(*SHARED_HUMANEVAL)
    bare = run_cli("check", corpus, "-b", "humaneaval")
    with_path = run_cli("check", corpus, "-b", f"humaneaval={path}")
    assert bare.returncode == with_path.returncode == 1
    for res in (bare, with_path):
        assert "unknown benchmark 'humaneaval'. Did you mean 'humaneval'" in res.stderr
        assert "--question-field FIELD" in res.stderr  # how to use a name of one's own
        assert _flags_in(res.stderr) <= check_flags
    assert f"Did you mean 'humaneval' (-b humaneval={path})?" in with_path.stderr
    # following either hint works
    res = run_cli("check", corpus, "-b", f"humaneval={path}")
    assert res.returncode == 0, res.stderr
    res = run_cli("check", corpus, "-b", f"humaneaval={path}", "--question-field", "prompt")
    assert res.returncode == 0, res.stderr
    assert "humaneaval" in res.stdout


def test_a_name_far_from_the_registry_still_asks_for_its_question_field(run_cli, corpus, shared_benchmarks):
    path = shared_benchmarks.joinpath(*SHARED_HUMANEVAL)
    res = run_cli("check", corpus, "-b", f"my-code-set={path}")
    assert res.returncode == 2
    assert "is not in the registry, so its question field must be given" in res.stderr
    assert "Did you mean" not in res.stderr


# ------------------------------------------------------------------------------- folders with unreadable entries


def test_a_folder_with_a_broken_link_stops_the_check_naming_it(run_cli, corpus, tmp_path, shared_benchmarks):
    folder = tmp_path / "mmlu"
    folder.mkdir()
    for name in ("anatomy_test.csv", "astronomy_test.csv"):
        (folder / name).symlink_to(shared_benchmarks / "mmlu" / "test" / name)
    (folder / "virology_test.csv").symlink_to(tmp_path / "elsewhere" / "virology_test.csv")
    res = run_cli("check", corpus, "-b", f"mmlu={folder}")
    assert res.returncode == 1
    assert f"{folder / 'virology_test.csv'}: broken symbolic link" in res.stderr
    assert "a benchmark with a file left out is a different benchmark" in res.stderr
    (folder / "virology_test.csv").unlink()
    res = run_cli("check", corpus, "-b", f"mmlu={folder}", "--report", tmp_path / "r.json")
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["benchmarks"][0]["n_items"] == 135 + 152  # anatomy + astronomy


# ------------------------------------------------------------------------------------------------- offline


def _without_offline_settings() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.update(TQDM_DISABLE="1", PYTHONIOENCODING="utf-8")
    return env


def _timed_check(corpus: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "decontam", "check", corpus.name, "-b", "gsm8k"], cwd=corpus.parent,
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    return res, time.monotonic() - start


def _assert_fails_fast(res: subprocess.CompletedProcess[str], seconds: float) -> None:
    assert res.returncode == 1, res.stderr
    assert seconds < 5, f"took {seconds:.1f} s"
    assert "benchmark 'gsm8k' could not be fetched from the Hugging Face hub" in res.stderr
    assert "we seem to be offline" in res.stderr and "HF_HUB_OFFLINE=1" in res.stderr
    assert "Pass a local file instead: -b gsm8k=PATH" in res.stderr
    assert "Retrying" not in res.stderr  # datasets was never called


def test_hub_without_network_fails_within_seconds_without_offline_settings(corpus):
    """This machine has no route to huggingface.co: the check must fail fast (it retried for ~25 s)."""
    reason = hub_unreachable()
    if reason is None:
        pytest.skip("huggingface.co is reachable from here; the next test covers an unreachable hub anywhere")
    res, seconds = _timed_check(corpus, _without_offline_settings())
    _assert_fails_fast(res, seconds)


def test_hub_endpoint_that_refuses_fails_within_seconds(corpus):
    with socket.socket() as sock:  # a port nothing listens on (bound, then released)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _without_offline_settings()
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{port}"
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(var, None)
    res, seconds = _timed_check(corpus, env)
    _assert_fails_fast(res, seconds)
    assert f"no connection to 127.0.0.1:{port}" in res.stderr
