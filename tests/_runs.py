"""Real runs of the command line (``python -m decontam ...`` as a subprocess), stopped the way a user stops
them, and what they leave behind: shared by the fault tests (``tests/integration/test_faults.py``) and the
Ray engine's (``tests/integration/test_ray_engine.py``).

A run started here is in its own session and process group, as a terminal job is; a real Ctrl-C is
``os.killpg(p.pid, signal.SIGINT)``. ``tests/conftest.py`` kills, after each test, any run the test left going.
POSIX only (process groups, ``/proc``).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

ENV = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1",
       "PYTHONIOENCODING": "utf-8"}

STARTED: list[subprocess.Popen[str]] = []  # every run started here, for conftest to kill if its test fails


def start(args: list[object], cwd: Path, file_size_limit: int | None = None,
          env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m decontam ARGS`` in its own session and process group, with Ctrl-C as a terminal leaves it
    (a shell that starts a job in the background makes its children ignore SIGINT; undo that), and optionally
    a file size limit: a write past it fails with EFBIG, as on a full disk (SIGXFSZ ignored, as ``ulimit -f``
    users have it). ``env``: the environment (default :data:`ENV`)."""

    def child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if file_size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    p = subprocess.Popen([sys.executable, "-m", "decontam", *map(str, args)], cwd=cwd, env=dict(env or ENV),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                         preexec_fn=child)  # noqa: PLW1509 - the test starts no thread
    STARTED.append(p)
    return p


def kill_started() -> None:
    """Kill every run started here that is still going (and its process group)."""
    while STARTED:
        p = STARTED.pop()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()


def finish(p: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"decontam did not stop within {timeout} s (killed)")
    return p.returncode, out, err


def run(args: list[object], cwd: Path, file_size_limit: int | None = None) -> tuple[int, str, str]:
    return finish(start(args, cwd, file_size_limit))


def tree(folder: Path) -> set[str]:
    """Every path under ``folder``, files and folders, hidden ones included."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def assert_one_line(err: str, prefix: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), f"expected one line {prefix!r}..., got:\n{err}"
    assert "Traceback" not in err
    return lines[0]


def spools_of(pid: int, kind: str = "parts") -> list[Path]:
    """The spool folders a run with this process id left (the parts engine, ``kind="parts"``, and the index
    build, ``"index"``, put them in shared memory or the temporary folder, named by the run's process id)."""
    return [p for d in (Path("/dev/shm"), Path(tempfile.gettempdir())) if d.is_dir()
            for p in d.glob(f".decontam-{kind}-{pid}-*")]


def group_gone(pgid: int, within: float = 5.0) -> bool:
    """Whether every process of the run's group (its workers too) has exited."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def staged_bytes(folder: Path, name: str = "") -> list[int]:
    """Sizes of the temporary output files a run is writing under ``folder`` (of the outputs whose name starts
    with ``name``, if given)."""
    return [p.stat().st_size for p in folder.rglob(f".{name}*.partial") if p.is_file()]


def stdlib_rows(limit_bytes: int) -> list[dict]:
    """Rows of real text: Python's own standard library sources, in a fixed order (about 30 MB)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    rows, total = [], 0
    for p in sorted(root.rglob("*.py")):
        if "site-packages" in p.parts or not p.is_file():
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rows.append({"id": p.relative_to(root).as_posix(), "text": text})
        total += len(text)
        if total >= limit_bytes:
            break
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def write_big_corpus(d: Path) -> Path:
    """About 48 MB of real text (three 16 MB read blocks) in ``d``: as one file (``one.jsonl``) and as a folder
    of four files (``four/``)."""
    rows = stdlib_rows(24 << 20)
    rows = rows + [{"id": f"copy/{r['id']}", "text": r["text"]} for r in rows]
    write_jsonl(d / "one.jsonl", rows)
    quarter = -(-len(rows) // 4)
    for k in range(4):
        write_jsonl(d / "four" / f"part-{k}.jsonl", rows[k * quarter : (k + 1) * quarter])
    return d


def bench(shared: Path, *names: str) -> list[str]:
    """``-b NAME=PATH`` arguments for real benchmark files of ``shared/benchmarks``."""
    paths = {"humaneval": "humaneval", "gsm8k-test": "gsm8k/test.jsonl", "gsm8k": "gsm8k/train.jsonl", "mmlu": "mmlu/test"}
    return [a for n in names for a in ("-b", f"{n.split('-')[0]}={shared / paths[n]}")]
