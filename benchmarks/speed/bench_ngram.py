"""Speed of the 13-gram rule (`--method ngram13`) beside the GPT-4 rule, timed in the same run.

Corpus and benchmarks as `bench_filter.py`: the `.py` files of the installed Python as JSONL; HumanEval + MBPP +
GSM8K + MMLU (test). Measured, interleaved in each round so that the machine's drift hits both alike:

  * end to end: `decontam filter CORPUS -b ... -o OUT --report R --num-proc 1 [--method ngram13]` as a
    subprocess (start-up, benchmark loading, probes, scan, output, report); wall and CPU time (user + system);
  * fixed cost: the same command on a one-document corpus; steady state: (whole corpus - its first half) /
    (time - time on the half), what a run over gigabytes sustains per core;
  * in process, per stage, on the corpus in 16 MB Arrow batches (CPU seconds, `time.process_time`):
    normalization (`normalize_many` / `word_text_many`) and the matcher's scan of the normalized batches.

Usage:
    python benchmarks/speed/bench_ngram.py [--mb 150] [--repeat 3] [--workdir /tmp/decontam-bench-ngram]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filter import BENCHMARKS, SHARED, build_corpus, head, run_decontam  # noqa: E402

METHODS = {"gpt4": (), "ngram13": ("--method", "ngram13")}


def text_mb(path: Path) -> float:
    with open(path, "rb") as fh:
        return sum(len(json.loads(line)["text"].encode("utf-8")) for line in fh) / 1e6


def stages(corpus: Path) -> dict[str, dict[str, float]]:
    """CPU seconds of each stage of the scan, per method, over the corpus in 16 MB batches."""
    from decontam import load_benchmark
    from decontam.config import make_config
    from decontam.normalize import normalize_many
    from decontam.scan import ProbeSet
    from decontam.words import word_text_many

    benches = [load_benchmark(*spec.split("=", 1)) for spec in BENCHMARKS]
    texts, batches, size = [], [], 0
    with open(corpus, "rb") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            size += len(texts[-1])
            if size >= 16 << 20:
                batches.append(pa.array(texts, pa.large_string()))
                texts, size = [], 0
    if texts:
        batches.append(pa.array(texts, pa.large_string()))
    out = {}
    for method in METHODS:
        cfg = make_config(method=method)
        t = time.process_time()
        probes = ProbeSet.build(benches, cfg)
        build = time.process_time() - t
        norm_s = scan_s = 0.0
        for arr in batches:
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[: len(arr) + 1]
            data = arr.buffers()[2].to_pybytes()[: int(offsets[-1])]
            t = time.process_time()
            if method == "ngram13":
                normalized, noffs = word_text_many(data, offsets)
            else:
                normalized, noffs = normalize_many(data, offsets, cfg.normalize)
            norm_s += time.process_time() - t
            t = time.process_time()
            probes.matcher.scan(normalized, noffs)
            scan_s += time.process_time() - t
        out[method] = {"probe_build_cpu_s": round(build, 3), "normalize_cpu_s": round(norm_s, 3),
                       "scan_cpu_s": round(scan_s, 3), "n_keys": probes.matcher.n_keys,
                       "n_probes": sum(len(p.offsets) for items in probes.items for p in items)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=150, help="corpus size, MB of text (default 150)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are quoted (default 3)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-bench-ngram"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"benchmark files not found at {SHARED}; set DECONTAM_SHARED_BENCHMARKS")
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    corpus, half, tiny = work / "corpus.jsonl", work / "corpus-half.jsonl", work / "corpus-tiny.jsonl"
    n_docs, size = build_corpus(corpus, args.mb)
    head(corpus, half, 0.5)
    tiny.write_text(json.dumps({"id": "tiny", "text": "def f():\n    return 1\n"}) + "\n")
    mb, half_mb = size / 1e6, text_mb(half)
    print(f"corpus: {n_docs} docs, {mb:.1f} MB of text; load average {os.getloadavg()[0]:.2f}", flush=True)
    runs: dict[str, dict[str, list[float]]] = {m: {k: [] for k in ("wall", "cpu", "half", "half_cpu", "fixed")}
                                               for m in METHODS}
    removed: dict[str, int] = {}
    for rnd in range(args.repeat):
        for m, extra in METHODS.items():
            r = runs[m]
            r["fixed"].append(run_decontam(tiny, work, f"{m}-tiny", extra=extra)[0])
            wall, _, _, cpu = run_decontam(half, work, f"{m}-half", extra=extra)
            r["half"].append(wall)
            r["half_cpu"].append(cpu)
            wall, _, report, cpu = run_decontam(corpus, work, f"{m}-full", extra=extra)
            r["wall"].append(wall)
            r["cpu"].append(cpu)
            removed[m] = report["training"]["n_removed"]
            print(f"round {rnd} {m}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    figures: dict = {"corpus_text_mb": round(mb, 1), "documents": n_docs, "runs": args.repeat,
                     "python": platform.python_version(), "machine": platform.machine()}
    for m in METHODS:
        med = {k: statistics.median(v) for k, v in runs[m].items()}
        figures[m] = {
            "wall_s": round(med["wall"], 2), "mb_s": round(mb / med["wall"], 1),
            "cpu_s": round(med["cpu"], 2), "mb_per_cpu_s": round(mb / med["cpu"], 1),
            "fixed_s": round(med["fixed"], 2),
            "steady_mb_s": round((mb - half_mb) / (med["wall"] - med["half"]), 1),
            "steady_mb_per_cpu_s": round((mb - half_mb) / (med["cpu"] - med["half_cpu"]), 1),
            "documents_removed": removed[m],
        }
    figures["ngram13_vs_gpt4_wall"] = round(figures["ngram13"]["wall_s"] / figures["gpt4"]["wall_s"], 2)
    st = stages(corpus)
    for m in METHODS:
        st[m]["normalize_mb_per_cpu_s"] = round(mb / st[m]["normalize_cpu_s"], 1)
        st[m]["scan_mb_per_cpu_s"] = round(mb / st[m]["scan_cpu_s"], 1)
    figures["stages"] = st
    figures["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
