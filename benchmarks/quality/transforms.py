"""What a leaked question looks like once it is in a training document: the transforms of the quality table.

Each transform turns a benchmark question into the text written into a host document. Those shared with the
peers comparison (verbatim, re-wrapped, re-punctuated, upper-cased, escaped, partial, short) are
benchmarks/peers/plant.py's own `render`, imported; the others (edits of letters, words, numbers and names) are
here. Every random choice comes from the `random.Random` passed in (seeded per case), so a run is reproducible.
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
from plant import render  # noqa: E402

# name -> (what is written into the document, which questions it applies to)
TRANSFORMS = {
    "verbatim": ("the question as it is, on its own lines", "any"),
    "re-wrapped": ("whitespace collapsed, re-wrapped at 40 columns, lines indented by 4 spaces", "any"),
    "re-punctuated": ("marks swapped: . , -> ;  ? <-> !  : -> ' -'  ' -> ’  \" -> '  ( ) -> [ ]  $ -> €", "any"),
    "upper-cased": ("str.upper()", "any"),
    "escaped": ("inside a Python string literal, escaped by json.dumps (\\n, \\\", \\uXXXX)", "needs an escape"),
    "partial": ("the first half of the question's words, contiguous", "any"),
    "one letter in 40 changed": ("every 40th letter (from a random start) replaced by another letter", "any"),
    "10% words swapped": ("a tenth of the words (at least one) replaced by other words", "any"),
    "25% words swapped": ("a quarter of the words replaced by other words", "any"),
    "numbers changed": ("every number replaced by another of as many digits", "has a number"),
    "identifiers renamed": ("the function's and its arguments' names renamed throughout (code questions)",
                            "defines a function"),
    "short question (extra)": ("a question of at most 12 words, verbatim (not one of the issue's transforms: where "
                               "the 13-gram rule is blind by construction)", "at most 12 words"),
}
_PLANT = {"verbatim": "verbatim", "re-wrapped": "rewrapped", "re-punctuated": "repunctuated",
          "upper-cased": "uppercased", "escaped": "string-literal", "partial": "partial",
          "short question (extra)": "short"}
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"\d+")


def applies(transform: str, question: str) -> bool:
    """Whether ``transform`` changes ``question`` as it means to (the pool of questions it is drawn from)."""
    words = len(question.split())
    if transform == "short question (extra)":
        return 5 <= words <= 12
    if words < 16 or len(question) < 120:  # long questions (the near-duplicate goal: 120+ characters)
        return False
    if transform == "escaped":
        return json.dumps(question)[1:-1] != question
    if transform == "numbers changed":
        return bool(_NUMBER.search(question))
    if transform == "identifiers renamed":
        return bool(_names(question))
    return True


def apply(transform: str, question: str, rng: random.Random, pool: list[str]) -> str:
    """The text of ``question`` under ``transform`` (``pool``: words to swap in)."""
    if transform in _PLANT:
        return render(_PLANT[transform], question)
    if transform == "one letter in 40 changed":
        return _letters_changed(question, rng, 40)
    if transform == "10% words swapped":
        return _words_swapped(question, rng, pool, 0.10)
    if transform == "25% words swapped":
        return _words_swapped(question, rng, pool, 0.25)
    if transform == "numbers changed":
        return _NUMBER.sub(lambda m: _other_number(m.group(0), rng), question)
    if transform == "identifiers renamed":
        return _renamed(question, rng)
    raise ValueError(transform)


def _letters_changed(q: str, rng: random.Random, every: int) -> str:
    chars = list(q)
    letters = [i for i, c in enumerate(chars) if c.isascii() and c.isalpha()]
    for i in letters[rng.randrange(every) :: every]:
        c = chars[i]
        new = rng.choice([x for x in "abcdefghijklmnopqrstuvwxyz" if x != c.lower()])
        chars[i] = new.upper() if c.isupper() else new
    return "".join(chars)


def _words_swapped(q: str, rng: random.Random, pool: list[str], share: float) -> str:
    spans = [m.span() for m in _WORD.finditer(q)]
    k = max(1, round(share * len(spans)))
    chosen = set(rng.sample(range(len(spans)), k))
    out, prev = [], 0
    for j, (s, e) in enumerate(spans):
        out.append(q[prev:s])
        if j in chosen:
            word = q[s:e]
            new = rng.choice([w for w in pool if w.lower() != word.lower()] or ["word"])
            out.append(new.capitalize() if word[:1].isupper() else new)
        else:
            out.append(q[s:e])
        prev = e
    out.append(q[prev:])
    return "".join(out)


def _other_number(digits: str, rng: random.Random) -> str:
    while True:
        lo = 10 ** (len(digits) - 1) if len(digits) > 1 else 0
        new = str(rng.randrange(lo, 10 ** len(digits)))
        if new != digits:
            return new


def _names(q: str) -> list[str]:
    """The names a code question defines: its functions and their arguments (none if it does not parse)."""
    with warnings.catch_warnings():  # prose parsed as code warns ("invalid decimal literal")
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(q + "\n    pass\n")
        except SyntaxError:
            try:
                tree = ast.parse(q)
            except SyntaxError:
                return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
            names += [a.arg for a in node.args.args + node.args.kwonlyargs]
    return [n for n in dict.fromkeys(names) if len(n) > 1]


def _renamed(q: str, rng: random.Random) -> str:
    for k, name in enumerate(_names(q)):
        new = f"{'fn' if k == 0 else 'arg'}_{rng.randrange(16 ** 3):03x}"
        q = re.sub(rf"\b{re.escape(name)}\b", new, q)
    return q
