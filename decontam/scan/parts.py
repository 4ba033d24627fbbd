"""Every core on one file: a large file is read in parts by the workers, and put back together in order.

A part (a byte range of whole lines of a JSONL file, or some row groups of a Parquet file; see
:func:`~decontam.inputs.split_file`) is scanned by a worker like a whole file, except for what only the whole
file in order can give, which the worker hands back for this process to finish, part after part:

* line and row numbers: a worker numbers the lines and rows of its byte range from the range's start, and
  says how many newlines and rows it read; this process moves them (and the line of an error) by the parts
  before;
* the corpus digests (SHA-256 of the text, in order): a worker writes the text it checked to a spool file,
  which this process hashes, so the fingerprint is the one a one-process run computes;
* the output: a worker of a JSONL part hands back its kept rows as byte ranges of the input, which this
  process copies from the input file to the output (the kernel copies them: they never pass through a
  worker); a worker of Parquet row groups writes its kept record batches to a part file (Arrow IPC), which
  this process writes with the one Parquet writer a one-process run uses, batch for batch.

So the report and the output are byte for byte those of ``num_proc=1``. The spool and part files live in a
temporary folder the caller makes (:func:`spool_folder`; removed, whatever happens, once the workers are
stopped).

An engine runs the jobs of a plan (:func:`plan_parts`: whole files, and the parts of large ones) wherever it
runs them (local processes, Ray) and hands their outcomes, in corpus order, to :func:`assemble_jobs`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from ..atomic import writing
from ..config import DecontamConfig
from ..errors import InputError
from ..inputs import (
    PART_MAX_BYTES,
    CorpusFile,
    FilePart,
    ReadCounts,
    Rejected,
    filter_rows,
    read_file,
    split_file,
)
from ..match import Matcher
from ..neardup import NearDupIndex
from ..outputs import FileWriter, edit_arrow, kept_line_runs
from ..runtime import shared_memory as memory_folder
from .step import NearRow, RowMatch, SourceResult, scan_batches

__all__ = ["JobOutcome", "PartAssembly", "PartResult", "assemble_jobs", "file_folder", "plan_parts", "scan_part",
           "spool_folder"]


def _open_over(path: Path) -> BinaryIO:
    """Open a spool file to be written over from its start: not truncated, so that its pages are used again."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb")


def _close_cut(fh: BinaryIO) -> None:
    """Close a file opened by :func:`_open_over`, cut to what was written (an earlier, longer part's bytes
    beyond it go)."""
    try:
        fh.flush()
        os.ftruncate(fh.fileno(), fh.tell())
    finally:
        fh.close()


class _Spool:
    """Stands in for a digest in a worker: what would be hashed is written to a file instead.

    The file is written over from its start, not truncated first (then cut to what was written): a spool file
    used again (a slot of :func:`scan_part`) keeps its memory pages, which a fresh file would get anew, and on
    a virtual machine memory freshly given to a file or a process costs more than the copy into it
    (``docs/performance.md``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with writing(path):
            self._fh: BinaryIO | None = _open_over(path)

    def update(self, data: Any) -> None:
        assert self._fh is not None
        with writing(self.path):
            self._fh.write(data)

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            with writing(self.path):
                _close_cut(fh)


class _BatchSpool:
    """A Parquet part's kept rows: its filtered record batches, one per input batch (empty ones too), in
    Arrow IPC, for this process to write with the output's one Parquet writer. Written over a slot's file
    from its start, as :class:`_Spool` is; ``opened`` says whether this part wrote it (a part may have no
    batch)."""

    def __init__(self, path: Path, text_field: str) -> None:
        self.path = path
        self.text_field = text_field
        self.opened = False
        self._writer: Any = None
        self._fh: BinaryIO | None = None

    def write(self, batch: Any, keep: Any) -> None:
        rb: pa.RecordBatch = edit_arrow(batch.raw, batch.edits or {}, self.text_field)
        rb = filter_rows(rb, keep) if not keep.all() else rb  # (string_view columns too)
        with writing(self.path):
            if self._writer is None:
                self._fh = _open_over(self.path)
                self.opened = True
                self._writer = pa.ipc.new_stream(pa.PythonFile(self._fh, mode="w"), rb.schema)
            self._writer.write_batch(rb)

    def close(self) -> None:
        writer, fh, self._writer, self._fh = self._writer, self._fh, None, None
        with writing(self.path):
            try:
                if writer is not None:
                    writer.close()
            finally:
                if fh is not None:
                    _close_cut(fh)


class _SpanSpool:
    """A JSONL part's kept rows as byte ranges of the input file (runs of adjacent lines), for this process to
    copy from the input to the output: the rows never pass through a worker's memory or a part file."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def write(self, batch: Any, keep: Any) -> None:
        _, starts, ends = batch.raw
        assert batch.raw_at is not None
        a, b = kept_line_runs(starts, ends, keep)
        self.starts += [batch.raw_at + x for x in a]
        self.ends += [batch.raw_at + x for x in b]

    def spans(self) -> np.ndarray:
        return np.array([self.starts, self.ends], dtype=np.int64).T.reshape(-1, 2)

    def close(self) -> None:
        pass


@dataclass
class PartResult:
    """What a worker hands back for one part: its result, less the digests (spooled), and its counts."""

    index: int
    n_documents: int
    n_characters: int
    rows: list[RowMatch]
    rejected: list[Rejected]
    fields: tuple[str, ...] | None
    counts: ReadCounts
    text_spool: Path
    length_spool: Path
    output: Path | None
    spans: np.ndarray | None  # a JSONL part's kept rows: byte ranges of the input (instead of ``output``)
    numbered_from_start: bool  # JSONL: lines and rows count from the part's start (to be moved)
    near_rows: list[NearRow]
    in_slot: bool = False  # its spool files are a slot's, used again by a later part (removed with the file's)


def scan_part(f: CorpusFile, part: FilePart, matcher: Matcher, config: DecontamConfig, folder: Path,
              want_output: bool, target: Path | None = None, near: NearDupIndex | None = None,
              slot: int | None = None) -> PartResult:
    """Scan one part of a file (in a worker), spooling its text and writing its kept rows into ``folder``;
    ``target`` is the output they go to (named when a write fails); ``near`` runs the near-duplicate pass.

    With ``slot``, the spool files are those of that slot, which a later part of the file uses again once this
    part's have been read (the caller sees to that: no two parts in flight share a slot); otherwise they are
    named by the part, and removed once read.
    """
    result = SourceResult(str(f.path))
    name = f"slot{slot}" if slot is not None else str(part.index)
    texts, lengths = _Spool(folder / f"{name}.text"), _Spool(folder / f"{name}.lengths")
    result.text_digest, result.length_digest = texts, lengths
    out = folder / f"{name}.out" if want_output else None
    writer: Any = None
    if out is not None and f.format == "jsonl" and part.byte_range is not None and config.redact is None:
        writer, out = _SpanSpool(), None
    elif out is not None:  # (redacted rows are not byte ranges of the input: they are written out)
        writer = (_BatchSpool(out, config.text_fields[0]) if f.format == "parquet" else
                  FileWriter(out, f.format, f.path, target, config.text_fields[0]))
    counts = ReadCounts()
    try:
        batches = read_file(f, config.text_field, config.id_field or None, config.on_error, result.rejected,
                            for_output=out is not None, max_bytes=config.max_doc_bytes, part=part, counts=counts)
        for batch, keep in scan_batches(batches, matcher, config.text_rule, result, config.redact, near):
            if writer is not None:
                writer.write(batch, keep)
    finally:
        texts.close()
        lengths.close()
        if writer is not None:
            writer.close()
    if isinstance(writer, _BatchSpool) and not writer.opened:
        out = None  # (a Parquet part without a batch: its slot's file, if any, is an earlier part's)
    spans = writer.spans() if isinstance(writer, _SpanSpool) else None
    return PartResult(part.index, result.n_documents, result.n_characters, result.rows, result.rejected,
                      result.fields, counts, texts.path, lengths.path, out, spans, part.byte_range is not None,
                      result.near_rows, slot is not None)


class PartAssembly:
    """One file being put back together from its parts, in order."""

    def __init__(self, f: CorpusFile, output: tuple[Path, Path] | None) -> None:
        self.file = f
        self.result = SourceResult(str(f.path))
        self.writer = FileWriter(output[0], f.format, f.path, output[1]) if output is not None else None
        self.lines = 0  # newlines and rows of the parts so far (JSONL ranges number from their start)
        self.rows = 0
        self.slot_files: set[Path] = set()  # spool files of slots, removed when the file is done

    def add(self, pr: PartResult) -> None:
        """Add the next part: its numbers moved, its text hashed, its rows appended to the output."""
        res = self.result
        if pr.numbered_from_start:
            res.rows += [dataclasses.replace(rm, row=rm.row + self.rows, line=rm.line + self.lines) for rm in pr.rows]
            res.near_rows += [dataclasses.replace(nr, row=nr.row + self.rows, line=nr.line + self.lines)
                              for nr in pr.near_rows]
            res.rejected += [dataclasses.replace(rj, line=rj.line + self.lines) for rj in pr.rejected]
            self.lines += pr.counts.lines
            self.rows += pr.counts.rows
        else:
            res.rows += pr.rows
            res.near_rows += pr.near_rows
            res.rejected += pr.rejected
        res.n_documents += pr.n_documents
        res.n_characters += pr.n_characters
        res.fields = pr.fields or res.fields
        _feed(pr.text_spool, res.text_digest.update)
        _feed(pr.length_spool, res.length_digest.update)
        if self.writer is not None and pr.output is not None:
            self.writer.append_part(pr.output)
        if self.writer is not None and pr.spans is not None:
            self.writer.append_spans(self.file.path, pr.spans)
        for p in (pr.text_spool, pr.length_spool, pr.output):
            if p is not None and pr.in_slot:
                self.slot_files.add(p)
            elif p is not None:
                p.unlink(missing_ok=True)

    def moved_error(self, exc: InputError) -> InputError:
        """An error of the current part, its line counted from the start of the file."""
        return exc.moved(self.lines)

    def finish(self) -> None:
        """Complete the output as a whole-file run does."""
        if self.writer is not None:
            self.writer.finish()

    def close(self) -> None:
        try:
            if self.writer is not None:
                self.writer.close()
        finally:
            for p in self.slot_files:
                p.unlink(missing_ok=True)


def _feed(path: Path, sink: Callable[[Any], Any]) -> None:
    """Hand a spool file's bytes to ``sink`` (a digest's ``update``) as a mapping of the file, not copied out of
    it (``hashlib`` reads any buffer)."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
            sink(view)


# ------------------------------------------------------------------------------------------ jobs of a run

# One job's outcome: (file index, its part or None for the whole file, a call that returns its result, a
# SourceResult or a PartResult, or raises its error).
JobOutcome = tuple[int, FilePart | None, Callable[[], Any]]


def plan_parts(files: list[CorpusFile], sizes: list[int], n: int, config: DecontamConfig) -> list[list[FilePart] | None]:
    """Per file, its parts (a file larger than its share of ``n`` workers, which could split it), or None
    (read whole by one worker)."""
    share = sum(sizes) / (2 * n)  # a file larger than this would keep one worker busy while the others wait
    return [split_file(f, n, config.text_field, config.max_doc_bytes) if size > share else None
            for f, size in zip(files, sizes)]


@contextlib.contextmanager
def spool_folder(outs: list[tuple[Path, Path] | None], needed: bool, n: int,
                 shared_memory: bool = True) -> Iterator[Path | None]:
    """A temporary folder for the workers' spool and part files, removed whatever happens; entered before the
    workers start, so left after they stop.

    With ``shared_memory`` (workers on this machine) it is in shared memory (``/dev/shm``) when that has room
    for everything the run can have in flight (at most ``2 * n`` parts, each spooling its text and its kept
    rows): the workers write about as many bytes as they read, and a memory file system takes them for about half
    the system time a disk's does (``docs/performance.md``). Otherwise (and always for workers on other machines,
    which must see it) beside the first output, else in the system's temporary folder.
    """
    if not needed:
        yield None
        return
    first = next((o for o in outs if o is not None), None)
    where = (memory_folder(room=4 * 2 * n * PART_MAX_BYTES) if shared_memory else None) or \
        (first[0].parent if first is not None else None)
    with writing(where or Path(tempfile.gettempdir())):
        folder = Path(tempfile.mkdtemp(prefix=f".decontam-parts-{os.getpid()}-", dir=where))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def file_folder(folder: Path | None, fi: int) -> Path:
    """The spool folder of file ``fi``'s parts: one per file, as the parts of two files can be in the workers
    at once and their spool files are named by part number."""
    assert folder is not None
    sub = folder / str(fi)
    with writing(sub):
        sub.mkdir(exist_ok=True)
    return sub


def assemble_jobs(files: list[CorpusFile], plans: list[list[FilePart] | None], outs: list[tuple[Path, Path] | None],
                  sizes: list[int], bar: Any, results: list[SourceResult], outcomes: Iterator[JobOutcome]) -> None:
    """Take the jobs' outcomes in corpus order: a whole file's result as it is, a file's parts put back
    together (:class:`PartAssembly`; an error of a part names its line in the whole file); one result per
    file appended to ``results``."""
    assembly: PartAssembly | None = None
    try:
        for fi, part, get in outcomes:
            if part is None:
                results.append(get())
                bar.update(sizes[fi])
                continue
            if part.index == 0:
                assembly = PartAssembly(files[fi], outs[fi])
            assert assembly is not None
            try:
                assembly.add(get())
            except InputError as exc:
                raise assembly.moved_error(exc) from None
            bar.update(part.size)
            if part.index == len(plans[fi] or []) - 1:
                assembly.finish()
                results.append(assembly.result)
                assembly.close()
                assembly = None
    finally:
        if assembly is not None:
            assembly.close()
