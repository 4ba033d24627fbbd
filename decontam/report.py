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
import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .caveats import report_warnings
from .errors import ConfigError, InputError
from .guard import check_outputs
from .markup import md_code, md_text, rate_text
from .methods import is_ngram, summary_method
from .neardup import near_dup_summary, near_dup_totals
from .redact import redaction_section, redaction_summary
from .schema_check import shipped_schema
from .version import __version__

__all__ = ["ANSWER_EMPTY", "ANSWER_MISSING", "ANSWER_TOO_SHORT", "SCHEMA_VERSION", "Report", "benchmark_section",
           "corpus_fingerprint", "corpus_section", "item_entry", "merge_blocks", "merge_reports", "report_document",
           "report_schema", "report_warnings", "source_counts", "training_section"]

SCHEMA_VERSION = 1
# A benchmark section's fields that describe the benchmark itself (the rest are totals and items).
BENCHMARK_FIELDS = ("name", "source", "question_field", "id_field", "fingerprint", "n_items", "n_empty")
# ... and, with probe_answers, where its answers came from (absent otherwise).
ANSWER_FIELDS = ("answer_field", "answer_fingerprint")
# Why an item's answer was not probed (probe_answers), as its entry's ``answer_not_probed`` says.
ANSWER_MISSING = "no answer"
ANSWER_EMPTY = "the answer normalizes to nothing"
ANSWER_TOO_SHORT = "the answer is shorter than the probe length"


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the report, as shipped in ``decontam/schema/``."""
    return shipped_schema("report")


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
                lines.append(f"| {md_text(b['name'])} | {b['n_items']} | {b['n_contaminated']} ({rate_text(rate)}) | "
                             f"{b.get('n_undecided', 0)} | {b.get('n_absent', 0)} |")
            else:
                lines.append(f"| {md_text(b['name'])} | {b['n_items']} | {b['n_contaminated']} | {rate_text(rate)} |")
        lines += _answer_lines(d)
        cfg = d.get("config", {})
        corpus = d.get("corpus", {})
        training = d.get("training", {})
        lines.append("")
        if cfg:
            lines.append(summary_method(cfg))
        if corpus:
            lines.append(
                f"Corpus: {corpus.get('n_documents')} documents, {corpus.get('n_characters')} characters, "
                f"fingerprint `{corpus.get('fingerprint')}`."
            )
            if corpus.get("n_rejected"):
                lines.append(f"Rejected input rows (skipped): {corpus['n_rejected']}.")
        if training and not portrait and "redaction" in training:
            lines.append(redaction_summary(training))
        elif training and not portrait:
            what = "a benchmark 13-gram" if is_ngram(cfg) else "a probe"
            lines.append(f"Training documents containing {what}: {training.get('n_removed')} of "
                         f"{training.get('n_documents')}.")
            if "n_removed_answer_only" in training:
                lines.append(f"Training documents holding an answer probe and no question probe (--probe-answers; "
                             f"removed by filter too): {training['n_removed_answer_only']}.")
            per = training.get("by_source", [])
            if len(per) > 1:  # per file, or per split of a dataset dict
                lines += [f"- {md_code(s['source'])}: {s['n_removed']} of {s['n_documents']}"
                          + (f" ({s['n_rejected']} rejected)" if s.get("n_rejected") else "") for s in per[:20]]
                if len(per) > 20:
                    lines.append(f"- and {len(per) - 20} more sources (in the JSON report)")
        if d.get("near_dup"):
            lines.append(near_dup_summary(d))
        tool = d.get("tool", {})
        if tool:
            engine = d.get("run", {}).get("engine")
            lines.append(f"Tool: {tool.get('name')} {tool.get('version')}" + (f", {md_text(engine)} engine." if engine
                                                                               else "."))
        return "\n".join(lines) + "\n"


def _answer_lines(d: dict[str, Any]) -> list[str]:
    """The answer-leak lines of the Markdown summary (``probe_answers``), apart from the question's table."""
    benches = [b for b in d.get("benchmarks", []) if "n_answer_leaks" in b]
    if not benches:
        return []
    lines = ["", "Answer leaks (--probe-answers: probes drawn from each item's answer; reported apart, the table "
             "above is the question's):"]
    for b in benches:
        both = len(set(map(json.dumps, b["answer_leak_ids"])) & set(map(json.dumps, b["contaminated_ids"])))
        lines.append(f"- {md_text(b['name'])}: {b['n_answer_leaks']} item(s) whose answer is in the corpus "
                     f"({both} with the question too), of {b['n_answers_probed']} answers probed "
                     f"(answer field {md_code(str(b.get('answer_field')))}; {b['n_answers_not_probed']} not probed)")
    return lines


# ------------------------------------------------------------------------------------- building a document


def item_entry(item_id: Any, n_probes: int, probes: Sequence[str], matches: list[dict[str, Any]], *,
               normalized_question: str | None = None, empty: bool = False, too_short: bool = False,
               question: str | None = None, answer: dict[str, Any] | None = None,
               near_matches: list[dict[str, Any]] | None = None, near_dup_unchecked: bool = False) -> dict[str, Any]:
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
        answer: With ``probe_answers`` only: ``n_probes``, ``probes`` (empty in ``all`` mode), ``normalized`` (in
            ``all`` mode), ``not_probed`` (why not, or ``None``), ``matches`` (each marked ``"answer": true``) and
            ``text`` (the answer as in the benchmark, shown when found). Its fields come after the question's, so
            that everything the GPT-4 rule says is where it is without the option.
        near_matches: The near-duplicate pass's matches (where the rule did not find the item), in corpus order.
        near_dup_unchecked: The near-duplicate pass could not check the item (too few distinctive shingles).

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
    if near_dup_unchecked:
        entry["near_dup_unchecked"] = True
    if (matches or near_matches) and question is not None:
        entry["question"] = question
    if matches and all("row" in m for m in matches):
        entry["n_documents"] = len({m["row"] for m in matches})
        if probes:
            per_probe = {p: set() for p in probes}
            for m in matches:
                per_probe.setdefault(m["probe"], set()).add(m["row"])
            entry["probe_documents"] = [len(per_probe[p]) for p in probes]
    entry["matches"] = matches
    if answer is not None:
        _answer_fields(entry, answer)
    if near_matches:
        entry["near_matches"] = near_matches
    return entry


def _answer_fields(entry: dict[str, Any], answer: dict[str, Any]) -> None:
    """An item's answer-probe fields (``probe_answers``), after its question's."""
    entry["n_answer_probes"] = answer["n_probes"]
    entry["answer_probes"] = list(answer["probes"])
    if answer.get("normalized") is not None:
        entry["normalized_answer"] = answer["normalized"]
    if answer.get("not_probed"):
        entry["answer_not_probed"] = answer["not_probed"]
    entry["answer_leak"] = bool(answer["matches"])
    if answer["matches"] and answer.get("text") is not None:
        entry["answer"] = answer["text"]
    entry["answer_matches"] = answer["matches"]


def _answer_of(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Read back what :func:`_answer_fields` wrote (``None``: the report was made without probe_answers)."""
    if "answer_leak" not in entry:
        return None
    return {"n_probes": entry["n_answer_probes"], "probes": entry["answer_probes"],
            "normalized": entry.get("normalized_answer"), "not_probed": entry.get("answer_not_probed"),
            "matches": entry["answer_matches"], "text": entry.get("answer")}


def benchmark_section(fields: dict[str, Any], items: list[dict[str, Any]], near_dup: bool = False) -> dict[str, Any]:
    """A benchmark's section from its fields (:data:`BENCHMARK_FIELDS`) and items: the one place where its
    totals are computed (contaminated, clean and too-short ids, their counts, the rate).

    Clean items are the checked ones not found; items left out as too short (``too_short_ids``) and items a
    portrait cannot test (``undecided``) are neither. The rate is over all items, so that it is comparable
    whatever was left out.

    With ``probe_answers`` (``fields`` has ``answer_fingerprint``), the answers' totals follow, apart: items whose
    answer was probed, items whose answer probes were found (``answer_leak_ids``, whether or not the question
    was), and items whose answer was not probed. The question's totals above are the same as without it.
    With ``near_dup``, the near-duplicate pass's totals follow (:func:`decontam.neardup.near_dup_totals`).
    """
    contaminated = [it["id"] for it in items if it["contaminated"]]
    too_short = [it["id"] for it in items if it.get("too_short")]
    clean = [it["id"] for it in items if not it["contaminated"] and not it.get("too_short")
             and not it.get("undecided")]
    n_items = fields["n_items"]
    section = {key: fields[key] for key in BENCHMARK_FIELDS}
    answers = "answer_fingerprint" in fields
    if answers:
        section.update({key: fields[key] for key in ANSWER_FIELDS})
    section.update({
        "n_contaminated": len(contaminated),
        "contamination_rate": round(len(contaminated) / n_items, 6) if n_items else 0.0,
        "contaminated_ids": contaminated,
        "clean_ids": clean,
    })
    if too_short:
        section.update({"n_too_short": len(too_short), "too_short_ids": too_short})
    if answers:
        leaks = [it["id"] for it in items if it.get("answer_leak")]
        not_probed = [it["id"] for it in items if it.get("answer_not_probed")]
        section.update({"n_answers_probed": len(items) - len(not_probed), "n_answer_leaks": len(leaks),
                        "answer_leak_ids": leaks, "n_answers_not_probed": len(not_probed),
                        "answers_not_probed_ids": not_probed})
    if near_dup:
        section.update(near_dup_totals(items, n_items))
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
                     by_source: Sequence[dict[str, Any]] | None = None,
                     n_removed_answer_only: int | None = None,
                     redaction: dict[str, Any] | None = None,
                     near_removed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The training section: documents read, removed (holding a question probe; under redaction, dropped) and
    kept; and, for a scan, the same counts per source (``by_source``: per file, or per split of a dataset dict),
    rejected rows included; under redaction, the :func:`redaction_section`.

    With ``probe_answers``, ``n_removed_answer_only`` counts the documents that hold an answer probe and no
    question probe: ``filter`` removes them too, so ``n_kept`` is what is left of both; ``n_removed`` stays the
    GPT-4 rule's figure (under redaction: of the documents dropped). ``near_removed``: the near-duplicate pass's
    entries of documents no probe was found in, counted apart (``n_removed_near_dup``) and not kept either."""
    n_near = len({r["row"] for r in near_removed}) if near_removed is not None else 0
    section: dict[str, Any] = {"n_documents": n_documents, "n_removed": n_removed}
    if n_removed_answer_only is not None:
        section["n_removed_answer_only"] = n_removed_answer_only
    section.update({"n_kept": n_documents - n_removed - (n_removed_answer_only or 0) - n_near, "removed": removed})
    if near_removed is not None:
        section.update({"n_removed_near_dup": n_near, "near_removed": near_removed})
    if by_source is not None:
        section["by_source"] = [dict(s) for s in by_source]
    if redaction is not None:
        section["redaction"] = redaction
    return section


def source_counts(source: str, n_documents: int, n_rejected: int, n_removed: int,
                  n_removed_answer_only: int | None = None, n_redacted: int | None = None,
                  n_removed_near_dup: int | None = None) -> dict[str, Any]:
    """One entry of ``training.by_source`` (``n_removed_answer_only``: with ``probe_answers`` only;
    ``n_redacted``: under redaction only; ``n_removed_near_dup``: with the near-duplicate pass only)."""
    entry: dict[str, Any] = {"source": source, "n_documents": n_documents, "n_rejected": n_rejected,
                             "n_removed": n_removed}
    if n_removed_answer_only is not None:
        entry["n_removed_answer_only"] = n_removed_answer_only
    entry["n_kept"] = n_documents - n_removed - (n_removed_answer_only or 0) - (n_removed_near_dup or 0)
    if n_redacted is not None:
        entry["n_redacted"] = n_redacted
    if n_removed_near_dup is not None:
        entry["n_removed_near_dup"] = n_removed_near_dup
    return entry


def report_document(config: dict[str, Any], corpus: dict[str, Any], benchmarks: list[dict[str, Any]],
                    training: dict[str, Any], near_dup: dict[str, Any] | None = None,
                    engine: str = "local") -> dict[str, Any]:
    """The whole document, its sections in the report's order (``near_dup``: the pass's), with its warnings;
    ``engine``: where the scan ran (``run.engine``: how a run was executed, not what it found, so not config)."""
    doc = {"schema_version": SCHEMA_VERSION, "tool": {"name": "decontam", "version": __version__},
           "config": config, "run": {"engine": engine}, "corpus": corpus, "benchmarks": benchmarks,
           "training": training}
    if near_dup is not None:
        doc["near_dup"] = near_dup
    doc["warnings"] = report_warnings(doc)
    return doc


# ------------------------------------------------------------------------------------------------ merging

_ITEM_FIXED = ("id", "n_probes", "probes", "normalized_question", "empty", "too_short", "n_answer_probes",
               "answer_probes", "normalized_answer", "answer_not_probed", "near_dup_unchecked")


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
    """Merge the reports of consecutive blocks of *one* source (a dataset scanned block by block: the Ray
    engine), in order, as :func:`merge_reports` merges shards, except that the source is named once, its rejected
    rows' lines (1-based rows) move like its rows, its digests are ``digests`` (SHA-256 over a source does not add
    up from its blocks': the engine hashes the text in order), and items are not compared one by one (one scan's
    blocks share them; the options and benchmark fingerprints that decide them are compared).

    Raises:
        ConfigError: No report; reports of different checks, or that do not each name one same source.
    """
    if not reports:
        raise ConfigError("nothing to merge: give at least one report")
    _check_all_mergeable(reports, items=False)
    if len({json.dumps(rep["corpus"]["sources"]) for rep in reports}) != 1 or len(reports[0]["corpus"]["sources"]) != 1:
        raise ConfigError("blocks of one source must each name that one source")
    return _merged(reports, {"text_sha256": digests["text_sha256"], "lengths_sha256": digests["lengths_sha256"]})


def _merged(reports: Sequence[dict[str, Any]], block_digests: dict[str, str] | None) -> dict[str, Any]:
    """The merged document of checked reports: of shards, or (``block_digests``) of the blocks of one source."""
    corpora = [rep["corpus"] for rep in reports]
    offsets = [0, *itertools.accumulate(c["n_documents"] + c["n_rejected"] for c in corpora)][:-1]
    rejected = [copy.deepcopy(r) for c in corpora for r in c["rejected"]]
    digests, fields = [dict(d) for c in corpora for d in c["source_digests"]], \
        [dict(f) for c in corpora for f in c.get("text_fields", [])]
    by_source = [s for rep in reports for s in rep["training"]["by_source"]] \
        if all("by_source" in rep["training"] for rep in reports) else None
    if block_digests is not None:  # one source: one entry, lines moved, counts added
        rejected = [{**r, "line": r["line"] + off} for c, off in zip(corpora, offsets) for r in c["rejected"]]
        digests, fields = [{"source": corpora[0]["sources"][0], **block_digests}], fields[:1]
        if by_source is not None:
            by_source = [{k: (v if k == "source" else sum(s[k] for s in by_source)) for k, v in by_source[0].items()}]
    corpus = corpus_section([d["source"] for d in digests], sum(c["n_documents"] for c in corpora),
                            sum(c["n_characters"] for c in corpora), rejected, digests,
                            [dict(f) for c in corpora for f in c.get("skipped_files", [])], fields)
    near_dup = bool(reports[0]["config"].get("near_dup"))
    benchmarks = [_merged_benchmark(bi, reports, offsets, near_dup) for bi in range(len(reports[0]["benchmarks"]))]
    removed = [copy.deepcopy(_shift(r, off)) for rep, off in zip(reports, offsets) for r in rep["training"]["removed"]]
    near_removed = [copy.deepcopy(_shift(r, off)) for rep, off in zip(reports, offsets)
                    for r in rep["training"].get("near_removed", [])] if near_dup else None
    answer_only = sum(rep["training"]["n_removed_answer_only"] for rep in reports) \
        if "n_removed_answer_only" in reports[0]["training"] else None
    redaction = redaction_section(  # (the config says whether there is one, and configs agree)
        [copy.deepcopy(_shift(d, off)) for rep, off in zip(reports, offsets)
         for d in rep["training"]["redaction"]["documents"]], [b["name"] for b in benchmarks]) \
        if "redaction" in reports[0]["training"] else None
    training = training_section(corpus["n_documents"], sum(rep["training"]["n_removed"] for rep in reports),
                                removed, by_source, answer_only, redaction, near_removed)
    engines = sorted({rep.get("run", {}).get("engine", "local") for rep in reports})
    return report_document(copy.deepcopy(reports[0]["config"]), corpus, benchmarks, training,
                           copy.deepcopy(reports[0].get("near_dup")), "+".join(engines))


def _merged_benchmark(bi: int, reports: Sequence[dict[str, Any]], offsets: list[int], near_dup: bool) -> dict[str, Any]:
    b0 = reports[0]["benchmarks"][bi]
    found = _found_items(bi, reports, offsets)
    items = []
    for ii, it0 in enumerate(b0["items"]):
        shards = found.get(ii, [])
        matches = [copy.deepcopy(_shift(m, off)) for it, off in shards for m in it["matches"]]
        near = [copy.deepcopy(_shift(m, off)) for it, off in shards for m in it.get("near_matches", [])]
        question = next((it["question"] for it, _ in shards if "question" in it), None)
        answer = _answer_of(it0)
        if answer is not None:
            answer["matches"] = [copy.deepcopy(_shift(m, off)) for it, off in shards for m in it["answer_matches"]]
            answer["text"] = next((it["answer"] for it, _ in shards if "answer" in it), None)
        items.append(item_entry(it0["id"], it0["n_probes"], it0["probes"], matches,
                                normalized_question=it0.get("normalized_question"), empty=bool(it0.get("empty")),
                                too_short=bool(it0.get("too_short")), question=question, answer=answer,
                                near_matches=near, near_dup_unchecked=bool(it0.get("near_dup_unchecked"))))
    return benchmark_section(b0, items, near_dup)


_FOUND_IDS = ("contaminated_ids", "answer_leak_ids", "near_duplicate_ids")  # the items of a shard with matches


def _found_items(bi: int, reports: Sequence[dict[str, Any]],
                 offsets: list[int]) -> dict[int, list[tuple[dict[str, Any], int]]]:
    """Per item (index) of benchmark ``bi``, the shards' entries of it holding matches, with the shard's row
    offset, in order; found by the ids the sections list (ids unique), not by a walk over every item of each.

    Raises:
        ConfigError: A match without a row number (a report written by an older decontam)."""
    items0 = reports[0]["benchmarks"][bi]["items"]
    where = {json.dumps(it["id"]): ii for ii, it in enumerate(items0)}
    found: dict[int, list[tuple[dict[str, Any], int]]] = {}
    for k, (rep, off) in enumerate(zip(reports, offsets)):
        section = rep["benchmarks"][bi]
        items = section["items"]
        if len(where) == len(items0) and "contaminated_ids" in section:
            indexes: Any = sorted({where[key] for name in _FOUND_IDS for key in map(json.dumps, section.get(name, []))
                                   if key in where})
        else:
            indexes = range(len(items))
        for ii in indexes:
            it = items[ii]
            entries = it["matches"] + it.get("answer_matches", []) + it.get("near_matches", [])
            if entries:
                if any("row" not in m for m in entries):
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
    """Refuse reports that are not shards of one check; ``items``: compare every item's id and probes too."""
    first = [_fixed_items(b) for b in reports[0].get("benchmarks", [])] if items else None
    for k, rep in enumerate(reports):
        _check_mergeable(k, rep, reports[0], first)


def _check_mergeable(k: int, rep: dict[str, Any], first: dict[str, Any], first_items: list[str] | None) -> None:
    """Refuse report ``k`` unless it is a shard of the same check as report 0 (the message names why)."""
    for key in ("schema_version", "tool", "config", "near_dup"):
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
        for key in BENCHMARK_FIELDS + ANSWER_FIELDS:
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
    training = rep.get("training", {})  # (items' matches are checked as they are merged: _found_items)
    if any("row" not in entry for entry in list(training.get("removed", [])) + list(training.get("near_removed", []))):
        raise ConfigError(_NO_ROWS.format(k=k))


_NO_ROWS = ("report {k} has matches without a row number: it was written by an older decontam; re-run the check "
            "on that shard")


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _check_disjoint(reports: Sequence[dict[str, Any]]) -> None:
    """Refuse shards that overlap (see :func:`first_overlap`), as when one shard's report is given twice."""
    hit = first_overlap([rep["corpus"]["source_digests"] for rep in reports])
    if hit is not None:
        raise ConfigError(f"reports {hit[0]} and {hit[1]} both hold {hit[2]}: shards must not overlap (merging them "
                          "would count its documents twice); give each shard once")


def first_overlap(source_lists: Sequence[Sequence[dict[str, Any]]]) -> tuple[int, int, str] | None:
    """The first source two of ``source_lists`` hold, as ``(first list, second list, what)``: a source file (by
    its label) in two of them, or the same non-empty source (file name and contents) twice: ``a.jsonl`` and
    ``/data/a.jsonl`` with the same contents are one file named two ways. A source is a report's
    ``corpus.source_digests`` entry or an index manifest's ``corpus.sources`` entry."""
    seen: dict[Any, int] = {}
    for k, sources in enumerate(source_lists):
        for d in sources:
            label, digests = d["source"], (d["text_sha256"], d["lengths_sha256"])
            keys = [] if label.startswith("<") and label.endswith(">") else [("file", label)]  # a file: one list
            name = label.replace("\\", "/").rsplit("/", 1)[-1]
            keys += [("content", name, *digests)] if digests != (_EMPTY_SHA256,) * 2 else []  # empty: not counted
            for key in keys:
                if seen.setdefault(key, k) != k:
                    return seen[key], k, f"the source file {label}" if key[0] == "file" else f"the same source {label}"
    return None
