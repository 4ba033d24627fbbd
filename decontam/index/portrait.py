"""Portraits: the Bloom filter of a corpus index with its header, published without the corpus.

Checking a benchmark against a portrait gives *unverified* results, in three groups per benchmark:

* **possible**: an item with a probe of at least ``WINDOW`` bytes every window of which has its minimum key in
  the Bloom filter. The probe may be in the corpus, or a false positive (the Bloom filter's rate, or an absent
  probe sharing its minimum 32-byte gram with the corpus). These are ``contaminated_ids``/``n_contaminated``:
  an upper bound for the items the portrait can test, which the exact index confirms or rejects;
* **undecided**: a probe shorter than the window (a short question used whole, or a short ``--probe-length``)
  cannot be tested by a portrait: neither counted contaminated nor clean;
* **absent**: every probe was tested and is not in the corpus (a portrait has no false negative): the clean
  items (``clean_ids``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..bloom import BloomFilter
from ..config import DecontamConfig, NormalizeConfig, make_config
from ..errors import ConfigError, IndexMismatchError
from ..report import Report, benchmark_section
from ..scan import ProbeSet, SourceResult, build_report
from ..utf8 import char_span
from .format import PORTRAIT_FORMAT, check_normalizer, check_params, read_portrait
from .hashing import KGRAM, WINDOW
from .query import ProbeArrays, annotate_coverage, bloom_hits, prepare_check, probe_arrays

__all__ = ["UNDECIDED_SHORT", "Portrait"]

UNDECIDED_SHORT = f"probe shorter than the portrait's {WINDOW}-byte window"
_NOTE = ("A portrait (a corpus index's Bloom filter, without the text) cannot verify a match: the figures of a "
         "portrait check are unverified upper bounds. Possible: a probe passed the Bloom filter (false-positive "
         "rate {fp:.2g} per probe, more for an absent probe that shares its minimum {kgram}-character gram with the "
         "corpus); these items are the ones counted contaminated, an upper bound for the items the portrait could "
         "test. Undecided: {short}, which a portrait cannot test; neither contaminated nor clean, so a "
         "benchmark's contamination is at most possible + undecided. Absent: tested and not in the corpus (a "
         "portrait has no false negative); the clean items. The exact index confirms the possible items and "
         "decides the undecided ones: decontam index check INDEX_DIR.")
_HEADER_FIELDS = ("params", "normalize", "bloom", "corpus", "text_field", "id_field", "on_error")


class Portrait:
    """A published portrait: the Bloom filter of a corpus index and its header, no text.

    Checking against it gives *unverified* results (possible, undecided, absent: see the module docstring,
    :meth:`check` and ``docs/index.md``).
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

        Args:
            path: The portrait file.
            normalize: The normalizer the caller will query with; it must be the one the index was built with.
            verify: Check the SHA-256 of the Bloom filter bits (the header's checksum, the format version and
                the file's size are always checked).

        Raises:
            IndexMismatchError: Not a portrait, a newer or older format, other settings, truncated or corrupted.
        """
        p = Path(path)
        if not p.is_file():
            raise IndexMismatchError(f"{p}: no such portrait file")
        header, bits = read_portrait(p, verify)
        if header.get("format") != PORTRAIT_FORMAT:
            raise IndexMismatchError(f"{p}: not a decontam portrait")
        missing = [k for k in _HEADER_FIELDS if k not in header]
        if missing:
            raise IndexMismatchError(f"{p}: the portrait header has no {', '.join(missing)}; export the portrait "
                                     "again (decontam index portrait INDEX_DIR -o FILE)")
        try:  # a header with the fields but other contents (hand-made, or another tool's) is refused here too
            check_params(header["params"], str(p))
            if normalize is not None:
                check_normalizer(header["normalize"], normalize, f"portrait {p}")
            bloom = BloomFilter.from_params(header["bloom"], bits)
            float(header["bloom"]["fp_rate"])
            for s in header["corpus"]["sources"]:
                SourceResult.from_dict(s)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise IndexMismatchError(f"{p}: corrupted portrait, or one decontam did not write ({type(exc).__name__}: "
                                     f"{exc}); export it again (decontam index portrait INDEX_DIR -o FILE)") from None
        return cls(p, header, bloom)

    def check(self, benchmarks: Any, config: DecontamConfig | None = None, *, question_field: str | None = None,
              item_id_field: str | None = None, **options: Any) -> Report:
        """Check benchmarks against the portrait: unverified, each item possible, undecided or absent.

        ``benchmarks``, ``question_field`` and ``item_id_field`` are as in :func:`decontam.check`.

        Returns:
            The report; per benchmark ``possible_ids`` (also ``contaminated_ids``: an upper bound for the items
            the portrait can test), ``undecided_ids`` (probes too short to test, with ``undecided_reasons``)
            and ``absent_ids`` (also ``clean_ids``), with their counts.
        """
        if make_config(config, **options).probe_answers:
            raise ConfigError("a portrait cannot probe answers (--probe-answers): its Bloom filter gives unverified "
                              "upper bounds, and an answer leak is a claim that needs evidence; check against the "
                              "index folder instead (decontam index check INDEX_DIR --probe-answers)")
        probes, cfg = prepare_check(self.header, f"portrait {self.path}", benchmarks, config, options,
                                    question_field=question_field, item_id_field=item_id_field)
        return portrait_report(self, probes, cfg)


def portrait_report(pt: Portrait, probes: ProbeSet, cfg: DecontamConfig) -> Report:
    """The report of checking ``probes`` against a portrait: every Bloom-positive probe is an unverified match
    of the placeholder document ``<portrait>``; items whose probes are too short to test are undecided; the
    totals are computed by :func:`decontam.report.benchmark_section`, the three groups by
    :func:`_portrait_section`."""
    exhaustive = cfg.sample.mode == "all"
    pr = probe_arrays(probes.matcher.groups)
    hit = bloom_hits(pt.bloom, pr)
    corpus = pt.header["corpus"]
    results = [SourceResult.from_dict(s) for s in corpus["sources"]]
    report = build_report(probes, results, cfg, "portrait-check", [s["source"] for s in corpus["sources"]])
    windows, runs = _mark_positives(report, probes, pr, hit, exhaustive)
    annotate_coverage(report, probes, exhaustive, windows, runs)
    _mark_undecided(report, probes, pr, hit)
    report.data["benchmarks"] = [_portrait_section(sec) for sec in report.data["benchmarks"]]
    fp = pt.header["bloom"]["fp_rate"]
    report.data["index"] = {
        "kind": "portrait",
        "verified": False,
        "unverified": True,
        "upper_bound": True,
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
        "note": _NOTE.format(fp=fp, kgram=KGRAM, short=UNDECIDED_SHORT),
    }
    return Report(report.data)


def _portrait_section(sec: dict[str, Any]) -> dict[str, Any]:
    """A benchmark's section (totals by :func:`decontam.report.benchmark_section`) with the portrait's three
    groups: ``possible`` (= contaminated), ``undecided`` (not clean: the section's ``clean_ids`` are the absent
    items) and ``absent``; items left out as too short are in none."""
    section = benchmark_section(sec, sec["items"])
    items = section.pop("items")
    undecided = [it for it in items if it.get("undecided")]
    absent = [it["id"] for it in items if not (it["contaminated"] or it.get("undecided") or it.get("too_short"))]
    reasons: dict[str, int] = {}
    for it in undecided:
        reasons[it["undecided"]] = reasons.get(it["undecided"], 0) + 1
    section["clean_ids"] = absent
    section.update({
        "upper_bound": True,
        "n_possible": section["n_contaminated"],
        "possible_ids": list(section["contaminated_ids"]),
        "n_undecided": len(undecided),
        "undecided_ids": [it["id"] for it in undecided],
        "undecided_reasons": reasons,
        "n_absent": len(absent),
        "absent_ids": absent,
        "items": items,
    })
    return section


def _mark_undecided(report: Report, probes: ProbeSet, pr: ProbeArrays, hit: np.ndarray) -> None:
    """Mark every item with a probe too short to test, and none positive, undecided (with the reason); its
    coverage (``all`` mode) is unknown, so it has none."""
    short = np.bincount(pr.group[~pr.long], minlength=len(probes.owner))
    for gi, (bi, ii) in enumerate(probes.owner):
        entry = report.data["benchmarks"][bi]["items"][ii]
        if short[gi] and not entry["contaminated"]:
            entry["undecided"] = UNDECIDED_SHORT
            entry.pop("coverage", None)


def _mark_positives(report: Report, probes: ProbeSet, pr: ProbeArrays, positive: np.ndarray,
                    exhaustive: bool) -> tuple[dict[int, set[int]], dict[int, tuple[int, int]]]:
    """Mark every item with a positive probe contaminated (possible), with its matches (see
    :func:`_portrait_matches`).

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
        entry["matches"] = _portrait_matches(probes, bi, ii, pos, runs[gi], exhaustive)
        entry["contaminated"] = True
    return windows, runs


def _portrait_matches(probes: ProbeSet, bi: int, ii: int, pos: np.ndarray, run: tuple[int, int],
                      exhaustive: bool) -> list[dict[str, Any]]:
    """An item's match entries: one per positive probe, or (``all`` mode) one for the item, spanning the
    longest run; each unverified."""
    item = probes.items[bi][ii]
    if exhaustive:
        return [{"probe": item.probe(int(pos[0])), "doc_id": "<portrait>", "n_probes_matched": len(pos),
                 "span": list(char_span(item.normalized, *run)), "unverified": True}]
    return [{"probe": item.probe(int(w)), "doc_id": "<portrait>",
             "span": [item.offsets[int(w)], item.offsets[int(w)] + item.length], "unverified": True}
            for w in pos.tolist()]
