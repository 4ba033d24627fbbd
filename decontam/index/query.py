"""Checking benchmarks against an index: probe keys, Bloom filter hits, confirmation against the stored text,
the short-probe scan, and the report.

A probe of at least ``WINDOW`` bytes is looked up by the minimizer key of its first window
(:func:`probe_arrays`); if every window's key passes the Bloom filter (:func:`bloom_hits`), each corpus
position of that key is compared with the question byte by byte, inside the document's bounds
(:func:`confirm`). Shorter probes have no whole window: the stored text is scanned for them
(:func:`_scan_short`). The documents found are read back and scanned with ``check``'s own matcher, so that the
report (:func:`index_report`) is the one ``check`` writes for the same corpus and probes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..arrays import bounded_slices, concat_ranges, sliding
from ..bloom import BloomFilter
from ..config import DecontamConfig, make_config
from ..errors import ConfigError, IndexMismatchError
from ..match import Matcher, ProbeGroup
from ..report import Report
from ..scan import ProbeSet, RowMatch, SourceResult, build_report, match_texts
from ..utf8 import char_span
from .format import IndexFiles, check_normalizer, int_column, refuse_method, string_array
from .hashing import KGRAM, PAD, WINDOW, W, gram_keys, key_range, minimizer_order, stored_keys

__all__ = ["ProbeArrays", "annotate_coverage", "bloom_hits", "confirm", "index_report", "prepare_check",
           "probe_arrays"]

_BATCH_BYTES = 16 << 20  # normalized bytes per batch when documents are read back

_MAX_CANDIDATES = 1 << 20  # (question position, corpus position) pairs built and compared at once


def prepare_check(recorded: dict[str, Any], where: str, benchmarks: Any, config: DecontamConfig | None,
                  options: dict[str, Any], answer_field: str | None = None, question_field: str | None = None,
                  item_id_field: str | None = None) -> tuple[ProbeSet, DecontamConfig]:
    """The probes and options of a check against an index or a portrait.

    Args:
        recorded: The index's manifest or the portrait's header (normalizer and corpus fields).
        where: How error messages name the index or portrait.
        benchmarks: As in :func:`decontam.check`.
        config: Method options; ``options`` override them (as :func:`decontam.config.make_config` takes them).
        options: Keyword options.
        answer_field: Answer field of custom benchmarks (with ``probe_answers``).
        question_field: Question field of custom ``"NAME=PATH"`` benchmarks.
        item_id_field: Item id field of custom benchmarks.

    Returns:
        The probes, and the options with the recorded corpus fields.

    Raises:
        IndexMismatchError: The normalizer differs from the recorded one.
        ConfigError: Redaction or the near-duplicate pass asked for (an index check writes no corpus; the pass
            reads the corpus itself).
    """
    cfg = make_config(config, **options)
    refuse_method(cfg)
    if cfg.redact is not None:
        raise ConfigError(f"{where}: an index or portrait check writes no corpus, so it cannot redact; use "
                          "decontam filter --action redact (or check --action redact) on the corpus itself")
    if cfg.near_dup:
        raise ConfigError(f"{where}: the near-duplicate pass (near_dup, --near-dup) reads every document of the "
                          "corpus itself, which an index or a portrait does not keep in a form it can scan; run "
                          "it with check or filter on the corpus (decontam check CORPUS --near-dup)")
    check_normalizer(recorded["normalize"], cfg.normalize, where)
    cfg = dataclasses.replace(cfg, text_field=recorded["text_field"], id_field=recorded["id_field"],
                              on_error=recorded["on_error"], engine="local", ray_address=None)  # runs here
    return ProbeSet.load(benchmarks, cfg, question_field, item_id_field, answer_field), cfg


# ------------------------------------------------------------------------------------------ probe keys


@dataclass
class ProbeArrays:
    """Every probe window of every group, in absolute coordinates of the questions laid end to end."""

    qbuf: np.ndarray  # padded
    bases: np.ndarray  # group g's question starts at bases[g]
    starts: np.ndarray  # absolute probe starts (sorted)
    ends: np.ndarray
    group: np.ndarray
    long: np.ndarray  # probe is at least WINDOW bytes
    keys: np.ndarray  # stored keys of the grams at every absolute position (valid where a gram fits)
    first_key: np.ndarray  # per long probe: key of the minimum gram of its first window
    all_keys: np.ndarray  # keys of the minimum gram of every window of every long probe
    all_keys_probe: np.ndarray  # which probe each of all_keys belongs to


def probe_arrays(groups: Sequence[ProbeGroup]) -> ProbeArrays:
    """The probes of the matcher's groups with their lookup keys (see :class:`ProbeArrays`)."""
    lengths = np.array([len(g.question) for g in groups], dtype=np.int64)
    bases = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bases[1:])
    qbuf = np.frombuffer(b"".join(g.question for g in groups) + PAD, dtype=np.uint8)
    counts = np.array([len(g.starts) for g in groups], dtype=np.int64)
    group = np.repeat(np.arange(len(groups), dtype=np.int64), counts)
    if len(group):
        starts = np.concatenate([g.starts for g in groups]).astype(np.int64) + bases[group]
        ends = np.concatenate([g.ends for g in groups]).astype(np.int64) + bases[group]
    else:
        starts = ends = np.zeros(0, dtype=np.int64)
    long = (ends - starts) >= WINDOW
    total = int(bases[-1])
    keys = gram_keys(qbuf, 0, total) if total else np.zeros(0, dtype=np.uint64)
    order = minimizer_order(keys)
    # the leftmost minimum of every window, as one sliding minimum over (order << 32 | position)
    comb = (order.astype(np.uint64) << np.uint64(32)) | np.arange(total, dtype=np.uint64)
    if total >= W:
        wmin_pos = (sliding(comb, W, np.minimum) & np.uint64(0xFFFFFFFF)).astype(np.int64)
    else:
        wmin_pos = np.zeros(0, dtype=np.int64)
    li = np.flatnonzero(long)
    nwin = ends[li] - starts[li] - WINDOW + 1
    win = concat_ranges(starts[li], nwin)
    all_keys = stored_keys(keys[wmin_pos[win]]) if len(win) else np.zeros(0, dtype=np.uint64)
    all_keys_probe = np.repeat(li, nwin)
    first_key = np.zeros(len(starts), dtype=np.uint64)
    if len(li):
        first_key[li] = stored_keys(keys[wmin_pos[starts[li]]])
    return ProbeArrays(qbuf, bases, starts, ends, group, long, stored_keys(keys), first_key, all_keys,
                       all_keys_probe)


def bloom_hits(bloom: BloomFilter, pr: ProbeArrays) -> np.ndarray:
    """Per probe: every window's minimum key is in the Bloom filter (False for short probes)."""
    hit = np.zeros(len(pr.starts), dtype=bool)
    if len(pr.all_keys) == 0:
        return hit
    uniq, inv = np.unique(pr.all_keys, return_inverse=True)
    present = bloom.contains(uniq)[inv]
    hit[pr.long] = True
    miss = np.zeros(len(pr.starts), dtype=bool)
    np.logical_or.at(miss, pr.all_keys_probe[~present], True)
    hit &= ~miss
    return hit


# -------------------------------------------------------------------------------------------- confirming


def confirm(ix: IndexFiles, pr: ProbeArrays, hit: np.ndarray) -> tuple[np.ndarray, set[int], int]:
    """Confirm Bloom hits against the stored text.

    The hits' lookup keys are found in the table (:func:`_key_entries`); every question position whose gram
    has one of them is an anchor (:func:`_anchors`); each (anchor, corpus position of its key) pair is a
    candidate, extended both ways byte by byte (:func:`_extend`).

    Returns:
        (found per probe, documents with a confirmed probe, number of candidate occurrences compared).
    """
    nothing: tuple[np.ndarray, set[int], int] = (np.zeros(len(pr.starts), dtype=bool), set(), 0)
    want = np.unique(pr.first_key[hit])
    if len(want) == 0 or len(ix.keys) == 0:
        return nothing
    entries = _key_entries(ix.keys, want)
    if entries is None:
        return nothing
    want, ent, counts = entries
    qpos, slot = _anchors(pr, want)
    if len(qpos) == 0:
        return nothing
    first_ent = np.zeros(len(want) + 1, dtype=np.int64)
    np.cumsum(counts, out=first_ent[1:])
    n_occ = counts[slot]
    found, docs = nothing[0], set()
    # In bounded pieces: a gram that many questions share (templated questions) times its occurrences in the
    # corpus would otherwise be held whole, anchors x occurrences.
    for a, b in bounded_slices(n_occ, _MAX_CANDIDATES):
        cand_q = np.repeat(qpos[a:b], n_occ[a:b])
        cand_p = np.asarray(ix.positions[ent[concat_ranges(first_ent[slot[a:b]], n_occ[a:b])]]).astype(np.int64)
        found_here, docs_here = _extend(ix, pr, cand_q, cand_p)
        found |= found_here
        docs |= docs_here
    return found, docs, int(n_occ.sum())


def _key_entries(table: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The table entries of each wanted key (its 32-bit prefix range, then the exact key).

    Returns:
        ``(want, entries, counts)``: the keys whose prefix is in the table (sorted), the indices of their
        entries (grouped by key, in key order) and each key's number of entries; None when there are none.
    """
    lo, hi = key_range(table, want)
    present = hi > lo
    want, lo, hi = want[present], lo[present], hi[present]
    if len(want) == 0:
        return None
    ent = concat_ranges(lo, hi - lo)
    ent_want = np.repeat(np.arange(len(want)), hi - lo)
    same = np.asarray(table[ent]) == want[ent_want]
    ent, ent_want = ent[same], ent_want[same]
    if len(ent) == 0:
        return None
    return want, ent, np.bincount(ent_want, minlength=len(want))


def _anchors(pr: ProbeArrays, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every question position whose gram (inside its question) has one of the sorted keys ``want``, and the
    key's index in ``want``."""
    nq = int(pr.bases[-1])
    qpos = np.arange(max(0, nq - KGRAM + 1), dtype=np.int64)
    qgroup = np.searchsorted(pr.bases, qpos, side="right") - 1
    fits = qpos + KGRAM <= pr.bases[qgroup + 1]
    qpos = qpos[fits]
    qk = pr.keys[qpos]
    slot = np.searchsorted(want, qk)
    slot = np.minimum(slot, len(want) - 1)
    match = want[slot] == qk
    return qpos[match], slot[match]


def _extend(ix: IndexFiles, pr: ProbeArrays, cand_q: np.ndarray,
            cand_p: np.ndarray) -> tuple[np.ndarray, set[int]]:
    """Compare every candidate (question position, corpus position) pair byte by byte, right then left, up to
    the longest probe on each side and inside the question's and the document's bounds; a probe is found
    when the matched stretch around some candidate covers it.

    Returns:
        (found per probe, documents holding a found probe).
    """
    docs: set[int] = set()
    cap = int((pr.ends - pr.starts)[pr.long].max())
    qg = np.searchsorted(pr.bases, cand_q, side="right") - 1
    qs, qe = pr.bases[qg], pr.bases[qg + 1]
    doc = np.searchsorted(ix.doc_starts, cand_p, side="right") - 1
    ds, de = ix.doc_starts[doc], ix.doc_starts[doc + 1]
    left = np.minimum(np.minimum(cand_q - qs, cand_p - ds), cap)
    right = np.minimum(np.minimum(qe - cand_q, de - cand_p), cap)
    step = 1 << 14
    cover = np.zeros(len(pr.starts) + 1, dtype=np.int64)
    offs = np.arange(cap, dtype=np.int64)
    for s in range(0, len(cand_q), step):
        sl = slice(s, s + step)
        p, q, l_, r_ = cand_p[sl], cand_q[sl], left[sl], right[sl]
        buf, shift = ix.text.compact(p - l_, p + r_)
        tp = p + shift
        # right extension (from the anchor), then left
        ti = np.minimum(tp[:, None] + offs[None, :], len(buf) - 1)
        qi = np.minimum(q[:, None] + offs[None, :], len(pr.qbuf) - 1)
        ok = (buf[ti] == pr.qbuf[qi]) & (offs[None, :] < r_[:, None])
        rr = np.where(ok.all(axis=1), cap, np.argmin(ok, axis=1))
        ti = np.maximum(tp[:, None] - 1 - offs[None, :], 0)
        qi = np.maximum(q[:, None] - 1 - offs[None, :], 0)
        ok = (buf[ti] == pr.qbuf[qi]) & (offs[None, :] < l_[:, None])
        ll = np.where(ok.all(axis=1), cap, np.argmin(ok, axis=1))
        rs, re_ = q - ll, q + rr
        first = np.searchsorted(pr.starts, rs, side="left")
        last = np.searchsorted(pr.ends, re_, side="right")
        good = last > first
        if good.any():
            np.add.at(cover, first[good], 1)
            np.add.at(cover, last[good], -1)
            docs.update(doc[sl][good].tolist())
    return np.cumsum(cover[:-1]) > 0, docs


# ----------------------------------------------------------------------------------- reading documents


def _raw_batches(ix: IndexFiles, docs: Sequence[int]) -> Iterator[list[int]]:
    """The given documents in groups of about 16 MB of original text."""
    batch: list[int] = []
    size = 0
    for d in docs:
        batch.append(d)
        size += int(ix.raw_starts[d + 1] - ix.raw_starts[d])
        if size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _scan_short(ix: IndexFiles, groups: Sequence[ProbeGroup], short_groups: Sequence[int],
                exhaustive: bool) -> set[int]:
    """Documents holding a probe shorter than the window: a scan of the whole stored text."""
    if not short_groups:
        return set()
    matcher = Matcher([groups[g] for g in short_groups], exhaustive=exhaustive)
    found: set[int] = set()
    n = ix.n_documents
    d0 = 0
    while d0 < n:
        target = int(ix.doc_starts[d0]) + _BATCH_BYTES
        d1 = max(d0 + 1, int(np.searchsorted(ix.doc_starts, target, side="right")) - 1)
        d1 = min(d1, n)
        data = ix.text.read(int(ix.doc_starts[d0]), int(ix.doc_starts[d1]))
        offs = ix.doc_starts[d0 : d1 + 1] - ix.doc_starts[d0]
        ms = matcher.scan(data, offs)
        found.update(d0 + d for d in ms.docs())
        d0 = d1
    return found


def _record_documents(ix: IndexFiles, probes: ProbeSet, docs: Sequence[int], cfg: DecontamConfig,
                      results: list[SourceResult]) -> tuple[dict[int, set[int]], dict[int, tuple[int, int]]]:
    """Scan the given documents' original text with ``check``'s matcher and record each match in its source's
    result (in document order).

    Returns:
        Per group, the windows found anywhere, and the longest matched run (for :func:`annotate_coverage`).
    """
    src = int_column(ix.docs, "source")
    rows = int_column(ix.docs, "row")
    lines = int_column(ix.docs, "line")
    ids = ix.docs.column("id")
    windows: dict[int, set[int]] = {}
    runs: dict[int, tuple[int, int]] = {}
    for batch in _raw_batches(ix, docs):
        texts = string_array([ix.raw.read(int(ix.raw_starts[d]), int(ix.raw_starts[d + 1])) for d in batch])
        try:
            texts.validate(full=True)  # UTF-8: the index's files are not checked with --no-verify
        except pa.ArrowInvalid as exc:
            raise IndexMismatchError(f"{ix.raw.name}: corrupted index file ({exc}); check the index's files "
                                     "(decontam index info --verify), or load it without --no-verify") from None
        for d, found_here, doc_runs, evidence in match_texts(probes.matcher, texts, cfg.normalize):
            gd = batch[d]
            for gi, found_windows, run in found_here:
                windows.setdefault(gi, set()).update(found_windows)
                prev = runs.get(gi)
                if prev is None or run[1] - run[0] > prev[1] - prev[0]:
                    runs[gi] = run
            raw_id = ids[gd].as_py()
            results[int(src[gd])].rows.append(RowMatch(int(rows[gd]), int(lines[gd]),
                                                       None if raw_id is None else json.loads(raw_id),
                                                       found_here, doc_runs, evidence))
    return windows, runs


# ------------------------------------------------------------------------------------------------ report


def index_report(ix: IndexFiles, probes: ProbeSet, cfg: DecontamConfig) -> Report:
    """The report of checking ``probes`` against the index: ``check``'s report on the same corpus, plus the
    lookup figures in its ``index`` section (and coverage per item in ``all`` mode)."""
    groups = probes.matcher.groups
    exhaustive = cfg.sample.mode == "all"
    pr = probe_arrays(groups)
    hit = bloom_hits(ix.bloom, pr)
    found, docs, n_cand = confirm(ix, pr, hit)
    short_groups = sorted(set(pr.group[~pr.long].tolist()))
    docs |= _scan_short(ix, groups, short_groups, exhaustive)
    # The documents found are scanned with check's own matcher: the report is check's, by construction.
    results = [SourceResult.from_dict(s) for s in ix.manifest["corpus"]["sources"]]
    windows, runs = _record_documents(ix, probes, sorted(docs), cfg, results)
    sources = [s["source"] for s in ix.manifest["corpus"]["sources"]]
    report = build_report(probes, results, cfg, "index-check", sources)
    n_hits = int(hit.sum())
    n_conf = int((found & hit).sum())
    annotate_coverage(report, probes, exhaustive, windows, runs)
    report.data["index"] = {
        "kind": "index",
        "verified": True,
        "format_version": ix.manifest["format_version"],
        "window": WINDOW,
        "kgram": KGRAM,
        "n_probes": len(pr.starts),
        "n_probes_looked_up": int(pr.long.sum()),
        "n_probes_scanned": int((~pr.long).sum()),
        "bloom_hits": n_hits,
        "confirmed": n_conf,
        "rejected": n_hits - n_conf,
        "candidates_compared": int(n_cand),
        "bloom_fp_rate": ix.manifest["bloom"]["fp_rate"],
        "n_distinct_keys": ix.manifest["bloom"]["n_distinct_keys"],
    }
    return report


def annotate_coverage(report: Report, probes: ProbeSet, exhaustive: bool, windows: dict[int, set[int]],
                      runs: dict[int, tuple[int, int]]) -> None:
    """Coverage per item (``all`` mode): windows found anywhere in the corpus, and the longest matched run."""
    if not exhaustive:
        return
    for gi, (bi, ii) in enumerate(probes.owner):
        item = probes.items[bi][ii]
        entry = report.data["benchmarks"][bi]["items"][ii]
        n = len(item.offsets)
        k = len(windows.get(gi, ()))
        run = runs.get(gi)
        entry["coverage"] = {
            "windows_found": k,
            "fraction": round(k / n, 6) if n else 0.0,
            "longest_run": list(char_span(item.normalized, *run)) if run else None,
        }
