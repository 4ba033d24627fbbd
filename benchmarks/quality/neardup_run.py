"""The near-duplicate pass on planted near copies: recall, precision and speed, by one command.

    python benchmarks/quality/neardup_run.py [--mb 150] [--per-benchmark 80] [--workdir /tmp/decontam-neardup]

Steps:

1. Corpus: the installed Python's ``.py`` files (standard library, then site-packages) as JSONL, up to ``--mb``
   MB of text; the cases of :mod:`neardup_plant` planted into it (questions of 120+ characters from HumanEval,
   MBPP, GSM8K, MMLU, ARC-Challenge and TruthfulQA in ../shared/benchmarks; half of the drawn items planted with
   about 10% of the words swapped or every number changed, half not).
2. ``decontam check`` (a subprocess, one core) three times: without the pass, with it at the lowest threshold of
   the table (every pair at or above a higher threshold is in that report: a pair's measured containment does
   not depend on the threshold), and with it at the default (for its speed).
3. The table: per threshold, recall (planted items found by the exact rule or the pass), precision of the pass
   (items it reports whose evidence documents hold them), and the pass's own speed: the corpus's megabytes over
   the CPU seconds the pass adds (the run with it, less the run without it; ``getrusage`` of the children).

A document holds an item when the item was planted in it, or when at least half of the item's question
(normalized: letters and digits, lowercased) is found in the document in common runs of 20 characters or more
(``difflib``, independent of decontam): a passage shared with a planted sibling item (MMLU items share passages
and stems), or a text the item was written from (MBPP paraphrases the standard library's docstrings). The
strict figure (planted documents only) is printed beside it, and every false positive is listed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import resource
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from neardup_plant import plant, score, write_cases, write_jsonl  # noqa: E402

SHARED = Path(os.environ.get("DECONTAM_SHARED_BENCHMARKS", HERE.parents[2] / "shared" / "benchmarks"))
SPECS = {
    "humaneval": SHARED / "humaneval" / "HumanEval.jsonl.gz",
    "mbpp": SHARED / "mbpp" / "mbpp.jsonl",
    "gsm8k": SHARED / "gsm8k" / "test.jsonl",
    "mmlu": SHARED / "mmlu" / "test",
    "arc": SHARED / "arc" / "ARC-Challenge-Test.jsonl",
    "truthfulqa": SHARED / "truthfulqa" / "TruthfulQA.csv",
}
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def installed_python_documents(target_mb: float) -> list[dict[str, str]]:
    """The installed Python's ``.py`` files (standard library first), up to ``target_mb`` MB of text."""
    paths = sysconfig.get_paths()
    roots = [paths["stdlib"]] + sorted({paths["purelib"], paths["platlib"]} - {paths["stdlib"]})
    docs, size, seen = [], 0, set()
    for root in roots:
        for p in sorted(Path(root).rglob("*.py")):
            if str(p) in seen or (root == paths["stdlib"] and "site-packages" in p.parts):
                continue
            seen.add(str(p))
            try:
                text = p.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            docs.append({"id": str(p), "text": text})
            size += len(text.encode("utf-8"))
            if size >= target_mb * 1e6:
                return docs
    return docs


def run_check(corpus: Path, report: Path, extra: list[str]) -> tuple[float, float]:
    """``decontam check`` in a subprocess; returns (wall seconds, CPU seconds of the child)."""
    args = [sys.executable, "-m", "decontam", "check", str(corpus), "--report", str(report), "--overwrite",
            "--no-progress", *[a for name, path in SPECS.items() for a in ("-b", f"{name}={path}")], *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"decontam failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _norm(s: str) -> str:
    return _NOT_ALNUM.sub("", s.lower())


class Holds:
    """Whether a document holds an item (see the module docstring): planted there, or at least half of the
    item's normalized question found in the document in common runs of 20 characters or more (``difflib``)."""

    RUN = 20
    SHARE = 0.5

    def __init__(self, docs: dict[str, str], questions: dict[tuple[str, str], str], planted: dict[str, set]):
        self.docs, self.questions, self.planted = docs, questions, planted  # planted: doc id -> item keys

    def coverage(self, key: tuple[str, str], doc_id: str) -> float:
        q, text = _norm(self.questions[key]), _norm(self.docs.get(doc_id, ""))
        blocks = difflib.SequenceMatcher(None, q, text, autojunk=False).get_matching_blocks()
        return sum(b.size for b in blocks if b.size >= self.RUN) / max(1, len(q))

    def __call__(self, key: tuple[str, str], doc_id: str) -> bool:
        return key in self.planted.get(doc_id, set()) or self.coverage(key, doc_id) >= self.SHARE


def table(report: dict, cases: list, holds: Holds, thresholds: tuple[float, ...]) -> list[dict]:
    rows = []
    for t in thresholds:
        cut = json.loads(json.dumps(report))
        for b in cut["benchmarks"]:
            keep = []
            for it in b["items"]:
                it["near_matches"] = [m for m in it.get("near_matches", []) if m["containment"] >= t]
                if it["near_matches"] and not it["contaminated"]:
                    keep.append(it["id"])
            b["near_duplicate_ids"] = keep
        s = score(cut, cases)
        lenient_fp = 0
        listed = []
        for fp in s["false_positives_all"]:
            key = (fp["benchmark"], json.dumps(fp["id"]))
            if not any(holds(key, d) for d in fp["docs"]):
                lenient_fp += 1
                listed.append({**fp, "coverage": round(max(holds.coverage(key, d) for d in fp["docs"]), 3)})
        n = s["near_reported"]
        rows.append({"threshold": t, "recall_exact": s["all"]["recall_exact"],
                     "recall": s["all"]["recall_exact_or_near"], "recall_swap10": s["swap10"]["recall_exact_or_near"],
                     "recall_numbers": s["numbers"]["recall_exact_or_near"], "near_reported": n,
                     "precision": round((n - lenient_fp) / n, 4) if n else None,
                     "precision_strict": s["precision_near"], "false_positives": lenient_fp,
                     "not_planted": s["near_false_positives"], "false_positive_items": listed})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=150)
    ap.add_argument("--per-benchmark", type=int, default=80, help="items drawn per benchmark (half planted)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-neardup"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE.parents[1]))
    from decontam import load_benchmark
    from decontam.config import NEAR_DUP_THRESHOLD

    args.workdir.mkdir(parents=True, exist_ok=True)
    benchmarks = {name: load_benchmark(name, path) for name, path in SPECS.items()}
    items = {name: [(it.id, it.question) for it in b.items] for name, b in benchmarks.items()}
    docs = installed_python_documents(args.mb)
    cases, planted_docs = plant(items, docs, args.per_benchmark, args.seed)
    corpus = args.workdir / "corpus.jsonl"
    write_jsonl(planted_docs, corpus)
    write_cases(cases, args.workdir / "cases.json")
    mb = corpus.stat().st_size / 1e6
    text_mb = sum(len(d["text"].encode()) for d in planted_docs) / 1e6
    print(f"corpus: {len(planted_docs)} documents, {text_mb:.1f} MB of text ({mb:.1f} MB of JSONL); "
          f"{sum(c.planted for c in cases)} items planted, {sum(not c.planted for c in cases)} drawn as negatives")

    low = min(THRESHOLDS)
    runs = {"exact": [], "near_default": [], "near_low": []}
    for _ in range(3):
        runs["exact"].append(run_check(corpus, args.workdir / "exact.json", []))
        runs["near_default"].append(run_check(corpus, args.workdir / "near.json", ["--near-dup"]))
    runs["near_low"].append(run_check(corpus, args.workdir / "near-low.json",
                                      ["--near-dup", "--near-dup-threshold", str(low)]))
    med = {k: (sorted(w for w, _ in v)[len(v) // 2], sorted(c for _, c in v)[len(v) // 2]) for k, v in runs.items()}
    added = med["near_default"][1] - med["exact"][1]
    print(f"check, exact rule only: wall {med['exact'][0]:.2f} s, CPU {med['exact'][1]:.2f} s (median of 3)")
    print(f"check --near-dup (threshold {NEAR_DUP_THRESHOLD}): wall {med['near_default'][0]:.2f} s, "
          f"CPU {med['near_default'][1]:.2f} s (median of 3)")
    print(f"the near-duplicate pass: {added:.2f} CPU s more: {text_mb / added:.1f} MB of text per CPU second "
          f"(one core)")

    report = json.loads((args.workdir / "near-low.json").read_text())
    by_id = {d["id"]: d["text"] for d in planted_docs}
    questions = {(n, json.dumps(i)): q for n, its in items.items() for i, q in its}
    planted: dict[str, set] = {}
    for c in cases:
        if c.planted:
            planted.setdefault(c.doc_id, set()).add((c.benchmark, json.dumps(c.item_id)))
    rows = table(report, cases, Holds(by_id, questions, planted), THRESHOLDS)
    print("\n| threshold | recall (exact rule alone) | recall (rule or pass) | swap10 | numbers | items the pass "
          "reports | precision | precision, planted documents only |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['threshold']} | {r['recall_exact']} | {r['recall']} | {r['recall_swap10']} | "
              f"{r['recall_numbers']} | {r['near_reported']} | {r['precision']} | {r['precision_strict']} |")
    default = next(r for r in rows if r["threshold"] == NEAR_DUP_THRESHOLD)
    print(f"\nfalse positives at {NEAR_DUP_THRESHOLD} (no evidence document holds the item):")
    for fp in default["false_positive_items"]:
        print(f"  {fp['benchmark']} {fp['id']}: {', '.join(fp['docs'][:3])} (question covered {fp['coverage']:.0%})")
    verdict = (default["recall"] >= 0.9 and (default["precision"] or 0) >= 0.95 and text_mb / added >= 20)
    print(f"\ngoals at the default threshold {NEAR_DUP_THRESHOLD} (recall >= 0.9, precision >= 0.95, >= 20 MB/s "
          f"per core): {'met' if verdict else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"text_mb": text_mb, "runs": runs, "pass_mb_per_cpu_s": text_mb / added,
                                         "table": rows}, indent=1))


if __name__ == "__main__":
    main()
