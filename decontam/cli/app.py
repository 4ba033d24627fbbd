"""The ``decontam`` command line: the top-level parser built from the command groups, and the exit codes.

Exit codes: 0 success, 2 bad usage (unknown option, invalid value), 1 failure (bad input, unreadable file,
unknown benchmark, full disk...), 130 interrupted. Progress bars go to stderr; the summary table goes to stdout.
Every failure is one line on stderr, never a traceback: an exception decontam did not expect (a bug) is one
``decontam: internal error:`` line asking for a report, its traceback shown only when ``DECONTAM_TRACEBACK=1``.

Ctrl-C stops a run at once (its worker processes too) and removes what it had begun to write; further Ctrl-Cs
are ignored while it does so, so that the cleanup cannot be cut short. Outputs are put in place together, so
an interrupted run leaves all of them or none, and says which.

Each group module (:mod:`.scan`, :mod:`.reports`, :mod:`.index`) names its ``COMMANDS``, adds them with
``add_commands(subparsers)`` and runs one with ``run(args)``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from ..atomic import placed
from ..errors import ConfigError, DecontamError
from ..version import __version__

__all__ = ["main"]

def _groups() -> tuple[Any, ...]:
    """The command group modules, in the order ``decontam --help`` lists their commands (imported here, inside
    :func:`main`, so that a Ctrl-C while they load is an interruption like any other, not a traceback)."""
    from . import index, reports, scan

    return (scan, reports, index)


def _parser() -> argparse.ArgumentParser:
    from .common import benchmarks_epilog

    parser = argparse.ArgumentParser(
        prog="decontam",
        description="Find and remove benchmark contamination in training data (GPT-4 substring method).",
        epilog=benchmarks_epilog(),
    )
    parser.add_argument("--version", action="version", version=f"decontam {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _groups():
        group.add_commands(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    group = next(g for g in _groups() if args.command in g.COMMANDS)
    return group.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    Bad usage exits through the parser (``SystemExit(2)``, message on stderr); ``--help`` and ``--version``
    exit with 0.
    """
    before = len(placed())
    previous = _stop_on_first_interrupt()
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        return _run(args)
    except ConfigError as exc:
        parser.exit(2, f"decontam: error: {exc}\n")
    except (DecontamError, OSError) as exc:  # OSError: unreadable input, unwritable output, full disk...
        written = placed()[before:]  # a failure after the commit: writing the summary to stdout, say
        after = f" (after its outputs were written: {', '.join(map(str, written))})" if written else ""
        print(f"decontam: error: {_describe(exc)}{after}", file=sys.stderr)
        _drop_broken_stdout()
        return 1
    except KeyboardInterrupt:
        written = placed()[before:]
        if written:
            print(f"decontam: interrupted after its outputs were written: {', '.join(map(str, written))}",
                  file=sys.stderr)
        else:
            print("decontam: interrupted; no output was written", file=sys.stderr)
        previous = None  # keep ignoring Ctrl-C while the process exits (its cleanup is done)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug, or memory exhausted: one line, never a traceback
        _report_unexpected(exc, placed()[before:])
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _report_unexpected(exc: Exception, written: Sequence[object]) -> None:
    """One line for an exception no part of decontam raises on purpose (what the run had begun to write was
    removed on the way out, as for any failure): out of memory says what to change; anything else is a bug,
    and says how to report it."""
    after = (f" (after its outputs were written: {', '.join(map(str, written))})" if written
             else "; no output was written")
    if isinstance(exc, MemoryError):
        print(f"decontam: error: out of memory{after}: lower --max-doc-bytes or --num-proc, or free memory",
              file=sys.stderr)
    else:
        what = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        print(f"decontam: internal error: {what}{after}. This is a bug in decontam, not a fault of your data or "
              "command: please report it with the command you ran and the traceback that DECONTAM_TRACEBACK=1 "
              "prints", file=sys.stderr)
    if os.environ.get("DECONTAM_TRACEBACK"):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    _drop_broken_stdout()


def _describe(exc: Exception) -> str:
    """One line for an error: its message; for a system error, without Python's ``[Errno N]`` prefix."""
    if isinstance(exc, DecontamError) or not isinstance(exc, OSError) or not exc.strerror:
        return " ".join(str(exc).split("\n"))
    where = "" if exc.filename is None else f": {exc.filename}"
    return f"{exc.strerror}{where}" + ("" if exc.filename2 is None else f" -> {exc.filename2}")


def _drop_broken_stdout() -> None:
    """If stdout cannot be written (a closed pipe, a full disk), send it to the null device, so that Python's
    own flush at exit does not print a second error."""
    try:
        sys.stdout.flush()
    except OSError:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)
        except (OSError, ValueError):  # pragma: no cover - no stdout at all
            pass


def _stop_on_first_interrupt() -> Any:
    """Make the first Ctrl-C raise KeyboardInterrupt and ignore the next ones (so that they cannot cut the
    cleanup short); returns the handler to restore, or None if Ctrl-C is not Python's default here (ignored
    by the caller, or not the main thread)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None

    def first(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, first)

