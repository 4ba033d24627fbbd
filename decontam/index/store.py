"""The index's text stores: normalized and original text in zstd blocks, written once, read by block.

:class:`TextWriter` appends bytes and compresses them in blocks of about 1 MB (in a background thread);
:class:`TextStore` reads ranges back from the memory-mapped file. :class:`HashingWriter` is the append-only
file every index file is written through, so that its size and SHA-256 are known when it closes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from ..arrays import concat_ranges
from ..errors import IndexMismatchError
from .hashing import PAD

__all__ = ["HashingWriter", "PlacedWriter", "TextStore", "TextWriter", "block_cut", "compress_blocks", "sha256_file"]

_TEXT_BLOCK = 1 << 20  # a store's text is cut into blocks at every multiple of this many bytes of the whole text


def _codec() -> pa.Codec:
    return pa.Codec("zstd", compression_level=1)


def block_cut(end: int) -> int:
    """The last place at or before ``end`` where a store cuts its text into blocks.

    Example:
        >>> block_cut(3 << 20), block_cut((3 << 20) - 1)
        (3145728, 2097152)
    """
    return end // _TEXT_BLOCK * _TEXT_BLOCK


def compress_blocks(read: Callable[[int, int], bytes | memoryview], start: int, stop: int,
                    out: BinaryIO) -> tuple[list[int], list[int]]:
    """Compress the text ``[start, stop)`` of a store into ``out``, in the blocks a :class:`TextWriter` makes of
    it: ``start`` must be a cut (:func:`block_cut`), and ``stop`` too unless it is the end of the text (the last,
    short block). The blocks are the writer's byte for byte (same cuts, codec and level), so several processes
    can compress ranges of one text and :meth:`TextWriter.copy_blocks` put them end to end.

    Args:
        read: Reads the text ``[a, b)``.
        start: Where the range starts in the whole text.
        stop: Where it ends.
        out: Where the compressed blocks go, end to end.

    Returns:
        Each block's end in the whole text, and its compressed size.
    """
    codec = _codec()
    ends, sizes = [], []
    for s in range(start, stop, _TEXT_BLOCK):
        e = min(stop, s + _TEXT_BLOCK)
        comp = codec.compress(read(s, e), asbytes=False)
        out.write(memoryview(comp))
        ends.append(e)
        sizes.append(comp.size)
    return ends, sizes


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, in hex (read in 8 MB pieces)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(8 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


class HashingWriter:
    """Append-only binary file that hashes what it writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = open(path, "wb")  # noqa: SIM115 (closed by close(), after the last of many writes)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview | np.ndarray) -> None:
        """Append bytes (or an array's bytes)."""
        b = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        self.fh.write(b)
        self.sha.update(b)
        self.size += len(b)

    def close(self) -> dict[str, Any]:
        """Flush to disk and close; returns the file's ``size`` and ``sha256`` (a manifest entry)."""
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        return {"size": self.size, "sha256": self.sha.hexdigest()}


class PlacedWriter:
    """Writes a slice of an existing file, from a byte offset on: several processes can fill disjoint slices of
    one file (made beforehand at its full size)."""

    def __init__(self, path: Path, offset: int) -> None:
        self.fd = os.open(path, os.O_WRONLY)
        self.at = offset

    def write(self, data: bytes | memoryview | np.ndarray) -> None:
        """Write bytes (or an array's bytes) where the last write ended."""
        view = memoryview(data).cast("B")
        while len(view):
            n = os.pwrite(self.fd, view, self.at)
            view, self.at = view[n:], self.at + n

    def close(self) -> None:
        """Close the file (whoever made it flushes it to disk and hashes it)."""
        os.close(self.fd)


class TextWriter:
    """Normalized text in zstd blocks of about 1 MB.

    Attributes:
        total: Bytes written in whole blocks so far (``pending_size`` more wait for the next block).
        block_starts: Uncompressed start of every block, and the end of the last.
        comp_offsets: Compressed offset of every block written to the file, and the end of the last.
    """

    def __init__(self, path: Path) -> None:
        self.out = HashingWriter(path)
        self.codec = _codec()
        self.pool = ThreadPoolExecutor(1)  # compression releases the GIL: it overlaps the hashing work
        self.inflight: list[Future[Any]] = []
        self.pending: list[bytes | memoryview] = []
        self.pending_size = 0
        self.total = 0
        self.block_starts = [0]
        self.comp_offsets = [0]

    @property
    def size(self) -> int:
        """Bytes appended so far (in whole blocks or pending)."""
        return self.total + self.pending_size

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
        """Compress the pending bytes as a (short) block of their own."""
        if self.pending_size:
            self._block(b"".join(self.pending))
        self.pending, self.pending_size = [], 0

    def close(self) -> dict[str, Any]:
        """Write every block and close the file; returns its manifest entry (``size``, ``sha256``)."""
        self.flush()
        self._drain()
        self.pool.shutdown()
        return self.out.close()


class TextStore:
    """Read access to the stored normalized text (zstd blocks, memory-mapped)."""

    def __init__(self, comp: np.ndarray, block_starts: np.ndarray, comp_offsets: np.ndarray, name: str = "") -> None:
        self.name = name  # the file, as errors name it
        self.comp = comp
        self.block_starts = np.asarray(block_starts, dtype=np.int64)
        self.comp_offsets = np.asarray(comp_offsets, dtype=np.int64)
        self.codec = pa.Codec("zstd")
        self._cache: dict[int, bytes] = {}

    @property
    def total(self) -> int:
        """Bytes of text stored."""
        return int(self.block_starts[-1])

    def block(self, b: int) -> bytes:
        """Block ``b``, decompressed (the last few hundred are cached).

        Raises:
            IndexMismatchError: The block does not decompress to its recorded size.
        """
        raw = self._cache.get(b)
        if raw is None:
            size = int(self.block_starts[b + 1] - self.block_starts[b])
            c0, c1 = int(self.comp_offsets[b]), int(self.comp_offsets[b + 1])
            try:
                raw = self.codec.decompress(memoryview(self.comp[c0:c1]), decompressed_size=size, asbytes=True)
            except (pa.ArrowException, OSError) as exc:
                raise IndexMismatchError(f"{self.name or 'index'}: stored text block {b} is corrupted ({exc}); "
                                         "check the index's files (decontam index info --verify)") from exc
            if len(raw) != size:
                raise IndexMismatchError(f"{self.name or 'index'}: stored text block {b} is corrupted (wrong size); "
                                         "check the index's files (decontam index info --verify)")
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
        buf = np.frombuffer(b"".join(parts) + PAD, dtype=np.uint8)
        slot = np.searchsorted(need, b0)
        shift = cstart[slot] - self.block_starts[b0]
        return buf, shift
