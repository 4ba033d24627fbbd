"""The local engine: the scan step over corpus files, in this process or in a pool of local processes.

With ``num_proc`` workers, a file large against the work per worker is read in parts (byte ranges of JSONL
lines, Parquet row groups: :mod:`decontam.scan.parts`), each scanned by a worker, and the other files whole,
one per worker; this process takes the results in corpus order, so the report and outputs are those of a
serial run. When no file can be split and there are fewer files than workers (one large ``.jsonl.gz``, say),
this process reads the files in order and the workers normalize and scan their batches, in order. Outputs go to
temporary files made beforehand by the run (:class:`~decontam.outputs.OutputSet`), which puts them in place,
or removes them, once this engine is done.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..atomic import interrupts_held
from ..config import DecontamConfig, RedactConfig, TextRule
from ..inputs import CorpusFile, FilePart, read_file
from ..match import Matcher
from ..neardup import NearDupIndex
from ..outputs import FileWriter, OutputSet
from ..runtime import progress_bar, worker_pool
from .parts import JobOutcome, PartResult, assemble_jobs, file_folder, plan_parts, scan_part, spool_folder
from .probes import ProbeSet
from .step import (
    DocMatch,
    NearDoc,
    SourceResult,
    account_batch,
    record_matches,
    redact_matches,
    require_rows,
    scan_batches,
    scan_texts,
)

__all__ = ["scan_file", "scan_files"]


def scan_file(f: CorpusFile, matcher: Matcher, config: DecontamConfig, out: Path | None,
              target: Path | None = None, on_read: Callable[[int], Any] | None = None,
              near: NearDupIndex | None = None) -> SourceResult:
    """Scan one corpus file, writing its surviving rows into the (temporary) file ``out`` if given, which
    becomes ``target`` (the output a failed write names); ``on_read`` is told the bytes read, batch by batch
    (for progress); ``near`` runs the near-duplicate pass too."""
    result = SourceResult(str(f.path))
    writer = FileWriter(out, f.format, f.path, target, config.text_fields[0]) if out is not None else None
    try:
        batches = read_file(f, config.text_field, config.id_field or None, config.on_error, result.rejected,
                            for_output=writer is not None, max_bytes=config.max_doc_bytes)
        for batch, keep in scan_batches(batches, matcher, config.text_rule, result, config.redact, near):
            if writer is not None:
                writer.write(batch, keep)
            if on_read is not None:
                on_read(batch.read_bytes)
        if writer is not None:
            writer.finish()
    finally:
        if writer is not None:
            writer.close()
    return result


def scan_files(files: list[CorpusFile], probes: ProbeSet, config: DecontamConfig, outputs: OutputSet | None,
               progress: bool | None) -> list[SourceResult]:
    """Scan corpus files in order (``config.num_proc`` local processes), writing each file's surviving rows
    into its temporary output (``outputs.temps``) if given.

    Raises:
        InputError: A malformed file (``on_error="raise"``), or a corpus without a single row.
    """
    results: list[SourceResult] = []
    sizes = [f.path.stat().st_size for f in files]
    outs: list[tuple[Path, Path] | None] = (list(zip(outputs.temps, outputs.targets)) if outputs is not None
                                            else [None] * len(files))
    bar = progress_bar(sum(sizes), "decontam: scanning", progress)
    try:
        if config.num_proc > 1:
            _scan_in_pool(files, (probes.matcher, probes.near), config, outs, sizes, bar, results)
        else:
            for f, out, size in zip(files, outs, sizes):
                done = _Progress(bar, size)
                results.append(scan_file(f, probes.matcher, config, *(out or (None, None)), on_read=done.read,
                                         near=probes.near))
                done.finish()
    finally:
        bar.close()
    require_rows(results)
    return results


# ----------------------------------------------------------------------------------------- process pool

# Each worker's matcher and near-duplicate index (or None), set once by its initializer.
_WORKER_FINDERS: tuple[Matcher, NearDupIndex | None] | None = None


def _init_worker(finders: tuple[Matcher, NearDupIndex | None]) -> None:
    global _WORKER_FINDERS
    _WORKER_FINDERS = finders


def _worker_finders() -> tuple[Matcher, NearDupIndex | None]:
    if _WORKER_FINDERS is None:  # pragma: no cover - the pool's initializer always runs first
        raise RuntimeError("decontam worker started without its matcher")
    return _WORKER_FINDERS


def _scan_file_in_worker(f: CorpusFile, config: DecontamConfig, out: tuple[Path, Path] | None) -> SourceResult:
    matcher, near = _worker_finders()
    return scan_file(f, matcher, config, *(out or (None, None)), near=near)


def _match_in_worker(texts: pa.Array, norm: TextRule, redact: RedactConfig | None) -> tuple[
        list[DocMatch], dict[int, Any] | None, list[NearDoc]]:
    matcher, near = _worker_finders()
    matches, near_docs = scan_texts(matcher, texts, norm, near)
    return matches, (redact_matches(matcher, texts, matches, norm, redact) if redact is not None else None), near_docs


def _scan_part_in_worker(f: CorpusFile, part: FilePart, config: DecontamConfig, folder: Path,
                         out: tuple[Path, Path] | None, slot: int) -> PartResult:
    matcher, near = _worker_finders()
    return scan_part(f, part, matcher, config, folder, out is not None, out[1] if out else None, near=near,
                     slot=slot)


class _Progress:
    """Progress within one file: the bytes its batches report, then the rest of its size at its end."""

    def __init__(self, bar: Any, size: int) -> None:
        self.bar, self.size, self.done = bar, size, 0

    def read(self, n: int) -> None:
        n = max(0, min(n, self.size - self.done))
        if n:
            self.done += n
            self.bar.update(n)

    def finish(self) -> None:
        self.read(self.size - self.done)


def _scan_in_pool(files: list[CorpusFile], finders: tuple[Matcher, NearDupIndex | None], config: DecontamConfig,
                  outs: list[tuple[Path, Path] | None], sizes: list[int], bar: Any, results: list[SourceResult]) -> None:
    """Scan with a pool of ``config.num_proc`` processes: large files in parts, the others whole, or (no file
    to split, fewer files than workers) batches read here."""
    n = config.num_proc
    plans = plan_parts(files, sizes, n, config)
    with (spool_folder(outs, any(plans), n) as folder,
          worker_pool(n, _init_worker, (finders,), hold=interrupts_held) as pool):
        if not any(plans) and len(files) < n:
            _scan_batches_in_pool(files, pool, config, outs, bar, results)
            return
        assemble_jobs(files, plans, outs, sizes, bar, results,
                      _run_jobs(files, plans, pool, config, outs, folder))


def _run_jobs(files: list[CorpusFile], plans: list[list[FilePart] | None], pool: Any, config: DecontamConfig,
              outs: list[tuple[Path, Path] | None], folder: Path | None) -> Iterator[JobOutcome]:
    """Run the jobs (a whole file, or one part of a file) in the workers, at most ``2 * num_proc`` at a time
    (which bounds the spool); their outcomes in corpus order.

    A part's spool files are those of slot ``part.index % (2 * num_proc)`` of its file: the part that used the
    slot before it is at least ``2 * num_proc`` jobs back, so it was taken (and its spool read) before this
    one is submitted, and the slot's memory is used again rather than given anew.
    """
    jobs = deque((fi, part) for fi, plan in enumerate(plans) for part in (plan or [None]))
    pending: deque[tuple[int, FilePart | None, Any]] = deque()
    while jobs or pending:
        while jobs and len(pending) < 2 * config.num_proc:
            fi, part = jobs.popleft()
            task = (pool.submit(_scan_file_in_worker, files[fi], config, outs[fi], queue_ahead=True)
                    if part is None else
                    pool.submit(_scan_part_in_worker, files[fi], part, config, file_folder(folder, fi), outs[fi],
                                part.index % (2 * config.num_proc), queue_ahead=True))
            pending.append((fi, part, task))
        fi, part, task = pending.popleft()
        yield fi, part, task.result


def _scan_batches_in_pool(files: list[CorpusFile], pool: Any, config: DecontamConfig,
                          outs: list[tuple[Path, Path] | None], bar: Any, results: list[SourceResult]) -> None:
    """Read files in order here; normalize and scan their batches in the workers (bounded, in order).

    Reading, digests and writing stay in this process, in corpus order, so results are identical to a serial
    run.
    """
    pending: deque[tuple[int, Any, Any, bool]] = deque()
    writers: list[FileWriter | None] = []
    limit = 2 * config.num_proc

    def drain_one() -> None:
        fi, batch, fut, last = pending.popleft()
        w = writers[fi]
        if last:  # the end-of-file marker: every batch of the file has been written
            if w is not None:
                w.finish()
            return
        matches, redactions, near = fut.result()
        keep = record_matches(batch, matches, results[fi], redactions, config.redact, near)
        if w is not None:
            w.write(batch, keep)

    try:
        for fi, (f, out) in enumerate(zip(files, outs)):
            res = SourceResult(str(f.path))
            results.append(res)
            writers.append(FileWriter(out[0], f.format, f.path, out[1], config.text_fields[0])
                           if out is not None else None)
            done = _Progress(bar, f.path.stat().st_size)
            for batch in read_file(f, config.text_field, config.id_field or None, config.on_error,
                                   res.rejected, for_output=out is not None, max_bytes=config.max_doc_bytes):
                account_batch(batch, res)
                pending.append((fi, batch, pool.submit(_match_in_worker, batch.texts, config.text_rule,
                                                       config.redact), False))
                while len(pending) >= limit:
                    drain_one()
                done.read(batch.read_bytes)
            pending.append((fi, None, None, True))  # closes the file's writer once its last batch is written
            done.finish()
        while pending:
            drain_one()
    finally:
        for w in writers:
            if w is not None:
                w.close()
