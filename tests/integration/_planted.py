"""A real run for the report tests: real benchmark items planted into a real corpus (Python's stdlib sources).

``build(folder, shared_benchmarks)`` writes two JSONL shards of stdlib ``.py`` files (a fixed, sorted choice;
ids are the relative paths, except a few rows left without an id) with a few HumanEval prompts, GSM8K and MMLU
questions planted in them, re-wrapped or re-indented the way copies in the wild are.
"""

from __future__ import annotations

import gzip
import json
import sysconfig
import textwrap
from pathlib import Path

N_FILES = 80
MAX_CHARS = 20_000


def _stdlib_texts() -> list[tuple[str, str]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.glob("*.py") if p.is_file())
    out = []
    for p in files:
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if 2_000 <= len(text):
            out.append((p.name, text[:MAX_CHARS]))
        if len(out) == N_FILES:
            break
    return out


def _insert(text: str, snippet: str, where: float = 0.5) -> str:
    cut = text.find("\n", int(len(text) * where))
    cut = len(text) if cut < 0 else cut + 1
    return text[:cut] + snippet + text[cut:]


def build(folder: Path, shared: Path) -> dict:
    """Write the shards and small benchmark files; returns what was planted (ids, paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(shared / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        humaneval = [json.loads(line) for line in fh][:40]
    gsm8k = [json.loads(line) for line in (shared / "gsm8k" / "test.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
    mmlu_file = shared / "mmlu" / "test" / "anatomy_test.csv"
    # benchmark files (subsets of the real ones, so the test stays fast)
    bench = folder / "benchmarks"
    bench.mkdir(exist_ok=True)
    (bench / "HumanEval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in humaneval), encoding="utf-8")
    (bench / "gsm8k.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gsm8k), encoding="utf-8")
    mmlu_dir = bench / "mmlu"
    mmlu_dir.mkdir(exist_ok=True)
    (mmlu_dir / "anatomy_test.csv").write_text(mmlu_file.read_text(encoding="utf-8"), encoding="utf-8")

    docs = [{"id": name, "text": text} for name, text in _stdlib_texts()]
    # HumanEval/2 and /7: the prompt copied into a module, re-indented inside a class
    for k, (task, where) in enumerate(((2, 0.3), (7, 0.6))):
        prompt = humaneval[task]["prompt"]
        docs[5 + 20 * k]["text"] = _insert(docs[5 + 20 * k]["text"],
                                           "\nclass Copied:\n" + textwrap.indent(prompt, "    ") + "\n", where)
    # GSM8K 3: re-wrapped at 40 columns inside a docstring; GSM8K 11: verbatim in a comment
    q3 = "\n".join(textwrap.wrap(gsm8k[3]["question"], 40))
    docs[12]["text"] = _insert(docs[12]["text"], f'\n"""Exercise:\n{q3}\n"""\n', 0.4)
    docs[47]["text"] = _insert(docs[47]["text"], f"\n# {gsm8k[11]['question']}\n", 0.7)
    # MMLU anatomy row 4: pasted as plain text into a document without id
    from decontam import load_benchmark

    mmlu_item = load_benchmark("mmlu", mmlu_dir).items[4]
    docs[66]["text"] = _insert(docs[66]["text"], f"\n# Q: {mmlu_item.question}\n", 0.5)
    del docs[66]["id"]
    del docs[70]["id"]
    half = len(docs) // 2
    shards = [folder / "corpus" / "part-000.jsonl", folder / "corpus" / "part-001.jsonl"]
    shards[0].parent.mkdir(exist_ok=True)
    for path, part in zip(shards, (docs[:half], docs[half:])):
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in part), encoding="utf-8")
    return {
        "shards": shards,
        "benchmarks": {"humaneval": bench / "HumanEval.jsonl", "gsm8k": bench / "gsm8k.jsonl", "mmlu": mmlu_dir},
        "humaneval": ["HumanEval/2", "HumanEval/7"],
        "gsm8k": [3, 11],
        "mmlu": [mmlu_item.id],
        "mmlu_row": 66,
        "n_humaneval": len(humaneval),
        "n_gsm8k": len(gsm8k),
    }
