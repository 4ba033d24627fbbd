"""The Ray engine beside the local one, on the same files, in one process: the per-core rate a sizing plan
needs (docs/scale.md), and what Ray costs on top.

Corpus: the `.py` files of the installed Python as JSONL (as bench_filter.py), cut into ``--files`` files.
Probes: HumanEval + MBPP + GSM8K + MMLU (test) from ../shared/benchmarks, GPT-4 rule.

Measured, each ``--repeat`` times (medians), after one warm-up run of each:
  * ``check`` with the local engine, one process: wall and CPU seconds (this process); on all the files and on
    half of them, whose difference is the steady-state rate (fixed costs of a run cancel out);
  * ``check`` with the local engine, ``--num-proc N``: wall;
  * ``check --engine ray`` on a Ray of N CPUs started once here (``ray.init(num_cpus=N)``): wall, and CPU
    seconds of this process, of Ray's workers (where the scan runs) and of Ray's other processes (its
    descendants, read from /proc); all and half;
  * ``check`` of the same files as a ``ray.data.read_json`` dataset (Ray's reader; the blocks' text comes back
    to this process, which hashes it for the corpus digests);
  * ``index build`` one process, and on Ray (a Ray task per file, then the merge here); and that merge alone
    (``CorpusIndex.merge`` of the files' own indexes): the serial step of a parallel build.
The reports of the two engines are compared (equal apart from ``run.engine``). Ray's start (``ray.init``) and
the first run's worker start-up are timed apart: a cluster pays them once, not per terabyte.

Usage:
    python benchmarks/speed/bench_ray.py [--mb 64] [--files 8] [--cpus 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filter import BENCHMARKS, build_corpus  # noqa: E402


def split(corpus: Path, folder: Path, n: int) -> list[Path]:
    """Cut a JSONL file into ``n`` files of consecutive lines (about equal sizes)."""
    size = corpus.stat().st_size
    out, files, written = None, [], 0
    with open(corpus, "rb") as fh:
        for line in fh:
            if out is None or (written >= size * len(files) / n and len(files) < n):
                if out is not None:
                    out.close()
                files.append(folder / f"part-{len(files):03d}.jsonl")
                out = open(files[-1], "wb")  # noqa: SIM115 - closed above and below
            out.write(line)
            written += len(line)
    if out is not None:
        out.close()
    return files


def ray_cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process's live descendants, the Ray started here: (its worker
    processes, whose titles start with ``ray::``; the rest: GCS, raylet, dashboard agents...). Ray renames its
    workers, so they are found by parentage, then told apart by title."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(pid)] = int(fields[1])
        cpu[int(pid)] = int(fields[11]) + int(fields[12])
    me, workers, system = os.getpid(), 0, 0
    for pid in cpu:
        p = parent.get(pid)
        while p and p != me:
            p = parent.get(p)
        if p != me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                is_worker = fh.read().startswith(b"ray::")
        except OSError:
            continue
        if is_worker:
            workers += cpu[pid]
        else:
            system += cpu[pid]
    return workers / tick, system / tick


def timed(fn) -> tuple[float, float, float, float]:
    """(wall s, CPU s of this process, of Ray's workers, of Ray's other processes) of one call (local worker
    processes of ``num_proc`` end with the call: their CPU is not seen)."""
    w, c, (rw, rs) = time.perf_counter(), time.process_time(), ray_cpu()
    fn()
    (rw1, rs1) = ray_cpu()
    return time.perf_counter() - w, time.process_time() - c, rw1 - rw, rs1 - rs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=64)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    import ray

    from decontam import CorpusIndex, build_index, check

    work = Path(args.workdir or tempfile.mkdtemp(prefix="decontam-bench-ray-"))
    work.mkdir(parents=True, exist_ok=True)
    n_docs, n_bytes = build_corpus(work / "corpus.jsonl", args.mb)
    files = split(work / "corpus.jsonl", work, args.files)
    (work / "corpus.jsonl").unlink()
    mb = n_bytes / 1e6
    load0 = os.getloadavg()
    t = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray_start = time.perf_counter() - t

    half = files[: len(files) // 2]
    mb_half = sum(f.stat().st_size for f in half) / sum(f.stat().st_size for f in files) * mb  # ~text share

    def run_check(corpus, **options):
        return lambda: check(corpus, BENCHMARKS, progress=False, **options)

    def run_dataset():
        return check(ray.data.read_json([str(f) for f in files]), BENCHMARKS, progress=False)

    first_ray = timed(run_check(files, engine="ray"))
    timed(run_check(files))  # warm-up: benchmark files cached, .pyc written
    timed(run_dataset)
    engines = {"local, 1 process": {}, f"ray, {args.cpus} CPUs": {"engine": "ray"}}
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for _ in range(args.repeat):
        for label, opts in engines.items():
            rows.setdefault(label, []).append(timed(run_check(files, **opts)))
            rows.setdefault(label + " (half the files)", []).append(timed(run_check(half, **opts)))
        rows.setdefault(f"local, {args.cpus} processes", []).append(timed(run_check(files, num_proc=args.cpus)))
        rows.setdefault(f"a ray.data.read_json dataset, {args.cpus} CPUs", []).append(timed(run_dataset))
    local = check(files, BENCHMARKS, progress=False).to_dict()
    remote = check(files, BENCHMARKS, progress=False, engine="ray").to_dict()
    same = {k: v for k, v in local.items() if k != "run"} == {k: v for k, v in remote.items() if k != "run"}

    index_rows: dict[str, list[float]] = {"index build, 1 process": [], f"index build, ray {args.cpus} CPUs": [],
                                          f"index merge of the {len(files)} files' indexes (1 process)": []}
    parts = [work / f"index-{k}" for k in range(len(files))]
    for f, part in zip(files, parts):
        build_index([f], part, progress=False)
    for _ in range(args.repeat):
        for label, opts in (("index build, 1 process", {}), (f"index build, ray {args.cpus} CPUs", {"engine": "ray"})):
            out = work / "index"
            shutil.rmtree(out, ignore_errors=True)
            index_rows[label].append(timed(lambda: build_index(files, out, progress=False, **opts))[0])
        shutil.rmtree(work / "index", ignore_errors=True)
        index_rows[f"index merge of the {len(files)} files' indexes (1 process)"].append(
            timed(lambda: CorpusIndex.merge(parts, work / "index"))[0])
    load1 = os.getloadavg()
    ray.shutdown()

    print(f"corpus: {n_docs} documents, {mb:.1f} MB of text in {len(files)} files; benchmarks: "
          f"{', '.join(b.split('=')[0] for b in BENCHMARKS)}; {args.repeat} runs each, medians")
    print(f"machine: {os.cpu_count()} cores; load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end "
          f"(other work shares the cores: CPU seconds are the steadier figure)")
    print(f"ray.init: {ray_start:.1f} s; first ray check (workers start, import decontam): {first_ray[0]:.1f} s")
    print("| run | wall s | MB/s | CPU s: driver + Ray workers + Ray system | MB per CPU-second (per worker "
          "CPU-second) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    med = {label: tuple(statistics.median(g[i] for g in got) for i in range(4)) for label, got in rows.items()}
    for label, (wall, drv, wrk, sysc) in med.items():
        size = mb_half if "half" in label else mb
        if "processes" in label:
            print(f"| check, {label} | {wall:.2f} | {size / wall:.1f} | (workers not counted) | |")
        else:
            cpu = drv + wrk + sysc
            per_worker = f" ({size / wrk:.1f})" if wrk > 0.05 else ""
            print(f"| check, {label} | {wall:.2f} | {size / wall:.1f} | {drv:.2f} + {wrk:.2f} + {sysc:.2f} | "
                  f"{size / cpu:.1f}{per_worker} |")
    for label in engines:
        a, b = med[label], med[label + " (half the files)"]
        d = [x - y for x, y in zip(a, b)]
        cpu = d[1] + d[2] + d[3]
        per_worker = f" ({(mb - mb_half) / d[2]:.1f})" if d[2] > 0.05 else ""
        print(f"| check, {label}, steady state (all − half) | {d[0]:.2f} | {(mb - mb_half) / d[0]:.1f} | "
              f"{d[1]:.2f} + {d[2]:.2f} + {d[3]:.2f} | {(mb - mb_half) / cpu:.1f}{per_worker} |")
    for label, got in index_rows.items():
        wall = statistics.median(got)
        print(f"| {label} | {wall:.2f} | {mb / wall:.1f} | | |")
    print(f"reports of the two engines equal apart from run.engine: {same}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
