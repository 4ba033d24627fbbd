"""Shared by the orchestrator and the peer runners (standard library only: each peer runs in its own venv).

Questions file (JSONL, one per benchmark item): {"benchmark", "item_id", "question"}.
Flags file (JSON) that every runner writes: {"tool", "flagged": [doc ids], "notes": {...}}.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

# The benchmarks of the comparison and the field decontam's registry reads as the question of each
# (README "Command line": humaneval `prompt`/`task_id`, mbpp `text`/`task_id`, gsm8k `question`/row number).
BENCHMARKS = {
    "humaneval": ("humaneval/HumanEval.jsonl.gz", "prompt", "task_id"),
    "mbpp": ("mbpp/mbpp.jsonl", "text", "task_id"),
    "gsm8k": ("gsm8k/test.jsonl", "question", None),
}


def read_jsonl(path: Path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_questions(shared: Path) -> list[dict]:
    """Every question of the three benchmarks, in file order: 164 + 974 + 1,319 = 2,457."""
    out = []
    for name, (rel, qfield, idfield) in BENCHMARKS.items():
        for row_no, row in enumerate(read_jsonl(shared / rel)):
            out.append({"benchmark": name, "item_id": row[idfield] if idfield else row_no,
                        "question": row[qfield]})
    return out


def runner_args(description: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--corpus", type=Path, required=True, help="JSONL corpus (id, text)")
    ap.add_argument("--questions", type=Path, required=True, help="questions JSONL (benchmark, item_id, question)")
    ap.add_argument("--out", type=Path, required=True, help="flags JSON to write")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder of this run")
    ap.add_argument("--extra", default="", help="runner-specific option")
    return ap.parse_args()


def write_flags(path: Path, tool: str, flagged, notes: dict | None = None) -> None:
    path.write_text(json.dumps({"tool": tool, "flagged": sorted(set(flagged)), "notes": notes or {}}))
