"""The contamination report: one JSON document that backs a benchmark claim, and a Markdown summary.

The JSON layout is documented in ``docs/report.md`` and checked against ``decontam/schema/report.schema.json``.
Everything in it is deterministic: the same inputs give a byte-identical report (no timestamps, no timings,
sorted where order is not given by the inputs).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .atomic import write_atomic

__all__ = ["SCHEMA_VERSION", "Report", "report_schema"]

SCHEMA_VERSION = 1


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
        """Wrap a report document."""
        return cls(data)

    def to_dict(self) -> dict[str, Any]:
        """The report document (the object itself, not a copy)."""
        return self.data

    def to_json(self, indent: int | None = None) -> str:
        """The report as JSON text (UTF-8, stable key order, newline-terminated; compact by default, as
        the C encoder only serves ``indent=None`` and reports of large benchmarks run to megabytes)."""
        return json.dumps(self.data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON report atomically."""
        return write_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Report:
        """Read a JSON report."""
        with open(path, encoding="utf-8") as fh:
            return cls(json.load(fh))

    @classmethod
    def merge(cls, reports: Sequence[Report | dict[str, Any]]) -> Report:
        """Merge the reports of a corpus's shards (in corpus order) into the report of the whole corpus.

        A distributed run is map-then-merge: ``Report.merge([check(shard, ...) for shard in shards])`` equals
        ``check(all shards, ...)``. See :mod:`decontam.merge` for the rules.

        Raises:
            ConfigError: The reports are not of one check (options, tool or benchmarks differ).
        """
        from .merge import merge_reports

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
        """A short Markdown summary: a table of benchmarks and rates, then the method and corpus."""
        d = self.data
        lines = ["# Contamination report", ""]
        lines += ["| benchmark | items | contaminated | rate |", "| --- | ---: | ---: | ---: |"]
        for b in d.get("benchmarks", []):
            rate = b.get("contamination_rate", 0.0)
            lines.append(f"| {b['name']} | {b['n_items']} | {b['n_contaminated']} | {rate:.2%} |")
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
        if training:
            lines.append(
                f"Training documents containing a probe: {training.get('n_removed')} of "
                f"{training.get('n_documents')}."
            )
        tool = d.get("tool", {})
        if tool:
            lines.append(f"Tool: {tool.get('name')} {tool.get('version')}.")
        return "\n".join(lines) + "\n"
