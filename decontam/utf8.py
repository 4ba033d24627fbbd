"""UTF-8 offsets and counts: character offsets to byte offsets and back, characters in a buffer.

The matcher works on the UTF-8 bytes of normalized text; probes, spans and reports speak in characters.
These conversions are array operations (no per-character Python loop).
"""

from __future__ import annotations

import numpy as np

__all__ = ["char_span", "char_to_byte", "count_characters"]


def char_to_byte(text: str) -> np.ndarray:
    """``len(text) + 1`` entries: the UTF-8 byte offset of each character offset of ``text``.

    From the code points (UTF-32) in a few array operations rather than encoding each character on its own.

    Example:
        >>> char_to_byte("aé中𝐀").tolist()
        [0, 1, 3, 6, 10]
    """
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    widths = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
    out = np.zeros(len(cps) + 1, dtype=np.int64)
    np.cumsum(widths, out=out[1:])
    return out


def char_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The character span of ``text`` whose UTF-8 bytes are ``[start, end)`` (character boundaries).

    Example:
        >>> char_span("aé中b", 1, 6)
        (1, 3)
    """
    if text.isascii():
        return start, end
    raw = text.encode("utf-8", "surrogatepass")
    first = len(raw[:start].decode("utf-8", "surrogatepass"))
    return first, first + len(raw[start:end].decode("utf-8", "surrogatepass"))


def count_characters(data: bytes | memoryview) -> int:
    """The number of characters of UTF-8 text: its bytes that do not continue a character (``0b10xxxxxx``),
    which is how ``pyarrow.compute.utf8_length`` counts too.

    Example:
        >>> count_characters("naïve 中文 𝐀".encode())
        10
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 20  # 1 MB slices: small temporaries, reused rather than fresh pages
    return len(arr) - sum(int(np.count_nonzero((arr[i : i + step] & 0xC0) == 0x80))
                          for i in range(0, len(arr), step))
