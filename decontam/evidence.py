"""Evidence in original text: map a match in normalized text back to its span in the original document.

The matcher works on normalized text; a reader wants to see the training document as it was. This module maps
a ``[start, end)`` range of ``normalize(text, config)`` (characters) back to the *minimal* span of ``text``
whose normalization contains it, and cuts a bounded excerpt around that span for the report.

Two paths, one contract (``target in normalize(text[s:e], config)``, and no character can be dropped from
either end of ``text[s:e]`` without losing that):

* **Per-character** (the GPT-4 rule, and any option that is a no-op on the text at hand: ``lowercase`` or
  ``nfkc`` on ASCII, ``unescape`` without ``\\`` or ``&``): normalization keeps or drops each character on its
  own, so the ``i``-th normalized character *is* the ``i``-th kept original character. The kept positions are
  found with numpy (a lookup table over the code points), and the span is exact: it normalizes to the range
  itself, at the very position the matcher found it.
* **General** (``unescape``, ``nfkc``, ``lowercase`` where they change the text): one character of output can
  come from several of input (``\\u00e9``, ``&amp;``, NFKC compositions) and the reverse (``ﬁ`` -> ``fi``), so a
  per-character map is not enough. The span is located by bisection on an estimate of
  ``len(normalize(text[:k]))`` (chunk-wise: one pass per document, then a few short normalizations per span),
  then widened until ``normalize`` of it contains the target and shrunk to minimal, every step checked with
  :func:`decontam.normalize.normalize` itself.

Cost: only matched documents are mapped; the per-character path is a few vector operations per document (done
once per document, whatever the number of items found in it); the excerpt is bounded by ``context`` characters
on each side.

Example:
    >>> doc = "Intro.\\n  def add(a, b):\\n      return a + b  # the sum\\n"
    >>> m = DocumentMap(doc)
    >>> m.normalized
    'Introdefaddabreturnabthesum'
    >>> s, e = m.span(5, 21)         # 'defaddabreturnab' in the normalized text
    >>> doc[s:e]
    'def add(a, b):\\n      return a + b'
    >>> excerpt(doc, s, e, context=4)
    {'start': 5, 'excerpt': '.\\n  def add(a, b):\\n      return a + b  # ', 'highlight': [4, 37], 'doc_chars': 54}
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np
import regex

from .config import NormalizeConfig
from .normalize import ASCII_DELETE, MARK_BLOCK, normalize
from .words import token_spans, whole_words

__all__ = ["CONTEXT_CHARS", "DocumentMap", "WordMap", "excerpt", "match_evidence", "original_span", "word_evidence"]

CONTEXT_CHARS = 200  # characters of context kept on each side of the highlighted span in a report

_DEFAULT = NormalizeConfig()
_ASCII_KEEP = np.array([chr(b).isalnum() if b < 128 else False for b in range(256)], dtype=bool)
_LMN = regex.compile(r"[\p{L}\p{M}\p{N}]")


def _per_character(text: str, config: NormalizeConfig) -> bool:
    """True when ``normalize`` keeps or drops each character of ``text`` independently, unchanged."""
    if config.unescape and ("\\" in text or "&" in text):
        return False
    if text.isascii():  # lowercase on ASCII keeps the kept set and the length; NFKC is the identity
        return True
    return not (config.nfkc or config.lowercase)


def _ascii_alnum(b: np.ndarray) -> np.ndarray:
    """``[A-Za-z0-9]`` mask of ASCII bytes, by byte arithmetic (vectorized; a table lookup is several times
    slower in numpy)."""
    letter = (b | np.uint8(0x20)) - np.uint8(ord("a")) < 26
    return letter | (b - np.uint8(ord("0")) < 10)


def _kept_positions(text: str) -> np.ndarray:
    """Positions (code point indices) of the characters the default normalizer keeps."""
    if text.isascii():
        return np.flatnonzero(_ascii_alnum(np.frombuffer(text.encode("ascii"), dtype=np.uint8)))
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    keep = np.zeros(len(cps), dtype=bool)
    low = cps < 128
    keep[low] = _ASCII_KEEP[cps[low]]
    high = np.flatnonzero(~low)
    if len(high):
        values, inverse = np.unique(cps[high], return_inverse=True)
        ok = np.array([_LMN.fullmatch(chr(int(v))) is not None for v in values], dtype=bool)
        keep[high] = ok[inverse]
    return np.flatnonzero(keep)


class _KeptIndex:
    """Where the ``j``-th character kept by the default rule is in a text, reading the text only as far as
    needed: kept characters are counted per block of the text (``bytes.translate`` for ASCII blocks, the
    normalizer otherwise: C and ``regex`` speed), and only the block holding ``j`` is mapped character by
    character.

    Args:
        text: The document.
        marks: The counts of every block if already known (``normalize_many(..., marks=...)`` records them while
            it normalizes): ``[0, kept in block 0, in blocks 0-1, ...]``, blocks of ``MARK_BLOCK`` characters.
    """

    _BLOCK = MARK_BLOCK

    def __init__(self, text: str, marks: list[int] | None = None) -> None:
        self.text = text
        self.counted = list(marks) if marks else [0]  # kept characters before each block start read so far
        self.mapped: dict[int, np.ndarray] = {}  # block -> positions of its kept characters

    def position(self, j: int) -> int:
        b, text = self._BLOCK, self.text
        while self.counted[-1] <= j:
            k = len(self.counted) - 1
            if k * b >= len(text):
                raise ValueError(f"span end {j + 1} is past the normalized text ({self.counted[-1]} characters)")
            block = text[k * b : (k + 1) * b]
            kept = len(block.encode("ascii").translate(None, ASCII_DELETE)) if block.isascii() else len(
                normalize(block))
            self.counted.append(self.counted[-1] + kept)
        k = bisect.bisect_right(self.counted, j) - 1
        if k not in self.mapped:  # a run's two ends, and the runs of several items, often share a block
            self.mapped[k] = _kept_positions(text[k * b : (k + 1) * b])
        return k * b + int(self.mapped[k][j - self.counted[k]])


class DocumentMap:
    """Maps ranges of one document's normalized text back to the original text (reusable across ranges).

    Args:
        text: The original document.
        config: The normalizer options the match was found with.
        normalized: ``normalize(text, config)`` if already known (saves recomputing it).
        marks: Kept-character counts per block of the text, if known (see :class:`_KeptIndex`).
    """

    def __init__(self, text: str, config: NormalizeConfig = _DEFAULT, normalized: str | None = None,
                 marks: list[int] | None = None) -> None:
        self.text = text
        self.config = config
        self._normalized = normalized
        self._marks = marks
        self._chunks: list[int] | None = None
        self._kept: _KeptIndex | None = None
        self.per_character = _per_character(text, config)

    @property
    def normalized(self) -> str:
        """``normalize(text, config)``."""
        if self._normalized is None:
            self._normalized = normalize(self.text, self.config)
        return self._normalized

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The minimal ``(s, e)`` such that ``normalize(text[s:e])`` contains ``normalized[start:end]``.

        On the per-character path ``normalize(text[s:e]) == normalized[start:end]`` exactly, and the span is
        the one at that very position.

        Raises:
            ValueError: An empty or out-of-range ``[start, end)``.
        """
        if not 0 <= start < end:
            raise ValueError(f"span must satisfy 0 <= start < end, got [{start}, {end})")
        if self.per_character:
            if self._kept is None:
                self._kept = _KeptIndex(self.text, self._marks)
            return self._kept.position(start), self._kept.position(end - 1) + 1
        norm = self.normalized
        if end > len(norm):
            raise ValueError(f"span end {end} is past the normalized text ({len(norm)} characters)")
        if self._chunks is None:
            self._chunks = _chunk_lengths(self.text, self.config)
        return _general_span(self.text, start, end, norm[start:end], self.config, self._chunks)


_CHUNK = 2048


def _chunk_lengths(text: str, config: NormalizeConfig) -> list[int]:
    """Cumulative normalized lengths of ``text`` cut in fixed chunks (an estimate of the prefix lengths: an
    escape or a composition cut by a chunk boundary can make it off by a few characters, which the
    verification in :func:`_general_span` absorbs). One pass over the document, reused for all its spans."""
    cum = [0]
    for i in range(0, len(text), _CHUNK):
        cum.append(cum[-1] + len(normalize(text[i : i + _CHUNK], config)))
    return cum


def _general_span(text: str, start: int, end: int, target: str, config: NormalizeConfig,
                  chunks: list[int] | None = None) -> tuple[int, int]:
    n = len(text)
    chunks = chunks if chunks is not None else _chunk_lengths(text, config)

    def prefix_len(k: int) -> int:  # len(normalize(text[:k])), estimated chunk-wise (see _chunk_lengths)
        c = k // _CHUNK
        return chunks[c] + len(normalize(text[c * _CHUNK : k], config))

    def contains(s: int, e: int) -> bool:
        return s < e and target in normalize(text[s:e], config)

    # Locate: the last prefix that normalizes to at most `start` characters, the first that reaches `end`.
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if prefix_len(mid) <= start:
            lo = mid
        else:
            hi = mid - 1
    s0 = lo
    lo, hi = s0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if prefix_len(mid) >= end:
            hi = mid
        else:
            lo = mid + 1
    e0 = lo
    # Widen until the span's own normalization holds the target (escapes and compositions cut at the
    # boundary can hide it), then shrink each end as far as it goes (galloping, then one by one).
    margin = 4
    s, e = s0, e0
    while not contains(s, e):
        if s == 0 and e == n:  # pragma: no cover - normalize(text) contains the target by construction
            raise ValueError("the range is not in the normalized text")
        s, e = max(0, s0 - margin), min(n, e0 + margin)
        margin *= 4
    step = max(1, (e - s) // 2)
    while step:
        while contains(s + step, e):
            s += step
        step //= 2
    step = max(1, (e - s) // 2)
    while step:
        while contains(s, e - step):
            e -= step
        step //= 2
    while contains(s + 1, e):  # containment need not be monotone under unescape: finish one by one
        s += 1
    while contains(s, e - 1):
        e -= 1
    return s, e


def original_span(text: str, start: int, end: int, config: NormalizeConfig = _DEFAULT) -> tuple[int, int]:
    """The minimal span of ``text`` whose normalization contains ``normalize(text, config)[start:end]``.

    Example:
        >>> original_span("a-b-c-d", 1, 3)   # 'bc'
        (2, 5)
        >>> original_span('say \\\\"caf\\\\u00e9\\\\"', 3, 7, NormalizeConfig(unescape=True))  # 'café'
        (6, 15)
    """
    return DocumentMap(text, config).span(start, end)


def excerpt(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> dict[str, Any]:
    """The report's evidence object for the span ``text[start:end]``, with ``context`` characters each side.

    Returns:
        ``{"start": offset of the excerpt in the document (characters), "excerpt": the text,
        "highlight": [s, e] of the span within the excerpt, "doc_chars": length of the document}``.
    """
    a = max(0, start - context)
    b = min(len(text), end + context)
    return {"start": a, "excerpt": text[a:b], "highlight": [start - a, end - a], "doc_chars": len(text)}


def match_evidence(
    text: str,
    normalized: bytes,
    runs: dict[int, tuple[int, int]],
    config: NormalizeConfig = _DEFAULT,
    context: int = CONTEXT_CHARS,
    marks: list[int] | None = None,
) -> dict[int, dict[str, Any]]:
    """The evidence object of each verified run found in one document (the scan's hook).

    Args:
        text: The original document.
        normalized: ``normalize(text, config)`` as UTF-8 bytes (what the matcher scanned).
        runs: ``key -> (start, end)`` byte range of a verified run in ``normalized``.
        config: The normalizer options.
        context: Characters of context on each side of the highlighted span.
        marks: The document's kept-character counts per block, if ``normalize_many`` recorded them.

    Returns:
        ``key -> excerpt(...)`` (see :func:`excerpt`).
    """
    is_ascii = normalized.isascii()
    decoded = normalized.decode("ascii") if is_ascii else normalized.decode("utf-8", "surrogatepass")
    doc = DocumentMap(text, config, normalized=decoded, marks=marks)
    out: dict[int, dict[str, Any]] = {}
    for key, (bs, be) in runs.items():
        if is_ascii:
            cs, ce = bs, be
        else:
            cs = len(normalized[:bs].decode("utf-8", "surrogatepass"))
            ce = cs + len(normalized[bs:be].decode("utf-8", "surrogatepass"))
        s, e = doc.span(cs, ce)
        out[key] = excerpt(text, s, e, context)
    return out


class WordMap:
    """Maps ranges of a text's janitor words (the 13-gram rule, :mod:`decontam.words`) back to the text.

    Args:
        text: The original text.

    Example:
        >>> m = WordMap("Q: What is 2+2? Answer -- four.")
        >>> joined = "q what is 22 answer four"  # its janitor words, joined by one space
        >>> s, e = m.span(joined, 5, 12)         # 'what is 22'
        >>> "Q: What is 2+2? Answer -- four."[s:e]
        'What is 2+2?'
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens: np.ndarray | None = None

    def span(self, joined: str, start: int, end: int) -> tuple[int, int]:
        """The span of the text from the first to the last token whose words ``joined[start:end]`` touches
        (``joined``: the text's janitor words joined by one space; spaces at either end of the range ignored).

        Raises:
            ValueError: A range that holds no word.
        """
        while start < end and joined[start] == " ":
            start += 1
        while end > start and joined[end - 1] == " ":
            end -= 1
        if not 0 <= start < end <= len(joined):
            raise ValueError(f"range [{start}, {end}) holds no word of the {len(joined)}-character word text")
        if self._tokens is None:
            self._tokens = token_spans(self.text)
        first, last = joined.count(" ", 0, start), joined.count(" ", 0, end - 1)
        return int(self._tokens[first, 0]), int(self._tokens[last, 1])


def word_evidence(text: str, word_bytes: bytes, runs: dict[int, tuple[int, int]],
                  context: int = CONTEXT_CHARS) -> dict[int, dict[str, Any]]:
    """:func:`match_evidence` under the 13-gram rule: each run is a byte range of the document's word text
    (:func:`decontam.words.word_text`, UTF-8), shown as the span of the original document from the first word
    lying wholly in the run to the last (:func:`decontam.words.whole_words`).

    Args:
        text: The original document.
        word_bytes: Its word text, UTF-8 (what the matcher scanned).
        runs: ``key -> (start, end)`` byte range of a verified run in ``word_bytes``.
        context: Characters of context on each side of the highlighted span.
    """
    words = word_bytes.decode("utf-8", "surrogatepass")
    joined = words[1:-1]
    doc = WordMap(text)
    out: dict[int, dict[str, Any]] = {}
    for key, (bs, be) in runs.items():
        cs = len(word_bytes[:bs].decode("utf-8", "surrogatepass")) if not words.isascii() else bs
        ce = cs + (len(word_bytes[bs:be].decode("utf-8", "surrogatepass")) if not words.isascii() else be - bs)
        ws, we = whole_words(words, cs, ce)
        s, e = doc.span(joined, ws - 1, we - 1)
        out[key] = excerpt(text, s, e, context)
    return out
