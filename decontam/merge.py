"""Merging reports: the reports of the shards of a corpus add up to the report of the whole corpus.

A distributed run is map-then-merge: check each shard (a file, or a group of files, in corpus order) with the
same benchmarks and options, then merge the shard reports in that order. The result is the report that one
``check`` over all the shards would have written, byte for byte:

* counts add up; lists (sources, rejected rows, matches, removed documents) are concatenated in shard order,
  which is corpus order;
* documents without an id are named by their corpus-wide row number (``"id_is_row": true``): each shard's
  rows are renumbered by the rows of the shards before it (``n_documents + n_rejected``);
* the corpus fingerprint is recomputed from the per-source digests (``corpus.source_digests``);
* per item, ``contaminated`` is an OR; ids, counts and rates are recomputed as ``check`` computes them.

Shards must agree on everything that is not about the corpus: schema, tool version, options, and every
benchmark (name, source, fields, fingerprint, items and probes). Anything else is refused with a message
naming the first difference.

Example:
    >>> from decontam import check, Benchmark, Item
    >>> q = "Write a function that returns the sum of two integers given as arguments."
    >>> bench = Benchmark.from_items("demo", [Item(1, q)])
    >>> shards = [["clean row"], ["leak: " + q]]
    >>> parts = [check(s, [bench], progress=False).to_dict() for s in shards]
    >>> merged = merge_reports(parts)
    >>> merged["benchmarks"][0]["contaminated_ids"], merged["training"]["removed"][0]["doc_id"]
    ([1], 1)
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from .errors import ConfigError

__all__ = ["merge_reports"]

_BENCH_FIXED = ("name", "source", "question_field", "id_field", "fingerprint", "n_items", "n_empty")
_ITEM_FIXED = ("id", "n_probes", "probes", "normalized_question", "empty")


def _shift(entry: dict[str, Any], offset: int) -> dict[str, Any]:
    """A match or removed entry with its corpus-wide row (and a row-number id) moved by ``offset``."""
    if not offset or "row" not in entry:
        return entry
    out = dict(entry)
    out["row"] = entry["row"] + offset
    if entry.get("id_is_row"):
        out["doc_id"] = entry["doc_id"] + offset
    return out


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def merge_reports(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge shard reports (documents, in corpus order) into the report of the whole corpus.

    Args:
        reports: Report documents (``Report.to_dict()``), one per shard, in corpus order.

    Returns:
        A new report document (the inputs are not modified).

    Raises:
        ConfigError: No report; reports that differ in anything but the corpus (the message names what); or a
            report without the row numbers or source digests merging needs (written by an older version).
    """
    if not reports:
        raise ConfigError("nothing to merge: give at least one report")
    first = reports[0]
    for k, rep in enumerate(reports):
        for key in ("schema_version", "tool", "config"):
            if not _same(rep.get(key), first.get(key)):
                raise ConfigError(f"report {k} differs from report 0 in {key!r}: only reports of the same check "
                                  f"(same tool, options and benchmarks) over different shards can be merged")
        corpus = rep.get("corpus", {})
        if "source_digests" not in corpus or len(corpus["source_digests"]) != len(corpus.get("sources", [])):
            raise ConfigError(f"report {k} has no per-source digests (corpus.source_digests): it was written by "
                              "an older decontam; re-run the check on that shard")
        names = [b["name"] for b in rep.get("benchmarks", [])]
        if names != [b["name"] for b in first.get("benchmarks", [])]:
            raise ConfigError(f"report {k} has benchmarks {names}, report 0 has "
                              f"{[b['name'] for b in first.get('benchmarks', [])]}")
        for b, b0 in zip(rep["benchmarks"], first["benchmarks"]):
            for key in _BENCH_FIXED:
                if not _same(b.get(key), b0.get(key)):
                    raise ConfigError(f"report {k}, benchmark {b['name']!r}: {key} differs from report 0's "
                                      f"({b.get(key)!r} vs {b0.get(key)!r}); merge only shards of one check")
            for it, it0 in zip(b["items"], b0["items"]):
                for key in _ITEM_FIXED:
                    if not _same(it.get(key), it0.get(key)):
                        raise ConfigError(f"report {k}, benchmark {b['name']!r}, item {it.get('id')!r}: {key} "
                                          "differs from report 0's")
        for section in ("benchmarks", "training"):
            for entry in _entries(rep, section):
                if "row" not in entry:
                    raise ConfigError(f"report {k} has matches without a row number: it was written by an "
                                      "older decontam; re-run the check on that shard")

    out: dict[str, Any] = {key: copy.deepcopy(value) for key, value in first.items()
                           if key not in ("corpus", "benchmarks", "training")}
    offsets = []
    total = 0
    for rep in reports:
        offsets.append(total)
        total += rep["corpus"]["n_documents"] + rep["corpus"]["n_rejected"]

    corpus: dict[str, Any] = {
        "sources": [s for rep in reports for s in rep["corpus"]["sources"]],
        "n_documents": sum(rep["corpus"]["n_documents"] for rep in reports),
        "n_characters": sum(rep["corpus"]["n_characters"] for rep in reports),
        "fingerprint": "",
        "n_rejected": sum(rep["corpus"]["n_rejected"] for rep in reports),
        "rejected": [copy.deepcopy(r) for rep in reports for r in rep["corpus"]["rejected"]],
        "source_digests": [dict(d) for rep in reports for d in rep["corpus"]["source_digests"]],
    }
    h = hashlib.sha256()
    for d in corpus["source_digests"]:
        h.update(bytes.fromhex(d["text_sha256"]) + bytes.fromhex(d["lengths_sha256"]))
    corpus["fingerprint"] = "sha256:" + h.hexdigest()
    # keep the key order of the shards' corpus section (so the merged JSON matches a single run's bytes)
    out_corpus = {key: corpus[key] for key in first["corpus"] if key in corpus}
    out_corpus.update({key: value for key, value in corpus.items() if key not in out_corpus})

    benchmarks = []
    for bi, b0 in enumerate(first["benchmarks"]):
        items = []
        contaminated: list[Any] = []
        clean: list[Any] = []
        for ii, it0 in enumerate(b0["items"]):
            matches = [_shift(m, off) for rep, off in zip(reports, offsets)
                       for m in rep["benchmarks"][bi]["items"][ii]["matches"]]
            question = next((rep["benchmarks"][bi]["items"][ii]["question"] for rep in reports
                             if "question" in rep["benchmarks"][bi]["items"][ii]), None)
            item: dict[str, Any] = {}
            for key, value in it0.items():
                if key in ("contaminated", "matches", "question"):
                    continue
                item[key] = copy.deepcopy(value)
            item = _item_in_order(it0, item, bool(matches), question, copy.deepcopy(matches))
            items.append(item)
            (contaminated if matches else clean).append(it0["id"])
        n_items = b0["n_items"]
        section: dict[str, Any] = {}
        for key in b0:
            if key == "contaminated_ids":
                section[key] = contaminated
            elif key == "clean_ids":
                section[key] = clean
            elif key == "n_contaminated":
                section[key] = len(contaminated)
            elif key == "contamination_rate":
                section[key] = round(len(contaminated) / n_items, 6) if n_items else 0.0
            elif key == "items":
                section[key] = items
            else:
                section[key] = copy.deepcopy(b0[key])
        benchmarks.append(section)

    removed = [copy.deepcopy(_shift(r, off)) for rep, off in zip(reports, offsets)
               for r in rep["training"]["removed"]]
    n_docs = corpus["n_documents"]
    n_removed = sum(rep["training"]["n_removed"] for rep in reports)
    training = {"n_documents": n_docs, "n_removed": n_removed, "n_kept": n_docs - n_removed, "removed": removed}

    result: dict[str, Any] = {}
    for key in first:
        if key == "corpus":
            result[key] = out_corpus
        elif key == "benchmarks":
            result[key] = benchmarks
        elif key == "training":
            result[key] = {k: training[k] for k in first["training"] if k in training}
        else:
            result[key] = out[key]
    return result


def _item_in_order(template: dict[str, Any], fixed: dict[str, Any], contaminated: bool, question: str | None,
                   matches: list[dict[str, Any]]) -> dict[str, Any]:
    """Rebuild an item entry in the key order ``check`` writes: id, contaminated, probes..., question, matches."""
    out: dict[str, Any] = {}
    for key in ("id", "contaminated", "n_probes", "probes", "normalized_question", "empty"):
        if key == "contaminated":
            out[key] = contaminated
        elif key in fixed:
            out[key] = fixed[key]
    if contaminated and question is not None:
        out["question"] = question
    for key, value in fixed.items():  # fields added by other versions: kept, after the known ones
        if key not in out:
            out[key] = value
    out["matches"] = matches
    return out


def _entries(rep: dict[str, Any], section: str) -> list[dict[str, Any]]:
    if section == "training":
        return list(rep.get("training", {}).get("removed", []))
    return [m for b in rep.get("benchmarks", []) for it in b.get("items", []) for m in it.get("matches", [])]
