"""The ``decontam`` command line (arguments -> config -> public API); see :mod:`decontam.cli.app`."""

from .app import entry, main

__all__ = ["entry", "main"]
