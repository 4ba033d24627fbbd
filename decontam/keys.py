"""Key choice: which grams of each probe the matcher looks up, and how a gram is hashed.

A window (probe) of ``w`` bytes is found by looking at only every ``s``-th byte position of the corpus,
with ``k``-byte *keys*, where ``k + s - 1 <= w``: whichever byte the probe starts at, the positions of the
probe that fall on the stride cover every residue modulo ``s``, so the probe is keyed at ``s`` positions, one
per residue, each taking a key that lies wholly inside the probe. Then some key of every occurrence falls on a
scanned position, at a known alignment. Probes of 31 bytes or more (every sampled 50-character probe) use
16-byte keys every 16 bytes; shorter ones (whole short questions) use 8/4/2/1-byte keys every 8/4/2/1 bytes
(:func:`plan_keys`). The corpus side then hashes one position in 16 rather than all of them.

For each residue a probe takes its rarest gram among its questions' grams (usually rare in the corpus too, so
fewer candidates); in ``all`` mode, where every window of a question is a probe, a question is keyed at the
positions of every other block of ``s`` bytes, which serves all of its windows with half its positions
(:func:`choose_keys`).

A gram's hash is a 64-bit multiplicative hash of its bytes read as one or two little-endian words
(:func:`gram_hashes` on strided positions, :func:`hash_at` on any positions): equal grams hash equal whatever
their position. :mod:`decontam.match` builds its key tables from :func:`keys_by_class` and scans with
:func:`gram_hashes`.
"""

from __future__ import annotations

import numpy as np

from .arrays import concat_ranges, words

__all__ = ["KEY_BYTES", "choose_keys", "gram_hashes", "hash_at", "keys_by_class", "plan_keys"]

KEY_BYTES = 16  # the longest key; probes of 31 bytes or more are keyed with it
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xC2B2AE3D27D4EB4F)
_STEP_PAIRS = 1 << 16  # (window, residue) pairs per step of the rarest-key choice: keeps temporaries in cache


def _masks(length: int) -> tuple[np.uint64, np.uint64]:
    """Masks of the bytes of a ``length``-byte gram in its first and second word."""
    lo = min(length, 8)
    hi = max(0, min(length, 16) - 8)
    m0 = np.uint64((1 << (8 * lo)) - 1) if lo < 8 else np.uint64(0xFFFFFFFFFFFFFFFF)
    m1 = np.uint64((1 << (8 * hi)) - 1) if hi < 8 else np.uint64(0xFFFFFFFFFFFFFFFF)
    return m0, m1


def gram_hashes(padded: np.ndarray, start: int, stop: int, length: int = KEY_BYTES, step: int = 1) -> np.ndarray:
    """Hash the ``length``-byte grams (``length <= 16``) starting at positions ``start, start+step, ... < stop``.

    Args:
        padded: ``uint8`` buffer with at least 24 bytes of zero padding after the data.
        start: First position.
        stop: Bound on the positions (exclusive).
        length: Gram length in bytes, 1..16.
        step: Distance between hashed positions.

    Returns:
        ``uint64`` hashes; equal grams give equal hashes, whatever their position and step.

    Example:
        >>> buf = np.frombuffer(b"abcabcabc" + b"\\0" * 24, dtype=np.uint8)
        >>> h = gram_hashes(buf, 0, 7, length=3)
        >>> bool(h[0] == h[3] == h[6]), bool(h[0] == h[1])
        (True, False)
    """
    m = max(0, -(-(stop - start) // step))
    if step == length and length in (4, 8):  # contiguous words: SIMD-friendly, no mask needed
        grams = np.ndarray(shape=(m,), dtype=f"<u{length}", buffer=padded, offset=start)
        return (grams if length == 8 else grams.astype(np.uint64)) * _C1
    if step == length == KEY_BYTES:
        pairs = np.ndarray(shape=(m, 2), dtype="<u8", buffer=padded, offset=start)
        out = pairs[:, 0] * _C1
        out += pairs[:, 1] * _C2
        return out
    a = np.ndarray(shape=(m,), dtype="<u8", buffer=padded, offset=start, strides=(step,))
    if length <= 8:
        if length < 8:
            a = a & _masks(length)[0]
        return a * _C1
    b = np.ndarray(shape=(m,), dtype="<u8", buffer=padded, offset=start + 8, strides=(step,))
    if length < KEY_BYTES:
        b = b & _masks(length)[1]
    out = a * _C1
    out += b * _C2
    return out


def hash_at(padded: np.ndarray, positions: np.ndarray, length: int) -> np.ndarray:
    """:func:`gram_hashes` of the ``length``-byte grams at arbitrary ``positions`` (any shape).

    Example:
        >>> buf = np.frombuffer(b"abcdefghabcdefgh" + b"\\0" * 24, dtype=np.uint8)
        >>> hash_at(buf, np.array([1, 9]), 5).tolist() == gram_hashes(buf, 1, 10, 5, step=8).tolist()
        True
    """
    grams = words(padded)
    m0, m1 = _masks(length)
    out = grams[positions]  # a fresh array: the steps below work in place, without temporaries
    if length < 8:
        out &= m0
    out *= _C1
    if length > 8:
        high = grams[8:][positions]
        if length < KEY_BYTES:
            high &= m1
        high *= _C2
        out += high
    return out


def _plan_table(cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Key length and stride of every width ``0..cap``: the thresholds of :func:`plan_keys`."""
    w = np.arange(cap + 1)
    k = np.select([w >= 31, w >= 15, w >= 7, w >= 3], [16, 8, 4, 2], 1)
    s = np.select([w >= 31, w >= 15, w >= 7, w >= 2], [16, 8, 4, 2], 1)
    return k.astype(np.int64), s.astype(np.int64)


_PLAN_CAP = 31  # every width from here on has the plan of this one
_PLAN_K, _PLAN_S = _plan_table(_PLAN_CAP)
# The (key length, stride) classes, widest first (the order the tables are built and scanned in), and the
# class of each width up to the cap.
_PLAN_CLASSES = sorted(set(zip(_PLAN_K.tolist(), _PLAN_S.tolist())), reverse=True)
_PLAN_CLASS = np.array([_PLAN_CLASSES.index(ks) for ks in zip(_PLAN_K.tolist(), _PLAN_S.tolist())],
                       dtype=np.int8)


def plan_keys(width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Key length ``k`` and stride ``s`` for windows of the given byte widths (``k + s - 1 <= width``).

    Example:
        >>> k, s = plan_keys(np.array([50, 20, 9, 4, 2, 1]))
        >>> k.tolist(), s.tolist()
        ([16, 8, 4, 2, 1, 1], [16, 8, 4, 2, 2, 1])
    """
    # A lookup by the width capped at 31: in ``all`` mode there are millions of windows, and one gather each
    # is several times faster than np.select's masks.
    w = np.clip(np.asarray(width), 0, _PLAN_CAP).astype(np.intp)
    return _PLAN_K[w], _PLAN_S[w]


def keys_by_class(lo: np.ndarray, width: np.ndarray, qbuf: np.ndarray,
                  exhaustive: bool) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """The keys of all windows, one entry per (key length, stride) class of :func:`plan_keys`, widest first.

    Args:
        lo: Absolute byte start of each window in ``qbuf``.
        width: Byte width of each window (at least 1).
        qbuf: All questions end to end, with at least 24 bytes of zero padding after them.
        exhaustive: True when the windows are every window of their questions (``all`` mode).

    Returns:
        ``(k, s, positions, hashes)`` for each class that has windows: the key length and stride, and the
        :func:`choose_keys` of its windows (absolute key positions, increasing, each once, and their hashes).

    Example:
        >>> qbuf = np.frombuffer(b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnop" + b"\\0" * 24, dtype=np.uint8)
        >>> found = keys_by_class(np.array([0, 40]), np.array([40, 2]), qbuf, False)
        >>> [(k, s, len(at)) for k, s, at, _ in found]
        [(16, 16, 16), (1, 2, 2)]
    """
    plan = _PLAN_CLASS[np.clip(width, 0, _PLAN_CAP)]
    out = []
    for c in np.flatnonzero(np.bincount(plan, minlength=len(_PLAN_CLASSES))).tolist():
        k, s = _PLAN_CLASSES[c]
        sel = np.flatnonzero(plan == c)
        alo = lo[sel]  # first and last key start of each window
        ahi = alo + width[sel] - k
        out.append((k, s, *choose_keys(alo, ahi, s, qbuf, k, exhaustive)))
    return out


def choose_keys(lo: np.ndarray, hi: np.ndarray, stride: int, qbuf: np.ndarray, length: int,
                exhaustive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Key positions such that every window ``[lo, hi]`` (absolute key starts, ``hi - lo + 1 >= stride``)
    holds a key at every residue modulo ``stride``, and the hashes of their ``length``-byte grams.

    Windows at least twice the stride wide are served, in ``all`` mode, by every position of the even blocks of
    ``stride`` bytes they cover (among any ``2 * stride`` consecutive positions, each residue occurs twice, in
    consecutive blocks, one of them even). Otherwise each window takes, for each residue, its ``length``-byte
    gram seen least often among the grams the windows cover (the first such, on a tie).

    Args:
        lo: Absolute position of each window's first key start.
        hi: Absolute position of each window's last key start.
        stride: The stride the keys are scanned at.
        qbuf: All questions end to end, with at least 24 bytes of zero padding after them.
        length: Key length in bytes.
        exhaustive: True in ``all`` mode (every window of the questions is a probe).

    Returns:
        The key positions (increasing, each once) and their :func:`hash_at` hashes.

    Example:
        >>> qbuf = np.frombuffer(b"aaaaxaaaa" + b"\\0" * 24, dtype=np.uint8)
        >>> choose_keys(np.array([0]), np.array([7]), 1, qbuf, 2, False)[0].tolist()  # "ax": rarest, first
        [3]
    """
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    if exhaustive:
        wide = hi - lo + 1 >= 2 * stride
        if wide.any():
            at = _even_block_keys(lo[wide], hi[wide], stride)
            parts.append((at, hash_at(qbuf, at, length)))
            narrow = np.flatnonzero(~wide)
            lo, hi = np.take(lo, narrow), np.take(hi, narrow)
    if len(lo):
        parts.append(_rarest_keys(lo, hi, stride, qbuf, length))
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    if len(parts) == 1:
        return parts[0]
    at = np.concatenate([p[0] for p in parts])
    order = np.argsort(at, kind="stable")  # two increasing runs: timsort merges them in linear time
    at = at[order]
    first = np.concatenate(([True], at[1:] != at[:-1]))
    return at[first], np.concatenate([p[1] for p in parts])[order][first]


def _runs(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge the intervals ``[lo, hi]`` (inclusive, non-empty) into maximal runs of consecutive positions.

    Returns:
        The first and last position of each run (increasing, disjoint), and the run holding each interval.
    """
    order = None
    if np.any(lo[1:] < lo[:-1]):  # windows come item by item, start by start: sorted, but for odd input
        order = np.argsort(lo, kind="stable")
        lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)  # furthest position covered so far
    new = np.empty(len(lo), dtype=bool)
    new[:1] = True
    new[1:] = lo[1:] > reach[:-1] + 1
    first = np.flatnonzero(new)
    run_of = np.cumsum(new) - 1
    if order is not None:
        run_of[order] = run_of.copy()
    return lo[first], reach[np.append(first[1:] - 1, len(lo) - 1)], run_of


def _even_block_keys(lo: np.ndarray, hi: np.ndarray, stride: int) -> np.ndarray:
    """The positions covered by the windows ``[lo, hi]`` in even blocks of ``stride`` bytes, increasing.

    Computed from the runs the windows cover, not from a mask over all questions: a table of a few windows
    then costs next to nothing, however many bytes the questions hold.
    """
    run_lo, run_hi, _ = _runs(lo, hi)
    # Number the positions of the even blocks consecutively (position j of block 2m is m * stride + j): those
    # of one run are then one range of numbers, from the first at or after its start to the last at or before
    # its end.
    two = 2 * stride
    first = run_lo // two * stride + np.minimum(run_lo % two, stride)
    last = run_hi // two * stride + np.minimum(run_hi % two, stride - 1)
    number = concat_ranges(first, last - first + 1)  # a run holding no even-block position: nothing
    return number // stride * two + number % stride


def _rarest_keys(lo: np.ndarray, hi: np.ndarray, stride: int, qbuf: np.ndarray,
                 length: int) -> tuple[np.ndarray, np.ndarray]:
    """For each window ``[lo, hi]`` and residue, the key position of the rarest gram among the covered ones.

    The covered positions are laid end to end, run by run ("compact" numbers), so that the work and memory
    follow the windows rather than the length of all questions: a window is then a range of compact numbers.

    Returns:
        The chosen key positions (increasing, each once) and their :func:`hash_at` hashes.
    """
    run_lo, run_hi, run_of = _runs(lo, hi)
    size = run_hi - run_lo + 1
    covered_at = concat_ranges(run_lo, size)  # compact number -> position
    at = (np.cumsum(size) - size)[run_of] + (lo - run_lo[run_of])  # compact number of each window's start
    hashes = hash_at(qbuf, covered_at, length)
    # How often each gram occurs among the covered positions (bucketed by 20 hash bits: a heuristic only).
    bucket = (hashes >> np.uint64(44)).view(np.int64)
    reach = hi - lo
    blocks = int(reach.max()) // stride + 1
    # Counts fit 32 bits below 2**30 covered positions, and a random gather from a 4 MB table is several times
    # faster than from 8 MB; ``big`` marks a candidate past its window's end, above every count.
    dtype = np.int32 if len(covered_at) < 1 << 30 else np.int64
    big = dtype(np.iinfo(dtype).max // 2)
    cost = np.zeros(len(covered_at) + blocks * stride, dtype=dtype)  # padded for the last window's blocks
    cost[: len(covered_at)] = np.take(np.bincount(bucket, minlength=1 << 20).astype(dtype), bucket)
    # Per residue, the first block of least cost: a running minimum over the blocks, with a strict "<" so
    # that ties keep the earlier block. Block 0 lies wholly in every window (hi - lo + 1 >= stride). Plain
    # arithmetic (np.minimum, np.maximum) rather than masked stores: np.copyto(where=) and np.where are much
    # slower. About _STEP_PAIRS (window, residue) pairs per step, so that the temporaries stay small (in
    # cache, and reused rather than fresh pages, each of which costs a page fault).
    residue = np.arange(stride, dtype=np.int64)
    picked = np.zeros(len(covered_at), dtype=bool)
    rows = max(1, _STEP_PAIRS // stride)
    for w in range(0, len(at), rows):
        start = at[w : w + rows, None] + residue  # compact number of each (window, residue) in block 0
        span = reach[w : w + rows, None]
        least = np.take(cost, start)
        best = np.zeros(start.shape, dtype=np.int32)
        narrowest = int(span.min())
        for j in range(1, int(span.max()) // stride + 1):
            c = np.take(cost[j * stride :], start)
            if j * stride + stride - 1 > narrowest:  # past some window's end: no candidate there
                c += np.multiply(j * stride + residue > span, big, dtype=dtype)
            np.maximum(best, np.multiply(c < least, j, dtype=np.int32), out=best)  # j > every earlier block
            np.minimum(least, c, out=least)
        best *= stride
        start += best
        picked[start] = True
    # nonzero and take rather than a boolean index: several times faster on such irregular masks.
    picked_at = np.flatnonzero(picked)
    return np.take(covered_at, picked_at), np.take(hashes, picked_at)
