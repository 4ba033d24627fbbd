"""The check itself: probes x corpus -> report, and ``filter_dataset`` for training pipelines.

This is the one module that knows ``datasets`` and pyarrow objects. Every entry point reduces to the same
steps: sample the probes of every benchmark item, build one :class:`~decontam.match.Matcher`, stream the corpus
past it in batches (normalize, scan), and account for every row (kept, removed, or rejected with a reason).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .benchmarks import REGISTRY, Benchmark, load_benchmark
from .config import DecontamConfig, NormalizeConfig, make_config
from .corpus import (Batch, CorpusFile, FileWriter, OutputSet, Rejected, arrow_mask, expand_corpus, file_format,
                     read_file, text_buffers)
from .errors import ConfigError, InputError
from .evidence import DocumentMap, match_evidence
from .match import Matcher, ProbeGroup
from .normalize import normalize_many
from .report import SCHEMA_VERSION, Report
from .runtime import gc_paused, progress_bar
from .sample import ItemProbes, sample_items
from .utf8 import char_to_byte, count_characters
from .version import __version__

__all__ = ["BenchmarkArg", "ProbeSet", "check", "filter_dataset", "filter_files", "resolve_benchmarks"]

BenchmarkArg = str | Benchmark | tuple[str, str | os.PathLike[str]]


# ------------------------------------------------------------------------------------------ configuration


def resolve_benchmarks(
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    question_field: str | None = None,
    id_field: str | None = None,
) -> list[Benchmark]:
    """Load benchmarks given as names, ``NAME=PATH`` strings, ``(name, path)`` pairs or :class:`Benchmark`.

    Raises:
        ConfigError: No benchmark, or two with the same name.
        BenchmarkNotFoundError: An unknown name without a path, or a hub benchmark that cannot be fetched.
    """
    if isinstance(benchmarks, (str, Benchmark, tuple)):
        benchmarks = [benchmarks]  # type: ignore[list-item]
    loaded: list[Benchmark] = []
    for spec in benchmarks:
        if isinstance(spec, Benchmark):
            loaded.append(spec)
            continue
        if isinstance(spec, tuple):
            name, path = spec[0], spec[1]
        elif "=" in spec:
            name, path = spec.split("=", 1)
        else:
            name, path = spec, None
        if not name:
            raise ConfigError(f"benchmark {spec!r} has no name: write NAME=PATH")
        custom = name not in REGISTRY and name.lower() not in REGISTRY
        # As on the command line, the fields apply to custom benchmarks; registry ones keep their own.
        loaded.append(load_benchmark(name, path, question_field=question_field if custom else None,
                                     id_field=id_field if custom else None))
    if not loaded:
        raise ConfigError("no benchmark given: pass at least one (-b NAME or -b NAME=PATH)")
    names = [b.name for b in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"benchmark names must be unique, repeated: {', '.join(dupes)}")
    return loaded


# ------------------------------------------------------------------------------------------------ probes


@dataclass
class ProbeSet:
    """The probes of every item of every benchmark, and the matcher over them."""

    benchmarks: list[Benchmark]
    items: list[list[ItemProbes]]
    owner: list[tuple[int, int]]  # group index -> (benchmark index, item index)
    matcher: Matcher

    @classmethod
    def build(cls, benchmarks: list[Benchmark], config: DecontamConfig) -> ProbeSet:
        """Draw the probes of every item and build the matcher over the non-empty ones."""
        # Tens of thousands of small objects, none in a cycle: with the collector running, a full collection
        # walked the whole process (the benchmarks' items too) once per build, 20-60 ms of a 200 ms draw.
        with gc_paused():
            items = [sample_items(bench.name, ((it.id, it.question) for it in bench.items), config.sample,
                                  config.normalize) for bench in benchmarks]
            groups, owner = _probe_groups(items)
        return cls(benchmarks, items, owner, Matcher(groups, exhaustive=config.sample.mode == "all"))


def _probe_groups(items: list[list[ItemProbes]]) -> tuple[list[ProbeGroup], list[tuple[int, int]]]:
    """The matcher's probe groups of the non-empty items, and each group's ``(benchmark, item)``.

    Equal to ``ProbeGroup.from_chars(p.normalized, p.offsets, p.length)`` per non-empty item (a test holds the
    two to each other), but the windows of all items are laid out in two arrays at once, and each group gets
    views of its slice. Measured on the 16,499 items of HumanEval, MBPP, GSM8K and MMLU: 36-57 ms -> 23-40 ms
    with 3 probes; 180-220 ms -> 45-57 ms in ``all`` mode, where ``np.asarray`` of each ``range`` read its
    2.7 M offsets one by one.
    """
    owner = [(bi, ii) for bi, probes in enumerate(items) for ii, p in enumerate(probes) if not p.empty]
    kept = [items[bi][ii] for bi, ii in owner]
    n = len(kept)
    offsets = [p.offsets for p in kept]
    counts = np.fromiter(map(len, offsets), dtype=np.int64, count=n)
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    total = int(bounds[-1])
    if n and counts.all() and all(type(o) is range and o.step == 1 for o in offsets):
        # ``all`` mode: consecutive windows. Each item's first offset is written as its step from the previous
        # item's last, every other entry as 1, then one cumulative sum in place: no temporary as large as the
        # two arrays the groups keep (2.7 M windows: 21.5 MB each, 5.3 K page faults, ~19 ms).
        first = np.fromiter((o.start for o in offsets), dtype=np.int64, count=n)
        starts = np.ones(total, dtype=np.int64)
        starts[0] = first[0]
        starts[bounds[1:-1]] = first[1:] - (first[:-1] + counts[:-1] - 1)
        np.cumsum(starts, out=starts)
    else:
        starts = np.fromiter(itertools.chain.from_iterable(offsets), dtype=np.int64, count=total)
    ends = np.repeat(np.fromiter((p.length for p in kept), dtype=np.int64, count=n), counts)
    ends += starts
    b = bounds.tolist()
    groups = []
    for i, p in enumerate(kept):
        norm = p.normalized
        q = norm.encode("utf-8")
        lo, hi = starts[b[i] : b[i + 1]], ends[b[i] : b[i + 1]]
        if len(q) != len(norm):  # characters of several bytes: map character offsets to byte offsets
            to_byte = char_to_byte(norm)
            lo, hi = to_byte[lo], to_byte[hi]
        groups.append(ProbeGroup(q, lo, hi))
    return groups, owner


# ------------------------------------------------------------------------------------------- accounting


@dataclass
class RowMatch:
    """The matches of one corpus row: ``(group, window indices, run)`` per item found in it."""

    row: int  # 0-based row number within its source (rejected rows counted)
    line: int
    doc_id: Any  # the id field, or None: the report then names the row by its corpus-wide row number
    found: list[tuple[int, tuple[int, ...], tuple[int, int]]]
    # group -> (start, end) bytes of the longest run in the *normalized document* (evidence location)
    doc_runs: dict[int, tuple[int, int]] = field(default_factory=dict)
    # group -> evidence object in the *original* document (decontam.evidence.excerpt): excerpt and highlight
    evidence: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class SourceResult:
    """What scanning one source (file, table, dataset) yields; results of sources add up in order."""

    source: str
    n_documents: int = 0
    n_characters: int = 0
    text_digest: Any = field(default_factory=hashlib.sha256)
    length_digest: Any = field(default_factory=hashlib.sha256)
    rows: list[RowMatch] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def digests(self) -> bytes:
        return self.text_digest.digest() + self.length_digest.digest()

    def __getstate__(self) -> dict[str, Any]:  # hashlib objects do not pickle: finish them first
        state = dict(self.__dict__)
        state["text_digest"] = _Done(self.text_digest.digest())
        state["length_digest"] = _Done(self.length_digest.digest())
        return state


@dataclass
class _Done:
    value: bytes

    def digest(self) -> bytes:
        return self.value


def _pc() -> Any:
    """``pyarrow.compute``, imported on first use (40 ms at start-up; ASCII corpora never need it)."""
    import pyarrow.compute as pc

    return pc


def account_batch(batch: Batch, result: SourceResult) -> None:
    """Add a batch's text to the source's digests and character count (cheap; done where the batch is read)."""
    data, offsets = text_buffers(batch.texts)
    text = data[int(offsets[0]) : int(offsets[-1])]
    result.text_digest.update(text)
    result.length_digest.update(np.diff(offsets).astype("<i8").tobytes())
    if len(text) == 0 or np.frombuffer(text, dtype=np.uint8).max() < 0x80:  # ASCII: a character per byte
        result.n_characters += len(text)
    else:
        result.n_characters += count_characters(text)


DocMatch = tuple[int, list[tuple[int, tuple[int, ...], tuple[int, int]]], dict[int, tuple[int, int]],
                 dict[int, dict[str, Any]]]


def match_texts(matcher: Matcher, texts: pa.Array, norm: NormalizeConfig) -> list[DocMatch]:
    """Normalize and scan a string array; per matched document (in order): its index, what was found in it
    ``(group, windows, run)``, where each run lies in the normalized document, and the evidence."""
    data, offsets = text_buffers(texts)
    base, end = int(offsets[0]), int(offsets[-1])
    marks: dict[int, list[int]] = {}
    normalized, norm_offsets = normalize_many(data[base:end], offsets - base, norm, marks)
    found = matcher.scan(normalized, norm_offsets)
    by_doc: dict[int, list[tuple[int, tuple[int, ...], tuple[int, int]]]] = {}
    for (doc, gi), windows in found.windows.items():
        by_doc.setdefault(doc, []).append((gi, tuple(sorted(windows)), found.runs[(doc, gi)]))
    out: list[DocMatch] = []
    for doc in sorted(by_doc):
        found_here = sorted(by_doc[doc])
        doc_runs = {gi: found.doc_runs[(doc, gi)] for gi, _, _ in found_here}
        evidence = match_evidence(texts[doc].as_py(),
                                  normalized[int(norm_offsets[doc]) : int(norm_offsets[doc + 1])], doc_runs, norm,
                                  marks=marks.get(doc))
        out.append((doc, found_here, doc_runs, evidence))
    return out


def record_matches(batch: Batch, matches: list[DocMatch], result: SourceResult) -> np.ndarray:
    """Record a batch's matches in ``result`` (ids resolved here, where the batch is); return the keep mask."""
    keep = np.ones(len(batch), dtype=bool)
    ids = batch.doc_ids([m[0] for m in matches])
    for (doc, found_here, doc_runs, evidence), doc_id in zip(matches, ids):
        keep[doc] = False
        result.rows.append(RowMatch(int(batch.rows[doc]), int(batch.lines[doc]), doc_id, found_here,
                                    doc_runs, evidence))
    result.n_documents += len(batch)
    return keep


def scan_batch(matcher: Matcher, batch: Batch, norm: NormalizeConfig, result: SourceResult) -> np.ndarray:
    """Scan one batch, record its matches and statistics in ``result``; return the keep mask."""
    account_batch(batch, result)
    return record_matches(batch, match_texts(matcher, batch.texts, norm), result)


def _scan_file(
    f: CorpusFile,
    matcher: Matcher,
    config: DecontamConfig,
    dest: Path | None,
) -> tuple[SourceResult, Path | None]:
    """Scan one corpus file (optionally writing its surviving rows to a temporary file)."""
    result = SourceResult(str(f.path))
    writer = FileWriter(dest, f.format, f.path) if dest is not None else None
    try:
        for batch in read_file(f, config.text_field, config.id_field or None, config.on_error,
                               result.rejected, for_output=writer is not None):
            keep = scan_batch(matcher, batch, config.normalize, result)
            if writer is not None:
                writer.write(batch, keep)
        tmp = writer.finish() if writer is not None else None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return result, tmp


_WORKER_MATCHER: Matcher | None = None


def _init_worker(matcher: Matcher) -> None:
    global _WORKER_MATCHER
    _WORKER_MATCHER = matcher


def _scan_file_worker(f: CorpusFile, config: DecontamConfig, dest: Path | None) -> tuple[SourceResult, Path | None]:
    assert _WORKER_MATCHER is not None
    return _scan_file(f, _WORKER_MATCHER, config, dest)


def _match_worker(texts: pa.Array, norm: NormalizeConfig) -> list[DocMatch]:
    assert _WORKER_MATCHER is not None
    return match_texts(_WORKER_MATCHER, texts, norm)


def _scan_batches_parallel(
    files: list[CorpusFile],
    pool: Any,
    config: DecontamConfig,
    dests: list[Path | None],
    bar: Any,
    results: list[SourceResult],
    tmp_paths: list[Path | None],
) -> None:
    """Read files in order here; normalize and scan their batches in the workers (bounded, in order).

    Used when there are fewer files than workers (e.g. one large file): reading, digests and writing stay in
    this process, in corpus order, so results are identical to a serial run.
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
                pending.append((fi, batch, pool.submit(_match_worker, batch.texts, config.normalize), False))
                while len(pending) >= limit:
                    drain_one()
            # A marker closes the file's writer once its last batch is written (FIFO order).
            pending.append((fi, None, None, True))
            bar.update(f.path.stat().st_size)
        while pending:
            drain_one()
    except BaseException:
        for w in writers:
            if w is not None:
                w.abort()
        raise


def _scan_files(
    files: list[CorpusFile],
    probes: ProbeSet,
    config: DecontamConfig,
    outputs: OutputSet | None,
    progress: bool | None,
) -> list[SourceResult]:
    results: list[SourceResult] = []
    tmp_paths: list[Path | None] = []
    sizes = [f.path.stat().st_size for f in files]
    bar = progress_bar(sum(sizes), "decontam: scanning", progress)
    dests = [outputs.destination(f) if outputs is not None else None for f in files]
    try:
        if config.num_proc > 1:
            from concurrent.futures import ProcessPoolExecutor  # 30 ms of imports: only when used
        if config.num_proc > 1 and len(files) < config.num_proc:
            with ProcessPoolExecutor(max_workers=config.num_proc, initializer=_init_worker,
                                     initargs=(probes.matcher,)) as pool:
                _scan_batches_parallel(files, pool, config, dests, bar, results, tmp_paths)
        elif config.num_proc > 1:
            with ProcessPoolExecutor(max_workers=min(config.num_proc, len(files)), initializer=_init_worker,
                                     initargs=(probes.matcher,)) as pool:
                futures = [pool.submit(_scan_file_worker, f, config, d) for f, d in zip(files, dests)]
                try:
                    for fut, size in zip(futures, sizes):
                        res, tmp = fut.result()
                        results.append(res)
                        tmp_paths.append(tmp)
                        bar.update(size)
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    for fut in futures:
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            tmp = fut.result()[1]
                            if tmp is not None:
                                tmp.unlink(missing_ok=True)
                    raise
        else:
            for f, d, size in zip(files, dests, sizes):
                res, tmp = _scan_file(f, probes.matcher, config, d)
                results.append(res)
                tmp_paths.append(tmp)
                bar.update(size)
        if not any(r.n_documents or r.rejected for r in results):
            raise InputError(
                "the corpus is empty (no rows: only empty files or blank lines); check the corpus path",
                path=", ".join(str(f.path) for f in files),
            )
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


# ------------------------------------------------------------------------------------------------ report


def _fingerprint(results: Sequence[SourceResult]) -> str:
    h = hashlib.sha256()
    for r in results:
        h.update(r.digests())
    return "sha256:" + h.hexdigest()


# A dict or two per item, none in a cycle: with the collector running, a full collection ran here (45-60 ms with
# the benchmarks and probes in memory), more than assembling the document itself (30-50 ms).
@gc_paused()
def build_report(
    probes: ProbeSet,
    results: Sequence[SourceResult],
    config: DecontamConfig,
    action: str,
    sources: Sequence[str],
) -> Report:
    """Assemble the report document from scan results (in corpus order)."""
    per_item: dict[tuple[int, int], list[dict[str, Any]]] = {}
    removed: list[dict[str, Any]] = []
    exhaustive = config.sample.mode == "all"
    offset = 0  # rows of the sources before this one
    n_removed = 0
    question_maps: dict[tuple[int, int], DocumentMap] = {}  # item -> its question's normalized->original map
    for res in results:
        for rm in res.rows:
            doc_id = rm.doc_id if rm.doc_id is not None else offset + rm.row
            # Where the document is (corpus-wide row), and whether its id is that row: what a merge of shard
            # reports needs to renumber (see decontam.merge).
            where: dict[str, Any] = {"row": offset + rm.row, **({"id_is_row": True} if rm.doc_id is None else {})}
            n_removed += 1
            for gi, windows, run in rm.found:
                bi, ii = probes.owner[gi]
                item = probes.items[bi][ii]
                entries = per_item.setdefault((bi, ii), [])
                span = _char_span(item.normalized, run)
                extra = dict(where)
                if gi in rm.evidence:
                    qmap = question_maps.get((bi, ii))
                    if qmap is None:
                        qmap = question_maps[(bi, ii)] = DocumentMap(
                            probes.benchmarks[bi].items[ii].question, config.normalize, item.normalized)
                    extra["evidence"] = {**rm.evidence[gi], "question_highlight": list(qmap.span(*span))}
                if exhaustive:
                    entries.append({"probe": _probe(item, windows[0]), "doc_id": doc_id,
                                    "n_probes_matched": len(windows), "span": span, **extra})
                else:
                    # The evidence (one excerpt per item and document) goes on the first probe's entry only.
                    shared = {k: v for k, v in extra.items() if k != "evidence"}
                    entries.extend({"probe": _probe(item, w), "doc_id": doc_id, "span": span,
                                    **(extra if j == 0 else shared)} for j, w in enumerate(windows))
                removed.append({"doc_id": doc_id, "benchmark": probes.benchmarks[bi].name,
                                "item_id": item.item_id, "probe": _probe(item, windows[0]), **where})
        offset += res.n_documents + len(res.rejected)
    bench_sections = []
    for bi, bench in enumerate(probes.benchmarks):
        items_out = []
        contaminated: list[Any] = []
        clean: list[Any] = []
        n_empty = 0
        for ii, item in enumerate(probes.items[bi]):
            matches = per_item.get((bi, ii), [])
            entry: dict[str, Any] = {
                "id": item.item_id,
                "contaminated": bool(matches),
                "n_probes": len(item.offsets),
                "probes": [] if exhaustive else list(item.probes),
            }
            if exhaustive:
                entry["normalized_question"] = item.normalized
            if item.empty:
                entry["empty"] = True
                n_empty += 1
            if matches:  # the evidence's question, as in the benchmark (the report stands on its own)
                entry["question"] = bench.items[ii].question
            entry["matches"] = matches
            items_out.append(entry)
            (contaminated if matches else clean).append(item.item_id)
        n_items = len(bench.items)
        bench_sections.append({
            "name": bench.name,
            "source": bench.source,
            "question_field": bench.question_field,
            "id_field": bench.id_field,
            "fingerprint": bench.fingerprint,
            "n_items": n_items,
            "n_empty": n_empty,
            "n_contaminated": len(contaminated),
            "contamination_rate": round(len(contaminated) / n_items, 6) if n_items else 0.0,
            "contaminated_ids": contaminated,
            "clean_ids": clean,
            "items": items_out,
        })
    n_docs = sum(r.n_documents for r in results)
    rejected = [rj.to_dict() for r in results for rj in r.rejected]
    cfg = config.to_dict()
    cfg["action"] = action
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "decontam", "version": __version__},
        "config": cfg,
        "corpus": {
            "sources": list(sources),
            "n_documents": n_docs,
            "n_characters": sum(r.n_characters for r in results),
            "fingerprint": _fingerprint(results),
            "n_rejected": len(rejected),
            "rejected": rejected,
            # per source, in order: the two digests the fingerprint is made of (merging shards recomputes it)
            "source_digests": [{"source": r.source, "text_sha256": r.digests()[:32].hex(),
                                "lengths_sha256": r.digests()[32:].hex()} for r in results],
        },
        "benchmarks": bench_sections,
        "training": {
            "n_documents": n_docs,
            "n_removed": n_removed,
            "n_kept": n_docs - n_removed,
            "removed": removed,
        },
    }
    return Report(data)


def _probe(item: ItemProbes, window: int) -> str:
    o = item.offsets[window]
    return item.normalized[o : o + item.length]


def _char_span(normalized: str, run: tuple[int, int]) -> list[int]:
    """Byte run in the UTF-8 normalized question -> character span."""
    if normalized.isascii():
        return [run[0], run[1]]
    raw = normalized.encode("utf-8")
    return [len(raw[: run[0]].decode("utf-8")), len(raw[: run[1]].decode("utf-8"))]


# ------------------------------------------------------------------------------------------- public API


def _sources_label(files: Sequence[CorpusFile]) -> list[str]:
    return [str(f.path) for f in files]


def check(
    corpus: Any,
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    config: DecontamConfig | None = None,
    *,
    progress: bool | None = None,
    question_field: str | None = None,
    item_id_field: str | None = None,
    **options: Any,
) -> Report:
    """Flag the benchmark items found in a training corpus.

    Args:
        corpus: Corpus file(s) or folder(s) (``.jsonl``, ``.jsonl.gz``, ``.parquet``), a ``datasets.Dataset``
            or ``IterableDataset``, a ``pyarrow.Table``, or a list of strings or dicts.
        benchmarks: Names (``"humaneval"``), ``"NAME=PATH"`` strings, ``(name, path)`` pairs or loaded
            :class:`~decontam.benchmarks.Benchmark` objects.
        config: Options (default: the GPT-4 rule); keyword ``options`` override it (see :func:`make_config`).
        progress: Show progress bars on stderr (default: when stderr is a terminal).
        question_field: Question field of custom ``"NAME=PATH"`` benchmarks (as ``--question-field``).
        item_id_field: Item id field of custom benchmarks (as ``--item-id-field``; default: row numbers).

    Returns:
        The report: per benchmark, the contaminated and the clean item ids, with probes and evidence.

    Example:
        >>> from decontam.benchmarks import Benchmark, Item
        >>> q = "Write a function that returns the sum of two integers given as arguments."
        >>> bench = Benchmark.from_items("demo", [Item(1, q), Item(2, "Something else entirely, not in there.")])
        >>> report = check(["some text " + q + " more text", "unrelated"], [bench], progress=False)
        >>> report.contaminated_ids("demo"), report.clean_ids("demo")
        ([1], [2])
    """
    cfg = make_config(config, **options)
    probes = ProbeSet.build(resolve_benchmarks(benchmarks, question_field, item_id_field), cfg)
    if _is_pathlike(corpus):
        files = expand_corpus(_as_paths(corpus))
        results = _scan_files(files, probes, cfg, None, progress)
        return build_report(probes, results, cfg, "check", _sources_label(files))
    result, _ = _scan_object(corpus, probes, cfg, progress)
    return build_report(probes, [result], cfg, "check", [result.source])


def filter_files(
    corpus: Sequence[str | os.PathLike[str]],
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    output: str | os.PathLike[str],
    config: DecontamConfig | None = None,
    *,
    progress: bool | None = None,
    question_field: str | None = None,
    item_id_field: str | None = None,
    **options: Any,
) -> Report:
    """Write the corpus without its contaminated rows (same format, rows unchanged, in order).

    A single input file gives an output file; several files or a folder give an output folder with the same
    relative names. Outputs appear only when complete (temporary files, then renames).

    Returns:
        The report, ``action = "filter"``.
    """
    cfg = make_config(config, **options)
    files = expand_corpus(_as_paths(corpus))
    probes = ProbeSet.build(resolve_benchmarks(benchmarks, question_field, item_id_field), cfg)
    outputs = OutputSet(Path(output), files)
    results = _scan_files(files, probes, cfg, outputs, progress)
    return build_report(probes, results, cfg, "filter", _sources_label(files))


def filter_dataset(
    dataset: Any,
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    config: DecontamConfig | None = None,
    *,
    return_report: bool = False,
    output: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    question_field: str | None = None,
    item_id_field: str | None = None,
    **options: Any,
) -> Any:
    """Return the dataset without the rows that contain a probe of any benchmark item.

    ``clean = filter_dataset(ds, ["humaneval", "gsm8k"])`` is the one-line use.

    Args:
        dataset: A ``datasets.Dataset`` (filtered with ``datasets.map``, batched, ``num_proc`` workers) or
            ``IterableDataset`` (filtered lazily), a ``pyarrow.Table``, a list of strings or of dicts, or a
            path to a JSONL/Parquet file or folder.
        benchmarks: As in :func:`check`.
        config: Options; keyword ``options`` override it (``text_field``, ``num_proc``, ``seed``...).
        return_report: Also return the :class:`~decontam.report.Report` of what was removed and why.
        output: For a path input: where to write the result (default: ``<name>.decontam<suffix>`` beside it).
        progress: Show progress bars (default: when stderr is a terminal).
        question_field: Question field of custom ``"NAME=PATH"`` benchmarks (as ``--question-field``).
        item_id_field: Item id field of custom benchmarks (default: row numbers).

    Returns:
        The same kind of object without the contaminated rows (for a path, the output path), or
        ``(filtered, report)`` with ``return_report=True``. For an ``IterableDataset`` the report fills in
        as the returned dataset is iterated (complete once it has been read to the end).

    Example:
        >>> from decontam.benchmarks import Benchmark, Item
        >>> q = "Write a function that returns the sum of two integers given as arguments."
        >>> bench = Benchmark.from_items("demo", [Item(1, q)])
        >>> filter_dataset(["clean row", "leak: " + q.upper() + q], [bench], progress=False)
        ['clean row']
    """
    cfg = make_config(config, **options)
    if _is_pathlike(dataset):
        paths = _as_paths(dataset)
        if output is None:
            if len(paths) != 1 or Path(paths[0]).is_dir():
                raise ConfigError("filtering several files or a folder needs output=<folder>")
            p = Path(paths[0])
            fmt = file_format(p) or ""
            output = p.with_name(p.name[: -len(fmt) - 1] + ".decontam." + fmt)
        report = filter_files(paths, benchmarks, output, cfg, progress=progress, question_field=question_field,
                              item_id_field=item_id_field)
        return (Path(output), report) if return_report else Path(output)
    probes = ProbeSet.build(resolve_benchmarks(benchmarks, question_field, item_id_field), cfg)
    if _is_iterable_dataset(dataset):
        filtered, report = _filter_iterable(dataset, probes, cfg)
        return (filtered, report) if return_report else filtered
    result, filtered = _scan_object(dataset, probes, cfg, progress, want_output=True)
    report = build_report(probes, [result], cfg, "filter", [result.source])
    return (filtered, report) if return_report else filtered


# --------------------------------------------------------------------------------- in-memory objects


def _is_pathlike(obj: Any) -> bool:
    if isinstance(obj, (str, os.PathLike)):
        return True
    return isinstance(obj, (list, tuple)) and bool(obj) and all(isinstance(x, os.PathLike) for x in obj)


def _as_paths(obj: Any) -> list[str | os.PathLike[str]]:
    return [obj] if isinstance(obj, (str, os.PathLike)) else list(obj)


def _is_iterable_dataset(obj: Any) -> bool:
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a core dependency
        return False
    return isinstance(obj, datasets.IterableDataset)


def _is_dataset(obj: Any) -> bool:
    try:
        import datasets
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, datasets.Dataset)


def _table_batches(table: pa.Table, cfg: DecontamConfig, source: str, rejected: list[Rejected],
                   first_row: int = 0) -> Iterator[tuple[Batch, np.ndarray]]:
    """Batches of an Arrow table; yields (batch, row positions of the batch within the table)."""
    names = table.column_names
    if cfg.text_field not in names:
        raise InputError(
            f"no such column; pass text_field= to name the text column (columns: {', '.join(names)})",
            path=source, field=cfg.text_field,
        )
    col = table.column(cfg.text_field)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise InputError(f"text column must hold strings, it holds {col.type}", path=source, field=cfg.text_field)
    id_col = table.column(cfg.id_field) if cfg.id_field and cfg.id_field in names else None
    row = first_row
    for rb in table.to_batches(max_chunksize=8192):
        texts = rb.column(rb.schema.get_field_index(cfg.text_field))
        positions = np.arange(row, row + rb.num_rows, dtype=np.int64)
        ids = rb.column(rb.schema.get_field_index(cfg.id_field)) if id_col is not None else None
        if texts.null_count:
            valid = np.asarray(texts.is_valid().to_numpy(zero_copy_only=False))
            bad = np.flatnonzero(~valid)
            if cfg.on_error != "skip":
                raise InputError("text is null; or pass on_error='skip' to skip and count such rows",
                                 path=source, line=int(positions[bad[0]]) + 1, field=cfg.text_field)
            rejected.extend(Rejected(source, int(positions[i]) + 1, cfg.text_field, "text is null")
                            for i in bad.tolist())
            mask = arrow_mask(valid)
            texts = texts.filter(mask)
            ids = ids.filter(mask) if ids is not None else None
            positions = positions[valid]
        yield Batch(texts, source, positions + 1, positions, id_field=cfg.id_field, id_column=ids), positions
        row += rb.num_rows


def _scan_table(table: pa.Table, probes: ProbeSet, cfg: DecontamConfig, source: str,
                progress: bool | None) -> tuple[SourceResult, np.ndarray]:
    """Scan an Arrow table; returns the result and the keep mask over all its rows."""
    result = SourceResult(source)
    keep_all = np.zeros(table.num_rows, dtype=bool)
    bar = progress_bar(None, "decontam: scanning", progress)
    try:
        for batch, positions in _table_batches(table, cfg, source, result.rejected):
            keep = scan_batch(probes.matcher, batch, cfg.normalize, result)
            keep_all[positions] = keep
            bar.update(int(_pc().sum(_pc().binary_length(batch.texts)).as_py() or 0))
    finally:
        bar.close()
    return result, keep_all


def _arrow_strings(texts: list[Any]) -> pa.Array:
    """Python strings as an Arrow array. Lone surrogates (e.g. from a JSON ``"\\ud800"``) cannot be UTF-8 and
    are replaced by U+FFFD, a symbol the normalizer drops, as it drops the surrogate itself."""
    try:
        return pa.array(texts, type=pa.large_string())
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return pa.array([t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                         if isinstance(t, str) and not t.isascii() else t for t in texts], type=pa.large_string())


def _scan_object(obj: Any, probes: ProbeSet, cfg: DecontamConfig, progress: bool | None,
                 want_output: bool = False) -> tuple[SourceResult, Any]:
    if _is_dataset(obj):
        import datasets

        was_enabled = datasets.is_progress_bar_enabled()
        if progress is False and was_enabled:
            datasets.disable_progress_bars()
        try:
            return _scan_hf_dataset(obj, probes, cfg, want_output)
        finally:
            if progress is False and was_enabled:
                datasets.enable_progress_bars()
    if _is_iterable_dataset(obj):
        if want_output:
            raise AssertionError("iterable datasets are filtered lazily")  # pragma: no cover
        result = SourceResult("<iterable dataset>")
        for _ in _iter_filtered(obj, probes, cfg, result):
            pass
        return result, None
    if isinstance(obj, pa.Table):
        result, keep = _scan_table(obj, probes, cfg, "<table>", progress)
        return result, (obj.filter(arrow_mask(keep)) if want_output else None)
    if isinstance(obj, (list, tuple)):
        if all(isinstance(x, str) for x in obj):
            table = pa.table({cfg.text_field: _arrow_strings(list(obj))})
            result, keep = _scan_table(table, probes, cfg, "<list>", progress)
            return result, ([x for x, k in zip(obj, keep.tolist()) if k] if want_output else None)
        if all(isinstance(x, dict) for x in obj):
            texts: list[str | None] = []
            ids = []
            reasons: dict[int, str] = {}  # line -> why the row is rejected (on_error="skip")
            for i, row in enumerate(obj):
                value = row.get(cfg.text_field)
                if not isinstance(value, str):
                    reason = "missing text field" if value is None else f"text must be a string, got {type(value).__name__}"
                    if cfg.on_error != "skip":
                        raise InputError(reason + "; pass text_field= to name the field holding the text",
                                         path="<list>", line=i + 1, field=cfg.text_field)
                    reasons[i + 1] = reason
                    value = None  # a null text: rejected (counted and listed) by the table scan
                texts.append(value)
                doc_id = row.get(cfg.id_field) if cfg.id_field else None
                ids.append(doc_id if doc_id is None or isinstance(doc_id, (str, int, float, bool)) else str(doc_id))
            cols: dict[str, Any] = {cfg.text_field: _arrow_strings(texts)}
            table = pa.table(cols)
            result, keep = _scan_table(table, probes, cfg, "<list>", progress)
            result.rejected[:] = [dataclasses.replace(rj, reason=reasons.get(rj.line, rj.reason))
                                  for rj in result.rejected]
            for rm in result.rows:
                rm.doc_id = ids[rm.row]
            return result, ([x for x, k in zip(obj, keep.tolist()) if k] if want_output else None)
        raise TypeError("a list corpus must hold only strings or only dicts")
    raise TypeError(
        f"unsupported corpus type {type(obj).__name__}: pass a path, a datasets.Dataset or IterableDataset, "
        "a pyarrow.Table, or a list of strings or dicts"
    )


class _DatasetScanner:
    """The ``datasets.map`` function: scans an Arrow batch, returns per-row matches (picklable)."""

    def __init__(self, matcher: Matcher, cfg: DecontamConfig) -> None:
        self.matcher = matcher
        self.cfg = cfg

    def __call__(self, table: pa.Table, indices: list[int]) -> pa.Table:
        rejected: list[Rejected] = []
        result = SourceResult("<dataset>")
        keep = np.ones(table.num_rows, dtype=bool)
        for batch, positions in _table_batches(table, self.cfg, "<dataset>", rejected):
            keep[positions] = scan_batch(self.matcher, batch, self.cfg.normalize, result)
        found = [""] * table.num_rows
        import json

        for rm in result.rows:
            pos = rm.line - 1
            found[pos] = json.dumps([[gi, list(w), list(run), list(rm.doc_runs.get(gi, run)), rm.evidence.get(gi)]
                                     for gi, w, run in rm.found], ensure_ascii=False)
        for rj in rejected:
            found[rj.line - 1] = "!" + rj.reason
        return pa.table({
            "_decontam_found": pa.array(found, type=pa.string()),
            "_decontam_index": pa.array(indices, type=pa.int64()),
            "_decontam_chars": _pc().utf8_length(table.column(self.cfg.text_field)).cast(pa.int64())
            if table.num_rows else pa.array([], type=pa.int64()),
        })


def _scan_hf_dataset(ds: Any, probes: ProbeSet, cfg: DecontamConfig, want_output: bool) -> tuple[SourceResult, Any]:
    import json

    if cfg.text_field not in ds.column_names:
        raise InputError(
            f"no such column; pass text_field= to name the text column (columns: {', '.join(ds.column_names)})",
            path="<dataset>", field=cfg.text_field,
        )
    if ds.num_rows == 0:  # map() over no rows adds no columns: nothing to scan, nothing to drop
        return SourceResult("<dataset>"), (ds if want_output else None)
    scanner = _DatasetScanner(probes.matcher, cfg)
    fingerprint = hashlib.sha256(
        (str(ds._fingerprint) + cfg.fingerprint() + "".join(b.fingerprint for b in probes.benchmarks)).encode()
    ).hexdigest()[:32]
    scanned = ds.with_format("arrow").map(
        scanner,
        batched=True,
        batch_size=2000,
        with_indices=True,
        input_columns=None,
        remove_columns=ds.column_names,
        num_proc=cfg.num_proc if cfg.num_proc > 1 else None,
        new_fingerprint=fingerprint,
        desc="decontam: scanning",
    )
    table = scanned.with_format("arrow")[:]
    found = table.column("_decontam_found").to_pylist()
    result = SourceResult("<dataset>")
    # The digest covers the text in row order, as for files.
    text_col = ds.data.column(cfg.text_field) if ds._indices is None else ds.with_format("arrow")[:][cfg.text_field]
    for chunk in text_col.chunks:
        if chunk.null_count:  # rejected (null) rows are not part of the checked text, as for files
            chunk = chunk.filter(chunk.is_valid())
        if len(chunk) == 0:
            continue
        data, offsets = text_buffers(chunk)
        result.text_digest.update(data[int(offsets[0]) : int(offsets[-1])])
        result.length_digest.update(np.diff(offsets).astype("<i8").tobytes())
    result.n_characters = int(_pc().sum(table.column("_decontam_chars")).as_py() or 0)
    keep = np.ones(len(found), dtype=bool)
    id_values = ds[cfg.id_field] if cfg.id_field and cfg.id_field in ds.column_names else None
    for i, value in enumerate(found):
        if not value:
            continue
        keep[i] = False
        if value.startswith("!"):
            result.rejected.append(Rejected("<dataset>", i + 1, cfg.text_field, value[1:]))
            continue
        doc_id = id_values[i] if id_values is not None else None
        entries = json.loads(value)
        result.rows.append(RowMatch(i, i + 1, doc_id,
                                    [(gi, tuple(w), (run[0], run[1])) for gi, w, run, *_ in entries],
                                    {gi: (e[3][0], e[3][1]) for e in entries for gi in e[:1]},
                                    {e[0]: e[4] for e in entries if len(e) > 4 and e[4] is not None}))
    result.n_documents = len(found) - len(result.rejected)
    filtered = ds.select(np.flatnonzero(keep)) if want_output else None
    return result, filtered


def _iter_filtered(ds: Any, probes: ProbeSet, cfg: DecontamConfig, result: SourceResult) -> Iterator[dict[str, Any]]:
    """Yield the rows of an iterable dataset that contain no probe, recording matches in ``result``."""
    buffer: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        base = result.n_documents + len(result.rejected)  # stream position of buffer[0]
        good: list[int] = []
        for i, row in enumerate(buffer):
            value = row.get(cfg.text_field)
            if isinstance(value, str):
                good.append(i)
                continue
            reason = "missing text field" if value is None else f"text must be a string, got {type(value).__name__}"
            if cfg.on_error != "skip":
                raise InputError(reason + "; pass text_field= to name the field holding the text",
                                 path="<iterable dataset>", line=base + i + 1, field=cfg.text_field)
            result.rejected.append(Rejected("<iterable dataset>", base + i + 1, cfg.text_field, reason))
        rows = np.array([base + i for i in good], dtype=np.int64)
        batch = Batch(pa.array([buffer[i][cfg.text_field] for i in good], type=pa.large_string()),
                      "<iterable dataset>", rows + 1, rows,
                      ids=[buffer[i].get(cfg.id_field) for i in good] if cfg.id_field else None)
        keep = scan_batch(probes.matcher, batch, cfg.normalize, result)
        for j, i in enumerate(good):
            if keep[j]:
                yield buffer[i]

    for row in ds:
        buffer.append(row)
        if len(buffer) >= 1000:
            yield from flush()
            buffer = []
    if buffer:
        yield from flush()


def _filter_iterable(ds: Any, probes: ProbeSet, cfg: DecontamConfig) -> tuple[Any, Report]:
    import datasets

    report = Report({})
    holder: dict[str, Any] = {}

    def generate() -> Iterator[dict[str, Any]]:
        result = SourceResult("<iterable dataset>")
        yield from _iter_filtered(ds, probes, cfg, result)
        report.data.clear()
        report.data.update(build_report(probes, [result], cfg, "filter", ["<iterable dataset>"]).data)
        holder["done"] = True

    filtered = datasets.IterableDataset.from_generator(generate, features=ds.features)
    return filtered, report
