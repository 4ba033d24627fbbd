"""What loading the benchmarks costs, as a share of a realistic `decontam filter` run.

Loaded: HumanEval + MBPP + GSM8K + MMLU (test folder) from ../shared/benchmarks (env
`DECONTAM_SHARED_BENCHMARKS` overrides), the four a run of `bench_filter.py` checks, through
`load_benchmark` (read, check every row, fingerprint):
  * in this process: one first load (which also pays the lazy imports), then medians of `--repeat` loads;
  * in `--fresh` new processes that have imported the CLI, one load each, as a `decontam` run loads them
    (median): the figure the share of the run is computed from.
Each is timed also with the garbage collector running (the loader pauses it), the variants taking turns.

The run: `decontam filter CORPUS -b ... -o OUT --report R --no-progress` as a subprocess, one core, over a
corpus of `--mb` MB of text (the installed Python's .py files as JSONL, as `bench_filter.py` builds it);
wall time of the whole command, median of `--runs`.

Printed: the figures as JSON, among them `load_share_of_run`: a new process's load time over the run time.

Usage:
    python benchmarks/speed/bench_load.py [--repeat 9] [--fresh 15] [--runs 3] [--mb 150]
        [--workdir /tmp/decontam-bench] [--json FIGURES.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filter import BENCHMARKS, SHARED, build_corpus  # the same corpus and benchmarks

from decontam import benchmarks


def load_all() -> list[benchmarks.Benchmark]:
    """The four benchmarks, as `decontam filter -b NAME=PATH` loads them."""
    return [benchmarks.load_benchmark(*spec.split("=", 1)) for spec in BENCHMARKS]


def time_loads(repeat: int, variants: dict[str, Callable[[], contextlib.AbstractContextManager]]) -> dict:
    """Median seconds of ``repeat`` loads per variant; the variants take turns, so drifts hit them alike."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, context in variants.items():
            with context():
                t = time.perf_counter()
                load_all()
                times[name].append(time.perf_counter() - t)
    return {name: statistics.median(values) for name, values in times.items()}


@contextlib.contextmanager
def collector_running():
    """Loading without the loader's garbage-collector pause."""
    paused = benchmarks.gc_paused
    benchmarks.gc_paused = contextlib.nullcontext
    try:
        yield
    finally:
        benchmarks.gc_paused = paused


def _env() -> dict[str, str]:
    """The environment of the subprocesses: as an installed package runs, with compiled bytecode (see
    bench_filter.py)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# One load in a new process, after the imports a `decontam` run has made; prints the seconds.
_FRESH_LOAD = """
import contextlib, sys, time
import decontam.cli
from decontam import benchmarks
if sys.argv[1] == "running":
    benchmarks.gc_paused = contextlib.nullcontext
specs = [spec.split("=", 1) for spec in sys.argv[2:]]
t = time.perf_counter()
for name, path in specs:
    benchmarks.load_benchmark(name, path)
print(time.perf_counter() - t)
"""


def time_fresh_loads(n: int) -> dict[str, float]:
    """Median seconds of one load in each of ``n`` new processes, collector paused (as loaded) or running."""
    times: dict[str, list[float]] = {"load": [], "load_gc_running": []}
    for _ in range(n):
        for name, mode in (("load", "paused"), ("load_gc_running", "running")):
            out = subprocess.run([sys.executable, "-c", _FRESH_LOAD, mode, *BENCHMARKS], capture_output=True,
                                 text=True, check=True, env=_env())
            times[name].append(float(out.stdout))
    return {name: statistics.median(values) for name, values in times.items()}


def run_filter(corpus: Path, workdir: Path) -> float:
    """Wall seconds of one `decontam filter` subprocess over ``corpus``."""
    cmd = [sys.executable, "-m", "decontam", "filter", str(corpus), "-o", str(workdir / "load-clean.jsonl"),
           "--report", str(workdir / "load-report.json"), "--no-progress", "--num-proc", "1",
           "--overwrite"]
    for spec in BENCHMARKS:
        cmd += ["-b", spec]
    for output in ("load-clean.jsonl", "load-report.json"):
        (workdir / output).unlink(missing_ok=True)
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"decontam failed: {proc.stderr.decode()}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=9, help="loads per variant; medians are quoted (default 9)")
    ap.add_argument("--fresh", type=int, default=15, help="new processes per variant (default 15)")
    ap.add_argument("--runs", type=int, default=3, help="filter runs; the median is quoted (default 3)")
    ap.add_argument("--mb", type=float, default=150, help="corpus size, MB of text (default 150)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-bench"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"benchmark files not found at {SHARED}; set DECONTAM_SHARED_BENCHMARKS")
    args.workdir.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    loaded = load_all()
    first = time.perf_counter() - t
    variants: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
        "load": contextlib.nullcontext,
        "load_gc_running": collector_running,
    }
    loads = time_loads(args.repeat, variants)
    fresh = time_fresh_loads(args.fresh)

    corpus = args.workdir / f"corpus-{args.mb:g}mb.jsonl"
    n_docs, text_bytes = build_corpus(corpus, args.mb)
    run_filter(corpus, args.workdir)  # warm-up: page cache, bytecode
    run = statistics.median(run_filter(corpus, args.workdir) for _ in range(args.runs))

    figures = {
        "items": {b.name: b.n_items for b in loaded},
        "load_first_s": round(first, 4),
        **{f"{name}_s": round(seconds, 4) for name, seconds in loads.items()},
        "gc_pause_saves_s": round(loads["load_gc_running"] - loads["load"], 4),
        **{f"fresh_{name}_s": round(seconds, 4) for name, seconds in fresh.items()},
        "fresh_gc_pause_saves_s": round(fresh["load_gc_running"] - fresh["load"], 4),
        "corpus_text_mb": round(text_bytes / 1e6, 1),
        "corpus_documents": n_docs,
        "filter_run_s": round(run, 3),
        "load_share_of_run": round(fresh["load"] / run, 4),
        "load_in_process_share_of_run": round(loads["load"] / run, 4),
        "repeat": args.repeat,
        "fresh": args.fresh,
        "runs": args.runs,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
