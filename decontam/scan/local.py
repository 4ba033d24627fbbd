"""The local engine: the scan step over corpus files, in this process or in a pool of local processes.

With ``num_proc`` workers and at least as many files, each worker scans whole files (reading, matching and
writing its output); with fewer files than workers (one large file, say), this process reads the files in
order and the workers normalize and scan their batches, in order, so the results are those of a serial run.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..config import DecontamConfig, NormalizeConfig
from ..errors import InputError
from ..inputs import CorpusFile, read_file
from ..match import Matcher
from ..outputs import FileWriter, OutputSet
from ..runtime import progress_bar
from .probes import ProbeSet
from .step import DocMatch, SourceResult, account_batch, match_texts, record_matches, scan_batches

__all__ = ["scan_file", "scan_files"]


def scan_file(f: CorpusFile, matcher: Matcher, config: DecontamConfig,
              dest: Path | None) -> tuple[SourceResult, Path | None]:
    """Scan one corpus file, writing its surviving rows to a temporary file beside ``dest`` if given.

    Returns:
        The file's result, and the temporary output (renamed into place by :meth:`OutputSet.commit`).
    """
    result = SourceResult(str(f.path))
    writer = FileWriter(dest, f.format, f.path) if dest is not None else None
    try:
        batches = read_file(f, config.text_field, config.id_field or None, config.on_error, result.rejected,
                            for_output=writer is not None)
        for batch, keep in scan_batches(batches, matcher, config.normalize, result):
            if writer is not None:
                writer.write(batch, keep)
        tmp = writer.finish() if writer is not None else None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return result, tmp


def scan_files(files: list[CorpusFile], probes: ProbeSet, config: DecontamConfig, outputs: OutputSet | None,
               progress: bool | None) -> list[SourceResult]:
    """Scan corpus files in order (``config.num_proc`` local processes), writing the outputs if given.

    The outputs are committed together once every file has been scanned; on any failure no output is left.

    Raises:
        InputError: A malformed file (``on_error="raise"``), or a corpus without a single row.
    """
    results: list[SourceResult] = []
    tmp_paths: list[Path | None] = []
    sizes = [f.path.stat().st_size for f in files]
    bar = progress_bar(sum(sizes), "decontam: scanning", progress)
    dests = [outputs.destination(f) if outputs is not None else None for f in files]
    try:
        if config.num_proc > 1:
            _scan_in_pool(files, probes.matcher, config, dests, sizes, bar, results, tmp_paths)
        else:
            for f, dest, size in zip(files, dests, sizes):
                res, tmp = scan_file(f, probes.matcher, config, dest)
                results.append(res)
                tmp_paths.append(tmp)
                bar.update(size)
        if not any(r.n_documents or r.rejected for r in results):
            raise InputError("the corpus is empty (no rows: only empty files or blank lines); check the corpus path",
                             path=", ".join(str(f.path) for f in files))
    except BaseException:
        for tmp in tmp_paths:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        if outputs is not None:
            outputs.abort()
        raise
    finally:
        bar.close()
    if outputs is not None:
        outputs.commit([t for t in tmp_paths if t is not None])
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


def _scan_file_in_worker(f: CorpusFile, config: DecontamConfig, dest: Path | None) -> tuple[SourceResult, Path | None]:
    return scan_file(f, _worker_matcher(), config, dest)


def _match_in_worker(texts: pa.Array, norm: NormalizeConfig) -> list[DocMatch]:
    return match_texts(_worker_matcher(), texts, norm)


def _scan_in_pool(files: list[CorpusFile], matcher: Matcher, config: DecontamConfig, dests: list[Path | None],
                  sizes: list[int], bar: Any, results: list[SourceResult], tmp_paths: list[Path | None]) -> None:
    """Scan with a pool of ``config.num_proc`` processes: whole files per worker, or batches of fewer files."""
    from concurrent.futures import ProcessPoolExecutor  # imported only when a pool is used

    with ProcessPoolExecutor(max_workers=config.num_proc, initializer=_init_worker, initargs=(matcher,)) as pool:
        if len(files) < config.num_proc:
            _scan_batches_in_pool(files, pool, config, dests, bar, results, tmp_paths)
            return
        futures = [pool.submit(_scan_file_in_worker, f, config, d) for f, d in zip(files, dests)]
        try:
            for fut, size in zip(futures, sizes):
                res, tmp = fut.result()
                results.append(res)
                tmp_paths.append(tmp)
                bar.update(size)
        except BaseException:
            _discard(futures)
            raise


def _discard(futures: list[Future[tuple[SourceResult, Path | None]]]) -> None:
    """Cancel what has not started, and remove the outputs of files already done but not yet collected."""
    for fut in futures:
        fut.cancel()
    for fut in futures:
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            tmp = fut.result()[1]
            if tmp is not None:
                tmp.unlink(missing_ok=True)


def _scan_batches_in_pool(files: list[CorpusFile], pool: Any, config: DecontamConfig, dests: list[Path | None],
                          bar: Any, results: list[SourceResult], tmp_paths: list[Path | None]) -> None:
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
                tmp_paths[fi] = w.finish()
            return
        keep = record_matches(batch, fut.result(), results[fi])
        if w is not None:
            w.write(batch, keep)

    try:
        for fi, (f, dest) in enumerate(zip(files, dests)):
            res = SourceResult(str(f.path))
            results.append(res)
            tmp_paths.append(None)
            writers.append(FileWriter(dest, f.format, f.path) if dest is not None else None)
            for batch in read_file(f, config.text_field, config.id_field or None, config.on_error,
                                   res.rejected, for_output=dest is not None):
                account_batch(batch, res)
                pending.append((fi, batch, pool.submit(_match_in_worker, batch.texts, config.normalize), False))
                while len(pending) >= limit:
                    drain_one()
            pending.append((fi, None, None, True))  # closes the file's writer once its last batch is written
            bar.update(f.path.stat().st_size)
        while pending:
            drain_one()
    except BaseException:
        for w in writers:
            if w is not None:
                w.abort()
        raise
