"""The 13-gram rule's text: lm-evaluation-harness's janitor normalization, word text and word n-grams.

The GPT-3 paper's contamination rule as lm-evaluation-harness implements it (``lm_eval/decontamination/
janitor.py``; ``decontaminate.py`` over the 13-grams ``scripts/clean_training_data/generate_13_grams.py``
makes): ASCII ``A-Z`` lowercased and the 32 characters of ``string.punctuation`` deleted
(``Janitor.normalize_string``), then split on whitespace (``str.split``), and every 13 consecutive words joined
by one space form a 13-gram. Nothing else changes: letters outside ASCII keep their case, other symbols
(``’``, ``€``, ``…``) stay inside their words.

This module writes a text as its *word text* ``" w0 w1 … wn "``: the words joined by one space, with one space
before the first and after the last (an empty string when there is no word). A word n-gram of a question is one
of a document's word n-grams exactly when ``" wi … wi+12 "``, spaces included, is a substring of the document's
word text: words hold no space, so the two spaces pin both ends to word boundaries. The exact substring matcher
(:mod:`decontam.match`) therefore serves the 13-gram rule unchanged, with its vectorized hashing, and every hit
verified byte for byte.

Example:
    >>> janitor_normalize("Hello, World! It's 4:30.")
    'hello world its 430'
    >>> word_text("  Hello,\\tWorld! - ok ")
    ' hello world ok '
    >>> [(s.tolist(), e.tolist()) for s, e in ngram_windows([["a", "bb", "c"]], 2)]
    [([0, 2], [4, 6])]
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np

__all__ = ["JANITOR_DELETE", "janitor_normalize", "janitor_words", "ngram_windows", "token_spans", "whole_words",
           "word_text", "word_text_many"]

JANITOR_DELETE = string.punctuation  # Janitor(delete_chars=string.punctuation), its default
_STR_TABLE = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, JANITOR_DELETE)
# The same on bytes, plus the ASCII characters ``str.split`` takes for whitespace and ``bytes.split`` does not
# (``\x1c``-``\x1f``), made spaces.
_BYTE_TABLE = bytes.maketrans(string.ascii_uppercase.encode() + bytes(range(0x1C, 0x20)),
                              string.ascii_lowercase.encode() + b"    ")
_BYTE_DELETE = JANITOR_DELETE.encode("ascii")
# The characters outside ASCII that ``str.split`` splits on (``str.isspace``), in UTF-8: U+0085, U+00A0, U+1680,
# U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (a test sweeps every code point against it).
_UTF8_SPACE = re.compile(rb"\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80")
_BLOCK = 1 << 20  # a longer document is split into words block by block: memory bounded by a block's words
_ASCII_SPACE = re.compile(rb"[ \t\n\v\f\r\x1c-\x1f]")


def janitor_normalize(text: str) -> str:
    """``Janitor.normalize_string``: ``A-Z`` lowercased, ASCII punctuation deleted, all else kept.

    Example:
        >>> janitor_normalize("É-mail: ÀB cd!")
        'Émail Àb cd'
    """
    return text.translate(_STR_TABLE)


def janitor_words(text: str) -> list[str]:
    """The words of ``text`` under the janitor's rule: :func:`janitor_normalize`, then ``str.split``.

    Example:
        >>> janitor_words("Is 2 + 2 = 4?")
        ['is', '2', '2', '4']
    """
    return text.translate(_STR_TABLE).split()


def word_text(text: str) -> str:
    """``" " + " ".join(janitor_words(text)) + " "``, or ``""`` when ``text`` has no word."""
    words = text.translate(_STR_TABLE).split()
    return " " + " ".join(words) + " " if words else ""


def _joined(block: bytes) -> bytes:
    """The words of a block of UTF-8 text (cut at whitespace), joined by one space, as UTF-8.

    On the bytes themselves, UTF-8 or not: the janitor changes ASCII characters only, and an ASCII byte never
    occurs inside the encoding of another character, so ``bytes.translate`` is its ``str.translate``; the
    whitespace outside ASCII is made a space first.
    """
    if not block.isascii():
        block.decode("utf-8")  # validates: deleting bytes could join the pieces of an invalid sequence
        if _UTF8_SPACE.search(block):
            block = _UTF8_SPACE.sub(b" ", block)
    return b" ".join(block.translate(_BYTE_TABLE, _BYTE_DELETE).split())


def _word_bytes(doc: bytes) -> bytes:
    """:func:`word_text` of one UTF-8 document, as UTF-8; a long one is split block by block, each block cut at
    an ASCII whitespace byte (never inside a character or a word), so that memory holds a block's words only."""
    if len(doc) <= _BLOCK:
        joined = _joined(doc)
        return b" " + joined + b" " if joined else b""
    pieces = []
    i = 0
    while i < len(doc):
        j = i + _BLOCK
        if j < len(doc):
            m = _ASCII_SPACE.search(doc, j)
            j = m.start() if m else len(doc)
        piece = _joined(doc[i:j])
        if piece:
            pieces.append(piece)
        i = j
    return b" " + b" ".join(pieces) + b" " if pieces else b""


def word_text_many(data: bytes | memoryview, offsets: np.ndarray) -> tuple[bytes, np.ndarray]:
    """:func:`word_text` of a batch of UTF-8 documents laid end to end (the corpus hot path).

    A document's words come from ``bytes.translate`` and ``bytes.split`` (C), on its UTF-8 bytes: a Python step
    per document, none per word or character.

    Args:
        data: The UTF-8 bytes of all documents.
        offsets: ``n + 1`` increasing byte offsets of the documents in ``data``.

    Returns:
        The word texts (UTF-8) end to end, and their ``n + 1`` offsets (``int64``, from 0). Equal to encoding
        ``word_text(doc)`` for every document.

    Raises:
        UnicodeDecodeError: A document that is not pure ASCII is not valid UTF-8.
    """
    view = memoryview(data)
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    pieces = [_word_bytes(view[bounds[i] : bounds[i + 1]].tobytes()) for i in range(len(bounds) - 1)]
    new_offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in pieces], out=new_offsets[1:])
    return b"".join(pieces), new_offsets


def ngram_windows(texts: Sequence[Sequence[str]], n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Where each word ``n``-gram of each text lies in its ``" ".join(words)``: per text, the character starts
    and ends of its n-grams (empty arrays when it has fewer than ``n`` words). One pass over all texts' word
    lengths (the questions of a check have hundreds of thousands of n-grams), not a Python step per n-gram.

    Example:
        >>> [(s.tolist(), e.tolist()) for s, e in ngram_windows([["the", "cat", "sat", "on"], ["a"]], 3)]
        [([0, 4], [11, 14]), ([], [])]
    """
    counts = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    lengths = np.fromiter((len(w) for words in texts for w in words), dtype=np.int64, count=int(counts.sum()))
    first = np.cumsum(counts) - counts  # each text's first word
    starts = np.cumsum(lengths + 1) - (lengths + 1)  # as if all texts were one
    has = counts > 0
    starts -= np.repeat(starts[first[has]], counts[has])  # from each text's own start
    ends = starts + lengths
    empty = np.zeros(0, dtype=np.int64)
    out = []
    for f, c in zip(first.tolist(), counts.tolist()):
        out.append((starts[f : f + c - n + 1], ends[f + n - 1 : f + c]) if c >= n else (empty, empty))
    return out


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The words lying wholly inside ``text[start:end]``, as a range from the first one's first character to
    the last one's last (``text``: words separated by single spaces, as :func:`word_text` writes them). A run
    the matcher verified may begin or end inside a word that only shares a prefix or suffix; this drops it.

    Example:
        >>> text = " naive a b c "
        >>> s, e = whole_words(text, 4, 10)  # 've a b '
        >>> text[s:e]
        'a b'
    """
    start, end = max(0, start), min(len(text), end)
    if 0 < start < end and text[start - 1] != " " and text[start] != " ":  # inside a word: skip its rest
        start = text.find(" ", start, end)
        start = end if start < 0 else start
    if start < end < len(text) and text[end] != " " and text[end - 1] != " ":  # inside a word: drop its start
        end = max(start, text.rfind(" ", start, end))
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end


_ASCII_SPACES = np.zeros(128, dtype=bool)
_ASCII_SPACES[[ord(c) for c in " \t\n\v\f\r\x1c\x1d\x1e\x1f"]] = True
_ASCII_PUNCT = np.zeros(128, dtype=bool)
_ASCII_PUNCT[[ord(c) for c in JANITOR_DELETE]] = True


def token_spans(text: str) -> np.ndarray:
    """Where each janitor word of ``text`` comes from: ``(k, 2)`` character spans of the whitespace-separated
    tokens that keep a character once punctuation is deleted, so that row ``i`` is the token of
    ``janitor_words(text)[i]`` (a token of punctuation only gives no word and no row).

    Vectorized over the code points (whitespace tested once per distinct non-ASCII character, with
    ``str.isspace``, which is what ``str.split`` splits on).

    Example:
        >>> text = "Hi - there, you!"
        >>> [text[s:e] for s, e in token_spans(text).tolist()]
        ['Hi', 'there,', 'you!']
    """
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if not len(cps):
        return np.zeros((0, 2), dtype=np.int64)
    low = cps < 128
    space = np.zeros(len(cps), dtype=bool)
    space[low] = _ASCII_SPACES[cps[low]]
    high = np.flatnonzero(~low)
    if len(high):
        values, inverse = np.unique(cps[high], return_inverse=True)
        space[high] = np.array([chr(int(v)).isspace() for v in values], dtype=bool)[inverse]
    keeps = ~space
    keeps[low] &= ~_ASCII_PUNCT[cps[low]]
    edge = np.diff(np.concatenate(([True], space, [True])).astype(np.int8))
    starts, ends = np.flatnonzero(edge == -1), np.flatnonzero(edge == 1)
    if not len(starts):
        return np.zeros((0, 2), dtype=np.int64)
    kept = np.add.reduceat(keeps, starts) > 0  # a segment runs from a token's start to the next's: its spaces keep none
    return np.stack([starts[kept], ends[kept]], axis=1).astype(np.int64)
