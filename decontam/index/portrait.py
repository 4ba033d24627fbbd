"""Portraits: the Bloom filter of a corpus index with its header, published without the corpus.

Checking a benchmark against a portrait gives *unverified* results: a probe of at least ``WINDOW`` bytes is
positive when every window's minimum key passes the Bloom filter (no false negative; a positive may be false),
and a shorter probe cannot be tested, so it is reported positive and marked undecided.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..bloom import BloomFilter
from ..config import DecontamConfig, NormalizeConfig
from ..errors import IndexMismatchError
from ..report import Report, benchmark_section
from ..scan import ProbeSet, SourceResult, build_report
from ..utf8 import char_span
from .format import PORTRAIT_FORMAT, check_normalizer, check_params, read_portrait
from .hashing import KGRAM, WINDOW
from .query import ProbeArrays, annotate_coverage, bloom_hits, prepare_check, probe_arrays

__all__ = ["Portrait"]

_NOTE = ("portrait results are unverified: a positive probe has its minimum 32-byte gram in the corpus "
         "(or is a Bloom false positive, rate per probe above); no probe of 50 bytes or more that occurs "
         "in the corpus is missed; probes shorter than 50 bytes cannot be tested and are reported "
         "positive ('undecided')")


class Portrait:
    """A published portrait: the Bloom filter of a corpus index and its header, no text.

    Checking against it gives *unverified* results: no false negative for probes of at least ``WINDOW``
    bytes, and each positive may be false (see :meth:`check` and ``docs/index.md``).
    """

    __module__ = "decontam.index"  # its public home (documented, and pickled, under that name)

    def __init__(self, path: Path, header: dict[str, Any], bloom: BloomFilter) -> None:
        self.path = path
        self.header = header
        self.bloom = bloom

    @classmethod
    def load(cls, path: str | os.PathLike[str], normalize: NormalizeConfig | None = None,
             verify: bool = True) -> Portrait:
        """Open a portrait file.

        Raises:
            IndexMismatchError: Not a portrait, a newer format, other settings, truncated or corrupted.
        """
        p = Path(path)
        if not p.is_file():
            raise IndexMismatchError(f"{p}: no such portrait file")
        header, bits = read_portrait(p, verify)
        if header.get("format") != PORTRAIT_FORMAT:
            raise IndexMismatchError(f"{p}: not a decontam portrait")
        check_params(header["params"], str(p))
        if normalize is not None:
            check_normalizer(header["normalize"], normalize, f"portrait {p}")
        try:
            bloom = BloomFilter.from_params(header["bloom"], bits)
        except (KeyError, ValueError) as exc:
            raise IndexMismatchError(f"{p}: corrupted portrait ({exc})") from exc
        return cls(p, header, bloom)

    def check(self, benchmarks: Any, config: DecontamConfig | None = None, **options: Any) -> Report:
        """Check benchmarks against the portrait (unverified; see the class docstring)."""
        probes, cfg = prepare_check(self.header, f"portrait {self.path}", benchmarks, config, options)
        return portrait_report(self, probes, cfg)


def portrait_report(pt: Portrait, probes: ProbeSet, cfg: DecontamConfig) -> Report:
    """The report of checking ``probes`` against a portrait: every positive probe is an unverified match of
    the placeholder document ``<portrait>``; the totals are recomputed from the items by
    :func:`decontam.report.benchmark_section`."""
    exhaustive = cfg.sample.mode == "all"
    pr = probe_arrays(probes.matcher.groups)
    hit = bloom_hits(pt.bloom, pr)
    positive = hit | ~pr.long  # short probes cannot be ruled out: undecided, counted as positive
    corpus = pt.header["corpus"]
    results = [SourceResult.from_dict(s) for s in corpus["sources"]]
    report = build_report(probes, results, cfg, "portrait-check", [s["source"] for s in corpus["sources"]])
    windows, runs = _mark_positives(report, probes, pr, positive, exhaustive)
    report.data["benchmarks"] = [benchmark_section(sec, sec["items"]) for sec in report.data["benchmarks"]]
    annotate_coverage(report, probes, exhaustive, windows, runs)
    fp = pt.header["bloom"]["fp_rate"]
    report.data["index"] = {
        "kind": "portrait",
        "verified": False,
        "unverified": True,
        "format_version": pt.header["format_version"],
        "window": WINDOW,
        "kgram": KGRAM,
        "n_probes": len(pr.starts),
        "n_probes_looked_up": int(pr.long.sum()),
        "n_probes_undecided": int((~pr.long).sum()),
        "bloom_hits": int(hit.sum()),
        "confirmed": 0,
        "rejected": 0,
        "bloom_fp_rate": fp,
        "false_positive_rate_per_probe": fp,
        "note": _NOTE,
    }
    return report


def _mark_positives(report: Report, probes: ProbeSet, pr: ProbeArrays, positive: np.ndarray,
                    exhaustive: bool) -> tuple[dict[int, set[int]], dict[int, tuple[int, int]]]:
    """Mark every item with a positive probe contaminated, with its matches (see :func:`_portrait_matches`).

    Returns:
        Per group, its positive windows and their longest run of consecutive windows (bytes of the question).
    """
    groups = probes.matcher.groups
    counts = np.bincount(pr.group, minlength=len(groups))
    first = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    windows: dict[int, set[int]] = {}
    runs: dict[int, tuple[int, int]] = {}
    for gi, (bi, ii) in enumerate(probes.owner):
        sl = slice(int(first[gi]), int(first[gi + 1]))
        pos = np.flatnonzero(positive[sl])
        if len(pos) == 0:
            continue
        windows[gi] = set(pos.tolist())
        # longest run of consecutive positive windows, in bytes of the question
        brk = np.flatnonzero(np.diff(pos) != 1)
        a = np.concatenate(([0], brk + 1))
        b = np.concatenate((brk, [len(pos) - 1]))
        best = int(np.argmax(pos[b] - pos[a]))
        g = groups[gi]
        runs[gi] = (int(g.starts[pos[a[best]]]), int(g.ends[pos[b[best]]]))
        entry = report.data["benchmarks"][bi]["items"][ii]
        undecided = bool((~pr.long[sl])[pos].any())
        entry["matches"] = _portrait_matches(probes, bi, ii, pos, runs[gi], undecided, exhaustive)
        entry["contaminated"] = True
    return windows, runs


def _portrait_matches(probes: ProbeSet, bi: int, ii: int, pos: np.ndarray, run: tuple[int, int],
                      undecided: bool, exhaustive: bool) -> list[dict[str, Any]]:
    """An item's match entries: one per positive probe, or (``all`` mode) one for the item, spanning the
    longest run; each unverified, and undecided when a positive probe is too short to test."""
    item = probes.items[bi][ii]
    flag = {"undecided": True} if undecided else {}
    if exhaustive:
        return [{"probe": item.probe(int(pos[0])), "doc_id": "<portrait>", "n_probes_matched": len(pos),
                 "span": list(char_span(item.normalized, *run)), "unverified": True} | flag]
    return [{"probe": item.probe(int(w)), "doc_id": "<portrait>",
             "span": [item.offsets[int(w)], item.offsets[int(w)] + item.length], "unverified": True} | flag
            for w in pos.tolist()]
