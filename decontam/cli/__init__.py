"""The ``decontam`` command line (arguments -> config -> public API); see :mod:`decontam.cli.app`.

Nothing is imported here before :func:`entry` starts: the console script imports this module first, and a
Ctrl-C while the command line's modules load must be an interruption like any other, not a traceback.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["entry", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit code
    (:func:`decontam.cli.app.main`)."""
    from .app import main as run

    return run(argv)


def entry() -> NoReturn:
    """The ``decontam`` console script and ``python -m decontam``: :func:`main` on ``sys.argv``, then exit with
    its code."""
    try:
        from .app import main as run
    except KeyboardInterrupt:
        print("decontam: interrupted; no output was written", file=sys.stderr)
        sys.exit(130)
    code = run()
    # The run is over and has said how it ended: a Ctrl-C while the interpreter shuts down (tens of milliseconds)
    # would only print a traceback or turn a finished run's exit code into 130.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
