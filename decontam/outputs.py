"""Writing a filtered corpus: the surviving rows of each input, in its format, byte for byte and in order.

JSONL lines are copied, not re-serialized; Parquet batches are filtered with their schema kept. Each output is
written to a temporary file beside its destination and renamed into place only when every input succeeded
(:class:`OutputSet`), so a failure leaves no partial output.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from .atomic import default_mode
from .errors import ConfigError
from .inputs import Batch, CorpusFile, arrow_mask, file_format, parquet_module

__all__ = ["FileWriter", "OutputSet"]


class FileWriter:
    """Writes the surviving rows of one input file to a temporary file beside its destination."""

    def __init__(self, dest: Path, fmt: str, source: Path) -> None:
        self.dest = dest
        self.source = source
        self.format = fmt
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
        os.fchmod(fd, default_mode())
        os.close(fd)
        self.tmp = Path(tmp)
        self._pq: Any = None
        self._fh: BinaryIO | None = None
        self._raw: BinaryIO | None = None
        if fmt == "jsonl.gz":
            # mtime 0 (as gzip -n): the same rows give the same bytes, whenever the run
            self._raw = open(self.tmp, "wb")
            self._fh = gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", compresslevel=1,  # type: ignore[assignment]
                                     mtime=0)
        elif fmt == "jsonl":
            self._fh = open(self.tmp, "wb")
        self.rows = 0

    def write(self, batch: Batch, keep: np.ndarray) -> None:
        if self.format == "parquet":
            rb: pa.RecordBatch = batch.raw
            if self._pq is None:
                self._pq = parquet_module().ParquetWriter(self.tmp, rb.schema)
            self._pq.write_batch(rb.filter(arrow_mask(keep)) if not keep.all() else rb)
        else:
            assert self._fh is not None
            block, starts, ends = batch.raw
            kept = np.flatnonzero(keep)
            if len(kept) == 0:
                return
            # Copy maximal runs of kept rows that are adjacent lines in the block as one slice each (rows
            # of a batch need not be adjacent: rejected rows and blank lines between them are not copied).
            s, e = starts[kept], ends[kept]
            breaks = np.flatnonzero(s[1:] != e[:-1] + 1)
            run_first = np.concatenate(([0], breaks + 1))
            run_last = np.concatenate((breaks, [len(kept) - 1]))
            for a, b in zip(run_first.tolist(), run_last.tolist()):
                self._fh.write(block[int(s[a]) : int(e[b])])
                self._fh.write(b"\n")
        self.rows += int(keep.sum())

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._raw is not None:  # (a GzipFile does not close the file it was given)
            self._raw.close()
            self._raw = None

    def finish(self) -> Path:
        """Close the temporary file and return its path (renamed into place by :meth:`OutputSet.commit`)."""
        self.close()
        if self.format == "parquet" and self.tmp.stat().st_size == 0:
            # No batch was written (an input without rows): an empty file with the input's schema.
            parquet_module().write_table(parquet_module().read_schema(self.source).empty_table(), self.tmp)
        return self.tmp

    def abort(self) -> None:
        self.close()
        self.tmp.unlink(missing_ok=True)


@dataclass
class OutputSet:
    """Outputs of a filter run: one file, or a folder mirroring the inputs; all-or-nothing.

    Each input's rows are written to a temporary file beside :meth:`destination` (by :class:`FileWriter`,
    possibly in a worker process); :meth:`commit` renames them into place once every input succeeded, and a
    folder output is staged in a temporary folder renamed as a whole.

    Args:
        output: The ``-o`` path.
        files: The expanded inputs.
    """

    output: Path
    files: list[CorpusFile]
    _stage: Path | None = None

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        self.single = len(self.files) == 1 and file_format(self.output) is not None
        if self.single:
            if file_format(self.output) != self.files[0].format:
                raise ConfigError(
                    f"output {self.output} must be in the input's format ({self.files[0].format}): "
                    f"name it with the suffix .{self.files[0].format}"
                )
            self.output.parent.mkdir(parents=True, exist_ok=True)
        else:
            if self.output.exists() and (not self.output.is_dir() or any(self.output.iterdir())):
                raise ConfigError(
                    f"output folder {self.output} already exists and is not empty; remove it or choose another -o"
                )
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self._stage = Path(tempfile.mkdtemp(prefix=f".{self.output.name}.", suffix=".partial",
                                                dir=self.output.parent))
            self._stage.chmod(default_mode(directory=True))

    def destination(self, f: CorpusFile) -> Path:
        """Where the output of input ``f`` goes (inside the staging folder for a folder output)."""
        if self._stage is None:
            return self.output
        return self._stage / f.relative

    def commit(self, written: Sequence[Path]) -> None:
        """Rename every temporary output into place (``written`` in the order of :attr:`files`)."""
        for f, tmp in zip(self.files, written):
            os.replace(tmp, self.destination(f))
        if self._stage is not None:
            if self.output.exists():
                self.output.rmdir()
            os.replace(self._stage, self.output)
            self._stage = None

    def abort(self) -> None:
        """Remove the staging folder (temporary files beside a single output are removed by their writer)."""
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
            self._stage = None
