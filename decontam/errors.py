"""Errors raised by decontam.

The tree::

    DecontamError
    ├── ConfigError (ValueError)          an option or argument is invalid
    │   ├── OutputExistsError             an output exists and replacing it was not asked for (--overwrite)
    │   └── PathConflictError             an output would land on or inside an input, or hold one
    ├── OutputBusyError                   another run is writing the same output
    ├── InputError (ValueError)           a corpus or benchmark file is malformed (names file, line, field)
    ├── BenchmarkNotFoundError (KeyError) an unknown benchmark name, or a hub dataset that cannot be reached
    ├── IndexMismatchError                an index built with other settings, or a corrupted/newer index file
    ├── EngineError                       the engine cannot run: a Ray cluster that cannot be reached
    └── MissingDependencyError (ImportError)  an optional package is not installed

Contamination itself is never an error: it is a result, recorded in a :class:`~decontam.report.Report`.
The second base class keeps ``except ValueError`` (and friends) working for callers that do not know decontam.
"""

from __future__ import annotations


class DecontamError(Exception):
    """Base class of every error decontam raises on purpose."""


class ConfigError(DecontamError, ValueError):
    """An option or argument has an invalid value; the message names it and the fix."""


class OutputExistsError(ConfigError):
    """An output path exists and replacing it was not asked for (``--overwrite``, ``overwrite=True``)."""


class PathConflictError(ConfigError):
    """An output path is an input, lies inside an input folder, or holds an input: refused even with
    ``--overwrite``, since writing it would destroy the input."""


class OutputBusyError(DecontamError):
    """Another decontam run holds the lock of an output path (the message names the process and the lock)."""


class InputError(DecontamError, ValueError):
    """A corpus or benchmark input is malformed.

    Args:
        message: What is wrong and what to do about it.
        path: The file the problem is in, if any.
        line: The 1-based line (JSONL/CSV) or row (Parquet/datasets) number, if known.
        field: The field (column) concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)

    def moved(self, lines: int) -> InputError:
        """This error, its line moved by ``lines``: an error in a part of a file, whose lines count from the
        part's start, named by its line in the whole file.

        Example:
            >>> str(InputError("bad JSON", path="c.jsonl", line=3).moved(10))
            'c.jsonl, line 13: bad JSON'
        """
        if self.line is None or not lines:
            return self
        return InputError(self.reason, path=self.path, line=self.line + lines, field=self.field)


class BenchmarkNotFoundError(DecontamError, KeyError):
    """An unknown benchmark name, or a benchmark that cannot be loaded from where it was asked for."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class IndexMismatchError(DecontamError):
    """An index does not fit the request: other settings, a newer format, or a damaged file."""


class EngineError(DecontamError):
    """The engine asked for cannot run the scan (a Ray cluster that cannot be reached or joined); the message
    names the address and what to do."""


class MissingDependencyError(DecontamError, ImportError):
    """An optional package is needed; the message gives the install command."""
