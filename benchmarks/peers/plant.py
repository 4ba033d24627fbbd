"""Planted cases: real benchmark questions written into real corpus documents, in several forms, each with the
outcome a contamination checker should give; and the independent oracle that decides whether a flagged document
that holds no planted case still holds benchmark text (a genuine occurrence) or not (a false positive).

Standard library + `regex` (for Unicode classes); runs in decontam's environment, imports nothing of decontam.
"""

from __future__ import annotations

import html
import json
import random
import re
import textwrap
from dataclasses import asdict, dataclass

import regex

# Forms: name -> (what is written into the document, expected outcome). "flag": the document holds the
# question (or a long part of it) and a contamination checker should flag it; "no flag": it does not.
FORMS = {
    "verbatim": "the question as it is, on its own lines",
    "rewrapped": "whitespace collapsed and re-wrapped at 40 columns, lines indented by 4 spaces",
    "comment": "re-wrapped at 40 columns as a `# ` comment block (how a question sits in Python source)",
    "repunctuated": "marks swapped: . , -> ;  ? -> !  : -> ' -'  ' -> U+2019  \" -> '  ( ) -> [ ]  $ -> U+20AC",
    "uppercased": "str.upper()",
    "string-literal": "inside a Python string literal, escaped by json.dumps (\\n, \\\", \\uXXXX); "
                      "only questions that need an escape",
    "partial": "the first half of the question's words, contiguous",
    "short": "a question of at most 12 words (MBPP), verbatim",
    "control": "the first 6 words of a question only (negative control)",
}
EXPECTED = {form: ("no flag" if form == "control" else "flag") for form in FORMS}
SWAP = str.maketrans({".": ";", ",": ";", "?": "!", "!": "?", ":": " -", "'": "\u2019", '"': "'",
                      "(": "[", ")": "]", "$": "\u20ac"})


def render(form: str, q: str) -> str:
    words = q.split()
    if form in ("verbatim", "short"):
        return q
    if form == "rewrapped":
        return "\n".join("    " + line for line in textwrap.wrap(" ".join(words), 40))
    if form == "comment":
        return "\n".join("# " + line for line in textwrap.wrap(" ".join(words), 40))
    if form == "repunctuated":
        return q.translate(SWAP)
    if form == "uppercased":
        return q.upper()
    if form == "string-literal":
        return "PROMPT = " + json.dumps(q)
    if form == "partial":
        return " ".join(words[: len(words) // 2])
    if form == "control":
        return " ".join(words[:6])
    raise ValueError(form)


@dataclass
class Case:
    doc_id: str
    form: str
    expected: str
    benchmark: str
    item_id: object
    planted: str


# ---------------------------------------------------------------- oracle
NOT_LMN = regex.compile(r"[^\p{L}\p{M}\p{N}]+")
_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[nrt\"'\\/])")


def _unescape(s: str) -> str:
    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "uUx":
            try:
                return chr(int(e[1:], 16))
            except ValueError:
                return m.group(0)
        return {"n": "\n", "r": "\r", "t": "\t"}.get(e, e)
    return html.unescape(_ESC.sub(one, s))


def oracle_norm(s: str) -> str:
    """The most lenient view of 'the same text': escapes and HTML entities undone, lowercased, then only
    letters, marks and digits kept."""
    return NOT_LMN.sub("", _unescape(s).lower())


class Oracle:
    """A document holds a question if its oracle-normalized text contains any 50-character window of the
    oracle-normalized question (every window, not a sample), or the whole question when that is shorter."""

    W = 50

    def __init__(self, questions: list[dict]):
        self.windows: dict[str, str] = {}
        self.short: dict[str, str] = {}
        for q in questions:
            key = f"{q['benchmark']}/{q['item_id']}"
            n = oracle_norm(q["question"])
            if not n:
                continue
            if len(n) < self.W:
                self.short.setdefault(n, key)
            else:
                for i in range(len(n) - self.W + 1):
                    self.windows.setdefault(n[i:i + self.W], key)

    def holds(self, text: str) -> str | None:
        """The first benchmark item found in text (benchmark/item_id), or None."""
        n = oracle_norm(text)
        w, win = self.W, self.windows
        for i in range(len(n) - w + 1):
            hit = win.get(n[i:i + w])
            if hit:
                return hit
        for s, key in self.short.items():
            if s in n:
                return key
        return None


# ---------------------------------------------------------------- planting
def candidate_hosts(docs: list[dict], oracle: Oracle, seed: int, n: int) -> list[dict]:
    """n documents of 2-20 KB, in a seeded random order, that hold no benchmark text (oracle)."""
    rng = random.Random(seed)
    pool = [d for d in docs if 2_000 <= len(d["text"]) <= 20_000]
    rng.shuffle(pool)
    out = []
    for d in pool:
        if oracle.holds(d["text"]) is None:
            out.append(d)
            if len(out) == n:
                break
    return out


def make_cases(questions: list[dict], hosts: list[dict], per_form: int, seed: int) -> tuple[list[Case], dict[str, str]]:
    """Pick questions and write each case into the next host document. Returns the cases and {doc id: new text}."""
    rng = random.Random(seed)
    by_bench: dict[str, list[dict]] = {}
    for q in questions:
        by_bench.setdefault(q["benchmark"], []).append(q)
    used: set[tuple] = set()

    def n_words(q):
        return len(q["question"].split())

    def pick(form: str) -> list[dict]:
        if form == "short":
            pool = [q for q in questions if 5 <= n_words(q) <= 12]
            chosen = [q for q in rng.sample(pool, len(pool)) if (q["benchmark"], q["item_id"]) not in used]
            return chosen[:per_form]
        out = []
        benches = sorted(by_bench)
        for k in range(per_form):
            b = benches[k % len(benches)]
            pool = [q for q in by_bench[b] if n_words(q) >= 16 and (q["benchmark"], q["item_id"]) not in used
                    and q not in out]
            if form == "string-literal":
                pool = [q for q in pool if json.dumps(q["question"])[1:-1] != q["question"]]
            out.append(rng.choice(pool))
        return out

    host_iter = iter(hosts)
    cases, new_text = [], {}
    for form in FORMS:
        for q in pick(form):
            used.add((q["benchmark"], q["item_id"]))
            host = next(host_iter, None)
            if host is None:
                raise SystemExit("not enough host documents for the planted cases: lower --per-form")
            text = host["text"]
            cut = text.find("\n", len(text) // 2)
            cut = len(text) if cut < 0 else cut + 1
            planted = render(form, q["question"])
            new_text[host["id"]] = text[:cut] + "\n" + planted + "\n\n" + text[cut:]
            cases.append(Case(host["id"], form, EXPECTED[form], q["benchmark"], q["item_id"], planted))
    return cases, new_text


def cases_json(cases: list[Case]) -> list[dict]:
    return [asdict(c) for c in cases]
