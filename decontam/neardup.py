"""The near-duplicate pass: benchmark questions found in training documents after edits (words swapped,
numbers changed), which the exact rule cannot see. Opt-in (``near_dup=True``, ``--near-dup``), reported apart.

A question and a document are compared as sets of shingles (:mod:`decontam.minhash`: 8-byte substrings of the
normalized text, ASCII case folded). The *containment* of a question in a stretch of a document is the share of
the question's distinct shingles found in it. The pass works in two stages, per batch of normalized documents:

1. **Estimate** (every byte of the corpus, vectorized). Each question's datasketch MinHash names, per
   permutation, one representative shingle (:func:`decontam.minhash.representatives`). The 32-bit hash of
   every shingle of the batch is computed with numpy and looked up among the representatives of all questions
   (a bitmap, then a sorted table). For each (document, question) the share of the question's permutations
   whose representative occurs in the document bounds from above the share in any stretch of it; pairs whose
   share reaches ``threshold - CANDIDATE_SLACK`` are looked at closer: the same share within the best window of
   ``WINDOW`` times the question's length is the *estimated containment* (an estimate: its standard error with
   64 permutations is about 0.06).
2. **Measure** (the few candidates). Around the estimate's best window, the document's shingles are compared
   with all of the question's, exactly: the best window's containment is *measured*, and a pair is a near
   match when it reaches ``threshold``. Its span (first to last shared shingle) is the evidence.

The estimate decides only which pairs are measured: a near copy whose estimate falls more than
``CANDIDATE_SLACK`` under the threshold is missed (the search is an estimate); a reported figure is measured.
Every step looks at one document at a time, so the result does not depend on how documents are batched or on
the number of processes.

Example:
    >>> q = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."
    >>> from decontam.normalize import normalize
    >>> index = NearDupIndex([(0, 0, normalize(q))], threshold=0.5)
    >>> doc = normalize("notes: Natalia sold clips to 52 of her friends in June, and then she sold half as many "
    ...                 "clips in May. end").encode()
    >>> [(f.doc, f.group, f.containment >= 0.5) for f in index.find(doc, np.array([0, len(doc)]))]
    [(0, 0, True)]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrays import concat_ranges, stable_argsort, words
from .config import NEAR_DUP_THRESHOLD
from .markup import md_text
from .minhash import (
    MINHASH_SEED,
    NUM_PERM,
    SHINGLE_BYTES,
    datasketch_permutations,
    fold_case,
    representatives,
    shingle_hash,
    shingles,
    signatures,
)

__all__ = [
    "CANDIDATE_SLACK",
    "COMMON_MAX",
    "COMMON_MIN",
    "COMMON_SHARE",
    "DEFAULT_THRESHOLD",
    "MIN_SHINGLES",
    "NOTE",
    "WINDOW",
    "NearDupIndex",
    "NearFound",
    "best_window",
    "near_dup_section",
]

DEFAULT_THRESHOLD = NEAR_DUP_THRESHOLD  # measured containment a near match needs (docs/method.md: how chosen)
MIN_SHINGLES = 40  # questions with fewer distinctive shingles are left to the exact rule
# A shingle in more of a benchmark's questions than COMMON_SHARE of them, kept between COMMON_MIN and COMMON_MAX,
# is that benchmark's boilerplate (see distinctive_shingles; docs/method.md has the measurements).
COMMON_SHARE = 0.01
COMMON_MIN = 4
COMMON_MAX = 16
WINDOW = 1.25  # a window of the document is this many times the question's normalized length
CANDIDATE_SLACK = 0.2  # pairs whose estimate is this far under the threshold are still measured
_CHUNK = 1 << 16  # positions hashed per vector step (temporaries stay in the L2 cache)
_BYTE_BITS = 20  # bitmaps up to 2**20 entries are kept a byte per entry (one gather, no bit arithmetic)
_SHIFT32 = np.uint64(32)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class NearFound:
    """A question found near-duplicated in a document of a batch.

    Attributes:
        doc: The document's index in the batch.
        group: The question's group (its index in the matcher's groups).
        containment: Measured: the share of the question's distinct shingles in the best window.
        estimate: The MinHash estimate of that share that made the pair a candidate.
        span: The best window's first to last shared shingle, as ``(start, end)`` bytes of the normalized
            document (relative to its start, on character boundaries).
    """

    doc: int
    group: int
    containment: float
    estimate: float
    span: tuple[int, int]


def best_window(pos: np.ndarray, ids: np.ndarray, weights: np.ndarray, reach: int) -> tuple[float, int, int]:
    """The window ``[pos[j], pos[j] + reach]`` (over hits sorted by position) holding the most weight of
    distinct ids; ties go to the earliest.

    Args:
        pos: Hit positions, increasing (equal positions allowed).
        ids: The id of each hit: a window counts each id once.
        weights: The weight of each hit's id (equal for equal ids).
        reach: How far after its first hit a window reaches (inclusive).

    Returns:
        ``(weight, first hit, last hit)`` of the best window: its distinct weight and the positions of its first
        and last hits.

    Example:
        >>> best_window(np.array([0, 3, 5, 40, 41]), np.array([1, 2, 1, 3, 4]), np.ones(5), 10)
        (2.0, 0, 5)
    """
    h = len(pos)
    if h == 0:
        return 0.0, 0, 0
    order = np.lexsort((np.arange(h), ids))
    prev = np.full(h, -1, dtype=np.int64)  # the previous hit of the same id
    same = ids[order[1:]] == ids[order[:-1]]
    prev[order[1:][same]] = order[:-1][same]
    # Hit i counts in the windows starting at hits j <= i that reach it (pos[j] >= pos[i] - reach) and do not
    # hold its id's previous hit (j > prev[i]): a range of j, added up with a difference array (O(h log h)).
    i = np.arange(h)
    lo = np.maximum(np.searchsorted(pos, pos - reach, side="left"), prev + 1)
    ok = lo <= i
    w = np.asarray(weights, dtype=np.float64)[ok]
    totals = np.cumsum(np.bincount(lo[ok], w, minlength=h + 1) - np.bincount(i[ok] + 1, w, minlength=h + 1))[:h]
    j = int(np.argmax(totals))
    last = int(np.searchsorted(pos, pos[j] + reach, side="right")) - 1
    return float(totals[j]), int(pos[j]), int(pos[last])


def distinctive_shingles(questions: Sequence[bytes], benchmark: Sequence[int],
                         k: int = SHINGLE_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Each question's distinct shingles, sorted, less its benchmark's boilerplate: the shingles found in more
    than ``COMMON_SHARE`` of the benchmark's questions (at least ``COMMON_MIN``, at most ``COMMON_MAX`` of
    them), such as MMLU's "Which of the following" or MBPP's "Write a function to". They say little about which
    item a text copies, a document of the same kind holds them anyway, and in a corpus they are met everywhere
    (the pass then has many more candidates to weigh). Counted within the question's own benchmark, so that an
    item's figures do not depend on the other benchmarks of a run.

    Args:
        questions: Normalized questions (UTF-8).
        benchmark: Each question's benchmark (any integer label).
        k: Shingle length in bytes.

    Returns:
        ``(grams, bounds)``: question ``i``'s shingles are ``grams[bounds[i]:bounds[i + 1]]``, in the order of
        :func:`mixed` (sorted by it).

    Why this is long: one sort of every shingle of every question (millions for MMLU) serves the three steps
    (distinct per question, counts per benchmark, the kept ones back per question), each a few vector passes.
    """
    n = len(questions)
    lengths = np.fromiter(map(len, questions), dtype=np.int64, count=n)
    ends = np.cumsum(lengths)
    allg = shingles(b"".join(questions), k)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)[: len(allg)]
    valid = np.flatnonzero(np.arange(len(allg)) + k <= ends[owner])  # within its question
    grams, owner = allg[valid], owner[valid]
    # By shingle; within a shingle by question (a stable sort of positions that go question after question),
    # hence by benchmark too when the questions of a benchmark are consecutive (they are sorted first if not).
    # Sorted by the shingle times an odd constant (a bijection of 64-bit values, so equal shingles stay
    # together and no two differ; well mixed, which the two-pass sort is fast on).
    bench = np.asarray(benchmark, dtype=np.int64)
    mixed = grams * _GOLDEN
    if len(bench) > 1 and (np.diff(bench) < 0).any():
        order = np.lexsort((owner, bench[owner], mixed))
    else:
        order = stable_argsort(mixed)
    grams, owner = grams[order], owner[order]
    first = np.ones(len(grams), dtype=bool)
    first[1:] = (grams[1:] != grams[:-1]) | (owner[1:] != owner[:-1])
    grams, owner = grams[first], owner[first]  # distinct per question
    run = np.ones(len(grams), dtype=bool)  # a new (shingle, benchmark)
    run[1:] = (grams[1:] != grams[:-1]) | (bench[owner[1:]] != bench[owner[:-1]])
    starts = np.flatnonzero(run)
    counts = np.diff(np.append(starts, len(grams)))
    size = np.bincount(bench - bench.min(), minlength=1)[bench[owner] - bench.min()] if n else np.zeros(0)
    limit = np.minimum(COMMON_MAX, np.maximum(COMMON_MIN, COMMON_SHARE * size))
    kept = np.repeat(counts, counts) <= limit
    grams, owner = grams[kept], owner[kept]
    # Back to question after question (a radix sort when the question numbers fit 16 bits).
    order = np.argsort(owner.astype(np.uint16) if n <= 1 << 16 else owner, kind="stable")
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=bounds[1:])
    return grams[order], bounds


@dataclass
class _Hits:
    """A batch's hits grouped by (document, representative hash): each group's document, hash, and positions
    ``pos[first:first + count]`` (increasing)."""

    doc: np.ndarray
    key: np.ndarray
    first: np.ndarray
    count: np.ndarray
    pos: np.ndarray

    @classmethod
    def group(cls, doc: np.ndarray, key: np.ndarray, pos: np.ndarray, n_keys: int) -> _Hits:
        code = doc * n_keys + key
        order = np.argsort(code, kind="stable")  # positions stay increasing within a group
        code, pos = code[order], pos[order]
        first = np.flatnonzero(np.concatenate(([True], code[1:] != code[:-1])))
        count = np.diff(np.append(first, len(code)))
        return cls(code[first] // n_keys, code[first] % n_keys, first, count, pos)


def mixed(grams: np.ndarray) -> np.ndarray:
    """Shingles times an odd constant mod ``2**64``: a bijection (equal and distinct stay so) whose order is
    well mixed; the question's shingles are kept sorted by it."""
    return grams * _GOLDEN


def concat_ranges_of(values: np.ndarray, bounds: np.ndarray, which: Sequence[int]) -> np.ndarray:
    """``values[bounds[i]:bounds[i + 1]]`` for each ``i`` of ``which``, end to end."""
    at = np.asarray(which, dtype=np.int64)
    return values[concat_ranges(bounds[at], bounds[at + 1] - bounds[at])] if len(at) else values[:0]


class NearDupIndex:
    """The questions' shingles and MinHash representatives, and the two-stage search over normalized batches.

    Args:
        questions: ``(group, benchmark, normalized question)``; questions with fewer than ``MIN_SHINGLES``
            distinctive shingles are left out (:attr:`groups` lists those kept).
        threshold: The measured containment a near match needs.
        num_perm: MinHash permutations per question.
        seed: datasketch's seed for the permutations.
    """

    def __init__(self, questions: Sequence[tuple[int, int, str]], threshold: float = DEFAULT_THRESHOLD,
                 num_perm: int = NUM_PERM, seed: int = MINHASH_SEED) -> None:
        self.threshold = float(threshold)
        self.num_perm = num_perm
        self.seed = seed
        self.k = SHINGLE_BYTES
        encoded = [q.encode("utf-8") for _, _, q in questions]
        grams, bounds = distinctive_shingles(encoded, [b for _, b, _ in questions], self.k)
        sizes = np.diff(bounds)
        kept = np.flatnonzero(sizes >= MIN_SHINGLES).tolist()
        self.groups = np.array([questions[i][0] for i in kept], dtype=np.int64)
        self.bounds = np.zeros(len(kept) + 1, dtype=np.int64)  # question i's shingles: grams[bounds[i]:bounds[i + 1]]
        np.cumsum(sizes[kept], out=self.bounds[1:])
        self.grams = concat_ranges_of(grams, bounds, kept)
        self._mixed = mixed(self.grams)  # sorted within each question: what _measure searches
        # A window reaches this many bytes past its first shingle's start.
        self.reach = np.array([math.ceil(WINDOW * len(encoded[i])) - self.k for i in kept], dtype=np.int64)
        a, b = datasketch_permutations(num_perm, seed) if kept else (np.ones(num_perm, np.uint32),) * 2
        reps = representatives(signatures(shingle_hash(self.grams), self.bounds, a, b), a, b)
        self._build_table(reps)

    def _build_table(self, reps: np.ndarray) -> None:
        """The representatives' table: sorted distinct hashes, each with its (question, permutations) entries;
        and a bitmap over their top bits for the scan."""
        n = len(reps)
        flat = reps.ravel()
        owner = np.repeat(np.arange(n, dtype=np.int64), self.num_perm)
        order = np.lexsort((owner, flat))
        flat, owner = flat[order], owner[order]
        new = np.ones(len(flat), dtype=bool)
        new[1:] = (flat[1:] != flat[:-1]) | (owner[1:] != owner[:-1])
        starts = np.flatnonzero(new)
        self.entry_q = owner[starts]  # one entry per (representative, question)
        self.entry_w = np.diff(np.append(starts, len(flat))).astype(np.float64)  # its permutations
        entry_hash = flat[starts]
        first = np.ones(len(entry_hash), dtype=bool)
        first[1:] = entry_hash[1:] != entry_hash[:-1]
        self.keys = entry_hash[first]  # distinct representative hashes, sorted
        self.key_start = np.append(np.flatnonzero(first), len(entry_hash)).astype(np.int64)
        ibits = int(min(22, max(1, math.ceil(math.log2(max(2, len(self.keys)))))))  # about a key per bucket
        self._bucket_shift = np.uint32(32 - ibits)
        self._bucket = np.zeros((1 << ibits) + 1, dtype=np.int64)
        np.cumsum(np.bincount((self.keys >> self._bucket_shift).astype(np.intp), minlength=1 << ibits),
                  out=self._bucket[1:])
        bits = int(min(27, max(10, math.ceil(math.log2(max(1, len(self.keys)) * 32)))))
        self._shift = np.uint32(32 - bits)
        idx = (self.keys >> self._shift).astype(np.int64)
        if bits <= _BYTE_BITS:
            self._bitmap = np.zeros(1 << bits, dtype=bool)
            self._bitmap[idx] = True
            self._packed = False
        else:
            entries = np.zeros(1 << bits, dtype=bool)
            entries[idx] = True
            self._bitmap = np.packbits(entries, bitorder="little")
            self._packed = True

    def __len__(self) -> int:
        """The number of questions checked."""
        return len(self.groups)

    @property
    def bar(self) -> float:
        """The estimate a pair needs to be measured."""
        return max(0.0, self.threshold - CANDIDATE_SLACK)

    def find(self, normalized: bytes, offsets: np.ndarray) -> list[NearFound]:
        """The near matches in a batch of normalized documents laid end to end.

        Args:
            normalized: The documents' normalized UTF-8 bytes, end to end.
            offsets: ``n + 1`` byte offsets of the documents.

        Returns:
            Every (document, question) whose measured containment reaches the threshold, by document then group.
        """
        n = len(normalized)
        if not len(self.groups) or n < self.k:
            return []
        buf = np.zeros(n + 8, dtype=np.uint8)
        buf[:n] = fold_case(np.frombuffer(normalized, dtype=np.uint8))
        offs = np.asarray(offsets, dtype=np.int64)
        pos, key = self._hits(buf, n)
        if not len(pos):
            return []
        doc = np.searchsorted(offs, pos, side="right") - 1
        inside = pos + self.k <= offs[doc + 1]  # a shingle never spans two documents
        pos, key, doc = pos[inside], key[inside], doc[inside]
        hits = _Hits.group(doc, key, pos, len(self.keys))
        rows = self._candidate_rows(hits)
        if rows is None:
            return []
        out = []
        for d, qi, pos_q, entry in self._candidate_hits(hits, *rows):
            weight, start, _ = best_window(pos_q, entry, self.entry_w[entry], int(self.reach[qi]))
            estimate = weight / self.num_perm
            if estimate >= self.bar:
                found = self._measure(buf, normalized, int(offs[d]), int(offs[d + 1]), qi, start)
                if found is not None and found[0] >= self.threshold:
                    out.append(NearFound(d, int(self.groups[qi]), found[0], estimate, found[1]))
        return out

    def _hits(self, buf: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Every position of the batch whose shingle hash is a representative's, and that hash's index in
        :attr:`keys`."""
        grams = words(buf)
        last = n - self.k + 1
        mask = np.uint64((1 << (8 * self.k)) - 1)
        pos_parts, key_parts = [], []
        for c in range(0, last, _CHUNK):
            g = grams[c : min(c + _CHUNK, last)]
            h = ((g & mask if self.k < 8 else g) * _GOLDEN >> _SHIFT32).astype(np.uint32)
            idx = (h >> self._shift).astype(np.intp)
            if self._packed:
                sel = np.flatnonzero((np.take(self._bitmap, idx >> 3) >> (idx & 7).astype(np.uint8)) & 1)
            else:
                sel = np.flatnonzero(np.take(self._bitmap, idx))
            if sel.size:
                key = self._lookup(h[sel])
                ok = key >= 0
                pos_parts.append(sel[ok] + c)
                key_parts.append(key[ok])
        if not pos_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(pos_parts).astype(np.int64), np.concatenate(key_parts).astype(np.int64)

    def _lookup(self, hv: np.ndarray) -> np.ndarray:
        """The index in :attr:`keys` of each hash, or -1: the keys of a hash's top bits are a run of the
        sorted keys (the bucket index), compared in a few vector steps (a binary search over hundreds of
        thousands of keys costs a cache miss a step)."""
        b = (hv >> self._bucket_shift).astype(np.intp)
        lo = np.take(self._bucket, b)
        count = np.take(self._bucket, b + 1) - lo
        key = np.full(len(hv), -1, dtype=np.int64)
        active = np.flatnonzero(count > 0)
        j = 0
        while active.size:
            at = lo[active] + j
            eq = np.take(self.keys, at) == hv[active]
            key[active[eq]] = at[eq]
            j += 1
            active = active[~eq & (count[active] > j)]
        return key

    def _candidate_rows(self, hits: _Hits) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The (document, question) pairs whose estimate over the whole document reaches :attr:`bar` (each
        representative counted once per document), as rows ``(pair number, entry, distinct hit)``: one per
        representative of a candidate pair found in its document. None when there is no candidate."""
        count = self.key_start[hits.key + 1] - self.key_start[hits.key]
        entry = concat_ranges(self.key_start[hits.key], count)
        which = np.repeat(np.arange(len(hits.key)), count)  # the distinct hit of each row
        pair = hits.doc[which] * len(self.groups) + self.entry_q[entry]
        order = np.argsort(pair, kind="stable")
        pair, entry, which = pair[order], entry[order], which[order]
        starts = np.flatnonzero(np.concatenate(([True], pair[1:] != pair[:-1])))
        weight = np.add.reduceat(self.entry_w[entry], starts) if len(pair) else np.zeros(0)
        good = weight >= self.bar * self.num_perm - 1e-9
        if not good.any():
            return None
        ends = np.append(starts[1:], len(pair))
        rows = concat_ranges(starts[good], (ends - starts)[good])
        return pair[rows], entry[rows], which[rows]

    def _candidate_hits(self, hits: _Hits, pair: np.ndarray, entry: np.ndarray,
                        which: np.ndarray) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """Per candidate pair, in order: its document, its question, and the positions and entries of the
        question's representatives found in the document (by position)."""
        n_q = len(self.groups)
        count = hits.count[which]
        pos = hits.pos[concat_ranges(hits.first[which], count)]
        pair, entry = np.repeat(pair, count), np.repeat(entry, count)
        order = np.lexsort((pos, pair))
        pair, entry, pos = pair[order], entry[order], pos[order]
        cuts = np.flatnonzero(np.diff(pair)) + 1
        for lo, hi in zip(np.concatenate(([0], cuts)).tolist(), np.concatenate((cuts, [len(pair)])).tolist()):
            d, qi = divmod(int(pair[lo]), n_q)
            yield d, qi, pos[lo:hi], entry[lo:hi]

    def _measure(self, buf: np.ndarray, normalized: bytes, ds: int, de: int, qi: int,
                 start: int) -> tuple[float, tuple[int, int]] | None:
        """The measured containment of question ``qi`` in the best window near ``start`` (document ``ds:de``),
        and the window's span, relative to the document; None when no shingle is shared."""
        reach = int(self.reach[qi])
        lo = max(ds, start - reach - self.k)
        hi = min(de, start + 2 * (reach + self.k))
        if hi - lo < self.k:
            return None
        grams = words(buf)[lo : hi - self.k + 1]
        grams = grams & np.uint64((1 << (8 * self.k)) - 1) if self.k < 8 else grams
        own = self._mixed[self.bounds[qi] : self.bounds[qi + 1]]
        grams = mixed(grams)
        at = np.minimum(np.searchsorted(own, grams), len(own) - 1)
        hit = np.flatnonzero(own[at] == grams)
        if not hit.size:
            return None
        count, first, last = best_window(hit + lo, at[hit], np.ones(len(hit)), reach)
        s, e = first, last + self.k
        while s > ds and normalized[s] & 0xC0 == 0x80:  # whole characters: a shingle may start inside one
            s -= 1
        while e < de and normalized[e] & 0xC0 == 0x80:
            e += 1
        return count / len(own), (s - ds, e - ds)


NOTE = ("estimated_containment is a MinHash estimate (datasketch, num_perm permutations) of the share of the "
        "question's distinctive shingles in a window of the document; it only selects the pairs to measure, and a "
        "near copy whose estimate falls more than candidate_slack under the threshold is missed, so this search "
        "has no exactness guarantee. containment is measured: the share of the question's distinctive shingles "
        "found in the evidence window. An item is a near duplicate when it reaches the threshold in a document "
        "where the exact rule did not find it; the exact rule's figures do not change.")


def near_dup_section(index: NearDupIndex) -> dict[str, object]:
    """The report's ``near_dup`` section: how the pass searched, and what its figures are."""
    return {"threshold": index.threshold, "shingle_bytes": index.k, "minhash": "datasketch MinHash (affine32)",
            "num_perm": index.num_perm, "seed": index.seed, "window": WINDOW, "candidate_slack": CANDIDATE_SLACK,
            "min_shingles": MIN_SHINGLES, "boilerplate": {"share": COMMON_SHARE, "min": COMMON_MIN,
                                                          "max": COMMON_MAX},
            "n_checked": len(index), "note": NOTE}


def near_dup_totals(items: list[dict[str, Any]], n_items: int) -> dict[str, Any]:
    """A benchmark section's near-duplicate fields, from its items: the items with near matches that the exact
    rule found nowhere, and the items the pass could not check."""
    near = [it["id"] for it in items if it.get("near_matches") and not it["contaminated"]]
    unchecked = [it["id"] for it in items if it.get("near_dup_unchecked")]
    return {"n_near_duplicates": len(near), "near_duplicate_rate": round(len(near) / n_items, 6) if n_items else 0.0,
            "near_duplicate_ids": near, "n_near_dup_unchecked": len(unchecked), "near_dup_unchecked_ids": unchecked}


def near_dup_summary(doc: dict[str, Any]) -> str:
    """The line of the Markdown summary (:meth:`decontam.report.Report.to_markdown`) about the pass."""
    near, training = doc["near_dup"], doc.get("training", {})
    return ("Near duplicates (near-duplicate pass, reported apart; found by an estimated search, containment "
            f"measured >= {near['threshold']}): "
            + ", ".join(f"{md_text(b['name'])} {b.get('n_near_duplicates', 0)}" for b in doc.get("benchmarks", []))
            + f"; training documents holding one and no probe: {training.get('n_removed_near_dup', 0)}.")
