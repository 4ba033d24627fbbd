"""lm-evaluation-harness's item-side 13-gram check, run in its own venv, with lm-eval's own code:
`lm_eval.decontamination.decontaminate.get_train_overlap`, the function behind lm-eval's published "clean
subset" figures (docs/decontamination.md), over 13-gram files made as its scripts make them.

1. Training 13-grams, as `scripts/clean_training_data/generate_13_grams.py` writes them: for each document (0-based
   offset in the corpus), `word_ngrams(Janitor().normalize_string(document), 13)`, one line `"{ngram} {offset}"`
   each; then compressed with the `zstd` command, as `compress_and_package.py` does, into
   `ngrams_0.bkt.txt.sorted.zst` beside an `info.json` of `{"ngram_size": 13}`. (The lines are not sorted:
   `get_train_overlap` only skips a line equal to the one before, and drops an n-gram from its lookup once
   matched, so the order changes no result, only the time.)
2. `get_train_overlap({(benchmark, "test"): [question, ...]}, ngrams_dir, limit)`: the indices of the questions
   that share a 13-gram with the training set, per benchmark. It caches under `data/` of the current folder:
   the runner works in a fresh folder.

Writes {"tool": "janitor-overlap", "contaminated": {benchmark: [item ids]}, "notes": {...}} to --out.
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_jsonl, runner_args  # noqa: E402

args = runner_args(__doc__)
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    from lm_eval.decontamination.decontaminate import get_train_overlap
    from lm_eval.decontamination.janitor import Janitor, word_ngrams

work = args.work
ngrams_dir = work / "ngrams"
ngrams_dir.mkdir(parents=True, exist_ok=True)
bucket = ngrams_dir / "ngrams_0.bkt.txt.sorted"
janitor = Janitor()
t = time.perf_counter()
n_lines = 0
with open(bucket, "w", encoding="utf-8") as out:
    for offset, row in enumerate(read_jsonl(args.corpus)):
        for ngram in word_ngrams(janitor.normalize_string(row["text"]), 13):
            out.write(f"{ngram} {offset}\n")
            n_lines += 1
subprocess.run(["zstd", "-q", "--rm", "-f", str(bucket)], check=True)
(ngrams_dir / "info.json").write_text(json.dumps({"title": "dataset ngrams", "ngram_size": 13}))
generate_s = time.perf_counter() - t

questions: dict[str, list[dict]] = {}
for q in read_jsonl(args.questions):
    questions.setdefault(q["benchmark"], []).append(q)
run_dir = work / "overlap-run"
(run_dir / "data").mkdir(parents=True, exist_ok=True)  # it makes data/<task>, not data itself
os.chdir(run_dir)  # get_train_overlap writes its caches under ./data
t = time.perf_counter()
with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
    overlap = get_train_overlap({(b, "test"): [q["question"] for q in qs] for b, qs in questions.items()},
                                str(ngrams_dir), limit=None)
overlap_s = time.perf_counter() - t
contaminated = {b: [questions[b][i]["item_id"] for i in sorted(ids)] for b, ids in overlap.items()}
args.out.write_text(json.dumps({"tool": "janitor-overlap", "contaminated": contaminated,
                                "notes": {"training_13gram_lines": n_lines, "generate_s": round(generate_s, 2),
                                          "overlap_s": round(overlap_s, 2)}}))
