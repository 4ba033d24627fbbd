"""The near-duplicate pass: datasketch's per-token Python path beside decontam's numpy path, timed in one run.

    python benchmarks/speed/bench_neardup.py [--sample-mb 2] [--repeat 3]

Questions: HumanEval, MBPP, GSM8K, MMLU (test), ARC-Challenge, TruthfulQA from ../shared/benchmarks, normalized.
Corpus: the standard library's ``.py`` files, the first ``--sample-mb`` MB (the datasketch path is slow).

Measured (CPU seconds, ``time.process_time``, medians of ``--repeat``):

1. The questions' MinHash signatures (64 permutations of their 8-byte shingles): ``datasketch.MinHash`` with
   ``update_batch`` (a Python call per shingle, as datasketch hashes) against :func:`decontam.minhash.signatures`
   (all questions at once); the two are checked equal, bit for bit.
2. The corpus side: what datasketch offers for a stream of documents, a MinHash per window of each document
   (windows of 256 bytes of normalized text, every 128 bytes; ``update_batch``) queried against a
   ``MinHashLSH`` of the questions (threshold 0.3), against :meth:`decontam.neardup.NearDupIndex.find` (the
   hashing of every shingle of the batch and the lookup of the questions' representatives, then the measured
   containment of the candidates), on the same normalized documents. MB of text per CPU second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("DECONTAM_SHARED_BENCHMARKS", ROOT.parent / "shared" / "benchmarks"))
SPECS = {
    "humaneval": SHARED / "humaneval" / "HumanEval.jsonl.gz",
    "mbpp": SHARED / "mbpp" / "mbpp.jsonl",
    "gsm8k": SHARED / "gsm8k" / "test.jsonl",
    "mmlu": SHARED / "mmlu" / "test",
    "arc": SHARED / "arc" / "ARC-Challenge-Test.jsonl",
    "truthfulqa": SHARED / "truthfulqa" / "TruthfulQA.csv",
}


def cpu(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        times.append(time.process_time() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample-mb", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from datasketch import MinHash, MinHashLSH

    from decontam import load_benchmark
    from decontam.minhash import (
        NUM_PERM,
        datasketch_minhash,
        datasketch_permutations,
        shingle_hash,
        shingle_hash_bytes,
        shingles,
        signatures,
    )
    from decontam.neardup import NearDupIndex, distinctive_shingles
    from decontam.normalize import normalize, normalize_many

    questions = [(bi, normalize(it.question)) for bi, name in enumerate(SPECS)
                 for it in load_benchmark(name, SPECS[name]).items]
    encoded = [q.encode() for _, q in questions]
    grams, bounds = distinctive_shingles(encoded, [b for b, _ in questions])
    a, b = datasketch_permutations()
    print(f"{len(questions)} questions, {len(grams)} distinctive shingles, {NUM_PERM} permutations")

    fast, sig = cpu(lambda: signatures(shingle_hash(grams), bounds, a, b), args.repeat)
    step = max(1, len(questions) // 2000)  # datasketch on a sample of the questions, scaled up
    sample = [i for i in range(0, len(questions), step) if bounds[i + 1] > bounds[i]]
    slow, refs = cpu(lambda: [datasketch_minhash(grams[bounds[i]:bounds[i + 1]]) for i in sample], 1)
    assert all(np.array_equal(r.hashvalues, sig[i]) for r, i in zip(refs, sample)), "signatures differ"
    slow_all = slow * len(questions) / len(sample)
    print(f"signatures of all questions: numpy {fast:.3f} s; datasketch update_batch {slow_all:.2f} s "
          f"(measured on {len(sample)} questions, scaled): {slow_all / fast:.0f}x; equal bit for bit")

    root = Path(sysconfig.get_paths()["stdlib"])
    texts, size = [], 0
    for p in sorted(root.rglob("*.py")):
        if "site-packages" in p.parts:
            continue
        try:
            t = p.read_text(encoding="utf-8").encode()
        except (UnicodeDecodeError, OSError):
            continue
        texts.append(t)
        size += len(t)
        if size >= args.sample_mb * 1e6:
            break
    data = b"".join(texts)
    offsets = np.concatenate(([0], np.cumsum([len(t) for t in texts])))
    normalized, norm_offsets = normalize_many(data, offsets)
    mb = len(data) / 1e6

    index = NearDupIndex([(i, b, q) for i, (b, q) in enumerate(questions)])
    ours, _ = cpu(lambda: index.find(normalized, norm_offsets), args.repeat)

    lsh = MinHashLSH(threshold=0.3, num_perm=NUM_PERM)
    for i in range(len(questions)):
        if bounds[i + 1] > bounds[i]:
            lsh.insert(i, MinHash(num_perm=NUM_PERM, hashvalues=sig[i], scheme="affine32"))

    def datasketch_windows() -> int:
        n = 0
        for d in range(len(texts)):
            doc = normalized[int(norm_offsets[d]):int(norm_offsets[d + 1])]
            for start in range(0, max(1, len(doc) - 128), 128):
                window = doc[start:start + 256]
                m = MinHash(num_perm=NUM_PERM, hashfunc=shingle_hash_bytes, scheme="affine32")
                m.update_batch([int(g).to_bytes(8, "little") for g in np.unique(shingles(window))])
                n += len(lsh.query(m))
        return n

    theirs, _ = cpu(datasketch_windows, 1)
    print(f"corpus side, {mb:.1f} MB of text: decontam's numpy pass {mb / ours:.1f} MB/s; datasketch windows + "
          f"MinHashLSH {mb / theirs:.2f} MB/s per CPU second ({theirs / ours:.0f}x slower)")


if __name__ == "__main__":
    main()
