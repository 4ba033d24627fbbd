"""The ``decontam`` command line: the top-level parser built from the command groups, and the exit codes.

Exit codes: 0 success, 2 bad usage (unknown option, invalid value), 1 failure (bad input, unreadable file,
unknown benchmark...), 130 interrupted. Progress bars go to stderr; the summary table goes to stdout.

Each group module (:mod:`.scan`, :mod:`.reports`, :mod:`.index`) names its ``COMMANDS``, adds them with
``add_commands(subparsers)`` and runs one with ``run(args)``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import ConfigError, DecontamError
from ..version import __version__
from . import index, reports, scan
from .common import benchmarks_epilog

__all__ = ["entry", "main"]

_GROUPS = (scan, reports, index)  # in the order ``decontam --help`` lists their commands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="decontam",
        description="Find and remove benchmark contamination in training data (GPT-4 substring method).",
        epilog=benchmarks_epilog(),
    )
    parser.add_argument("--version", action="version", version=f"decontam {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _GROUPS:
        group.add_commands(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    group = next(g for g in _GROUPS if args.command in g.COMMANDS)
    return group.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    Bad usage exits through the parser (``SystemExit(2)``, message on stderr); ``--help`` and ``--version``
    exit with 0.
    """
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


def entry() -> NoReturn:  # pragma: no cover - console script
    """The ``decontam`` console script: :func:`main` on ``sys.argv``, then exit with its code."""
    sys.exit(main())
