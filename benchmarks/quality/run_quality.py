"""The quality table: recall per transform and precision of each contamination rule, on real questions planted
into real documents. One command:

    python benchmarks/quality/run_quality.py [--per-transform 30] [--background-mb 20] [--seed 0]

Run it with decontam's Python (`pip install -e .`). It writes WORKDIR/quality.md (the table, as the README shows
it) and WORKDIR/quality.json (every case and verdict); default WORKDIR /tmp/decontam-quality.

* Questions: every item of six real benchmarks in ../shared/benchmarks (HumanEval, MBPP, GSM8K, ARC-Challenge,
  MMLU, TruthfulQA; 19,261 items), loaded by decontam's registry. All are checked: an item not planted is a
  negative.
* Documents: the installed Python's standard-library `.py` files. Host documents (2-20 KB) are ones in which
  an independent oracle (benchmarks/peers/plant.py: every 50-character window of every question, lowercased,
  unescaped, letters and digits only) finds no benchmark text; each gets one case, written after its middle
  line. Background: other standard-library files, as they are, up to --background-mb.
* Cases: per transform (transforms.py), --per-transform questions of 120 characters or more (16+ words), drawn
  seeded, round robin over the benchmarks that have eligible questions, each question planted once in the whole
  run (so its documents say which case found it), and none holding another item's text (MMLU's "moral
  scenarios" share a first sentence: one planted would find 895 items).
* Methods: functions `(corpus, benchmarks) -> {(benchmark, item id): evidence document ids}`, all run on the
  same corpus: the GPT-4 rule (3 probes, the default), every window (`--probes all`), the near-duplicate pass
  (`--near-dup`: the rule's items and the pass's; a decontam without the pass says "not yet measured"), the
  13-gram rule (`--method ngram13`).
* A case is found when its item is flagged and its host document is among the item's evidence documents.
  Recall per transform: found / cases. A flagged item is a false positive when none of its evidence documents
  holds it: it was not planted there, and the oracle does not find its text there (a genuine occurrence in the
  background, e.g. a question "43" in a file holding 43, is counted apart, not as a false positive).
  Precision: flagged items that are not false positives / flagged items.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(HERE.parent / "peers"), str(REPO)]

from plant import Oracle, candidate_hosts, oracle_norm  # noqa: E402
from transforms import TRANSFORMS, applies, apply  # noqa: E402

SHARED = Path(os.environ.get("DECONTAM_SHARED_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
BENCHMARKS = {"humaneval": "humaneval/HumanEval.jsonl.gz", "mbpp": "mbpp/mbpp.jsonl", "gsm8k": "gsm8k/test.jsonl",
              "arc": "arc/ARC-Challenge-Test.jsonl", "mmlu": "mmlu/test", "truthfulqa": "truthfulqa/TruthfulQA.csv"}
Found = dict[tuple[str, str], set[str]]  # (benchmark, json item id) -> evidence document ids


# ------------------------------------------------------------------------------------------------ methods

def _exact(report) -> Found:
    out: Found = {}
    for b in report.data["benchmarks"]:
        for it in b["items"]:
            if it["contaminated"]:
                out[(b["name"], json.dumps(it["id"]))] = {str(m["doc_id"]) for m in it["matches"]}
    return out


def gpt4(corpus: Path, benches: list) -> Found:
    from decontam import check

    return _exact(check([corpus], benches, progress=False))


def all_windows(corpus: Path, benches: list) -> Found:
    from decontam import check

    return _exact(check([corpus], benches, probes="all", progress=False))


def ngram13(corpus: Path, benches: list) -> Found:
    from decontam import check

    return _exact(check([corpus], benches, method="ngram13", progress=False))


def near_dup(corpus: Path, benches: list) -> Found:
    """The GPT-4 rule plus the near-duplicate pass: items found either way, with both kinds of evidence."""
    from decontam import check

    report = check([corpus], benches, near_dup=True, progress=False)
    out = _exact(report)
    for b in report.data["benchmarks"]:
        for it in b["items"]:
            if it.get("near_matches"):
                out.setdefault((b["name"], json.dumps(it["id"])), set()).update(
                    str(m["doc_id"]) for m in it["near_matches"])
    return out


def near_dup_available() -> bool:
    from decontam.config import DecontamConfig

    return "near_dup" in DecontamConfig.__dataclass_fields__


METHODS: dict[str, tuple[str, Callable[[Path, list], Found], Callable[[], bool]]] = {
    "gpt4": ("GPT-4 rule, 3 probes (default)", gpt4, lambda: True),
    "all": ("every window (`--probes all`)", all_windows, lambda: True),
    "near-dup": ("near-dup (`--near-dup`)", near_dup, near_dup_available),
    "ngram13": ("13-gram rule (`--method ngram13`)", ngram13, lambda: True),
}


# ------------------------------------------------------------------------------------------------ corpus

def stdlib_docs() -> list[dict]:
    """The standard library's .py files (id: path relative to the standard library, text), in path order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for p in sorted(root.rglob("*.py")):
        if "site-packages" in p.parts:
            continue
        try:
            out.append({"id": p.relative_to(root).as_posix(), "text": p.read_text(encoding="utf-8")})
        except (UnicodeDecodeError, OSError):
            continue
    return out


class Lone:
    """Whether an item's question holds no other item's text (oracle-normalized: a 50-character window of another
    question, or a whole shorter one). A question that does, such as MMLU's 895 "moral scenarios" items, which
    share their first sentence, would make a planted case find other items than its own."""

    W = Oracle.W

    def __init__(self, questions: dict[tuple[str, str], str]) -> None:
        self.norm = {k: oracle_norm(q) for k, q in questions.items()}
        self.owner: dict[str, tuple[str, str] | None] = {}
        self.short: dict[str, set[tuple[str, str]]] = {}
        for k, n in self.norm.items():
            if len(n) < self.W:
                self.short.setdefault(n, set()).add(k)
                continue
            for w in {n[i : i + self.W] for i in range(len(n) - self.W + 1)}:
                self.owner[w] = k if self.owner.get(w, k) == k else None

    def __call__(self, key: tuple[str, str]) -> bool:
        n = self.norm[key]
        if any(self.owner.get(n[i : i + self.W], key) != key for i in range(len(n) - self.W + 1)):
            return False
        return not any(s in n and owners != {key} for s, owners in self.short.items())


def pick_cases(benches: list, per: int, rng: random.Random, lone: Callable[[tuple[str, str]], bool]) -> list[dict]:
    """Per transform, ``per`` questions it applies to, round robin over the benchmarks, each question once, each
    holding no other item's text (``lone``)."""
    used: set[tuple[str, str]] = set()
    cases = []
    for t in TRANSFORMS:
        pools = {b.name: [it for it in b.items if applies(t, it.question)] for b in benches}
        for pool in pools.values():
            rng.shuffle(pool)
        names = [n for n in pools if pools[n]]
        k = 0
        while sum(c["transform"] == t for c in cases) < per and any(pools[n] for n in names):
            name = names[k % len(names)]
            k += 1
            while pools[name]:
                it = pools[name].pop()
                key = (name, json.dumps(it.id))
                if key not in used and lone(key):
                    used.add(key)
                    cases.append({"transform": t, "benchmark": name, "item_id": it.id, "question": it.question})
                    break
    return cases


def plant(cases: list[dict], hosts: list[dict], pool: list[str], seed: int) -> dict[str, str]:
    """Write each case into the next host document, after its middle line; returns {doc id: new text}."""
    if len(hosts) < len(cases):
        raise SystemExit(f"{len(hosts)} host documents for {len(cases)} cases: lower --per-transform")
    new_text = {}
    for k, (case, host) in enumerate(zip(cases, hosts)):
        rng = random.Random(f"{seed}/{k}")
        text = apply(case["transform"], case["question"], rng, pool)
        cut = host["text"].find("\n", len(host["text"]) // 2)
        cut = len(host["text"]) if cut < 0 else cut + 1
        new_text[host["id"]] = host["text"][:cut] + "\n" + text + "\n\n" + host["text"][cut:]
        case.update(doc_id=host["id"], planted=text)
    return new_text


# ------------------------------------------------------------------------------------------------ scoring

def score(found: Found, cases: list[dict], questions: dict[tuple[str, str], str], docs: dict[str, str]) -> dict:
    planted_in = {(c["benchmark"], json.dumps(c["item_id"])): c["doc_id"] for c in cases}
    per_t: dict[str, list[int]] = {t: [0, 0] for t in TRANSFORMS}
    for c in cases:
        key = (c["benchmark"], json.dumps(c["item_id"]))
        per_t[c["transform"]][1] += 1
        per_t[c["transform"]][0] += c["doc_id"] in found.get(key, set())
    true = false = genuine = 0
    false_items = []
    for key, evidence in found.items():
        if planted_in.get(key) in evidence:
            true += 1
            continue
        oracle = Oracle([{"benchmark": key[0], "item_id": key[1], "question": questions[key]}])
        if any(oracle.holds(docs[d]) for d in evidence):
            genuine += 1
        else:
            false += 1
            false_items.append({"item": list(key), "question": questions[key][:200], "documents": sorted(evidence)[:5]})
    flagged = len(found)
    return {"recall": {t: {"found": f, "cases": n, "recall": round(f / n, 3) if n else None}
                       for t, (f, n) in per_t.items()},
            "flagged_items": flagged, "true": true, "genuine_unplanted": genuine, "false_positives": false,
            "precision": round((flagged - false) / flagged, 4) if flagged else None,
            "false_positive_items": false_items}


def table(results: dict, cases: list[dict], meta: dict) -> str:
    cols = list(METHODS)
    head = "| transform | cases | " + " | ".join(METHODS[m][0] for m in cols) + " |"
    lines = [head, "| --- | ---: | " + " | ".join("---:" for _ in cols) + " |"]

    def cell(m: str, fn: Callable[[dict], str]) -> str:
        return fn(results[m]) if m in results else "not yet measured"

    for t in TRANSFORMS:
        n = sum(c["transform"] == t for c in cases)
        lines.append(f"| {t} | {n} | " + " | ".join(
            cell(m, lambda r: f"{r['recall'][t]['recall']:.2f}" if r["recall"][t]["cases"] else "-") for m in cols) + " |")
    lines.append("| **precision** (flagged items whose evidence holds them) | | " + " | ".join(
        cell(m, lambda r: f"**{r['precision']:.3f}** ({r['flagged_items'] - r['false_positives']}/{r['flagged_items']})"
             if r["precision"] is not None else "-") for m in cols) + " |")
    lines.append("| false positives / found elsewhere (genuine, not planted) | | " + " | ".join(
        cell(m, lambda r: f"{r['false_positives']} / {r['genuine_unplanted']}") for m in cols) + " |")
    return "\n".join([meta["caption"], "", *lines]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-transform", type=int, default=30, help="cases per transform (default 30)")
    ap.add_argument("--background-mb", type=float, default=20, help="MB of other stdlib files (default 20)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default=",".join(METHODS), help=f"subset of {','.join(METHODS)}")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-quality"))
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"benchmark files not found at {SHARED}; set DECONTAM_SHARED_BENCHMARKS")
    from decontam import __version__, load_benchmark

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    benches = [load_benchmark(name, str(SHARED / rel)) for name, rel in BENCHMARKS.items()]
    questions = {(b.name, json.dumps(it.id)): it.question for b in benches for it in b.items}
    rng = random.Random(args.seed)
    cases = pick_cases(benches, args.per_transform, rng, Lone(questions))
    docs = stdlib_docs()
    oracle = Oracle([{"benchmark": b, "item_id": i, "question": q} for (b, i), q in questions.items()])
    hosts = candidate_hosts(docs, oracle, args.seed, len(cases))
    pool = sorted({w for q in questions.values() for w in q.split() if w.isalpha() and w.islower() and len(w) > 3})
    new_text = plant(cases, hosts, pool, args.seed)
    host_ids = set(new_text)
    background, size = [], 0
    for d in random.Random(args.seed + 1).sample(docs, len(docs)):
        if d["id"] not in host_ids and size < args.background_mb * 1e6:
            background.append(d)
            size += len(d["text"].encode("utf-8"))
    corpus_docs = [{"id": d["id"], "text": new_text[d["id"]]} for d in hosts[: len(cases)]] + background
    corpus_docs.sort(key=lambda d: d["id"])
    corpus = work / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in corpus_docs), encoding="utf-8")
    text_of = {d["id"]: d["text"] for d in corpus_docs}
    mb = sum(len(t.encode("utf-8")) for t in text_of.values()) / 1e6
    print(f"{len(cases)} cases in {len(cases)} host documents + {len(background)} background documents "
          f"({mb:.1f} MB); {len(questions):,} items", flush=True)
    results: dict = {}
    for m in args.methods.split(","):
        label, fn, available = METHODS[m]
        if not available():
            print(f"{m}: not in this decontam (not yet measured)", flush=True)
            continue
        t = time.perf_counter()
        found = fn(corpus, benches)
        results[m] = {**score(found, cases, questions, text_of), "seconds": time.perf_counter() - t}
        print(f"{m}: {results[m]['flagged_items']} items flagged, precision {results[m]['precision']}, "
              f"{results[m]['seconds']:.1f} s", flush=True)
    counts = {b.name: len(b.items) for b in benches}
    meta = {"decontam": __version__, "python": platform.python_version(), "seed": args.seed,
            "per_transform": args.per_transform, "corpus_mb": round(mb, 1), "documents": len(corpus_docs),
            "items": counts}
    meta["caption"] = (
        f"Recall per transform (found / planted cases) and precision, {len(cases)} cases planted in as many "
        f"standard-library files among {len(corpus_docs):,} ({mb:.1f} MB); all {sum(counts.values()):,} items of "
        f"{', '.join(counts)} checked (those not planted are negatives). decontam {__version__}, seed {args.seed}.")
    md = table(results, cases, meta)
    (work / "quality.md").write_text(md, encoding="utf-8")
    (work / "quality.json").write_text(json.dumps({"meta": meta, "results": results, "cases": cases}, indent=1,
                                                  default=str), encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
