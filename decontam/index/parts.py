"""Every core on one file: an index built by a pool of processes, large files in parts, into the very bytes a
one-process build writes.

A *job* is a part of a file (a byte range of whole JSONL lines, or some Parquet row groups:
:func:`~decontam.inputs.split_file`), or a small file whole. Jobs go through the workers, and this process puts
their results together in corpus order:

1. **Read** (:func:`_read`, a worker): the job's batches go through a :class:`~.part.PartBuilder` as in one
   process (each batch's selected pairs thinned and bucketed into a run), but the runs, the normalized text and
   the original text go to spool files, positions counted from the job's start. Back come its document table,
   its runs' sizes and its texts' sizes.
2. **Place** (this process, job after job): the job's place in the whole normalized and original text is now
   known (the sizes of the jobs before it). Its line and row numbers are moved by the parts of its file before
   it, its original text is hashed into its file's digests (from the spool, in order: the corpus fingerprint),
   its documents are appended, its runs noted with the offset of their positions.
3. **Compress** (:func:`_compress`, a worker): the text blocks that end in the job are compressed, cut where one
   process cuts them (at every multiple of the block size of the whole text: a block may take bytes from jobs
   before it, whose spools are kept until then). This process appends them to the stores, in order.
4. **Table** (the workers, by ranges of keys): once every job is placed, each worker sorts and writes ranges of
   the keys' top bits at their offsets in the table files (:func:`_merge`); then the Bloom filter, sized for the
   distinct keys they counted, is filled by slices of the sorted keys, each a set of whole partition groups of
   one shared bit array (:func:`_fill_bloom`). This process hashes the files, and writes the document and block
   tables, the portrait and the manifest.

Nothing depends on where the files were cut or on the number of processes, so the index folder is byte for
byte the one-process one (``docs/index.md``; ``tests/unit/test_index_parts.py`` holds it to that): the pairs of
a document depend on its text alone (thinning counts its stretches from the document's start), jobs and batches
end on documents, and the table sorts each range of keys by top 32 bits then position, which are unique; blocks
are cut at the same places of the whole text and compressed with the same codec and level; the Bloom filter gets
the same keys.

The spool files go to temporary folders in shared memory when it has room, else inside the staging folder: the
texts of the jobs in flight (about twice their size), and the runs, kept to the end (12 bytes per kept pair,
about 1.1 bytes per byte of text: for a large corpus, on disk). They are removed whatever happens, after the
workers stop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..atomic import interrupts_held
from ..bloom import BloomFilter
from ..config import DecontamConfig
from ..errors import InputError
from ..inputs import CorpusFile, FilePart, ReadCounts, Rejected, split_file
from ..runtime import WorkerPool, shared_memory, worker_pool
from ..scan import SourceResult, require_rows
from .hashing import RUN_BITS, bucketed
from .part import PartBuilder
from .store import PlacedWriter, TextWriter, block_cut, compress_blocks, sha256_file
from .write import (
    Run,
    Table,
    add_keys,
    merge_bits,
    merge_ranges,
    pos_dtype,
    sized_bloom,
    write_files,
    write_tables,
)

__all__ = ["Job", "build_in_pool", "plan_jobs"]

_AHEAD = 2  # jobs read ahead per process (bounds the spools in flight)
# Parts of about one JSONL read block: a part's spools are read back (hashed, compressed) while still partly in
# the CPU's cache, and the last parts leave little work to one process (docs/performance.md).
_PART_BYTES = 16 << 20
_SLICES = 4  # table ranges and Bloom slices per process (keeps every process busy to the end)
_SPOOL_PREFIX = ".decontam-index-"
_Compressed = tuple[list[int], list[int]]  # blocks' ends in the whole text, their compressed sizes
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)  # (Linux)


@dataclass(frozen=True)
class Job:
    """A piece of a build in a pool: a part of a file, or a file whole.

    Attributes:
        index: Its place among the build's jobs (corpus order).
        file: The file, and ``part`` the part of it (None: the whole file).
        first: It starts its file; ``last``: it ends it.
        size: Its bytes of the file (for progress).
    """

    index: int
    file: CorpusFile
    part: FilePart | None
    first: bool
    last: bool
    size: int


def plan_jobs(files: list[CorpusFile], cfg: DecontamConfig) -> list[Job]:
    """The jobs of a build by ``cfg.num_proc`` processes, in corpus order: files larger than a process's share
    in parts (:func:`~decontam.inputs.split_file`; gzip files cannot be cut), the others whole."""
    sizes = [f.path.stat().st_size for f in files]
    share = sum(sizes) / (2 * cfg.num_proc)
    jobs: list[Job] = []
    for f, size in zip(files, sizes):
        plan: list[FilePart | None] = list(
            (split_file(f, cfg.num_proc, cfg.text_field, cfg.max_doc_bytes, _PART_BYTES) if size > share else None)
            or [None])
        for k, part in enumerate(plan):
            jobs.append(Job(len(jobs), f, part, k == 0, k == len(plan) - 1, part.size if part else size))
    return jobs


# ----------------------------------------------------------------------------------------- spool files


def _spool(folder: Path, job: int, what: str) -> Path:
    return folder / f"{job}.{what}"


def _whole(path: Path) -> mmap.mmap:
    """A spool file mapped to be read whole: every page mapped in one call (``MAP_POPULATE``), not a page
    fault a page."""
    with open(path, "rb") as fh:
        return mmap.mmap(fh.fileno(), 0, flags=mmap.MAP_SHARED | _POPULATE, prot=mmap.PROT_READ)


def _mapped(path: Path, dtype: str, n: int) -> np.ndarray:
    return np.memmap(path, dtype=dtype, mode="r", shape=(n,)) if n else np.zeros(0, dtype=dtype)


class _Spool:
    """A spool file written in order: where a worker's text goes (a :class:`~.part.TextSink`)."""

    def __init__(self, path: Path) -> None:
        self.fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close(), on every path
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        self.fh.write(data)
        self.size += memoryview(data).nbytes

    def close(self) -> None:
        self.fh.close()


class _RunSpool:
    """A worker's runs (a batch's thinned pairs, bucketed by their keys' top bits), end to end in two files:
    keys, and positions from the batch's start (``uint32``: a batch of more normalized text than that makes
    several runs)."""

    def __init__(self, folder: Path, job: int) -> None:
        self.keys: BinaryIO = open(_spool(folder, job, "keys"), "wb")  # noqa: SIM115 - closed by close()
        self.pos: BinaryIO = open(_spool(folder, job, "pos"), "wb")  # noqa: SIM115 - closed by close()
        self.runs: list[tuple[int, int]] = []  # per run: its entries, the offset of its positions in the job
        self.buckets: list[np.ndarray] = []  # per run: its entries per top-RUN_BITS-bit bucket

    def add(self, keys: np.ndarray, pos: np.ndarray, at: int) -> None:
        """Keep a batch's thinned pairs (positions from ``at`` on)."""
        high = int(pos[-1]) >> 32 if len(pos) else 0
        cuts = np.searchsorted(pos, np.arange(1, high + 1, dtype=np.int64) << 32).tolist()
        for k, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(pos)])):
            rk, rp = bucketed(keys[a:b], pos[a:b] - (k << 32))
            rk.astype("<u8", copy=False).tofile(self.keys)
            rp.astype("<u4").tofile(self.pos)
            self.runs.append((b - a, at + (k << 32)))
            self.buckets.append(np.bincount((rk >> np.uint64(64 - RUN_BITS)).astype(np.intp),
                                            minlength=1 << RUN_BITS))

    def close(self) -> None:
        self.keys.close()
        self.pos.close()


@dataclass(frozen=True)
class _RunFile:
    """A job's runs, end to end in two files (see :class:`_RunSpool`): per run, its entries and the offset of its
    positions in the whole text, and its entries per top-``RUN_BITS``-bit bucket."""

    keys: Path
    pos: Path
    runs: tuple[tuple[int, int], ...]
    buckets: np.ndarray

    def load(self, bits: int) -> tuple[list[Run], list[list[int]]]:
        """The runs, memory-mapped, and where each range of the keys' top ``bits`` bits starts in each (as
        :func:`~.write.run_bounds` finds it)."""
        n = sum(m for m, _ in self.runs)
        keys, pos = _mapped(self.keys, "<u8", n), _mapped(self.pos, "<u4", n)
        runs: list[Run] = []
        at = 0
        for m, off in self.runs:
            runs.append((keys[at : at + m], pos[at : at + m], off))
            at += m
        ranges = self.buckets.reshape(len(self.runs), 1 << bits, (1 << RUN_BITS) >> bits).sum(axis=2)
        bounds = np.zeros((len(self.runs), (1 << bits) + 1), dtype=np.int64)
        np.cumsum(ranges, axis=1, out=bounds[:, 1:])
        return runs, bounds.tolist()


class _Text:
    """A range of a store's whole text, read from the spools of the jobs that hold it."""

    def __init__(self, pieces: tuple[tuple[Path, int, int], ...]) -> None:
        self.pieces: list[tuple[mmap.mmap, int, int]] = []
        for path, start, end in pieces:
            if end > start:
                self.pieces.append((_whole(path), start, end))

    def read(self, a: int, b: int) -> bytes | memoryview:
        """The text ``[a, b)``: a view of one spool, or the pieces of several joined (the caller lets go of a
        view before :meth:`close`)."""
        got = [memoryview(m)[max(a, s) - s : min(b, e) - s] for m, s, e in self.pieces if s < b and a < e]
        return got[0] if len(got) == 1 else b"".join(got)

    def close(self) -> None:
        for m, _, _ in self.pieces:
            m.close()


# ------------------------------------------------------------------------------------- in the workers


@dataclass
class _Read:
    """What a worker hands back for a job it read; its texts and runs are in spool files."""

    n_documents: int
    n_characters: int
    rejected: list[Rejected]
    fields: tuple[str, ...] | None
    counts: ReadCounts
    text_size: int
    raw_size: int
    runs: list[tuple[int, int]]
    buckets: list[np.ndarray]
    docs: dict[str, Any]


def _read(job: Job, cfg: DecontamConfig, folders: tuple[Path, Path]) -> _Read:
    """Read a job (in a worker): its documents; its texts and runs, spooled (in ``folders``)."""
    text, raw = _Spool(_spool(folders[0], job.index, "text")), _Spool(_spool(folders[0], job.index, "raw"))
    runs = _RunSpool(folders[1], job.index)
    counts = ReadCounts()
    try:
        b = PartBuilder(cfg, text, raw, runs.add, hashed=False)
        src = b.add_file(job.file, job.part, counts)
    finally:
        text.close()
        raw.close()
        runs.close()
    return _Read(src.n_documents, src.n_characters, src.rejected, src.fields, counts, text.size, raw.size,
                 runs.runs, runs.buckets, b.documents())


@dataclass(frozen=True)
class _Blocks:
    """A range of a store's whole text to compress (:func:`~.store.compress_blocks`), the spools holding it
    (path, start, end in the whole text), and the file the blocks go to."""

    start: int
    stop: int
    pieces: tuple[tuple[Path, int, int], ...]
    out: Path


def _compress(text: _Blocks, raw: _Blocks) -> tuple[_Compressed, _Compressed]:
    """Compress the blocks that end in a job, of both stores (in a worker)."""
    return _compress_blocks(text), _compress_blocks(raw)


def _compress_blocks(blocks: _Blocks) -> _Compressed:
    text = _Text(blocks.pieces)
    try:
        with open(blocks.out, "wb") as out:
            return compress_blocks(text.read, blocks.start, blocks.stop, out)
    finally:
        text.close()


def _merge(runs: list[_RunFile], bits: int, r0: int, r1: int, offset: int, stage: Path, dtype: str) -> int:
    """Sort and write the table's ranges ``r0 .. r1 - 1`` (in a worker), from entry ``offset`` on; returns
    their distinct keys."""
    loaded: list[Run] = []
    bounds: list[list[int]] = []
    for r in runs:
        got = r.load(bits)
        loaded += got[0]
        bounds += got[1]
    kw = PlacedWriter(stage / "keys.u64", offset * 8)
    pw = PlacedWriter(stage / f"pos.{dtype}", offset * np.dtype(dtype).itemsize)
    try:
        return merge_ranges(loaded, bounds, r0, r1, kw, pw, dtype)
    finally:
        kw.close()
        pw.close()


def _fill_bloom(params: dict[str, Any], bits_path: Path, keys_path: Path, n: int, a: int, b: int) -> None:
    """Add the sorted keys ``[a, b)`` (whole partition groups) to the shared Bloom filter bits (in a worker)."""
    bits = np.memmap(bits_path, dtype=np.uint8, mode="r+")
    add_keys(BloomFilter.from_params(params, bits), _mapped(keys_path, "<u8", n), a, b)
    bits.flush()


def _no_setup() -> None:
    """Workers that build an index need nothing set up beforehand."""


# ------------------------------------------------------------------------------------ in this process


class _Assembly:
    """This process's side of a build: the jobs' results put together in corpus order.

    File work (hashing the spooled text, appending compressed blocks, removing spools) runs in one thread, in
    order, so that the main thread stays free to hand the workers their next calls (a worker waits for it).
    """

    def __init__(self, jobs: list[Job], stage: Path, folders: tuple[Path, Path]) -> None:
        self.jobs, self.stage, self.folders = jobs, stage, folders
        self.folder = folders[0]  # the texts' spools
        self.stores = (TextWriter(stage / "text.zst"), TextWriter(stage / "raw.zst"))
        self.sources: list[SourceResult] = []
        self.docs: dict[str, list[Any]] = {k: [] for k in ("start", "raw_start", "source", "row", "line", "id")}
        self.spans: list[tuple[tuple[int, int], tuple[int, int]]] = []  # per job, per store: its start and end
        self.cut = [0, 0]  # per store: blocks are handed out for compression up to here
        self.kept = [0, 0]  # per store: the first job whose spool is still there
        self.lines = self.rows = 0  # of the parts of the current file so far
        self.runs: list[_RunFile] = []
        self.buckets = np.zeros(1 << RUN_BITS, dtype=np.int64)
        self.io = ThreadPoolExecutor(1)
        self.pending: deque[Future[Any]] = deque()

    def later(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run file work in the thread, in order; raise the error of any done before."""
        while self.pending and self.pending[0].done():
            self.pending.popleft().result()
        self.pending.append(self.io.submit(fn, *args))
        return self.pending[-1]

    def drain(self) -> None:
        """Wait for the file work."""
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        self.io.shutdown(wait=True, cancel_futures=True)

    def start(self, job: Job) -> None:
        """A job's result is next: a new source if it starts its file."""
        if job.first:
            self.sources.append(SourceResult(str(job.file.path)))
            self.lines = self.rows = 0

    def moved(self, job: Job, exc: InputError) -> InputError:
        """An error of a job, its line counted from the start of its file."""
        return exc.moved(self.lines) if _counts_from_start(job) else exc

    def place(self, job: Job, r: _Read) -> tuple[_Blocks, _Blocks]:
        """Place a job read by a worker; returns the block ranges its compression call takes."""
        src = self.sources[-1]
        lines, rows = (self.lines, self.rows) if _counts_from_start(job) else (0, 0)
        src.rejected += [dataclasses.replace(rj, line=rj.line + lines) for rj in r.rejected]
        src.n_documents += r.n_documents
        src.n_characters += r.n_characters
        src.fields = r.fields or src.fields
        self.lines, self.rows = self.lines + r.counts.lines, self.rows + r.counts.rows
        t0, w0 = (self.spans[-1][0][1], self.spans[-1][1][1]) if self.spans else (0, 0)
        self.spans.append(((t0, t0 + r.text_size), (w0, w0 + r.raw_size)))
        d = r.docs
        for key, shift in (("start", t0), ("raw_start", w0), ("source", len(self.sources) - 1), ("row", rows),
                           ("line", lines)):
            self.docs[key].append(d[key] + np.asarray(shift, dtype=d[key].dtype))
        self.docs["id"] += d["id"]
        runs = self.folders[1]
        self.runs.append(_RunFile(_spool(runs, job.index, "keys"), _spool(runs, job.index, "pos"),
                                  tuple((m, t0 + off) for m, off in r.runs),
                                  np.array(r.buckets, dtype=np.int64).reshape(len(r.runs), 1 << RUN_BITS)))
        self.buckets += np.sum(r.buckets, axis=0, dtype=np.int64)
        lengths = np.diff(np.append(d["raw_start"], r.raw_size)).astype("<i8").tobytes()
        self.later(_hash_spool, _spool(self.folder, job.index, "raw"), r.raw_size, src, lengths)
        last = job.index == len(self.jobs) - 1
        return self._blocks(job, 0, "text", last), self._blocks(job, 1, "raw", last)

    def _blocks(self, job: Job, side: int, name: str, last: bool) -> _Blocks:
        start, end = self.cut[side], self.spans[-1][side][1]
        stop = end if last else block_cut(end)
        pieces = tuple((_spool(self.folder, i, name), *span[side]) for i, span in enumerate(self.spans)
                       if i >= self.kept[side] and span[side][0] < stop and start < span[side][1])
        self.cut[side] = stop
        return _Blocks(start, stop, pieces, _spool(self.folder, job.index, f"{name}.zst"))

    def add_blocks(self, job: Job, blocks: tuple[_Blocks, _Blocks], got: tuple[_Compressed, _Compressed]) -> None:
        """Take a job's compressed blocks (in order): appended to the stores; the spools no block needs any more
        removed."""
        for side, name in ((0, "text"), (1, "raw")):
            self.later(_append_blocks, self.stores[side], blocks[side], got[side])
            while self.kept[side] <= job.index and self.spans[self.kept[side]][side][1] <= blocks[side].stop:
                self.later(_spool(self.folder, self.kept[side], name).unlink)
                self.kept[side] += 1

    def documents(self) -> dict[str, Any]:
        """The whole document table."""
        dtypes = {"start": np.int64, "raw_start": np.int64, "source": np.int32, "row": np.int64, "line": np.int64}
        out: dict[str, Any] = {k: (np.concatenate(self.docs[k]) if self.docs[k] else np.zeros(0, dtype=t))
                               for k, t in dtypes.items()}
        out["id"] = self.docs["id"]
        return out


def _counts_from_start(job: Job) -> bool:
    """JSONL parts number their lines and rows from the part's start (Parquet row groups keep theirs)."""
    return job.part is not None and job.part.byte_range is not None


def _hash_spool(path: Path, size: int, src: SourceResult, lengths: bytes) -> None:
    """Hash a job's spooled original text and its documents' lengths into its source's digests."""
    if size:
        with _whole(path) as m:
            src.text_digest.update(m)
    src.length_digest.update(lengths)


def _append_blocks(writer: TextWriter, blocks: _Blocks, got: _Compressed) -> None:
    """Append a job's compressed blocks (their ends in the whole text, their sizes) to a store."""
    ends, sizes = got
    if ends:
        starts = np.array([blocks.start, *ends], dtype=np.int64) - blocks.start
        offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        with _whole(blocks.out) as m:
            view = memoryview(m)
            writer.copy_blocks(view, starts, offsets)
            view.release()
    blocks.out.unlink()


def _sealed(path: Path) -> dict[str, Any]:
    """Flush a file the workers wrote to disk; its manifest entry."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


def _made(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def _slices(cum: np.ndarray, k: int) -> list[tuple[int, int]]:
    """Cut ``len(cum) - 1`` items with cumulated sizes ``cum`` into at most ``k`` runs of about equal size.

    Example:
        >>> _slices(np.array([0, 5, 6, 7, 12]), 2)
        [(0, 2), (2, 4)]
    """
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, k) / k, side="left").tolist()
    bounds = sorted({0, len(cum) - 1, *(c for c in cuts if 0 < c < len(cum) - 1)})
    return list(zip(bounds[:-1], bounds[1:]))


# ------------------------------------------------------------------------------------------- the build


@contextlib.contextmanager
def _spool_folders(stage: Path, jobs: list[Job], n: int) -> Iterator[tuple[Path, Path]]:
    """Temporary folders for the texts of the jobs in flight and for the runs (kept to the end), each in shared
    memory if it has room, else in the staging folder; removed whatever happens (entered before the pool: left
    after its workers stop)."""
    text = [j.size * (5 if j.file.format == "jsonl.gz" else 1) for j in jobs]  # (gzip: text outweighs the file)
    in_flight = 2 * sum(sorted(text)[-(_AHEAD + 1) * n :])
    kept = 2 * sum(text)  # the runs, the Bloom filter's bits
    both = shared_memory(in_flight + kept)
    places = [both or shared_memory(in_flight) or stage, both or stage]
    made: list[Path] = []
    try:
        for where in places if places[0] != places[1] else places[:1]:
            made.append(Path(tempfile.mkdtemp(prefix=f"{_SPOOL_PREFIX}{os.getpid()}-", dir=where)))
        yield made[0], made[-1]
    finally:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)


def build_in_pool(jobs: list[Job], stage: Path, cfg: DecontamConfig, bloom_fp: float, bar: Any) -> None:
    """Index the files of ``jobs`` into the folder ``stage`` with ``cfg.num_proc`` processes: the same bytes as
    one process (see the module docstring).

    Raises:
        InputError: A malformed file (``on_error="raise"``, the line counted from the start of its file), or a
            corpus without a single row.
    """
    n = cfg.num_proc
    with _spool_folders(stage, jobs, n) as folders, worker_pool(n, _no_setup, (), hold=interrupts_held) as pool:
        asm = _Assembly(jobs, stage, folders)
        try:
            compressing = _read_all(jobs, pool, asm, cfg, bar)
            require_rows(asm.sources)
            total = asm.spans[-1][0][1] if asm.spans else 0
            merging = _merge_calls(pool, asm, total, n)  # the workers sort while the last blocks are compressed
            for job, blocks, task in compressing:
                asm.add_blocks(job, blocks, task.result())
            tables = asm.later(_close_stores, asm)
            table, bloom = _fill_bloom_calls(pool, asm, merging, bloom_fp, n)
            files = tables.result()
        finally:
            asm.close()
        write_files(stage, table, bloom, files, len(asm.docs["id"]), [s.to_dict() for s in asm.sources], total,
                    cfg, bloom_fp)


def _read_all(jobs: list[Job], pool: WorkerPool, asm: _Assembly, cfg: DecontamConfig,
              bar: Any) -> list[tuple[Job, tuple[_Blocks, _Blocks], Any]]:
    """Read and place every job (at most ``_AHEAD`` reads per process ahead), in corpus order, each then handed
    to a worker to compress its blocks; returns the compression calls not taken yet (in order)."""
    pending: deque[tuple[Job, Any, Any]] = deque()  # (job, its read call, or its blocks and compression call)
    queued = reading = 0
    while queued < len(jobs) or reading:
        while queued < len(jobs) and reading < _AHEAD * cfg.num_proc:
            pending.append((jobs[queued], pool.submit(_read, jobs[queued], cfg, asm.folders, queue_ahead=True), None))
            queued += 1
            reading += 1
        job, read, compressed = pending.popleft()
        if compressed is not None:
            asm.add_blocks(job, compressed[0], compressed[1].result())
            continue
        reading -= 1
        asm.start(job)
        try:
            r = read.result()
        except InputError as exc:
            raise asm.moved(job, exc) from None
        blocks = asm.place(job, r)
        pending.append((job, None, (blocks, pool.submit(_compress, *blocks, queue_ahead=True))))
        bar.update(job.size)
    return [(job, c[0], c[1]) for job, _, c in pending]


def _close_stores(asm: _Assembly) -> dict[str, Any]:
    """Close the text stores (every block appended) and write the document and block tables (in the thread)."""
    text, raw = asm.stores
    infos = text.close(), raw.close()
    return write_tables(asm.stage, asm.documents(), {"text": (text, infos[0]), "raw": (raw, infos[1])})


@dataclass
class _Merging:
    """The table being sorted by the workers: its files, size, position type, and the calls."""

    keys: Path
    pos: Path
    n_entries: int
    dtype: str
    calls: list[Any]


def _merge_calls(pool: WorkerPool, asm: _Assembly, total: int, n: int) -> _Merging:
    """Hand the table's ranges to the workers, to sort from the jobs' runs and write at their offsets."""
    n_entries = int(asm.buckets.sum())
    dtype = pos_dtype(total)
    bits = merge_bits(n_entries)
    cum = np.concatenate(([0], np.cumsum(asm.buckets.reshape(1 << bits, -1).sum(axis=1))))
    keys_path = _made(asm.stage / "keys.u64", n_entries * 8)
    pos_path = _made(asm.stage / f"pos.{dtype}", n_entries * np.dtype(dtype).itemsize)
    calls = [pool.submit(_merge, asm.runs, bits, a, b, int(cum[a]), asm.stage, dtype, queue_ahead=True)
             for a, b in _slices(cum, _SLICES * n)]
    return _Merging(keys_path, pos_path, n_entries, dtype, calls)


def _fill_bloom_calls(pool: WorkerPool, asm: _Assembly, merging: _Merging, bloom_fp: float,
                      n: int) -> tuple[Table, BloomFilter]:
    """Once the table is sorted, fill the Bloom filter, sized for its distinct keys, in the workers (by slices
    of whole partition groups); meanwhile flush and hash the table's files here."""
    distinct = sum(t.result() for t in merging.calls)
    for r in asm.runs:
        asm.later(r.keys.unlink)
        asm.later(r.pos.unlink)
    bloom = sized_bloom(distinct, bloom_fp)
    bits_path = _made(asm.folders[1] / "bloom.bits", len(bloom.bits))
    n_entries = merging.n_entries
    keys = _mapped(merging.keys, "<u8", n_entries)
    at = [0, *np.searchsorted(keys, np.array(bloom.key_cuts(_SLICES * n), dtype=np.uint64)).tolist(), n_entries]
    fills = [pool.submit(_fill_bloom, bloom.params(), bits_path, merging.keys, n_entries, a, b,
                         queue_ahead=True)
             for a, b in zip(at[:-1], at[1:]) if b > a]
    sealed = [asm.later(_sealed, p) for p in (merging.keys, merging.pos)]
    for t in fills:
        t.result()
    bloom.bits = np.memmap(bits_path, dtype=np.uint8, mode="r")
    asm.drain()
    return Table(sealed[0].result(), sealed[1].result(), merging.dtype, n_entries, distinct), bloom
