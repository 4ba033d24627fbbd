"""Streaming matcher: find every (probe, document) pair where the probe is a substring of the document.

This module owns the probes' byte form (:class:`ProbeGroup`), the result (:class:`MatchSet`), the key
tables and the scan with its verification (:class:`Matcher`). Which grams of each probe are looked up, and
how they are hashed, is :mod:`decontam.keys`.

Both sides are normalized UTF-8 bytes (a character substring of valid UTF-8 is a byte substring and back, since
UTF-8 is self-synchronizing), so the corpus is scanned as bytes with numpy.

How it stays fast and exact:

1. **Strided keys** (:mod:`decontam.keys`). A window (probe) of ``w`` bytes is keyed with ``k``-byte grams
   at ``s`` of its positions, one per residue modulo ``s`` (``k + s - 1 <= w``), so that looking at only every
   ``s``-th byte position of the corpus meets some key of every occurrence, at a known alignment. Probes of 31
   bytes or more (every sampled 50-character probe) use 16-byte keys every 16 bytes; shorter ones (whole short
   questions) use 8/4/2/1-byte keys every 8/4/2/1 bytes. For each residue a probe takes its rarest gram (in
   ``all`` mode, every other block of ``s`` bytes of its question).
2. **Scan.** At each scanned position the key's 64-bit multiplicative hash is computed from strided uint64
   views of the buffer (no per-character Python) and tested against a bitmap of key hashes; the few
   survivors pass a second bitmap, then a bucket index on the top hash bits (two gathers, not a binary
   search) gives the keys with an equal hash. 1- and 2-byte keys index a table of byte pairs directly.
3. **Verify.** Each surviving (position, key) is extended left and right by comparing bytes (a vectorized
   first pass over up to 64 bytes each way drops the pairs whose common run cannot hold a probe), inside the
   document's bounds; a probe is reported only if it lies wholly inside that verified common run. Hash
   collisions are thereby rejected, so the result is exact: no false negative, no false positive. Short
   questions used whole (at most 32 bytes: the short keys' many candidates) take a shortcut with the same
   result: the aligned words next to the key must hold the question's bytes, then the whole question is
   compared word by word.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .arrays import bounded_slices, concat_ranges, stable_argsort, words
from .keys import KEY_BYTES, gram_hashes, keys_by_class, plan_keys
from .utf8 import char_to_byte

# KEY_BYTES, gram_hashes and plan_keys are defined in decontam.keys; they stay importable from here.
__all__ = ["KEY_BYTES", "MatchSet", "Matcher", "ProbeGroup", "gram_hashes", "plan_keys", "scan_all"]

_PAD = b"\0" * (KEY_BYTES + 8)
_CHUNK = 1 << 16  # scanned positions per vector step: keeps temporaries in cache
# Candidate (position, key) pairs looked up and confirmed at once: bounds their memory whatever the corpus. A key
# that many questions share (templated questions, each with the same boilerplate) in a corpus that holds it often
# gives questions x occurrences pairs: 20,000 such questions and documents held 5.8 GB at once before. Slices run
# in position order, so the matches are those of one pass (``MatchSet`` is a union, and the first whole match of a
# question in a document is kept, as in one pass).
_MAX_PAIRS = 1 << 18
_REACH = 64  # bytes compared each way by the vectorized first check of a candidate
_FRONT = 8  # zero bytes before the data, so that the 8 bytes before any position can be read as one word
_ZEROS_FRONT = b"\0" * _FRONT


@dataclass
class ProbeGroup:
    """The probes of one item, in byte coordinates of its normalized question.

    Attributes:
        question: Normalized question, UTF-8.
        starts: Byte start of each probe window (increasing).
        ends: Byte end of each probe window.
    """

    question: bytes
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def from_chars(cls, normalized: str, offsets: Sequence[int], length: int) -> ProbeGroup:
        """Build from character offsets (as :class:`~decontam.sample.ItemProbes` gives them)."""
        q = normalized.encode("utf-8")
        offs = np.asarray(offsets, dtype=np.int64)
        if len(q) == len(normalized):
            return cls(q, offs, offs + length)
        to_byte = char_to_byte(normalized)
        return cls(q, to_byte[offs], to_byte[offs + length])


@dataclass
class MatchSet:
    """Verified matches of one scan, keyed by (document, group).

    Attributes:
        windows: ``(doc, group) -> set of probe indices`` found in that document.
        runs: ``(doc, group) -> longest verified common run``, as ``(start, end)`` bytes of the question.
        doc_runs: ``(doc, group) -> where that run lies in the document``, as ``(start, end)`` bytes of the
            normalized document (relative to the document's start): the evidence to show.
    """

    windows: dict[tuple[int, int], set[int]] = field(default_factory=lambda: defaultdict(set))
    runs: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    doc_runs: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    def docs(self) -> list[int]:
        """Documents with at least one match, sorted."""
        return sorted({d for d, _ in self.windows})


_BITS2 = 20
_WHOLE_BYTES = 32  # whole questions up to this long are confirmed by word compares (see Matcher._whole_runs)
_BYTE_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_INDEX_BITS = 22  # at most 4 M buckets (16 MB of int32): ``all`` mode has millions of keys
# Bitmaps of up to 2**20 entries (1 MB) are kept a byte per entry: the bit arithmetic of a packed one costs
# more than the larger gather.
_BYTE_BITS = 20
_THREE = np.uint64(3)
_SEVEN = np.uint64(7)
_SHIFT2 = np.uint64(12)
_MASK2 = np.uint64((1 << _BITS2) - 1)


@dataclass
class _KeyTable:
    """Keys of one length scanned at one stride: sorted hashes, their (group, position), bitmap prefilters."""

    length: int
    stride: int
    hashes: np.ndarray
    groups: np.ndarray
    positions: np.ndarray
    bitmap: np.ndarray
    shift: np.uint64
    bitmap2: np.ndarray
    index: np.ndarray
    index_shift: np.uint64

    @classmethod
    def build(cls, length: int, stride: int, hashes: np.ndarray, groups: np.ndarray,
              positions: np.ndarray) -> _KeyTable:
        """Sort the keys by hash (equal hashes in their given order) and fill the two bitmaps."""
        order = stable_argsort(hashes)
        hashes = np.take(hashes, order)
        # The random gathers are the slow part of the permutation: both columns in one, packed in 64 bits.
        if len(order) and int(positions.max()) < 1 << 32 and int(groups.max()) < 1 << 31:
            both = np.take((groups << 32) | positions, order)
            groups, positions = both >> 32, both & 0xFFFFFFFF
        else:
            groups, positions = np.take(groups, order), np.take(positions, order)
        # About 32 bits per key, at most 2**24 bits (2 MB, about the L2 cache: lookups in a larger bitmap,
        # or in one of a byte per entry, miss the cache and cost several times more).
        bits = int(min(24, max(10, int(np.ceil(np.log2(max(1, len(hashes)) * 32))))))
        shift = np.uint64(64 - bits)
        idx = (hashes >> shift).view(np.int64)
        if bits <= _BYTE_BITS:  # small: a byte per entry (in L1/L2), one gather and no bit arithmetic
            bitmap = np.zeros(1 << bits, dtype=bool)
            bitmap[idx] = True
        else:
            # Bit i of byte j is entry 8j + i, as :meth:`candidates` reads it. A byte per entry, then packed:
            # the 16 MB at most are transient, and one store per key is faster than OR-ing bits into place.
            entries = np.zeros(1 << bits, dtype=bool)
            entries[idx] = True
            bitmap = np.packbits(entries, bitorder="little")
        # Second stage, on the few positions that pass the first: other bits of the hash.
        bitmap2 = np.zeros(1 << _BITS2, dtype=bool)
        bitmap2[((hashes >> _SHIFT2) & _MASK2).view(np.int64)] = True
        # Bucket index on the top hash bits, about a key per bucket: the keys of bucket b are
        # hashes[index[b]:index[b + 1]]. A lookup is then two gathers, where np.searchsorted's binary search
        # takes a cache miss per step in the hundreds of thousands of keys of the sampled probes.
        ibits = int(min(_INDEX_BITS, max(1, int(np.ceil(np.log2(max(2, len(hashes))))))))
        index_shift = np.uint64(64 - ibits)
        index = np.zeros((1 << ibits) + 1, dtype=np.int64 if len(hashes) >= 1 << 31 else np.int32)
        np.cumsum(np.bincount((hashes >> index_shift).view(np.int64), minlength=1 << ibits), out=index[1:])
        return cls(length, stride, hashes, groups, positions, bitmap, shift, bitmap2, index, index_shift)

    def candidates(self, padded: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions (multiples of the stride) of ``padded[:n]`` whose gram passes the bitmap, and hashes."""
        last = n - self.length  # last position a key fits at
        if last < 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
        s = self.stride
        pos_parts: list[np.ndarray] = []
        hash_parts: list[np.ndarray] = []
        span = _CHUNK * s
        for start in range(0, last + 1, span):
            h = gram_hashes(padded, start, min(last + 1, start + span), self.length, s)
            idx = h >> self.shift
            # np.take rather than fancy indexing: faster here
            if self.bitmap.dtype == bool:
                cand = np.flatnonzero(np.take(self.bitmap, idx.view(np.int64)))
            else:
                cand = np.flatnonzero((np.take(self.bitmap, (idx >> _THREE).view(np.int64))
                                       >> (idx & _SEVEN).astype(np.uint8)) & np.uint8(1))
            if cand.size:
                pos_parts.append(cand * s + start)
                hash_parts.append(h[cand])
        if not pos_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
        return np.concatenate(pos_parts), np.concatenate(hash_parts)

    def lookup(self, pos: np.ndarray, hv: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Exact lookup: every (position, key index) pair whose key hash equals the position's hash, in
        position order, in slices of at most about :data:`_MAX_PAIRS` bucket entries
        (:func:`~decontam.arrays.bounded_slices`)."""
        keep = np.flatnonzero(self.bitmap2[((hv >> _SHIFT2) & _MASK2).view(np.int64)])
        pos, hv = pos[keep], hv[keep]
        bucket = (hv >> self.index_shift).view(np.int64)
        first_all = np.take(self.index, bucket).astype(np.int64)
        count_all = np.take(self.index, bucket + 1) - first_all
        for a, b in bounded_slices(count_all, _MAX_PAIRS):
            first, count = first_all[a:b], count_all[a:b]
            # One row per (position, key in its bucket), in position order, then key order; the equal hashes.
            pair = np.repeat(np.arange(a, b), count)
            key = concat_ranges(first, count)
            same = np.flatnonzero(np.take(self.hashes, key) == np.take(hv, pair))
            yield np.take(pos, np.take(pair, same)), np.take(key, same)


@dataclass
class _PairTable:
    """The tables of 1- and 2-byte keys at one stride, indexed by the two bytes at a position (no hashing).

    Attributes:
        tables: The key tables served.
        table: Whether a pair value is the start of some key (the scan's filter).
        start: The keys of pair value ``v`` are entries ``start[v]:start[v + 1]``.
        which: Table (index into ``tables``) of each entry.
        key: Key (index into its table's columns) of each entry.
    """

    tables: list[_KeyTable]
    table: np.ndarray
    start: np.ndarray
    which: np.ndarray
    key: np.ndarray

    @classmethod
    def build(cls, tables: list[_KeyTable], bases: np.ndarray, qbuf: np.ndarray) -> _PairTable:
        """Entries for every pair value a key starts: its two bytes, or its byte and any second byte."""
        values, which, keys = [], [], []
        for i, t in enumerate(tables):
            at = bases[t.groups] + t.positions
            first = qbuf[at].astype(np.int64)
            if t.length == 2:
                values.append(first | (qbuf[at + 1].astype(np.int64) << 8))
                keys.append(np.arange(len(at), dtype=np.int64))
            else:  # any second byte
                values.append((first[:, None] | (np.arange(256, dtype=np.int64) << 8)[None, :]).ravel())
                keys.append(np.repeat(np.arange(len(at), dtype=np.int64), 256))
            which.append(np.full(len(values[-1]), i, dtype=np.int8))
        value = np.concatenate(values)
        order = np.argsort(value, kind="stable")  # per value: table by table, keys in their order
        count = np.bincount(value, minlength=1 << 16)
        start = np.zeros((1 << 16) + 1, dtype=np.int64)
        np.cumsum(count, out=start[1:])
        return cls(tables, count > 0, start, np.concatenate(which)[order], np.concatenate(keys)[order])

    def lookup(self, pos: np.ndarray, pair: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Every (position, table, key) whose key starts the bytes ``pair`` read at ``pos``, by position, in
        slices of bounded size (:func:`~decontam.arrays.bounded_slices`).

        Exact, as the pair value is the key itself, and several times cheaper than hashing the candidates and
        searching the sorted hashes.
        """
        pair = pair.astype(np.int64)
        first_all = np.take(self.start, pair)
        count_all = np.take(self.start, pair + 1) - first_all
        for a, b in bounded_slices(count_all, _MAX_PAIRS):
            entry = concat_ranges(first_all[a:b], count_all[a:b])
            yield np.repeat(pos[a:b], count_all[a:b]), np.take(self.which, entry), np.take(self.key, entry)


class Matcher:
    """Find probes in normalized documents, exactly, in one pass whatever the number of probes.

    Args:
        groups: One :class:`ProbeGroup` per item (the group index is the item's position here).
        exhaustive: True when the groups hold every window of their question (``all`` mode): keys are then
            laid out to serve all windows with few keys, rather than chosen per window.

    Example:
        >>> from decontam.sample import sample_item
        >>> from decontam.config import SampleConfig
        >>> item = sample_item("demo", 0, "The quick brown fox jumps over the lazy dog", SampleConfig(length=20))
        >>> m = Matcher([ProbeGroup.from_chars(item.normalized, item.offsets, item.length)])
        >>> docs = [b"xxThequickbrownfoxjumpsoverthelazydogxx", b"nothing"]
        >>> data = b"".join(docs); offsets = np.array([0, len(docs[0]), len(data)])
        >>> sorted(m.scan(data, offsets).windows)
        [(0, 0)]
    """

    def __init__(self, groups: Sequence[ProbeGroup], exhaustive: bool = False) -> None:
        self.groups = list(groups)
        self.exhaustive = exhaustive
        n_groups = len(self.groups)
        questions = [g.question for g in self.groups]
        starts = [g.starts for g in self.groups]
        ends = [g.ends for g in self.groups]
        # All questions end to end, so that every gram of every question is hashed in one vector pass. One
        # join, padding included: joining, then adding the padding, would copy them twice more.
        lengths = np.fromiter(map(len, questions), dtype=np.int64, count=n_groups)
        self._bases = bases = np.zeros(n_groups + 1, dtype=np.int64)
        np.cumsum(lengths, out=bases[1:])
        self._qfull = np.frombuffer(b"".join([b"\0" * _FRONT, *questions, _PAD]), dtype=np.uint8)
        qbuf = self._qfull[_FRONT:]
        counts = np.fromiter(map(len, starts), dtype=np.int64, count=n_groups)
        win_group = np.repeat(np.arange(n_groups, dtype=np.int64), counts)
        if len(win_group):
            lo = np.concatenate(starts).astype(np.int64, copy=False)
            width = np.concatenate(ends).astype(np.int64, copy=False) - lo
        else:
            lo = width = np.zeros(0, dtype=np.int64)
        self._min_width = _narrowest(width, counts)
        # Groups whose narrowest window is the whole question (a short question used whole) and at most
        # _WHOLE_BYTES long: a candidate of theirs is kept only if the whole question lies there, which
        # :meth:`_confirm` tests with a few word compares rather than extending runs byte by byte.
        qlen = np.diff(bases)
        self._whole = (self._min_width == qlen) & (qlen <= _WHOLE_BYTES)
        self._whole_row, self._whole_words, self._whole_masks = _whole_question_words(self._qfull, bases,
                                                                                  self._whole)
        self.tables = _key_tables(bases, bases[win_group] + lo, width, qbuf, exhaustive)
        # Tables of whole short questions only: their candidates first pass the aligned words next to the key.
        self._near = {id(t): self._near_words(t) for t in self.tables
                      if t.stride in (2, 4, 8) and len(t.groups) and self._whole[t.groups].all()}
        # Tables of 1- and 2-byte keys at one stride share one pass over a 65536-entry table of byte pairs.
        self._direct: dict[int, _PairTable] = {}
        for stride in sorted({t.stride for t in self.tables if t.length <= 2}, reverse=True):
            self._direct[stride] = _PairTable.build(
                [t for t in self.tables if t.length <= 2 and t.stride == stride], self._bases, qbuf)

    def __getstate__(self) -> dict[str, Any]:
        """The matcher as a few large arrays, for another process to load (Ray's workers: :mod:`decontam.scan.ray`).

        The groups go as their windows end to end (their questions are ``_qfull``'s bytes already): pickled one
        by one, their tens of thousands of small arrays cost 0.2 s each way, the rest of the matcher 0.02 s. The
        near-word tables, keyed here by the key tables' ids, go in table order, and :meth:`__setstate__` keys them
        by the loaded tables' ids (this process's ids mean nothing there, or worse, another table).
        """
        state = self.__dict__.copy()
        groups: list[ProbeGroup] = state.pop("groups")
        count = np.fromiter((len(g.starts) for g in groups), dtype=np.int64, count=len(groups))
        state["groups"] = (count, np.concatenate([g.starts for g in groups] or [np.zeros(0, dtype=np.int64)]),
                           np.concatenate([g.ends for g in groups] or [np.zeros(0, dtype=np.int64)]))
        state["_near"] = [self._near.get(id(t)) for t in self.tables]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        count, starts, ends = state.pop("groups")
        near = state.pop("_near")
        self.__dict__.update(state)
        self._near = {id(t): w for t, w in zip(self.tables, near) if w is not None}
        at = np.zeros(len(count) + 1, dtype=np.int64)
        np.cumsum(count, out=at[1:])
        q, b, a = self._qfull, (self._bases + _FRONT).tolist(), at.tolist()
        self.groups = [ProbeGroup(q[b[i] : b[i + 1]].tobytes(), starts[a[i] : a[i + 1]], ends[a[i] : a[i + 1]])
                       for i in range(len(count))]

    @property
    def n_keys(self) -> int:
        """Number of (key, item) entries scanned for."""
        return sum(len(t.hashes) for t in self.tables)

    def scan(self, data: bytes, offsets: np.ndarray, matches: MatchSet | None = None) -> MatchSet:
        """Scan normalized documents laid end to end.

        Args:
            data: Normalized UTF-8 bytes of the documents, end to end.
            offsets: ``n + 1`` byte offsets of the documents in ``data`` (from
                :func:`~decontam.normalize.normalize_many`).
            matches: A :class:`MatchSet` to add to (document numbers are local to this batch).

        Returns:
            The verified matches, with document numbers ``0..n-1`` of this batch.
        """
        out = matches if matches is not None else MatchSet()
        n = len(data)
        if n == 0 or not self.tables:
            return out
        # One join: ``front + data + pad`` would copy the data twice.
        full = np.frombuffer(b"".join((_ZEROS_FRONT, data, _PAD)), dtype=np.uint8)
        offs = np.asarray(offsets, dtype=np.int64)
        padded = full[_FRONT:]
        for t in self.tables:
            if t.length <= 2:
                continue  # served by the pair tables below
            pos, hv = t.candidates(padded, n)
            for cpos, key in (t.lookup(pos, hv) if pos.size else ()):
                if cpos.size:
                    self._confirm(t, cpos, key, full, data, offs, out)
        for stride, direct in self._direct.items():
            # Keys of 1 or 2 bytes: the two bytes at each position index a table directly, no hashing.
            pairs = np.ndarray(shape=((n - 1) // stride + 1,), dtype="<u2", buffer=padded, strides=(stride,))
            at = np.concatenate([np.flatnonzero(np.take(direct.table, pairs[c : c + _CHUNK])) + c
                                 for c in range(0, len(pairs), _CHUNK)])
            for pos, which, key in direct.lookup(at * stride, np.take(pairs, at)):
                for i, t in enumerate(direct.tables):
                    sel = np.flatnonzero((which == i) & (pos <= n - t.length))
                    if sel.size:
                        self._confirm(t, np.take(pos, sel), np.take(key, sel), full, data, offs, out)
        return out

    def _near_words(self, t: _KeyTable) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """For a table of whole short questions: per aligned stride-sized word next to a key (before it, its
        own when the key is shorter than the stride, after it), the question's bytes there and their mask."""
        dtype = np.dtype(f"<u{t.stride}")
        qlen = self._bases[t.groups + 1] - self._bases[t.groups]
        out = []
        for d in (-1, 0, 1) if t.length < t.stride else (-1, 1):
            at = t.positions + d * t.stride  # question byte under the word's first byte
            mask = np.zeros(len(at), dtype=dtype)
            value = np.zeros(len(at), dtype=dtype)
            for b in range(t.stride):
                inside = (at + b >= 0) & (at + b < qlen)
                byte = self._qfull[np.where(inside, _FRONT + self._bases[t.groups] + at + b, 0)].astype(dtype)
                mask |= np.where(inside, dtype.type(0xFF), dtype.type(0)).astype(dtype) << dtype.type(8 * b)
                value |= np.where(inside, byte, dtype.type(0)).astype(dtype) << dtype.type(8 * b)
            if mask.any():
                out.append((d, value, mask))
        return out

    def _near_filter(self, t: _KeyTable, pos: np.ndarray, key: np.ndarray, full: np.ndarray) -> np.ndarray:
        """Indices of the candidates of a whole-question table whose aligned words around the key hold the
        question's bytes: a necessary condition (the whole question must lie there), at one aligned gather a
        word. On the real corpus it drops most candidates of the short keys (common grams such as "tion")
        before :meth:`_confirm`, whose unaligned gathers cost several times more than an aligned one.
        """
        aligned = np.frombuffer(full, dtype=f"<u{t.stride}", count=len(full) // t.stride)
        at = (pos + _FRONT) // t.stride  # _FRONT is a multiple of every stride: the word before always exists
        ok = np.ones(len(pos), dtype=bool)
        for d, value, mask in self._near[id(t)]:
            x = np.take(aligned, at + d)
            x &= np.take(mask, key)
            ok &= x == np.take(value, key)
        return np.flatnonzero(ok)

    def _confirm(self, t: _KeyTable, pos: np.ndarray, key: np.ndarray, full: np.ndarray, data: bytes,
                 offs: np.ndarray, out: MatchSet) -> None:
        """Drop the (position, key) pairs whose common run cannot hold a window; verify the others exactly."""
        if id(t) in self._near:
            near = self._near_filter(t, pos, key, full)
            if not near.size:
                return
            pos, key = np.take(pos, near), np.take(key, near)
        gi = t.groups[key]
        kpos = t.positions[key]
        qabs = self._bases[gi] + kpos
        qlen = self._bases[gi + 1] - self._bases[gi]
        doc = np.searchsorted(offs, pos, side="right") - 1
        ds, de = offs[doc], offs[doc + 1]
        whole_only = self._whole[gi]
        if whole_only.all():
            right, left = self._whole_runs(full, pos, ds, de, gi, qlen, kpos)
        else:
            right = _run_length(full, pos, self._qfull, qabs, np.minimum(de - pos, qlen - kpos), right=True)
            left = _run_length(full, pos, self._qfull, qabs, np.minimum(pos - ds, kpos), right=False)
            if whole_only.any():
                w = np.flatnonzero(whole_only)
                right[w], left[w] = self._whole_runs(full, pos[w], ds[w], de[w], gi[w], qlen[w], kpos[w])
        keep = (right > 0) & ((left + right >= self._min_width[gi]) | (right >= _REACH) | (left >= _REACH))
        # The whole question found (not merely reaching the cap): of such pairs, one per (document, question) is
        # enough, the one earliest in the document (a canonical choice: the same whatever the batching).
        whole = keep & (left == kpos) & (kpos < _REACH) & (right == qlen - kpos) & (qlen - kpos < _REACH)
        if whole.any():
            w = np.flatnonzero(whole)
            w = w[np.lexsort((pos[w] - kpos[w], doc[w] * len(self.groups) + gi[w]))]
            pair = doc[w] * len(self.groups) + gi[w]
            first = np.concatenate(([True], pair[1:] != pair[:-1]))
            keep[w] = False
            keep[w[first]] = True
        sel = np.flatnonzero(keep)
        for p, g, kp, d, a, b in zip(pos[sel].tolist(), gi[sel].tolist(), kpos[sel].tolist(), doc[sel].tolist(),
                                     ds[sel].tolist(), de[sel].tolist()):
            self._verify(data, p, d, a, b, g, kp, out)

    def _whole_runs(self, full: np.ndarray, pos: np.ndarray, ds: np.ndarray, de: np.ndarray, gi: np.ndarray,
                    qlen: np.ndarray, kpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_run_length` right and left of candidates of :attr:`_whole` groups, as far as
        :meth:`_confirm` needs them: ``qlen - kpos`` and ``kpos`` where the whole question lies around the key
        inside the document, else 0 and 0 (such a candidate is dropped whatever its partial run: the narrowest
        window of its group is the whole question, shorter than ``_REACH``).

        The short keys (1 to 8 bytes, in the many positions of strides 2 to 8) give most candidates, and their
        groups are all such short questions: up to 4 word compares each rather than the two
        :func:`_run_length` calls.
        """
        start = pos - kpos  # where the question would start in the data
        ok = (start >= ds) & (start + qlen <= de)
        row = np.take(self._whole_row, gi)
        tw = words(full)
        n_words = -(-int(qlen.max()) // 8)
        # Clipped reads stay in the buffer; they change only candidates that ``ok`` already rejects.
        at = np.clip(start, 0, len(tw) - 1 - _FRONT - 8 * (n_words - 1)) + _FRONT
        for j in range(n_words):
            x = tw[at]  # not np.take: it would copy the overlapping-word view whole first
            x &= np.take(self._whole_masks[j], row)
            x ^= np.take(self._whole_words[j], row)
            ok &= x == 0
            at += 8
        zero = np.zeros(len(pos), dtype=np.int64)
        return np.where(ok, qlen - kpos, zero), np.where(ok, kpos, zero)

    def _verify(
        self, data: bytes, pos: int, doc: int, ds: int, de: int, gi: int, kpos: int, out: MatchSet
    ) -> None:
        """Verify one candidate exactly (key ``kpos`` of group ``gi`` at ``pos`` of document ``doc``, which
        spans ``ds:de``); record in ``out`` the windows inside its common run, and the run if it is the best.
        """
        g = self.groups[gi]
        q = g.question
        key = (doc, gi)
        if out.runs.get(key) == (0, len(q)) and out.doc_runs[key][0] <= pos - kpos - ds:
            return  # the whole question is already found earlier in this document: nothing more to learn
        # Extend the aligned match right and left of the key, inside the document; a probe counts only if it
        # lies wholly inside the verified run, which also rejects hash collisions.
        r = _common_prefix(data, pos, q, kpos, min(len(q) - kpos, de - pos))
        if r == 0:
            return
        l = _common_suffix(data, pos, q, kpos, min(kpos, pos - ds))
        run_start, run_end = kpos - l, kpos + r
        # A byte run may end inside a character ("Ω" and "é" share their last byte): keep whole characters
        # (windows start and end on characters, so none is lost).
        while run_start < run_end and q[run_start] & 0xC0 == 0x80:
            run_start += 1
        while run_end > run_start and run_end < len(q) and q[run_end] & 0xC0 == 0x80:
            run_end -= 1
        l, r = kpos - run_start, run_end - kpos
        # bisect rather than np.searchsorted: on a few windows numpy's per-call overhead is most of the cost
        first = bisect_left(g.starts, run_start)
        last = bisect_left(g.starts, run_end, first)
        found = [i for i in range(first, last) if g.ends[i] <= run_end]
        if not found:
            return
        out.windows[key].update(found)
        # The longest run; among equally long ones the first in the question, then in the document: every
        # maximal run holding a window is verified whatever the batch boundaries, so the choice is canonical.
        prev = out.runs.get(key)
        doc_run = (pos - l - ds, pos + r - ds)
        if prev is None or (prev[0] - prev[1], prev[0], out.doc_runs[key][0]) > (
                run_start - run_end, run_start, doc_run[0]):
            out.runs[key] = (run_start, run_end)
            out.doc_runs[key] = doc_run


def _narrowest(width: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The narrowest window of each group (``counts[g]`` consecutive windows each; the int64 maximum for a
    group without windows): a candidate's common run must be at least that long.

    The windows are grouped by item, so one reduceat over each item's slice does it (np.minimum.at would go
    element by element).
    """
    out = np.full(len(counts), np.iinfo(np.int64).max, dtype=np.int64)
    has = counts > 0
    if has.any():
        out[has] = np.minimum.reduceat(width, (np.cumsum(counts) - counts)[has])
    return out


def _whole_question_words(qfull: np.ndarray, bases: np.ndarray,
                          whole_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The questions of the groups marked in ``whole_mask`` (at most ``_WHOLE_BYTES`` long) as 4 words each,
    for :meth:`Matcher._whole_runs`.

    Returns:
        The row of each group (-1 if unmarked); per word (4 rows), each marked question's bytes there, zero
        past its end; and the masks of the bytes that count.
    """
    whole = np.flatnonzero(whole_mask)
    row = np.full(len(whole_mask), -1, dtype=np.int64)
    row[whole] = np.arange(len(whole))
    qlen = np.diff(bases)
    word_at = bases[whole] + _FRONT + np.arange(0, _WHOLE_BYTES, 8)[:, None]
    masks = _BYTE_MASKS[np.clip(qlen[whole] - np.arange(0, _WHOLE_BYTES, 8)[:, None], 0, 8)]
    return row, words(qfull)[np.minimum(word_at, len(qfull) - 8)] & masks, masks


def _key_tables(bases: np.ndarray, lo: np.ndarray, width: np.ndarray, qbuf: np.ndarray,
                exhaustive: bool) -> list[_KeyTable]:
    """One :class:`_KeyTable` per (key length, stride) class of the windows, widest first.

    Args:
        bases: ``n + 1`` offsets of the questions in ``qbuf``.
        lo: Absolute byte start of each window in ``qbuf``.
        width: Byte width of each window.
        qbuf: All questions end to end, padded.
        exhaustive: True in ``all`` mode.
    """
    tables = []
    group_of = np.arange(len(bases) - 1, dtype=np.int64)
    for k, s, keys, hashes in keys_by_class(lo, width, qbuf, exhaustive):
        # The keys are increasing: count them per item (one search per item, not one per key).
        per_group = np.diff(np.searchsorted(keys, bases))
        key_group = np.repeat(group_of, per_group)
        tables.append(_KeyTable.build(k, s, hashes, key_group, keys - bases[key_group]))
    return tables


def _run_length(text: np.ndarray, tpos: np.ndarray, qbuf: np.ndarray, qpos: np.ndarray, limit: np.ndarray,
                right: bool) -> np.ndarray:
    """Length of the common run of ``text`` and ``qbuf`` from ``tpos``/``qpos``, going right (bytes from the
    positions on) or left (bytes before them), for many pairs at once, 8 bytes per step.

    Both buffers hold ``_FRONT`` zero bytes before their data and at least 8 after it; positions are relative
    to the data. The run is capped by ``limit`` and by ``_REACH`` (a run of ``_REACH`` means "at least").
    """
    out = np.minimum(limit, _REACH)
    tw = words(text)
    qw = words(qbuf)
    active = np.flatnonzero(out > 0)
    step = 0
    while active.size:
        if right:
            ti, qi = tpos[active] + (_FRONT + step), qpos[active] + (_FRONT + step)
        else:
            ti, qi = tpos[active] + (_FRONT - 8 - step), qpos[active] + (_FRONT - 8 - step)
        x = tw[np.minimum(ti, len(tw) - 1)] ^ qw[np.minimum(qi, len(qw) - 1)]
        if not right:
            x = x.byteswap()  # the byte next to the position first
        low = x & (~x + np.uint64(1))  # lowest set bit: in the first differing byte
        first_diff = (np.frexp(low.astype(np.float64))[1] - 1) // 8
        differs = x != 0
        run = np.where(differs, step + first_diff, step + 8)
        done = differs | (run >= out[active])
        out[active[done]] = np.minimum(run[done], out[active[done]])
        active = active[~done]
        step += 8
    return out


def _common_prefix(a: bytes, i: int, b: bytes, j: int, limit: int) -> int:
    """Length of the longest common prefix of ``a[i:]`` and ``b[j:]``, at most ``limit``."""
    if limit <= 0:
        return 0
    if a[i : i + limit] == b[j : j + limit]:
        return limit
    lo, hi = 0, limit  # a[i:i+lo] == b[j:j+lo], a[i:i+hi] != b[j:j+hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[i : i + mid] == b[j : j + mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: bytes, i: int, b: bytes, j: int, limit: int) -> int:
    """Length of the longest common suffix of ``a[:i]`` and ``b[:j]``, at most ``limit``."""
    if limit <= 0:
        return 0
    if a[i - limit : i] == b[j - limit : j]:
        return limit
    lo, hi = 0, limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[i - mid : i] == b[j - mid : j]:
            lo = mid
        else:
            hi = mid
    return lo


def scan_all(matcher: Matcher, batches: Iterable[tuple[bytes, np.ndarray]]) -> list[MatchSet]:
    """Scan several normalized batches; one :class:`MatchSet` per batch (convenience for tests)."""
    return [matcher.scan(d, o) for d, o in batches]
