"""Speed and size of the corpus index (`decontam index`), and pybloom-live on the same workload.

Corpus: the `.py` files of the installed Python as JSONL (`id`, `text`), ~150 MB (as bench_filter.py builds it),
one file.

Measured (medians of --repeat runs):
  * build: `decontam index build` as a subprocess on the one file, `--num-proc 1` and `--num-proc 2` (or the
    counts given by --num-proc) in turn, run after run (the machine is shared: alternating spreads its load over
    both), wall time and raw MB/s; the CPU time of the build (user + system, every thread and worker process:
    resource.getrusage(RUSAGE_CHILDREN)), and MB per CPU-second: the per-core figure that does not depend on
    threads or on other load on the machine; the speed-up of each count over the first. Identity: every build's
    folder is compared, file by file, with the first count's (the manifest holds every file's SHA-256), and
    `index check` reports of both are compared.
  * sizes per normalized character: portrait (Bloom filter), exact table (keys + positions), and (not counted
    in the goal) the stored normalized text, the stored original text and the document table.
  * query: `decontam index check INDEX -b humaneval=... --probes all` as a subprocess: end-to-end wall time
    (interpreter start, index load with checksum verification, probes, lookups, report written); and the
    in-process query time (load excluded) -> probes per second.
  * pybloom-live: inserts per second of the index's own keys (64-bit ints) into pybloom_live.BloomFilter at
    1e-6, against decontam.bloom.BloomFilter.add on the same keys.

Usage:
    python benchmarks/speed/bench_index.py [--mb 150] [--repeat 3] [--num-proc 1,2] [--build-only]
        [--workdir /tmp/decontam-bench-index]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filter import SHARED, build_corpus  # noqa: E402

HUMANEVAL = f"humaneval={SHARED / 'humaneval' / 'HumanEval.jsonl.gz'}"


def run_cpu(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the command's threads and processes) of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(cmd: list[str]) -> float:
    return run_cpu(cmd)[0]


def build(corpus: list[Path], out: Path, num_proc: int) -> tuple[float, float]:
    shutil.rmtree(out, ignore_errors=True)
    return run_cpu([sys.executable, "-m", "decontam", "index", "build", *map(str, corpus), "-o", str(out),
                    "--no-progress", "--num-proc", str(num_proc)])


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def same_folder(a: Path, b: Path) -> list[str]:
    """The files that differ between two index folders (or are in one only)."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    return [n for n in names if not ((a / n).is_file() and (b / n).is_file()
                                     and (a / n).read_bytes() == (b / n).read_bytes())]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--num-proc", default="1,2", help="process counts to compare, the first the baseline")
    ap.add_argument("--build-only", action="store_true", help="only the build comparison")
    ap.add_argument("--workdir", default="/tmp/decontam-bench-index")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    if not corpus.exists():
        build_corpus(corpus, args.mb)

    from decontam.inputs import expand_corpus, read_file, text_buffers

    raw_mb = sum(len(text_buffers(b.texts)[0][:]) for b in read_file(expand_corpus([corpus])[0], "text", "id",
                                                                       "raise", [])) / 1e6
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; corpus {corpus.stat().st_size / 1e6:.1f} MB JSONL, {raw_mb:.1f} MB text; "
          f"load average {os.getloadavg()[0]:.1f}")

    counts = [int(c) for c in args.num_proc.split(",")]
    folders = {n: work / f"ix-np{n}" for n in counts}
    runs: dict[int, list[tuple[float, float]]] = {n: [] for n in counts}
    differ: dict[int, set[str]] = {n: set() for n in counts}
    for _ in range(args.repeat):
        for n in counts:  # alternating: the machine's load falls on every count alike
            runs[n].append(build([corpus], folders[n], n))
            differ[n] |= set(same_folder(folders[counts[0]], folders[n]))
    base_wall = medians(runs[counts[0]])[0]
    for n in counts:
        t, c = medians(runs[n])
        same = f"identical to --num-proc {counts[0]} (every file)" if not differ[n] else \
            f"DIFFERS from --num-proc {counts[0]}: {sorted(differ[n])}"
        print(f"build, one file, --num-proc {n}: {t:.2f} s  {raw_mb / t:.1f} MB/s  (x{base_wall / t:.2f}); CPU "
              f"{c:.2f} s: {raw_mb / c:.1f} MB per CPU-second; {same}  [walls {', '.join(f'{w:.2f}' for w, _ in runs[n])}]")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    ix = folders[counts[0]]
    if args.build_only:
        return

    from decontam.index import CorpusIndex

    index = CorpusIndex.load(ix)
    n = index.manifest["corpus"]["n_normalized_bytes"]
    sizes = index.sizes()
    print(f"normalized characters (bytes): {n}; distinct keys {index.manifest['bloom']['n_distinct_keys']}, "
          f"table entries {index.manifest['table']['n_entries']}, Bloom fp per lookup "
          f"{index.manifest['bloom']['fp_rate']:.2e}")
    for k, v in sizes.items():
        print(f"  {k:9} {v / 1e6:8.1f} MB  {v / n:.3f} bytes/char")
    print(f"  portrait + exact table: {(sizes['portrait'] + sizes['table']) / n:.3f} bytes/char")

    def check_cmd(index: Path, report: Path) -> list[str]:
        return [sys.executable, "-m", "decontam", "index", "check", str(index), "-b", HUMANEVAL, "--probes", "all",
                "--report", str(report), "--overwrite"]

    tq = statistics.median(run(check_cmd(ix, work / "he.json")) for _ in range(args.repeat))
    rep = json.loads((work / "he.json").read_text())["index"]
    for n in counts[1:]:
        run(check_cmd(folders[n], work / f"he-np{n}.json"))
        same = (work / f"he-np{n}.json").read_bytes() == (work / "he.json").read_bytes()
        print(f"index check report (HumanEval, --probes all) on the --num-proc {n} index: "
              f"{'identical, byte for byte' if same else 'DIFFERS'}")
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        index.check([HUMANEVAL], probes="all")
        times.append(time.perf_counter() - t)
    tin = statistics.median(times)
    t = time.perf_counter()
    CorpusIndex.load(ix)
    tload = time.perf_counter() - t
    print(f"query HumanEval --probes all: end to end {tq:.2f} s (subprocess); in process {tin:.3f} s "
          f"(+ load with checksums {tload:.3f} s); {rep['n_probes']} probes -> {rep['n_probes'] / tin:,.0f} "
          f"probes/s; looked up {rep['n_probes_looked_up']}, scanned (shorter than a window) "
          f"{rep['n_probes_scanned']}; Bloom hits {rep['bloom_hits']}, confirmed {rep['confirmed']}, "
          f"rejected {rep['rejected']}")

    import numpy as np

    from decontam.bloom import BloomFilter

    keys = np.asarray(index.keys[: 1_000_000]).copy()
    try:
        import pybloom_live

        bf = pybloom_live.BloomFilter(capacity=len(keys), error_rate=1e-6)
        sample = keys[:200_000].tolist()
        t = time.perf_counter()
        for k in sample:
            bf.add(k)
        rate = len(sample) / (time.perf_counter() - t)
        print(f"pybloom-live BloomFilter.add (1e-6): {rate / 1e6:.2f} M keys/s")
    except ImportError:
        print("pybloom-live not installed")
    ours = BloomFilter.for_capacity(len(keys), 1e-6)
    t = time.perf_counter()
    ours.add(keys)
    print(f"decontam.bloom BloomFilter.add (1e-6): {len(keys) / (time.perf_counter() - t) / 1e6:.2f} M keys/s")


if __name__ == "__main__":
    main()
