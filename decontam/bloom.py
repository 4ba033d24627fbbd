"""Bloom filter over 64-bit keys, vectorized with numpy: add, contains, union, (de)serialize.

Layout: a *partitioned* Bloom filter. The top 32 bits of a 64-bit mix of the key (or, with
``partition_by="key"``, of the key itself: for keys that are uniform already, which then arrive grouped by
partition when sorted) choose one of ``P`` partitions by multiply-shift; inside it, ``k`` bit positions come
from double hashing of a 64-bit mix of the key, mapped onto the partition's ``m`` bits by their top bits (no
modulo). Each partition is a plain Bloom filter of ``m`` bits; with partitions of about 2**18 bits the bits a
batch of keys touches stay in cache, which makes building several times faster than one flat filter of the
same size (``docs/performance.md``), at the same false-positive rate (partitions hold about 13 K keys each, so
their loads differ by about 1 %). Grouping unsorted keys by
partition costs about as much again; sorted keys partitioned by key need no grouping.

Sizing is the textbook one: ``m/n = -ln(p) / ln(2)**2`` bits per key and ``k = round(m/n * ln 2)`` hashes
(28.8 bits and 20 hashes for ``p = 1e-6``). :meth:`BloomFilter.fp_rate` estimates the actual rate from the
fill of each partition, ``mean((ones/m)**k)``, which is what a lookup of an absent key sees.

A Bloom filter never gives a false negative: every added key is found (a property test holds it to that).

Why not pybloom-live (the package the design card names)? It hashes and inserts one Python object at a time,
two orders of magnitude slower on this workload than the build-speed goal allows (the figures, measured by
``benchmarks/speed/bench_index.py``, are in ``docs/performance.md``). Its file format is also not
memory-mappable.

Example:
    >>> import numpy as np
    >>> keys = np.arange(1, 1001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    >>> bf = BloomFilter.for_capacity(len(keys), fp=1e-4, seed=7)
    >>> bf.add(keys)
    >>> bool(bf.contains(keys).all())
    True
    >>> other = np.arange(5000, 6000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    >>> int(bf.contains(other).sum()) < 5
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BloomFilter", "optimal_parameters"]

_M32 = np.uint64(0xFFFFFFFF)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_PARTITION_BITS = 1 << 18  # target bits per partition: keeps a partition's working set in cache
_CHUNK = 1 << 16
_GROUP_BITS = 1 << 22  # bits of the partitions updated together by add()
_PARTITION_BY = ("mix", "key")


def optimal_parameters(n: int, fp: float) -> tuple[int, int]:
    """Bits and hash count of a Bloom filter for ``n`` keys at false-positive rate ``fp``.

    Args:
        n: Number of distinct keys (at least 1 is assumed).
        fp: Target false-positive rate, in (0, 1).

    Returns:
        ``(m, k)``: total bits and number of hash functions.

    Raises:
        ValueError: If ``fp`` is not in (0, 1).

    Example:
        >>> optimal_parameters(1000, 1e-6)
        (28756, 20)
    """
    if not (0.0 < fp < 1.0):
        raise ValueError(f"false-positive rate must be in (0, 1), got {fp!r}")
    n = max(1, int(n))
    bits_per_key = -math.log(fp) / (math.log(2) ** 2)
    m = int(math.ceil(n * bits_per_key))
    k = max(1, int(round(bits_per_key * math.log(2))))
    return m, k


def fmix64(keys: np.ndarray, seed: int = 0) -> np.ndarray:
    """murmur3's 64-bit finalizer of ``keys ^ seed``: a bijection of uint64 that spreads every input bit."""
    with np.errstate(over="ignore"):  # modular arithmetic, meant to wrap (numpy warns only on scalars)
        x = keys ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
        x = x ^ (x >> np.uint64(33))
        x *= _MIX1
        x ^= x >> np.uint64(33)
        x *= _MIX2
        x ^= x >> np.uint64(33)
    return x


def _hash_pair(mixed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Double hashing seeds: bit ``i`` of a key is the top bits of ``a + i*b`` (32-bit, ``b`` odd). The
    partition uses the top 32 bits of the mix; ``a`` and ``b`` come from a second mix of it."""
    y = mixed * _MIX1
    y ^= y >> np.uint64(31)
    return (y & _M32).astype(np.uint32), ((y >> np.uint64(32)).astype(np.uint32) | np.uint32(1))


@dataclass
class BloomFilter:
    """A partitioned Bloom filter over ``uint64`` keys.

    Attributes:
        n_partitions: Number of partitions; the top 32 bits of the key's mix choose one.
        partition_bits: Bits per partition (``m``, a power of two).
        n_hashes: Bits set per key (``k``).
        seed: Hash seed (filters with different seeds cannot be combined).
        bits: ``uint8`` array, ``n_partitions * stride`` bytes, little-endian bit order; may be a read-only
            memory map.
        n_keys: Keys added (as counted by the caller; an estimate after :meth:`union`).
        partition_by: ``"mix"``: the partition comes from a mix of the key (any keys); ``"key"``: from the
            key's own top 32 bits, for keys that are already uniform (hashes). Then keys sorted by value are
            grouped by partition as they come, and :meth:`add` skips grouping them (about half the cost of
            adding unsorted keys).
    """

    n_partitions: int
    partition_bits: int
    n_hashes: int
    seed: int
    bits: np.ndarray
    n_keys: int = 0
    partition_by: str = "mix"

    # -- construction ---------------------------------------------------------------------------------

    @classmethod
    def for_capacity(cls, n: int, fp: float = 1e-6, seed: int = 0, partition_by: str = "mix") -> BloomFilter:
        """An empty filter sized for ``n`` distinct keys at false-positive rate ``fp``.

        Args:
            n: Distinct keys the filter will hold.
            fp: Target false-positive rate per lookup.
            seed: Hash seed.
            partition_by: ``"mix"`` (any keys) or ``"key"`` (uniform keys only: see the class docstring).
        """
        if partition_by not in _PARTITION_BY:
            raise ValueError(f"partition_by must be one of {_PARTITION_BY}, got {partition_by!r}")
        m, k = optimal_parameters(n, fp)
        m = int(m * 1.02)  # partitions hold unequal shares of the keys: 2 % more bits keeps the mean rate <= fp
        mp = min(_PARTITION_BITS, 1 << max(6, (m - 1).bit_length()))
        p = max(1, -(-m // mp))
        bf = cls(p, mp, k, int(seed), np.zeros(0, dtype=np.uint8), partition_by=partition_by)
        bf.bits = np.zeros(p * bf.stride, dtype=np.uint8)
        return bf

    @classmethod
    def from_params(cls, params: dict[str, Any], bits: np.ndarray) -> BloomFilter:
        """Rebuild from :meth:`params` and a bit buffer (e.g. a memory map)."""
        bf = cls(int(params["n_partitions"]), int(params["partition_bits"]), int(params["n_hashes"]),
                 int(params["seed"]), bits, int(params.get("n_keys", 0)),
                 str(params.get("partition_by", "mix")))
        if bf.partition_by not in _PARTITION_BY:
            raise ValueError(f"unknown Bloom filter partitioning {bf.partition_by!r}")
        if len(bits) != bf.n_partitions * bf.stride:
            raise ValueError(f"Bloom filter bits have {len(bits)} bytes, expected {bf.n_partitions * bf.stride}")
        return bf

    def params(self) -> dict[str, Any]:
        """The parameters that define the filter (everything but the bits)."""
        return {"kind": "partitioned-bloom", "n_partitions": self.n_partitions,
                "partition_bits": self.partition_bits, "n_hashes": self.n_hashes, "seed": self.seed,
                "n_keys": self.n_keys, "partition_by": self.partition_by,
                "hash": "murmur3 fmix64 of key^seed; partition = top32(mix, or key if partition_by=key)"
                        "*P>>32; bits: double hashing a+i*b (32-bit), top bits"}

    @property
    def stride(self) -> int:
        """Bytes per partition (bits rounded up to whole 64-bit words)."""
        return (self.partition_bits + 63) // 64 * 8

    @property
    def _shift(self) -> np.uint32:
        return np.uint32(32 - int(math.log2(self.partition_bits)))

    def _partition(self, keys: np.ndarray, mixed: np.ndarray) -> np.ndarray:
        """Partition of each key: multiply-shift of the top 32 bits of its mix (or of the key itself when
        ``partition_by == "key"``: monotone in the key)."""
        if self.n_partitions == 1:
            return np.zeros(len(mixed), dtype=np.int64)
        src = keys if self.partition_by == "key" else mixed
        return (((src >> np.uint64(32)) * np.uint64(self.n_partitions)) >> np.uint64(32)).astype(np.int64)

    # -- operations -----------------------------------------------------------------------------------

    def add(self, keys: np.ndarray) -> None:
        """Add ``uint64`` keys (any order; duplicates are harmless)."""
        if not self.bits.flags.writeable:
            raise ValueError("this Bloom filter is read-only (memory-mapped); copy it first")
        keys = np.asarray(keys, dtype=np.uint64)
        mixed = fmix64(keys, self.seed)
        part = self._partition(keys, mixed)
        if len(part) > 1 and bool((part[1:] < part[:-1]).any()):
            # group by partition (a radix sort on 16-bit partition numbers); keys sorted by value and
            # partitioned by key arrive grouped already
            small = self.n_partitions <= (1 << 16)
            order = np.argsort(part.astype(np.uint16) if small else part, kind="stable")
            mixed, part = mixed[order], part[order]
        bounds = np.searchsorted(part, np.arange(self.n_partitions + 1), side="left")
        # Partitions are processed a group at a time, the group's bits unpacked to bytes (a few MB: in cache).
        group = max(1, _GROUP_BITS // (self.stride * 8))
        for g0 in range(0, self.n_partitions, group):
            g1 = min(self.n_partitions, g0 + group)
            a0, a1 = int(bounds[g0]), int(bounds[g1])
            if a1 == a0:
                continue
            view = self.bits[g0 * self.stride : g1 * self.stride]
            scratch = np.unpackbits(view, bitorder="little").view(bool)
            for s in range(a0, a1, _CHUNK):
                e = min(a1, s + _CHUNK)
                base = (part[s:e] - g0).astype(np.uint64) * np.uint64(self.stride * 8)
                self._set_bits(scratch, mixed[s:e], base)
            view[:] = np.packbits(scratch, bitorder="little")
        self.n_keys += len(mixed)

    def key_cuts(self, n: int) -> list[int]:
        """Where to cut sorted keys into at most ``n`` slices whose bits lie in disjoint bytes (a filter
        partitioned by key only): the smallest key of each slice after the first.

        Each slice is a run of whole groups of partitions, the unit :meth:`add` updates at once, so several
        processes can each add one slice into one shared bit array.

        Raises:
            ValueError: The filter is partitioned by a mix of the key (a slice of keys sets bits anywhere).
        """
        if self.partition_by != "key":
            raise ValueError("key_cuts needs a filter partitioned by key (partition_by='key')")
        group = max(1, _GROUP_BITS // (self.stride * 8))
        groups = -(-self.n_partitions // group)
        firsts = sorted({round(i * groups / n) * group for i in range(1, max(1, n))} - {0})
        # the smallest top-32-bit value whose partition ((top * P) >> 32) is p: ceil(p * 2**32 / P)
        return [(-(-(p << 32) // self.n_partitions)) << 32 for p in firsts if p < self.n_partitions]

    def _set_bits(self, scratch: np.ndarray, mixed: np.ndarray, base: np.ndarray) -> None:
        """Set the ``k`` bits of each mixed key in ``scratch`` (one bool per bit; ``base``: the first bit of
        each key's partition in it).

        The bits are those of :meth:`contains` (the top bits of ``a + i*b`` mod 2**32), computed as the top
        bits of ``(a << 32) + i*(b << 32)`` mod 2**64: 64-bit words that numpy can use as indices as they are
        (a ``uint32`` index array is converted on every scatter, which cost more than the scatter itself).
        """
        a, b = _hash_pair(mixed)
        acc = a.astype(np.uint64) << np.uint64(32)
        step = b.astype(np.uint64) << np.uint64(32)
        shift = np.uint64(64 - int(math.log2(self.partition_bits)))
        idx = np.empty(len(acc), dtype=np.uint64)
        as_index = idx.view(np.int64)  # the values are far below 2**63
        for _ in range(self.n_hashes):
            np.right_shift(acc, shift, out=idx)
            idx += base
            scratch[as_index] = True
            acc += step

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Membership of each key: True for every added key, and for a fraction ~ :meth:`fp_rate` of others."""
        keys = np.asarray(keys, dtype=np.uint64)
        out = np.ones(len(keys), dtype=bool)
        if len(keys) == 0:
            return out
        x = fmix64(keys, self.seed)
        base = self._partition(keys, x) * (self.stride * 8)
        a, b = _hash_pair(x)
        shift = self._shift
        for _ in range(self.n_hashes):
            pos = base + (a >> shift)
            out &= ((self.bits[pos >> 3] >> (pos & 7).astype(np.uint8)) & 1).astype(bool)
            a += b
        return out

    def union(self, other: BloomFilter) -> BloomFilter:
        """The bitwise OR of two filters with the same parameters (a filter of both key sets).

        Raises:
            ValueError: If sizes, hash counts or seeds differ (their bits would mean different keys).
        """
        mine = (self.n_partitions, self.partition_bits, self.n_hashes, self.seed)
        theirs = (other.n_partitions, other.partition_bits, other.n_hashes, other.seed)
        if mine != theirs or self.partition_by != other.partition_by:
            raise ValueError(f"cannot combine Bloom filters with different parameters "
                             f"(partitions, bits, hashes, seed, partitioning) {mine + (self.partition_by,)} "
                             f"and {theirs + (other.partition_by,)}")
        return BloomFilter(*mine, np.bitwise_or(self.bits, other.bits), self.n_keys + other.n_keys,
                           self.partition_by)

    def fp_rate(self) -> float:
        """Estimated false-positive rate of one lookup: the mean over partitions of ``fill ** k``."""
        if len(self.bits) == 0:
            return 0.0
        parts = np.asarray(self.bits).reshape(self.n_partitions, self.stride)
        if hasattr(np, "bitwise_count"):  # counted per 64-bit word: a temporary 8x smaller than the filter
            ones = np.bitwise_count(np.ascontiguousarray(parts).view(np.uint64)).sum(axis=1, dtype=np.int64)
        else:  # numpy < 2.0
            ones = np.array([int(np.unpackbits(p).sum()) for p in parts], dtype=np.int64)
        fill = ones / self.partition_bits
        return float(np.mean(fill ** self.n_hashes))

    @property
    def nbytes(self) -> int:
        """Size of the bits in bytes."""
        return int(len(self.bits))
