"""Real faults, no mocks: the command line run as a real subprocess under a file size limit (a full disk, as
the writes see it), under an address-space limit (memory exhausted), with Python's recursion limit lowered (an
exception no part of decontam raises on purpose, standing for a bug), interrupted by a real SIGINT sent to its
process group (as a terminal's Ctrl-C is, so the worker processes get it too), with a worker killed, reading a
folder with a dangling symlink or entries it may not read, losing its report path while it runs, and racing a
second run for the same output.

Whatever happens, a run ends with exit 1 (or 130 when interrupted), one line on stderr that names the file
concerned, no traceback, and nothing left behind: no output, no report, no temporary file, no lock file, no
folder it created. POSIX only (file size limits, process groups, ``/proc`` to see what a run has open).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _runs import (
    ENV,
    assert_one_line,
    bench,
    finish,
    group_gone,
    run,
    spools_of,
    staged_bytes,
    start,
    stdlib_rows,
    tree,
    write_jsonl,
)

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs POSIX signals and /proc")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """About 1 MB of real text as .jsonl, .jsonl.gz and .parquet files, a folder of two files, and a tiny file."""
    d = tmp_path_factory.mktemp("small")
    rows = stdlib_rows(1 << 20)
    write_jsonl(d / "c.jsonl", rows)
    import gzip

    (d / "c.jsonl.gz").write_bytes(gzip.compress((d / "c.jsonl").read_bytes(), mtime=0))
    pq.write_table(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}), d / "c.parquet")
    write_jsonl(d / "two" / "a.jsonl", rows[: len(rows) // 2])
    write_jsonl(d / "two" / "b.jsonl", rows[len(rows) // 2 :])
    write_jsonl(d / "tiny.jsonl", rows[:3])
    return d


# ------------------------------------------------------------------------------------------- full disk


# (description, corpus, output, the file the message must name, benchmarks, extra flags)
FULL_DISK = [
    ("jsonl output", "c.jsonl", "out/clean.jsonl", "out/clean.jsonl", ["humaneval"], []),
    ("jsonl.gz output", "c.jsonl.gz", "out/clean.jsonl.gz", "out/clean.jsonl.gz", ["humaneval"], []),
    ("parquet output", "c.parquet", "out/clean.parquet", "out/clean.parquet", ["humaneval"], []),
    ("folder output, 2 workers", "two", "out/clean", "out/clean/", ["humaneval"], ["--num-proc", "2"]),
    ("report (the outputs fit)", "tiny.jsonl", "out/clean.jsonl", "out/report.json", ["gsm8k-test"], []),
]


@pytest.mark.parametrize(("corpus", "output", "named", "benchmarks", "extra"), [c[1:] for c in FULL_DISK],
                         ids=[c[0] for c in FULL_DISK])
def test_a_full_disk_fails_naming_the_file_and_leaves_nothing(small, shared_benchmarks, tmp_path, corpus, output,
                                                              named, benchmarks, extra):
    (tmp_path / "in").symlink_to(small)
    before = tree(tmp_path)
    code, out, err = run(["filter", f"in/{corpus}", *bench(shared_benchmarks, *benchmarks), "-o", output,
                          "--report", "out/report.json", "--markdown", "out/report.md", "--no-progress", *extra],
                         tmp_path, file_size_limit=64 << 10)
    assert code == 1, err
    line = assert_one_line(err, f"decontam: error: cannot write {named}")
    assert "File too large" in line and "no output was written" in line
    assert tree(tmp_path) == before  # no output, report, temporary file, lock file or folder of the run
    assert out == ""


def test_a_full_disk_fails_check_naming_its_report(small, shared_benchmarks, tmp_path):
    before = tree(tmp_path)
    code, _, err = run(["check", small / "tiny.jsonl", *bench(shared_benchmarks, "gsm8k-test"), "--report",
                        "reports/r.json", "--no-progress"], tmp_path, file_size_limit=64 << 10)
    assert code == 1
    assert "cannot write reports/r.json: File too large" in assert_one_line(err, "decontam: error: ")
    assert tree(tmp_path) == before


def test_a_full_disk_while_one_file_is_scanned_in_parts_leaves_no_spool(big_corpus, shared_benchmarks, tmp_path):
    """One large file, two workers: its parts spool text and kept rows (in /dev/shm, or beside the output) and
    those writes meet the limit too. One line naming a file of the run, nothing left, no spool, no worker."""
    before = tree(tmp_path)
    p = start(["filter", big_corpus / "one.jsonl", *bench(shared_benchmarks, "humaneval"), "--num-proc", "2", "-o",
               "out/clean.jsonl", "--report", "out/report.json", "--no-progress"], tmp_path,
              file_size_limit=64 << 10)
    code, out, err = finish(p)
    assert code == 1, err
    line = assert_one_line(err, "decontam: error: cannot write ")
    named = line.removeprefix("decontam: error: cannot write ").split(":")[0]
    assert named == "out/clean.jsonl" or f".decontam-parts-{p.pid}-" in named, line
    assert "File too large" in line and "no output was written" in line
    assert group_gone(p.pid) and spools_of(p.pid) == []
    assert tree(tmp_path) == before and out == ""


# ------------------------------------------------------------------------------------ unexpected errors

# decontam's command line with Python's recursion limit set N frames above where it is called: every call
# deeper than that fails with a RecursionError, an exception no part of decontam raises on purpose. Its modules
# are imported first (importing numpy nests deeper than any run's calls: the boundary would be found there).
_RECURSION = ("import inspect, sys\nimport decontam.cli.index, decontam.cli.reports, decontam.cli.scan, "
              "decontam.filter\nfrom decontam.cli.app import main\n"
              "sys.setrecursionlimit(len(inspect.stack()) + int(sys.argv[1]))\nsys.exit(main(sys.argv[2:]))\n")


def test_an_unexpected_exception_is_one_line_asking_for_a_bug_report_and_leaves_nothing(small, tmp_path):
    """A bug stands in for any bug here: the recursion limit, lowered so that a run fails wherever its calls
    go deepest, from parsing the arguments to reading the second file (after the first file's output was
    begun). Each failure: exit 1, one line saying it is a bug and how to report it, nothing left behind; with
    DECONTAM_TRACEBACK=1 the traceback follows that line."""
    (tmp_path / "b.jsonl").write_text('{"key": 1, "prompt": "a question nobody copied anywhere, long enough"}\n')
    (tmp_path / "in").mkdir()
    shutil.copy(small / "tiny.jsonl", tmp_path / "in" / "a.jsonl")
    pq.write_table(pq.read_table(small / "c.parquet").slice(0, 5), tmp_path / "in" / "b.parquet")
    before = tree(tmp_path)
    args = ["filter", "in", *BENCH, "-o", "out", "--report", "r.json", "--markdown", "r.md", "--no-progress"]

    def run_at(depth: int, **env: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-c", _RECURSION, str(depth), *args], cwd=tmp_path,
                              env={**ENV, **env}, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            line = (done.stderr.splitlines() or [""])[0]
            assert line.startswith("decontam: internal error: RecursionError: maximum recursion depth exceeded"), \
                (depth, done.stderr[-3000:])
            assert "; no output was written. This is a bug in decontam" in line and "DECONTAM_TRACEBACK=1" in line
            assert done.returncode == 1 and tree(tmp_path) == before, (depth, done.stderr)
            assert ("Traceback" in done.stderr) == bool(env) and (len(done.stderr.splitlines()) == 1) != bool(env)
        return done.returncode, done.stderr

    low, high = 10, 400  # the run fails at depth `low` and succeeds at `high`; find the boundary
    assert run_at(low)[0] == 1
    for path in ("out", "r.json", "r.md"):
        assert not (tmp_path / path).exists()
    assert run_at(high)[0] == 0
    for path in ("out", "r.json", "r.md"):
        shutil.rmtree(tmp_path / path) if (tmp_path / path).is_dir() else (tmp_path / path).unlink()
    while high - low > 1:
        mid = (low + high) // 2
        if run_at(mid)[0] == 0:
            high = mid
            for path in ("out", "r.json", "r.md"):
                shutil.rmtree(tmp_path / path) if (tmp_path / path).is_dir() else (tmp_path / path).unlink()
        else:
            low = mid
    tracebacks = [run_at(depth, DECONTAM_TRACEBACK="1")[1] for depth in (low, low - 1, low - 2, low // 2)]
    assert any("decontam/scan/" in t for t in tracebacks), "no failure was met inside the scan: the test " \
                                                             "no longer shows a run failing midway"


def _vm_peak_kib(stderr: str) -> int:
    return int(next(line for line in stderr.splitlines() if line.startswith("VmPeak")).split()[1])


_VM_PEAK = ("import atexit, runpy, sys\n"
            "atexit.register(lambda: sys.stderr.write(''.join(l for l in open('/proc/self/status') "
            "if l.startswith('VmPeak'))))\n"
            "sys.argv = ['decontam'] + sys.argv[1:]\nrunpy.run_module('decontam', run_name='__main__')\n")


def test_out_of_memory_is_one_line_saying_what_to_change_and_leaves_nothing(tmp_path):
    """A 1.5 GB line allowed by --max-doc-bytes, read under an address-space limit 512 MB above what the same
    command needs on a small file: a MemoryError, said in one line, no output, no temporary file."""
    import gzip

    (tmp_path / "b.jsonl").write_text('{"key": 1, "prompt": "a question nobody copied anywhere, long enough"}\n')
    block = gzip.compress(b"a" * (16 << 20), compresslevel=1)  # gzip members in a row are one stream
    with (tmp_path / "bomb.jsonl.gz").open("wb") as fh:
        fh.write(gzip.compress(b'{"text": "ok"}\n{"text": "'))
        for _ in range(96):
            fh.write(block)
        fh.write(gzip.compress(b'"}\n'))
    (tmp_path / "small.jsonl.gz").write_bytes(gzip.compress(b'{"text": "ok"}\n{"text": "short"}\n'))
    args = [*BENCH, "--max-doc-bytes", "4G", "--report", "r.json", "--no-progress"]
    done = subprocess.run([sys.executable, "-c", _VM_PEAK, "filter", "small.jsonl.gz", *args, "-o", "s.jsonl.gz"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    limit = _vm_peak_kib(done.stderr) * 1024 + (512 << 20)
    (tmp_path / "r.json").unlink()
    before = tree(tmp_path)

    def child() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "decontam", "filter", "bomb.jsonl.gz", *args, "-o", "o.jsonl.gz"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120,
                          preexec_fn=child)  # noqa: PLW1509 - the test starts no thread
    assert done.returncode == 1, done.stderr[-3000:]
    assert_one_line(done.stderr, "decontam: error: out of memory; no output was written: lower --max-doc-bytes")
    assert tree(tmp_path) == before


# --------------------------------------------------------------------------------------------- Ctrl-C


def open_files(pid: int) -> list[str]:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    out = []
    for fd in fds:
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return out


def reached(phase: str, p: subprocess.Popen[str], work: Path, shared: Path, total: int, n_files: int) -> bool:
    if phase == "loading benchmarks":
        return any(f.startswith(os.path.realpath(shared)) for f in open_files(p.pid))
    sizes = staged_bytes(work / "out")
    if phase == "scanning":
        return sum(sizes) > 0
    # near the end: one file: its output 40% of the input's size written (the rows kept are 47% of it: MMLU's
    # probe "43" removes 582 of its documents; the report's temporary file is not counted, as its size depends
    # on the benchmarks); four files: three written (the last one is being scanned)
    if n_files == 1:
        return sum(staged_bytes(work / "out", "clean")) >= 0.4 * total
    return sum(s > 0 for s in sizes) >= n_files - 1


CTRL_C = [
    ("one file, loading benchmarks", "one.jsonl", "loading benchmarks"),
    ("one file, scanning", "one.jsonl", "scanning"),
    ("one file, near the end", "one.jsonl", "near the end"),
    ("four files, scanning", "four", "scanning"),
    ("four files, near the end", "four", "near the end"),
]


@pytest.mark.parametrize(("corpus", "phase"), [c[1:] for c in CTRL_C], ids=[c[0] for c in CTRL_C])
def test_ctrl_c_stops_a_run_with_workers_at_once_and_leaves_nothing(big_corpus, shared_benchmarks, tmp_path, corpus,
                                                                      phase):
    """A real Ctrl-C to a ``--num-proc 2`` run (one large file: its parts go to the workers; four files: whole
    files do): exit 130 within moments, one line, no worker traceback, no process left, nothing written."""
    before = tree(tmp_path)
    src = big_corpus / corpus
    total = sum(f.stat().st_size for f in ([src] if src.is_file() else src.iterdir()))
    output = "out/clean.jsonl" if src.is_file() else "out/clean"
    p = start(["filter", src, *bench(shared_benchmarks, "mmlu", "gsm8k"), "--num-proc", "2", "-o", output,
               "--report", "out/report.json", "--no-progress"], tmp_path)
    n_files = 1 if src.is_file() else 4
    deadline = time.monotonic() + 60
    while not reached(phase, p, tmp_path, shared_benchmarks, total, n_files):
        assert p.poll() is None, f"the run ended before {phase}: {p.communicate()}"
        assert time.monotonic() < deadline, f"never saw {phase}"
        time.sleep(0.001)
    os.killpg(p.pid, signal.SIGINT)
    sent = time.monotonic()
    code, _, err = finish(p, timeout=30)
    took = time.monotonic() - sent
    assert code == 130, (code, err)
    assert took < 10, f"took {took:.1f} s to stop"
    assert_one_line(err, "decontam: interrupted; no output was written")
    assert group_gone(p.pid), "a worker process outlived the run"
    assert tree(tmp_path) == before
    assert spools_of(p.pid) == []


# The console script (``from decontam.cli import entry``) or ``python -m decontam``, with a real SIGINT sent to the
# process the moment the module named in argv[1] is first looked for: a Ctrl-C while the command line loads.
_SIGINT_ON_IMPORT = (
    "import os, runpy, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # (as from a terminal, not a background job)
    "target = sys.argv[1]\n"
    "class Ctrl:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == globals()['target']:\n"
    "            sys.meta_path.remove(self)\n"
    "            os.kill(os.getpid(), signal.SIGINT)\n"
    "        return None\n"
    "sys.meta_path.insert(0, Ctrl())\n"
    "how, sys.argv = sys.argv[2], ['decontam', *sys.argv[3:]]\n"
    "if how == 'script':\n"
    "    from decontam.cli import entry\n"
    "    entry()\n"
    "runpy.run_module('decontam', run_name='__main__', alter_sys=True)\n"
)


@pytest.mark.parametrize("how", ["script", "module"])
@pytest.mark.parametrize("module", ["decontam.cli.app", "numpy", "decontam.scan", "decontam.report"])
def test_ctrl_c_while_the_command_loads_is_one_line_not_a_traceback(small, tmp_path, how, module):
    """Ctrl-C in the first moments of a run, while its modules are imported (about 0.13 s of every run): exit
    130 and the usual one line, as at any other moment; nothing written."""
    (tmp_path / "b.jsonl").write_text('{"key": 1, "prompt": "a question nobody copied anywhere, long enough"}\n')
    before = tree(tmp_path)
    done = subprocess.run([sys.executable, "-c", _SIGINT_ON_IMPORT, module, how, "check", str(small / "tiny.jsonl"),
                           *BENCH, "--report", "r.json", "--no-progress"], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert_one_line(done.stderr, "decontam: interrupted; no output was written")
    assert tree(tmp_path) == before


# The console script, with a real SIGINT sent to the process by an exit handler: a Ctrl-C while the interpreter
# shuts down after a run that finished.
_SIGINT_AT_EXIT = ("import atexit, os, signal, sys\n"
                   "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                   "atexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))\n"
                   "sys.argv = ['decontam', *sys.argv[1:]]\n"
                   "from decontam.cli import entry\n"
                   "entry()\n")


def test_ctrl_c_while_a_finished_run_exits_changes_nothing(small, tmp_path):
    """The run is over (outputs in place, summary printed): a Ctrl-C as the interpreter shuts down neither prints
    a traceback nor turns exit 0 into 130."""
    (tmp_path / "b.jsonl").write_text('{"key": 1, "prompt": "a question nobody copied anywhere, long enough"}\n')
    done = subprocess.run([sys.executable, "-c", _SIGINT_AT_EXIT, "check", str(small / "tiny.jsonl"), *BENCH,
                           "--report", "r.json", "--no-progress"], cwd=tmp_path, env=ENV, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", (done.returncode, done.stderr)
    assert json.loads((tmp_path / "r.json").read_text())["corpus"]["n_documents"] == 3


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_a_worker_killed_midway_fails_the_run_clearly(big_corpus, shared_benchmarks, tmp_path):
    """A worker killed from outside (the out-of-memory killer, say): exit 1 with one line saying so, not a
    ``BrokenProcessPool`` traceback; the other worker stopped, nothing written."""
    before = tree(tmp_path)
    p = start(["filter", big_corpus / "one.jsonl", *bench(shared_benchmarks, "gsm8k-test"), "--num-proc", "2", "-o",
               "out/clean.jsonl", "--report", "out/report.json", "--no-progress"], tmp_path)
    deadline = time.monotonic() + 60
    while not (staged_bytes(tmp_path / "out") and children(p.pid)):
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.001)
    victim = children(p.pid)[0]
    os.kill(victim, signal.SIGKILL)
    code, _, err = finish(p, timeout=30)
    assert code == 1, err
    line = assert_one_line(err, f"decontam: error: a worker process ({victim}) stopped before giving its result")
    assert "killed by signal 9 (SIGKILL)" in line and "--num-proc" in line
    assert group_gone(p.pid)
    assert tree(tmp_path) == before
    assert spools_of(p.pid) == []


def index_spools(pid: int) -> list[Path]:
    """The spool folders an index build with this process id left (shared memory, or its staging folder)."""
    return [p for d in (Path("/dev/shm"), Path(tempfile.gettempdir())) if d.is_dir()
            for p in d.glob(f".decontam-index-{pid}-*")]


def index_phase(phase: str, pid: int, work: Path) -> bool:
    """Where an index build by two processes is: its workers reading parts into spools, or sorting the table."""
    if phase == "reading":
        return any(any(s.glob("*.text")) for s in index_spools(pid))
    return any(p.parent.name.startswith(".") for p in work.rglob("keys.u64"))  # in the staging folder


@pytest.mark.parametrize("phase", ["reading", "sorting the table"])
def test_ctrl_c_stops_an_index_build_with_workers_and_leaves_nothing(big_corpus, tmp_path, phase):
    """A real Ctrl-C to ``index build --num-proc 2`` on one large file (its parts read by the workers, then the
    table sorted by them): exit 130 at once, one line, no process, no staging folder, no spool left."""
    before = tree(tmp_path)
    p = start(["index", "build", big_corpus / "one.jsonl", "-o", "ix", "--num-proc", "2", "--no-progress"], tmp_path)
    deadline = time.monotonic() + 60
    while not index_phase(phase, p.pid, tmp_path):
        assert p.poll() is None, f"the build ended before {phase}: {p.communicate()}"
        assert time.monotonic() < deadline, f"never saw {phase}"
        time.sleep(0.001)
    os.killpg(p.pid, signal.SIGINT)
    sent = time.monotonic()
    code, _, err = finish(p, timeout=30)
    assert code == 130, (code, err)
    assert time.monotonic() - sent < 10
    assert_one_line(err, "decontam: interrupted")
    assert group_gone(p.pid), "a worker process outlived the build"
    assert tree(tmp_path) == before
    assert index_spools(p.pid) == []


def test_a_worker_killed_midway_fails_an_index_build_clearly(big_corpus, tmp_path):
    before = tree(tmp_path)
    p = start(["index", "build", big_corpus / "one.jsonl", "-o", "ix", "--num-proc", "2", "--no-progress"], tmp_path)
    deadline = time.monotonic() + 60
    while not (index_phase("reading", p.pid, tmp_path) and children(p.pid)):
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.001)
    victim = children(p.pid)[0]
    os.kill(victim, signal.SIGKILL)
    code, _, err = finish(p, timeout=30)
    assert code == 1, err
    line = assert_one_line(err, f"decontam: error: a worker process ({victim}) stopped before giving its result")
    assert "killed by signal 9 (SIGKILL)" in line
    assert group_gone(p.pid)
    assert tree(tmp_path) == before
    assert index_spools(p.pid) == []


# ----------------------------------------------------------------------------------------- dangling link


@pytest.fixture()
def linked(tmp_path, small) -> Path:
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "a.jsonl", [{"id": 1, "text": "a real row"}, {"id": 2, "text": "another one"}])
    (corpus / "gone.jsonl").symlink_to(tmp_path / "moved-away.jsonl")  # points nowhere
    (tmp_path / "b.jsonl").write_text('{"key": 1, "prompt": "a question nobody copied anywhere, long enough"}\n')
    return tmp_path


BENCH = ["-b", "mine=b.jsonl", "--question-field", "prompt"]


def test_a_dangling_symlink_given_as_corpus_is_named(linked):
    code, _, err = run(["check", "corpus/gone.jsonl", *BENCH], linked)
    assert code == 1
    assert "corpus/gone.jsonl" in assert_one_line(err, "decontam: error: ")


def test_a_dangling_symlink_in_a_corpus_folder_is_an_error_naming_it(linked):
    before = tree(linked)
    code, _, err = run(["filter", "corpus", *BENCH, "-o", "out", "--report", "r.json", "--no-progress"], linked)
    assert code == 1, err
    assert "gone.jsonl" in assert_one_line(err, "decontam: error: ")
    assert tree(linked) == before


def test_a_dangling_symlink_in_a_corpus_folder_is_a_counted_skip(linked):
    code, _, err = run(["filter", "corpus", *BENCH, "-o", "out", "--report", "r.json", "--on-error", "skip",
                        "--no-progress"], linked)
    assert code == 0, err
    corpus = json.loads((linked / "r.json").read_text("utf-8"))["corpus"]
    named = [r for r in corpus["skipped_files"] if "gone.jsonl" in r["path"]]
    assert named and corpus["n_skipped_files"] == len(named) and "link" in named[0]["reason"]
    assert (linked / "out" / "a.jsonl").read_bytes() == (linked / "corpus" / "a.jsonl").read_bytes()


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                    reason="as root, needs setpriv to drop the capabilities that override file permissions")
def test_a_corpus_file_or_subfolder_that_cannot_be_read_is_named_or_a_counted_skip(linked):
    """Permission denied on a file and on a subfolder of a corpus folder (the subfolder was once skipped without
    a word: the folder walk drops what it cannot list unless asked)."""
    (linked / "corpus" / "gone.jsonl").unlink()
    write_jsonl(linked / "corpus" / "locked" / "b.jsonl", [{"id": 3, "text": "never read"}])
    write_jsonl(linked / "corpus" / "secret.jsonl", [{"id": 4, "text": "never read"}])
    (linked / "corpus" / "locked").chmod(0)
    (linked / "corpus" / "secret.jsonl").chmod(0)
    # root ignores file permissions: drop the capabilities that let it (for another user they apply as they are)
    prefix = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
              "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []

    def check(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, sys.executable, "-m", "decontam", "check", "corpus", *BENCH, "--no-progress",
                               *extra], cwd=linked, env=ENV, capture_output=True, text=True, timeout=120)

    try:
        raised = check()
        skipped = check("--on-error", "skip", "--report", "r.json")
        (linked / "corpus" / "secret.jsonl").unlink()
        subfolder = check()
    finally:
        (linked / "corpus" / "locked").chmod(0o755)
    assert raised.returncode == 1
    assert "corpus/secret.jsonl: cannot be read (permission denied)" in assert_one_line(raised.stderr,
                                                                                        "decontam: error: ")
    assert subfolder.returncode == 1
    assert "corpus/locked: a folder that cannot be read (Permission denied)" in assert_one_line(subfolder.stderr,
                                                                                                "decontam: error: ")
    assert skipped.returncode == 0, skipped.stderr
    corpus = json.loads((linked / "r.json").read_text("utf-8"))["corpus"]
    assert sorted(Path(f["path"]).name for f in corpus["skipped_files"]) == ["locked", "secret.jsonl"]
    assert corpus["n_skipped_files"] == 2 and corpus["n_documents"] == 2  # a.jsonl's two rows, no more
    assert "decontam: warning: 2 entries of the corpus folders were not read" in skipped.stderr


# ------------------------------------------------------------------------------------ the report fails


def test_a_report_path_under_a_file_is_refused_before_any_work(small, tmp_path):
    (tmp_path / "notes").write_text("a file, not a folder")
    (tmp_path / "b.jsonl").write_text('{"key": 1, "prompt": "a question nobody copied anywhere, long enough"}\n')
    before = tree(tmp_path)
    code, _, err = run(["filter", small / "tiny.jsonl", *BENCH, "-o", "clean.jsonl", "--report", "notes/r.json"],
                       tmp_path)
    assert code == 2
    assert "--report notes/r.json: notes is a file, not a folder" in assert_one_line(err, "decontam: error: ")
    assert tree(tmp_path) == before and (tmp_path / "notes").read_text() == "a file, not a folder"


@pytest.mark.parametrize("what", ["a folder at the report path", "a file at the output path"])
def test_a_path_taken_while_the_run_goes_is_not_replaced(small, shared_benchmarks, tmp_path, what):
    """Something else writes where the run's report (or output) goes after the run checked the path: the run
    fails at the commit, replaces nothing, says so, and leaves the other program's file as it was."""
    before = tree(tmp_path)
    p = start(["filter", small / "c.jsonl", *bench(shared_benchmarks, "mmlu", "gsm8k"), "-o", "out/clean.jsonl",
               "--report", "rep/r.json", "--no-progress"], tmp_path)
    deadline = time.monotonic() + 60
    while not staged_bytes(tmp_path / "out"):  # the paths were checked and the output begun; the report is next
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.001)
    theirs = tmp_path / ("rep/r.json/theirs.txt" if "folder" in what else "out/clean.jsonl")
    theirs.parent.mkdir(parents=True, exist_ok=True)
    theirs.write_text("another program's data")
    code, _, err = finish(p)
    assert code == 1, err
    line = assert_one_line(err, f"decontam: error: cannot put {'rep/r.json' if 'folder' in what else 'out/clean.jsonl'}")
    assert "it was not replaced, and no output was written" in line
    assert theirs.read_text() == "another program's data"
    made = {theirs.relative_to(tmp_path).as_posix(), *(p.as_posix() for p in theirs.relative_to(tmp_path).parents)}
    assert tree(tmp_path) == before | (made - {"."})


def test_a_closed_stdout_after_the_commit_says_the_outputs_were_written(small, tmp_path):
    """``decontam filter ... | head -0``: the summary cannot be written, but the outputs were; say both, once."""
    (tmp_path / "b.jsonl").write_text('{"key": 1, "prompt": "a question nobody copied anywhere, long enough"}\n')
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    done = subprocess.run([sys.executable, "-m", "decontam", "filter", small / "tiny.jsonl", *BENCH, "-o",
                           "clean.jsonl", "--report", "r.json", "--no-progress"], cwd=tmp_path, env=ENV,
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    os.close(write_end)
    assert done.returncode == 1
    line = assert_one_line(done.stderr, "decontam: error: Broken pipe (after its outputs were written: ")
    assert "clean.jsonl" in line and "r.json" in line
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["training"]["n_kept"] == 3
    assert (tmp_path / "clean.jsonl").read_bytes() == (small / "tiny.jsonl").read_bytes()


# ------------------------------------------------------------------------------------------ two runs


def test_a_second_run_on_the_same_output_fails_and_leaves_the_first_intact(big_corpus, small, shared_benchmarks,
                                                                            tmp_path):
    first = start(["filter", big_corpus / "one.jsonl", *bench(shared_benchmarks, "mmlu", "gsm8k"), "-o", "out/clean.jsonl",
                   "--report", "out/r.json", "--no-progress"], tmp_path)
    lock = tmp_path / "out" / ".clean.jsonl.decontam-lock"
    deadline = time.monotonic() + 60
    while not lock.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.001)
    code, _, err = run(["filter", small / "tiny.jsonl", *bench(shared_benchmarks, "humaneval"), "-o",
                        "out/clean.jsonl", "--report", "other.json", "--overwrite", "--no-progress"], tmp_path)
    assert first.poll() is None, "the first run ended before the second one tried: the test proves nothing"
    assert code == 1
    line = assert_one_line(err, "decontam: error: another decontam run ")
    assert f"(process {first.pid})" in line and "out/clean.jsonl" in line
    assert not (tmp_path / "other.json").exists()
    code, _, err = finish(first)
    assert code == 0, err
    report = json.loads((tmp_path / "out/r.json").read_text("utf-8"))
    kept = (tmp_path / "out/clean.jsonl").read_bytes().splitlines()
    assert len(kept) == report["training"]["n_kept"] == report["corpus"]["n_documents"] - report["training"]["n_removed"]
    assert set(kept) <= set((big_corpus / "one.jsonl").read_bytes().splitlines())
    assert tree(tmp_path) == {"out", "out/clean.jsonl", "out/r.json"}
