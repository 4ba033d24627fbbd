"""What two processes get on this machine, with no decontam at all: the reference for every `--num-proc 2` figure.

Each kind of work runs in one process alone, then in two processes at once (the same work each), alternating,
`--repeat` rounds. The figure is the throughput of two at once over one alone (2.00x: two cores that share
nothing). The work, fixed in size, about 1-3 s a process:

  * `python_loop`: a pure-Python integer loop; nothing leaves the core's own caches (the interpreter's share of
    decontam's work: reading lines, building batches, the report);
  * `numpy_stream`: numpy sums over a 64 MB array, again and again; memory bandwidth (normalizing and scanning
    text is a stream like this);
  * `fresh_memory`: 256 MB taken from the system and written, again and again (page faults: each batch's
    arrays are fresh memory).

A process's start-up is not timed: each process waits at a barrier, then times its own work; the round's time
is the slowest process's. Also shown: the share of the machine's CPU time that the hypervisor gave to others
while two ran at once (steal time, from /proc/stat; Linux only).

Usage:
    python benchmarks/speed/bench_machine.py [--repeat 7] [--json FIGURES.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Callable

import numpy as np


def python_loop() -> None:
    x = 0
    for i in range(12_000_000):
        x = (x + (i * i ^ (x >> 3))) & 0xFFFFFFF


def numpy_stream() -> None:
    a = np.ones(64 * 1024 * 1024 // 8)
    for _ in range(150):
        a.sum()


def fresh_memory() -> None:
    for _ in range(24):
        a = np.empty(256 * 1024 * 1024, dtype=np.uint8)
        a.fill(1)
        del a


WORK: dict[str, Callable[[], None]] = {"python_loop": python_loop, "numpy_stream": numpy_stream,
                                       "fresh_memory": fresh_memory}


def _timed(name: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    barrier.wait()
    t = time.perf_counter()
    WORK[name]()
    out.put(time.perf_counter() - t)


def _steal_and_total() -> tuple[int, int]:
    """Steal time and all CPU time of the machine so far, in clock ticks (0, 0 where /proc/stat is absent)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:9]]
    except OSError:
        return 0, 0
    return ticks[7], sum(ticks)


def run(name: str, k: int) -> float:
    """Seconds until the last of ``k`` processes doing ``name`` at once is done."""
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(k), ctx.Queue()
    procs = [ctx.Process(target=_timed, args=(name, barrier, out)) for _ in range(k)]
    for p in procs:
        p.start()
    times = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return max(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    figures: dict[str, object] = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0]}
    for name in WORK:
        one: list[float] = []
        two: list[float] = []
        stolen = total = 0
        for r in range(args.repeat):
            order = (1, 2) if r % 2 == 0 else (2, 1)
            for k in order:
                s0, t0 = _steal_and_total()
                (one if k == 1 else two).append(run(name, k))
                if k == 2:
                    s1, t1 = _steal_and_total()
                    stolen, total = stolen + s1 - s0, total + t1 - t0
        a, b = statistics.median(one), statistics.median(two)
        steal = 100 * stolen / total if total else 0.0
        figures[name] = {"one_alone_s": round(a, 3), "two_at_once_s": round(b, 3),
                         "two_process_throughput": round(2 * a / b, 2), "steal_pct_two_at_once": round(steal, 1)}
        print(f"{name}: one alone {a:.2f} s, two at once {b:.2f} s (medians of {args.repeat}): "
              f"two processes do {2 * a / b:.2f}x the work of one; steal time {steal:.1f}%", flush=True)
    figures["load_after"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
