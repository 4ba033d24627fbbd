"""What span redaction costs: `filter --action redact` beside `filter` (drop), timed in the same process.

Corpus: the `.py` files of the installed Python as JSONL (`bench_filter.py`'s corpus), with a HumanEval prompt
planted in the middle of every `--every`-th document (so that there is something to redact), written once.
Probes: HumanEval + GSM8K from ../shared/benchmarks, GPT-4 rule (3 x 50 characters, seed 0).

Measured, alternating drop and redact runs (`filter_files`, one process, no progress bar) `--repeat` times:
medians of wall time and CPU time (`time.process_time`) of each, their ratio, and what redaction did (documents
redacted and dropped, characters cut). The machine is shared: quote the ratio, measured in the same process.

Usage:
    python benchmarks/speed/bench_redact.py [--mb 40] [--every 50] [--repeat 3] [--workdir /tmp/decontam-redact]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_filter import SHARED, build_corpus  # noqa: E402

from decontam import filter_files  # noqa: E402


def plant(src: Path, dst: Path, every: int) -> int:
    """Copy the corpus, a HumanEval prompt put after the middle line of every ``every``-th document."""
    with gzip.open(SHARED / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        prompts = [json.loads(line)["prompt"] for line in fh]
    n = 0
    with open(src, encoding="utf-8") as fh, open(dst, "w", encoding="utf-8") as out:
        for k, line in enumerate(fh):
            row = json.loads(line)
            if k % every == 0:
                text = row["text"]
                cut = text.find("\n", len(text) // 2)
                cut = len(text) if cut < 0 else cut + 1
                row["text"] = text[:cut] + prompts[n % len(prompts)] + text[cut:]
                n += 1
            out.write(json.dumps(row) + "\n")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=40)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-redact"))
    args = ap.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"planted-{args.mb:g}mb-{args.every}.jsonl"
    if not corpus.exists():
        raw = work / f"corpus-{args.mb:g}mb.jsonl"
        if not raw.exists():
            build_corpus(raw, args.mb)
        print(f"planted {plant(raw, corpus, args.every)} prompts", file=sys.stderr)
    benchmarks = [f"humaneval={SHARED / 'humaneval' / 'HumanEval.jsonl.gz'}", f"gsm8k={SHARED / 'gsm8k' / 'test.jsonl'}"]
    times: dict[str, list[tuple[float, float]]] = {"drop": [], "redact": []}
    reports = {}
    for _ in range(args.repeat):
        for action in ("drop", "redact"):
            out = work / f"out-{action}.jsonl"
            t0, c0 = time.perf_counter(), time.process_time()
            reports[action] = filter_files([corpus], benchmarks, out, overwrite=True, progress=False, action=action)
            times[action].append((time.perf_counter() - t0, time.process_time() - c0))
    red = reports["redact"].data["training"]["redaction"]
    med = {a: (statistics.median(w for w, _ in ts), statistics.median(c for _, c in ts)) for a, ts in times.items()}
    result = {
        "corpus_mb": round(corpus.stat().st_size / 1e6, 1), "documents": reports["drop"].data["corpus"]["n_documents"],
        "holding_a_probe": reports["drop"].n_removed, "redacted": red["n_redacted"], "dropped": red["n_dropped"],
        "dropped_too_short": red["n_dropped_too_short"], "dropped_too_many_pieces": red["n_dropped_too_many_pieces"],
        "characters_cut": red["n_characters_removed"],
        "drop_wall_s": round(med["drop"][0], 2), "drop_cpu_s": round(med["drop"][1], 2),
        "redact_wall_s": round(med["redact"][0], 2), "redact_cpu_s": round(med["redact"][1], 2),
        "cpu_ratio": round(med["redact"][1] / med["drop"][1], 3), "wall_ratio": round(med["redact"][0] / med["drop"][0], 3),
        "repeat": args.repeat, "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
