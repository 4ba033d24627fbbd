"""Streaming matcher: find every (probe, document) pair where the probe is a substring of the document.

Both sides are normalized UTF-8 bytes (a character substring of valid UTF-8 is a byte substring and back, since
UTF-8 is self-synchronizing), so the corpus is scanned as bytes with numpy.

How it stays fast and exact:

1. **Keys.** Every probe of ``K`` (16) or more bytes gets one *key*: a 16-byte piece of it, chosen to be rare
   among all probes (in ``all`` mode the fewest keys that cover every window: a point-stabbing of the
   windows). A probe occurs in a document only if its key does, at the same alignment, so scanning for keys
   loses nothing.
2. **Scan.** For every byte position of a normalized batch, a 64-bit multiplicative hash of the 16 bytes
   starting there is computed with two unaligned ``uint64`` views of the buffer (no per-character Python),
   then tested against a bitmap of key hashes (one gather); the few survivors are looked up exactly in the
   sorted key hashes. Cost per corpus byte is a handful of vector operations, independent of the number of
   probes.
3. **Verify.** Each surviving (position, key) is extended left and right by comparing bytes, inside the
   document's bounds; a probe is reported only if it lies wholly inside that verified common run. Hash
   collisions are thereby rejected, so the result is exact: no false negative, no false positive.

Probes shorter than ``K`` bytes (questions that normalize to under 16 bytes, used whole) are scanned by exact
length, one pass per distinct length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["KEY_BYTES", "MatchSet", "Matcher", "ProbeGroup", "gram_hashes"]

KEY_BYTES = 16
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xC2B2AE3D27D4EB4F)
_PAD = b"\0" * (KEY_BYTES + 8)
_CHUNK = 1 << 17  # positions hashed per vector step: keeps temporaries in cache


def _words(buf: np.ndarray) -> np.ndarray:
    """Unaligned little-endian uint64 view: element ``i`` is ``buf[i:i+8]``. ``buf`` must be padded."""
    return np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))


def _masks(length: int) -> tuple[np.uint64, np.uint64]:
    lo = min(length, 8)
    hi = max(0, min(length, 16) - 8)
    m0 = np.uint64((1 << (8 * lo)) - 1) if lo < 8 else np.uint64(0xFFFFFFFFFFFFFFFF)
    m1 = np.uint64((1 << (8 * hi)) - 1) if hi < 8 else np.uint64(0xFFFFFFFFFFFFFFFF)
    return m0, m1


def gram_hashes(padded: np.ndarray, start: int, stop: int, length: int = KEY_BYTES) -> np.ndarray:
    """Hash the ``length``-byte grams (``length <= 16``) starting at positions ``start..stop-1``.

    Args:
        padded: ``uint8`` buffer with at least 24 bytes of zero padding after the data.
        start: First position.
        stop: One past the last position.
        length: Gram length in bytes, 1..16.

    Returns:
        ``uint64`` hashes; equal grams give equal hashes.
    """
    words = _words(padded)
    a = words[start:stop]
    if length <= 8:
        if length < 8:
            a = a & _masks(length)[0]
        return a * _C1
    b = words[start + 8 : stop + 8]
    if length < KEY_BYTES:
        b = b & _masks(length)[1]
    out = a * _C1
    out += b * _C2
    return out


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
        char_to_byte = np.zeros(len(normalized) + 1, dtype=np.int64)
        np.cumsum([len(c.encode("utf-8")) for c in normalized], out=char_to_byte[1:])
        return cls(q, char_to_byte[offs], char_to_byte[offs + length])


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
_SHIFT2 = np.uint64(12)
_MASK2 = np.uint64((1 << _BITS2) - 1)
_CLASSES = (16, 8, 4, 2, 1)  # key lengths: a window of w bytes is keyed by its class max{c <= w}


@dataclass
class _KeyTable:
    """Keys of one length: sorted hashes, their (group, position), and a bitmap prefilter."""

    length: int
    hashes: np.ndarray
    groups: np.ndarray
    positions: np.ndarray
    bitmap: np.ndarray
    shift: np.uint64
    bitmap2: np.ndarray

    @classmethod
    def build(cls, length: int, hashes: list[np.ndarray], groups: list[np.ndarray],
              positions: list[np.ndarray]) -> _KeyTable:
        h = np.concatenate(hashes)
        order = np.argsort(h, kind="stable")
        # A bitmap of at most 2**22 bytes stays in cache (measured: 3 ns/position at 2**22, 10 ns at 2**23).
        bits = int(min(22, max(12, int(np.ceil(np.log2(max(1, len(h)) * 64))))))
        shift = np.uint64(64 - bits)
        bitmap = np.zeros(1 << bits, dtype=bool)
        bitmap[(h >> shift).view(np.int64)] = True
        # Second stage, on the ~1% of positions that pass the first: other bits of the hash.
        bitmap2 = np.zeros(1 << _BITS2, dtype=bool)
        bitmap2[((h >> _SHIFT2) & _MASK2).view(np.int64)] = True
        return cls(length, h[order], np.concatenate(groups)[order], np.concatenate(positions)[order],
                   bitmap, shift, bitmap2)

    def lookup(self, h: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact lookup of candidate hashes ``h[cand]``: returns (candidate positions, first key index)."""
        hv = h[cand]
        keep = self.bitmap2[((hv >> _SHIFT2) & _MASK2).view(np.int64)]
        cand, hv = cand[keep], hv[keep]
        first = np.searchsorted(self.hashes, hv, side="left")
        np.minimum(first, len(self.hashes) - 1, out=first)
        hit = self.hashes[first] == hv
        return cand[hit], first[hit]


class Matcher:
    """Find probes in normalized documents, exactly, in one pass whatever the number of probes.

    Args:
        groups: One :class:`ProbeGroup` per item (the group index is the item's position here).
        exhaustive: True when the groups hold every window of their question (``all`` mode): keys are then
            chosen to cover all windows with as few keys as possible.

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
        # All questions end to end, so that every gram of every question is hashed in one vector pass.
        lengths = np.array([len(g.question) for g in self.groups], dtype=np.int64)
        bases = np.zeros(len(self.groups) + 1, dtype=np.int64)
        np.cumsum(lengths, out=bases[1:])
        qbuf = np.frombuffer(b"".join(g.question for g in self.groups) + _PAD, dtype=np.uint8)
        counts = np.array([len(g.starts) for g in self.groups], dtype=np.int64)
        win_group = np.repeat(np.arange(len(self.groups), dtype=np.int64), counts)
        if len(win_group):
            lo = np.concatenate([g.starts for g in self.groups]).astype(np.int64)
            width = np.concatenate([g.ends for g in self.groups]).astype(np.int64) - lo
        else:
            lo = width = np.zeros(0, dtype=np.int64)
        classes = np.select([width >= c for c in _CLASSES], _CLASSES, default=0)
        self.tables: list[_KeyTable] = []
        for c in _CLASSES:
            sel = np.flatnonzero(classes == c)
            if len(sel) == 0:
                continue
            g = win_group[sel]
            alo = bases[g] + lo[sel]  # absolute first and last key start of each window
            ahi = alo + width[sel] - c
            hashes = gram_hashes(qbuf, 0, len(qbuf) - 24, c)
            keys = _stab(alo, ahi) if exhaustive else _rarest(alo, ahi, hashes)
            key_group = np.searchsorted(bases, keys, side="right") - 1
            self.tables.append(_KeyTable.build(c, [hashes[keys]], [key_group], [keys - bases[key_group]]))
        # Keys shorter than 16 bytes (rare: short questions used whole) share one prefilter on the first two
        # bytes, so they cost one extra cheap pass in all, not one pass per key length.
        self._long = [t for t in self.tables if t.length == KEY_BYTES]
        self._short = [t for t in self.tables if t.length < KEY_BYTES]
        self._prefix2 = np.zeros(1 << 16, dtype=bool)
        for t in self._short:
            for gi, kp in zip(t.groups.tolist(), t.positions.tolist()):
                key = self.groups[gi].question[kp : kp + t.length]
                if len(key) == 1:
                    self._prefix2[key[0] + 256 * np.arange(256)] = True
                else:
                    self._prefix2[key[0] | (key[1] << 8)] = True

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
        if n == 0:
            return out
        padded = np.frombuffer(data + _PAD, dtype=np.uint8)
        offs = np.asarray(offsets, dtype=np.int64)
        for t in self._long:
            last = n - t.length + 1
            for start in range(0, last, _CHUNK):
                stop = min(last, start + _CHUNK)
                h = gram_hashes(padded, start, stop, t.length)
                cand = np.flatnonzero(t.bitmap[(h >> t.shift).view(np.int64)])
                if cand.size:
                    self._hits(t, h, cand, start, data, offs, out)
        if self._short:
            pairs = np.ndarray(shape=(n,), dtype="<u2", buffer=padded, strides=(1,))
            words = _words(padded)
            for start in range(0, n, _CHUNK):
                stop = min(n, start + _CHUNK)
                cand = np.flatnonzero(self._prefix2[pairs[start:stop]])
                if cand.size == 0:
                    continue
                for t in self._short:
                    w = words[cand + start]
                    if t.length < 8:
                        w = w & _masks(t.length)[0]
                    h = w * _C1
                    sub = np.flatnonzero(t.bitmap[(h >> t.shift).view(np.int64)])
                    if sub.size:
                        self._hits(t, h, sub, 0, data, offs, out, cand + start)
        return out

    def _hits(
        self,
        t: _KeyTable,
        h: np.ndarray,
        cand: np.ndarray,
        start: int,
        data: bytes,
        offs: np.ndarray,
        out: MatchSet,
        positions: np.ndarray | None = None,
    ) -> None:
        """Look candidates up exactly and verify every (position, key) pair that survives."""
        cand, first = t.lookup(h, cand)
        if cand.size == 0:
            return
        at = (cand + start) if positions is None else positions[cand]
        docs = np.searchsorted(offs, at, side="right") - 1
        n_keys = len(t.hashes)
        for pos, k, doc, ds, de in zip(at.tolist(), first.tolist(), docs.tolist(), offs[docs].tolist(),
                                       offs[docs + 1].tolist()):
            hv = t.hashes[k]
            while k < n_keys and t.hashes[k] == hv:
                self._verify(data, pos, doc, ds, de, int(t.groups[k]), int(t.positions[k]), out)
                k += 1

    def _verify(
        self, data: bytes, pos: int, doc: int, ds: int, de: int, gi: int, kpos: int, out: MatchSet
    ) -> None:
        g = self.groups[gi]
        q = g.question
        key = (doc, gi)
        if out.runs.get(key) == (0, len(q)):
            return  # the whole question is already found in this document: nothing more to learn
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
        first = int(np.searchsorted(g.starts, run_start, side="left"))
        last = int(np.searchsorted(g.starts, run_end, side="left"))
        found = [i for i in range(first, last) if g.ends[i] <= run_end]
        if not found:
            return
        out.windows[key].update(found)
        prev = out.runs.get(key)
        if prev is None or run_end - run_start > prev[1] - prev[0]:
            out.runs[key] = (run_start, run_end)
            out.doc_runs[key] = (pos - l - ds, pos + r - ds)


def _stab(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Fewest points such that every interval ``[lo[i], hi[i]]`` holds one (greedy by right end).

    Intervals come sorted by ``lo``; when ``hi`` is sorted too (windows of one length, in order) each point is
    found with one binary search, so the loop runs once per key, not once per window.
    """
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64)
    if not bool(np.all(np.diff(hi) >= 0)) or not bool(np.all(np.diff(lo) >= 0)):
        order = np.argsort(hi, kind="stable")
        points: list[int] = []
        last = -1
        for s, h in zip(lo[order].tolist(), hi[order].tolist()):
            if last < s:
                last = h
                points.append(h)
        return np.unique(np.array(points, dtype=np.int64))
    points = []
    i, n = 0, len(lo)
    while i < n:
        point = int(hi[i])
        points.append(point)
        i = int(np.searchsorted(lo, point, side="right"))
    return np.array(points, dtype=np.int64)


def _rarest(lo: np.ndarray, hi: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """In each window ``[lo, hi]`` (absolute key starts), the position of the gram found least often among
    all windows' grams: rare among the probes, hence usually rare in the corpus, so fewer candidates."""
    span = int((hi - lo).max()) + 1
    idx = lo[:, None] + np.arange(span, dtype=np.int64)[None, :]
    valid = idx <= hi[:, None]
    idx = np.where(valid, idx, lo[:, None])
    mark = np.zeros(len(hashes), dtype=bool)
    mark[idx[valid]] = True
    covered = np.flatnonzero(mark)
    # Frequency of each covered position's gram, by one sort (numpy's hash-based unique is slower here).
    h = hashes[covered]
    order = np.argsort(h, kind="stable")
    hs = h[order]
    run_start = np.flatnonzero(np.concatenate(([True], hs[1:] != hs[:-1])))
    run_len = np.diff(np.append(run_start, len(hs)))
    freq = np.empty(len(hs), dtype=np.int64)
    freq[order] = np.repeat(run_len, run_len)
    pos_cost = np.zeros(len(hashes), dtype=np.int64)
    pos_cost[covered] = freq
    cost = pos_cost[idx]
    cost[~valid] = np.iinfo(np.int64).max
    best = idx[np.arange(len(lo)), np.argmin(cost, axis=1)]
    return np.unique(best)


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
