"""numpy building blocks shared by the matcher and the corpus index: word views, ranges, sliding extremes.

Each is a few vector operations (no per-element Python), written once here so that the two byte scanners
(:mod:`decontam.match` and the index) cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["bounded_slices", "concat_ranges", "sliding", "stable_argsort", "words"]


def words(buf: np.ndarray) -> np.ndarray:
    """Unaligned little-endian ``uint64`` view of a ``uint8`` buffer: element ``i`` is ``buf[i:i+8]``.

    The buffer needs 7 bytes of padding after its data for the view to reach its last byte.

    Example:
        >>> words(np.frombuffer(b"abcdefghij", dtype=np.uint8))[:2].tolist() == [
        ...     int.from_bytes(b"abcdefgh", "little"), int.from_bytes(b"bcdefghi", "little")]
        True
    """
    return np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))


def concat_ranges(starts: Any, counts: Any) -> np.ndarray:
    """``starts[i], ..., starts[i] + counts[i] - 1`` for every ``i``, end to end (a count below 1: nothing).

    Example:
        >>> concat_ranges(np.array([5, 0, 9, 4]), np.array([2, 0, 3, -1])).tolist()
        [5, 6, 9, 10, 11]
    """
    starts = np.asarray(starts, dtype=np.int64)
    counts = np.maximum(np.asarray(counts, dtype=np.int64), 0)
    skip = np.cumsum(counts) - counts  # where each range begins in the output
    return np.repeat(starts - skip, counts) + np.arange(int(counts.sum()), dtype=np.int64)


def bounded_slices(count: np.ndarray, limit: int) -> Iterator[tuple[int, int]]:
    """Consecutive ranges ``a:b`` covering ``count`` in order, each summing to at most ``limit`` (a single element
    above it is a range of its own): work whose size per element is ``count`` done in bounded pieces.

    Example:
        >>> list(bounded_slices(np.array([2, 2, 5, 1, 1, 9, 0]), 4))
        [(0, 2), (2, 3), (3, 5), (5, 6), (6, 7)]
    """
    n = len(count)
    if n and int(count.sum()) <= limit:
        yield 0, n
        return
    cum = np.cumsum(count)
    a = 0
    while a < n:
        before = int(cum[a - 1]) if a else 0
        b = max(int(np.searchsorted(cum, before + limit, side="right")), a + 1)
        yield a, b
        a = b


def sliding(a: np.ndarray, w: int, op: Any) -> np.ndarray:
    """``op`` (``np.minimum`` / ``np.maximum``) over every ``w`` consecutive elements: ``len(a) - w + 1``
    values, in ``log2(w)`` vector passes (doubling windows).

    Example:
        >>> sliding(np.array([3, 1, 4, 1, 5, 9, 2]), 3, np.minimum).tolist()
        [1, 1, 1, 1, 2]
    """
    m, s = a, 1
    while 2 * s <= w:
        m = op(m[:-s], m[s:])
        s *= 2
    if s < w:
        m = op(m[: -(w - s)], m[w - s :])
    return m


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` of ``uint64`` values, faster for well-mixed ones such as hashes.

    A first stable pass on the top 16 bits is a radix sort (linear time); well-mixed values are then in runs
    of a few that are out of order only among themselves, which the second stable pass (timsort) finds nearly
    sorted. Equal values keep their order through both passes, so the permutation is exactly the one-pass
    one, whatever the values.
    """
    if len(values) < 1 << 12:
        return np.argsort(values, kind="stable")
    order = np.argsort((values >> np.uint64(48)).astype(np.uint16), kind="stable")
    return order[np.argsort(values[order], kind="stable")]
