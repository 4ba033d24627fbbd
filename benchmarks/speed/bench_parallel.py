"""Every core on one file: `decontam filter` and `check` with --num-proc 1 and 2 on one large file; and memory
as the corpus grows.

Corpus: the `.py` files of the installed Python as one JSONL file (`id`, `text`), as bench_filter.py builds it
(default 300 MB of text), and the same rows as one Parquet file (row groups of 4,096 rows).
Probes: HumanEval + MBPP + GSM8K + MMLU (test) from ../shared/benchmarks, GPT-4 rule.

Measured (medians of --repeat rounds; in each round the runs alternate, so load on a shared machine hits
both alike, and which of --num-proc 1 and 2 goes first alternates from round to round: on this VM a run that
follows a one-process run of the same file was measured slower, 3.16 s against 2.83 s for Parquet --num-proc 2,
median of 5, with more system time, 1.64 against 1.08 s):
  * wall time of the whole command (`python -m decontam ...` as a subprocess), --num-proc 1 and 2, for
    `filter` (JSONL and Parquet) and `check` (JSONL); the speed-up is the ratio of the medians;
  * that the outputs and reports of --num-proc 2 are byte for byte those of --num-proc 1 (a failure is an
    error);
  * memory: peak RSS (VmHWM) of the main process and of the largest worker (polled from /proc every 20 ms),
    `filter` --num-proc 1 and 2 on the corpus and on four times the corpus (the same rows four times): it
    must stay flat (within 10%). Four times the corpus twice: the corpus and three copies of its clean rows (as
    many findings: memory against the corpus's size), and the corpus four times over (four times the findings,
    each of which the report lists, so that memory grows with them).
  * with --ceiling, what this machine allows two processes doing this work: the JSONL file cut in two halves
    (on a line boundary), `filter --num-proc 1` on each half, one after the other, then both at the same time
    (two independent commands, nothing shared). The ratio is the speed-up two processes get here with no
    coordination at all (memory bandwidth, the VM's fresh-memory costs and steal time included): the reference
    for --num-proc 2, which does the same work and coordinates too. Fixed costs (start-up, probes, report) are
    paid twice either way.

Usage:
    python benchmarks/speed/bench_parallel.py [--mb 300] [--repeat 3] [--workdir /tmp/decontam-bench-par]
        [--skip-memory | --memory-only] [--ceiling] [--json FIGURES.json]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filter import _PEAK_WRAPPER, BENCHMARKS, SHARED, build_corpus  # noqa: E402


class _GroupPeaks:
    """Polls /proc every 20 ms for the processes of one process group (the command and its workers) and keeps
    each one's VmHWM (its own peak resident set, which the kernel keeps; a poll can only miss growth in a
    process's last 20 ms, so a figure is at most that much low)."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.peaks, self.stop = pgid, {}, threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while not self.stop.is_set():
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != self.pgid:
                        continue
                    status = (stat.parent / "status").read_text()
                except (OSError, ValueError, IndexError):
                    continue
                kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
                pid = int(stat.parent.name)
                self.peaks[pid] = max(self.peaks.get(pid, 0), kb)
            self.stop.wait(0.02)

    def finish(self) -> dict[int, int]:
        self.stop.set()
        self.thread.join()
        return self.peaks


def _command(args: list[str], workdir: Path, tag: str) -> tuple[list[str], dict[str, str], Path]:
    """A decontam command line (the four benchmarks added), its environment, and its peak-RSS file."""
    peak_file = workdir / f"peak-{tag}.txt"
    peak_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["DECONTAM_BENCH_PEAK"] = str(peak_file)
    cmd = [sys.executable, "-c", _PEAK_WRAPPER, *args, "--no-progress", "--overwrite"]
    for b in BENCHMARKS:
        cmd += ["-b", b]
    return cmd, env, peak_file


def run(args: list[str], workdir: Path, tag: str, poll: bool = True) -> tuple[float, float, float]:
    """One decontam command as a subprocess: (wall s, main peak RSS MB, largest worker peak RSS MB; 0 for the
    workers without ``poll``: the poller costs about 11% of a core, which a timed run on two cores would pay)."""
    cmd, env, peak_file = _command(args, workdir, tag)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    poller = _GroupPeaks(proc.pid) if poll else None
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    peaks = poller.finish() if poller else {}
    if proc.returncode != 0:
        raise SystemExit(f"decontam failed ({' '.join(args)}): {err.decode()}")
    main_peak = int(peak_file.read_text()) / 1024 if peak_file.exists() else 0.0
    workers = [kb for pid, kb in peaks.items() if pid != proc.pid]
    return wall, main_peak, max(workers, default=0) / 1024


def run_together(commands: list[list[str]], workdir: Path) -> float:
    """Several decontam commands started at once: the wall time until the last one ends."""
    procs = []
    t = time.perf_counter()
    for i, args in enumerate(commands):
        cmd, env, _ = _command(args, workdir, f"together-{i}")
        procs.append((args, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)))
    for args, proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"decontam failed ({' '.join(args)}): {err.decode()}")
    return time.perf_counter() - t


def halves(src: Path, work: Path) -> tuple[Path, Path]:
    """The JSONL file cut in two at the first line boundary past its middle."""
    a, b = work / "half-1.jsonl", work / "half-2.jsonl"
    with open(src, "rb") as fh:
        fh.seek(src.stat().st_size // 2)
        fh.readline()
        middle = fh.tell()
        fh.seek(0)
        a.write_bytes(fh.read(middle))
        b.write_bytes(fh.read())
    return a, b


def ceiling_runs(corpus: Path, work: Path, rounds: int) -> dict[str, object]:
    """`filter --num-proc 1` on each half of the file, one after the other and then both at once, ``rounds``
    times alternated: the speed-up two independent processes get on this machine."""
    parts = halves(corpus, work)
    cmds = [["filter", str(h), "-o", str(work / f"ceiling-{i}.jsonl")] for i, h in enumerate(parts)]
    apart: list[float] = []
    together: list[float] = []

    def one_after_the_other() -> None:
        apart.append(sum(run_together([c], work) for c in cmds))

    def at_once() -> None:
        together.append(run_together(cmds, work))

    for r in range(rounds):
        for step in (one_after_the_other, at_once) if r % 2 == 0 else (at_once, one_after_the_other):
            step()
        print(f"round {r + 1} ceiling: halves one after the other {apart[-1]:.2f} s, both at once "
              f"{together[-1]:.2f} s", flush=True)
    for p in (*parts, *(work / f"ceiling-{i}.jsonl" for i in range(2))):
        p.unlink(missing_ok=True)
    one, two = statistics.median(apart), statistics.median(together)
    return {"ceiling": {"halves_one_after_the_other_s": round(one, 2), "halves_at_once_s": round(two, 2),
                        "two_independent_processes_speedup": round(one / two, 2)}}


def to_parquet(src: Path, dst: Path) -> None:
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    table = pj.read_json(src, read_options=pj.ReadOptions(block_size=1 << 30))
    pq.write_table(table, dst, row_group_size=4096)


def concat(dst: Path, *srcs: Path) -> None:
    with open(dst, "wb") as out:
        for src in srcs:
            out.write(src.read_bytes())


def memory_runs(corpus: Path, work: Path) -> dict[str, object]:
    """Peaks of `filter` on the corpus and on two corpora four times its size: the corpus followed by three
    copies of its clean rows (the same findings: memory against the corpus's size), and the corpus four times
    over (four times the findings, which the report lists one by one)."""
    clean = work / "mem-clean.jsonl"
    run(["filter", str(corpus), "-o", str(clean)], work, "mem-clean")
    grown = {"4x_same_findings": work / "corpus-4x-clean.jsonl", "4x_four_times_findings": work / "corpus-4x.jsonl"}
    concat(grown["4x_same_findings"], corpus, clean, clean, clean)
    concat(grown["4x_four_times_findings"], corpus, corpus, corpus, corpus)
    memory: dict[str, dict[str, float]] = {}
    for label, src in (("1x", corpus), *grown.items()):
        for n in (1, 2):
            _, main_peak, worker_peak = run(["filter", str(src), "-o", str(work / f"mem-{n}.jsonl"), "--num-proc",
                                             str(n)], work, f"mem-{label}-{n}")
            memory[f"{label}_num_proc_{n}"] = {"main_peak_mb": round(main_peak, 1),
                                               "largest_worker_peak_mb": round(worker_peak, 1)}
            print(f"memory {label} --num-proc {n}: main {main_peak:.0f} MB, largest worker {worker_peak:.0f} MB",
                  flush=True)
    for p in (clean, *grown.values()):
        p.unlink()
    growth = {f"{label}_num_proc_{n}_{who}": round(memory[f"{label}_num_proc_{n}"][key]
                                                   / memory[f"1x_num_proc_{n}"][key], 3)
              for label in grown for n in (1, 2)
              for who, key in (("main", "main_peak_mb"), ("worker", "largest_worker_peak_mb"))
              if memory[f"1x_num_proc_{n}"][key]}
    return {"memory": memory, "memory_growth_from_1x": growth}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=300, help="corpus size, MB of text (default 300)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-bench-par"))
    ap.add_argument("--skip-memory", action="store_true", help="skip the 1x/4x memory runs")
    ap.add_argument("--memory-only", action="store_true", help="only the 1x/4x memory runs")
    ap.add_argument("--ceiling", action="store_true",
                    help="also time two independent one-process runs on the file's halves, apart and at once")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"benchmark files not found at {SHARED}; set DECONTAM_SHARED_BENCHMARKS")
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    corpus, parquet = work / "corpus.jsonl", work / "corpus.parquet"
    n_docs, text_bytes = build_corpus(corpus, args.mb)
    to_parquet(corpus, parquet)
    print(f"corpus: {n_docs} docs, {text_bytes / 1e6:.1f} MB text, {corpus.stat().st_size / 1e6:.1f} MB JSONL, "
          f"{parquet.stat().st_size / 1e6:.1f} MB Parquet", flush=True)
    cases = {
        "filter_jsonl": (["filter", str(corpus)], "out.jsonl"),
        "filter_parquet": (["filter", str(parquet)], "out.parquet"),
        "check_jsonl": (["check", str(corpus)], None),
    }
    times: dict[str, dict[int, list[float]]] = {c: {1: [], 2: []} for c in cases}
    for r in range(0 if args.memory_only else args.repeat):
        for case, (base, out) in cases.items():
            for n in ((1, 2) if r % 2 == 0 else (2, 1)):  # a run right after a one-process run is slower
                extra = ["-o", str(work / f"{n}-{out}")] if out else []
                wall, _, _ = run([*base, *extra, "--report", str(work / f"{n}-{case}.json"), "--num-proc", str(n)],
                                 work, f"{case}-{n}", poll=False)
                times[case][n].append(wall)
                print(f"round {r + 1} {case} --num-proc {n}: {wall:.2f} s", flush=True)
            same = filecmp.cmp(work / f"1-{case}.json", work / f"2-{case}.json", shallow=False)
            if out:
                same = same and filecmp.cmp(work / f"1-{out}", work / f"2-{out}", shallow=False)
            if not same:
                raise SystemExit(f"{case}: --num-proc 2 did not reproduce --num-proc 1 byte for byte")
    figures: dict[str, object] = {"corpus_text_mb": round(text_bytes / 1e6, 1),
                                  "corpus_jsonl_mb": round(corpus.stat().st_size / 1e6, 1),
                                  "corpus_parquet_mb": round(parquet.stat().st_size / 1e6, 1), "documents": n_docs}
    for case in cases if not args.memory_only else ():
        one, two = statistics.median(times[case][1]), statistics.median(times[case][2])
        figures[case] = {"num_proc_1_s": round(one, 2), "num_proc_2_s": round(two, 2),
                         "num_proc_1_text_mb_s": round(text_bytes / one / 1e6, 1),
                         "num_proc_2_text_mb_s": round(text_bytes / two / 1e6, 1), "speedup": round(one / two, 2),
                         "identical_output_and_report": True}
    if args.ceiling:
        figures.update(ceiling_runs(corpus, work, args.repeat))
    if not args.skip_memory:
        figures.update(memory_runs(corpus, work))
    figures.update(runs=args.repeat, python=platform.python_version(), cores=os.cpu_count())
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
