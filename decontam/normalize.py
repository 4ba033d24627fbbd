"""Text normalization: the GPT-4 rule (keep only letters, marks and digits) and its explicit options.

The default drops every character that is not a Unicode letter (``L*``), mark (``M*``) or number (``N*``):
spaces, punctuation, symbols, controls and ``_`` all go; case is kept. Options apply in a fixed order:
``unescape`` → ``nfkc`` → ``lowercase`` → strip.

Two entry points share one definition:

* :func:`normalize` for one string (questions, tests, slow paths);
* :func:`normalize_many` for a batch of UTF-8 documents laid end to end in one buffer (the corpus hot path).
  Pure-ASCII documents take a ``bytes.translate`` fast path (hundreds of MB/s); the others go through
  :func:`normalize`. The two agree exactly; a property test holds them to each other.

Example:
    >>> normalize("def add(a, b):\\n    return a + b")
    'defaddabreturnab'
    >>> normalize("Héllo, wörld! 42")
    'Héllowörld42'
    >>> normalize("Hello\\\\nWorld", NormalizeConfig(unescape=True, lowercase=True))
    'helloworld'
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata

import numpy as np
import regex

from .config import NormalizeConfig

__all__ = ["ASCII_DELETE", "MARK_BLOCK", "normalize", "normalize_many", "unescape"]

_DEFAULT = NormalizeConfig()
# Every ASCII byte that is not [A-Za-z0-9]: in Unicode terms exactly the ASCII characters outside L/M/N.
ASCII_DELETE = bytes(b for b in range(128) if not chr(b).isalnum())
_ASCII_LOWER = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz"
)
_NOT_LMN = regex.compile(r"[^\p{L}\p{M}\p{N}]+")
# A \uD8xx\uDCxx surrogate pair is one character (JSON writes every non-BMP character so, e.g. with Python's
# json.dumps); read it as a pair first, or it would become two lone surrogates and be dropped.
_BACKSLASH_ESCAPE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|(.))",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "a": "\a", "0": "\0",
}


def _replace_escape(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        high, low = int(m.group(1), 16), int(m.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    code = m.group(3) or m.group(4) or m.group(5)
    if code is not None:
        value = int(code, 16)
        return chr(value) if value <= 0x10FFFF else ""
    ch = m.group(6)
    return _SIMPLE_ESCAPES.get(ch, ch)


def unescape(text: str) -> str:
    """Undo backslash escapes, then HTML entities.

    Backslash escapes are read left to right, so ``\\\\n`` (an escaped backslash, then ``n``) keeps its ``n``.

    Example:
        >>> unescape('say \\\\"hi\\\\"\\\\n &amp; caf\\\\u00e9')
        'say "hi"\\n & café'
    """
    if "\\" in text:
        text = _BACKSLASH_ESCAPE.sub(_replace_escape, text)
    if "&" in text:
        text = html.unescape(text)
    return text


def normalize(text: str, config: NormalizeConfig = _DEFAULT) -> str:
    """Normalize one string.

    Args:
        text: Any string (lone surrogates included: they are dropped like other non-letters).
        config: Normalizer options; the default is the GPT-4 rule.

    Returns:
        The text with only Unicode letters, marks and numbers left (after the options, in the order
        unescape → NFKC → lowercase → strip).

    Raises:
        TypeError: ``text`` is not a ``str`` (bytes: decode them first), or ``config`` not a NormalizeConfig.

    Example:
        >>> normalize("What is 2 + 2?")
        'Whatis22'
    """
    if not isinstance(text, str) or not isinstance(config, NormalizeConfig):
        raise TypeError(f"normalize takes a str and a NormalizeConfig, got a {type(text).__name__} and a "
                        f"{type(config).__name__}")
    if config.unescape and ("\\" in text or "&" in text):
        text = unescape(text)
    if text.isascii():
        table = _ASCII_LOWER if config.lowercase else None
        return text.encode("ascii").translate(table, ASCII_DELETE).decode("ascii")
    if config.nfkc:
        text = unicodedata.normalize("NFKC", text)
    if config.lowercase:
        text = text.lower()
    return _strip_utf8(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")


def _strip_utf8(raw: bytes) -> bytes:
    """Drop every character outside L/M/N from valid UTF-8 (lone surrogates allowed, as "surrogatepass").

    Stripping is per character, so the ASCII junk goes first (``bytes.translate``, in C; ASCII bytes never
    occur inside a multi-byte sequence), then ``regex`` strips only the runs of non-ASCII characters left
    (in code and most Western text a small share): the same result as one regex pass over the whole text,
    several times faster.
    """
    raw = raw.translate(None, ASCII_DELETE)
    if raw.isascii():
        return raw
    if len(raw) < 512:  # short (a question, a small document): numpy's set-up costs more than regex
        return _NOT_LMN.sub("", raw.decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass")
    high = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) >= 0x80)
    cut = np.flatnonzero(np.diff(high) > 1)
    starts = np.concatenate(([high[0]], high[cut + 1])).tolist()
    ends = np.concatenate((high[cut] + 1, [high[-1] + 1])).tolist()
    if len(starts) * 64 > len(raw):  # mostly non-ASCII text: one pass is cheaper than many short ones
        return _NOT_LMN.sub("", raw.decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass")
    pieces: list[bytes] = []
    prev = 0
    for a, b in zip(starts, ends):
        pieces.append(raw[prev:a])
        pieces.append(_NOT_LMN.sub("", raw[a:b].decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass"))
        prev = b
    pieces.append(raw[prev:])
    return b"".join(pieces)


# Characters per block of the kept-character counts normalize_many can record. Evidence maps one such block per
# run end: smaller blocks mean less text mapped, more counts kept (docs/performance.md has the measured choice).
MARK_BLOCK = 1 << 12


def normalize_many(
    data: bytes | memoryview,
    offsets: np.ndarray,
    config: NormalizeConfig = _DEFAULT,
    marks: dict[int, list[int]] | None = None,
) -> tuple[bytes | bytearray, np.ndarray]:
    """Normalize a batch of UTF-8 documents stored end to end in one buffer.

    Args:
        data: The UTF-8 bytes of all documents (e.g. an Arrow string array's data buffer).
        offsets: ``n + 1`` increasing byte offsets into ``data``; document ``i`` is
            ``data[offsets[i]:offsets[i + 1]]``.
        config: Normalizer options.
        marks: If given, filled in for every ASCII document longer than :data:`MARK_BLOCK` that is stripped
            character by character: ``doc -> [0, kept characters in the first block, in the first two, ...]``
            over its blocks of ``MARK_BLOCK`` characters. Evidence uses them to find the original position of a
            match without counting the document again (see ``decontam.evidence``); they cost next to
            nothing here, where every byte is read anyway.

    Returns:
        ``(normalized, new_offsets)``: the UTF-8 bytes of the normalized documents end to end (a ``bytearray``
        for a batch of one very long document), and their ``n + 1`` offsets (``int64``, starting at 0). Equal to
        encoding ``normalize(doc)`` for every document.

    Raises:
        UnicodeDecodeError: If a document that is not pure ASCII is not valid UTF-8.
    """
    view = memoryview(data)
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    table = _ASCII_LOWER if config.lowercase else None
    unescape_on = config.unescape
    plain = not (config.unescape or config.nfkc or config.lowercase)
    pieces: list[bytes] = []
    lengths = [0] * (len(bounds) - 1)
    for i in range(len(bounds) - 1):
        if bounds[i + 1] - bounds[i] > _HUGE and not config.unescape:
            huge = _normalize_huge_ascii(view[bounds[i] : bounds[i + 1]], table, marks, i)
            if huge is not None:
                pieces.append(huge)
                lengths[i] = len(huge)
                continue
        doc = view[bounds[i] : bounds[i + 1]].tobytes()
        if doc.isascii() and not (unescape_on and (b"\\" in doc or b"&" in doc)):
            if marks is not None and len(doc) > MARK_BLOCK:
                parts = [doc[j : j + MARK_BLOCK].translate(table, ASCII_DELETE)
                         for j in range(0, len(doc), MARK_BLOCK)]
                marks[i] = list(itertools.accumulate(map(len, parts), initial=0))
                out = b"".join(parts)
            else:
                out = doc.translate(table, ASCII_DELETE)
        elif plain:
            doc.decode("utf-8")  # validates: stripping could join the pieces of an invalid sequence
            out = _strip_utf8(doc)
        else:
            out = normalize(doc.decode("utf-8"), config).encode("utf-8", "surrogatepass")
        pieces.append(out)
        lengths[i] = len(out)
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    return (pieces[0] if len(pieces) == 1 else b"".join(pieces)), new_offsets


_HUGE = 1 << 24  # documents longer than this (bytes) are stripped block by block, without a copy of their own


def _normalize_huge_ascii(doc: memoryview, table: bytes | None, marks: dict[int, list[int]] | None,
                          i: int) -> bytes | bytearray | None:
    """A very long ASCII document stripped block by block straight from the input buffer, so that memory holds
    the input and the output, not a copy of each as well; None when it is not ASCII (the general path then)."""
    arr = np.frombuffer(doc, dtype=np.uint8)
    step = 1 << 20
    if any(int(arr[j : j + step].max(initial=0)) >= 0x80 for j in range(0, len(arr), step)):
        return None
    out = bytearray()
    counts = [0]
    for j in range(0, len(doc), MARK_BLOCK):
        out += doc[j : j + MARK_BLOCK].tobytes().translate(table, ASCII_DELETE)
        counts.append(len(out))
    if marks is not None:
        marks[i] = counts
    return out
