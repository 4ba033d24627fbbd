"""End-to-end speed of `decontam filter`, next to two baselines timed in the same run.

Corpus: the `.py` files of the installed Python (standard library + site-packages), as JSONL (`id`, `text`).
Probes: HumanEval + MBPP + GSM8K + MMLU (test) from ../shared/benchmarks, GPT-4 rule (3 x 50 chars, seed 0).

Measured:
  * decontam: `decontam filter CORPUS -b ... -o OUT --report R` as a subprocess, one core (--num-proc 1);
    wall time over the whole command (start-up, benchmark loading, probe sampling included); peak RSS.
  * baseline "pyahocorasick": json.loads per line, `regex` normalization per document, one Aho-Corasick
    automaton over all probes, `any` hit per document (same probes as decontam, read from its report).
  * baseline "naive": json.loads, `regex` normalization, `any(p in doc for p in probes)` on a sample.
Memory: peak RSS of decontam on the corpus and on its first half: it must not grow with corpus size.
Steady-state rate: the extra text of the whole corpus over its first half, divided by the extra time (fixed
start-up costs cancel out): what a run over gigabytes sustains per core.

Usage:
    python benchmarks/speed/bench_filter.py [--mb 150] [--repeat 3] [--workdir /tmp/decontam-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import regex

SHARED = Path(os.environ.get("DECONTAM_SHARED_BENCHMARKS",
                             Path(__file__).resolve().parents[3] / "shared" / "benchmarks"))
BENCHMARKS = [
    f"humaneval={SHARED / 'humaneval' / 'HumanEval.jsonl.gz'}",
    f"mbpp={SHARED / 'mbpp' / 'mbpp.jsonl'}",
    f"gsm8k={SHARED / 'gsm8k' / 'test.jsonl'}",
    f"mmlu={SHARED / 'mmlu' / 'test'}",
]
NOT_LMN = regex.compile(r"[^\p{L}\p{M}\p{N}]+")


def build_corpus(path: Path, target_mb: float) -> tuple[int, int]:
    """Write the installed Python's .py files as JSONL until target_mb of text; returns (docs, text bytes).

    The files hold about 210 MB of text; a larger target goes through them again (ids get a ``#pass``
    suffix), for the rate of a run over gigabytes.
    """
    roots = sorted({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})
    files = sorted({str(p) for r in roots for p in Path(r).rglob("*.py")})
    n = size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for rep in range(1_000):
            for f in files:
                try:
                    text = Path(f).read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                out.write(json.dumps({"id": f if rep == 0 else f"{f}#{rep}", "text": text}) + "\n")
                n += 1
                size += len(text.encode("utf-8"))
                if size >= target_mb * 1e6:
                    return n, size
    return n, size


def head(src: Path, dst: Path, fraction: float) -> None:
    with open(src, "rb") as fh:
        n = sum(1 for _ in fh)
    with open(src, "rb") as fh, open(dst, "wb") as out:
        out.writelines(line for _, line in zip(range(int(n * fraction)), fh))


# Runs `python -m decontam ...` and, at exit, writes the process's own peak RSS (VmHWM, kB) to the file named
# by DECONTAM_BENCH_PEAK. Not the rusage of the child: on Linux a forked child's ru_maxrss starts from its
# parent's RSS at the fork, so a benchmark process holding a large corpus or automaton would inflate it (it did:
# 2.1 GB "peaks" for a CLI whose own peak was 345 MB).
_PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    try:
        with open("/proc/self/status") as fh:
            kb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return
    with open(os.environ["DECONTAM_BENCH_PEAK"], "w") as out:
        out.write(str(kb))
atexit.register(_peak)
sys.argv[0] = "decontam"
runpy.run_module("decontam", run_name="__main__", alter_sys=True)
"""


def run_decontam(corpus: Path, workdir: Path, tag: str, num_proc: int = 1,
                 extra: tuple[str, ...] = ()) -> tuple[float, int, dict, float]:
    """One `decontam filter` subprocess (``extra``: more flags, e.g. ``--method ngram13``): (wall s, peak RSS
    bytes, report, CPU s)."""
    out, report = workdir / f"clean-{tag}.jsonl", workdir / f"report-{tag}.json"
    peak_file = workdir / f"peak-{tag}.txt"
    peak_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", _PEAK_WRAPPER, "filter", str(corpus), "-o", str(out), "--report", str(report),
           "--no-progress", "--num-proc", str(num_proc), "--overwrite", *extra]
    for b in BENCHMARKS:
        cmd += ["-b", b]
    # As an installed package runs: with compiled bytecode (some environments set PYTHONDONTWRITEBYTECODE,
    # which would recompile decontam's modules on every run, ~30 ms; the first, tiny, run writes the .pyc).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["DECONTAM_BENCH_PEAK"] = str(peak_file)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"decontam failed: {err}")
    # Peak RSS of the main process (workers of num_proc > 1 not included): VmHWM where /proc has it.
    peak = int(peak_file.read_text()) * 1024 if peak_file.exists() else usage.ru_maxrss * 1024
    # Worker processes (num_proc > 1) are the child's children: their CPU time is not in this rusage.
    return wall, peak, json.loads(report.read_text()), usage.ru_utime + usage.ru_stime


def probes_of(report: dict) -> list[str]:
    return sorted({p for b in report["benchmarks"] for it in b["items"] for p in it["probes"]})


def baseline_ahocorasick(corpus: Path, probes: list[str]) -> tuple[float, set[str]]:
    import ahocorasick

    t = time.perf_counter()
    auto = ahocorasick.Automaton()
    for p in probes:
        auto.add_word(p, p)
    auto.make_automaton()
    hit: set[str] = set()
    with open(corpus, "rb") as fh:
        for line in fh:
            row = json.loads(line)
            doc = NOT_LMN.sub("", row["text"])
            for _ in auto.iter(doc):
                hit.add(row["id"])
                break
    return time.perf_counter() - t, hit


def baseline_naive(corpus: Path, probes: list[str], sample_bytes: int) -> tuple[float, int]:
    t = time.perf_counter()
    size = 0
    with open(corpus, "rb") as fh:
        for line in fh:
            row = json.loads(line)
            doc = NOT_LMN.sub("", row["text"])
            any(p in doc for p in probes)
            size += len(row["text"].encode("utf-8"))
            if size >= sample_bytes:
                break
    return time.perf_counter() - t, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=150, help="corpus size, MB of text (default 150)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timed step; medians are quoted")
    ap.add_argument("--naive-mb", type=float, default=2, help="sample for the naive baseline (default 2 MB)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-bench"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"benchmark files not found at {SHARED}; set DECONTAM_SHARED_BENCHMARKS")
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    corpus, half = work / "corpus.jsonl", work / "corpus-half.jsonl"
    n_docs, text_bytes = build_corpus(corpus, args.mb)
    head(corpus, half, 0.5)
    file_bytes = corpus.stat().st_size
    print(f"corpus: {n_docs} docs, {text_bytes / 1e6:.1f} MB text, {file_bytes / 1e6:.1f} MB JSONL")

    tiny = work / "corpus-tiny.jsonl"
    tiny.write_text(json.dumps({"id": "tiny", "text": "def f():\n    return 1\n"}) + "\n")
    half_bytes = sum(len(json.loads(line)["text"].encode("utf-8")) for line in half.open("rb"))
    walls, cpus, fixed, walls2, ahos, naives, halves, half_cpus = [], [], [], [], [], [], [], []
    rss_half = 0
    report: dict = {}
    rss_full = 0
    for _ in range(args.repeat):
        # Fixed cost of a run (start-up, loading 4 benchmarks, sampling, building the matcher, the report):
        # the same command on a one-document corpus.
        fixed.append(run_decontam(tiny, work, "tiny")[0])
        wall_h, rss_half, _, cpu_h = run_decontam(half, work, "half")
        halves.append(wall_h)
        half_cpus.append(cpu_h)
        wall, rss_full, report, cpu = run_decontam(corpus, work, "full")
        walls.append(wall)
        cpus.append(cpu)
        walls2.append(run_decontam(corpus, work, "full2", num_proc=2)[0])
        probes = probes_of(report)
        aho_t, aho_hits = baseline_ahocorasick(corpus, probes)
        ahos.append(aho_t)
        naive_t, naive_bytes = baseline_naive(corpus, probes, int(args.naive_mb * 1e6))
        naives.append(naive_bytes / naive_t)
    removed = {r["doc_id"] for r in report["training"]["removed"]}
    agree = removed == aho_hits
    w, a = statistics.median(walls), statistics.median(ahos)
    f0, c, w2 = statistics.median(fixed), statistics.median(cpus), statistics.median(walls2)
    figures = {
        "corpus_text_mb": round(text_bytes / 1e6, 1),
        "corpus_file_mb": round(file_bytes / 1e6, 1),
        "documents": n_docs,
        "probes": len(probes),
        "decontam_s": round(w, 2),
        "decontam_text_mb_s": round(text_bytes / w / 1e6, 1),
        "decontam_file_mb_s": round(file_bytes / w / 1e6, 1),
        "decontam_cpu_s": round(c, 2),
        "decontam_text_mb_per_cpu_s": round(text_bytes / c / 1e6, 1),
        "decontam_fixed_s": round(f0, 2),
        "decontam_scan_text_mb_s": round(text_bytes / (w - f0) / 1e6, 1),
        "decontam_half_s": round(statistics.median(halves), 2),
        "decontam_steady_text_mb_s": round(
            (text_bytes - half_bytes) / (w - statistics.median(halves)) / 1e6, 1),
        "decontam_steady_text_mb_per_cpu_s": round(
            (text_bytes - half_bytes) / (c - statistics.median(half_cpus)) / 1e6, 1),
        "decontam_2proc_s": round(w2, 2),
        "decontam_2proc_text_mb_s": round(text_bytes / w2 / 1e6, 1),
        "ahocorasick_s": round(a, 2),
        "ahocorasick_text_mb_s": round(text_bytes / a / 1e6, 1),
        "naive_text_mb_s": round(statistics.median(naives) / 1e6, 3),
        "speedup_vs_ahocorasick": round(a / w, 2),
        "peak_rss_mb_half": round(rss_half / 1e6, 1),
        "peak_rss_mb_full": round(rss_full / 1e6, 1),
        "removed_documents": len(removed),
        "same_documents_as_ahocorasick": agree,
        "runs": args.repeat,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores_used": 1,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if not agree:
        print("WARNING: decontam and the pyahocorasick baseline removed different documents", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
