"""The scan engine: probes x corpus batches -> per-row matches and accounting -> the report document.

Shared by both directions: the stream direction (:mod:`decontam.filter`) runs it over a whole corpus, the
index direction (:mod:`decontam.index`) over the documents its lookups found. Engines that run the step in
other places sit beside it: :mod:`.local` (this process, or local processes), :mod:`.hf` (``Dataset.map``), and
:mod:`.ray` with :mod:`.ray_dataset` (Ray Data, on a local Ray or a cluster; Ray is imported only when used).
"""

from .assemble import build_report
from .hf import scan_dataset
from .local import scan_file, scan_files
from .probes import ProbeSet, probe_groups
from .ray import Shared, ray_session, run_units, scan_files_ray
from .ray_dataset import check_ray_dataset, filter_ray_dataset
from .step import (
                   DocMatch,
                   FrozenDigest,
                   RowMatch,
                   SourceResult,
                   account_batch,
                   hash_texts,
                   match_texts,
                   record_matches,
                   require_rows,
                   scan_batch,
                   scan_batches,
)

__all__ = [
    "DocMatch",
    "FrozenDigest",
    "ProbeSet",
    "RowMatch",
    "Shared",
    "SourceResult",
    "account_batch",
    "build_report",
    "check_ray_dataset",
    "filter_ray_dataset",
    "hash_texts",
    "match_texts",
    "probe_groups",
    "ray_session",
    "record_matches",
    "require_rows",
    "run_units",
    "scan_batch",
    "scan_batches",
    "scan_dataset",
    "scan_file",
    "scan_files",
    "scan_files_ray",
]
