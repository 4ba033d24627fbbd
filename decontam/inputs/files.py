"""Corpus files: which paths are corpus files (by suffix), expanding folders, and reading one file.

``.jsonl``, ``.jsonl.gz`` and ``.parquet`` files are read by :mod:`~decontam.inputs.jsonl` and
:mod:`~decontam.inputs.parquet`; a folder stands for every such file inside it, recursively, in order of
relative path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, InputError
from .batch import Batch, Rejected
from .jsonl import read_jsonl
from .parquet import read_parquet

__all__ = ["CorpusFile", "expand_corpus", "file_format", "read_file"]

_FORMATS = {".jsonl": "jsonl", ".jsonl.gz": "jsonl.gz", ".parquet": "parquet"}


def file_format(path: str | os.PathLike[str]) -> str | None:
    """The corpus format of a path by its suffix (``jsonl``, ``jsonl.gz``, ``parquet``), or None."""
    name = str(path).lower()
    for suffix in (".jsonl.gz", ".jsonl", ".parquet"):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    return None


@dataclass(frozen=True)
class CorpusFile:
    """One input file and the path its output takes, relative to the output folder."""

    path: Path
    relative: str
    format: str


def expand_corpus(paths: Sequence[str | os.PathLike[str]]) -> list[CorpusFile]:
    """Expand corpus arguments (files and folders) into files, in a stable order.

    Folders are searched recursively for ``.jsonl``, ``.jsonl.gz`` and ``.parquet`` files, sorted by
    relative path. Names starting with ``.`` are ignored.

    Raises:
        InputError: A path does not exist, a file has an unsupported suffix, or a folder holds no corpus file.
        ConfigError: Two inputs would write the same output name.
    """
    files: list[CorpusFile] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError("no such file or folder; check the corpus path", path=str(p))
        if p.is_dir():
            found = sorted(
                (f for f in p.rglob("*") if f.is_file() and file_format(f)
                 and not any(part.startswith(".") for part in f.relative_to(p).parts)),
                key=lambda f: f.relative_to(p).as_posix(),
            )
            if not found:
                raise InputError(
                    "folder holds no .jsonl, .jsonl.gz or .parquet file", path=str(p)
                )
            files += [CorpusFile(f, f.relative_to(p).as_posix(), str(file_format(f))) for f in found]
        else:
            fmt = file_format(p)
            if fmt is None:
                raise InputError(
                    "unsupported corpus format: use .jsonl, .jsonl.gz or .parquet (or a folder of them)",
                    path=str(p),
                )
            files.append(CorpusFile(p, p.name, fmt))
    seen: dict[str, Path] = {}
    for f in files:
        if f.relative in seen:
            raise ConfigError(
                f"two corpus inputs would write the same output name {f.relative!r}: {seen[f.relative]} and "
                f"{f.path}; pass their common folder instead"
            )
        seen[f.relative] = f.path
    return files


def read_file(
    f: CorpusFile,
    text_field: str,
    id_field: str | None,
    on_error: str,
    rejected: list[Rejected],
    for_output: bool = False,
) -> Iterator[Batch]:
    """Read one corpus file as batches (the error policy is the readers': see their modules).

    Args:
        f: The file.
        text_field: The field (column) holding the text.
        id_field: The field holding document ids, if any.
        on_error: ``"raise"`` or ``"skip"`` (skipped rows are appended to ``rejected``).
        rejected: Where skipped rows go.
        for_output: Keep what a writer needs to copy the rows out (every Parquet column).
    """
    if f.format == "parquet":
        return read_parquet(f.path, text_field, id_field, on_error, rejected, all_columns=for_output)
    return read_jsonl(f.path, text_field, id_field, on_error, rejected)
