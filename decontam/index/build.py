"""Building index folders: from files (in this process, in a pool of processes: :mod:`.parts`, or in Ray tasks),
from in-memory corpora, and by merging indexes; written in a staging folder and moved into place when complete.

A one-process build reads its corpus batch by batch (:class:`~decontam.index.part.PartBuilder`): each batch is
accounted for (rows, characters, digests: the corpus fingerprint ``check`` reports), normalized, stored
(normalized and original text), and its minimizers become a *run*, ordered by the keys' top bits only
(:class:`_Runs`). The runs (spilled to disk when large) are merged into the sorted table one range of keys at a
time; then come the Bloom filter, the document table, the portrait and, last, the manifest
(:func:`~decontam.index.write.write_index`). Merging indexes concatenates their texts and documents and merges
their (sorted) tables the same way.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import DecontamConfig
from ..errors import ConfigError, IndexMismatchError
from ..inputs import CorpusFile, as_paths, expand_corpus, is_pathlike, memory_source
from ..runtime import progress_bar
from ..scan import SourceResult, ray_session, require_rows, run_units
from .format import IndexFiles, check_normalizer, check_params, int_column
from .hashing import bucketed
from .part import PartBuilder
from .parts import build_in_pool, plan_jobs
from .store import TextWriter
from .write import Run, write_index

__all__ = ["build_into", "check_mergeable", "merge_into"]

_SPILL_ENTRIES = 16 << 20  # table entries kept in memory by a build before a sorted run goes to disk


class _Runs:
    """A one-process build's selected pairs: thinned and bucketed batch by batch (runs), spilled to disk in
    sorted runs when many."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.entries = 0
        self.spilled: list[tuple[Path, Path, int]] = []

    def add(self, keys: np.ndarray, pos: np.ndarray, at: int) -> None:
        """Keep a batch's thinned pairs (position order; positions from ``at`` on) as a run."""
        keys, pos = bucketed(keys, pos + at)
        self.runs.append((keys, pos))
        self.entries += len(keys)
        if self.entries >= _SPILL_ENTRIES:
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
        self.runs, self.entries = [], 0

    def all(self) -> list[Run]:
        """Every run, spilled ones memory-mapped, in position order."""
        runs: list[Run] = []
        for kp, pp, n in self.spilled:
            runs.append((np.memmap(kp, dtype=np.uint64, mode="r", shape=(n,)) if n else np.zeros(0, np.uint64),
                         np.memmap(pp, dtype=np.int64, mode="r", shape=(n,)) if n else np.zeros(0, np.int64), 0))
        return runs + [(k, p, 0) for k, p in self.runs]

    def remove(self) -> None:
        """Remove the spilled runs."""
        for kp, pp, _ in self.spilled:
            kp.unlink(missing_ok=True)
            pp.unlink(missing_ok=True)


class _OneProcess:
    """A build in this process: one :class:`PartBuilder` into the index's text stores and runs."""

    def __init__(self, folder: Path, config: DecontamConfig) -> None:
        self.folder = folder
        self.config = config
        self.text = TextWriter(folder / "text.zst")
        self.raw = TextWriter(folder / "raw.zst")
        self.runs = _Runs(folder)
        self.builder = PartBuilder(config, self.text, self.raw, self.runs.add)

    def finish(self, bloom_fp: float, with_bloom: bool = True) -> dict[str, Any]:
        """Write the table, docs, portrait and manifest; returns the manifest. Without ``with_bloom`` (a part
        about to be merged) its Bloom filter is left empty."""
        text_info = self.text.close()
        raw_info = self.raw.close()
        docs = self.builder.documents()
        manifest = write_index(self.folder, self.runs.all(), docs, [s.to_dict() for s in self.builder.sources],
                               self.text.total, {"text": (self.text, text_info), "raw": (self.raw, raw_info)},
                               self.config, bloom_fp, with_bloom)
        self.runs.remove()
        return manifest


def _build_file_part(f: CorpusFile, folder: Path, cfg: DecontamConfig, bloom_fp: float) -> Path:
    """Index one file into its own part (in a Ray task); its Bloom filter is left empty."""
    folder.mkdir(parents=True, exist_ok=True)
    b = _OneProcess(folder, cfg)
    b.builder.add_file(f)
    b.finish(bloom_fp, with_bloom=False)
    return folder


def _build_unit(_: Any, f: CorpusFile, folder: Path, cfg: DecontamConfig, bloom_fp: float) -> Path:
    """A Ray task's unit of a build: one file into its part (see :func:`decontam.scan.run_units`)."""
    return _build_file_part(f, folder, cfg, bloom_fp)


def _build_with_ray(files: list[CorpusFile], sizes: list[int], stage: Path, cfg: DecontamConfig, bloom_fp: float,
                    bar: Any) -> None:
    """Index each file into its own part with Ray tasks (every file, even one: the same parts, merged the same
    way, whatever the cluster), then merge the parts, in corpus order, into ``stage``."""
    parts_dir = stage / ".parts"
    parts_dir.mkdir()
    parts = []
    with ray_session(cfg.ray_address, progress=False):
        units = [(f, parts_dir / f"{i:06d}", cfg, bloom_fp) for i, f in enumerate(files)]
        for get, size in zip(run_units(_build_unit, units), sizes):
            parts.append(get())
            bar.update(size)
    opened = [IndexFiles.load(p, verify=False) for p in parts]
    require_rows([SourceResult.from_dict(src) for ix in opened for src in ix.manifest["corpus"]["sources"]])
    merge_into(opened, stage, bloom_fp)
    shutil.rmtree(parts_dir, ignore_errors=True)


def build_into(corpus: Any, stage: Path, cfg: DecontamConfig, bloom_fp: float, progress: bool | None) -> None:
    """Index ``corpus`` into the folder ``stage``.

    An in-memory corpus, and files with ``cfg.num_proc`` 1 (or too small to share), are indexed in this
    process; otherwise the files, large ones in parts, are indexed by a pool of processes (:mod:`.parts`),
    into the same bytes. With ``cfg.engine="ray"`` each file is indexed by a Ray task into a part, and the
    parts are merged into ``stage``.

    Raises:
        ConfigError: ``engine="ray"`` for an in-memory corpus (Ray builds indexes of files).
    """
    stage.mkdir(parents=True, exist_ok=True)
    if cfg.engine == "ray" and not is_pathlike(corpus):
        raise ConfigError("engine='ray' indexes files (each in a Ray task, then merged); index an in-memory corpus "
                          "with the local engine")
    if not is_pathlike(corpus):
        b = _OneProcess(stage, cfg)
        source = memory_source(corpus, cfg.text_field, cfg.id_field or None, cfg.on_error, cfg.max_doc_bytes)
        src = b.builder.source(source.label)
        for batch in source.read(src.rejected):
            b.builder.add_batch(batch, src)
        require_rows(b.builder.sources, allow_empty=True)
        b.finish(bloom_fp)
        return
    files = expand_corpus(as_paths(corpus))
    sizes = [f.path.stat().st_size for f in files]
    bar = progress_bar(sum(sizes), "decontam: indexing", progress)
    try:
        if cfg.engine == "ray":
            _build_with_ray(files, sizes, stage, cfg, bloom_fp, bar)
            return
        jobs = plan_jobs(files, cfg) if cfg.num_proc > 1 else []
        if len(jobs) > 1:
            build_in_pool(jobs, stage, cfg, bloom_fp, bar)
            return
        b = _OneProcess(stage, cfg)
        for f, size in zip(files, sizes):
            b.builder.add_file(f)
            bar.update(size)
        require_rows(b.builder.sources)
        b.finish(bloom_fp)
    finally:
        bar.close()


def check_mergeable(indexes: Sequence[IndexFiles]) -> None:
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
    check_mergeable(indexes)
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
    # A shard built with on_error="raise" has no malformed row, so "skip" describes the merged corpus exactly
    # when any shard skipped rows (and its report is reproduced by a check with skip: `decontam verify`).
    skipped = any(ix.manifest["on_error"] == "skip" for ix in indexes)
    config = dataclasses.replace(indexes[0].config(), on_error="skip" if skipped else "raise")
    return write_index(stage, runs, cat, sources, text.total, stores, config, fp,
                       run_bits=32)  # the tables are fully sorted
