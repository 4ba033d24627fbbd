"""Command line for the stream direction: ``decontam check``, ``decontam filter`` and ``decontam benchmarks``
(arguments -> config -> :func:`decontam.filter.check` / :func:`decontam.filter.filter_files`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..benchmarks import REGISTRY, BenchmarkSpec
from ..config import METHODS, NEAR_DUP_THRESHOLD, DecontamConfig, make_config
from ..errors import BenchmarkNotFoundError
from ..filter import check, filter_files
from ..inputs.files import expand_corpus, require_id_field
from ..registry import local_hint, unknown_name_message
from ..scan.probes import require_probes
from .common import (
    add_benchmark_field_flags,
    add_benchmark_flag,
    add_engine_flags,
    add_max_doc_bytes_flag,
    add_normalizer_flags,
    add_num_proc_flag,
    add_output_flags,
    add_probe_answers_flag,
    add_probe_flags,
    add_redact_flags,
    benchmarks_epilog,
    check_output_paths,
    guard_outputs,
    load_benchmarks,
    print_warnings,
    spec_paths,
    write_outputs,
)

__all__ = ["COMMANDS", "add_commands", "run"]

COMMANDS = ("check", "filter", "benchmarks")


def _add_scan_flags(p: argparse.ArgumentParser, filtering: bool = False) -> None:
    """The arguments ``check`` and ``filter`` share."""
    p.add_argument("corpus", nargs="+", metavar="CORPUS",
                   help="training corpus: .jsonl, .jsonl.gz, .parquet files or folders of them")
    add_benchmark_flag(p)
    add_output_flags(p)
    g = p.add_argument_group("fields")
    g.add_argument("--text-field", action="append", metavar="FIELD",
                   help="corpus field holding the text (default: text; a file without it but with a chat field, "
                        "messages or conversations, is read as chats); repeat for several fields, each matched "
                        "on its own (e.g. --text-field prompt --text-field response)")
    g.add_argument("--id-field",
                   help="corpus field holding a document id (default: id; rows without it are named by their "
                        "0-based row number in the corpus; a field given here must be in the first row of a "
                        "corpus file)")
    add_benchmark_field_flags(g)
    g = p.add_argument_group("method (defaults: the GPT-4 rule)")
    g.add_argument("--method", choices=METHODS, default="gpt4",
                   help="gpt4 (default): the GPT-4 rule, tuned by the flags below; ngram13: the GPT-3 / "
                        "lm-evaluation-harness 13-gram rule instead (lowercased, punctuation deleted, every word "
                        "13-gram of each question), for figures comparable with those published that way; it takes "
                        "none of the flags below")
    add_probe_flags(g)
    add_normalizer_flags(g)
    add_probe_answers_flag(g, removes=filtering)
    g = p.add_argument_group("acting on matches (default: drop the document)")
    add_redact_flags(g)
    g = p.add_argument_group("near duplicates (beyond the rule, reported apart)")
    g.add_argument("--near-dup", action="store_true",
                   help="also run the near-duplicate pass: items found after edits (words swapped, numbers "
                        "changed), by a MinHash estimate then a measured shingle containment; listed apart "
                        "(near_duplicate_ids), and filter removes their documents too, counted apart. The GPT-4 "
                        "rule's figures do not change")
    g.add_argument("--near-dup-threshold", type=float, metavar="X",
                   help=f"measured containment (share of a question's shingles in a window of a document) a near "
                        f"duplicate needs, in (0, 1] (default: {NEAR_DUP_THRESHOLD})")
    g = p.add_argument_group("running")
    add_num_proc_flag(g, "a large file is read in parts, one per process, with the report and output those "
                         "of one process")
    add_engine_flags(g)
    g.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="malformed rows: stop with an error (default) or skip, count and report them")
    add_max_doc_bytes_flag(g)
    g.add_argument("--no-progress", action="store_true", help="no progress bars")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``check``, ``filter`` and ``benchmarks`` to the top-level subparsers."""
    p = sub.add_parser("check", help="flag benchmark items found in a corpus; write the report",
                       description="Flag the benchmark items found in a training corpus and write the report.",
                       epilog=benchmarks_epilog())
    _add_scan_flags(p)
    p = sub.add_parser("filter", help="write the corpus without its contaminated rows",
                       description="Write the corpus without the rows that contain a probe, in the input's "
                                   "format, rows unchanged and in order (or, with --action redact, with the matched "
                                   "lines cut); and the report.",
                       epilog=benchmarks_epilog())
    _add_scan_flags(p, filtering=True)
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="output file (one input file) or folder (several files or a folder)")
    p = sub.add_parser("benchmarks", help="list the known benchmarks and their fields",
                       description="List the benchmark registry, one line each: name, question, answer and id "
                                   "fields, hub copy, published format. Given names, describe those benchmarks "
                                   "in full.")
    p.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to describe in full")


def _config(args: argparse.Namespace) -> DecontamConfig:
    return make_config(
        DecontamConfig(),
        text_field=args.text_field or "text",
        id_field=args.id_field or "id",
        seed=args.seed,
        probes=args.probes,
        probe_length=args.probe_length,
        min_question_chars=args.min_question_chars,
        lowercase=args.lowercase,
        nfkc=args.nfkc,
        unescape=args.unescape,
        num_proc=args.num_proc,
        engine=args.engine,
        ray_address=args.ray_address,
        on_error=args.on_error,
        max_doc_bytes=args.max_doc_bytes,
        probe_answers=args.probe_answers,
        action=args.action,
        redact_context=args.redact_context,
        redact_min_chars=args.redact_min_chars,
        redact_max_pieces=args.redact_max_pieces,
        near_dup=args.near_dup,
        near_dup_threshold=args.near_dup_threshold,
        method=args.method,
    )


def _hub_label(spec: BenchmarkSpec) -> str:
    """The hub copy in a few words: ``path[/config]:split``, several configurations counted, not listed."""
    if isinstance(spec.hub_config, tuple):
        return f"{spec.hub_path}/<{len(spec.hub_config)} configs>:{spec.hub_split}"
    return spec.hub_source or "-"


def _field(name: str | None, missing: str = "-") -> str:
    """A field name for the listing, quoted when it holds a space (GPQA's ``'Record ID'``)."""
    return missing if name is None else repr(name) if " " in name else name


def _list_benchmarks() -> int:
    """One aligned line per registry benchmark, the name first."""
    rows = [(s.name, f"question={_field(s.question_field)}", f"answer={_field(s.answer_field)}",
             f"id={_field(s.id_field, '<row>')}", f"hub={_hub_label(s)}",
             f"format={s.published.split(' (')[0].split(':')[0]}")
            for s in (REGISTRY[name] for name in sorted(REGISTRY))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def _describe_benchmarks(names: list[str]) -> int:
    """Everything the registry says about each named benchmark."""
    for k, name in enumerate(names):
        spec = REGISTRY.get(name) or REGISTRY.get(name.lower())
        if spec is None:
            raise BenchmarkNotFoundError(unknown_name_message(name))
        hub_fields = [f"{role} field {value}" for role, value in (
            ("question", spec.hub_question_field), ("id", spec.hub_id_field), ("answer", spec.hub_answer_field))
            if value]
        lines = [
            ("question field", spec.question_field),
            ("answer field", spec.answer_field or "- (the published files hold no answer)"),
            ("item id", spec.id_field or "row number (in a folder: <file>/<row>)"),
            ("published", spec.published),
            ("items at", spec.json_items),
            ("CSV columns", ", ".join(spec.csv_columns) + " (when the file has no header row)"
             if spec.csv_columns else None),
            ("hub", (spec.hub_source or "-") + (f" ({'; '.join(hub_fields)})" if hub_fields else "")),
            ("local file", local_hint(spec.name)),
        ]
        print(("\n" if k else "") + f"{spec.name}: {spec.description}")
        for label, value in lines:
            if value is not None:
                print(f"  {label:<15} {value}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code (errors propagate to :func:`decontam.cli.main`)."""
    if args.command == "benchmarks":
        return _describe_benchmarks(args.names) if args.names else _list_benchmarks()
    cfg = _config(args)
    check_output_paths(args)  # checked first: the outputs must not be written without the report
    inputs = [*args.corpus, *spec_paths(args.benchmark)]
    outputs = [("--report", args.report), ("--markdown", args.markdown)]
    guard_outputs(args, ([("-o", args.output)] if args.command == "filter" else []) + outputs, inputs)
    if args.id_field is not None:
        require_id_field(expand_corpus(args.corpus, on_error="skip", skipped=[]), args.id_field, "--id-field")
    benchmarks = load_benchmarks(args)
    require_probes(benchmarks, cfg)  # (a run that would check nothing fails before reading the corpus)
    progress = False if args.no_progress else None
    if args.command == "check":
        report = check([Path(c) for c in args.corpus], benchmarks, cfg, progress=progress)
        write_outputs(report, args, inputs)
        return 0
    report = filter_files(args.corpus, benchmarks, args.output, cfg, overwrite=args.overwrite,
                          report_path=args.report, markdown_path=args.markdown, progress=progress)
    sys.stdout.write(report.to_markdown())
    print_warnings(report)
    return 0
