"""Shingles and MinHash signatures for the near-duplicate pass: datasketch's MinHash, computed with numpy.

The near-duplicate pass (:mod:`decontam.neardup`) compares benchmark questions and training text as sets of
*shingles*: the ``SHINGLE_BYTES``-byte substrings of the normalized text (letters, marks and digits), with ASCII
case folded. A shingle of at most 8 bytes is held exactly as a ``uint64`` (little-endian, zero-padded); its
32-bit hash is :func:`shingle_hash`.

A question's signature is datasketch's ``MinHash`` (scheme ``affine32``, ``num_perm`` permutations drawn by
datasketch from ``seed``) of its shingle hashes: per permutation ``p``, the minimum over the shingles of
``a[p] * fmix32(h) + b[p] mod 2**32``. datasketch computes it one token at a time in Python
(``MinHash.update_batch`` calls the hash function per token); :func:`signatures` computes the same values for
many questions at once with numpy, and a test holds the two to each other bit for bit. ``docs/method.md`` has
the measured figures.

Because each permutation is a bijection of 32-bit values, the minimum of permutation ``p`` names exactly one
shingle hash, the question's *representative* for ``p`` (:func:`representatives`). For a uniformly random
permutation the representative is a uniformly random shingle of the question, so the share of permutations
whose representative occurs in a stretch of text estimates the share of the question's shingles that occur
there (its *containment*): the MinHash containment estimator, read off the datasketch signature.

Example:
    >>> grams = shingles(b"whatisthecapitaloffrance")
    >>> len(grams), bytes(np.array(grams[:1]).view(np.uint8))
    (17, b'whatisth')
    >>> a, b = datasketch_permutations(4, seed=1)
    >>> sig = signatures(shingle_hash(np.unique(grams)), np.array([0, len(np.unique(grams))]), a, b)
    >>> sig.shape
    (1, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arrays import words

__all__ = [
    "MINHASH_SEED",
    "NUM_PERM",
    "SHINGLE_BYTES",
    "datasketch_minhash",
    "datasketch_permutations",
    "fmix32",
    "fold_case",
    "representatives",
    "shingle_hash",
    "shingle_hash_bytes",
    "shingles",
    "signatures",
    "unfmix32",
]

SHINGLE_BYTES = 8  # bytes of normalized text per shingle (docs/method.md: why 8)
NUM_PERM = 64  # MinHash permutations per question
MINHASH_SEED = 1  # datasketch's default seed: the permutations are datasketch's own
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SHIFT32 = np.uint64(32)
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
_UNMIX = (np.uint32(pow(0x85EBCA6B, -1, 1 << 32)), np.uint32(pow(0xC2B2AE35, -1, 1 << 32)))
_CHUNK_CELLS = 1 << 22  # shingles x permutations per vector step of :func:`signatures` (16 MB of uint32)
_A, _Z = np.uint8(ord("A")), np.uint8(26)


def fold_case(buf: np.ndarray) -> np.ndarray:
    """``buf`` (``uint8``) with the ASCII capitals lowered (other bytes unchanged), as a new array."""
    upper = (buf - _A) < _Z  # uint8 arithmetic wraps: only A-Z land below 26
    return buf | (upper.view(np.uint8) << np.uint8(5))


def shingles(text: bytes | np.ndarray, k: int = SHINGLE_BYTES, fold: bool = True) -> np.ndarray:
    """The ``k``-byte shingles of ``text`` at every position, in order, each as a ``uint64`` (``k <= 8``).

    Args:
        text: Normalized UTF-8 bytes (or a ``uint8`` array).
        k: Shingle length in bytes.
        fold: Lower ASCII capitals first.

    Returns:
        ``len(text) - k + 1`` values (none for a shorter text); shingle ``i`` is ``text[i:i+k]`` read as a
        little-endian integer.
    """
    buf = np.frombuffer(text, dtype=np.uint8) if isinstance(text, (bytes, bytearray, memoryview)) else text
    n = len(buf) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    padded = np.zeros(len(buf) + 8, dtype=np.uint8)
    padded[: len(buf)] = fold_case(buf) if fold else buf
    grams = words(padded)[:n]
    return grams & np.uint64((1 << (8 * k)) - 1) if k < 8 else grams.copy()


def shingle_hash(grams: np.ndarray) -> np.ndarray:
    """The 32-bit hash of each shingle: the high half of ``gram * 0x9E3779B97F4A7C15 mod 2**64``."""
    return ((grams * _GOLDEN) >> _SHIFT32).astype(np.uint32)


def shingle_hash_bytes(gram: bytes) -> int:
    """:func:`shingle_hash` of one shingle given as bytes: the ``hashfunc`` datasketch is given.

    Example:
        >>> shingle_hash_bytes(b"capitalo") == int(shingle_hash(shingles(b"capitalo"))[0])
        True
    """
    return ((int.from_bytes(gram, "little") * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)) >> 32


def fmix32(h: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer (datasketch's pre-mix of the ``affine32`` scheme), element-wise."""
    s1, m1, s2, m2, s3 = _FMIX
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def _unshift(y: np.ndarray, s: np.uint32) -> np.ndarray:
    """The ``x`` with ``x ^ (x >> s) == y``: each pass fixes ``s`` more of the high bits."""
    x = y
    for _ in range(-(-32 // int(s))):
        x = y ^ (x >> s)
    return x


def unfmix32(h: np.ndarray) -> np.ndarray:
    """The inverse of :func:`fmix32` (it is a bijection of 32-bit values).

    Example:
        >>> x = np.array([0, 1, 2**32 - 1, 123456789], dtype=np.uint32)
        >>> unfmix32(fmix32(x)).tolist() == x.tolist()
        True
    """
    s1, _, s2, _, s3 = _FMIX
    inv1, inv2 = _UNMIX
    h = _unshift(h, s3)
    h = h * inv2
    h = _unshift(h, s2)
    h = h * inv1
    return _unshift(h, s1)


def datasketch_permutations(num_perm: int = NUM_PERM, seed: int = MINHASH_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters (``uint32``) of datasketch's ``affine32`` permutations for ``seed``: drawn by
    datasketch itself (imported here, on first use: it imports scipy)."""
    from datasketch import MinHash

    perms = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.ascontiguousarray(perms[0], dtype=np.uint32), np.ascontiguousarray(perms[1], dtype=np.uint32)


def signatures(hashes: np.ndarray, bounds: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """datasketch's ``affine32`` MinHash values of many sets at once.

    Args:
        hashes: The sets' element hashes (``uint32``), set after set.
        bounds: ``n + 1`` offsets: set ``i`` is ``hashes[bounds[i]:bounds[i + 1]]`` (each non-empty).
        a: Permutation multipliers (odd), from :func:`datasketch_permutations`.
        b: Permutation offsets.

    Returns:
        ``(n, num_perm)`` ``uint32``: row ``i`` equals ``MinHash(..., hashfunc=...).hashvalues`` of set ``i``.
    """
    n = len(bounds) - 1
    out = np.empty((n, len(a)), dtype=np.uint32)
    if n == 0:
        return out
    mixed = fmix32(hashes.astype(np.uint32, copy=False))
    per = max(1, _CHUNK_CELLS // len(a))  # elements per step
    first = 0
    while first < n:
        # Whole sets, about ``per`` elements (at least one set, however large).
        last = max(first + 1, int(np.searchsorted(bounds, bounds[first] + per, side="right")) - 1)
        last = min(last, n)
        lo, hi = int(bounds[first]), int(bounds[last])
        values = mixed[lo:hi, None] * a[None, :] + b[None, :]
        out[first:last] = np.minimum.reduceat(values, bounds[first:last] - lo, axis=0)
        first = last
    return out


def representatives(sig: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The shingle hash behind each MinHash value: the element of the set whose permuted value is the minimum
    (``(sig - b) * a^-1``, then :func:`unfmix32`), same shape as ``sig``."""
    a_inv = a.copy()
    for _ in range(5):  # Newton's iteration for the inverse mod 2**32: 5 steps give 3 * 2**5 > 32 bits
        a_inv *= np.uint32(2) - a * a_inv
    return unfmix32((sig - b) * a_inv)


def datasketch_minhash(grams: np.ndarray, num_perm: int = NUM_PERM, seed: int = MINHASH_SEED) -> Any:
    """The question's ``datasketch.MinHash`` built the datasketch way (``update_batch``, a Python call per
    shingle): the reference :func:`signatures` is tested against, and the slow path ``docs/`` measures."""
    from datasketch import MinHash

    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash_bytes, scheme="affine32")
    m.update_batch([int(g).to_bytes(8, "little") for g in grams])
    return m
