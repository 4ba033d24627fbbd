"""lm-evaluation-harness's 13-gram janitor, run in its own venv, as its docs say
(scripts/clean_training_data/README.md): `Janitor()` with its defaults (13-grams, window 200, too-dirty
cutoff 10, minimum slice 200), `register_contaminant(text)` for each benchmark question, then
`clean(text)` for each training document.

A document counts as flagged when `clean` found at least one registered 13-gram in it. `clean`'s return value
cannot say so: a clean document of 200 characters or fewer comes back as [] exactly like a "too dirty" one,
so a thin subclass records whether `_split_chunks` (which `clean` calls with the matches) got any match.

Janitor runs its C++ helper `janitor_util` if it can be imported (the README's compile step; see
benchmarks/peers/README.md), else pure Python. `--extra cpp` requires the C++ helper.
"""

import contextlib
import io
import json
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_jsonl, runner_args, write_flags  # noqa: E402

args = runner_args(__doc__)
if args.extra == "cpp":
    sys.path.insert(0, os.environ["JANITOR_UTIL_DIR"])
# janitor.py prints a warning with a traceback at import without the C++ helper, and "WARNING: Janitor
# running in python mode" on every register/clean call in Python mode: sent to a null stream, as a batch
# job's log would be (the print itself is part of its cost).
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    from lm_eval.decontamination import janitor as jmod
if args.extra == "cpp" and not jmod.JANITOR_CPP:
    raise SystemExit("janitor_util (C++) could not be imported")


class FlaggingJanitor(jmod.Janitor):
    def _split_chunks(self, dirty_string, dirty_parts):
        parts = list(dirty_parts)
        self.last_hits = len(parts)
        if parts:
            self.last_match = dirty_string[parts[0][1]:parts[0][2] + 1]
        return super()._split_chunks(dirty_string, parts)


jan = FlaggingJanitor()
flagged, matched = [], Counter()
with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
    for q in read_jsonl(args.questions):
        jan.register_contaminant(q["question"])
    for row in read_jsonl(args.corpus):
        jan.last_hits = 0
        jan.clean(row["text"])
        if jan.last_hits:
            flagged.append(row["id"])
            matched[" ".join(jan.last_match.split())] += 1
write_flags(args.out, "janitor", flagged, {"ngrams": len(jan.dirt_ngrams), "cpp": jmod.JANITOR_CPP,
                                           "most_common_first_matches": matched.most_common(5)})
