"""Writing an index folder: the sorted table from runs of (key, position) pairs, the Bloom filter over its keys,
the document and block tables, the portrait and, last, the manifest.

The table is merged from *runs* one range of the keys' top bits at a time (:func:`merge_ranges`): each range
is sorted on its own and written where it belongs, so a range's place in the files depends only on how many
entries the ranges before it hold. The Bloom filter, partitioned by the (uniform, sorted) keys' own top bits,
is filled from slices of the sorted table (:func:`add_keys`), and slices of whole partition groups set bits in
disjoint bytes. A one-process build does both in order (:func:`write_index`); a build in a pool of processes
(:mod:`.parts`) hands ranges and slices to its workers and writes the rest with :func:`write_tables` and
:func:`write_files`: the same bytes either way.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..bloom import BloomFilter
from ..config import DecontamConfig
from ..report import corpus_fingerprint
from ..version import __version__
from .format import (
    BLOOM_SEED,
    PORTRAIT_FILE,
    params,
    write_block_table,
    write_docs,
    write_manifest,
    write_portrait,
)
from .hashing import RUN_BITS, distinct_keys, radix_order
from .store import HashingWriter, TextWriter

__all__ = [
    "Run",
    "Stores",
    "Table",
    "add_keys",
    "merge_bits",
    "merge_ranges",
    "merge_runs",
    "pos_dtype",
    "run_bounds",
    "sized_bloom",
    "write_files",
    "write_index",
    "write_tables",
]

# Entries sorted at a time when runs are merged (at least; ranges are never narrower than a top-RUN_BITS-bit
# bucket): small ranges sort in cache, and radix passes over bytes that a range shares are skipped by numpy.
_MERGE_ENTRIES = 1 << 16
# Keys read at a time for the Bloom filter: temporaries of a few MB are reused by malloc, while arrays over
# 32 MB would be fresh mmaps, zeroed by the kernel on every allocation.
_BLOOM_STEP = 1 << 20

Run = tuple[np.ndarray, np.ndarray, int]  # stored keys, positions, offset to add to the positions
Stores = dict[str, tuple[TextWriter, dict[str, Any]]]  # "text"/"raw": the closed writer and its file's entry


class _Sink(Protocol):
    def write(self, data: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Table:
    """The sorted table as written: the manifest entries of its two files, its size and its distinct keys."""

    keys_info: dict[str, Any]
    pos_info: dict[str, Any]
    pos_dtype: str
    n_entries: int
    distinct: int


def pos_dtype(total: int) -> str:
    """The position type of a table over ``total`` bytes of normalized text (``u4`` under 4 GiB)."""
    return "u4" if total < (1 << 32) else "u8"


# ------------------------------------------------------------------------------------------------ table


def merge_bits(total: int, run_bits: int = RUN_BITS) -> int:
    """How many of the keys' top bits cut ``total`` entries into merge ranges: about ``_MERGE_ENTRIES`` each,
    never narrower than a run's buckets (``run_bits``), at most ``2**16`` ranges."""
    if not total:
        return 0
    return min(run_bits, 16, max(0, math.ceil(math.log2(max(1, total) / _MERGE_ENTRIES))))


def run_bounds(keys: np.ndarray, bits: int) -> list[int]:
    """Where each range of the keys' top ``bits`` bits starts in a run (and the run's end)."""
    starts = (np.arange(1 << bits, dtype=np.uint64) << np.uint64(64 - bits)) if bits else np.zeros(1, np.uint64)
    return np.searchsorted(keys, starts, side="left").tolist() + [len(keys)]


def merge_ranges(runs: Sequence[Run], bounds: Sequence[list[int]], r0: int, r1: int, keys_out: _Sink,
                 pos_out: _Sink, dtype: str) -> int:
    """Sort and write the ranges ``r0 .. r1 - 1`` of the table (see :func:`merge_runs`); returns the number of
    their distinct keys (counted as by :func:`~decontam.index.hashing.distinct_keys`)."""
    distinct = 0
    for r in range(r0, r1):
        parts_k, parts_p = [], []
        for (keys, pos, off), bnd in zip(runs, bounds):
            a, b = bnd[r], bnd[r + 1]
            if b > a:
                parts_k.append(np.asarray(keys[a:b]))
                parts_p.append(np.asarray(pos[a:b], dtype=np.int64) + off)
        if not parts_k:
            continue
        k = np.concatenate(parts_k)
        p = np.concatenate(parts_p).astype("<" + dtype)
        o = radix_order(k)
        k = np.take(k, o, mode="clip")
        distinct += len(distinct_keys(k))  # ranges split by the top bits: no key is in two of them
        keys_out.write(np.ascontiguousarray(k, dtype="<u8"))
        pos_out.write(np.take(p, o, mode="clip"))
    return distinct


def merge_runs(runs: Sequence[Run], folder: Path, dtype: str,
               run_bits: int = RUN_BITS) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Merge runs (stored keys, positions, position offset), given in position order, each ordered by the
    keys' top ``run_bits`` bits then position: a build's batch runs (``RUN_BITS``, see
    :func:`~decontam.index.hashing.bucketed`) or indexes' tables (fully sorted).

    Writes ``keys.u64`` and ``pos.*`` sorted by the keys' top 32 bits then position, one range of the top bits
    at a time (:func:`merge_bits`: memory stays bounded, the sort's working set in cache): the range's slice of
    every run, end to end, is in position order inside each top-``run_bits``-bit bucket, so a stable sort by the
    top 32 bits completes it.

    Returns:
        The two files' infos, and the number of distinct keys (counted as by
        :func:`~decontam.index.hashing.distinct_keys`).
    """
    bits = merge_bits(sum(len(k) for k, _, _ in runs), run_bits)
    kw = HashingWriter(folder / "keys.u64")
    pw = HashingWriter(folder / f"pos.{dtype}")
    distinct = merge_ranges(runs, [run_bounds(keys, bits) for keys, _, _ in runs], 0, 1 << bits, kw, pw, dtype)
    return kw.close(), pw.close(), distinct


# ------------------------------------------------------------------------------------------ Bloom filter


def sized_bloom(distinct: int, bloom_fp: float, with_bloom: bool = True) -> BloomFilter:
    """The empty Bloom filter of a table with ``distinct`` keys. Without ``with_bloom`` (an index about to be
    merged at once, whose own filter would be thrown away) it is the smallest one."""
    bloom = BloomFilter.for_capacity(max(1, distinct) if with_bloom else 1, bloom_fp, BLOOM_SEED,
                                     partition_by="key")
    bloom.n_keys = distinct
    return bloom


def add_keys(bloom: BloomFilter, keys: np.ndarray, start: int, stop: int) -> None:
    """Add the sorted table's keys ``[start, stop)`` to its filter, ``_BLOOM_STEP`` at a time (repeats
    dropped); the filter's key count is left as it is (the table's distinct keys, set by :func:`sized_bloom`).

    Stored keys are uniform and the table is sorted: partitioned by their own top bits, they arrive grouped by
    partition.
    """
    n_keys = bloom.n_keys
    for s in range(start, stop, _BLOOM_STEP):
        bloom.add(distinct_keys(keys[s : min(stop, s + _BLOOM_STEP)]))
    bloom.n_keys = n_keys


def _table_keys(folder: Path, n_entries: int) -> np.ndarray:
    return np.memmap(folder / "keys.u64", dtype="<u8", mode="r", shape=(n_entries,)) if n_entries else \
        np.zeros(0, dtype=np.uint64)


# ---------------------------------------------------------------------------------------------- folder


def write_index(folder: Path, runs: Sequence[Run], docs: dict[str, Any], sources: list[dict[str, Any]],
                total: int, stores: Stores, config: DecontamConfig, bloom_fp: float,
                with_bloom: bool = True, run_bits: int = RUN_BITS) -> dict[str, Any]:
    """Write an index folder's files: the table (from ``runs``), the Bloom filter and portrait, the document
    and block tables beside the closed text ``stores``, and last the manifest, which is returned."""
    dtype = pos_dtype(total)
    keys_info, pos_info, distinct = merge_runs(runs, folder, dtype, run_bits)
    table = Table(keys_info, pos_info, dtype, keys_info["size"] // 8, distinct)
    bloom = sized_bloom(distinct, bloom_fp, with_bloom)
    if with_bloom:
        add_keys(bloom, _table_keys(folder, table.n_entries), 0, table.n_entries)
    return write_files(folder, table, bloom, write_tables(folder, docs, stores), len(docs["id"]), sources, total,
                       config, bloom_fp)


def write_tables(folder: Path, docs: dict[str, Any], stores: Stores) -> dict[str, Any]:
    """Write the document table and the block tables of the closed text ``stores``; returns the manifest
    entries of these files and of the stores."""
    files = {"docs.arrow": write_docs(folder, docs)}
    for name, (writer, info) in stores.items():
        files[f"{name}.zst"] = info
        files[f"{name}.blocks.arrow"] = write_block_table(folder, name, writer)
    return files


def write_files(folder: Path, table: Table, bloom: BloomFilter, tables: dict[str, Any], n_documents: int,
                sources: list[dict[str, Any]], total: int, config: DecontamConfig, bloom_fp: float) -> dict[str, Any]:
    """Write the rest of an index folder around its table, its filled Bloom filter and the ``tables`` written
    (:func:`write_tables`): the portrait and, last, the manifest, which is returned."""
    files = {"keys.u64": table.keys_info, f"pos.{table.pos_dtype}": table.pos_info, **tables}
    common = {
        "normalize": dataclasses.asdict(config.normalize),
        "text_field": config.text_field,
        "id_field": config.id_field,
        "on_error": config.on_error,
        "params": params(),
        "corpus": {
            "sources": sources,
            "n_documents": n_documents,
            "n_characters": sum(s["n_characters"] for s in sources),
            "n_normalized_bytes": int(total),
            "fingerprint": corpus_fingerprint(sources),
        },
        "bloom": bloom.params() | {"target_fp_rate": bloom_fp, "fp_rate": bloom.fp_rate(),
                                   "n_distinct_keys": table.distinct},
        "tool": {"name": "decontam", "version": __version__},
    }
    files[PORTRAIT_FILE] = write_portrait(folder / PORTRAIT_FILE, common, bloom.bits)
    return write_manifest(folder, common | {"table": {"n_entries": table.n_entries, "pos_dtype": table.pos_dtype},
                                            "files": files})
