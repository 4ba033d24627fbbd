"""Benchmarks: loaders that turn a registry name (see :mod:`decontam.registry`) or a path into items.

An item is ``(id, question)``: the question (prompt, context) is what the GPT-4 rule probes, never the answer or
the choices. Questions are kept raw; normalizing is the sampler's job. With ``answers=True`` (for
``--probe-answers``, an opt-in check reported apart) each item also carries its answer or reference solution, read
from the benchmark's answer field (:func:`answer_text` says which values are answers).

Where a benchmark comes from:

* a local file or folder (``load_benchmark("gsm8k", "gsm8k/test.jsonl")``), read with the registry's fields, in
  the layout the benchmark's authors publish (SQuAD's nested JSON, MMLU's header-less CSVs...);
* a local file of a benchmark not in the registry (``load_benchmark("mine", "mine.csv", question_field="q")``);
* the Hugging Face hub (``load_benchmark("humaneval")``), through ``datasets``.

Files are read by :mod:`decontam.benchmark_files` (``.jsonl``, ``.json``, ``.csv``, gzipped or not, and
``.parquet``; a folder stands for the supported files inside it). A folder entry that cannot be read (a broken
link, permission denied, a FIFO, a file of another type) is an error, never skipped: a benchmark with a file
left out is a different benchmark. Only hidden names and documentation (``README*``, ``LICENSE*``, ``*.md``...)
are ignored.

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

import dataclasses
import hashlib
import itertools
import json
import numbers
import os
import socket
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .benchmark_files import Layout, Records, Table, json_type, local_files, read_table, row_prefix
from .errors import BenchmarkNotFoundError, ConfigError, InputError, MissingDependencyError
from .registry import (
    REGISTRY,
    BenchmarkSpec,
    close_names,
    local_hint,
    unknown_name_message,
)
from .runtime import gc_paused

__all__ = ["REGISTRY", "Benchmark", "BenchmarkArg", "BenchmarkSpec", "Item", "answer_text", "benchmark_args",
           "field_value", "hub_unreachable", "load_benchmark", "load_benchmarks"]


@dataclass(frozen=True, repr=False)
class Item:
    """One evaluation item.

    Attributes:
        id: The item id (from the id field, or the row number).
        question: The raw question text (not normalized; may be empty).
        answer: The raw answer or reference solution, when answers were read (``answers=True``) and the item has
            one that is text (see :func:`answer_text`); else ``None``. Probed only with ``probe_answers``.

    Example:
        >>> Item(1, "What is 2 + 2?"), Item(1, "What is 2 + 2?", answer="4")
        (Item(id=1, question='What is 2 + 2?'), Item(id=1, question='What is 2 + 2?', answer='4'))
    """

    id: str | int
    question: str
    answer: str | None = None

    def __repr__(self) -> str:
        answer = "" if self.answer is None else f", answer={self.answer!r}"
        return f"Item(id={self.id!r}, question={self.question!r}{answer})"


def answer_text(value: Any) -> str | None:
    """The answer an answer field's value holds, as text; ``None`` when it holds none.

    A string is the answer; a number is written out (``42``); a list is its first element, the first reference
    answer (APPS ``solutions``, a list of strings), if that is text. Anything else (null, a boolean, an object
    such as SQuAD's ``answers`` entries) holds no answer text: the item is reported as having no answer, not
    guessed at.

    Example:
        >>> [answer_text(v) for v in ("def f(): pass", 42, ["sol 1", "sol 2"], None, True, {"text": "x"})]
        ['def f(): pass', '42', 'sol 1', None, None, None]
    """
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


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
            Questions only: reading the answers does not change it.
        answer_field: The field the answers were read from (``answers=True``), or ``None`` when no answers were
            read (or the benchmark has no answer field).
    """

    name: str
    source: str
    question_field: str
    id_field: str | None
    items: tuple[Item, ...]
    fingerprint: str
    answer_field: str | None = None

    @property
    def n_items(self) -> int:
        """The number of items."""
        return len(self.items)

    @property
    def answer_fingerprint(self) -> str:
        """``"sha256:<hex>"`` of ``json.dumps([[id, answer], ...], ensure_ascii=False)`` (``None`` for an item
        without an answer): what ``--probe-answers`` probed, as the question fingerprint is what the rule did."""
        pairs = [[item.id, item.answer] for item in self.items]
        data = json.dumps(pairs, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return f"sha256:{hashlib.sha256(data).hexdigest()}"

    @classmethod
    def from_items(
        cls,
        name: str,
        items: Iterable[Item | tuple[str | int, str]],
        source: str = "<memory>",
    ) -> Benchmark:
        """A benchmark built in code, from items, ``(id, question)`` or ``(id, question, answer)`` tuples.

        Items with an answer make ``answer`` its answer field (probed with ``probe_answers=True``). Ids are ``str``
        or ``int`` (a numpy integer too), questions and answers ``str``.

        Raises:
            ConfigError: An id of another type, a question or answer that is not a string, or ids repeated.

        Example:
            >>> b = Benchmark.from_items("demo", [(1, "What is 2 + 2?"), Item(2, "Name a prime.")])
            >>> b.n_items, b.items[0], b.answer_field
            (2, Item(id=1, question='What is 2 + 2?'), None)
            >>> Benchmark.from_items("demo", [(1, "What is 2 + 2?", "4")]).answer_field
            'answer'
        """
        built = [it if isinstance(it, Item) else Item(*it) for it in items]
        built = [dataclasses.replace(it, id=int(it.id)) if isinstance(it.id, numbers.Integral)
                 and not isinstance(it.id, (int, bool)) else it for it in built]  # (a numpy integer: its int)
        for it in built:  # (as load_benchmark reads them: anything else fails later, or names two items alike)
            if not isinstance(it.id, (str, int)) or isinstance(it.id, bool):
                raise ConfigError(f"benchmark {name!r}: item id {it.id!r} is a {type(it.id).__name__}; an id is a str "
                                  "or an int")
            if not isinstance(it.question, str) or not (it.answer is None or isinstance(it.answer, str)):
                what = "question" if not isinstance(it.question, str) else "answer"
                raise ConfigError(f"benchmark {name!r}: item {it.id!r}: its {what} is a "
                                  f"{type(getattr(it, what)).__name__}, not a str")
        ids = [it.id for it in built]
        if len(set(map(repr, ids))) != len(ids):
            raise ConfigError(f"benchmark {name!r}: item ids must be unique")
        answers = "answer" if any(it.answer is not None for it in built) else None
        return _benchmark(name, source, "question", "id", built, answers)


_TRUE_ENV_VALUES = {"1", "ON", "YES", "TRUE"}
HUB_PROBE_SECONDS = 1.5  # how long the hub may take to accept a connection before we call ourselves offline
_MISSING = object()  # a field's value when the field is absent (a null is None)


def load_benchmark(
    name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    question_field: str | None = None,
    id_field: str | None = None,
    answer_field: str | None = None,
    answers: bool = False,
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
        answer_field: Field holding the answer (for ``--probe-answers``). Overrides the registry's; implies
            ``answers``.
        answers: Also read each item's answer (the registry's answer field, or ``answer_field``). A row whose
            answer is absent or not text (:func:`answer_text`) has none; a field in none of a file's rows is an
            error. Off: no answer is read, as for the GPT-4 rule.

    Returns:
        The :class:`Benchmark`, items in file order.

    Raises:
        ConfigError: If ``name`` is empty, a field is not a name, or a custom benchmark has no ``question_field``.
        InputError: If a local file is missing or malformed (the message names file, line and field), or a
            folder holds an entry that cannot be read (see :mod:`decontam.benchmark_files`).
        BenchmarkNotFoundError: If ``name`` is unknown and no path is given; if ``name`` is not in the registry
            but close to a registry name (a misspelling, most likely) and no ``question_field`` is given; or if
            the hub cannot be reached (offline: found out within about 2 s, before ``datasets`` is called).
        MissingDependencyError: If ``pyarrow`` (Parquet) or ``datasets`` (hub) is needed but not installed.

    Example:
        >>> load_benchmark("no-such-benchmark")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        decontam.errors.BenchmarkNotFoundError: unknown benchmark 'no-such-benchmark'...
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"benchmark name must be a non-empty string, got {name!r}")
    if any(f is not None and (not isinstance(f, str) or not f) for f in (question_field, id_field, answer_field)):
        raise ConfigError(f"fields are names (non-empty strings), got {question_field=}, {id_field=}, {answer_field=}")
    spec = REGISTRY.get(name) or REGISTRY.get(name.lower())
    if spec is not None:
        name = spec.name
    afield = _answer_field(name, spec, answer_field, answers)
    if path is None:
        if spec is None:
            raise BenchmarkNotFoundError(unknown_name_message(name))
        return _load_from_hub(spec, question_field, id_field, afield)
    if spec is None and not question_field:
        if close_names(name):  # a misspelled registry name, most likely: the same error as without a path
            raise BenchmarkNotFoundError(unknown_name_message(name, os.fspath(path)))
        raise ConfigError(
            f"benchmark {name!r} is not in the registry, so its question field must be given: pass "
            f"--question-field FIELD (Python: question_field='FIELD'), e.g. -b {name}=PATH --question-field "
            f"question; known benchmarks: {', '.join(sorted(REGISTRY))}"
        )
    if spec is None:
        qfield, ifield, layout = str(question_field), id_field, Layout()
    else:
        qfield = question_field or spec.question_field
        ifield = id_field if id_field is not None else spec.id_field
        layout = Layout(spec.json_items, spec.csv_columns)
    return _load_local(name, path, _Fields(name, qfield, ifield, afield), layout)


def _answer_field(name: str, spec: BenchmarkSpec | None, answer_field: str | None, answers: bool) -> str | None:
    """The field answers are read from: the one given, else the registry's (``None``: none to read)."""
    if answer_field is not None:
        if not isinstance(answer_field, str) or not answer_field:
            raise ConfigError(f"benchmark {name!r}: answer_field must be a field name, got {answer_field!r}")
        return answer_field
    return spec.answer_field if answers and spec is not None else None


BenchmarkArg = str | Benchmark | tuple[str, str | os.PathLike[str]]


def benchmark_args(benchmarks: BenchmarkArg | Iterable[BenchmarkArg]) -> list[BenchmarkArg]:
    """Benchmark arguments as a list: one argument (a name, ``NAME=PATH``, a ``(name, path)`` pair, a
    :class:`Benchmark`) or any iterable of them (a list, a tuple of several, a generator: read once, here).

    Example:
        >>> benchmark_args(("gsm8k", "gsm8k/test.jsonl")), benchmark_args(("gsm8k", "mbpp")), benchmark_args("x")
        ([('gsm8k', 'gsm8k/test.jsonl')], ['gsm8k', 'mbpp'], ['x'])
    """
    if isinstance(benchmarks, (str, Benchmark)) or _is_pair(benchmarks):
        return [benchmarks]  # type: ignore[list-item]
    return list(benchmarks)  # type: ignore[arg-type]


def _is_pair(spec: Any) -> bool:
    """A ``(name, path)`` pair: a name, then a path object or a string with a separator, a suffix or a file."""
    second = spec[1] if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) else None
    return isinstance(second, os.PathLike) or isinstance(second, str) and (
        "/" in second or os.sep in second or "." in second or os.path.lexists(second))


def load_benchmarks(
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    question_field: str | None = None,
    id_field: str | None = None,
    answer_field: str | None = None,
    answers: bool = False,
) -> list[Benchmark]:
    """Load benchmarks given as names, ``NAME=PATH`` strings, ``(name, path)`` pairs or :class:`Benchmark`.

    Args:
        benchmarks: One benchmark argument, or several.
        question_field: Question field of custom (non-registry) benchmarks; registry ones keep their own.
        id_field: Item id field of custom benchmarks.
        answer_field: Answer field of custom benchmarks (registry ones keep their own); implies ``answers``.
        answers: Also read the answers (``--probe-answers``); :class:`Benchmark` objects are taken as they are.

    Raises:
        ConfigError: No benchmark, or two with the same name.
        BenchmarkNotFoundError: An unknown name without a path, or a hub benchmark that cannot be fetched.
    """
    answers = answers or answer_field is not None
    loaded: list[Benchmark] = []
    for spec in benchmark_args(benchmarks):
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
                                     id_field=id_field if custom else None,
                                     answer_field=answer_field if custom else None, answers=answers))
    if not loaded:
        raise ConfigError("no benchmark given: pass at least one (-b NAME or -b NAME=PATH)")
    names = [b.name for b in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"benchmark names must be unique, repeated: {', '.join(dupes)}")
    return loaded


# --------------------------------------------------------------------------------------------- local files


def _load_local(name: str, path: str | os.PathLike[str], fields: _Fields, layout: Layout) -> Benchmark:
    """Every file's items, row by row, checked (ids unique across the files)."""
    root, files = local_files(path)
    items: list[Item] = []
    seen: dict[str | int, tuple[str, int | None]] = {}
    with gc_paused():
        for file in files:
            prefix = row_prefix(root, file, len(files))
            items.extend(_build_items(read_table(file, layout), str(file), fields, prefix, seen))
    return _benchmark(name, os.fspath(path), fields.question, fields.id, items, fields.answer)


# ----------------------------------------------------------------------------------------------- the items


def _build_items(
    table: Table,
    where: str,
    fields: _Fields,
    prefix: str | None,
    seen: dict[str | int, tuple[str, int | None]],
) -> list[Item]:
    """Turn a table's records into items, checking every row and the uniqueness of ids.

    Args:
        table: The opened file or hub split.
        where: Its path (or hub source), for messages.
        fields: The benchmark's name, question field and id field (``None`` for row numbers).
        prefix: Prefix of row-number ids (``"<relative path>/"``) in a folder of several files (a file that is
            one item is named by the prefix alone), or of several hub configurations.
        seen: Every id already loaded (from any file), mapped to its ``(where, line)``; updated.

    Returns:
        The items, in order.
    """
    _check_columns(table, where, fields)
    items: list[Item] = []
    for row_number, (line, row) in enumerate(_records_with_fields(table, where, fields)):
        question = _row_question(row, where, line, fields)
        item_id: str | int
        if fields.id is None:
            item_id = row_number if prefix is None else prefix if table.one_item else f"{prefix}/{row_number}"
        else:
            item_id = _row_id(row, where, line, fields.id, fields)
        if item_id in seen:
            first_where, first_line = seen[item_id]
            first = first_where if first_where != where else "this file"
            first += f" line {first_line}" if first_line is not None else ""
            raise InputError(
                f"duplicate item id {item_id!r} (first seen at {first}); ids must be unique: fix the ids, or "
                "leave the id field out to number the rows",
                path=where,
                line=line,
                field=fields.id,
            )
        seen[item_id] = (where, line)
        answer = None if fields.answer is None else answer_text(field_value(row, fields.answer))
        items.append(Item(item_id, question, answer))
    return items


class _Fields(NamedTuple):
    """Where a benchmark's items are: its name (for the hints) and its question, id and answer fields (answer:
    ``None`` when answers are not read)."""

    name: str
    question: str
    id: str | None
    answer: str | None = None

    def flag_hint(self, role: str) -> str:
        """How to choose the field of ``role`` (``"question"``, ``"id"`` or ``"answer"``), on the command line and
        in Python."""
        flag, arg = {"question": ("--question-field", "question_field"), "id": ("--item-id-field", "id_field"),
                     "answer": ("--answer-field", "answer_field")}[role]
        return f"{flag} {self.name}=FIELD (Python: {arg}='FIELD')"


def _records_with_fields(table: Table, where: str, fields: _Fields) -> Records:
    """The table's records, after checking that there is one and, for records without columns (JSON), that the
    question (and id) field is in at least one of them: a field in none is a file-level error, not one of line 1.
    """
    records = iter(table.records)
    first = next(records, None)
    if first is None:
        if table.columns is not None:
            raise InputError(
                f"no items: the file has a header (columns: {_preview(table.columns)}) but no rows; expected rows "
                f"with a {fields.question!r} field",
                path=where,
            )
        raise InputError(
            f"no items: the file has no rows (it is empty or holds only blank lines or an empty list); expected "
            f"rows with a {fields.question!r} field; check the path",
            path=where,
        )
    if table.columns is not None or not isinstance(first[1], dict):
        return itertools.chain([first], records)
    lacking = [f for f in (fields.question, fields.id, fields.answer)
               if f is not None and field_value(first[1], f, _MISSING) is _MISSING]
    if not lacking:
        return itertools.chain([first], records)
    rows = [first, *records]
    for field in lacking:
        if not any(isinstance(row, dict) and field_value(row, field, _MISSING) is not _MISSING
                   for _, row in rows):
            present = list(dict.fromkeys(k for _, row in rows if isinstance(row, dict) for k in row))
            role = "question" if field == fields.question else "id" if field == fields.id else "answer"
            what = {"question": "question field", "id": "item id field", "answer": "answer field"}[role]
            after = {"question": ", a dotted path for nested objects", "id": ", or leave it out to number the rows",
                     "answer": " (read for --probe-answers), a dotted path for nested objects"}[role]
            raise InputError(
                f"the {what} {field!r} is in none of the {len(rows)} row(s) (fields present: "
                f"{_preview(present)}); choose the field with {fields.flag_hint(role)}{after}",
                path=where,
                field=field,
            )
    return iter(rows)


def _check_columns(table: Table, where: str, fields: _Fields) -> None:
    """Raise if a tabular source lacks the question or id column (a dotted path needs its first part)."""
    columns = table.columns
    if columns is None:
        return
    for field, role in ((fields.question, "question"), (fields.id, "id"), (fields.answer, "answer")):
        if field is not None and field not in columns and field.split(".")[0] not in columns:
            raise InputError(
                f"no {role} column {field!r} (columns: {_preview(columns)}); choose the column with "
                f"{fields.flag_hint(role)}",
                path=where,
                line=table.header_line,
                field=field,
            )


def _row_question(row: Any, where: str, line: int | None, fields: _Fields) -> str:
    """The question of one record, which must be an object holding a string there."""
    if not isinstance(row, dict):
        raise InputError(
            f"expected a JSON object per item, got a JSON {json_type(row)}", path=where, line=line
        )
    question = field_value(row, fields.question, _MISSING)
    if question is _MISSING:
        raise InputError(
            f"the question field is missing (fields present: {_preview(row)}); choose the field with "
            f"{fields.flag_hint('question')}, a dotted path for nested objects",
            path=where,
            line=line,
            field=fields.question,
        )
    if not isinstance(question, str):
        raise InputError(
            f"the question must be a string, got {json_type(question)}; fix or remove this row, or choose a "
            f"text field with {fields.flag_hint('question')}",
            path=where,
            line=line,
            field=fields.question,
        )
    return question


def _row_id(row: dict[str, Any], where: str, line: int | None, ifield: str, fields: _Fields) -> str | int:
    """The item id of one record (from ``ifield``): a string or an integer (not a boolean)."""
    value = field_value(row, ifield, _MISSING)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        got = "missing" if value is _MISSING else f"a {json_type(value)}, not a string or integer"
        raise InputError(
            f"the item id is {got}; fix this row, choose another field with {fields.flag_hint('id')}, or leave "
            "the id field out to number the rows",
            path=where,
            line=line,
            field=ifield,
        )
    return value


def field_value(row: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value of ``path`` in a record: the key ``path`` itself, else a dotted path through nested objects.

    A key holding dots is looked up whole first, so ``"question.stem"`` finds a flat ``"question.stem"`` key
    as well as ``{"question": {"stem": ...}}``.

    Args:
        row: The record (a JSON object, a CSV row, a dataset row).
        path: A field name, or names joined by dots.
        default: What an absent field gives (a field holding null gives ``None``).

    Example:
        >>> row = {"question": {"stem": "Why?"}, "a.b": 1, "id": None}
        >>> field_value(row, "question.stem"), field_value(row, "a.b")
        ('Why?', 1)
        >>> field_value(row, "question.text") is None, field_value(row, "id", default="?")
        (True, None)
        >>> field_value(row, "question.stem.text", default="?")
        '?'
    """
    if isinstance(row, Mapping) and path in row:
        return row[path]
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def _preview(names: Iterable[Any], limit: int = 12) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "") if names else "none"


def _benchmark(name: str, source: str, qfield: str, ifield: str | None, items: list[Item],
               afield: str | None = None) -> Benchmark:
    """The :class:`Benchmark` of ``items``, fingerprinted (questions only)."""
    return Benchmark(name, source, qfield, ifield, tuple(items), _fingerprint(items), afield)


def _fingerprint(items: Sequence[Item]) -> str:
    """``"sha256:<hex>"`` of ``json.dumps([[id, question], ...], ensure_ascii=False)`` in UTF-8."""
    pairs = [[item.id, item.question] for item in items]
    data = json.dumps(pairs, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


# ------------------------------------------------------------------------------------------------------ hub


def _load_from_hub(spec: BenchmarkSpec, question_field: str | None, id_field: str | None,
                   answer_field: str | None) -> Benchmark:
    if spec.hub_source is None or spec.hub_path is None:
        raise BenchmarkNotFoundError(
            f"benchmark {spec.name!r} has no Hugging Face hub copy; pass a local file: {local_hint(spec.name)}"
        )
    source = f"hf://{spec.hub_source}"
    offline_vars = [v for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if _env_true(v)]
    if offline_vars and "datasets" in sys.modules and not _datasets_offline():
        # datasets read the offline settings when it was imported, before they were set: calling it now
        # would go to the network, so stop here.
        raise BenchmarkNotFoundError(_offline_message(spec, source, f"{' and '.join(offline_vars)} is set"))
    if not offline_vars and not ("datasets" in sys.modules and _datasets_offline()):
        # Offline, datasets retries for about 25 s before it fails: look first, within HUB_PROBE_SECONDS.
        unreachable = hub_unreachable()
        if unreachable is not None:
            raise BenchmarkNotFoundError(_offline_message(
                spec, source, f"{unreachable}; to load a copy in the Hugging Face cache, set HF_HUB_OFFLINE=1"))
    try:
        import datasets
    except ImportError as err:
        raise MissingDependencyError(
            f"loading {spec.name!r} from the Hugging Face hub needs the datasets package: pip install datasets "
            f"(or pass a local file: {local_hint(spec.name)})"
        ) from err
    qfield = question_field or spec.hub_question_field or spec.question_field
    ifield = id_field if id_field is not None else spec.hub_id_field or spec.id_field
    afield = answer_field if answer_field is None or answer_field != spec.answer_field else (
        spec.hub_answer_field or spec.answer_field)
    configs = spec.hub_config if isinstance(spec.hub_config, tuple) else (spec.hub_config,)
    items: list[Item] = []
    seen: dict[str | int, tuple[str, int | None]] = {}
    for config in configs:  # several: each one's rows in turn, numbered "<config>/<row>" without an id field
        try:
            dataset = datasets.load_dataset(spec.hub_path, config, split=spec.hub_split)
        except Exception as err:  # any failure means "not available from the hub"; the cause is chained
            reason = f"{type(err).__name__}: {err}"
            if offline_vars or _is_network_error(err):
                raise BenchmarkNotFoundError(_offline_message(spec, source, reason)) from err
            raise BenchmarkNotFoundError(
                f"benchmark {spec.name!r} could not be loaded from the Hugging Face hub ({source}): {reason}. "
                f"Pass a local file instead: {local_hint(spec.name)}"
            ) from err
        columns = list(dataset.column_names)
        if ifield is not None and ifield not in columns and id_field is None:
            ifield = None  # the registry's id field is absent from the hub copy: number the rows
        where, prefix = (source, None) if len(configs) == 1 else (f"hf://{spec.hub_path}/{config}:{spec.hub_split}",
                                                                  config)
        items.extend(_build_items(Table(enumerate(dataset, start=1), columns), where,
                                  _Fields(spec.name, qfield, ifield, afield), prefix, seen))
    return _benchmark(spec.name, source, qfield, ifield, items, afield)


def hub_unreachable(timeout: float = HUB_PROBE_SECONDS) -> str | None:
    """Why the Hugging Face hub cannot be reached, or ``None`` if a connection to it opens within ``timeout``.

    Opens (and closes) a TCP connection to the hub endpoint (``HF_ENDPOINT``, default ``https://huggingface.co``),
    or to the proxy the environment names for it (``HTTPS_PROXY``... unless ``NO_PROXY`` covers the host). The
    attempt, name lookup included, runs in a daemon thread, so an answer comes within ``timeout`` seconds even
    where a name lookup hangs. Nothing is sent.
    """
    import urllib.parse
    import urllib.request  # (for the proxy settings; loaded only on the way to the hub)

    endpoint = urllib.parse.urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(endpoint.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(host):
        via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        default = 1080 if via.scheme.startswith("socks") else 443 if via.scheme == "https" else 80
        host, port = via.hostname or host, via.port or default
    outcome: dict[str, str] = {}

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome["ok"] = ""
        except OSError as err:
            outcome["error"] = f"no connection to {host}:{port}: {err.strerror or err}"

    thread = threading.Thread(target=attempt, name="decontam-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if "ok" in outcome:
        return None
    return outcome.get("error") or f"no connection to {host}:{port} within {timeout:g} s"


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
        f"offline ({reason}). Pass a local file instead: {local_hint(spec.name)}"
    )
