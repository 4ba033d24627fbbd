"""Writing a filtered corpus: the surviving rows of each input, in its format, byte for byte and in order.

JSONL lines are copied, not re-serialized; Parquet batches are filtered with their schema kept. A row kept with
redacted texts (``--action redact``) changes only there: in a JSONL line the text field's value is replaced and
every other byte of the line is kept (:func:`edit_jsonl_line`); in Parquet and Arrow the text column's value
(:func:`edit_arrow`). Each output is
written to a temporary file beside its destination (a failed write names the destination:
:class:`~decontam.atomic.OutputWriteError`), made in advance by the run's
:class:`~decontam.atomic.Commit` (so that whatever happens, even in a worker process, the run removes it), and
put in place with the run's other outputs only when every input succeeded.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import re
from collections.abc import Mapping, Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from .atomic import Commit, writing
from .errors import ConfigError, InputError
from .inputs import (
    Batch,
    CorpusFile,
    TextEdit,
    arrow_mask,
    edit_row,
    file_format,
    filter_rows,
    label_field,
    parquet_module,
)

__all__ = ["FileWriter", "OutputSet", "edit_arrow", "edit_jsonl_line", "json_value_spans", "kept_line_runs"]

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def json_value_spans(line: str) -> dict[str, tuple[int, int]]:
    """Where the value of each top-level key of a JSON object lies in its text (character offsets; a key given
    twice: its last value, the one a JSON parser keeps).

    Raises:
        ValueError: Not a JSON object.

    Example:
        >>> line = '{"id": 7, "text": "a, b", "meta": {"x": [1]}, "id": 8}'
        >>> {k: line[a:b] for k, (a, b) in json_value_spans(line).items()}
        {'id': '8', 'text': '"a, b"', 'meta': '{"x": [1]}'}
    """
    i = _WS.match(line, 0).end()  # type: ignore[union-attr]
    if line[i : i + 1] != "{":
        raise ValueError("not a JSON object")
    i = _WS.match(line, i + 1).end()  # type: ignore[union-attr]
    spans: dict[str, tuple[int, int]] = {}
    if line[i : i + 1] == "}":
        return spans
    while True:
        if line[i : i + 1] != '"':
            raise ValueError(f"a key expected at character {i}")
        key, i = scanstring(line, i + 1)
        i = _WS.match(line, i).end()  # type: ignore[union-attr]
        if line[i : i + 1] != ":":
            raise ValueError(f"':' expected at character {i}")
        i = _WS.match(line, i + 1).end()  # type: ignore[union-attr]
        _, end = _DECODER.raw_decode(line, i)
        spans[key] = (i, end)
        i = _WS.match(line, end).end()  # type: ignore[union-attr]
        if line[i : i + 1] == ",":
            i = _WS.match(line, i + 1).end()  # type: ignore[union-attr]
        elif line[i : i + 1] == "}":
            return spans
        else:
            raise ValueError(f"',' or '}}' expected at character {i}")


def _group_by_field(edits: Sequence[TextEdit], plain_field: str,
                    strings: Sequence[str]) -> dict[str, list[TextEdit]]:
    by_field: dict[str, list[TextEdit]] = {}
    for e in edits:
        by_field.setdefault(label_field(e.label, plain_field, strings)[0], []).append(e)
    return by_field


def edit_jsonl_line(line: bytes, edits: Sequence[TextEdit], plain_field: str) -> bytes:
    """A JSONL line with its redacted texts: the value of each text field concerned is replaced (re-serialized:
    a string, or a chat's list of messages); every other byte of the line is kept.

    The new value is written as the old one was: with non-ASCII characters as they are if the old value had
    any, else ``\\u`` escapes; a chat with ``", "`` and ``": "`` separators if the old one had them, else compact.

    Example:
        >>> edit_jsonl_line(b'{"text": "keep CUT keep",  "id":1}', [TextEdit(None, [(5, 9)], 13)], "text")
        b'{"text": "keep keep",  "id":1}'
    """
    text = line.decode("utf-8")
    spans = json_value_spans(text)
    values = {k: _DECODER.decode(text[a:b]) for k, (a, b) in spans.items()}
    by_field = _group_by_field(edits, plain_field, [k for k, v in values.items() if isinstance(v, str)])
    for field in sorted(by_field, key=lambda f: spans[f][0], reverse=True):  # from the end: offsets hold
        a, b = spans[field]
        raw = text[a:b]
        new = edit_row({field: values[field]}, by_field[field], plain_field)[field]
        spaced = isinstance(new, list) and ", " in raw and ": " in raw
        dumped = json.dumps(new, ensure_ascii=raw.isascii(), separators=(", ", ": ") if spaced else (",", ":"))
        text = text[:a] + dumped + text[b:]
    return text.encode("utf-8")


def edit_arrow(data: Any, edits: Mapping[int, Sequence[TextEdit]], plain_field: str) -> Any:
    """A record batch (or table) with the redacted texts of some rows (``edits``: row -> its texts) in place:
    a string column gets the new values at those rows, a chat column the rows' messages rebuilt (same type)."""
    if not edits:
        return data
    names = data.schema.names
    strings = [n for n in names if pa.types.is_string(data.schema.field(n).type)
               or pa.types.is_large_string(data.schema.field(n).type)]
    per_field: dict[str, dict[int, list[TextEdit]]] = {}
    for row, row_edits in edits.items():
        for field, es in _group_by_field(row_edits, plain_field, strings).items():
            per_field.setdefault(field, {})[row] = es
    columns = list(data.columns)
    for field, rows in per_field.items():
        at = names.index(field)
        col = columns[at]
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        order = sorted(rows)
        new = [edit_row({field: col[r].as_py()}, rows[r], plain_field)[field] for r in order]
        if field in strings:
            import pyarrow.compute as pc  # only redacted batches need it

            mask = np.zeros(len(col), dtype=bool)
            mask[order] = True
            columns[at] = pc.replace_with_mask(col, arrow_mask(mask), pa.array(new, type=col.type))
        else:
            values = col.to_pylist()
            for r, v in zip(order, new):
                values[r] = v
            columns[at] = pa.array(values, type=col.type)
    return type(data).from_arrays(columns, schema=data.schema)


class FileWriter:
    """Writes the surviving rows of one input file into its temporary output file (made beforehand).

    Args:
        tmp: The temporary file.
        fmt: The input's (and output's) format.
        source: The input file.
        dest: The output the temporary file becomes, named when a write fails (default: ``tmp``).
        text_field: The text field of rows read as one plain text (where redacted texts go).

    Raises:
        OutputWriteError: A write failed (full disk, size limit...), from any method; it names ``dest``.
    """

    def __init__(self, tmp: Path, fmt: str, source: Path, dest: Path | None = None, text_field: str = "text") -> None:
        self.text_field = text_field
        self.tmp = Path(tmp)
        self.dest = Path(dest) if dest is not None else self.tmp
        self.source = source
        self.format = fmt
        self._pq: Any = None
        self._fh: BinaryIO | None = None
        self._raw: BinaryIO | None = None
        with writing(self.dest):
            self._open(fmt)
        self.rows = 0

    def _open(self, fmt: str) -> None:
        if fmt == "jsonl.gz":
            # mtime 0 (as gzip -n): the same rows give the same bytes, whenever the run
            self._raw = open(self.tmp, "wb")  # noqa: SIM115 - closed by close(), on every path
            self._fh = gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", compresslevel=1,  # type: ignore[assignment]
                                     mtime=0)
        elif fmt == "jsonl":
            self._fh = open(self.tmp, "wb")  # noqa: SIM115 - closed by close(), on every path

    def write(self, batch: Batch, keep: np.ndarray) -> None:
        """Append the rows of ``batch`` whose ``keep`` is True, as they are in the input."""
        with writing(self.dest):
            self._write(batch, keep)
        self.rows += int(keep.sum())

    def _write(self, batch: Batch, keep: np.ndarray) -> None:
        if self.format == "parquet":
            rb: pa.RecordBatch = edit_arrow(batch.raw, batch.edits or {}, self.text_field)
            if self._pq is None:
                self._pq = parquet_module().ParquetWriter(self.tmp, rb.schema)
            self._pq.write_batch(filter_rows(rb, keep) if not keep.all() else rb)
        elif self._fh is not None:
            block, starts, ends = batch.raw
            if not batch.edits:
                for a, b in zip(*kept_line_runs(starts, ends, keep)):
                    self._fh.write(block[a:b])
                    self._fh.write(b"\n")
                return
            # Rows kept with redacted texts are written edited, in order; the rows between them copied in runs.
            lo = 0
            for row in [r for r in sorted(batch.edits) if keep[r]] + [len(keep)]:
                for a, b in zip(*kept_line_runs(starts[lo:row], ends[lo:row], keep[lo:row])):
                    self._fh.write(block[a:b])
                    self._fh.write(b"\n")
                if row < len(keep):
                    self._fh.write(self._edited_line(batch, row))
                    self._fh.write(b"\n")
                lo = row + 1

    def _edited_line(self, batch: Batch, row: int) -> bytes:
        """The line of a row kept with redacted texts."""
        block, starts, ends = batch.raw
        try:
            return edit_jsonl_line(bytes(block[int(starts[row]) : int(ends[row])]), (batch.edits or {})[row],
                                   self.text_field)
        except (ValueError, KeyError, IndexError) as exc:  # pragma: no cover - the reader parsed this very line
            raise InputError(f"cannot write this row redacted: {exc}", path=str(self.source),
                             line=int(batch.lines[row])) from None

    def append_spans(self, source: Path, spans: np.ndarray) -> None:
        """Append byte ranges of the (plain JSONL) file ``source``, each followed by a newline: the kept rows
        of one part of it (:mod:`decontam.scan.parts`), copied by the kernel from file to file."""
        assert self._fh is not None and self.format == "jsonl"
        with writing(self.dest):
            self._fh.flush()
            out = self._fh.fileno()
            with open(source, "rb") as src:
                for a, b in spans.tolist():
                    _copy_range(src.fileno(), out, a, b - a, source)
                    os.write(out, b"\n")
            self._fh.seek(0, os.SEEK_END)  # (the buffered file's idea of its position, after the raw writes)

    def append_part(self, part: Path) -> None:
        """Append the rows a worker kept from one part of the input (:mod:`decontam.scan.parts`): JSONL lines
        copied as they are; for Parquet, the part's record batches (Arrow IPC), written batch for batch as
        :meth:`write` writes them, so the output is the one a whole-file run writes."""
        with writing(self.dest):
            if self.format == "parquet":
                with pa.memory_map(str(part)) as source:
                    for rb in pa.ipc.open_stream(source):
                        if self._pq is None:
                            self._pq = parquet_module().ParquetWriter(self.tmp, rb.schema)
                        self._pq.write_batch(rb)
                return
            if self._fh is not None:
                with open(part, "rb") as fh:
                    while chunk := fh.read(8 << 20):
                        self._fh.write(chunk)

    def close(self) -> None:
        """Close the file (on every path, success or not: each handle is let go even if closing it fails)."""
        pq, fh, raw = self._pq, self._fh, self._raw
        self._pq = self._fh = self._raw = None
        with writing(self.dest):
            try:
                if pq is not None:
                    pq.close()
                if fh is not None:
                    fh.close()
            finally:
                if raw is not None:  # (a GzipFile does not close the file it was given)
                    raw.close()

    def finish(self) -> None:
        """Complete the file: an input without rows still gives a valid output (Parquet: its schema)."""
        self.close()
        if self.format == "parquet" and self.tmp.stat().st_size == 0:
            with writing(self.dest):
                parquet_module().write_table(parquet_module().read_schema(self.source).empty_table(), self.tmp)


def kept_line_runs(starts: np.ndarray, ends: np.ndarray, keep: np.ndarray) -> tuple[list[int], list[int]]:
    """The kept rows of a JSONL block as maximal runs of adjacent lines: each run's first byte and end.

    Rows need not be adjacent (rejected rows and blank lines between them are not copied); a run is copied as
    one slice, the newlines inside it included, and followed by a newline.
    """
    kept = np.flatnonzero(keep)
    if len(kept) == 0:
        return [], []
    s, e = starts[kept], ends[kept]
    breaks = np.flatnonzero(s[1:] != e[:-1] + 1)
    first = np.concatenate(([0], breaks + 1))
    last = np.concatenate((breaks, [len(kept) - 1]))
    return s[first].astype(np.int64).tolist(), e[last].astype(np.int64).tolist()


def _copy_range(src: int, out: int, offset: int, count: int, source: Path) -> None:
    """Copy ``count`` bytes at ``offset`` of the file ``src`` to the end of ``out`` (``sendfile``: no copy
    through this process; read and write where the system cannot)."""
    while count > 0:
        try:
            n = os.sendfile(out, src, offset, count)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            n = os.write(out, os.pread(src, min(count, 8 << 20), offset))
        if n == 0:
            raise InputError("the file ended early: it changed while it was being read", path=str(source))
        offset += n
        count -= n


class OutputSet:
    """The outputs of a filter run: one file, or a folder mirroring the inputs; all or nothing.

    Each input's surviving rows go to a temporary file made now by ``commit`` (:attr:`temps`, in the order of
    the inputs; for a folder output, inside a temporary folder), which becomes :attr:`targets` (the path a
    failed write names); :meth:`stage` then hands them to ``commit``,
    which puts them in place with the run's other outputs.

    Args:
        output: The ``-o`` path: a file (one input file, same format) or a folder.
        files: The expanded inputs.
        commit: The run's commit.

    Raises:
        ConfigError: A file output whose suffix is not the input's format; for one input file, an output with
            another suffix that is not a folder (a file name, by mistake, that would be made a folder).
    """

    def __init__(self, output: str | os.PathLike[str], files: list[CorpusFile], commit: Commit) -> None:
        self.output = Path(output)
        self.files = files
        self.single = len(files) == 1 and file_format(self.output) is not None
        if self.single and file_format(self.output) != files[0].format:
            raise ConfigError(f"output {self.output} must be in the input's format ({files[0].format}): name it "
                              f"with the suffix .{files[0].format}")
        if len(files) == 1 and not self.single and self.output.suffix and not self.output.is_dir():
            # (one file's output named like a file, clean.json or out.txt, would silently be made a folder)
            raise ConfigError(f"output {self.output}: for one input file, -o is a file in its format (name it "
                              f"with the suffix .{files[0].format}) or a folder; {self.output.name} would be made a "
                              "folder (create it first if that is what you want)")
        self._stage = None if self.single else commit.temp(self.output, directory=True)
        self.temps = [commit.temp(self._final(f)) for f in files]
        self.targets = [self.output if self.single else self.output / f.relative for f in files]

    def _final(self, f: CorpusFile) -> Path:
        """Where the output of input ``f`` ends up before the commit (inside the staging folder, if any)."""
        return self.output if self._stage is None else self._stage / f.relative

    def stage(self, commit: Commit) -> None:
        """Hand the finished outputs to ``commit`` (a folder output: its files named in place first)."""
        if self._stage is None:
            commit.stage(self.temps[0], self.output)
            return
        for f, tmp in zip(self.files, self.temps):
            os.replace(tmp, self._final(f))
        commit.stage(self._stage, self.output)
