"""Window hashing and minimizers: gram keys, stored keys, the minimizer order, and the orders of the table.

Every ``KGRAM``-byte gram of a normalized document gets a 64-bit key (:func:`gram_keys`). In every *window*
of ``W`` consecutive grams (``WINDOW`` bytes of text, inside one document) the gram whose key is smallest by
:func:`minimizer_order` is *selected*, all of them on ties (:func:`select_minimizers`); runs of one selected
key are thinned (:func:`thin`). Any probe of at least ``WINDOW`` bytes that occurs in a document contains a
whole window, so its own minimum gram was selected there: looking up that one key loses nothing. About 2 in
``W + 1`` positions are selected.

The index stores a selected gram under :func:`stored_keys` (a bijective mix of its key) and keeps its table
sorted by the stored keys' top 32 bits, then position (:func:`radix_order`, :func:`bucketed`,
:func:`key_range`).
"""

from __future__ import annotations

import sys

import numpy as np

from ..arrays import concat_ranges, sliding, words
from ..bloom import fmix64

__all__ = [
    "GRAM_HASH",
    "HASH_SEED",
    "KGRAM",
    "PAD",
    "RUN_BITS",
    "WINDOW",
    "W",
    "bucketed",
    "distinct_keys",
    "gram_keys",
    "key_range",
    "minimizer_order",
    "minimizers",
    "radix_order",
    "select_minimizers",
    "stored_keys",
    "thin",
]

WINDOW = 50  # bytes of normalized text covered by one window of grams: the shortest probe found by lookup
KGRAM = 32  # bytes per gram
W = WINDOW - KGRAM + 1  # grams per window
HASH_SEED = 0x5EED_DEC0_4A11_0001
GRAM_HASH = "(h(p)*C2 + h(p+16)) ^ seed, h(p) = w(p)*C0 + w(p+8)*C1 (u64le words); stored: fmix64"
PAD = b"\0" * (KGRAM + 16)  # zero padding after a text, so that the words of its last grams can be read
RUN_BITS = 8  # build runs are ordered by this many top bits of the key (then position); see bucketed
_C = tuple(np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9))
_CHUNK = 1 << 16  # positions hashed and selected at a time (temporaries stay in L2)
_HI = np.uint64(32)
_HIGH_HALF = 1 if sys.byteorder == "little" else 0  # the uint32 holding a uint64's top 32 bits


def gram_keys(padded: np.ndarray, start: int, stop: int) -> np.ndarray:
    """64-bit keys of the ``KGRAM``-byte grams starting at ``start..stop-1`` (``padded`` has zero padding).

    A linear hash of the gram's four little-endian 64-bit words ``w0..w3``, computed in two levels so that the
    16-byte half sums are shared by the two grams they belong to: ``h(p) = w(p)*C0 + w(p+8)*C1``, then
    ``key(p) = (h(p)*C2 + h(p+16)) ^ seed`` (three multiplies per position, on contiguous words). The
    minimizer order is its top 32 bits; the key a gram is stored under is a bijective mix of it
    (:func:`stored_keys`), computed for the selected grams only.
    """
    w = np.ascontiguousarray(words(padded)[start : stop + KGRAM - 8])  # unaligned loads, copied once
    n = stop - start
    half = w[: n + 16] * _C[0]
    half += w[8 : n + 24] * _C[1]
    out = half[:n] * _C[2]
    out += half[16 : n + 16]
    out ^= np.uint64(HASH_SEED)
    return out


def stored_keys(keys: np.ndarray) -> np.ndarray:
    """The key a selected gram is stored and looked up under: murmur3's fmix64 of its gram key, a bijection
    (gram keys are linear, and biased low by selection; stored keys are uniform, so their top bits partition
    the Bloom filter evenly)."""
    return fmix64(keys)


def radix_order(keys: np.ndarray) -> np.ndarray:
    """Stable order of ``keys`` by their top 32 bits (two 16-bit radix passes: numpy sorts 16-bit keys by
    radix, much faster than a 64-bit argsort)."""
    hi = (keys >> _HI).astype(np.uint32)
    o1 = np.argsort((hi & np.uint32(0xFFFF)).astype(np.uint16), kind="stable")
    o2 = np.argsort((hi[o1] >> np.uint32(16)).astype(np.uint16), kind="stable")
    return o1[o2]


def bucketed(keys: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs given in position order, reordered by the keys' top ``RUN_BITS`` bits (stable: position order
    inside each bucket) -- a build run. One 8-bit radix pass: the full sort is left to the merge of the runs,
    which sorts one small range of keys at a time, in cache."""
    o = np.argsort((keys >> np.uint64(64 - RUN_BITS)).astype(np.uint8), kind="stable")
    return np.take(keys, o, mode="clip"), np.take(pos, o, mode="clip")  # (valid indices: no bounds checks)


def key_range(table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per key, the index range of ``table`` (sorted by top 32 bits only) holding its top 32 bits."""
    hi = keys >> _HI
    lo = np.searchsorted(table, hi << _HI, side="left")
    top = hi == np.uint64(0xFFFFFFFF)
    nxt = np.where(top, np.uint64(0), (hi + np.uint64(1)) << _HI)
    up = np.where(top, len(table), np.searchsorted(table, nxt, side="left"))
    return lo, up


def distinct_keys(keys: np.ndarray) -> np.ndarray:
    """Keys without their repeats (repeats of a key are adjacent, but for rare 32-bit prefix collisions)."""
    if len(keys) < 2:
        return np.asarray(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def minimizer_order(keys: np.ndarray) -> np.ndarray:
    """The minimizer order of keys: their top 32 bits, never 0 (0 marks windows that do not exist)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    return keys.view(np.uint32)[_HIGH_HALF::2] | np.uint32(1)  # one pass over a strided view


def minimizers(data: bytes, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The selected (stored key, position) pairs of a batch, thinned and sorted as the index stores them: by
    the keys' top 32 bits, then position.

    See :func:`select_minimizers` and :func:`thin`.
    """
    keys, pos = thin(*select_minimizers(data, offsets), offsets)
    o = radix_order(keys)
    return keys[o], pos[o]


def select_minimizers(data: bytes, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The selected (stored key, position) pairs of a batch of normalized documents.

    A position is selected if its gram is the minimum (by :func:`minimizer_order`, all ties) of some window of
    ``W`` grams lying wholly inside one document.

    Args:
        data: Normalized documents end to end.
        offsets: Their ``n + 1`` byte offsets.

    Returns:
        ``(keys, positions)``: ``uint64`` stored keys and ``int64`` byte positions in ``data``, in position
        order.
    """
    n = len(data)
    empty = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
    if n < WINDOW:
        return empty
    offs = np.asarray(offsets, dtype=np.int64)
    padded = np.empty(n + len(PAD), dtype=np.uint8)  # one copy of the text, zero padding for the last words
    padded[:n] = np.frombuffer(data, dtype=np.uint8)
    padded[n:] = 0
    nwin = n - WINDOW + 1
    ds, de = offs[:-1], offs[1:]
    lo = np.maximum(ds, de - WINDOW + 1)
    hi = np.minimum(de, nwin)
    invalid = concat_ranges(lo, hi - lo)  # windows crossing a document's end, ascending (49 per document)
    keys_out: list[np.ndarray] = []
    pos_out: list[np.ndarray] = []
    npos = n - KGRAM + 1
    for c0 in range(0, npos, _CHUNK):
        c1 = min(npos, c0 + _CHUNK)
        j0, j1 = max(0, c0 - W + 1), min(nwin, c1)
        if j1 <= j0:
            continue
        keys = gram_keys(padded, j0, j1 + W - 1)
        order = minimizer_order(keys)
        m = sliding(order, W, np.minimum)
        i0, i1 = np.searchsorted(invalid, (j0, j1)).tolist()
        m[invalid[i0:i1] - j0] = 0
        z = np.zeros(W - 1, dtype=np.uint32)
        mm = sliding(np.concatenate((z, m, z)), W, np.maximum)  # mm[t]: position j0 + t
        t0, t1 = c0 - j0, min(c1, j1 + W - 1) - j0
        sel = np.flatnonzero(order[t0:t1] == mm[t0:t1]) + t0
        keys_out.append(keys[sel])
        pos_out.append(sel + j0)
    if not keys_out:
        return empty
    return stored_keys(np.concatenate(keys_out)), np.concatenate(pos_out).astype(np.int64, copy=False)


def thin(keys: np.ndarray, pos: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Thin repeats among selected pairs given in position order: of a run of consecutive pairs with one key
    inside one *stretch* (``W`` positions of one document, counted from its start: ``(pos - start) // W``) only
    the first and the last are kept.

    Nothing is lost: a window (``W`` consecutive positions) that holds a dropped position ``p`` of the stretch
    also holds the run's first position (if the window starts at or before it) or else its last one (the
    window then reaches past the end of the stretch), and both have ``p``'s key. Runs like ``aaaa...`` (every
    position selected, all ties) keep 2 positions in ``W``. Stretches counted from each document's start make
    the pairs of a document depend on its text alone, wherever it lies in the corpus (a build cut into parts,
    merged indexes). Sequential comparisons only: no sort.

    Args:
        keys: Selected keys, in position order.
        pos: Their positions.
        offsets: The documents' ``n + 1`` offsets, in the positions' coordinates.

    Example:
        >>> k = np.array([7, 7, 7, 7, 3, 7], dtype=np.uint64)
        >>> thin(k, np.array([0, 1, 2, 3, 4, 5]), np.array([0, 100]))[1].tolist()
        [0, 3, 4, 5]
    """
    if len(keys) < 3:
        return keys, pos
    same_key = keys[1:] == keys[:-1]
    mid = np.flatnonzero(same_key[:-1] & same_key[1:]) + 1  # pairs with their neighbours' key: the candidates
    if not len(mid):
        return keys, pos
    offs = np.asarray(offsets, dtype=np.int64)

    def stretch(i: np.ndarray) -> np.ndarray:  # where the stretch of each pair starts: one value per stretch
        p = pos[i]
        return p - (p - offs[np.searchsorted(offs, p, side="right") - 1]) % W

    here = stretch(mid)
    drop = mid[(stretch(mid - 1) == here) & (stretch(mid + 1) == here)]
    if not len(drop):
        return keys, pos
    keep = np.ones(len(keys), dtype=bool)
    keep[drop] = False
    return keys[keep], pos[keep]
