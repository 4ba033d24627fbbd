"""Span redaction: cut every occurrence of every probe out of a matched text, widened to whole lines.

``filter --action redact`` keeps a matched document and cuts what matched, as the Turing-NLG / MT-NLG
decontamination and NeMo Curator's ``TaskDecontamination`` do, instead of dropping the whole document. One text
(a document, a field, a chat message) is redacted in passes:

1. find **every** occurrence of every probe of every item found in the text (not only the one the report shows
   as evidence): each window the matcher found, searched for from every position of the normalized text;
2. map each occurrence back to its span of the original text (:class:`decontam.evidence.DocumentMap`, exact
   under the GPT-4 rule), add ``context`` characters on each side, and widen that to the enclosing lines (from
   just after the newline before it to just after the newline that ends it);
3. cut the union of these ranges, then scan what is left with the matcher again: lines brought together by a
   cut could form a probe (of any item) that was not there before. Repeat until nothing matches.

Each pass cuts at least one character, so it ends; after it no probe occurs in ``normalize(text)`` (the matcher is
exact), and every character cut lies in a widened range of an occurrence found in some pass. Only the ranges
are kept (original character offsets), per item found, so the report can say how much each benchmark cost.

Example:
    >>> from decontam.match import ProbeGroup
    >>> q = "Whatisthesumoftwoandthree"
    >>> m = Matcher([ProbeGroup.from_chars(q, [0], len(q))])
    >>> text = "intro line\\nQ: What is the sum of two and three?\\nA: five\\noutro line\\n"
    >>> [r] = redact_texts(m, [text], [{0: (0,)}], context=0)
    >>> r.cuts, cut_text(text, r.cuts)
    ([(11, 48)], 'intro line\\nA: five\\noutro line\\n')
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import NormalizeConfig, RedactConfig
from .evidence import DocumentMap
from .inputs import arrow_strings, cut_text, text_buffers
from .match import Matcher
from .normalize import normalize, normalize_many

__all__ = ["DROP_REASONS", "RowRedaction", "TextRedaction", "cut_text", "decide", "merge_ranges", "newline_positions",
           "redact_texts", "redaction_method", "redaction_section", "redaction_summary", "redaction_table", "widen"]

Ranges = list[tuple[int, int]]
_DEFAULT = NormalizeConfig()


@dataclass
class TextRedaction:
    """What redaction cut from one text (a document, a field, a chat message).

    Attributes:
        n_characters: Characters of the original text.
        cuts: The ranges cut, ``[start, end)`` character offsets of the original text, sorted and disjoint.
        by_group: Per matcher group (item) whose probes were found, the ranges cut for them (merged; ranges of
            different groups may overlap, where one cut served both).
        n_pieces: Pieces the text is left in: runs of what is left between cuts that hold more than whitespace.
    """

    n_characters: int
    cuts: Ranges = field(default_factory=list)
    by_group: dict[int, Ranges] = field(default_factory=dict)
    n_pieces: int = 1

    @property
    def n_removed(self) -> int:
        """Characters cut."""
        return sum(b - a for a, b in self.cuts)

    @property
    def n_left(self) -> int:
        """Characters left."""
        return self.n_characters - self.n_removed

    def to_list(self) -> list[Any]:
        """Plain JSON data (engines pass results through files)."""
        return [self.n_characters, [list(r) for r in self.cuts],
                [[g, [list(r) for r in rs]] for g, rs in self.by_group.items()], self.n_pieces]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> TextRedaction:
        """Read back :meth:`to_list`."""
        n, cuts, by_group, pieces = data
        return cls(n, [(a, b) for a, b in cuts], {g: [(a, b) for a, b in rs] for g, rs in by_group}, pieces)


@dataclass
class RowRedaction:
    """What redaction did to one matched row: kept with its texts cut, or dropped after all, and why.

    Attributes:
        outcome: ``"redacted"`` (written with the cuts made) or ``"dropped"`` (not written).
        reason: Why a row was dropped: ``"too_short"`` (a text left shorter than ``min_chars``) or
            ``"too_many_pieces"`` (a text left in more than ``max_pieces`` pieces); None when redacted.
        field: The label of the text that decided a drop (rows of several texts), else None.
        n_characters: Characters of all the row's texts (what a drop removes).
        texts: The redacted texts, each with its label (None for the one plain text field).
    """

    outcome: str
    reason: str | None
    field: str | None
    n_characters: int
    texts: list[tuple[str | None, TextRedaction]]

    def to_list(self) -> list[Any]:
        """Plain JSON data (engines pass results through files)."""
        return [self.outcome, self.reason, self.field, self.n_characters,
                [[label, t.to_list()] for label, t in self.texts]]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> RowRedaction:
        """Read back :meth:`to_list`."""
        outcome, reason, label, n, texts = data
        return cls(outcome, reason, label, n, [(lab, TextRedaction.from_list(t)) for lab, t in texts])


def decide(texts: Sequence[tuple[str | None, TextRedaction]], n_characters: int,
           config: RedactConfig) -> RowRedaction:
    """Keep a row with its texts redacted, or drop it: when a text is left shorter than ``config.min_chars``
    (checked first), or in more than ``config.max_pieces`` pieces.

    Example:
        >>> t = TextRedaction(300, [(0, 40)], {0: [(0, 40)]}, 1)
        >>> decide([(None, t)], 300, RedactConfig()).outcome, decide([(None, t)], 300, RedactConfig(min_chars=261)).reason
        ('redacted', 'too_short')
    """
    for label, t in texts:
        if t.n_left < config.min_chars:
            return RowRedaction("dropped", "too_short", label, n_characters, list(texts))
    for label, t in texts:
        if t.n_pieces > config.max_pieces:
            return RowRedaction("dropped", "too_many_pieces", label, n_characters, list(texts))
    return RowRedaction("redacted", None, None, n_characters, list(texts))


def merge_ranges(ranges: Sequence[tuple[int, int]]) -> Ranges:
    """Sorted, disjoint ranges covering the same characters (touching ranges are joined; empty ones dropped).

    Example:
        >>> merge_ranges([(5, 8), (0, 2), (2, 3), (7, 9), (4, 4)])
        [(0, 3), (5, 9)]
    """
    out: Ranges = []
    for a, b in sorted(r for r in ranges if r[1] > r[0]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def newline_positions(text: str) -> np.ndarray:
    """Character offsets of the ``\\n`` of a text, in order (numpy over its code points).

    Example:
        >>> newline_positions("ab\\ncé\\n").tolist()
        [2, 5]
    """
    if text.isascii():
        return np.flatnonzero(np.frombuffer(text.encode("ascii"), dtype=np.uint8) == 10)
    return np.flatnonzero(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4") == 10)


def widen(text: str, starts: np.ndarray, ends: np.ndarray, context: int,
          newlines: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ranges cut for spans ``[starts, ends)`` of ``text``: ``context`` characters more on each side, then
    the whole lines they touch, each with its newline (the last line of a text may have none).

    Example:
        >>> t = "one\\ntwo three\\nfour\\n"
        >>> a, b = widen(t, np.array([8]), np.array([9]), context=0)
        >>> t[a[0]:b[0]]
        'two three\\n'
        >>> a, b = widen(t, np.array([8]), np.array([9]), context=6)
        >>> t[a[0]:b[0]]
        'one\\ntwo three\\nfour\\n'
    """
    n = len(text)
    nl = newline_positions(text) if newlines is None else newlines
    padded = np.concatenate(([-1], nl, [n - 1])).astype(np.int64)
    s = np.maximum(np.asarray(starts, dtype=np.int64) - context, 0)
    e = np.minimum(np.asarray(ends, dtype=np.int64) + context, n)
    a = padded[np.searchsorted(nl, s, side="left")] + 1  # just after the last newline before s
    b = padded[np.searchsorted(nl, e - 1, side="left") + 1] + 1  # just after the newline ending char e - 1
    return a, b


class _Text:
    """One text under redaction: the original, what is left of it, and the ranges cut so far."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.current = text
        self.removed: Ranges = []
        self.kept: Ranges = [(0, len(text))] if text else []
        self.by_group: dict[int, Ranges] = {}
        self._starts: list[int] = []  # where each kept range starts in ``current``

    def to_original(self, a: int, b: int) -> Ranges:
        """The original ranges of ``current[a:b]`` (several where it spans an earlier cut)."""
        out: Ranges = []
        starts = self._starts
        i = max(0, bisect.bisect_right(starts, a) - 1)
        while i < len(self.kept) and starts[i] < b:
            x, y = self.kept[i]
            lo, hi = x + max(a - starts[i], 0), x + min(b - starts[i], y - x)
            if lo < hi:
                out.append((lo, hi))
            i += 1
        return out

    def cut(self, per_group: Mapping[int, Ranges]) -> None:
        """Cut ranges of :attr:`current` (per group whose occurrences they widen) and update what is left."""
        self._starts = list(np.cumsum([0] + [y - x for x, y in self.kept])[:-1].tolist())
        cut_now: Ranges = []
        for gi, ranges in per_group.items():
            mapped = [r for a, b in merge_ranges(ranges) for r in self.to_original(a, b)]
            self.by_group[gi] = merge_ranges(self.by_group.get(gi, []) + mapped)
            cut_now += mapped
        self.removed = merge_ranges(self.removed + cut_now)
        self.kept = _complement(self.removed, len(self.original))
        self.current = "".join(self.original[x:y] for x, y in self.kept)

    def result(self) -> TextRedaction:
        pieces = sum(1 for x, y in self.kept if not self.original[x:y].isspace())
        return TextRedaction(len(self.original), self.removed, dict(sorted(self.by_group.items())), pieces)


def _complement(ranges: Ranges, n: int) -> Ranges:
    """The ranges of ``[0, n)`` outside sorted disjoint ``ranges``."""
    out, at = [], 0
    for a, b in ranges:
        if a > at:
            out.append((at, a))
        at = b
    if at < n:
        out.append((at, n))
    return out


def _occurrences(normalized: str, groups: Mapping[int, Sequence[int]],
                 matcher: Matcher) -> tuple[list[int], list[int], list[int]]:
    """Every occurrence (overlapping ones too) of the given windows of each group in a normalized text:
    character starts, ends, and groups."""
    data = normalized.encode("utf-8")
    starts: list[int] = []
    ends: list[int] = []
    owners: list[int] = []
    for gi, windows in groups.items():
        g = matcher.groups[gi]
        for probe in {g.question[int(g.starts[w]) : int(g.ends[w])] for w in windows}:
            pos = data.find(probe)
            while pos >= 0:  # one C search per occurrence, from the position after the last one
                starts.append(pos)
                ends.append(pos + len(probe))
                owners.append(gi)
                pos = data.find(probe, pos + 1)
    if len(data) != len(normalized) and starts:  # byte offsets -> character offsets
        char_of = np.cumsum((np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80) - 1
        starts = char_of[starts].tolist()
        ends = (char_of[np.asarray(ends) - 1] + 1).tolist()
    return starts, ends, owners


def _pass(t: _Text, groups: Mapping[int, Sequence[int]], matcher: Matcher, norm: NormalizeConfig,
          context: int) -> None:
    """One pass over one text: cut the widened spans of every occurrence of ``groups``' windows."""
    cur = t.current
    normalized = normalize(cur, norm)
    starts, ends, owners = _occurrences(normalized, groups, matcher)
    if not starts:  # pragma: no cover - the matcher found these windows in this very text
        raise RuntimeError("redaction found no occurrence of a window the matcher reported")
    doc = DocumentMap(cur, norm, normalized)
    spans = np.array([doc.span(s, e) for s, e in zip(starts, ends)], dtype=np.int64).reshape(-1, 2)
    a, b = widen(cur, spans[:, 0], spans[:, 1], context)
    per_group: dict[int, Ranges] = {}
    for gi, x, y in zip(owners, a.tolist(), b.tolist()):
        per_group.setdefault(gi, []).append((x, y))
    t.cut(per_group)


def _rescan(matcher: Matcher, texts: Sequence[str], norm: NormalizeConfig) -> list[dict[int, list[int]]]:
    """Per text, the windows of each group the matcher finds in it."""
    data, offsets = text_buffers(arrow_strings(list(texts)))
    base = int(offsets[0])
    normalized, norm_offsets = normalize_many(data[base : int(offsets[-1])], offsets - base, norm)
    found = matcher.scan(normalized, norm_offsets)
    out: list[dict[int, list[int]]] = [{} for _ in texts]
    for (doc, gi), windows in sorted(found.windows.items()):
        out[doc][gi] = sorted(windows)
    return out


def redact_texts(matcher: Matcher, texts: Sequence[str], found: Sequence[Mapping[int, Sequence[int]]],
                 norm: NormalizeConfig = _DEFAULT, context: int = 200) -> list[TextRedaction]:
    """Redact texts in which the matcher found probes (see the module docstring).

    Args:
        matcher: The matcher over every item's probes.
        texts: The texts (original, as checked).
        found: Per text, the windows the matcher found in it, per group: ``{group: window indices}``.
        norm: The normalizer options the matcher was run with.
        context: Characters cut on each side of a matched span, before widening to whole lines.

    Returns:
        Per text, what was cut (:class:`TextRedaction`).
    """
    state = [_Text(t) for t in texts]
    pending = [(i, groups) for i, groups in enumerate(found) if groups]
    while pending:
        for i, groups in pending:
            _pass(state[i], groups, matcher, norm, context)
        again = _rescan(matcher, [state[i].current for i, _ in pending], norm)
        pending = [(i, groups) for (i, _), groups in zip(pending, again) if groups]
    return [t.result() for t in state]


# ------------------------------------------------------------------------- the report's redaction section

DROP_REASONS = ("too_short", "too_many_pieces")


def redaction_section(documents: list[dict[str, Any]], benchmarks: Sequence[str]) -> dict[str, Any]:
    """The ``training.redaction`` section from its per-document entries (in corpus order): the one place its
    totals are computed, for a scan and for a merge.

    Each entry says what redaction did to a document holding a probe: ``outcome`` (``redacted``: written with
    its matched lines cut; ``dropped``: not written, ``reason`` why), its ``n_characters``, the characters cut
    (``n_characters_removed``: for a dropped document, what would have been cut) and ``benchmarks`` (per
    benchmark whose items were found in it, the characters cut for them). Totals count the characters cut from
    the documents written (``n_characters_removed``) apart from those of the dropped documents
    (``n_characters_dropped``).
    """
    redacted = [d for d in documents if d["outcome"] == "redacted"]
    dropped = [d for d in documents if d["outcome"] == "dropped"]
    section: dict[str, Any] = {
        "n_documents": len(documents), "n_redacted": len(redacted), "n_dropped": len(dropped),
        **{f"n_dropped_{why}": sum(1 for d in dropped if d.get("reason") == why) for why in DROP_REASONS},
        "n_characters_removed": sum(d["n_characters_removed"] for d in redacted),
        "n_characters_dropped": sum(d["n_characters"] for d in dropped),
    }
    by_benchmark = []
    for name in benchmarks:
        def cut(d: dict[str, Any]) -> int | None:
            return next((b["n_characters_removed"] for b in d["benchmarks"] if b["name"] == name), None)

        by_benchmark.append({"name": name, "n_redacted": sum(1 for d in redacted if cut(d) is not None),
                             "n_dropped": sum(1 for d in dropped if cut(d) is not None),
                             "n_characters_removed": sum(cut(d) or 0 for d in redacted)})
    section["by_benchmark"] = by_benchmark
    section["documents"] = documents
    return section


def redaction_method(redact: dict[str, Any]) -> str:
    """What redaction does, with the report's options, in one sentence (the card and the HTML page)."""
    return (f"Redaction (--action redact): every occurrence of every probe in a document holding one is cut, "
            f"with {redact['context']} characters on each side, widened to whole lines, until no probe is left; "
            f"the document is dropped instead when a text of it is left under {redact['min_chars']} characters "
            f"or in more than {redact['max_pieces']} pieces.")


def redaction_table(training: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The per-benchmark redaction figures: the column heads, and one row of cells (plain text) per benchmark."""
    head = ["benchmark", "documents redacted", "documents dropped", "characters cut (documents written)"]
    return head, [[b["name"], str(b["n_redacted"]), str(b["n_dropped"]), str(b["n_characters_removed"])]
                  for b in training["redaction"]["by_benchmark"]]


def redaction_summary(training: dict[str, Any]) -> str:
    """One sentence on what redaction did (the Markdown summary and the card)."""
    r = training["redaction"]
    return (f"Training documents containing a probe: {r['n_documents']} of {training.get('n_documents')}: "
            f"{r['n_redacted']} redacted (written with their matched lines cut: {r['n_characters_removed']} "
            f"characters), {r['n_dropped']} dropped ({r['n_dropped_too_short']} left too short, "
            f"{r['n_dropped_too_many_pieces']} left in too many pieces); {training.get('n_kept')} documents "
            "written.")
