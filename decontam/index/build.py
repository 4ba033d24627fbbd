"""Building index folders: from files (in this process, or one process per file), from in-memory corpora, and
by merging indexes; written in a staging folder and moved into place when complete.

A build reads its corpus batch by batch (:class:`_PartBuilder`): each batch is accounted for (rows,
characters, digests: the corpus fingerprint ``check`` reports), normalized, stored (normalized and original
text), and its minimizers become a *run*, ordered by the keys' top bits only. The runs (spilled to disk when
large) are merged into the sorted table one range of keys at a time (:func:`_merge_runs`); then come the Bloom
filter, the document table, the portrait and, last, the manifest (:func:`_write_index`). Merging indexes
concatenates their texts and documents and merges their (sorted) tables the same way.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import interrupts_held
from ..bloom import BloomFilter
from ..config import DecontamConfig
from ..errors import ConfigError, IndexMismatchError
from ..inputs import (
    Batch,
    CorpusFile,
    as_paths,
    expand_corpus,
    is_pathlike,
    memory_source,
    read_file,
    text_buffers,
)
from ..normalize import normalize_many
from ..report import corpus_fingerprint
from ..runtime import progress_bar, worker_pool
from ..scan import SourceResult, account_batch, ray_session, require_rows, run_units
from ..version import __version__
from .format import (
    BLOOM_SEED,
    PORTRAIT_FILE,
    IndexFiles,
    check_normalizer,
    check_params,
    int_column,
    params,
    write_block_table,
    write_docs,
    write_manifest,
    write_portrait,
)
from .hashing import RUN_BITS, bucketed, distinct_keys, radix_order, select_minimizers, thin
from .store import HashingWriter, TextWriter

__all__ = ["build_into", "merge_into"]

_SPILL_ENTRIES = 16 << 20  # table entries kept in memory per build part before a sorted run goes to disk
# Entries sorted at a time when runs are merged (at least; ranges are never narrower than a top-RUN_BITS-bit
# bucket): small ranges sort in cache, and radix passes over bytes that a range shares are skipped by numpy.
_MERGE_ENTRIES = 1 << 16
# Keys read at a time for the Bloom filter: temporaries of a few MB are reused by malloc, while arrays over
# 32 MB would be fresh mmaps, zeroed by the kernel on every allocation.
_BLOOM_STEP = 1 << 20

_Run = tuple[np.ndarray, np.ndarray, int]  # stored keys, positions, offset to add to the positions
_Stores = dict[str, tuple[TextWriter, dict[str, Any]]]  # "text"/"raw": the closed writer and its file's entry


# ------------------------------------------------------------------------------------------- one part


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
        self.text = TextWriter(self.folder / "text.zst")
        self.raw = TextWriter(self.folder / "raw.zst")
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
        """Start the next source; its batches are added with :meth:`add_batch`."""
        s = SourceResult(label)
        self.sources.append(s)
        return s

    def add_file(self, f: CorpusFile) -> None:
        """Add a corpus file as the next source."""
        src = self.source(str(f.path))
        for batch in read_file(f, self.config.text_field, self.config.id_field or None, self.config.on_error,
                               src.rejected):
            self.add_batch(batch, src)

    def add_batch(self, batch: Batch, src: SourceResult) -> None:
        """Account for a batch of ``src``, store its text and documents, and keep its minimizers as a run.

        Raises:
            ConfigError: The batch is of several text fields or chats (an index holds one text per document).
        """
        if batch.segment_row is not None:
            raise ConfigError(f"{batch.source}: an index holds one text per document, and these rows have "
                              f"several ({', '.join(batch.fields or ())}); index one string field (--text-field "
                              "NAME), or check the corpus without an index (decontam check / filter), which reads "
                              "several fields and chats")
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
        keys, pos = select_minimizers(normalized, noffs)
        keys, pos = bucketed(*thin(keys, pos + at))  # stretches of the whole text: batching changes nothing
        self.runs.append((keys, pos))
        self.run_entries += len(keys)
        self.text.write(normalized)
        if self.run_entries >= _SPILL_ENTRIES:
            self._spill()

    def _sorted_run(self) -> tuple[np.ndarray, np.ndarray]:
        """The batch runs merged into one run (ordered by the keys' top ``RUN_BITS`` bits, then position)."""
        keys = np.concatenate([k for k, _ in self.runs]) if self.runs else np.zeros(0, np.uint64)
        pos = np.concatenate([p for _, p in self.runs]) if self.runs else np.zeros(0, np.int64)
        return bucketed(keys, pos) if len(self.runs) > 1 else (keys, pos)

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
        runs: list[_Run] = []
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


# ------------------------------------------------------------------------------------ writing an index


def _merge_runs(runs: Sequence[_Run], folder: Path, pos_dtype: str,
                run_bits: int = RUN_BITS) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Merge runs (stored keys, positions, position offset), given in position order, each ordered by the
    keys' top ``run_bits`` bits then position: a build's batch runs (``RUN_BITS``, see
    :func:`~decontam.index.hashing.bucketed`) or indexes' tables (fully sorted).

    Writes ``keys.u64`` and ``pos.*`` sorted by the keys' top 32 bits then position, one range of the top bits
    at a time (about ``_MERGE_ENTRIES`` entries, at most ``2**min(run_bits, 16)`` ranges: memory stays
    bounded, the sort's working set in cache): the range's slice of every run, end to end, is in position
    order inside each top-``run_bits``-bit bucket, so a stable sort by the top 32 bits completes it.

    Returns:
        The two files' infos, and the number of distinct keys (counted as by
        :func:`~decontam.index.hashing.distinct_keys`).
    """
    total = sum(len(k) for k, _, _ in runs)
    bits = min(run_bits, 16, max(0, math.ceil(math.log2(max(1, total) / _MERGE_ENTRIES)))) if total else 0
    kw = HashingWriter(folder / "keys.u64")
    pw = HashingWriter(folder / f"pos.{pos_dtype}")
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
        o = radix_order(k)
        k = np.take(k, o, mode="clip")
        distinct += len(distinct_keys(k))  # ranges split by the top bits: no key is in two of them
        kw.write(np.ascontiguousarray(k, dtype="<u8"))
        pw.write(np.take(p, o, mode="clip"))
    return kw.close(), pw.close(), distinct


def _bloom_filter(folder: Path, n_entries: int, distinct: int, bloom_fp: float,
                  with_bloom: bool) -> BloomFilter:
    """The Bloom filter over the distinct keys of the table just written, sized for them.

    Without ``with_bloom`` (the parts of a parallel build, merged at once: their own filters would be thrown
    away) the filter is the smallest one, empty. Stored keys are uniform and the table is sorted: partitioned
    by their own top bits, they arrive grouped by partition.
    """
    keys = np.memmap(folder / "keys.u64", dtype="<u8", mode="r", shape=(n_entries,)) if n_entries else \
        np.zeros(0, dtype=np.uint64)
    bloom = BloomFilter.for_capacity(max(1, distinct) if with_bloom else 1, bloom_fp, BLOOM_SEED,
                                     partition_by="key")
    for s in range(0, n_entries if with_bloom else 0, _BLOOM_STEP):
        bloom.add(distinct_keys(keys[s : s + _BLOOM_STEP]))
    bloom.n_keys = distinct
    return bloom


def _write_index(folder: Path, runs: Sequence[_Run], docs: dict[str, Any], sources: list[dict[str, Any]],
                 total: int, stores: _Stores, config: DecontamConfig, bloom_fp: float,
                 with_bloom: bool = True, run_bits: int = RUN_BITS) -> dict[str, Any]:
    """Write an index folder's files: the table (from ``runs``), the Bloom filter and portrait, the document
    and block tables beside the closed text ``stores``, and last the manifest, which is returned."""
    pos_dtype = "u4" if total < (1 << 32) else "u8"
    keys_info, pos_info, distinct = _merge_runs(runs, folder, pos_dtype, run_bits)
    n_entries = keys_info["size"] // 8
    bloom = _bloom_filter(folder, n_entries, distinct, bloom_fp, with_bloom)
    files = {"keys.u64": keys_info, f"pos.{pos_dtype}": pos_info, "docs.arrow": write_docs(folder, docs)}
    for name, (writer, info) in stores.items():
        files[f"{name}.zst"] = info
        files[f"{name}.blocks.arrow"] = write_block_table(folder, name, writer)
    common = {
        "normalize": dataclasses.asdict(config.normalize),
        "text_field": config.text_field,
        "id_field": config.id_field,
        "on_error": config.on_error,
        "params": params(),
        "corpus": {
            "sources": sources,
            "n_documents": len(docs["id"]),
            "n_characters": sum(s["n_characters"] for s in sources),
            "n_normalized_bytes": int(total),
            "fingerprint": corpus_fingerprint(sources),
        },
        "bloom": bloom.params() | {"target_fp_rate": bloom_fp, "fp_rate": bloom.fp_rate(),
                                   "n_distinct_keys": distinct},
        "tool": {"name": "decontam", "version": __version__},
    }
    files[PORTRAIT_FILE] = write_portrait(folder / PORTRAIT_FILE, common, bloom.bits)
    return write_manifest(folder, common | {"table": {"n_entries": n_entries, "pos_dtype": pos_dtype},
                                            "files": files})


# ----------------------------------------------------------------------------------- staging and commit


# ------------------------------------------------------------------------------------ building, merging


def _build_file_part(f: CorpusFile, folder: Path, cfg: DecontamConfig, bloom_fp: float) -> Path:
    """Index one file into its own part (in a worker process); its Bloom filter is left empty."""
    b = _PartBuilder(folder, cfg, bloom_fp, bloom=False)
    b.add_file(f)
    b.finish()
    return folder


def _build_unit(_: Any, f: CorpusFile, folder: Path, cfg: DecontamConfig, bloom_fp: float) -> Path:
    """A Ray task's unit of a build: one file into its part (see :func:`decontam.scan.run_units`)."""
    return _build_file_part(f, folder, cfg, bloom_fp)


def _build_parts_ray(files: list[CorpusFile], sizes: list[int], parts_dir: Path, cfg: DecontamConfig,
                     bloom_fp: float, bar: Any) -> list[Path]:
    """Index each file into its own part with Ray tasks (every file, even one: the same parts, merged the same
    way, whatever the engine); the parts in corpus order."""
    parts = []
    with ray_session(cfg.ray_address, progress=False):
        units = [(f, parts_dir / f"{i:06d}", cfg, bloom_fp) for i, f in enumerate(files)]
        for get, size in zip(run_units(_build_unit, units), sizes):
            parts.append(get())
            bar.update(size)
    return parts


def build_into(corpus: Any, stage: Path, cfg: DecontamConfig, bloom_fp: float, progress: bool | None) -> None:
    """Index ``corpus`` into the folder ``stage``.

    An in-memory corpus and the files of a serial build (``cfg.num_proc`` 1, or one file) go into one part;
    with several processes and files each file is indexed by its own process (or, ``cfg.engine="ray"``, by a
    Ray task) into a part, and the parts are merged into ``stage``.

    Raises:
        ConfigError: ``engine="ray"`` for an in-memory corpus (Ray builds indexes of files).
    """
    stage.mkdir(parents=True, exist_ok=True)
    if cfg.engine == "ray" and not is_pathlike(corpus):
        raise ConfigError("engine='ray' indexes files (each in a Ray task, then merged); index an in-memory corpus "
                          "with the local engine")
    if not is_pathlike(corpus):
        b = _PartBuilder(stage, cfg, bloom_fp)
        source = memory_source(corpus, cfg.text_field, cfg.id_field or None, cfg.on_error)
        src = b.source(source.label)
        for batch in source.read(src.rejected):
            b.add_batch(batch, src)
        require_rows(b.sources, allow_empty=True)
        b.finish()
        return
    files = expand_corpus(as_paths(corpus))
    sizes = [f.path.stat().st_size for f in files]
    bar = progress_bar(sum(sizes), "decontam: indexing", progress)
    try:
        if cfg.engine == "ray" or (cfg.num_proc > 1 and len(files) > 1):
            parts_dir = stage / ".parts"
            parts_dir.mkdir()
            if cfg.engine == "ray":
                parts = _build_parts_ray(files, sizes, parts_dir, cfg, bloom_fp, bar)
            else:
                with worker_pool(min(cfg.num_proc, len(files)), _no_setup, (), hold=interrupts_held) as pool:
                    futures = [pool.submit(_build_file_part, f, parts_dir / f"{i:06d}", cfg, bloom_fp)
                               for i, f in enumerate(files)]
                    parts = []
                    for fut, size in zip(futures, sizes):
                        parts.append(fut.result())
                        bar.update(size)
            opened = [IndexFiles.load(p, verify=False) for p in parts]
            require_rows([SourceResult.from_dict(src) for ix in opened for src in ix.manifest["corpus"]["sources"]])
            merge_into(opened, stage, bloom_fp)
            shutil.rmtree(parts_dir, ignore_errors=True)
        else:
            b = _PartBuilder(stage, cfg, bloom_fp)
            for f, size in zip(files, sizes):
                b.add_file(f)
                bar.update(size)
            require_rows(b.sources)
            b.finish()
    finally:
        bar.close()


def _no_setup() -> None:
    """Workers that build parts need nothing set up beforehand."""


def _check_mergeable(indexes: Sequence[IndexFiles]) -> None:
    """Refuse to merge indexes built with other normalizers, parameters or corpus fields than the first."""
    first = indexes[0].manifest
    for ix in indexes[1:]:
        m = ix.manifest
        check_normalizer(m["normalize"], indexes[0].normalize, f"index {ix.path}")
        check_params(m["params"], str(ix.path))
        for k in ("text_field", "id_field"):
            if m[k] != first[k]:
                raise IndexMismatchError(f"index {ix.path} was built with {k}={m[k]!r}, "
                                         f"{indexes[0].path} with {first[k]!r}; they cannot be merged")


def merge_into(indexes: Sequence[IndexFiles], stage: Path, bloom_fp: float | None) -> dict[str, Any]:
    """Merge indexes (their corpora in the given order) into the folder ``stage``; returns its manifest.

    Texts are copied block by block, documents and sources concatenated, the (sorted) tables merged; the
    Bloom filter is rebuilt for the merged keys at ``bloom_fp`` (default: the lowest target rate of the
    indexes).

    Raises:
        IndexMismatchError: The indexes were built with different normalizers, parameters or fields.
    """
    _check_mergeable(indexes)
    fp = bloom_fp if bloom_fp is not None else min(ix.manifest["bloom"]["target_fp_rate"] for ix in indexes)
    stage.mkdir(parents=True, exist_ok=True)
    text = TextWriter(stage / "text.zst")
    raw = TextWriter(stage / "raw.zst")
    runs = []
    docs: dict[str, list[Any]] = {"start": [], "raw_start": [], "source": [], "row": [], "line": [], "id": []}
    sources: list[dict[str, Any]] = []
    for ix in indexes:
        base, raw_base = text.total, raw.total
        text.copy_blocks(memoryview(ix.text.comp), ix.text.block_starts, ix.text.comp_offsets)
        raw.copy_blocks(memoryview(ix.raw.comp), ix.raw.block_starts, ix.raw.comp_offsets)
        docs["raw_start"].append(int_column(ix.docs, "raw_start") + raw_base)
        runs.append((ix.keys, ix.positions, base))
        docs["start"].append(int_column(ix.docs, "start") + base)
        docs["source"].append(int_column(ix.docs, "source") + len(sources))
        docs["row"].append(int_column(ix.docs, "row"))
        docs["line"].append(int_column(ix.docs, "line"))
        docs["id"].extend(ix.docs.column("id").to_pylist())
        sources.extend(ix.manifest["corpus"]["sources"])
    text_info = text.close()
    raw_info = raw.close()
    cat = {k: (np.concatenate(v) if k != "id" else v) for k, v in docs.items()}
    stores = {"text": (text, text_info), "raw": (raw, raw_info)}
    return _write_index(stage, runs, cat, sources, text.total, stores, indexes[0].config(), fp,
                        run_bits=32)  # the tables are fully sorted
