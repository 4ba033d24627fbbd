"""The brute-force oracle of span redaction (shared by the unit and the CLI tests).

It redacts with nothing but a per-character test of the GPT-4 rule (``[\\p{L}\\p{M}\\p{N}]``), ``str.find`` of
every probe from every position of the normalized text, and character-by-character walks to the line ends: each
pass cuts, for every occurrence of every probe, its span, ``context`` characters on each side, and the whole
lines that touches; passes repeat until no probe occurs.
"""

from __future__ import annotations

import regex

_LMN = regex.compile(r"[\p{L}\p{M}\p{N}]")


# ----------------------------------------------------------------------------------------------- the oracle


def oracle_redact(text: str, owned_probes: list[tuple[object, str]], context: int) -> dict:
    """Brute-force redaction under the default normalizer.

    Args:
        text: The original text.
        owned_probes: ``(owner, probe)`` pairs: every probe of every item, with whom it belongs to.
        context: Characters each side.

    Returns:
        ``{"text": what is left, "removed": original indices cut, "by_owner": owner -> original indices cut for
        its probes, "pieces": runs of kept characters holding more than whitespace}``.
    """
    alive = list(range(len(text)))  # original index of each character still there
    removed: set[int] = set()
    by_owner: dict[object, set[int]] = {}
    while True:
        cur = "".join(text[i] for i in alive)
        kept = [j for j, c in enumerate(cur) if _LMN.fullmatch(c)]
        norm = "".join(cur[j] for j in kept)
        cut_now: set[int] = set()
        for owner, probe in owned_probes:
            p = norm.find(probe)
            while p >= 0:  # every position where the probe occurs, overlapping ones too
                a, b = kept[p], kept[p + len(probe) - 1] + 1
                a, b = max(0, a - context), min(len(cur), b + context)
                while a > 0 and cur[a - 1] != "\n":
                    a -= 1
                while b < len(cur) and cur[b - 1] != "\n":
                    b += 1
                cut_now.update(range(a, b))
                by_owner.setdefault(owner, set()).update(alive[j] for j in range(a, b))
                p = norm.find(probe, p + 1)
        if not cut_now:
            break
        removed.update(alive[j] for j in cut_now)
        alive = [alive[j] for j in range(len(cur)) if j not in cut_now]
    pieces, run = 0, ""
    for i in range(len(text) + 1):
        if i < len(text) and i not in removed:
            run += text[i]
            continue
        pieces += bool(run.strip())
        run = ""
    return {"text": "".join(text[i] for i in alive), "removed": removed, "by_owner": by_owner, "pieces": pieces}


def brute_normalize(text: str) -> str:
    return "".join(c for c in text if _LMN.fullmatch(c))
