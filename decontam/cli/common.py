"""What several command groups share: the benchmark flags and their loading, the probe and normalizer flags,
the ``--report``/``--markdown`` outputs with the summary on stdout, and the checks on output paths (never an
existing file without ``--overwrite``, never an input).

Each group adds the flags it needs, in its own order and groups (the order is what ``--help`` shows).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..atomic import Commit
from ..benchmarks import REGISTRY, Benchmark, load_benchmark
from ..config import MAX_DOC_BYTES
from ..errors import ConfigError
from ..guard import OutputLock, check_file_outputs, check_outputs

if TYPE_CHECKING:
    from ..report import Report

__all__ = [
    "add_benchmark_field_flags",
    "add_benchmark_flag",
    "add_engine_flags",
    "add_max_doc_bytes_flag",
    "add_normalizer_flags",
    "add_output_flags",
    "add_overwrite_flag",
    "add_probe_answers_flag",
    "add_probe_flags",
    "add_redact_flags",
    "benchmarks_epilog",
    "byte_size",
    "check_output_paths",
    "guard_outputs",
    "load_benchmarks",
    "print_warnings",
    "spec_paths",
    "write_file",
    "write_outputs",
]

_EPILOG = """\
benchmarks (-b): NAME loads a known benchmark from the Hugging Face hub (needs network);
NAME=PATH reads a local file or folder (.jsonl, .jsonl.gz, .json, .csv, .parquet) with the known fields of NAME,
or, for a name not in the registry, with --question-field. Known: {names}.
"""


def benchmarks_epilog() -> str:
    """The help epilog that explains ``-b NAME[=PATH]`` and lists the known benchmarks."""
    return _EPILOG.format(names=", ".join(sorted(REGISTRY)))


def add_benchmark_flag(p: argparse._ActionsContainer) -> None:
    """``-b/--benchmark NAME[=PATH]`` (required, repeatable)."""
    p.add_argument("-b", "--benchmark", action="append", required=True, metavar="NAME[=PATH]",
                   help="benchmark to check (repeatable): NAME (hub) or NAME=PATH (local file or folder)")


def add_output_flags(p: argparse._ActionsContainer) -> None:
    """``--report``, ``--markdown`` (see :func:`check_output_paths` and :func:`write_outputs`) and
    ``--overwrite``."""
    p.add_argument("--report", metavar="REPORT.json", help="write the JSON report here (atomically)")
    p.add_argument("--markdown", metavar="REPORT.md", help="also write the Markdown summary here")
    add_overwrite_flag(p)


def add_overwrite_flag(p: argparse._ActionsContainer) -> None:
    """``--overwrite``: replace outputs that exist (an output that is or touches an input is always refused)."""
    p.add_argument("--overwrite", action="store_true",
                   help="replace output files or folders that exist (default: refuse them, before any work); "
                        "an output that is, lies inside or holds an input is refused even so")


def add_max_doc_bytes_flag(p: argparse._ActionsContainer) -> None:
    """``--max-doc-bytes SIZE``: the largest document read (memory stays bounded by it)."""
    p.add_argument("--max-doc-bytes", type=byte_size, default=MAX_DOC_BYTES, metavar="SIZE",
                   help="largest document (a JSONL line) read, in bytes or with K, M, G (default: 256M); a larger "
                        "one is an error naming its file and line")


def add_num_proc_flag(p: argparse._ActionsContainer, what: str) -> None:
    """``--num-proc N|auto``: worker processes (``auto``: one per available core)."""
    p.add_argument("--num-proc", type=num_proc, default=1, metavar="N|auto",
                   help=f"worker processes, or auto for one per available core (default: 1); {what}")


def add_engine_flags(p: argparse._ActionsContainer) -> None:
    """``--engine {local,ray}`` and ``--ray-address ADDRESS``: where the work runs (never what it finds)."""
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where the scan runs: local (this process, or --num-proc processes; default) or ray (Ray "
                        "Data: a local Ray, or the cluster at --ray-address; pip install 'decontam[ray]'); the "
                        "results are the same")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="with --engine ray: the Ray cluster's head node, HOST:PORT (6379 by default), "
                        "ray://HOST:PORT or auto (default: start a local Ray on this machine's cores)")


def num_proc(text: str) -> int | str:
    """``"4"`` -> 4, ``"auto"`` -> ``"auto"`` (resolved by the config); anything else is a usage error."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of processes or auto, got {text!r}")
    return n


def byte_size(text: str) -> int:
    """``"256M"`` -> 268435456 (K, M, G: powers of 1024; a plain number is bytes)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        return int(t[:-1]) * units[t[-1]] if t and t[-1] in units else int(t)
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 256M, 1G or a number of bytes)") from None


def spec_paths(specs: Sequence[str] | None) -> list[str]:
    """The local paths of ``-b NAME=PATH`` specs (inputs no output may touch)."""
    return [spec.partition("=")[2] for spec in specs or [] if spec.partition("=")[2]]


def guard_outputs(args: argparse.Namespace, outputs: Sequence[tuple[str, str | None]],
                  inputs: Sequence[str]) -> None:
    """Refuse, before any work, outputs that exist (unless ``--overwrite``) or touch an input (always).

    Raises:
        OutputExistsError: naming the flag and the path (exit code 2).
        PathConflictError: naming the flag, the path and the input (exit code 2).
    """
    check_outputs(outputs, inputs, overwrite=bool(getattr(args, "overwrite", False)))


def add_benchmark_field_flags(p: argparse._ActionsContainer) -> None:
    """``--question-field``, ``--item-id-field`` and ``--answer-field`` of custom benchmarks (read by
    :func:`load_benchmarks`)."""
    p.add_argument("--question-field", action="append", metavar="[NAME=]FIELD",
                   help="question field of a custom benchmark (FIELD for all custom ones, NAME=FIELD for one)")
    p.add_argument("--item-id-field", action="append", metavar="[NAME=]FIELD",
                   help="item id field of a custom benchmark (default: the row number)")
    p.add_argument("--answer-field", action="append", metavar="[NAME=]FIELD",
                   help="answer or solution field of a custom benchmark, probed with --probe-answers (FIELD for "
                        "all custom ones, NAME=FIELD for one; known benchmarks have theirs: decontam benchmarks)")


def add_probe_answers_flag(p: argparse._ActionsContainer, removes: bool) -> None:
    """``--probe-answers``: probes from each item's answer too, reported apart (``removes``: ``filter``)."""
    extra = "; the rows holding one are removed too, counted apart" if removes else ""
    p.add_argument("--probe-answers", action="store_true",
                   help="also probe each item's answer or solution (its benchmark's answer field, or "
                        "--answer-field); items whose answer is found are listed apart as answer_leak_ids, the "
                        f"question's figures unchanged (departure, reported apart){extra}; answers shorter than "
                        "the probe length are not probed")



def _probes(text: str) -> int | str:
    """``--probes``: ``all``, or a whole number (the API then checks it is positive)."""
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer or 'all', got {text!r}") from None

def add_probe_flags(p: argparse._ActionsContainer) -> None:
    """``--seed``, ``--probes`` and ``--probe-length`` (the sampling of the GPT-4 rule)."""
    p.add_argument("--seed", type=int, default=0, help="probe sampling seed (default: 0)")
    p.add_argument("--probes", default=3, type=_probes, metavar="N|all",
                   help="probes per item, or 'all' for every window of the question (default: 3)")
    p.add_argument("--probe-length", type=int, default=50, help="probe length in characters (default: 50)")
    p.add_argument("--min-question-chars", type=int, default=0, metavar="N",
                   help="leave out items whose normalized question is shorter than N characters, counted and "
                        "listed as too short (departure; default 0: short questions are used whole, as the GPT-4 "
                        "rule says)")


def add_redact_flags(p: argparse._ActionsContainer) -> None:
    """``--action drop|redact`` and the ``--redact-*`` options (defaults in :class:`decontam.config.RedactConfig`)."""
    p.add_argument("--action", choices=("drop", "redact"), default=None,
                   help="what filter does with a document holding a probe: drop it (default), or redact: cut every "
                        "occurrence of every probe, widened to whole lines, and drop the document only if too little "
                        "is left (check reports what filter would do)")
    p.add_argument("--redact-context", type=int, default=None, metavar="N",
                   help="characters cut on each side of a matched span before widening to lines (default: 200)")
    p.add_argument("--redact-min-chars", type=int, default=None, metavar="N",
                   help="drop a redacted document (a field, a message) left with fewer characters (default: 200)")
    p.add_argument("--redact-max-pieces", type=int, default=None, metavar="N",
                   help="drop a redacted document (a field, a message) left in more pieces (default: 10)")


def add_normalizer_flags(p: argparse._ActionsContainer) -> None:
    """``--lowercase``, ``--nfkc`` and ``--unescape``: the departures from the rule's normalizer."""
    p.add_argument("--lowercase", action="store_true", help="lowercase before matching (departure)")
    p.add_argument("--nfkc", action="store_true", help="Unicode NFKC folding before matching (departure)")
    p.add_argument("--unescape", action="store_true",
                   help=r"undo backslash escapes (\n, \", \uXXXX) and HTML entities first (departure)")


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


def load_benchmarks(args: argparse.Namespace) -> list[Benchmark]:
    """Load the ``-b`` benchmarks, with the fields given by ``--question-field``/``--item-id-field`` (and, with
    ``--probe-answers``, their answers, from ``--answer-field`` or the registry's field).

    A bare FIELD applies to the benchmarks not in the registry (the known ones have their own fields);
    NAME=FIELD applies to benchmark NAME.

    Raises:
        ConfigError: a malformed ``-b`` or field flag.
        DecontamError: a benchmark that cannot be loaded (see :func:`decontam.benchmarks.load_benchmark`).
    """
    q_default, q_per = _scoped(args.question_field, "--question-field")
    i_default, i_per = _scoped(args.item_id_field, "--item-id-field")
    a_default, a_per = _scoped(getattr(args, "answer_field", None), "--answer-field")
    answers = bool(getattr(args, "probe_answers", False))
    if (a_default or a_per) and not answers:
        raise ConfigError("--answer-field is read only to probe answers: add --probe-answers")
    out: list[Benchmark] = []
    for spec in args.benchmark:
        name, _, path = spec.partition("=")
        if not name or (_ and not path):
            raise ConfigError(f"-b takes NAME or NAME=PATH, got {spec!r}")
        known = name in REGISTRY or name.lower() in REGISTRY
        qfield = q_per.get(name) or (None if known else q_default)
        ifield = i_per.get(name) or (None if known else i_default)
        afield = a_per.get(name) or (None if known else a_default)
        out.append(load_benchmark(name, path or None, question_field=qfield, id_field=ifield, answer_field=afield,
                                  answers=answers))
    return out


def check_output_paths(args: argparse.Namespace) -> None:
    """Refuse ``--report``/``--markdown`` paths that are folders, before any work (so that no output is
    written without the report).

    Raises:
        ConfigError: naming the flag and the folder.
    """
    check_file_outputs([("--report", args.report or None), ("--markdown", args.markdown or None)])


def write_outputs(report: Report, args: argparse.Namespace, inputs: Sequence[str]) -> None:
    """Write ``--report`` (JSON) and ``--markdown`` if given, together, then the Markdown summary to stdout.

    The paths are checked again under a lock (see :func:`guard_outputs`), so that a run that started
    meanwhile cannot have its report replaced.
    """
    dests = [("--report", args.report), ("--markdown", args.markdown)]
    with OutputLock(path for _, path in dests), Commit() as commit:
        guard_outputs(args, dests, inputs)
        if args.report:
            commit.stage_bytes(args.report, report.to_json())
        if args.markdown:
            commit.stage_bytes(args.markdown, report.to_markdown())
        commit.apply()
    sys.stdout.write(report.to_markdown())
    print_warnings(report)


def print_warnings(report: Report) -> None:
    """Each of the report's warnings as a ``decontam: warning:`` line on stderr, after the summary."""
    for w in report.data.get("warnings", []):
        print(f"decontam: warning: {w['message']}", file=sys.stderr)


def write_file(args: argparse.Namespace, flag: str, path: str, data: bytes | str, inputs: Sequence[str]) -> None:
    """Write one output file atomically, under a lock, after checking it again (see :func:`guard_outputs`)."""
    with OutputLock([path]), Commit() as commit:
        guard_outputs(args, [(flag, path)], inputs)
        commit.stage_bytes(path, data)
        commit.apply()
