"""Planted near copies for the near-duplicate pass (issue 13, point 1): the generator and the scorer.

Cases: real benchmark questions of 120+ characters, edited, written into real documents (the standard
library's ``.py`` files). The items of each benchmark are drawn in a seeded order and alternate: every other one
is planted (a positive), the next is not (a negative); the edit alternates too:

* ``swap10``: about 10% of the words (at least one) replaced by words drawn from other questions;
* ``numbers``: every number changed (each digit replaced by another), for questions that hold a number, else
  ``swap10``.

The edited question goes into a host document (2-20 KB, one per case, holding no question of any benchmark
checked) as a block of lines at a random line boundary.

Scoring (:func:`score`): an item is found when the report lists it as contaminated (exact rule) or as a near
duplicate. Recall is over the positives; precision is over every item the near-duplicate pass reports (of
every item of the benchmarks, not only the drawn ones): an item is a false positive when none of its evidence
documents is one it was planted in. The exact rule's own recall is given beside it.

Standard library only (the corpus is read from the files); the edits are small on purpose. The full quality
table of issue 13 point 5 (``benchmarks/quality/``) has more transforms.
"""

from __future__ import annotations

import json
import random
import re
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MIN_QUESTION_CHARS = 120
_NUMBER = re.compile(r"\d+")


@dataclass
class Case:
    benchmark: str
    item_id: Any
    planted: bool
    edit: str = ""
    doc_id: str = ""
    text: str = ""


def swap_words(q: str, vocabulary: list[str], rng: random.Random, share: float = 0.10) -> str:
    """``q`` with ``share`` of its words (at least one) replaced by other words of the vocabulary."""
    words = q.split(" ")
    spots = [i for i, w in enumerate(words) if w.strip()]
    for i in rng.sample(spots, max(1, round(share * len(spots)))):
        new = rng.choice(vocabulary)
        while new == words[i]:
            new = rng.choice(vocabulary)
        words[i] = new
    return " ".join(words)


def change_numbers(q: str, rng: random.Random) -> str:
    """``q`` with every digit of every number replaced by another digit (the number's length kept)."""
    def other(m: re.Match[str]) -> str:
        return "".join(rng.choice([d for d in "123456789" if d != c]) if k == 0 else
                       rng.choice([d for d in "0123456789" if d != c]) for k, c in enumerate(m.group()))
    return _NUMBER.sub(other, q)


def edit(q: str, kind: str, vocabulary: list[str], rng: random.Random) -> tuple[str, str]:
    """The edited question and the edit applied (``numbers`` falls back to ``swap10`` without a number)."""
    if kind == "numbers" and _NUMBER.search(q):
        return change_numbers(q, rng), "numbers"
    return swap_words(q, vocabulary, rng), "swap10"


def corpus_documents(limit_mb: float | None = None) -> list[dict[str, str]]:
    """The standard library's ``.py`` files as documents (``id``: the path under the library, ``text``)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    docs, size = [], 0
    for p in sorted(root.rglob("*.py")):
        if "site-packages" in p.parts:
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        docs.append({"id": str(p.relative_to(root)), "text": text})
        size += len(text.encode())
        if limit_mb is not None and size >= limit_mb * 1e6:
            break
    return docs


def plant(benchmarks: dict[str, list[tuple[Any, str]]], docs: list[dict[str, str]], per_benchmark: int,
          seed: int = 0) -> tuple[list[Case], list[dict[str, str]]]:
    """Draw ``per_benchmark`` items of 120+ characters from each benchmark (half planted, alternating) and plant
    the positives into host documents. Returns the cases and the corpus with the planted documents changed.

    Args:
        benchmarks: ``name -> [(item id, question)]``, the benchmark's items in file order.
        docs: The corpus documents (``id``, ``text``).
        per_benchmark: Items drawn per benchmark.
        seed: Seeds every draw.
    """
    rng = random.Random(seed)
    vocabulary = sorted({w for items in benchmarks.values() for _, q in items for w in q.split() if w.isalpha()})
    lowered = [" ".join(q.lower().split()) for items in benchmarks.values() for _, q in items]
    hosts = [d for d in docs if 2_000 <= len(d["text"]) <= 20_000]
    rng.shuffle(hosts)
    host_iter = iter(hosts)
    by_id = {d["id"]: i for i, d in enumerate(docs)}
    out_docs = list(docs)
    cases: list[Case] = []
    kinds = ["swap10", "numbers"]
    for name in sorted(benchmarks):
        items = [(i, q) for i, q in benchmarks[name] if len(q) >= MIN_QUESTION_CHARS]
        rng.shuffle(items)
        for n, (item_id, q) in enumerate(items[:per_benchmark]):
            if n % 2:
                cases.append(Case(name, item_id, False))
                continue
            text, how = edit(q, kinds[(n // 2) % 2], vocabulary, rng)
            host = _clean_host(host_iter, lowered)
            lines = out_docs[by_id[host["id"]]]["text"].split("\n")
            at = rng.randrange(len(lines) + 1)
            lines[at:at] = text.split("\n")
            out_docs[by_id[host["id"]]] = {"id": host["id"], "text": "\n".join(lines)}
            cases.append(Case(name, item_id, True, how, host["id"], text))
    return cases, out_docs


def _clean_host(hosts: Any, lowered: list[str]) -> dict[str, str]:
    """The next host document that holds none of the questions (whitespace-folded, lowercased)."""
    for d in hosts:
        flat = " ".join(d["text"].lower().split())
        if not any(q[:60] in flat for q in lowered):
            return d
    raise RuntimeError("not enough host documents of 2-20 KB")


def write_jsonl(docs: list[dict[str, str]], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")


def write_cases(cases: list[Case], path: Path) -> None:
    path.write_text(json.dumps([asdict(c) for c in cases], ensure_ascii=False, indent=1), encoding="utf-8")


def score(report: dict[str, Any], cases: list[Case]) -> dict[str, Any]:
    """Recall (exact rule alone; exact rule or near-duplicate pass) over the planted items, and the precision of
    the near-duplicate pass over every item it reports, per edit and in all."""
    planted = {(c.benchmark, json.dumps(c.item_id)): c for c in cases if c.planted}
    exact, near, fp = set(), set(), []
    n_near = 0
    for b in report["benchmarks"]:
        exact |= {(b["name"], json.dumps(i)) for i in b["contaminated_ids"]}
        near_ids = {json.dumps(i) for i in b.get("near_duplicate_ids", [])}
        for it in b["items"]:
            key = (b["name"], json.dumps(it["id"]))
            if json.dumps(it["id"]) not in near_ids:
                continue
            n_near += 1
            docs = {m["doc_id"] for m in it.get("near_matches", [])}  # (ids of the planting run: paths)
            case = planted.get(key)
            if case is None or case.doc_id not in docs:
                fp.append({"benchmark": b["name"], "id": it["id"], "docs": sorted(docs)})
            else:
                near.add(key)
    out: dict[str, Any] = {"n_planted": len(planted), "n_negatives": sum(1 for c in cases if not c.planted)}
    for how in ("swap10", "numbers", None):
        keys = [k for k, c in planted.items() if how is None or c.edit == how]
        label = how or "all"
        out[label] = {"n": len(keys), "recall_exact": _share(sum(k in exact for k in keys), len(keys)),
                      "recall_exact_or_near": _share(sum(k in exact or k in near for k in keys), len(keys))}
    out["near_reported"] = n_near
    out["near_false_positives"] = len(fp)
    out["precision_near"] = _share(n_near - len(fp), n_near) if n_near else None
    out["false_positives"] = fp[:20]
    out["false_positives_all"] = fp
    return out


def _share(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None
