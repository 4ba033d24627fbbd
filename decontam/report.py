"""The contamination report: one JSON document that backs a benchmark claim, and a Markdown summary.

The JSON layout is documented in ``docs/report.md`` and checked against ``decontam/schema/report.schema.json``.
Everything in it is deterministic: the same inputs give a byte-identical report (no timestamps, no timings,
sorted where order is not given by the inputs).

This module owns the document's shape: every engine builds its sections with :func:`item_entry`,
:func:`benchmark_section`, :func:`corpus_section` and :func:`training_section`, so the totals (contaminated and
clean ids, counts, rates, the corpus fingerprint) are computed in one place, whether a report comes from a
scan, an index, a portrait or a merge of shard reports (:func:`merge_reports`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .errors import ConfigError, InputError
from .guard import check_outputs
from .markup import md_code, md_text
from .version import __version__

__all__ = ["SCHEMA_VERSION", "Report", "benchmark_section", "corpus_fingerprint", "corpus_section", "item_entry",
           "merge_blocks", "merge_reports", "report_document", "report_schema", "report_warnings", "source_counts",
           "training_section"]

SCHEMA_VERSION = 1
# A benchmark section's fields that describe the benchmark itself (the rest are totals and items).
BENCHMARK_FIELDS = ("name", "source", "question_field", "id_field", "fingerprint", "n_items", "n_empty")


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the report, as shipped in ``decontam/schema/``."""
    from importlib import resources

    return json.loads(resources.files("decontam").joinpath("schema/report.schema.json").read_text("utf-8"))


class Report:
    """A contamination report (a thin, typed view over its JSON document).

    Args:
        data: The report document, as produced by :func:`decontam.check` or read back with :meth:`load`.

    Example:
        >>> r = Report.from_dict({"schema_version": 1, "benchmarks": [
        ...     {"name": "demo", "n_items": 2, "n_contaminated": 1, "contamination_rate": 0.5,
        ...      "contaminated_ids": [1], "clean_ids": [2], "items": []}]})
        >>> r.contaminated_ids("demo"), r.clean_ids("demo")
        ([1], [2])
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    # -- construction / serialization -----------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """A report of a copy of ``data`` (changing ``data`` afterwards does not change the report)."""
        return cls(copy.deepcopy(data))

    def to_dict(self) -> dict[str, Any]:
        """A copy of the report document (changing it does not change the report)."""
        return copy.deepcopy(self.data)

    def to_json(self, indent: int | None = None) -> str:
        """The report as JSON text (UTF-8, stable key order, newline-terminated; compact by default, as
        the C encoder only serves ``indent=None`` and reports of large benchmarks run to megabytes)."""
        return json.dumps(self.data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the JSON report atomically.

        Raises:
            OutputExistsError: ``path`` exists and ``overwrite`` is False.
        """
        check_outputs([("path", path)], [], overwrite)
        return write_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Report:
        """Read a JSON report.

        Raises:
            InputError: Not a JSON document (malformed, not UTF-8, nested beyond reason), or not a report.
        """
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (ValueError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise InputError(f"not a JSON report: {reason}", path=os.fspath(path)) from None
        if not isinstance(data, dict) or "benchmarks" not in data or "schema_version" not in data:
            raise InputError("not a decontam report (no schema_version/benchmarks)", path=os.fspath(path))
        return cls(data)

    @classmethod
    def merge(cls, reports: Sequence[Report | dict[str, Any]]) -> Report:
        """Merge the reports of a corpus's shards (in corpus order) into the report of the whole corpus.

        A distributed run is map-then-merge: ``Report.merge([check(shard, ...) for shard in shards])`` equals
        ``check(all shards, ...)``. See :func:`merge_reports` for the rules.

        Raises:
            ConfigError: The reports are not of one check (options, tool or benchmarks differ).
        """
        return cls(merge_reports([r.data if isinstance(r, Report) else r for r in reports]))

    def __add__(self, other: Report) -> Report:
        """``a + b`` is ``Report.merge([a, b])``: ``b``'s shard follows ``a``'s in the corpus."""
        if not isinstance(other, Report):
            return NotImplemented
        return Report.merge([self, other])

    # -- queries --------------------------------------------------------------------------------------

    @property
    def benchmarks(self) -> list[dict[str, Any]]:
        """The per-benchmark sections."""
        return list(self.data.get("benchmarks", []))

    def benchmark(self, name: str) -> dict[str, Any]:
        """The section of one benchmark.

        Raises:
            KeyError: No benchmark of that name in the report.
        """
        for b in self.data.get("benchmarks", []):
            if b["name"] == name:
                return b
        names = ", ".join(b["name"] for b in self.data.get("benchmarks", []))
        raise KeyError(f"no benchmark {name!r} in this report (it has: {names})")

    def contaminated_ids(self, name: str) -> list[Any]:
        """Ids of the items of benchmark ``name`` found in the corpus."""
        return list(self.benchmark(name)["contaminated_ids"])

    def clean_ids(self, name: str) -> list[Any]:
        """Ids of the items of benchmark ``name`` not found in the corpus."""
        return list(self.benchmark(name)["clean_ids"])

    @property
    def n_removed(self) -> int:
        """Training documents that contain a probe (removed by ``filter``)."""
        return int(self.data.get("training", {}).get("n_removed", 0))

    @property
    def removed_doc_ids(self) -> list[Any]:
        """Ids of the removed training documents, in corpus order, each once."""
        seen: dict[Any, None] = {}
        for r in self.data.get("training", {}).get("removed", []):
            seen.setdefault(json.dumps(r["doc_id"]), r["doc_id"])
        return list(seen.values())

    # -- rendering ------------------------------------------------------------------------------------

    def to_markdown(self) -> str:
        """A short Markdown summary: a table of benchmarks and rates, then the method and corpus.

        A portrait check shows its three groups instead (possible, an unverified upper bound for the items it
        can test; undecided; absent), and no count of training documents (a portrait names none).
        """
        d = self.data
        portrait = d.get("index", {}).get("kind") == "portrait"
        lines = ["# Contamination report", ""]
        if portrait:
            lines += [f"**Portrait check.** {md_text(d['index'].get('note', ''))}", "",
                      "| benchmark | items | possible (upper bound, unverified) | undecided (not testable) | absent |",
                      "| --- | ---: | ---: | ---: | ---: |"]
        else:
            lines += ["| benchmark | items | contaminated | rate |", "| --- | ---: | ---: | ---: |"]
        for b in d.get("benchmarks", []):
            rate = b.get("contamination_rate", 0.0)
            if portrait:
                lines.append(f"| {md_text(b['name'])} | {b['n_items']} | {b['n_contaminated']} ({rate:.2%}) | "
                             f"{b.get('n_undecided', 0)} | {b.get('n_absent', 0)} |")
            else:
                lines.append(f"| {md_text(b['name'])} | {b['n_items']} | {b['n_contaminated']} | {rate:.2%} |")
        cfg = d.get("config", {})
        corpus = d.get("corpus", {})
        training = d.get("training", {})
        lines.append("")
        if cfg:
            samp = cfg.get("sample", {})
            norm = cfg.get("normalize", {})
            options = [k for k, v in norm.items() if v] or ["none (GPT-4 rule)"]
            probes = "every window" if samp.get("mode") == "all" else f"{samp.get('n_probes')} seeded random"
            lines.append(
                f"Method: {probes} {samp.get('length')}-character substrings of each normalized question "
                f"(seed {samp.get('seed')}); normalizer options: {', '.join(options)}."
            )
        if corpus:
            lines.append(
                f"Corpus: {corpus.get('n_documents')} documents, {corpus.get('n_characters')} characters, "
                f"fingerprint `{corpus.get('fingerprint')}`."
            )
            if corpus.get("n_rejected"):
                lines.append(f"Rejected input rows (skipped): {corpus['n_rejected']}.")
        if training and not portrait:
            lines.append(
                f"Training documents containing a probe: {training.get('n_removed')} of "
                f"{training.get('n_documents')}."
            )
            per = training.get("by_source", [])
            if len(per) > 1:  # per file, or per split of a dataset dict
                lines += [f"- {md_code(s['source'])}: {s['n_removed']} of {s['n_documents']}"
                          + (f" ({s['n_rejected']} rejected)" if s.get("n_rejected") else "") for s in per[:20]]
                if len(per) > 20:
                    lines.append(f"- and {len(per) - 20} more sources (in the JSON report)")
        tool = d.get("tool", {})
        if tool:
            engine = d.get("run", {}).get("engine")
            lines.append(f"Tool: {tool.get('name')} {tool.get('version')}"
                         + (f", {md_text(engine)} engine." if engine else "."))
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- building a document


def item_entry(item_id: Any, n_probes: int, probes: Sequence[str], matches: list[dict[str, Any]], *,
               normalized_question: str | None = None, empty: bool = False, too_short: bool = False,
               question: str | None = None) -> dict[str, Any]:
    """One item of a benchmark section, its fields in the report's order.

    Args:
        item_id: The item's id.
        n_probes: How many probes it has.
        probes: The probes themselves (empty in ``all`` mode, where ``normalized_question`` stands for them).
        matches: Its matches, in corpus order (contaminated if any).
        normalized_question: In ``all`` mode, the normalized question (every window of it is a probe).
        empty: The question normalizes to nothing.
        too_short: The item was left out (``min_question_chars``).
        question: The question as in the benchmark, shown on contaminated items.

    The documents its matches name are counted here (``n_documents``; per probe, ``probe_documents``), so a
    reader sees at once which probe accounts for how many removed documents.
    """
    entry: dict[str, Any] = {"id": item_id, "contaminated": bool(matches), "n_probes": n_probes,
                             "probes": list(probes)}
    if normalized_question is not None:
        entry["normalized_question"] = normalized_question
    if empty:
        entry["empty"] = True
    if too_short:
        entry["too_short"] = True
    if matches and question is not None:
        entry["question"] = question
    if matches and all("row" in m for m in matches):
        entry["n_documents"] = len({m["row"] for m in matches})
        if probes:
            per_probe = {p: set() for p in probes}
            for m in matches:
                per_probe.setdefault(m["probe"], set()).add(m["row"])
            entry["probe_documents"] = [len(per_probe[p]) for p in probes]
    entry["matches"] = matches
    return entry


def benchmark_section(fields: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """A benchmark's section from its fields (:data:`BENCHMARK_FIELDS`) and items: the one place where its
    totals are computed (contaminated, clean and too-short ids, their counts, the rate).

    Clean items are the checked ones not found; items left out as too short (``too_short_ids``) and items a
    portrait cannot test (``undecided``) are neither. The rate is over all items, so that it is comparable
    whatever was left out.
    """
    contaminated = [it["id"] for it in items if it["contaminated"]]
    too_short = [it["id"] for it in items if it.get("too_short")]
    clean = [it["id"] for it in items if not it["contaminated"] and not it.get("too_short")
             and not it.get("undecided")]
    n_items = fields["n_items"]
    section = {key: fields[key] for key in BENCHMARK_FIELDS}
    section.update({
        "n_contaminated": len(contaminated),
        "contamination_rate": round(len(contaminated) / n_items, 6) if n_items else 0.0,
        "contaminated_ids": contaminated,
        "clean_ids": clean,
    })
    if too_short:
        section.update({"n_too_short": len(too_short), "too_short_ids": too_short})
    section["items"] = items
    return section


def corpus_fingerprint(source_digests: Sequence[dict[str, Any]]) -> str:
    """``sha256`` over each source's ``text_sha256 ‖ lengths_sha256`` (bytes), in order (``docs/report.md``)."""
    h = hashlib.sha256()
    for d in source_digests:
        h.update(bytes.fromhex(d["text_sha256"]) + bytes.fromhex(d["lengths_sha256"]))
    return "sha256:" + h.hexdigest()


def corpus_section(sources: Sequence[str], n_documents: int, n_characters: int, rejected: list[dict[str, Any]],
                   source_digests: list[dict[str, Any]], skipped: Sequence[dict[str, Any]] = (),
                   text_fields: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The corpus section; its fingerprint is computed from the per-source digests. Entries of corpus folders
    that were not read (``on_error="skip"``) are listed in ``skipped_files``; the text fields read from each
    source, where they are not the one field asked for (several fields, a chat field found in place of the
    default ``text``), in ``text_fields``."""
    corpus = {"sources": list(sources), "n_documents": n_documents, "n_characters": n_characters,
              "fingerprint": corpus_fingerprint(source_digests), "n_rejected": len(rejected), "rejected": rejected,
              "source_digests": source_digests}
    if skipped:
        corpus.update({"n_skipped_files": len(skipped), "skipped_files": list(skipped)})
    if text_fields:
        corpus["text_fields"] = list(text_fields)
    return corpus


def training_section(n_documents: int, n_removed: int, removed: list[dict[str, Any]],
                     by_source: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The training section: documents read, removed (holding a probe) and kept; and, for a scan, the same
    counts per source (``by_source``: per file, or per split of a dataset dict), rejected rows included."""
    section = {"n_documents": n_documents, "n_removed": n_removed, "n_kept": n_documents - n_removed,
               "removed": removed}
    if by_source is not None:
        section["by_source"] = [dict(s) for s in by_source]
    return section


def source_counts(source: str, n_documents: int, n_rejected: int, n_removed: int) -> dict[str, Any]:
    """One entry of ``training.by_source``."""
    return {"source": source, "n_documents": n_documents, "n_rejected": n_rejected, "n_removed": n_removed,
            "n_kept": n_documents - n_removed}


def report_document(config: dict[str, Any], corpus: dict[str, Any], benchmarks: list[dict[str, Any]],
                    training: dict[str, Any], engine: str = "local") -> dict[str, Any]:
    """The whole document, its sections in the report's order, with the warnings its figures call for.

    ``engine`` names where the scan ran (``run.engine``: ``local``, ``ray``; merged shards of both engines,
    ``local+ray``): how a run was executed, never what it found, so it is outside ``config``.
    """
    doc = {"schema_version": SCHEMA_VERSION, "tool": {"name": "decontam", "version": __version__},
           "config": config, "run": {"engine": engine}, "corpus": corpus, "benchmarks": benchmarks,
           "training": training}
    doc["warnings"] = report_warnings(doc)
    return doc


REJECTED_SHARE = 0.01  # a share of rejected input rows above this is a warning
HANDFUL = 5  # a short probe matching more documents than this (or than 1% of them) is a warning


def report_warnings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """What a reader of the figures must know, computed from the document itself (so a merge recomputes it):

    * ``skipped_files``: entries of the corpus folders were not read (``--on-error skip``);
    * ``rejected_rows``: more than 1% of the input rows were rejected (skipped), so not checked;
    * ``short_probes``: items whose question is shorter than the probe length (used whole, as the GPT-4 rule
      says) match more than a handful of documents (or 1% of them): such a figure may count coincidences,
      and the documents removed because of such probes alone are counted.
    """
    out: list[dict[str, Any]] = []
    corpus = doc["corpus"]
    if corpus.get("skipped_files"):
        files = corpus["skipped_files"]
        named = "; ".join(f"{f['path']} ({f['reason']})" for f in files[:5]) + \
            (f"; and {len(files) - 5} more" if len(files) > 5 else "")
        out.append({"kind": "skipped_files", "n_skipped_files": len(files),
                    "message": f"{len(files)} entr{'y' if len(files) == 1 else 'ies'} of the corpus folders "
                               f"were not read (listed under corpus.skipped_files): {named}"})
    n_rows = corpus["n_documents"] + corpus["n_rejected"]
    if n_rows and corpus["n_rejected"] / n_rows > REJECTED_SHARE:
        out.append({"kind": "rejected_rows", "n_rejected": corpus["n_rejected"], "n_rows": n_rows,
                    "message": f"{corpus['n_rejected']} of {n_rows} input rows "
                               f"({corpus['n_rejected'] / n_rows:.1%}) were rejected and not checked "
                               "(listed under corpus.rejected)"})
    short = _short_probe_items(doc)
    if short:
        flagged = {(it["benchmark"], json.dumps(it["id"])) for it in short}
        items_of_row: dict[Any, set[tuple[str, str]]] = {}
        for r in doc["training"]["removed"]:
            items_of_row.setdefault(r.get("row", json.dumps(r["doc_id"])), set()).add(
                (r["benchmark"], json.dumps(r["item_id"])))
        alone = sum(1 for items in items_of_row.values() if items <= flagged)
        named = "; ".join(f"{it['benchmark']} {it['id']!r} (probe {it['probe']!r}: {it['n_documents']} documents)"
                          for it in short[:10]) + (f"; and {len(short) - 10} more" if len(short) > 10 else "")
        out.append({"kind": "short_probes", "items": short, "n_documents_removed_by_these_alone": alone,
                    "message": f"{len(short)} item(s) shorter than the probe length, used whole as the GPT-4 rule "
                               f"says, match many documents: {named}. {alone} document(s) were removed because "
                               "of such probes alone; --min-question-chars N leaves such items out "
                               "(docs/method.md)"})
    return out


def _short_probe_items(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The items used whole (shorter than the probe length) that match more than a handful of documents."""
    length = doc.get("config", {}).get("sample", {}).get("length", 50)
    limit = min(HANDFUL, 0.01 * doc["corpus"]["n_documents"])
    out = []
    for b in doc["benchmarks"]:
        for it in b["items"]:
            probe = it["probes"][0] if it["probes"] else it.get("normalized_question", "")
            if it.get("n_documents", 0) > limit and len(probe) < length:
                out.append({"benchmark": b["name"], "id": it["id"], "probe": probe,
                            "n_documents": it["n_documents"]})
    return out


# ------------------------------------------------------------------------------------------------ merging

_ITEM_FIXED = ("id", "n_probes", "probes", "normalized_question", "empty", "too_short")


def merge_reports(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge the reports of a corpus's shards (in corpus order) into the report of the whole corpus.

    The result is the report one ``check`` over all the shards would have written, byte for byte:

    * counts add up; lists (sources, rejected rows, matches, removed documents) are concatenated in shard order,
      which is corpus order;
    * documents without an id are named by their corpus-wide row number (``"id_is_row": true``): each shard's
      rows are renumbered by the rows of the shards before it (``n_documents + n_rejected``);
    * the corpus fingerprint and every total are recomputed by the functions that compute them for a scan.

    Shards must agree on everything that is not about the corpus: schema, tool version, options, and every
    benchmark (name, source, fields, fingerprint, items and probes).

    Args:
        reports: Report documents (``Report.to_dict()``), one per shard, in corpus order.

    Returns:
        A new report document (the inputs are not modified).

    Raises:
        ConfigError: No report; reports that differ in anything but the corpus (the message names the first
            difference); shards that overlap (a source file in two of them, or the same shard twice, which would
            count its documents twice); index or portrait reports; or a report without the row numbers or
            source digests merging needs (written by an older version).

    Example:
        >>> from decontam import check, Benchmark, Item
        >>> q = "Write a function that returns the sum of two integers given as arguments."
        >>> bench = Benchmark.from_items("demo", [Item(1, q)])
        >>> parts = [check(s, [bench], progress=False).to_dict() for s in (["clean row"], ["leak: " + q])]
        >>> merged = merge_reports(parts)
        >>> merged["benchmarks"][0]["contaminated_ids"], merged["training"]["removed"][0]["doc_id"]
        ([1], 1)
    """
    if not reports:
        raise ConfigError("nothing to merge: give at least one report")
    _check_all_mergeable(reports)
    _check_disjoint(reports)
    return _merged(reports, None)


def merge_blocks(reports: Sequence[dict[str, Any]], digests: dict[str, str]) -> dict[str, Any]:
    """Merge the reports of consecutive blocks of *one* source (a dataset scanned block by block, each block by
    some worker) into the report of that source, in block order.

    As :func:`merge_reports` (counts add, lists concatenate, rows move by the rows of the blocks before, every
    total is recomputed; reports of different checks are refused, though the items' probes are not compared one
    by one: the blocks of one scan share them, and the options and benchmark fingerprints that decide them are
    compared), except that the blocks are one source: the corpus names it once, its rejected rows'
    lines (the row numbers of an in-memory source, 1-based) move like its rows, and its digests are
    ``digests``. The SHA-256 of a source's text does not add up from its blocks' digests, so the engine,
    which receives the blocks in order, hashes the text itself (:func:`decontam.scan.hash_texts` over the
    same bytes).

    Args:
        reports: The blocks' report documents, in source order, each naming the one source.
        digests: ``{"text_sha256": ..., "lengths_sha256": ...}`` of the whole source.

    Raises:
        ConfigError: No report; reports of different checks (as for :func:`merge_reports`); or reports that do
            not name one and the same source.
    """
    if not reports:
        raise ConfigError("nothing to merge: give at least one report")
    _check_all_mergeable(reports, items=False)
    labels = {json.dumps(rep["corpus"]["sources"]) for rep in reports}
    if len(labels) != 1 or len(reports[0]["corpus"]["sources"]) != 1:
        raise ConfigError(f"blocks of one source must each name that one source; got {sorted(labels)}")
    return _merged(reports, {"text_sha256": digests["text_sha256"], "lengths_sha256": digests["lengths_sha256"]})


def _merged(reports: Sequence[dict[str, Any]], block_digests: dict[str, str] | None) -> dict[str, Any]:
    """The merged document of reports already checked: of shards (``block_digests`` None), or of the blocks
    of one source with that source's digests."""
    offsets = []
    total = 0
    for rep in reports:
        offsets.append(total)
        total += rep["corpus"]["n_documents"] + rep["corpus"]["n_rejected"]
    corpora = [rep["corpus"] for rep in reports]
    n_docs, n_chars = sum(c["n_documents"] for c in corpora), sum(c["n_characters"] for c in corpora)
    skipped = [dict(f) for c in corpora for f in c.get("skipped_files", [])]
    n_removed = sum(rep["training"]["n_removed"] for rep in reports)
    has_by_source = all("by_source" in rep["training"] for rep in reports)
    if block_digests is None:
        corpus = corpus_section([s for c in corpora for s in c["sources"]], n_docs, n_chars,
                                [copy.deepcopy(r) for c in corpora for r in c["rejected"]],
                                [dict(d) for c in corpora for d in c["source_digests"]], skipped,
                                [dict(f) for c in corpora for f in c.get("text_fields", [])])
        by_source = [s for rep in reports for s in rep["training"]["by_source"]] if has_by_source else None
    else:
        label = corpora[0]["sources"][0]
        rejected = [{**copy.deepcopy(r), "line": r["line"] + off} for c, off in zip(corpora, offsets)
                    for r in c["rejected"]]
        fields = next((dict(f) for c in corpora for f in c.get("text_fields", [])), None)
        corpus = corpus_section([label], n_docs, n_chars, rejected, [{"source": label, **block_digests}], skipped,
                                [fields] if fields else [])
        by_source = [source_counts(label, n_docs, len(rejected), n_removed)] if has_by_source else None
    benchmarks = [_merged_benchmark(bi, reports, offsets) for bi in range(len(reports[0]["benchmarks"]))]
    removed = [copy.deepcopy(_shift(r, off)) for rep, off in zip(reports, offsets) for r in rep["training"]["removed"]]
    training = training_section(corpus["n_documents"], n_removed, removed, by_source)
    engines = sorted({rep.get("run", {}).get("engine", "local") for rep in reports})
    return report_document(copy.deepcopy(reports[0]["config"]), corpus, benchmarks, training, "+".join(engines))


def _merged_benchmark(bi: int, reports: Sequence[dict[str, Any]], offsets: list[int]) -> dict[str, Any]:
    b0 = reports[0]["benchmarks"][bi]
    found = _matched_items(bi, reports, offsets)
    items = []
    for ii, it0 in enumerate(b0["items"]):
        shards = found.get(ii, [])
        matches = [copy.deepcopy(_shift(m, off)) for it, off in shards for m in it["matches"]]
        question = next((it["question"] for it, _ in shards if "question" in it), None)
        items.append(item_entry(it0["id"], it0["n_probes"], it0["probes"], matches,
                                normalized_question=it0.get("normalized_question"), empty=bool(it0.get("empty")),
                                too_short=bool(it0.get("too_short")), question=question))
    return benchmark_section(b0, items)


def _matched_items(bi: int, reports: Sequence[dict[str, Any]],
                   offsets: list[int]) -> dict[int, list[tuple[dict[str, Any], int]]]:
    """Per item (index) of benchmark ``bi``, its shard entries that have matches, with their shard's row offset,
    in shard order. A shard's contaminated items are found by their ids (when ids are unique), so a merge of many
    shards does not walk every item of each.

    Raises:
        ConfigError: A match without a row number (a report written by an older decontam).
    """
    items0 = reports[0]["benchmarks"][bi]["items"]
    where = {json.dumps(it["id"]): ii for ii, it in enumerate(items0)}
    unique = len(where) == len(items0)
    found: dict[int, list[tuple[dict[str, Any], int]]] = {}
    for k, (rep, off) in enumerate(zip(reports, offsets)):
        section = rep["benchmarks"][bi]
        items = section["items"]
        if unique and "contaminated_ids" in section:
            indexes = sorted(where[key] for key in {json.dumps(i) for i in section["contaminated_ids"]} if key in where)
        else:
            indexes = range(len(items))
        for ii in indexes:
            it = items[ii]
            if it["matches"]:
                if any("row" not in m for m in it["matches"]):
                    raise ConfigError(_NO_ROWS.format(k=k))
                found.setdefault(ii, []).append((it, off))
    return found


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


def _fixed_items(bench: dict[str, Any]) -> str:
    """What a benchmark's items must share across shards (ids, probes...), as one string to compare."""
    return json.dumps([[it.get(key) for key in _ITEM_FIXED] for it in bench.get("items", [])])


def _check_all_mergeable(reports: Sequence[dict[str, Any]], items: bool = True) -> None:
    """Refuse reports that are not shards of one check (the message names the first difference); ``items``:
    also compare every item's id and probes."""
    first_items = [_fixed_items(b) for b in reports[0].get("benchmarks", [])] if items else None
    for k, rep in enumerate(reports):
        _check_mergeable(k, rep, reports[0], first_items)


def _check_mergeable(k: int, rep: dict[str, Any], first: dict[str, Any], first_items: list[str] | None) -> None:
    """Refuse report ``k`` unless it is a shard of the same check as report 0 (the message names why); the
    items are compared per benchmark at once (``first_items``: report 0's; None: not compared), item by item
    only to name one that differs."""
    for key in ("schema_version", "tool", "config"):
        if not _same(rep.get(key), first.get(key)):
            raise ConfigError(f"report {k} differs from report 0 in {key!r}: only reports of the same check "
                              f"(same tool, options and benchmarks) over different shards can be merged")
    if "index" in rep:
        raise ConfigError(f"report {k} comes from an index or a portrait ({rep['index'].get('kind')}): merge the "
                          "indexes instead (decontam index merge), then check the merged index")
    corpus = rep.get("corpus", {})
    if "source_digests" not in corpus or len(corpus["source_digests"]) != len(corpus.get("sources", [])):
        raise ConfigError(f"report {k} has no per-source digests (corpus.source_digests): it was written by "
                          "an older decontam; re-run the check on that shard")
    names = [b["name"] for b in rep.get("benchmarks", [])]
    if names != [b["name"] for b in first.get("benchmarks", [])]:
        raise ConfigError(f"report {k} has benchmarks {names}, report 0 has "
                          f"{[b['name'] for b in first.get('benchmarks', [])]}")
    for bi, (b, b0) in enumerate(zip(rep["benchmarks"], first["benchmarks"])):
        for key in BENCHMARK_FIELDS:
            if not _same(b.get(key), b0.get(key)):
                raise ConfigError(f"report {k}, benchmark {b['name']!r}: {key} differs from report 0's "
                                  f"({b.get(key)!r} vs {b0.get(key)!r}); merge only shards of one check")
        if k == 0 or first_items is None or _fixed_items(b) == first_items[bi]:
            continue
        for it, it0 in zip(b["items"], b0["items"]):
            for key in _ITEM_FIXED:
                if not _same(it.get(key), it0.get(key)):
                    raise ConfigError(f"report {k}, benchmark {b['name']!r}, item {it.get('id')!r}: {key} "
                                      "differs from report 0's")
    # (the matches of items are checked as they are merged: _merged_benchmark)
    if any("row" not in entry for entry in rep.get("training", {}).get("removed", [])):
        raise ConfigError(_NO_ROWS.format(k=k))


_NO_ROWS = ("report {k} has matches without a row number: it was written by an older decontam; re-run the check "
            "on that shard")


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _check_disjoint(reports: Sequence[dict[str, Any]]) -> None:
    """Refuse shards that overlap: a source file in two of them, or the same non-empty source (label and
    contents) twice, as when one shard's report is given twice."""
    seen: dict[Any, int] = {}
    for k, rep in enumerate(reports):
        for d in rep["corpus"]["source_digests"]:
            label = d["source"]
            keys: list[tuple[str, ...]] = []
            if not (label.startswith("<") and label.endswith(">")):  # a file: in one shard only
                keys.append(("file", label))
            if (d["text_sha256"], d["lengths_sha256"]) != (_EMPTY_SHA256, _EMPTY_SHA256):  # empty: nothing to count
                keys.append(("content", label, d["text_sha256"], d["lengths_sha256"]))
            for key in keys:
                if key in seen and seen[key] != k:
                    what = f"the source file {label}" if key[0] == "file" else f"the same source {label}"
                    raise ConfigError(f"reports {seen[key]} and {k} both hold {what}: shards must not overlap "
                                      "(merging them would count its documents twice); give each shard once")
                seen.setdefault(key, k)
