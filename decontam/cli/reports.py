"""Command line for reports: ``decontam report``, ``rescore``, ``verify`` and ``merge``.

Wired into :mod:`decontam.cli.app` (same exit codes: 0 success, 2 bad usage, 1 failure; ``verify`` exits 1
when the report does not reproduce). The renderers, ``rescore`` and ``verify`` load when their command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from ..guard import check_file_outputs
from .common import add_overwrite_flag, guard_outputs, print_warnings, spec_paths, write_file

__all__ = ["COMMANDS", "add_commands", "run"]

COMMANDS = ("report", "rescore", "verify", "merge")
_FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".png": "png", ".svg": "svg"}


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the report subcommands to the ``decontam`` subparsers."""
    p = sub.add_parser("report", help="render a report: Markdown contamination card, HTML page, PNG figure",
                       description="Render a JSON report as a Markdown contamination card (for a model card or a "
                                   "paper), a self-contained HTML page (chart, evidence, item table; works "
                                   "offline) or a PNG/SVG figure of contamination rates (needs matplotlib).")
    p.add_argument("report", metavar="REPORT.json")
    p.add_argument("--format", choices=("md", "html", "png", "svg"),
                   help="output format (default: from the -o suffix, else md)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (atomically); default: stdout (md, html)")
    p.add_argument("--scores", action="append", metavar="RESCORE.json",
                   help="add clean-subset scores written by `decontam rescore --json` (repeatable)")
    p.add_argument("--title", help="page or figure title")
    add_overwrite_flag(p)

    p = sub.add_parser("rescore", help="score on all items, the clean subset and the contaminated subset",
                       description="Join per-item evaluation results to a report and give the score on all items, "
                                   "on the clean subset and on the contaminated subset, with 95% intervals and a "
                                   "test of contaminated vs clean. Reads lm-evaluation-harness --log_samples files "
                                   "(one row per filter when a task has several), lighteval details (Parquet), "
                                   "EvalPlus eval_results.json, HumanEval *_results.jsonl, and JSONL/JSON/CSV/"
                                   "Parquet with an id and a score. "
                                   "Intervals: Wilson score (one 0/1 outcome per item; Newcombe for the "
                                   "difference) or, for other scores, bootstrap percentile (seeded by --seed), "
                                   "which stays within the range of the scores; the output names the one used.")
    p.add_argument("report", metavar="REPORT.json")
    p.add_argument("--results", action="append", required=True, metavar="RESULTS",
                   help="results file (repeatable: e.g. one lm-eval samples file per MMLU subject)")
    p.add_argument("--benchmark", metavar="NAME", help="benchmark of the report (default: its only one)")
    ids = p.add_mutually_exclusive_group()
    ids.add_argument("--id-field", metavar="FIELD", help="field holding the item id (dotted path; default: auto)")
    ids.add_argument("--id-template", metavar="TEMPLATE",
                   help="item id built from the record, e.g. 'anatomy_test/{doc_id}' or, for lighteval, "
                        "'anatomy_test/{doc[id]}' ({task}: the lm-eval or lighteval task)")
    p.add_argument("--score-field", metavar="FIELD",
                   help="field holding the score (default: lm-eval's or lighteval's first metric, EvalPlus's "
                        "base_status ('plus' for HumanEval+/MBPP+), HumanEval's passed, or score...)")
    p.add_argument("--filter", dest="filter_name", metavar="NAME",
                   help="lm-eval filter to use when there are several (default: one row per filter)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the bootstrap intervals and the permutation test (scores that are not 0/1; "
                        "default: 0)")
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON here")
    p.add_argument("--format", choices=("table", "json"), default="table", help="stdout format (default: table)")
    add_overwrite_flag(p)

    p = sub.add_parser("verify", help="re-run the check a report records; exit 0 if it reproduces exactly",
                       description="Re-run the check recorded in a report (same options, seed and benchmarks, "
                                   "re-loaded from their recorded sources and checked against their fingerprints) "
                                   "over CORPUS, and compare the result with the report byte for byte. Exit 0 when "
                                   "it reproduces, 1 otherwise with what changed.")
    p.add_argument("report", metavar="REPORT.json")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="the corpus files or folders, as checked")
    p.add_argument("-b", "--benchmark", action="append", metavar="NAME=PATH",
                   help="load benchmark NAME from PATH instead of its recorded source (repeatable)")
    p.add_argument("--rerun", metavar="FILE", help="write the re-run report here (to diff it yourself)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_overwrite_flag(p)

    p = sub.add_parser("merge", help="merge shard reports (in corpus order) into the report of the whole corpus",
                       description="Merge the reports of a corpus's shards, given in corpus order, into the "
                                   "report one check over all of them would have written (map-then-merge).")
    p.add_argument("reports", nargs="+", metavar="SHARD.json")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.json", help="merged report (atomically)")
    add_overwrite_flag(p)


def _load(path: str) -> dict[str, Any]:
    """A report read and held to its schema, before any work: one edited by hand (a figure out of its range, a
    field of another type) is said as such, not rendered or re-scored as it is."""
    from ..report import Report, report_schema
    from ..schema_check import schema_problem

    data = Report.load(path).data
    problem = schema_problem(data, report_schema())
    if problem is not None:
        raise InputError(f"not a report as decontam writes it ({problem}); was it edited? Write it again with the "
                         "command that made it", path=path)
    return data


def _load_json(path: str, what: str) -> Any:
    """A JSON file, or an :class:`InputError` naming it (malformed, not UTF-8, or nested beyond reason)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (ValueError, RecursionError) as exc:  # (UnicodeDecodeError is a ValueError)
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"not a JSON {what}: {reason}", path=path) from None


def _load_scores(path: str, report: dict[str, Any]) -> dict[str, Any]:
    """A ``rescore --json`` result, held to its schema and to the report it is shown with: its benchmark must be
    one of the report's, and its corpus and benchmark fingerprints the report's (scores of another check)."""
    from ..rescore import rescore_schema
    from ..schema_check import schema_problem

    data = _load_json(path, "rescore result")
    if not isinstance(data, dict) or "benchmark" not in data:
        raise InputError("not a result of `decontam rescore --json` (a JSON object with a benchmark)", path=path)
    problem = schema_problem(data, rescore_schema())
    if problem is not None:
        raise InputError(f"not a result of `decontam rescore --json` as it writes it ({problem}); was it edited? "
                         "Write it again with decontam rescore", path=path)
    names = [b["name"] for b in report["benchmarks"]]
    if data["benchmark"] not in names:
        raise InputError(f"these are scores of benchmark {data['benchmark']!r}, which the report does not hold (it "
                         f"has: {', '.join(names)})", path=path)
    section = report["benchmarks"][names.index(data["benchmark"])]
    for what, theirs, ours in (("corpus", data.get("corpus_fingerprint"), report["corpus"]["fingerprint"]),
                               ("benchmark", data.get("benchmark_fingerprint"), section["fingerprint"])):
        if theirs is not None and theirs != ours:
            raise InputError(f"these scores were computed with another report: its {what} fingerprint is {theirs}, "
                             f"this report's {ours}; run decontam rescore on this report", path=path)
    return data


def _report(args: argparse.Namespace) -> int:
    from .. import render

    fmt = args.format or (_FORMATS.get(Path(args.output).suffix.lower()) if args.output else None) or "md"
    if fmt in ("png", "svg") and not args.output:
        raise ConfigError(f"--format {fmt} needs -o FILE")
    check_file_outputs([("-o", args.output)])
    inputs = [args.report, *(args.scores or [])]
    guard_outputs(args, [("-o", args.output)], inputs)
    data = _load(args.report)
    scores = [_load_scores(s, data) for s in args.scores or []]
    name = Path(args.report).name
    if fmt in ("png", "svg"):
        write_file(args, "-o", args.output, render.figure(data, title=args.title, fmt=fmt), inputs)
        return 0
    text = (render.to_card(data, name, scores) if fmt == "md"
            else render.to_html(data, name, title=args.title, scores=scores))
    if args.output:
        write_file(args, "-o", args.output, text, inputs)
    else:
        sys.stdout.write(text)
    return 0


def _rescore(args: argparse.Namespace) -> int:
    from ..rescore import rescore_by_filter, to_table
    from ..results import QuestionFinder, load_results_by_filter

    inputs = [args.report, *args.results]
    check_file_outputs([("--json", args.json)])  # (before the guard: a folder is no place for it, --overwrite or not)
    guard_outputs(args, [("--json", args.json)], inputs)
    data = _load(args.report)
    names = [b["name"] for b in data["benchmarks"]]
    name = args.benchmark
    if name is None:
        if len(names) != 1:
            raise ConfigError(f"the report has several benchmarks ({', '.join(names)}): pass --benchmark NAME")
        name = names[0]
    if name not in names:
        raise ConfigError(f"no benchmark {name!r} in the report (it has: {', '.join(names)})")
    section = data["benchmarks"][names.index(name)]
    results = load_results_by_filter(args.results, [it["id"] for it in section["items"]], id_field=args.id_field,
                                     id_template=args.id_template, score_field=args.score_field,
                                     filter_name=args.filter_name, questions=QuestionFinder.from_report(data, name),
                                     benchmark=name)
    result = rescore_by_filter(data, results, name, seed=args.seed)
    text = json.dumps(result, ensure_ascii=False, indent=1) + "\n"
    if args.json:
        write_file(args, "--json", args.json, text, inputs)
    sys.stdout.write(text if args.format == "json" else to_table(result))
    rows = result.get("by_filter") or [result]
    missing = max(r["missing_from_results"]["n"] for r in rows)
    extra = max(r["not_in_report"]["n"] for r in rows)
    if missing or extra:
        print(f"decontam: warning: {missing} report item(s) have no result and {extra} result(s) name no report "
              "item; they are not scored (listed above)", file=sys.stderr)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ..verify import verify_report

    inputs = [args.report, *args.corpus, *spec_paths(args.benchmark)]
    check_file_outputs([("--rerun", args.rerun)])
    guard_outputs(args, [("--rerun", args.rerun)], inputs)
    data = _load(args.report)
    overrides: dict[str, str] = {}
    for spec in args.benchmark or []:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"-b takes NAME=PATH, got {spec!r}")
        overrides[name] = path
    result = verify_report(data, args.corpus, overrides, progress=False if args.no_progress else None)
    if args.rerun and result.report is not None:
        from ..report import Report

        write_file(args, "--rerun", args.rerun, Report(result.report).to_json(), inputs)
    sys.stdout.write(result.summary())
    return 0 if result.reproduced else 1


def _merge(args: argparse.Namespace) -> int:
    from ..report import Report

    check_file_outputs([("-o", args.output)])
    guard_outputs(args, [("-o", args.output)], args.reports)
    merged = Report.merge([_load(p) for p in args.reports])
    write_file(args, "-o", args.output, merged.to_json(), args.reports)
    sys.stdout.write(merged.to_markdown())
    print_warnings(merged)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code (errors propagate to :func:`decontam.cli.main`).

    A report is read as decontam writes it, held to its schema first (:func:`_load`): one edited by hand (or by
    another tool) is said as such, its first departure from the schema, rather than as a bug in decontam.
    """
    return {"report": _report, "rescore": _rescore, "verify": _verify, "merge": _merge}[args.command](args)
