"""decontam's 13-gram rule (`--method ngram13`) beside lm-evaluation-harness's own code, on the same documents
and questions: does it say what lm-eval says?

    python3 -m venv /tmp/lmeval-venv && /tmp/lmeval-venv/bin/pip install 'lm_eval[archiver]'
    python benchmarks/peers/janitor_agreement.py --venv /tmp/lmeval-venv --mb 150     # builds the corpus
    python benchmarks/peers/janitor_agreement.py --venv /tmp/lmeval-venv --corpus C.jsonl

Run with decontam's Python; lm-eval runs in its own venv (`lm_eval[archiver]`: `decontaminate.py` imports
`jsonlines` and `zstandard`; its 13-gram files need the `zstd` command). Questions: HumanEval (prompt), MBPP
(text) and GSM8K test (question), 2,457 (benchmarks/peers/common.py). Corpus: the installed Python's `.py`
files (as benchmarks/speed/bench_filter.py builds it) with real questions planted into real documents in the
forms of benchmarks/peers/plant.py (so that there is something to agree on).

Two sides of lm-eval, each compared with decontam on the same data:

* documents: `Janitor.clean`, 13-gram defaults, `register_contaminant(question)` for every question, a document
  flagged when `clean` finds a registered 13-gram in it (peer_janitor.py, as benchmarks/peers runs it) vs the
  documents `decontam filter --method ngram13` removes;
* items: `decontaminate.get_train_overlap` over 13-gram files made as lm-eval's scripts make them
  (peer_janitor_overlap.py) vs the items `decontam --method ngram13` reports contaminated.

Each document on which decontam and `Janitor.clean` disagree is explained, or counted as unexplained, by
recomputing both readings of the rule in plain Python here: decontam's (normalize the text, then split: what
`register_contaminant`, `generate_13_grams.py` and `get_train_overlap` do) and `clean`'s (split the text into
tokens, then normalize each token, so that a token of punctuation only becomes an empty word).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import string
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(HERE.parent / "speed")]

from common import BENCHMARKS, load_questions, read_jsonl  # noqa: E402
from plant import FORMS, Oracle, candidate_hosts, cases_json, make_cases  # noqa: E402
from run_peers import build_or_take_corpus, run_timed  # noqa: E402

SHARED = Path(os.environ.get("DECONTAM_SHARED_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
# lm_eval/decontamination/janitor.py: Janitor.translation_table (delete_chars=string.punctuation)
JANITOR = str.maketrans(string.ascii_lowercase + string.ascii_uppercase, string.ascii_lowercase * 2,
                        string.punctuation)


def ngrams(words: list[str]) -> set[str]:
    return {" ".join(words[i : i + 13]) for i in range(len(words) - 12)}


def normalize_first(text: str, registered: set[str]) -> bool:
    """decontam's reading (and register_contaminant's, generate_13_grams.py's): normalize, then split."""
    return bool(ngrams(text.translate(JANITOR).split()) & registered)


def split_first(text: str, registered: set[str]) -> bool:
    """Janitor.clean_python's reading: split into tokens, then normalize each (punctuation-only tokens stay, empty)."""
    return bool(ngrams([t.translate(JANITOR) for t in text.split()]) & registered)


def run_decontam(corpus: Path, work: Path) -> tuple[dict, dict]:
    out = work / "decontam"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "decontam", "filter", str(corpus), "-o", str(out / "clean.jsonl"), "--report",
           str(out / "report.json"), "--method", "ngram13", "--no-progress", "--num-proc", "1", "--overwrite"]
    for name, (rel, _, _) in BENCHMARKS.items():
        cmd += ["-b", f"{name}={SHARED / rel}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    wall, cpu, code = run_timed(cmd, env, out / "log.txt")
    if code:
        raise SystemExit(f"decontam failed: {(out / 'log.txt').read_text()[-500:]}")
    return {"wall": wall, "cpu": cpu}, json.loads((out / "report.json").read_text())


def run_peer(script: str, venv: Path, corpus: Path, questions: Path, work: Path) -> tuple[dict, dict]:
    out = work / script.removesuffix(".py")
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(venv / "bin" / "python"), str(HERE / script), "--corpus", str(corpus), "--questions", str(questions),
           "--out", str(out / "out.json"), "--work", str(out), "--extra", ""]
    wall, cpu, code = run_timed(cmd, dict(os.environ), out / "log.txt")
    if code:
        raise SystemExit(f"{script} failed: {(out / 'log.txt').read_text(errors='replace')[-800:]}")
    return {"wall": wall, "cpu": cpu}, json.loads((out / "out.json").read_text())


def lm_eval_version(venv: Path) -> str:
    import subprocess

    res = subprocess.run([str(venv / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('lm_eval'))"],
                         capture_output=True, text=True)
    return res.stdout.strip() or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/lmeval-venv"), help="venv with lm_eval[archiver]")
    ap.add_argument("--corpus", type=Path, help="JSONL corpus (id, text) to take; default: build one of --mb MB")
    ap.add_argument("--mb", type=float, default=150, help="size of the corpus to build, MB of text (default 150)")
    ap.add_argument("--per-form", type=int, default=6, help="planted cases per form (default 6, as run_peers.py)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/decontam-janitor"))
    ap.add_argument("--json", type=Path, help="write every figure here (default WORKDIR/agreement.json)")
    args = ap.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    questions = load_questions(SHARED)
    qfile = work / "questions.jsonl"
    qfile.write_text("".join(json.dumps(q) + "\n" for q in questions))
    docs = list(read_jsonl(build_or_take_corpus(args, work)))
    hosts = candidate_hosts(docs, Oracle(questions), args.seed, args.per_form * len(FORMS) * 2)
    cases, new_text = make_cases(questions, hosts, args.per_form, args.seed)
    corpus = work / "planted.jsonl"
    size = 0
    with open(corpus, "w", encoding="utf-8") as out:
        for d in docs:
            text = new_text.get(d["id"], d["text"])
            size += len(text.encode("utf-8"))
            out.write(json.dumps({"id": d["id"], "text": text}) + "\n")
    mb = size / 1e6
    print(f"corpus: {len(docs):,} documents, {mb:.1f} MB of text, {len(cases)} planted; "
          f"{len(questions):,} questions; load average {os.getloadavg()[0]:.1f}", flush=True)

    d_time, report = run_decontam(corpus, work)
    print(f"decontam --method ngram13: {d_time['wall']:.1f} s wall, {d_time['cpu']:.1f} s CPU", flush=True)
    j_time, janitor = run_peer("peer_janitor.py", args.venv, corpus, qfile, work)
    print(f"lm-eval Janitor.clean: {j_time['wall']:.1f} s wall", flush=True)
    o_time, overlap = run_peer("peer_janitor_overlap.py", args.venv, corpus, qfile, work)
    print(f"lm-eval get_train_overlap: {o_time['wall']:.1f} s wall", flush=True)

    # documents
    removed = {r["doc_id"] for r in report["training"]["removed"]}
    flagged = set(janitor["flagged"])
    registered = set().union(*(ngrams(q["question"].translate(JANITOR).split()) for q in questions))
    text_of = {d["id"]: new_text.get(d["id"], d["text"]) for d in docs if d["id"] in removed ^ flagged}
    explained, unexplained = [], []
    for doc_id in sorted(removed ^ flagged):
        text = text_of[doc_id]
        same = (normalize_first(text, registered) == (doc_id in removed)
                and split_first(text, registered) == (doc_id in flagged))
        (explained if same else unexplained).append(doc_id)
    # items
    items = {}
    for b in report["benchmarks"]:
        mine, theirs = set(map(json.dumps, b["contaminated_ids"])), set(map(json.dumps, overlap["contaminated"].get(b["name"], [])))
        items[b["name"]] = {"decontam": len(mine), "lm_eval": len(theirs), "both": len(mine & theirs),
                            "only_decontam": sorted(mine - theirs), "only_lm_eval": sorted(theirs - mine),
                            "too_short": b.get("n_too_short", 0), "items": b["n_items"]}
    by_form = {f: {"cases": 0, "decontam": 0, "janitor_clean": 0} for f in FORMS}
    for c in cases:
        by_form[c.form]["cases"] += 1
        by_form[c.form]["decontam"] += c.doc_id in removed
        by_form[c.form]["janitor_clean"] += c.doc_id in flagged
    figures = {
        "python": platform.python_version(), "lm_eval": lm_eval_version(args.venv),
        "corpus": {"documents": len(docs), "text_mb": round(mb, 1), "planted": len(cases)},
        "questions": len(questions),
        "documents": {"decontam": len(removed), "janitor_clean": len(flagged), "both": len(removed & flagged),
                      "only_decontam": sorted(removed - flagged), "only_janitor_clean": sorted(flagged - removed),
                      "explained_by_split_first": len(explained), "unexplained": unexplained},
        "items": items,
        "planted_by_form": by_form,
        "timing": {"decontam": {**d_time, "mb_s": mb / d_time["wall"], "mb_per_cpu_s": mb / d_time["cpu"]},
                   "janitor_clean": {**j_time, "mb_s": mb / j_time["wall"], "mb_per_cpu_s": mb / j_time["cpu"]},
                   "get_train_overlap": {**o_time, **overlap["notes"]}},
        "load_average_1min_end": round(os.getloadavg()[0], 2),
        "cases": cases_json(cases),
    }
    path = args.json or work / "agreement.json"
    path.write_text(json.dumps(figures, indent=1))
    summary = {k: v for k, v in figures.items() if k != "cases"}
    print(json.dumps(summary, indent=1))
    if unexplained or any(v["only_decontam"] or v["only_lm_eval"] for v in items.values()):
        print("DISAGREEMENT not explained by the two readings: see above", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
