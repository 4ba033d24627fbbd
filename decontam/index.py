"""Corpus index: a Bloom filter over minimizers in front, an exact table and the normalized text behind it.

Built once over a training corpus, it answers the same question as :func:`decontam.check` (which probes occur in
which documents) without reading the corpus again; its Bloom filter alone, the *portrait*, can be published so
that others can test benchmarks against a corpus they cannot see. The format is documented in ``docs/index.md``.

How a probe is found (every probe of at least ``WINDOW`` = 50 bytes of normalized UTF-8; a 50-character probe is
at least 50 bytes):

1. **Minimizers.** Every 32-byte gram of every normalized document gets a 64-bit key. In every *window* of
   ``W = 19`` consecutive grams (50 bytes of text, inside one document) the gram whose key has the smallest top
   32 bits is *selected* (all of them on ties). Any 50-byte probe that occurs in a document contains one whole
   window, so the probe's own minimum gram is selected there: looking up that one key loses nothing. About 2 in
   ``W + 1`` positions are selected (measured 0.1 per byte; 0.078 distinct keys per byte on a code corpus).
2. **Bloom filter** (:mod:`decontam.bloom`) over the distinct selected keys, at 1e-6 false positives per lookup:
   the portrait.
3. **Exact table**: every selected (key, position) pair, sorted by key (memory-mapped). A Bloom hit is looked up
   there, and each corpus position of the key is *confirmed* by comparing the text around it with the question,
   byte for byte, inside the document's bounds. Hits with no confirmed occurrence are *rejected*.
4. **Report.** The documents that hold a confirmed probe are read back from the stored normalized text
   (zstd blocks) and scanned with the same :class:`~decontam.match.Matcher` that ``check`` uses, so the report
   (items, documents, probes, spans) is the one ``check`` writes for the same corpus and probes.

Probes shorter than 50 bytes (questions shorter than 50 normalized characters, used whole; or a
``--probe-length`` under 50) have no whole window: the index answers them exactly by scanning its stored text
with the streaming matcher (slower); a portrait cannot answer them and reports them as undecided-positive.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from .arrays import concat_ranges, sliding, words
from .atomic import default_mode
from .benchmarks import load_benchmarks
from .bloom import BloomFilter, fmix64
from .config import DecontamConfig, NormalizeConfig, make_config
from .errors import ConfigError, IndexMismatchError
from .inputs import Batch, CorpusFile, as_paths, expand_corpus, is_pathlike, memory_source, read_file, text_buffers
from .match import Matcher, ProbeGroup
from .normalize import normalize_many
from .report import Report, benchmark_section, corpus_fingerprint
from .scan import ProbeSet, RowMatch, SourceResult, account_batch, build_report, match_texts
from .utf8 import char_span
from .runtime import progress_bar
from .version import __version__

__all__ = [
    "FORMAT_VERSION",
    "KGRAM",
    "WINDOW",
    "CorpusIndex",
    "Portrait",
    "build_index",
    "minimizers",
    "open_index",
]

FORMAT_VERSION = 2  # 2: the Bloom filter is partitioned by the stored key's top bits (1: by a mix of it)
WINDOW = 50  # bytes of normalized text covered by one window of grams: the shortest probe found by lookup
KGRAM = 32  # bytes per gram
W = WINDOW - KGRAM + 1  # grams per window
HASH_SEED = 0x5EED_DEC0_4A11_0001
BLOOM_SEED = 0x5EED_DEC0_B100_0002
_C = tuple(np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9))
_PAD = b"\0" * (KGRAM + 16)
_CHUNK = 1 << 16  # positions hashed and selected at a time (temporaries stay in L2)
_TEXT_BLOCK = 1 << 20
_RUN_BITS = 8  # build runs are ordered by this many top bits of the key (then position); see _bucketed
_SPILL_ENTRIES = 16 << 20  # table entries kept in memory per build part before a sorted run goes to disk
# Entries sorted at a time when runs are merged (at least; ranges are never narrower than a top-_RUN_BITS-bit
# bucket): small ranges sort in cache, and radix passes over bytes that a range shares are skipped by numpy
# (measured, 8.5 M entries: 0.31 s in 256 ranges, 0.59 s in 16). Keys read at a time for the Bloom filter:
# temporaries of a few MB are reused by malloc, while arrays over 32 MB would be fresh mmaps, zeroed by the
# kernel on every allocation (12 % of the build's CPU time with 8 M-entry merges).
_MERGE_ENTRIES = 1 << 16
_BLOOM_STEP = 1 << 20
_BATCH_BYTES = 16 << 20  # normalized bytes per batch when documents are read back
_GRAM_HASH = "(h(p)*C2 + h(p+16)) ^ seed, h(p) = w(p)*C0 + w(p+8)*C1 (u64le words); stored: fmix64"
_MAGIC = b"DECONTAM"
_PORTRAIT_KIND = b"PORTRAIT"
_MANIFEST = "manifest.json"
_PORTRAIT_FILE = "portrait.dcp"
_INDEX_FORMAT = "decontam-index"
_PORTRAIT_FORMAT = "decontam-portrait"


# ------------------------------------------------------------------------------------------- hashing


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


_HI = np.uint64(32)


def stored_keys(keys: np.ndarray) -> np.ndarray:
    """The key a selected gram is stored and looked up under: murmur3's fmix64 of its gram key, a bijection
    (gram keys are linear, and biased low by selection; stored keys are uniform, so their top bits partition
    the Bloom filter evenly)."""
    return fmix64(keys)


def _radix_order(keys: np.ndarray) -> np.ndarray:
    """Stable order of ``keys`` by their top 32 bits (two 16-bit radix passes: numpy sorts 16-bit keys by
    radix, about 15x faster than a 64-bit argsort)."""
    hi = (keys >> _HI).astype(np.uint32)
    o1 = np.argsort((hi & np.uint32(0xFFFF)).astype(np.uint16), kind="stable")
    o2 = np.argsort((hi[o1] >> np.uint32(16)).astype(np.uint16), kind="stable")
    return o1[o2]


def _bucketed(keys: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs given in position order, reordered by the keys' top ``_RUN_BITS`` bits (stable: position order
    inside each bucket) -- a build run. One 8-bit radix pass: the full sort is left to :func:`_merge_runs`,
    which sorts one small range of keys at a time, in cache."""
    o = np.argsort((keys >> np.uint64(64 - _RUN_BITS)).astype(np.uint8), kind="stable")
    return np.take(keys, o, mode="clip"), np.take(pos, o, mode="clip")  # (valid indices: no bounds checks)


def _key_range(table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per key, the index range of ``table`` (sorted by top 32 bits only) holding its top 32 bits."""
    hi = keys >> _HI
    lo = np.searchsorted(table, hi << _HI, side="left")
    top = hi == np.uint64(0xFFFFFFFF)
    nxt = np.where(top, np.uint64(0), (hi + np.uint64(1)) << _HI)
    up = np.where(top, len(table), np.searchsorted(table, nxt, side="left"))
    return lo, up


_HIGH_HALF = 1 if sys.byteorder == "little" else 0  # the uint32 holding a uint64's top 32 bits


def _order(keys: np.ndarray) -> np.ndarray:
    """The minimizer order of keys: their top 32 bits, never 0 (0 marks windows that do not exist)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    return keys.view(np.uint32)[_HIGH_HALF::2] | np.uint32(1)  # one pass over a strided view


def minimizers(data: bytes, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The selected (stored key, position) pairs of a batch, thinned and sorted as the index stores them: by
    the keys' top 32 bits, then position.

    See :func:`_select` and :func:`_thin`.
    """
    keys, pos = _thin(*_select(data, offsets))
    o = _radix_order(keys)
    return keys[o], pos[o]


def _select(data: bytes, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The selected (stored key, position) pairs of a batch of normalized documents.

    A position is selected if its gram is the minimum (by :func:`_order`, all ties) of some window of ``W``
    grams lying wholly inside one document.

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
    padded = np.empty(n + len(_PAD), dtype=np.uint8)  # one copy of the text, zero padding for the last words
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
        order = _order(keys)
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


def _thin(keys: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Thin repeats among selected pairs given in position order: of a run of consecutive pairs with one key
    inside one stretch ``pos // W`` only the first and the last are kept.

    Nothing is lost: a window (``W`` consecutive positions) that holds a dropped position ``p`` of the stretch
    also holds the run's first position (if the window starts at or before it) or else its last one (the
    window then reaches past the end of the stretch), and both have ``p``'s key. Runs like ``aaaa...`` (every
    position selected, all ties) keep 2 positions in ``W``. Sequential comparisons only: no sort.

    Example:
        >>> k = np.array([7, 7, 7, 7, 3, 7], dtype=np.uint64)
        >>> _thin(k, np.array([0, 1, 2, 3, 4, 5]))[1].tolist()
        [0, 3, 4, 5]
    """
    if len(keys) < 3:
        return keys, pos
    stretch = pos // W
    same = (keys[1:] == keys[:-1]) & (stretch[1:] == stretch[:-1])
    drop = same[:-1] & same[1:]
    if not drop.any():
        return keys, pos
    keep = np.ones(len(keys), dtype=bool)
    keep[1:-1] = ~drop
    return keys[keep], pos[keep]


# ---------------------------------------------------------------------------------------- file helpers


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(8 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


class _HashingWriter:
    """Append-only binary file that hashes what it writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = open(path, "wb")
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview | np.ndarray) -> None:
        b = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        self.fh.write(b)
        self.sha.update(b)
        self.size += len(b)

    def close(self) -> dict[str, Any]:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        return {"size": self.size, "sha256": self.sha.hexdigest()}


def _int_array(values: Any, dtype: str) -> pa.Array:
    """Integers as an Arrow ``int64``/``int32`` array, without ``pa.array`` (which imports pandas: 0.2-0.4 s).

    Example:
        >>> _int_array([3, 1], "int32").to_pylist()
        [3, 1]
    """
    arr = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(pa.type_for_alias(dtype), len(arr), [None, pa.py_buffer(arr)])


def _string_array(pieces: Sequence[bytes | None]) -> pa.Array:
    """UTF-8 byte strings (None: null) as an Arrow ``large_string`` array, without ``pa.array``.

    Example:
        >>> _string_array([b"ab", None, "é".encode()]).to_pylist()
        ['ab', None, 'é']
    """
    valid = np.fromiter((p is not None for p in pieces), dtype=bool, count=len(pieces))
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    lengths = np.fromiter((len(p) if p is not None else 0 for p in pieces), dtype=np.int64, count=len(pieces))
    np.cumsum(lengths, out=offsets[1:])
    data = b"".join(p for p in pieces if p is not None)
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    nulls = int(len(pieces) - valid.sum())
    return pa.Array.from_buffers(pa.large_string(), len(pieces), buffers, null_count=nulls)


def _int_column(table: pa.Table, name: str) -> np.ndarray:
    """An integer column without nulls as a numpy array (zero-copy), without ``to_numpy`` (it imports pandas).

    Example:
        >>> _int_column(_table({"a": _int_array([4, 5], "int32")}), "a").tolist()
        [4, 5]
    """
    col = table.column(name)
    dtype = np.dtype(str(col.type))
    chunks = [np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset : c.offset + len(c)] for c in col.chunks
              if len(c)]
    if not chunks:
        return np.zeros(0, dtype=dtype)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _table(columns: dict[str, pa.Array]) -> pa.Table:
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _write_portrait(path: Path, header: dict[str, Any], bits: np.ndarray) -> dict[str, Any]:
    """Portrait file: magic, kind, version, header length, header JSON, its sha256, padding, Bloom bits."""
    payload = np.ascontiguousarray(bits, dtype=np.uint8)
    header = dict(header, payload_size=int(payload.nbytes),
                  payload_sha256=hashlib.sha256(memoryview(payload)).hexdigest())
    blob = _canonical(header)
    head = _MAGIC + _PORTRAIT_KIND + struct.pack("<II", FORMAT_VERSION, len(blob)) + blob
    head += hashlib.sha256(blob).digest()
    head += b"\0" * (-len(head) % 64)
    w = _HashingWriter(path)
    w.write(head)
    w.write(payload)
    return w.close()


def _read_portrait(path: Path, verify: bool = True) -> tuple[dict[str, Any], np.ndarray]:
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fixed = fh.read(24)
            if len(fixed) < 24 or fixed[:8] != _MAGIC or fixed[8:16] != _PORTRAIT_KIND:
                raise IndexMismatchError(f"{path}: not a decontam portrait file (bad magic bytes)")
            version, hlen = struct.unpack("<II", fixed[16:24])
            _check_version(version, "portrait", path)
            blob = fh.read(hlen)
            digest = fh.read(32)
    except OSError as exc:
        raise IndexMismatchError(f"{path}: cannot read portrait ({exc})") from exc
    if len(blob) != hlen or len(digest) != 32:
        raise IndexMismatchError(f"{path}: portrait file is truncated (header incomplete)")
    if hashlib.sha256(blob).digest() != digest:
        raise IndexMismatchError(f"{path}: portrait header is corrupted (checksum mismatch)")
    header = json.loads(blob.decode("utf-8"))
    start = 24 + hlen + 32
    start += -start % 64
    if size != start + header["payload_size"]:
        raise IndexMismatchError(
            f"{path}: portrait file is truncated or has extra bytes ({size} bytes, expected "
            f"{start + header['payload_size']})")
    bits = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(header["payload_size"],)) \
        if header["payload_size"] else np.zeros(0, dtype=np.uint8)
    if verify and hashlib.sha256(memoryview(bits)).hexdigest() != header["payload_sha256"]:
        raise IndexMismatchError(f"{path}: portrait bits are corrupted (checksum mismatch)")
    return header, bits


def _check_version(version: Any, kind: str, where: Path) -> None:
    """Refuse a format this decontam does not read, saying what to do: upgrade (newer) or rebuild (older)."""
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IndexMismatchError(
            f"{where}: {kind} format version {version} is newer than this decontam ({__version__}) reads "
            f"(version {FORMAT_VERSION}); upgrade decontam")
    if version < FORMAT_VERSION:
        raise IndexMismatchError(
            f"{where}: {kind} format version {version} is older than this decontam ({__version__}) reads "
            f"(version {FORMAT_VERSION}); rebuild it with `decontam index build` "
            "(and export its portrait again)")


def _check_normalizer(recorded: dict[str, Any], wanted: NormalizeConfig, where: str) -> None:
    have = NormalizeConfig(**recorded)
    if have != wanted:
        diff = ", ".join(f"{k}={getattr(have, k)} (asked {getattr(wanted, k)})"
                         for k in ("lowercase", "nfkc", "unescape") if getattr(have, k) != getattr(wanted, k))
        raise IndexMismatchError(
            f"{where} was built with another normalizer: {diff}; query with the same options "
            f"(e.g. --lowercase/--nfkc/--unescape) or rebuild the index")


def _params() -> dict[str, Any]:
    return {"window": WINDOW, "kgram": KGRAM, "grams_per_window": W, "hash_seed": HASH_SEED,
            "bloom_seed": BLOOM_SEED, "gram_hash": _GRAM_HASH,
            "order": "top 32 bits | 1",
            "thinning": "first and last of each run of consecutive selections with one key and one "
                        "position // W"}


def _check_params(recorded: dict[str, Any], where: str) -> None:
    mine = _params()
    for k in ("window", "kgram", "grams_per_window", "hash_seed", "bloom_seed", "gram_hash"):
        if recorded.get(k) != mine[k]:
            raise IndexMismatchError(
                f"{where} uses {k}={recorded.get(k)!r}, this decontam uses {mine[k]!r}; rebuild the index")


# ------------------------------------------------------------------------------------------- text store


class _TextWriter:
    """Normalized text in zstd blocks of about 1 MB."""

    def __init__(self, path: Path) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.out = _HashingWriter(path)
        self.codec = pa.Codec("zstd", compression_level=1)
        self.pool = ThreadPoolExecutor(1)  # compression releases the GIL: it overlaps the hashing work
        self.inflight: list[Any] = []
        self.pending: list[bytes | memoryview] = []
        self.pending_size = 0
        self.total = 0
        self.block_starts = [0]
        self.comp_offsets = [0]

    def write(self, data: bytes | memoryview) -> None:
        """Append bytes (an immutable buffer: whole blocks are compressed from it without a copy)."""
        view = memoryview(data).cast("B")
        at = 0
        if self.pending_size:  # complete the pending block first
            at = min(len(view), _TEXT_BLOCK - self.pending_size)
            self.pending.append(view[:at])
            self.pending_size += at
            if self.pending_size < _TEXT_BLOCK:
                return
            self._block(b"".join(self.pending))
            self.pending, self.pending_size = [], 0
        cut = at + (len(view) - at) // _TEXT_BLOCK * _TEXT_BLOCK
        for s in range(at, cut, _TEXT_BLOCK):
            self._block(view[s : s + _TEXT_BLOCK])
        if cut < len(view):
            self.pending, self.pending_size = [bytes(view[cut:])], len(view) - cut

    def _block(self, raw: bytes | memoryview) -> None:
        self.total += len(raw)
        self.block_starts.append(self.total)
        self.inflight.append(self.pool.submit(self.codec.compress, raw, asbytes=False))
        if len(self.inflight) > 8:
            self._drain(4)

    def _drain(self, keep: int = 0) -> None:
        while len(self.inflight) > keep:
            comp = self.inflight.pop(0).result()
            self.out.write(comp)
            self.comp_offsets.append(self.out.size)

    def copy_blocks(self, comp: memoryview, starts: np.ndarray, comp_offsets: np.ndarray) -> None:
        """Append another store's compressed blocks as they are (after :meth:`flush`)."""
        self.flush()
        self._drain()
        self.out.write(comp)
        base, cbase = self.total, self.comp_offsets[-1]
        self.block_starts.extend((starts[1:] + base).tolist())
        self.comp_offsets.extend((comp_offsets[1:] + cbase).tolist())
        self.total = self.block_starts[-1]

    def flush(self) -> None:
        if self.pending_size:
            self._block(b"".join(self.pending))
        self.pending, self.pending_size = [], 0

    def close(self) -> dict[str, Any]:
        self.flush()
        self._drain()
        self.pool.shutdown()
        return self.out.close()


class TextStore:
    """Read access to the stored normalized text (zstd blocks, memory-mapped)."""

    def __init__(self, comp: np.ndarray, block_starts: np.ndarray, comp_offsets: np.ndarray) -> None:
        self.comp = comp
        self.block_starts = np.asarray(block_starts, dtype=np.int64)
        self.comp_offsets = np.asarray(comp_offsets, dtype=np.int64)
        self.codec = pa.Codec("zstd")
        self._cache: dict[int, bytes] = {}

    @property
    def total(self) -> int:
        return int(self.block_starts[-1])

    def block(self, b: int) -> bytes:
        raw = self._cache.get(b)
        if raw is None:
            size = int(self.block_starts[b + 1] - self.block_starts[b])
            c0, c1 = int(self.comp_offsets[b]), int(self.comp_offsets[b + 1])
            try:
                raw = self.codec.decompress(memoryview(self.comp[c0:c1]), decompressed_size=size, asbytes=True)
            except (pa.ArrowException, OSError) as exc:
                raise IndexMismatchError(f"stored text block {b} is corrupted ({exc})") from exc
            if len(raw) != size:
                raise IndexMismatchError(f"stored text block {b} is corrupted (wrong size)")
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[b] = raw
        return raw

    def read(self, start: int, end: int) -> bytes:
        """Normalized bytes ``[start, end)``."""
        if end <= start:
            return b""
        b0 = int(np.searchsorted(self.block_starts, start, side="right")) - 1
        b1 = int(np.searchsorted(self.block_starts, end - 1, side="right")) - 1
        parts = [self.block(b) for b in range(b0, b1 + 1)]
        base = int(self.block_starts[b0])
        buf = parts[0] if len(parts) == 1 else b"".join(parts)
        return buf[start - base : end - base]

    def compact(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The blocks covering every range ``[lo[i], hi[i])``, decompressed end to end.

        Returns:
            ``(buffer, shift)``: a padded ``uint8`` buffer and, per range, the value to add to a text position
            inside it to get its position in ``buffer``.
        """
        b0 = np.searchsorted(self.block_starts, lo, side="right") - 1
        b1 = np.searchsorted(self.block_starts, np.maximum(hi - 1, lo), side="right") - 1
        need = np.unique(concat_ranges(b0, b1 - b0 + 1))
        parts = [self.block(int(b)) for b in need.tolist()]
        sizes = np.array([len(p) for p in parts], dtype=np.int64)
        cstart = np.zeros(len(need), dtype=np.int64)
        np.cumsum(sizes[:-1], out=cstart[1:])
        buf = np.frombuffer(b"".join(parts) + _PAD, dtype=np.uint8)
        slot = np.searchsorted(need, b0)
        shift = cstart[slot] - self.block_starts[b0]
        return buf, shift


# ------------------------------------------------------------------------------------------------ build


def _batch_ids(batch: Batch) -> list[str | None]:
    """Document ids of a batch as JSON text (None where absent), as :meth:`Batch.doc_id` reads them."""
    n = len(batch)
    return [None if v is None else json.dumps(v, ensure_ascii=False) for v in batch.doc_ids(range(n))]


class _PartBuilder:
    """Builds one index (a *part*) in a folder: sources in order, batches in order."""

    def __init__(self, folder: Path, config: DecontamConfig, bloom_fp: float, bloom: bool = True) -> None:
        self.folder = Path(folder)
        self.bloom = bloom
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.bloom_fp = bloom_fp
        self.text = _TextWriter(self.folder / "text.zst")
        self.raw = _TextWriter(self.folder / "raw.zst")
        self.doc_raw: list[np.ndarray] = []
        self.sources: list[SourceResult] = []
        self.doc_start: list[np.ndarray] = []
        self.doc_source: list[np.ndarray] = []
        self.doc_row: list[np.ndarray] = []
        self.doc_line: list[np.ndarray] = []
        self.doc_id: list[str | None] = []
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.run_entries = 0
        self.spilled: list[tuple[Path, Path, int]] = []

    def source(self, label: str) -> SourceResult:
        s = SourceResult(label)
        self.sources.append(s)
        return s

    def add_batch(self, batch: Batch, src: SourceResult) -> None:
        account_batch(batch, src)
        data, offsets = text_buffers(batch.texts)
        base, end = int(offsets[0]), int(offsets[-1])
        normalized, noffs = normalize_many(data[base:end], offsets - base, self.config.normalize)
        at = self.text.total + self.text.pending_size
        raw_at = self.raw.total + self.raw.pending_size
        self.doc_raw.append(offsets[:-1] - base + raw_at)
        self.raw.write(data[base:end])
        self.doc_start.append(noffs[:-1] + at)
        self.doc_source.append(np.full(len(batch), len(self.sources) - 1, dtype=np.int32))
        self.doc_row.append(np.asarray(batch.rows, dtype=np.int64))
        self.doc_line.append(np.asarray(batch.lines, dtype=np.int64))
        self.doc_id.extend(_batch_ids(batch))
        keys, pos = _select(normalized, noffs)
        keys, pos = _bucketed(*_thin(keys, pos + at))  # stretches of the whole text: batching changes nothing
        self.runs.append((keys, pos))
        self.run_entries += len(keys)
        self.text.write(normalized)
        if self.run_entries >= _SPILL_ENTRIES:
            self._spill()

    def _sorted_run(self) -> tuple[np.ndarray, np.ndarray]:
        """The batch runs merged into one run (ordered by the keys' top ``_RUN_BITS`` bits, then position)."""
        keys = np.concatenate([k for k, _ in self.runs]) if self.runs else np.zeros(0, np.uint64)
        pos = np.concatenate([p for _, p in self.runs]) if self.runs else np.zeros(0, np.int64)
        return _bucketed(keys, pos) if len(self.runs) > 1 else (keys, pos)

    def _spill(self) -> None:
        if not self.runs:
            return
        keys, pos = self._sorted_run()
        i = len(self.spilled)
        kp, pp = self.folder / f".run{i}.keys", self.folder / f".run{i}.pos"
        keys.tofile(kp)
        pos.tofile(pp)
        self.spilled.append((kp, pp, len(keys)))
        self.runs, self.run_entries = [], 0

    def finish(self) -> dict[str, Any]:
        """Write the table, docs, portrait and manifest; returns the manifest."""
        text_info = self.text.close()
        raw_info = self.raw.close()
        total = self.text.total
        runs: list[tuple[np.ndarray, np.ndarray, int]] = []
        for kp, pp, n in self.spilled:
            runs.append((np.memmap(kp, dtype=np.uint64, mode="r", shape=(n,)) if n else np.zeros(0, np.uint64),
                         np.memmap(pp, dtype=np.int64, mode="r", shape=(n,)) if n else np.zeros(0, np.int64), 0))
        runs += [(k, p, 0) for k, p in self.runs]
        n_docs = sum(len(s) for s in self.doc_start)
        docs = {
            "start": np.concatenate(self.doc_start) if self.doc_start else np.zeros(0, np.int64),
            "raw_start": np.concatenate(self.doc_raw) if self.doc_raw else np.zeros(0, np.int64),
            "source": np.concatenate(self.doc_source) if self.doc_source else np.zeros(0, np.int32),
            "row": np.concatenate(self.doc_row) if self.doc_row else np.zeros(0, np.int64),
            "line": np.concatenate(self.doc_line) if self.doc_line else np.zeros(0, np.int64),
            "id": self.doc_id,
        }
        assert len(docs["id"]) == n_docs
        manifest = _write_index(self.folder, runs, docs, [s.to_dict() for s in self.sources], total,
                                {"text": (self.text, text_info), "raw": (self.raw, raw_info)}, self.config,
                                self.bloom_fp, self.bloom)
        for kp, pp, _ in self.spilled:
            kp.unlink(missing_ok=True)
            pp.unlink(missing_ok=True)
        return manifest


def _merge_runs(runs: Sequence[tuple[np.ndarray, np.ndarray, int]], folder: Path, pos_dtype: str,
                run_bits: int = _RUN_BITS) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Merge runs (stored keys, positions, position offset), given in position order, each ordered by the
    keys' top ``run_bits`` bits then position: a build's batch runs (``_RUN_BITS``, see :func:`_bucketed`) or
    indexes' tables (fully sorted).

    Writes ``keys.u64`` and ``pos.*`` sorted by the keys' top 32 bits then position, one range of the top bits
    at a time (about ``_MERGE_ENTRIES`` entries, at most ``2**min(run_bits, 16)`` ranges: memory stays
    bounded, the sort's working set in cache): the range's slice of every run, end to end, is in position
    order inside each top-``run_bits``-bit bucket, so a stable sort by the top 32 bits completes it.

    Returns:
        The two files' infos, and the number of distinct keys (counted as by :func:`_distinct`).
    """
    total = sum(len(k) for k, _, _ in runs)
    bits = min(run_bits, 16, max(0, int(math.ceil(math.log2(max(1, total) / _MERGE_ENTRIES))))) if total else 0
    kw = _HashingWriter(folder / "keys.u64")
    pw = _HashingWriter(folder / f"pos.{pos_dtype}")
    bounds = [np.searchsorted(keys, (np.arange(1 << bits, dtype=np.uint64) << np.uint64(64 - bits))
                              if bits else np.zeros(1, dtype=np.uint64), side="left").tolist() + [len(keys)]
              for keys, _, _ in runs]
    distinct = 0
    for r in range(1 << bits):
        parts_k, parts_p = [], []
        for (keys, pos, off), bnd in zip(runs, bounds):
            a, b = bnd[r], bnd[r + 1]
            if b > a:
                parts_k.append(np.asarray(keys[a:b]))
                parts_p.append(np.asarray(pos[a:b], dtype=np.int64) + off)
        if not parts_k:
            continue
        k = np.concatenate(parts_k)
        p = np.concatenate(parts_p).astype("<" + pos_dtype)
        o = _radix_order(k)
        k = np.take(k, o, mode="clip")
        distinct += len(_distinct(k))  # ranges split by the top bits: no key is in two of them
        kw.write(np.ascontiguousarray(k, dtype="<u8"))
        pw.write(np.take(p, o, mode="clip"))
    return kw.close(), pw.close(), distinct


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Keys without their repeats (repeats of a key are adjacent, but for rare 32-bit prefix collisions)."""
    if len(keys) < 2:
        return np.asarray(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def _write_index(folder: Path, runs: Sequence[tuple[np.ndarray, np.ndarray, int]], docs: dict[str, Any],
                 sources: list[dict[str, Any]], total: int, stores: dict[str, tuple[_TextWriter, dict[str, Any]]],
                 config: DecontamConfig, bloom_fp: float, with_bloom: bool = True,
                 run_bits: int = _RUN_BITS) -> dict[str, Any]:
    pos_dtype = "u4" if total < (1 << 32) else "u8"
    keys_info, pos_info, distinct = _merge_runs(runs, folder, pos_dtype, run_bits)
    n_entries = keys_info["size"] // 8
    # Bloom filter over the distinct keys, sized for them.
    keys = np.memmap(folder / "keys.u64", dtype="<u8", mode="r", shape=(n_entries,)) if n_entries else \
        np.zeros(0, dtype=np.uint64)
    step = _BLOOM_STEP
    # (parts of a parallel build are merged at once: their own filters would be thrown away)
    # stored keys are uniform and sorted: partitioned by their own top bits, they arrive grouped
    bloom = BloomFilter.for_capacity(max(1, distinct) if with_bloom else 1, bloom_fp, BLOOM_SEED,
                                     partition_by="key")
    for s in range(0, n_entries if with_bloom else 0, step):
        bloom.add(_distinct(keys[s : s + step]))
    del keys
    bloom.n_keys = distinct
    n_docs = len(docs["id"])
    table = _table({
        "start": _int_array(docs["start"], "int64"),
        "raw_start": _int_array(docs["raw_start"], "int64"),
        "source": _int_array(docs["source"], "int32"),
        "row": _int_array(docs["row"], "int64"),
        "line": _int_array(docs["line"], "int64"),
        "id": _string_array([None if i is None else i.encode("utf-8") for i in docs["id"]]),
    })
    with pa.OSFile(str(folder / "docs.arrow"), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    files: dict[str, Any] = {}
    for name, (writer_, info) in stores.items():
        blocks = _table({"start": _int_array(writer_.block_starts, "int64"),
                         "comp_offset": _int_array(writer_.comp_offsets, "int64")})
        bpath = folder / f"{name}.blocks.arrow"
        with pa.OSFile(str(bpath), "wb") as sink, ipc.new_file(sink, blocks.schema) as writer:
            writer.write_table(blocks)
        files[f"{name}.zst"] = info
        files[bpath.name] = {"size": bpath.stat().st_size, "sha256": _sha256_file(bpath)}
    corpus = {
        "sources": sources,
        "n_documents": n_docs,
        "n_characters": sum(s["n_characters"] for s in sources),
        "n_normalized_bytes": int(total),
        "fingerprint": corpus_fingerprint(sources),
    }
    common = {
        "normalize": dataclasses.asdict(config.normalize),
        "text_field": config.text_field,
        "id_field": config.id_field,
        "on_error": config.on_error,
        "params": _params(),
        "corpus": corpus,
        "bloom": bloom.params() | {"target_fp_rate": bloom_fp, "fp_rate": bloom.fp_rate(),
                                   "n_distinct_keys": distinct},
        "tool": {"name": "decontam", "version": __version__},
    }
    portrait_info = _write_portrait(folder / _PORTRAIT_FILE, {"format": _PORTRAIT_FORMAT,
                                                              "format_version": FORMAT_VERSION} | common,
                                    bloom.bits)
    files |= {
        "keys.u64": keys_info,
        f"pos.{pos_dtype}": pos_info,
        _PORTRAIT_FILE: portrait_info,
        "docs.arrow": {"size": (folder / "docs.arrow").stat().st_size, "sha256": _sha256_file(folder / "docs.arrow")},
    }
    manifest = {"format": _INDEX_FORMAT, "format_version": FORMAT_VERSION} | common | {
        "table": {"n_entries": n_entries, "pos_dtype": pos_dtype},
        "files": files,
    }
    manifest["checksum"] = "sha256:" + hashlib.sha256(_canonical(manifest)).hexdigest()
    blob = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    with open(folder / _MANIFEST, "wb") as fh:  # written last: an index without it is incomplete
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    return manifest


def _staging(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    stage.chmod(default_mode(directory=True))  # mkdtemp's 0700 would make the published index private
    return stage


def _commit(stage: Path, dest: Path, replace: bool = False) -> None:
    """Move a finished staging folder into place (replacing ``dest`` when asked)."""
    if dest.exists():
        if not replace and (not dest.is_dir() or any(dest.iterdir())):
            shutil.rmtree(stage, ignore_errors=True)
            raise ConfigError(f"index folder {dest} already exists and is not empty; remove it or choose "
                              "another -o")
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.rmdir(old)
        os.replace(dest, old)
        os.replace(stage, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(stage, dest)


# ------------------------------------------------------------------------------------------- the index


class CorpusIndex:
    """A built corpus index, memory-mapped (see the module docstring and ``docs/index.md``).

    Open one with :meth:`load`, make one with :meth:`build`, combine with :meth:`merge`, grow with :meth:`add`.
    """

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = Path(path)
        self.manifest = manifest
        n = manifest["table"]["n_entries"]
        dt = manifest["table"]["pos_dtype"]
        self.keys = np.memmap(self.path / "keys.u64", dtype="<u8", mode="r", shape=(n,)) if n else \
            np.zeros(0, dtype=np.uint64)
        self.positions = np.memmap(self.path / f"pos.{dt}", dtype="<" + dt, mode="r", shape=(n,)) if n else \
            np.zeros(0, dtype=np.int64)
        header, bits = _read_portrait(self.path / _PORTRAIT_FILE, verify=False)
        self.bloom = BloomFilter.from_params(header["bloom"], bits)
        self.docs = ipc.open_file(pa.memory_map(str(self.path / "docs.arrow"))).read_all()
        self.text = self._store("text")
        self.raw = self._store("raw")
        self.doc_starts = np.append(_int_column(self.docs, "start"), self.text.total).astype(np.int64)
        self.raw_starts = np.append(_int_column(self.docs, "raw_start"), self.raw.total).astype(np.int64)

    def _store(self, name: str) -> TextStore:
        blocks = ipc.open_file(pa.memory_map(str(self.path / f"{name}.blocks.arrow"))).read_all()
        size = self.manifest["files"][f"{name}.zst"]["size"]
        comp = np.memmap(self.path / f"{name}.zst", dtype=np.uint8, mode="r", shape=(size,)) if size else \
            np.zeros(0, dtype=np.uint8)
        return TextStore(comp, _int_column(blocks, "start"), _int_column(blocks, "comp_offset"))

    # -- properties -----------------------------------------------------------------------------------

    @property
    def normalize(self) -> NormalizeConfig:
        return NormalizeConfig(**self.manifest["normalize"])

    @property
    def n_documents(self) -> int:
        return int(self.manifest["corpus"]["n_documents"])

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["corpus"]["fingerprint"])

    def sizes(self) -> dict[str, int]:
        """Bytes on disk per part: ``portrait``, ``table`` (keys + positions), ``text`` (normalized),
        ``raw`` (original text, for evidence), ``docs`` (document table and block tables)."""
        f = self.manifest["files"]
        table = sum(v["size"] for k, v in f.items() if k.startswith(("keys.", "pos.")))
        return {"portrait": f[_PORTRAIT_FILE]["size"], "table": table, "text": f["text.zst"]["size"],
                "raw": f["raw.zst"]["size"],
                "docs": sum(v["size"] for k, v in f.items() if k.endswith(".arrow"))}

    # -- open / build / merge -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str], normalize: NormalizeConfig | None = None,
             verify: bool = True) -> CorpusIndex:
        """Open an index folder.

        Args:
            path: The folder written by :meth:`build`.
            normalize: The normalizer the caller will query with; it must be the one the index was built with.
            verify: Check every file's size and SHA-256 (reads each file once; about 2 GB/s).

        Raises:
            IndexMismatchError: Not an index, an incomplete (interrupted) build, a newer format, other
                settings, or a truncated or corrupted file.
        """
        p = Path(path)
        mpath = p / _MANIFEST
        if not p.is_dir():
            raise IndexMismatchError(f"{p}: not an index folder (for a portrait file use the portrait commands)")
        if not mpath.exists():
            raise IndexMismatchError(f"{p}: no {_MANIFEST}: not a decontam index, or its build did not finish")
        try:
            manifest = json.loads(mpath.read_bytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise IndexMismatchError(f"{mpath}: corrupted manifest ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != _INDEX_FORMAT:
            raise IndexMismatchError(f"{mpath}: not a decontam index manifest")
        _check_version(manifest.get("format_version"), "index", p)
        body = {k: v for k, v in manifest.items() if k != "checksum"}
        if manifest.get("checksum") != "sha256:" + hashlib.sha256(_canonical(body)).hexdigest():
            raise IndexMismatchError(f"{mpath}: manifest is corrupted (checksum mismatch)")
        _check_params(manifest["params"], str(p))
        if normalize is not None:
            _check_normalizer(manifest["normalize"], normalize, f"index {p}")
        for name, info in manifest["files"].items():
            fp = p / name
            if not fp.exists():
                raise IndexMismatchError(f"{fp}: missing index file")
            if fp.stat().st_size != info["size"]:
                raise IndexMismatchError(
                    f"{fp}: truncated or corrupted index file ({fp.stat().st_size} bytes, expected {info['size']})")
            if verify and _sha256_file(fp) != info["sha256"]:
                raise IndexMismatchError(f"{fp}: corrupted index file (checksum mismatch)")
        try:
            return cls(p, manifest)
        except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
            raise IndexMismatchError(f"{p}: cannot open index ({exc})") from exc

    @classmethod
    def build(cls, corpus: Any, output: str | os.PathLike[str], config: DecontamConfig | None = None, *,
              bloom_fp: float = 1e-6, progress: bool | None = None, **options: Any) -> CorpusIndex:
        """Index a corpus into the folder ``output`` (written atomically: a staging folder renamed at the end).

        Args:
            corpus: Files or folders (``.jsonl``, ``.jsonl.gz``, ``.parquet``), a ``datasets.Dataset``, a
                ``pyarrow.Table`` or a list of strings or dicts (as :func:`decontam.check` takes).
            output: New (or empty) folder.
            config: Options: the normalizer, ``text_field``, ``id_field``, ``on_error``, ``num_proc`` (files are
                indexed in parallel, one file per process, then merged).
            bloom_fp: False-positive rate of the Bloom filter per lookup.
            progress: Progress bar on stderr (default: when stderr is a terminal).

        Returns:
            The opened index.
        """
        cfg = make_config(config, **options)
        dest = Path(output)
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise ConfigError(f"index folder {dest} already exists and is not empty; remove it or choose another -o")
        stage = _staging(dest)
        try:
            _build_into(corpus, stage, cfg, bloom_fp, progress)
            _commit(stage, dest)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return cls.load(dest, verify=False)

    @classmethod
    def merge(cls, indexes: Sequence[str | os.PathLike[str] | CorpusIndex], output: str | os.PathLike[str], *,
              bloom_fp: float | None = None, replace: bool = False) -> CorpusIndex:
        """Merge indexes (their corpora in the given order) into a new index folder.

        The result answers exactly like an index built from all the corpora at once (same sources, documents,
        row numbers and fingerprint); its Bloom filter is rebuilt for the merged key set.

        Raises:
            IndexMismatchError: The indexes were built with different normalizers or parameters.
        """
        opened = [i if isinstance(i, CorpusIndex) else cls.load(i) for i in indexes]
        if not opened:
            raise ConfigError("merge needs at least one index")
        dest = Path(output)
        stage = _staging(dest)
        try:
            _merge_into(opened, stage, bloom_fp)
            _commit(stage, dest, replace=replace)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return cls.load(dest, verify=False)

    def add(self, corpus: Any, *, progress: bool | None = None, **options: Any) -> CorpusIndex:
        """Add documents to this index (in place, atomically); returns the updated index."""
        cfg = make_config(self.config(), **options)
        _check_normalizer(self.manifest["normalize"], cfg.normalize, f"index {self.path}")
        work = _staging(self.path)
        merged = _staging(self.path)
        try:
            part = work / "part"
            _build_into(corpus, part, cfg, self.manifest["bloom"]["target_fp_rate"], progress)
            new = CorpusIndex.load(part, verify=False)
            _merge_into([self, new], merged, None)
            _commit(merged, self.path, replace=True)
        except BaseException:
            shutil.rmtree(merged, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return CorpusIndex.load(self.path, verify=False)

    def config(self) -> DecontamConfig:
        """The build options recorded in the index (normalizer and corpus fields)."""
        return DecontamConfig(normalize=self.normalize, text_field=self.manifest["text_field"],
                              id_field=self.manifest["id_field"], on_error=self.manifest["on_error"])

    def export_portrait(self, output: str | os.PathLike[str]) -> Path:
        """Copy the portrait (Bloom filter + header, no text, no document ids) to a file, atomically."""
        dest = Path(output)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
        os.fchmod(fd, default_mode())
        os.close(fd)
        try:
            shutil.copyfile(self.path / _PORTRAIT_FILE, tmp)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest

    # -- query ----------------------------------------------------------------------------------------

    def check(self, benchmarks: Any, config: DecontamConfig | None = None, **options: Any) -> Report:
        """Check benchmarks against the index: the report :func:`decontam.check` gives on the same corpus.

        Args:
            benchmarks: As in :func:`decontam.check`.
            config: Method options (probes, seed, normalizer: it must be the index's); the corpus fields are
                the index's.

        Raises:
            IndexMismatchError: The normalizer differs from the one the index was built with.
        """
        cfg = make_config(config, **options)
        _check_normalizer(self.manifest["normalize"], cfg.normalize, f"index {self.path}")
        cfg = dataclasses.replace(cfg, text_field=self.manifest["text_field"], id_field=self.manifest["id_field"],
                                  on_error=self.manifest["on_error"])
        probes = ProbeSet.build(load_benchmarks(benchmarks), cfg)
        return _index_report(self, probes, cfg)


def open_index(path: str | os.PathLike[str], normalize: NormalizeConfig | None = None) -> CorpusIndex | Portrait:
    """Open an index folder or a portrait file, whichever ``path`` is."""
    if Path(path).is_dir():
        return CorpusIndex.load(path, normalize)
    return Portrait.load(path, normalize)


def build_index(corpus: Any, output: str | os.PathLike[str], config: DecontamConfig | None = None,
                **options: Any) -> CorpusIndex:
    """Build a :class:`CorpusIndex` (shortcut for :meth:`CorpusIndex.build`)."""
    return CorpusIndex.build(corpus, output, config, **options)


# ----------------------------------------------------------------------------------- build internals


def _build_file_part(f: CorpusFile, folder: Path, cfg: DecontamConfig, bloom_fp: float) -> Path:
    b = _PartBuilder(folder, cfg, bloom_fp, bloom=False)
    src = b.source(str(f.path))
    for batch in read_file(f, cfg.text_field, cfg.id_field or None, cfg.on_error, src.rejected):
        b.add_batch(batch, src)
    b.finish()
    return folder


def _build_into(corpus: Any, stage: Path, cfg: DecontamConfig, bloom_fp: float, progress: bool | None) -> None:
    stage.mkdir(parents=True, exist_ok=True)
    if not is_pathlike(corpus):
        b = _PartBuilder(stage, cfg, bloom_fp)
        source = memory_source(corpus, cfg.text_field, cfg.id_field or None, cfg.on_error)
        src = b.source(source.label)
        for batch in source.read(src.rejected):
            b.add_batch(batch, src)
        b.finish()
        return
    files = expand_corpus(as_paths(corpus))
    sizes = [f.path.stat().st_size for f in files]
    bar = progress_bar(sum(sizes), "decontam: indexing", progress)
    try:
        if cfg.num_proc > 1 and len(files) > 1:
            parts_dir = stage / ".parts"
            parts_dir.mkdir()
            with ProcessPoolExecutor(max_workers=min(cfg.num_proc, len(files))) as pool:
                futures = [pool.submit(_build_file_part, f, parts_dir / f"{i:06d}", cfg, bloom_fp)
                           for i, f in enumerate(files)]
                parts = []
                for fut, size in zip(futures, sizes):
                    parts.append(fut.result())
                    bar.update(size)
            _merge_into([CorpusIndex.load(p, verify=False) for p in parts], stage, bloom_fp)
            shutil.rmtree(parts_dir, ignore_errors=True)
        else:
            b = _PartBuilder(stage, cfg, bloom_fp)
            for f, size in zip(files, sizes):
                src = b.source(str(f.path))
                for batch in read_file(f, cfg.text_field, cfg.id_field or None, cfg.on_error, src.rejected):
                    b.add_batch(batch, src)
                bar.update(size)
            b.finish()
    finally:
        bar.close()


def _merge_into(indexes: Sequence[CorpusIndex], stage: Path, bloom_fp: float | None) -> dict[str, Any]:
    first = indexes[0].manifest
    for ix in indexes[1:]:
        m = ix.manifest
        _check_normalizer(m["normalize"], NormalizeConfig(**first["normalize"]), f"index {ix.path}")
        _check_params(m["params"], str(ix.path))
        for k in ("text_field", "id_field"):
            if m[k] != first[k]:
                raise IndexMismatchError(f"index {ix.path} was built with {k}={m[k]!r}, "
                                         f"{indexes[0].path} with {first[k]!r}; they cannot be merged")
    fp = bloom_fp if bloom_fp is not None else min(ix.manifest["bloom"]["target_fp_rate"] for ix in indexes)
    stage.mkdir(parents=True, exist_ok=True)
    text = _TextWriter(stage / "text.zst")
    raw = _TextWriter(stage / "raw.zst")
    runs = []
    docs: dict[str, list[Any]] = {"start": [], "raw_start": [], "source": [], "row": [], "line": [], "id": []}
    sources: list[dict[str, Any]] = []
    for ix in indexes:
        base, raw_base = text.total, raw.total
        text.copy_blocks(memoryview(ix.text.comp), ix.text.block_starts, ix.text.comp_offsets)
        raw.copy_blocks(memoryview(ix.raw.comp), ix.raw.block_starts, ix.raw.comp_offsets)
        docs["raw_start"].append(_int_column(ix.docs, "raw_start") + raw_base)
        runs.append((ix.keys, ix.positions, base))
        docs["start"].append(_int_column(ix.docs, "start") + base)
        docs["source"].append(_int_column(ix.docs, "source") + len(sources))
        docs["row"].append(_int_column(ix.docs, "row"))
        docs["line"].append(_int_column(ix.docs, "line"))
        docs["id"].extend(ix.docs.column("id").to_pylist())
        sources.extend(ix.manifest["corpus"]["sources"])
    text_info = text.close()
    raw_info = raw.close()
    cat = {k: (np.concatenate(v) if k != "id" else v) for k, v in docs.items()}
    cfg = DecontamConfig(normalize=NormalizeConfig(**first["normalize"]), text_field=first["text_field"],
                         id_field=first["id_field"], on_error=first["on_error"])
    return _write_index(stage, runs, cat, sources, text.total, {"text": (text, text_info), "raw": (raw, raw_info)},
                        cfg, fp, run_bits=32)  # the tables are fully sorted


# --------------------------------------------------------------------------------------------- portrait


class Portrait:
    """A published portrait: the Bloom filter of a corpus index and its header, no text.

    Checking against it gives *unverified* results: no false negative for probes of at least ``WINDOW``
    bytes, and each positive may be false (see :meth:`check` and ``docs/index.md``).
    """

    def __init__(self, path: Path, header: dict[str, Any], bloom: BloomFilter) -> None:
        self.path = path
        self.header = header
        self.bloom = bloom

    @classmethod
    def load(cls, path: str | os.PathLike[str], normalize: NormalizeConfig | None = None,
             verify: bool = True) -> Portrait:
        """Open a portrait file.

        Raises:
            IndexMismatchError: Not a portrait, a newer format, other settings, truncated or corrupted.
        """
        p = Path(path)
        if not p.is_file():
            raise IndexMismatchError(f"{p}: no such portrait file")
        header, bits = _read_portrait(p, verify)
        if header.get("format") != _PORTRAIT_FORMAT:
            raise IndexMismatchError(f"{p}: not a decontam portrait")
        _check_params(header["params"], str(p))
        if normalize is not None:
            _check_normalizer(header["normalize"], normalize, f"portrait {p}")
        try:
            bloom = BloomFilter.from_params(header["bloom"], bits)
        except (KeyError, ValueError) as exc:
            raise IndexMismatchError(f"{p}: corrupted portrait ({exc})") from exc
        return cls(p, header, bloom)

    def check(self, benchmarks: Any, config: DecontamConfig | None = None, **options: Any) -> Report:
        """Check benchmarks against the portrait (unverified; see the class docstring)."""
        cfg = make_config(config, **options)
        _check_normalizer(self.header["normalize"], cfg.normalize, f"portrait {self.path}")
        cfg = dataclasses.replace(cfg, text_field=self.header["text_field"], id_field=self.header["id_field"],
                                  on_error=self.header["on_error"])
        probes = ProbeSet.build(load_benchmarks(benchmarks), cfg)
        return _portrait_report(self, probes, cfg)


# ------------------------------------------------------------------------------------------------ query


@dataclass
class _Probes:
    """Every probe window of every group, in absolute coordinates of the questions laid end to end."""

    qbuf: np.ndarray  # padded
    bases: np.ndarray  # group g's question starts at bases[g]
    starts: np.ndarray  # absolute probe starts (sorted)
    ends: np.ndarray
    group: np.ndarray
    long: np.ndarray  # probe is at least WINDOW bytes
    keys: np.ndarray  # stored keys of the grams at every absolute position (valid where a gram fits)
    first_key: np.ndarray  # per long probe: key of the minimum gram of its first window
    all_keys: np.ndarray  # keys of the minimum gram of every window of every long probe
    all_keys_probe: np.ndarray  # which probe each of all_keys belongs to


def _probe_arrays(groups: Sequence[ProbeGroup]) -> _Probes:
    lengths = np.array([len(g.question) for g in groups], dtype=np.int64)
    bases = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bases[1:])
    qbuf = np.frombuffer(b"".join(g.question for g in groups) + _PAD, dtype=np.uint8)
    counts = np.array([len(g.starts) for g in groups], dtype=np.int64)
    group = np.repeat(np.arange(len(groups), dtype=np.int64), counts)
    if len(group):
        starts = np.concatenate([g.starts for g in groups]).astype(np.int64) + bases[group]
        ends = np.concatenate([g.ends for g in groups]).astype(np.int64) + bases[group]
    else:
        starts = ends = np.zeros(0, dtype=np.int64)
    long = (ends - starts) >= WINDOW
    total = int(bases[-1])
    keys = gram_keys(qbuf, 0, total) if total else np.zeros(0, dtype=np.uint64)
    order = _order(keys)
    # the leftmost minimum of every window, as one sliding minimum over (order << 32 | position)
    comb = (order.astype(np.uint64) << np.uint64(32)) | np.arange(total, dtype=np.uint64)
    if total >= W:
        wmin_pos = (sliding(comb, W, np.minimum) & np.uint64(0xFFFFFFFF)).astype(np.int64)
    else:
        wmin_pos = np.zeros(0, dtype=np.int64)
    li = np.flatnonzero(long)
    nwin = ends[li] - starts[li] - WINDOW + 1
    win = concat_ranges(starts[li], nwin)
    all_keys = stored_keys(keys[wmin_pos[win]]) if len(win) else np.zeros(0, dtype=np.uint64)
    all_keys_probe = np.repeat(li, nwin)
    first_key = np.zeros(len(starts), dtype=np.uint64)
    if len(li):
        first_key[li] = stored_keys(keys[wmin_pos[starts[li]]])
    return _Probes(qbuf, bases, starts, ends, group, long, stored_keys(keys), first_key, all_keys, all_keys_probe)


def _bloom_hits(bloom: BloomFilter, pr: _Probes) -> np.ndarray:
    """Per probe: every window's minimum key is in the Bloom filter (False for short probes)."""
    hit = np.zeros(len(pr.starts), dtype=bool)
    if len(pr.all_keys) == 0:
        return hit
    uniq, inv = np.unique(pr.all_keys, return_inverse=True)
    present = bloom.contains(uniq)[inv]
    hit[pr.long] = True
    miss = np.zeros(len(pr.starts), dtype=bool)
    np.logical_or.at(miss, pr.all_keys_probe[~present], True)
    hit &= ~miss
    return hit


def _confirm(ix: CorpusIndex, pr: _Probes, hit: np.ndarray) -> tuple[np.ndarray, set[int], int]:
    """Confirm Bloom hits against the stored text. Returns (found per probe, documents with a confirmed
    probe, number of candidate occurrences compared)."""
    found = np.zeros(len(pr.starts), dtype=bool)
    docs: set[int] = set()
    want = np.unique(pr.first_key[hit])
    if len(want) == 0 or len(ix.keys) == 0:
        return found, docs, 0
    lo, hi = _key_range(ix.keys, want)
    present = hi > lo
    want, lo, hi = want[present], lo[present], hi[present]
    if len(want) == 0:
        return found, docs, 0
    # entries of each wanted key (its 32-bit prefix range, then the exact key)
    ent = concat_ranges(lo, hi - lo)
    ent_want = np.repeat(np.arange(len(want)), hi - lo)
    same = np.asarray(ix.keys[ent]) == want[ent_want]
    ent, ent_want = ent[same], ent_want[same]
    if len(ent) == 0:
        return found, docs, 0
    counts = np.bincount(ent_want, minlength=len(want))
    first_ent = np.zeros(len(want) + 1, dtype=np.int64)
    np.cumsum(counts, out=first_ent[1:])
    # question anchors: every question position whose gram has one of the wanted keys
    nq = int(pr.bases[-1])
    qpos = np.arange(max(0, nq - KGRAM + 1), dtype=np.int64)
    qgroup = np.searchsorted(pr.bases, qpos, side="right") - 1
    fits = qpos + KGRAM <= pr.bases[qgroup + 1]
    qpos = qpos[fits]
    qk = pr.keys[qpos]
    slot = np.searchsorted(want, qk)
    slot = np.minimum(slot, len(want) - 1)
    match = want[slot] == qk
    qpos, slot = qpos[match], slot[match]
    if len(qpos) == 0:
        return found, docs, 0
    # candidates: every (anchor, corpus position of its key)
    n_occ = counts[slot]
    cand_q = np.repeat(qpos, n_occ)
    cand_p = np.asarray(ix.positions[ent[concat_ranges(first_ent[slot], n_occ)]]).astype(np.int64)
    n_cand = len(cand_q)
    cap = int((pr.ends - pr.starts)[pr.long].max())
    qg = np.searchsorted(pr.bases, cand_q, side="right") - 1
    qs, qe = pr.bases[qg], pr.bases[qg + 1]
    doc = np.searchsorted(ix.doc_starts, cand_p, side="right") - 1
    ds, de = ix.doc_starts[doc], ix.doc_starts[doc + 1]
    left = np.minimum(np.minimum(cand_q - qs, cand_p - ds), cap)
    right = np.minimum(np.minimum(qe - cand_q, de - cand_p), cap)
    step = 1 << 14
    cover = np.zeros(len(pr.starts) + 1, dtype=np.int64)
    offs = np.arange(cap, dtype=np.int64)
    for s in range(0, n_cand, step):
        sl = slice(s, s + step)
        p, q, l_, r_ = cand_p[sl], cand_q[sl], left[sl], right[sl]
        buf, shift = ix.text.compact(p - l_, p + r_)
        tp = p + shift
        # right extension (from the anchor), then left
        ti = np.minimum(tp[:, None] + offs[None, :], len(buf) - 1)
        qi = np.minimum(q[:, None] + offs[None, :], len(pr.qbuf) - 1)
        ok = (buf[ti] == pr.qbuf[qi]) & (offs[None, :] < r_[:, None])
        rr = np.where(ok.all(axis=1), cap, np.argmin(ok, axis=1))
        ti = np.maximum(tp[:, None] - 1 - offs[None, :], 0)
        qi = np.maximum(q[:, None] - 1 - offs[None, :], 0)
        ok = (buf[ti] == pr.qbuf[qi]) & (offs[None, :] < l_[:, None])
        ll = np.where(ok.all(axis=1), cap, np.argmin(ok, axis=1))
        rs, re_ = q - ll, q + rr
        first = np.searchsorted(pr.starts, rs, side="left")
        last = np.searchsorted(pr.ends, re_, side="right")
        good = last > first
        if good.any():
            np.add.at(cover, first[good], 1)
            np.add.at(cover, last[good], -1)
            docs.update(doc[sl][good].tolist())
    found = np.cumsum(cover[:-1]) > 0
    return found, docs, n_cand


def _raw_batches(ix: CorpusIndex, docs: Sequence[int]) -> Iterator[list[int]]:
    """The given documents in groups of about 16 MB of original text."""
    batch: list[int] = []
    size = 0
    for d in docs:
        batch.append(d)
        size += int(ix.raw_starts[d + 1] - ix.raw_starts[d])
        if size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _scan_short(ix: CorpusIndex, groups: Sequence[ProbeGroup], short_groups: Sequence[int],
                exhaustive: bool) -> set[int]:
    """Documents holding a probe shorter than the window: a scan of the whole stored text."""
    if not short_groups:
        return set()
    matcher = Matcher([groups[g] for g in short_groups], exhaustive=exhaustive)
    found: set[int] = set()
    n = ix.n_documents
    d0 = 0
    while d0 < n:
        target = int(ix.doc_starts[d0]) + _BATCH_BYTES
        d1 = max(d0 + 1, int(np.searchsorted(ix.doc_starts, target, side="right")) - 1)
        d1 = min(d1, n)
        data = ix.text.read(int(ix.doc_starts[d0]), int(ix.doc_starts[d1]))
        offs = ix.doc_starts[d0 : d1 + 1] - ix.doc_starts[d0]
        ms = matcher.scan(data, offs)
        found.update(d0 + d for d in ms.docs())
        d0 = d1
    return found


def _index_report(ix: CorpusIndex, probes: Any, cfg: DecontamConfig) -> Report:
    groups = probes.matcher.groups
    exhaustive = cfg.sample.mode == "all"
    pr = _probe_arrays(groups)
    hit = _bloom_hits(ix.bloom, pr)
    found, docs, n_cand = _confirm(ix, pr, hit)
    short_groups = sorted(set(pr.group[~pr.long].tolist()))
    docs |= _scan_short(ix, groups, short_groups, exhaustive)
    # The documents found are scanned with check's own matcher: the report is check's, by construction.
    results = [SourceResult.from_dict(s) for s in ix.manifest["corpus"]["sources"]]
    src = _int_column(ix.docs, "source")
    rows = _int_column(ix.docs, "row")
    lines = _int_column(ix.docs, "line")
    ids = ix.docs.column("id")
    per_group_windows: dict[int, set[int]] = {}
    per_group_run: dict[int, tuple[int, int]] = {}
    for batch in _raw_batches(ix, sorted(docs)):
        texts = _string_array([ix.raw.read(int(ix.raw_starts[d]), int(ix.raw_starts[d + 1])) for d in batch])
        for d, found_here, doc_runs, evidence in match_texts(probes.matcher, texts, cfg.normalize):
            gd = batch[d]
            for gi, windows, run in found_here:
                per_group_windows.setdefault(gi, set()).update(windows)
                prev = per_group_run.get(gi)
                if prev is None or run[1] - run[0] > prev[1] - prev[0]:
                    per_group_run[gi] = run
            raw_id = ids[gd].as_py()
            results[int(src[gd])].rows.append(RowMatch(int(rows[gd]), int(lines[gd]),
                                                       None if raw_id is None else json.loads(raw_id),
                                                       found_here, doc_runs, evidence))
    sources = [s["source"] for s in ix.manifest["corpus"]["sources"]]
    report = build_report(probes, results, cfg, "index-check", sources)
    n_hits = int(hit.sum())
    n_conf = int((found & hit).sum())
    _annotate(report, probes, exhaustive, per_group_windows, per_group_run)
    report.data["index"] = {
        "kind": "index",
        "verified": True,
        "format_version": ix.manifest["format_version"],
        "window": WINDOW,
        "kgram": KGRAM,
        "n_probes": int(len(pr.starts)),
        "n_probes_looked_up": int(pr.long.sum()),
        "n_probes_scanned": int((~pr.long).sum()),
        "bloom_hits": n_hits,
        "confirmed": n_conf,
        "rejected": n_hits - n_conf,
        "candidates_compared": int(n_cand),
        "bloom_fp_rate": ix.manifest["bloom"]["fp_rate"],
        "n_distinct_keys": ix.manifest["bloom"]["n_distinct_keys"],
    }
    return report


def _annotate(report: Report, probes: Any, exhaustive: bool, windows: dict[int, set[int]],
              runs: dict[int, tuple[int, int]]) -> None:
    """Coverage per item (``all`` mode): windows found anywhere in the corpus, and the longest matched run."""
    if not exhaustive:
        return
    for gi, (bi, ii) in enumerate(probes.owner):
        item = probes.items[bi][ii]
        entry = report.data["benchmarks"][bi]["items"][ii]
        n = len(item.offsets)
        k = len(windows.get(gi, ()))
        run = runs.get(gi)
        entry["coverage"] = {
            "windows_found": k,
            "fraction": round(k / n, 6) if n else 0.0,
            "longest_run": list(char_span(item.normalized, *run)) if run else None,
        }


def _portrait_report(pt: Portrait, probes: Any, cfg: DecontamConfig) -> Report:
    groups = probes.matcher.groups
    exhaustive = cfg.sample.mode == "all"
    pr = _probe_arrays(groups)
    hit = _bloom_hits(pt.bloom, pr)
    positive = hit | ~pr.long  # short probes cannot be ruled out: undecided, counted as positive
    corpus = pt.header["corpus"]
    results = [SourceResult.from_dict(s) for s in corpus["sources"]]
    report = build_report(probes, results, cfg, "portrait-check", [s["source"] for s in corpus["sources"]])
    counts = np.bincount(pr.group, minlength=len(groups))
    first = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    windows: dict[int, set[int]] = {}
    runs: dict[int, tuple[int, int]] = {}
    for gi, (bi, ii) in enumerate(probes.owner):
        item = probes.items[bi][ii]
        sl = slice(int(first[gi]), int(first[gi + 1]))
        pos = np.flatnonzero(positive[sl])
        if len(pos) == 0:
            continue
        windows[gi] = set(pos.tolist())
        # longest run of consecutive positive windows, in bytes of the question
        brk = np.flatnonzero(np.diff(pos) != 1)
        a = np.concatenate(([0], brk + 1))
        b = np.concatenate((brk, [len(pos) - 1]))
        best = int(np.argmax(pos[b] - pos[a]))
        g = groups[gi]
        runs[gi] = (int(g.starts[pos[a[best]]]), int(g.ends[pos[b[best]]]))
        sec = report.data["benchmarks"][bi]
        entry = sec["items"][ii]
        undecided = bool((~pr.long[sl])[pos].any())
        span = list(char_span(item.normalized, *runs[gi]))
        if exhaustive:
            entry["matches"] = [{"probe": item.probe(int(pos[0])), "doc_id": "<portrait>",
                                 "n_probes_matched": len(pos), "span": span, "unverified": True}
                                | ({"undecided": True} if undecided else {})]
        else:
            entry["matches"] = [{"probe": item.probe(int(w)), "doc_id": "<portrait>",
                                 "span": [item.offsets[int(w)], item.offsets[int(w)] + item.length],
                                 "unverified": True}
                                | ({"undecided": True} if undecided else {}) for w in pos.tolist()]
        entry["contaminated"] = True
    report.data["benchmarks"] = [benchmark_section(sec, sec["items"]) for sec in report.data["benchmarks"]]
    _annotate(report, probes, exhaustive, windows, runs)
    fp = pt.header["bloom"]["fp_rate"]
    report.data["index"] = {
        "kind": "portrait",
        "verified": False,
        "unverified": True,
        "format_version": pt.header["format_version"],
        "window": WINDOW,
        "kgram": KGRAM,
        "n_probes": int(len(pr.starts)),
        "n_probes_looked_up": int(pr.long.sum()),
        "n_probes_undecided": int((~pr.long).sum()),
        "bloom_hits": int(hit.sum()),
        "confirmed": 0,
        "rejected": 0,
        "bloom_fp_rate": fp,
        "false_positive_rate_per_probe": fp,
        "note": ("portrait results are unverified: a positive probe has its minimum 32-byte gram in the corpus "
                 "(or is a Bloom false positive, rate per probe above); no probe of 50 bytes or more that occurs "
                 "in the corpus is missed; probes shorter than 50 bytes cannot be tested and are reported "
                 "positive ('undecided')"),
    }
    return report
