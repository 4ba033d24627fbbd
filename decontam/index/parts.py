"""Every core on one file: an index built by a pool of processes, large files in parts, into the very bytes a
one-process build writes.

A *job* is a part of a file (a byte range of whole JSONL lines, or some Parquet row groups:
:func:`~decontam.inputs.split_file`), or a small file whole. Each job goes through the workers twice, and this
process puts their results together in corpus order:

1. **Read** (:func:`_read`, a worker): the job's batches go through a :class:`~.part.PartBuilder`, as in one
   process, but its normalized text, original text and selected pairs go to spool files, positions counted from
   the job's start; back come its document table, counts and sizes.
2. **Place** (this process, job after job): the job's place in the whole normalized and original text is now
   known (the sizes of the jobs before it). Its line and row numbers are moved by the parts of its file before
   it, its original text is hashed into its file's digests (from the spool, in order: the corpus fingerprint),
   its documents are appended.
3. **Store** (:func:`_store`, a worker): the job's pairs, moved to their place, are thinned and bucketed into a
   run, and the text blocks that end in the job are compressed, cut where one process cuts them (a block may
   take bytes from jobs before it, whose spools are kept until then). This process appends the compressed
   blocks to the stores, in order.
4. **Table** (the workers, by ranges of keys): once every job is stored, each worker sorts and writes ranges of
   the keys' top bits at their offsets in the table files (:func:`_merge`); then the Bloom filter, sized for the
   distinct keys they counted, is filled by slices of the sorted keys, each a set of whole partition groups of
   one shared bit array (:func:`_fill_bloom`). This process hashes the files, and writes the document and block
   tables, the portrait and the manifest.

Nothing depends on where the files were cut or on the number of processes, so the index folder is byte for
byte the one-process one (``docs/index.md``; ``tests/unit/test_index_parts.py`` holds it to that): thinning
keeps the first and last of a run of one key in one stretch ``pos // W`` of the whole text, and such a run never
crosses a document (a selected gram lies inside its document, so the next document's selections are 32 bytes or
more further, past the 19-byte stretch), while jobs and batches end on documents; the table sorts each range of
keys by top 32 bits then position, which are unique; blocks are cut at the same multiples of the whole text and
compressed with the same codec and level; and the Bloom filter gets the same keys.

The spool files (about three times the size of the parts in flight, plus the runs: 12 to 16 bytes per selected
pair) go to a temporary folder in shared memory when it has room, else inside the staging folder; the folder is
removed whatever happens, after the workers stop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..atomic import interrupts_held
from ..bloom import BloomFilter
from ..config import DecontamConfig
from ..errors import InputError
from ..inputs import PART_MAX_BYTES, CorpusFile, FilePart, ReadCounts, Rejected, split_file
from ..runtime import WorkerPool, shared_memory, worker_pool
from ..scan import SourceResult, require_rows
from .hashing import RUN_BITS, bucketed, thin
from .part import PartBuilder
from .store import PlacedWriter, TextWriter, block_cut, compress_blocks, sha256_file
from .write import Table, add_keys, merge_bits, merge_ranges, pos_dtype, run_bounds, sized_bloom, write_files

__all__ = ["Job", "build_in_pool", "plan_jobs"]

_AHEAD = 2  # jobs read ahead per process (bounds the spools in flight)
_SLICES = 4  # table ranges and Bloom slices per process (keeps every process busy to the end)
_SPOOL_PREFIX = ".decontam-index-"


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
            (split_file(f, cfg.num_proc, cfg.text_field, cfg.max_doc_bytes) if size > share else None) or [None])
        for k, part in enumerate(plan):
            jobs.append(Job(len(jobs), f, part, k == 0, k == len(plan) - 1, part.size if part else size))
    return jobs


# ----------------------------------------------------------------------------------------- spool files


def _spool(folder: Path, job: int, what: str) -> Path:
    return folder / f"{job}.{what}"


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


class _PairSpool:
    """A worker's selected pairs, unthinned (thinning needs their place in the whole text), in two files."""

    def __init__(self, folder: Path, job: int) -> None:
        self.keys: BinaryIO = open(_spool(folder, job, "keys"), "wb")  # noqa: SIM115 - closed by close()
        self.pos: BinaryIO = open(_spool(folder, job, "pos"), "wb")  # noqa: SIM115 - closed by close()
        self.n = 0

    def add(self, keys: np.ndarray, pos: np.ndarray) -> None:
        keys.astype("<u8", copy=False).tofile(self.keys)
        pos.astype("<i8", copy=False).tofile(self.pos)
        self.n += len(keys)

    def close(self) -> None:
        self.keys.close()
        self.pos.close()


def _mapped(path: Path, dtype: str, n: int) -> np.ndarray:
    return np.memmap(path, dtype=dtype, mode="r", shape=(n,)) if n else np.zeros(0, dtype=dtype)


class _Text:
    """A range of a store's whole text, read from the spools of the jobs that hold it."""

    def __init__(self, pieces: tuple[tuple[Path, int, int], ...]) -> None:
        self.pieces = []
        for path, start, end in pieces:
            if end > start:
                with open(path, "rb") as fh:
                    self.pieces.append((mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), start, end))

    def read(self, a: int, b: int) -> bytes | memoryview:
        got = [memoryview(m)[max(a, s) - s : min(b, e) - s] for m, s, e in self.pieces if s < b and a < e]
        return got[0] if len(got) == 1 else b"".join(got)

    def close(self) -> None:
        for m, _, _ in self.pieces:
            m.close()


# ------------------------------------------------------------------------------------- in the workers


@dataclass
class _Read:
    """What a worker hands back for a job it read; its text and pairs are in spool files."""

    n_documents: int
    n_characters: int
    rejected: list[Rejected]
    fields: tuple[str, ...] | None
    counts: ReadCounts
    text_size: int
    raw_size: int
    n_pairs: int
    docs: dict[str, Any]


def _read(job: Job, cfg: DecontamConfig, folder: Path) -> _Read:
    """Read a job (in a worker): its documents, its text and its pairs, spooled."""
    text, raw = _Spool(_spool(folder, job.index, "text")), _Spool(_spool(folder, job.index, "raw"))
    pairs = _PairSpool(folder, job.index)
    counts = ReadCounts()
    try:
        b = PartBuilder(cfg, text, raw, pairs.add, hashed=False)
        src = b.add_file(job.file, job.part, counts)
    finally:
        text.close()
        raw.close()
        pairs.close()
    return _Read(src.n_documents, src.n_characters, src.rejected, src.fields, counts, text.size, raw.size,
                 pairs.n, b.documents())


@dataclass(frozen=True)
class _Blocks:
    """A range of a store's whole text to compress (:func:`~.store.compress_blocks`), the spools holding it
    (path, start, end), and the file the blocks go to."""

    start: int
    stop: int
    pieces: tuple[tuple[Path, int, int], ...]
    out: Path


@dataclass(frozen=True)
class _RunFile:
    """A stored job's run (thinned, bucketed pairs) in two files; its positions' type, and its entries per
    top-``RUN_BITS``-bit bucket."""

    keys: Path
    pos: Path
    n: int
    dtype: str
    buckets: np.ndarray


@dataclass(frozen=True)
class _StoreJob:
    index: int
    text_start: int  # where the job's normalized text starts in the whole text, and ends
    text_end: int
    text: _Blocks
    raw: _Blocks


def _store(task: _StoreJob, folder: Path) -> tuple[_RunFile, tuple[list[int], list[int]], tuple[list[int], list[int]]]:
    """Store a job (in a worker): its pairs moved to their place, thinned and bucketed into a run, and the text
    blocks that end in it compressed. Returns the run and, per store, the blocks' ends and compressed sizes."""
    kp, pp = _spool(folder, task.index, "keys"), _spool(folder, task.index, "pos")
    keys = np.fromfile(kp, dtype="<u8")
    pos = np.fromfile(pp, dtype="<i8")
    pos += task.text_start
    keys, pos = bucketed(*thin(keys, pos))
    dtype = "<u4" if task.text_end < (1 << 32) else "<i8"
    run = _RunFile(_spool(folder, task.index, "run.keys"), _spool(folder, task.index, "run.pos"), len(keys), dtype,
                   np.bincount((keys >> np.uint64(64 - RUN_BITS)).astype(np.intp), minlength=1 << RUN_BITS))
    keys.tofile(run.keys)
    pos.astype(dtype).tofile(run.pos)
    kp.unlink()
    pp.unlink()
    return run, _compress(task.text), _compress(task.raw)


def _compress(blocks: _Blocks) -> tuple[list[int], list[int]]:
    text = _Text(blocks.pieces)
    try:
        with open(blocks.out, "wb") as out:
            return compress_blocks(text.read, blocks.start, blocks.stop, out)
    finally:
        text.close()


def _merge(runs: list[_RunFile], bits: int, r0: int, r1: int, offset: int, stage: Path, dtype: str) -> int:
    """Sort and write the table's ranges ``r0 .. r1 - 1`` (in a worker), from entry ``offset`` on; returns
    their distinct keys."""
    loaded = [(_mapped(r.keys, "<u8", r.n), _mapped(r.pos, r.dtype, r.n), 0) for r in runs]
    bounds = [run_bounds(k, bits) for k, _, _ in loaded]
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
    order, so that this process's main thread stays free to hand the workers their next calls.
    """

    def __init__(self, jobs: list[Job], stage: Path, folder: Path) -> None:
        self.jobs, self.stage, self.folder = jobs, stage, folder
        self.text = TextWriter(stage / "text.zst")
        self.raw = TextWriter(stage / "raw.zst")
        self.sources: list[SourceResult] = []
        self.docs: dict[str, list[Any]] = {k: [] for k in ("start", "raw_start", "source", "row", "line", "id")}
        self.spans: list[tuple[int, int, int, int]] = []  # per job: its text's and raw text's start and end
        self.cut = (0, 0)  # the text and raw text are handed out for compression up to here
        self.lines = self.rows = 0  # of the parts of the current file so far
        self.runs: list[_RunFile] = []
        self.kept = [0, 0]  # the first job whose text (raw text) spool is still there
        self.io = ThreadPoolExecutor(1)
        self.pending: deque[Future[Any]] = deque()

    def _later(self, fn: Any, *args: Any) -> None:
        """Run file work in the thread, in order; raise the error of any done before."""
        while self.pending and self.pending[0].done():
            self.pending.popleft().result()
        self.pending.append(self.io.submit(fn, *args))

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

    def add_read(self, job: Job, r: _Read) -> _StoreJob:
        """Place a job read by a worker; returns its store call."""
        src = self.sources[-1]
        lines, rows = (self.lines, self.rows) if _counts_from_start(job) else (0, 0)
        src.rejected += [dataclasses.replace(rj, line=rj.line + lines) for rj in r.rejected]
        src.n_documents += r.n_documents
        src.n_characters += r.n_characters
        src.fields = r.fields or src.fields
        self.lines, self.rows = self.lines + r.counts.lines, self.rows + r.counts.rows
        t0, w0 = (self.spans[-1][1], self.spans[-1][3]) if self.spans else (0, 0)
        t1, w1 = t0 + r.text_size, w0 + r.raw_size
        self.spans.append((t0, t1, w0, w1))
        d = r.docs
        for key, shift in (("start", t0), ("raw_start", w0), ("source", len(self.sources) - 1), ("row", rows),
                           ("line", lines)):
            self.docs[key].append(d[key] + np.asarray(shift, dtype=d[key].dtype))
        self.docs["id"] += d["id"]
        lengths = np.diff(np.append(d["raw_start"], r.raw_size)).astype("<i8").tobytes()
        self._later(_hash_spool, _spool(self.folder, job.index, "raw"), w1 - w0, src, lengths)
        final = job.index == len(self.jobs) - 1
        cut = (t1 if final else block_cut(t1), w1 if final else block_cut(w1))
        task = _StoreJob(job.index, t0, t1, self._blocks(job, 0, cut[0], "text"), self._blocks(job, 2, cut[1], "raw"))
        self.cut = cut
        return task

    def _blocks(self, job: Job, side: int, stop: int, name: str) -> _Blocks:
        start = self.cut[side // 2]
        pieces = tuple((_spool(self.folder, i, name), s[side], s[side + 1])
                       for i, s in enumerate(self.spans) if i >= self.kept[side // 2] and s[side] < stop
                       and start < s[side + 1])
        return _Blocks(start, stop, pieces, _spool(self.folder, job.index, f"{name}.zst"))

    def add_stored(self, task: _StoreJob, run: _RunFile, text: tuple[list[int], list[int]],
                   raw: tuple[list[int], list[int]]) -> None:
        """Take a stored job: its compressed blocks appended, its run kept, the spools no block needs removed."""
        self.runs.append(run)
        for writer, blocks, got, side, name in ((self.text, task.text, text, 0, "text"),
                                                (self.raw, task.raw, raw, 1, "raw")):
            self._later(_append_blocks, writer, blocks, got)
            while self.kept[side] <= task.index and self.spans[self.kept[side]][2 * side + 1] <= blocks.stop:
                self._later(_spool(self.folder, self.kept[side], name).unlink)
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
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
            src.text_digest.update(m)
    src.length_digest.update(lengths)


def _append_blocks(writer: TextWriter, blocks: _Blocks, got: tuple[list[int], list[int]]) -> None:
    """Append a job's compressed blocks (their ends in the whole text, their sizes) to a store."""
    ends, sizes = got
    if ends:
        starts = np.array([blocks.start, *ends], dtype=np.int64) - blocks.start
        offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        with open(blocks.out, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
            writer.copy_blocks(memoryview(m), starts, offsets)
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
    """Cut ``len(cum) - 1`` items with cumulated sizes ``cum`` into at most ``k`` runs of about equal size."""
    cuts = np.unique(np.searchsorted(cum, cum[-1] * np.arange(1, k) / k, side="left"))
    bounds = [0, *[int(c) for c in cuts if 0 < c < len(cum) - 1], len(cum) - 1]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


# ------------------------------------------------------------------------------------------- the build


@contextlib.contextmanager
def _spool_folder(stage: Path, room: int) -> Iterator[Path]:
    """A temporary folder for the spools, in shared memory if it has ``room`` (else in the staging folder);
    removed whatever happens (entered before the pool: left after its workers stop)."""
    where = shared_memory(room) or stage
    folder = Path(tempfile.mkdtemp(prefix=f"{_SPOOL_PREFIX}{os.getpid()}-", dir=where))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def build_in_pool(jobs: list[Job], stage: Path, cfg: DecontamConfig, bloom_fp: float, bar: Any) -> None:
    """Index the files of ``jobs`` into the folder ``stage`` with ``cfg.num_proc`` processes: the same bytes as
    one process (see the module docstring).

    Raises:
        InputError: A malformed file (``on_error="raise"``, the line counted from the start of its file), or a
            corpus without a single row.
    """
    n = cfg.num_proc
    room = 2 * sum(j.size for j in jobs) + 3 * _AHEAD * n * PART_MAX_BYTES
    with _spool_folder(stage, room) as folder, worker_pool(n, _no_setup, (), hold=interrupts_held) as pool:
        asm = _Assembly(jobs, stage, folder)
        try:
            _read_and_store(jobs, pool, asm, cfg, bar)
            require_rows(asm.sources)
            text_info, raw_info = asm.text.close(), asm.raw.close()
            total = asm.text.total
            table, bloom = _table(pool, asm, stage, folder, total, bloom_fp, n)
        finally:
            asm.close()
        write_files(stage, table, bloom, asm.documents(), [s.to_dict() for s in asm.sources], total,
                    {"text": (asm.text, text_info), "raw": (asm.raw, raw_info)}, cfg, bloom_fp)


def _read_and_store(jobs: list[Job], pool: WorkerPool, asm: _Assembly, cfg: DecontamConfig, bar: Any) -> None:
    """Read and store every job in the workers (at most ``_AHEAD`` reads per process ahead), placing the
    results in corpus order."""
    pending: deque[tuple[Job, Any, Any]] = deque()  # (job, read task or None, store task or None)
    queued = reading = 0
    while queued < len(jobs) or pending:
        while queued < len(jobs) and reading < _AHEAD * cfg.num_proc:
            pending.append((jobs[queued], pool.submit(_read, jobs[queued], cfg, asm.folder), None))
            queued += 1
            reading += 1
        job, read, store = pending.popleft()
        if store is not None:
            asm.add_stored(store[0], *store[1].result())
            continue
        reading -= 1
        asm.start(job)
        try:
            r = read.result()
        except InputError as exc:
            raise asm.moved(job, exc) from None
        task = asm.add_read(job, r)
        pending.append((job, None, (task, pool.submit(_store, task, asm.folder))))
        bar.update(job.size)
    asm.drain()


def _table(pool: WorkerPool, asm: _Assembly, stage: Path, folder: Path, total: int, bloom_fp: float,
           n: int) -> tuple[Table, BloomFilter]:
    """Sort and write the table from the jobs' runs, then fill the Bloom filter, in the workers."""
    runs = asm.runs
    n_entries = sum(r.n for r in runs)
    dtype = pos_dtype(total)
    bits = merge_bits(n_entries)
    per_range = np.sum([r.buckets for r in runs], axis=0, dtype=np.int64).reshape(1 << bits, -1).sum(axis=1) \
        if runs else np.zeros(1, dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(per_range)))
    keys_path = _made(stage / "keys.u64", n_entries * 8)
    pos_path = _made(stage / f"pos.{dtype}", n_entries * np.dtype(dtype).itemsize)
    merges = [pool.submit(_merge, runs, bits, a, b, int(cum[a]), stage, dtype)
              for a, b in _slices(cum, _SLICES * n)]
    distinct = sum(t.result() for t in merges)
    for r in runs:
        r.keys.unlink()
        r.pos.unlink()
    bloom = sized_bloom(distinct, bloom_fp)
    bits_path = _made(folder / "bloom.bits", len(bloom.bits))
    keys = _mapped(keys_path, "<u8", n_entries)
    at = [0, *np.searchsorted(keys, np.array(bloom.key_cuts(_SLICES * n), dtype=np.uint64)).tolist(), n_entries]
    fills = [pool.submit(_fill_bloom, bloom.params(), bits_path, keys_path, n_entries, a, b)
             for a, b in zip(at[:-1], at[1:]) if b > a]
    sealed = [asm.io.submit(_sealed, p) for p in (keys_path, pos_path)]  # while the workers fill the filter
    for t in fills:
        t.result()
    bloom.bits = np.fromfile(bits_path, dtype=np.uint8)
    return Table(sealed[0].result(), sealed[1].result(), dtype, n_entries, distinct), bloom
