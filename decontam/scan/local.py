"""The local engine: the scan step over corpus files, in this process or in a pool of local processes.

With ``num_proc`` workers and at least as many files, each worker scans whole files (reading, matching and
writing its output); with fewer files than workers (one large file, say), this process reads the files in
order and the workers normalize and scan their batches, in order, so the results are those of a serial run.
Outputs go to temporary files made beforehand by the run (:class:`~decontam.outputs.OutputSet`), which
puts them in place, or removes them, once this engine is done.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..atomic import interrupts_held
from ..config import DecontamConfig, NormalizeConfig
from ..inputs import CorpusFile, read_file
from ..match import Matcher
from ..outputs import FileWriter, OutputSet
from ..runtime import progress_bar, worker_pool
from .probes import ProbeSet
from .step import DocMatch, SourceResult, account_batch, match_texts, record_matches, require_rows, scan_batches

__all__ = ["scan_file", "scan_files"]


def scan_file(f: CorpusFile, matcher: Matcher, config: DecontamConfig, out: Path | None,
              target: Path | None = None) -> SourceResult:
    """Scan one corpus file, writing its surviving rows into the (temporary) file ``out`` if given, which
    becomes ``target`` (the output a failed write names)."""
    result = SourceResult(str(f.path))
    writer = FileWriter(out, f.format, f.path, target) if out is not None else None
    try:
        batches = read_file(f, config.text_field, config.id_field or None, config.on_error, result.rejected,
                            for_output=writer is not None)
        for batch, keep in scan_batches(batches, matcher, config.normalize, result):
            if writer is not None:
                writer.write(batch, keep)
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
            _scan_in_pool(files, probes.matcher, config, outs, sizes, bar, results)
        else:
            for f, out, size in zip(files, outs, sizes):
                results.append(scan_file(f, probes.matcher, config, *(out or (None, None))))
                bar.update(size)
    finally:
        bar.close()
    require_rows(results)
    return results


# ----------------------------------------------------------------------------------------- process pool

_WORKER_MATCHER: Matcher | None = None  # each worker's copy, set once by its initializer


def _init_worker(matcher: Matcher) -> None:
    global _WORKER_MATCHER
    _WORKER_MATCHER = matcher


def _worker_matcher() -> Matcher:
    if _WORKER_MATCHER is None:  # pragma: no cover - the pool's initializer always runs first
        raise RuntimeError("decontam worker started without its matcher")
    return _WORKER_MATCHER


def _scan_file_in_worker(f: CorpusFile, config: DecontamConfig, out: tuple[Path, Path] | None) -> SourceResult:
    return scan_file(f, _worker_matcher(), config, *(out or (None, None)))


def _match_in_worker(texts: pa.Array, norm: NormalizeConfig) -> list[DocMatch]:
    return match_texts(_worker_matcher(), texts, norm)


def _scan_in_pool(files: list[CorpusFile], matcher: Matcher, config: DecontamConfig,
                  outs: list[tuple[Path, Path] | None], sizes: list[int], bar: Any, results: list[SourceResult]) -> None:
    """Scan with a pool of ``config.num_proc`` processes: whole files per worker, or batches of fewer files."""
    with worker_pool(config.num_proc, _init_worker, (matcher,), hold=interrupts_held) as pool:
        if len(files) < config.num_proc:
            _scan_batches_in_pool(files, pool, config, outs, bar, results)
            return
        futures = [pool.submit(_scan_file_in_worker, f, config, out) for f, out in zip(files, outs)]
        for fut, size in zip(futures, sizes):
            results.append(fut.result())
            bar.update(size)


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
        keep = record_matches(batch, fut.result(), results[fi])
        if w is not None:
            w.write(batch, keep)

    try:
        for fi, (f, out) in enumerate(zip(files, outs)):
            res = SourceResult(str(f.path))
            results.append(res)
            writers.append(FileWriter(out[0], f.format, f.path, out[1]) if out is not None else None)
            for batch in read_file(f, config.text_field, config.id_field or None, config.on_error,
                                   res.rejected, for_output=out is not None):
                account_batch(batch, res)
                pending.append((fi, batch, pool.submit(_match_in_worker, batch.texts, config.normalize), False))
                while len(pending) >= limit:
                    drain_one()
            pending.append((fi, None, None, True))  # closes the file's writer once its last batch is written
            bar.update(f.path.stat().st_size)
        while pending:
            drain_one()
    finally:
        for w in writers:
            if w is not None:
                w.close()
