"""Command line: ``decontam check`` and ``decontam filter`` (arguments -> config -> public API).

Exit codes: 0 success, 2 bad usage (unknown option, invalid value), 1 failure (bad input, unreadable file,
unknown benchmark...). Progress bars go to stderr; the summary table goes to stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .benchmarks import REGISTRY, Benchmark, load_benchmark
from .cli_report import COMMANDS as REPORT_COMMANDS
from .cli_report import add_commands as add_report_commands
from .cli_report import run_command as run_report_command
from .cli_index import COMMANDS as INDEX_COMMANDS
from .cli_index import add_commands as add_index_commands
from .cli_index import run_command as run_index_command
from .errors import ConfigError, DecontamError
from .config import DecontamConfig, make_config
from .filter import check, filter_files
from .report import Report
from .version import __version__

__all__ = ["main"]

_EPILOG = """\
benchmarks (-b): NAME loads a known benchmark from the Hugging Face hub (needs network);
NAME=PATH reads a local file or folder (.jsonl, .jsonl.gz, .json, .csv, .parquet) with the known fields of NAME,
or, for a name not in the registry, with --question-field. Known: {names}.
"""


def _scoped(values: Sequence[str] | None, flag: str) -> tuple[str | None, dict[str, str]]:
    """``FIELD`` (all benchmarks) or ``NAME=FIELD`` (one) -> (default, per-name)."""
    default: str | None = None
    per: dict[str, str] = {}
    for v in values or []:
        if "=" in v:
            name, field = v.split("=", 1)
            if not name or not field:
                raise ConfigError(f"{flag} takes FIELD or NAME=FIELD, got {v!r}")
            per[name] = field
        else:
            default = v
    return default, per


def _load_benchmarks(args: argparse.Namespace) -> list[Benchmark]:
    q_default, q_per = _scoped(args.question_field, "--question-field")
    i_default, i_per = _scoped(args.item_id_field, "--item-id-field")
    out: list[Benchmark] = []
    for spec in args.benchmark:
        name, _, path = spec.partition("=")
        if not name or (_ and not path):
            raise ConfigError(f"-b takes NAME or NAME=PATH, got {spec!r}")
        known = name in REGISTRY or name.lower() in REGISTRY
        qfield = q_per.get(name) or (None if known else q_default)
        ifield = i_per.get(name) or (None if known else i_default)
        out.append(load_benchmark(name, path or None, question_field=qfield, id_field=ifield))
    return out


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", nargs="+", metavar="CORPUS",
                   help="training corpus: .jsonl, .jsonl.gz, .parquet files or folders of them")
    p.add_argument("-b", "--benchmark", action="append", required=True, metavar="NAME[=PATH]",
                   help="benchmark to check (repeatable): NAME (hub) or NAME=PATH (local file or folder)")
    p.add_argument("--report", metavar="REPORT.json", help="write the JSON report here (atomically)")
    p.add_argument("--markdown", metavar="REPORT.md", help="also write the Markdown summary here")
    g = p.add_argument_group("fields")
    g.add_argument("--text-field", default="text", help="corpus field holding the text (default: text)")
    g.add_argument("--id-field", default="id",
                   help="corpus field holding a document id (default: id; rows without it are named by their "
                        "0-based row number in the corpus)")
    g.add_argument("--question-field", action="append", metavar="[NAME=]FIELD",
                   help="question field of a custom benchmark (FIELD for all custom ones, NAME=FIELD for one)")
    g.add_argument("--item-id-field", action="append", metavar="[NAME=]FIELD",
                   help="item id field of a custom benchmark (default: the row number)")
    g = p.add_argument_group("method (defaults: the GPT-4 rule)")
    g.add_argument("--seed", type=int, default=0, help="probe sampling seed (default: 0)")
    g.add_argument("--probes", default="3", metavar="N|all",
                   help="probes per item, or 'all' for every window of the question (default: 3)")
    g.add_argument("--probe-length", type=int, default=50, help="probe length in characters (default: 50)")
    g.add_argument("--lowercase", action="store_true", help="lowercase before matching (departure)")
    g.add_argument("--nfkc", action="store_true", help="Unicode NFKC folding before matching (departure)")
    g.add_argument("--unescape", action="store_true",
                   help=r"undo backslash escapes (\n, \", \uXXXX) and HTML entities first (departure)")
    g = p.add_argument_group("running")
    g.add_argument("--num-proc", type=int, default=1, help="worker processes, one file each (default: 1)")
    g.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="malformed rows: stop with an error (default) or skip, count and report them")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="decontam",
        description="Find and remove benchmark contamination in training data (GPT-4 substring method).",
        epilog=_EPILOG.format(names=", ".join(sorted(REGISTRY))),
    )
    parser.add_argument("--version", action="version", version=f"decontam {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("check", help="flag benchmark items found in a corpus; write the report",
                       description="Flag the benchmark items found in a training corpus and write the report.",
                       epilog=_EPILOG.format(names=", ".join(sorted(REGISTRY))))
    _add_common(p)
    p = sub.add_parser("filter", help="write the corpus without its contaminated rows",
                       description="Write the corpus without the rows that contain a probe, in the input's "
                                   "format, rows unchanged and in order; and the report.",
                       epilog=_EPILOG.format(names=", ".join(sorted(REGISTRY))))
    _add_common(p)
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="output file (one input file) or folder (several files or a folder)")
    sub.add_parser("benchmarks", help="list the known benchmarks and their fields",
                   description="List the benchmark registry: names, question and id fields, hub paths.")
    add_report_commands(sub)  # report, rescore, verify, merge (decontam.cli_report)
    add_index_commands(sub)  # index build|add|merge|check|portrait|info (decontam.cli_index)
    return parser


def _config(args: argparse.Namespace) -> DecontamConfig:
    return make_config(
        DecontamConfig(),
        text_field=args.text_field,
        id_field=args.id_field,
        seed=args.seed,
        probes=args.probes,
        probe_length=args.probe_length,
        lowercase=args.lowercase,
        nfkc=args.nfkc,
        unescape=args.unescape,
        num_proc=args.num_proc,
        on_error=args.on_error,
    )


def _write_outputs(report: Report, args: argparse.Namespace) -> None:
    if args.report:
        report.save(args.report)
    if args.markdown:
        from .atomic import write_atomic

        write_atomic(args.markdown, report.to_markdown())
    sys.stdout.write(report.to_markdown())


def _run(args: argparse.Namespace) -> int:
    if args.command in REPORT_COMMANDS:
        return run_report_command(args)
    if args.command in INDEX_COMMANDS:
        return run_index_command(args)
    if args.command == "benchmarks":
        for name in sorted(REGISTRY):
            s = REGISTRY[name]
            hub = f"{s.hub_path}" + (f"/{s.hub_config}" if s.hub_config else "") + f":{s.hub_split}"
            print(f"{name:12} question={s.question_field:14} id={s.id_field or '<row>':8} hub={hub}")
        return 0
    cfg = _config(args)
    for flag, dest in (("--report", args.report), ("--markdown", args.markdown)):
        if dest and Path(dest).is_dir():  # checked first: the outputs must not be written without the report
            raise ConfigError(f"{flag} {dest} is a folder; give a file path")
    benchmarks = _load_benchmarks(args)
    progress = False if args.no_progress else None
    if args.command == "check":
        report = check([Path(c) for c in args.corpus], benchmarks, cfg, progress=progress)
    else:
        report = filter_files(args.corpus, benchmarks, args.output, cfg, progress=progress)
    _write_outputs(report, args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        parser.exit(2, f"decontam: error: {exc}\n")
    except (DecontamError, OSError) as exc:  # OSError: unreadable input, unwritable output, full disk...
        print(f"decontam: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("decontam: interrupted; no output was written", file=sys.stderr)
        return 130
    return 0  # pragma: no cover


def _entry() -> Any:  # pragma: no cover - console script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
