"""AI2's decon through its PyPI bindings (`decontaminate`, `import decon`), run in its own Python 3.12 venv
(the package requires Python >= 3.12), as its README says: `decon.detect(decon.Config(training_dir=...,
evals_dir=..., report_output_dir=...))` with every other parameter at its default (mode "simple",
5-gram cl100k token index, sampling every 10 tokens, contamination_score_threshold 0.8, eval_min_token_length
20, all worker threads).

Eval references are written in decon's documented record format (doc/eval-datasets.md: eval_key,
eval_instance_index, split, question, doc_id, fingerprint), question only, no answer and no passage: the same
input every tool gets. The training dir holds the one corpus file (a symlink). A document is flagged when the
report lists it (training_file, training_line)."""

import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_jsonl, runner_args, write_flags  # noqa: E402

import decon  # noqa: E402

args = runner_args(__doc__)
work = args.work
evals, train, reports = work / "evals", work / "training", work / "report"
for d in (evals, train, reports):
    d.mkdir(parents=True, exist_ok=True)
with open(evals / "questions.jsonl", "w") as out:
    for n, q in enumerate(read_jsonl(args.questions)):
        rec = {"eval_key": q["benchmark"], "eval_instance_index": n, "split": "test", "question": q["question"],
               "doc_id": n, "fingerprint": hashlib.sha256(q["question"].encode()).hexdigest()[:16]}
        out.write(json.dumps(rec) + "\n")
link = train / "corpus.jsonl"
link.unlink(missing_ok=True)
link.symlink_to(args.corpus.resolve())

t = time.perf_counter()
report_dir = decon.detect(decon.Config(training_dir=str(train), evals_dir=str(evals),
                                       report_output_dir=str(reports)))
detect_s = time.perf_counter() - t

ids = [row["id"] for row in read_jsonl(args.corpus)]
flagged, lines, files = set(), set(), sorted(Path(report_dir or reports).rglob("*.jsonl"))
for f in files:
    for rec in read_jsonl(f):
        lines.add(rec["training_line"])
        flagged.add(ids[rec["training_line"]])
write_flags(args.out, "decon", flagged, {"detect_s": round(detect_s, 3), "report_files": [str(f) for f in files],
                                         "training_lines": sorted(lines)[:50]})
