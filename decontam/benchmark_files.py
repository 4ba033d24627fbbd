"""Benchmark files: which files a benchmark path stands for, and reading each into records ``(line, row)``.

Supported files (by suffix): ``.jsonl`` (blank lines skipped), ``.json`` (a list of objects, or an object with
one list-valued key such as ``{"data": [...]}``), ``.csv`` (header row), each optionally gzipped (``.gz``), and
``.parquet``. A registry benchmark may say more about its published layout (a :class:`Layout`): where the items
are nested in its ``.json`` files (SQuAD's ``$.data[*].paragraphs[*].qas[*]``, MATH's one problem per file), or
the columns of CSV files published without a header row (MMLU).

A folder means every supported file inside it, recursively (symbolic links followed), in order of relative path.
What a folder may hold besides:

* names starting with ``.`` (files and folders: ``.git/``, ``.DS_Store``...) are ignored;
* documentation files are ignored: names starting with ``README``, ``LICENSE``, ``LICENCE``, ``COPYING``,
  ``NOTICE``, ``SOURCES`` or ``CITATION`` (any case), and ``*.md`` files, unless the name has a supported suffix
  (``readme.jsonl`` is read: a data file is never ignored, and a folder is never ignored for its name);
* **anything else that cannot be read is an error naming it**: a file of another type (``.txt``, ``.py``,
  ``.yaml``...), a broken symbolic link, an entry that cannot be read or listed (permission denied), a special
  file (FIFO, socket, device), a symbolic link loop. A benchmark with a file silently left out is a different
  benchmark (and a different fingerprint), so nothing is skipped without a word: remove or move the entry, give
  the file or subfolder you mean (``-b mmlu=mmlu/test``), or rename it to start with ``.``;
* files of two or more splits (by their first subfolder, ``test/``, ``dev/``, or their name's first word,
  ``train.jsonl``, ``test-00000-of-00001.parquet``) are refused: read as one benchmark they would give the rate
  of no split.

Every malformed file raises :class:`~decontam.errors.InputError` naming the file and the 1-based line (CSV: the
header, if any, is line 1; Parquet: the 1-based row; JSON: the line where the item starts). Turning records into items is :mod:`decontam.benchmarks`' job.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .errors import InputError, MissingDependencyError

__all__ = ["SUPPORTED", "Layout", "Records", "Table", "is_documentation", "json_path_steps", "json_type",
           "list_folder", "local_files", "read_table", "row_prefix", "supported_suffix"]

_BASE_SUFFIXES = (".jsonl", ".json", ".csv")
SUPPORTED = ".jsonl, .json, .csv (each optionally .gz) and .parquet"
_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_PATH = re.compile(r"\$(?:\.[^.\[\]]+|\[\*\])*")  # $, then .key, .* or [*] steps
_JSON_STEP = re.compile(r"\.([^.\[\]]+)|\[\*\]")
_DOC_PREFIXES = ("readme", "license", "licence", "copying", "notice", "sources", "citation")
_FOLDER_RULE = (
    "a benchmark with a file left out is a different benchmark, so decontam skips nothing it cannot read: fix, "
    "remove or move it, give the file or subfolder you mean as the path, or rename it to start with '.'. "
    "Ignored in a benchmark folder: names starting with '.' and documentation (README*, LICENSE*, SOURCES*, "
    "*.md...)"
)


def local_files(path: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """The root path and the benchmark files it stands for (itself, or the supported files of a folder).

    Raises:
        InputError: If the path is missing or a broken link, a folder without benchmark files or with an entry
            that cannot be read (see the module docstring), or not a regular file of a supported type.
    """
    root = Path(path)
    try:
        mode = root.stat().st_mode
    except FileNotFoundError:
        if root.is_symlink():
            raise InputError(f"broken symbolic link (to {os.readlink(root)!r}, which does not exist)",
                             path=str(path)) from None
        raise InputError(
            "no such file or folder; check the path (a benchmark is a .jsonl/.json/.csv/.parquet file or a "
            "folder of them)",
            path=str(path),
        ) from None
    except OSError as err:
        raise InputError(f"cannot read this path ({err.strerror or err})", path=str(path)) from err
    if stat.S_ISDIR(mode):
        files = list_folder(root)
        if not files:
            raise InputError(f"no benchmark files in this folder (supported: {SUPPORTED})", path=str(path))
        _refuse_several_splits(root, files)
        return root, files
    if not stat.S_ISREG(mode):
        raise InputError(f"not a regular file ({_kind(mode)}); give a benchmark file or folder", path=str(path))
    if supported_suffix(root.name) is None:
        raise InputError(
            f"unsupported file type {root.suffix or '(no suffix)'!r}; supported: {SUPPORTED}",
            path=str(path),
        )
    return root, [root]


_SPLITS = frozenset({"train", "test", "dev", "val", "valid", "validation", "auxiliary_train"})


def _split_of(rel: tuple[str, ...]) -> str | None:
    """The split a file of a benchmark folder belongs to, by its path inside the folder (its parts): the first
    subfolder's name (``test/x.csv``), else the file name's first word (``train.jsonl``, ``test_socratic.jsonl``,
    ``test-00000-of-00001.parquet``), when that is a split's name; None otherwise."""
    first = rel[0] if len(rel) > 1 else re.split(r"[-_.]", rel[0], maxsplit=1)[0]
    return first.lower() if first.lower() in _SPLITS else None


def _refuse_several_splits(root: Path, files: list[Path]) -> None:
    """Refuse a folder whose files belong to two or more splits (``mmlu/`` holding ``dev/`` and ``test/``,
    ``MATH/`` holding ``train/`` and ``test/``, ``gsm8k/`` holding ``train.jsonl`` and ``test.jsonl``): read
    whole, it would mix them into one benchmark, whose contamination rate would be no split's.

    Raises:
        InputError: Naming the splits and what to pass instead.
    """
    by_split: dict[str, Path] = {}
    for f in files:
        rel = f.relative_to(root).parts
        split = _split_of(rel)
        if split is not None:
            by_split.setdefault(split, root / rel[0])
    if len(by_split) > 1:
        pick = by_split.get("test") or next(iter(by_split.values()))
        raise InputError(f"this folder holds several splits ({', '.join(sorted(by_split))}), which would be checked "
                         f"as one benchmark; pass the split to check, e.g. {pick}", path=str(root))


def row_prefix(root: Path, file: Path, n_files: int) -> str | None:
    """The prefix of row-number ids: the relative path without suffix in a folder of several files."""
    if n_files == 1:
        return None
    rel = file.relative_to(root).as_posix()
    return rel[: len(rel) - len(supported_suffix(file.name) or "")]


def supported_suffix(filename: str) -> str | None:
    """The supported suffix of a file name (``".jsonl.gz"``...), or ``None``."""
    lower = filename.lower()
    if lower.endswith(".parquet"):
        return filename[-len(".parquet") :]
    base = lower.removesuffix(".gz")
    for suffix in _BASE_SUFFIXES:
        if base.endswith(suffix):
            return filename[-(len(suffix) + len(lower) - len(base)) :]
    return None


def is_documentation(filename: str) -> bool:
    """Whether a file in a benchmark folder is documentation, ignored (README*, LICENSE*, SOURCES*, *.md...).

    A name with a supported suffix is data, never documentation.

    Example:
        >>> [is_documentation(n) for n in ("LICENSE", "SOURCES.md", "notes.md", "README.txt", "readme.jsonl")]
        [True, True, True, True, False]
        >>> is_documentation("questions.txt")
        False
    """
    lower = filename.lower()
    if supported_suffix(filename) is not None:
        return False
    return lower.endswith(".md") or lower.startswith(_DOC_PREFIXES)


def list_folder(root: Path) -> list[Path]:
    """Supported files under ``root``, recursively, sorted by relative path (rules: the module docstring).

    Raises:
        InputError: Naming the entry (or, for several, the folder and each entry) that cannot be read.
    """
    found: list[tuple[str, Path]] = []
    problems: list[tuple[Path, str]] = []
    start = root.stat()
    _walk(root, root, {(start.st_dev, start.st_ino)}, found, problems)
    if len(problems) == 1:
        entry, reason = problems[0]
        raise InputError(f"{reason}; {_FOLDER_RULE}", path=str(entry))
    if problems:
        shown = "; ".join(f"{entry.relative_to(root).as_posix()}: {reason}" for entry, reason in problems[:10])
        more = f"; ... ({len(problems)} in all)" if len(problems) > 10 else ""
        raise InputError(f"{len(problems)} entries of this folder cannot be read as benchmark files ({shown}"
                         f"{more}); {_FOLDER_RULE}", path=str(root))
    return [file for _, file in sorted(found)]


def _walk(root: Path, folder: Path, ancestors: set[tuple[int, int]], found: list[tuple[str, Path]],
          problems: list[tuple[Path, str]]) -> None:
    """Add the supported files under ``folder`` to ``found`` and what cannot be read to ``problems``."""
    try:
        with os.scandir(folder) as it:
            names = sorted(entry.name for entry in it)
    except OSError as err:
        problems.append((folder, f"cannot list this folder ({err.strerror or err})"))
        return
    for name in names:
        if name.startswith("."):
            continue
        path = folder / name
        try:
            info = path.stat()  # follows symbolic links
        except OSError as err:
            if not is_documentation(name):
                problems.append((path, _stat_problem(path, err)))
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in ancestors:
                problems.append((path, "symbolic link loop (this folder holds itself)"))
            else:
                _walk(root, path, ancestors | {key}, found, problems)
        elif is_documentation(name):
            continue
        elif not stat.S_ISREG(info.st_mode):
            problems.append((path, f"not a regular file ({_kind(info.st_mode)})"))
        elif supported_suffix(name) is None:
            suffix = Path(name).suffix or "(no suffix)"
            why = f"not a benchmark file: unsupported file type {suffix!r} (supported: {SUPPORTED})"
            problems.append((path, why))
        elif not os.access(path, os.R_OK):
            problems.append((path, "cannot read the file (Permission denied)"))
        else:
            found.append((path.relative_to(root).as_posix(), path))


def _stat_problem(path: Path, err: OSError) -> str:
    """Why an entry cannot be looked at: a broken link, a loop, permission denied..."""
    if isinstance(err, FileNotFoundError) and path.is_symlink():
        return f"broken symbolic link (to {os.readlink(path)!r}, which does not exist)"
    return f"cannot be read ({err.strerror or err})"


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"))
    for test, kind in kinds:
        if test(mode):
            return kind
    return "a special file"


Records = Iterator[tuple[int | None, Any]]


class Table(NamedTuple):
    """One opened file (or hub split).

    Attributes:
        records: ``(line, row)`` pairs; ``line`` is 1-based (or ``None`` when unknown).
        columns: Column names for tabular sources (CSV, Parquet, hub), else ``None``.
        header_line: The line the column names are on (1 for CSV with a header row), if any.
        one_item: The whole file is one item (a JSON file read with the path ``"$"``).
    """

    records: Records
    columns: Sequence[str] | None = None
    header_line: int | None = None
    one_item: bool = False


class Layout(NamedTuple):
    """How a benchmark's published files are laid out, beyond what their suffix says.

    Attributes:
        json_items: Where the items are in a ``.json`` file, as a JSONPath (see :func:`json_path_steps`);
            ``None``: a list, or an object with one list-valued key.
        csv_columns: Column names of CSV files published without a header row. A file whose first row holds
            the first of these names has a header row and is read by it.
    """

    json_items: str | None = None
    csv_columns: Sequence[str] | None = None


def read_table(file: Path, layout: Layout | None = None) -> Table:
    """Open one local file, laid out as ``layout`` says (a registry benchmark's published layout), if given."""
    layout = Layout() if layout is None else layout
    suffix = (supported_suffix(file.name) or "").lower()
    if suffix == ".parquet":
        return read_parquet(file)
    text = read_text(file)
    base = suffix.removesuffix(".gz")
    if base == ".jsonl":
        return Table(jsonl_records(text, file))
    if base == ".json":
        if layout.json_items is not None:
            return json_path_table(text, file, layout.json_items)
        return Table(json_records(text, file))
    return csv_table(text, file, layout.csv_columns)


def read_text(file: Path) -> str:
    """The whole file as text: gunzipped if ``.gz``, UTF-8 with an optional BOM."""
    try:
        if file.name.lower().endswith(".gz"):
            with gzip.open(file, "rb") as fh:
                data = fh.read()
        else:
            data = file.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise InputError(
            f"not a readable gzip file ({err}); re-download it, or remove the .gz suffix if it is not compressed",
            path=str(file),
        ) from err
    except OSError as err:
        raise InputError(f"cannot read the file ({err.strerror or err})", path=str(file)) from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"invalid UTF-8 (byte 0x{data[err.start]:02x} at byte offset {err.start}); re-encode the file as "
            "UTF-8 (e.g. iconv -f latin1 -t utf-8)",
            path=str(file),
            line=line,
        ) from err
    return text.removeprefix("\ufeff")


def jsonl_records(text: str, file: Path) -> Records:
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
        except RecursionError:
            raise InputError("malformed JSON (nested too deeply to read); fix or remove this line", path=str(file),
                             line=lineno) from None
        yield lineno, row


def json_records(text: str, file: Path) -> Records:
    """The items of a ``.json`` file by the default rule: a list, or an object with one list-valued key."""
    if not text.strip():
        return
    data = _parse_json(text, file)
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
            f"a .json benchmark must be a list of objects, got a JSON {json_type(data)}",
            path=str(file),
            line=1,
        )
    lines = _json_lines(text, ["[*]"] if key is None else [key, "[*]"], len(data))
    for index, row in enumerate(data):
        yield (lines[index] if lines is not None else None), row


def json_path_steps(path: str) -> list[str]:
    """The steps of a JSONPath of the subset benchmark layouts use: ``$``, ``.key``, ``.*`` and ``[*]``.

    A step is a key, ``"*"`` (every value of an object) or ``"[*]"`` (every element of a list).

    Raises:
        ValueError: If the path is not of that subset.

    Example:
        >>> json_path_steps("$.data[*].paragraphs[*]"), json_path_steps("$.*.qa_pairs[*]"), json_path_steps("$")
        (['data', '[*]', 'paragraphs', '[*]'], ['*', 'qa_pairs', '[*]'], [])
    """
    if not _JSON_PATH.fullmatch(path):
        raise ValueError(f"unsupported JSON path {path!r}: use $ then .key, .* or [*] steps, e.g. '$.data[*]'")
    return [m.group(1) if m.group(1) is not None else "[*]" for m in _JSON_STEP.finditer(path, 1)]


def json_path_table(text: str, file: Path, path: str) -> Table:
    """The items of a ``.json`` file at a JSONPath (see :func:`json_path_steps`); ``"$"``: the file is one item.

    An item that is an object also gets the other fields of the objects it is nested in, where it has no field
    of the same name: a SQuAD question its paragraph's ``context`` and article's ``title``, a DROP question its
    ``passage``, as the hub copies have them on each row.

    Raises:
        InputError: If the file is not JSON, or has no items where the path says (naming where it differs).
    """
    steps = json_path_steps(path)
    if not text.strip():
        return Table(iter(()), one_item=not steps)
    nodes: list[tuple[Any, str, dict[str, Any]]] = [(_parse_json(text, file), "$", {})]
    for step in steps:
        nodes = [found for node in nodes for found in _json_step(node, step, file, path)]
    lines = _json_lines(text, steps, len(nodes))
    records = [(lines[i] if lines is not None else None, {**outer, **node} if outer and isinstance(node, dict)
                else node) for i, (node, _, outer) in enumerate(nodes)]
    return Table(iter(records), one_item=not steps)


def _json_step(found: tuple[Any, str, dict[str, Any]], step: str, file: Path, path: str
               ) -> list[tuple[Any, str, dict[str, Any]]]:
    """The values one path step selects from a node, each with its location and the fields it inherits."""
    node, where, outer = found
    if step == "[*]" and isinstance(node, list):
        return [(value, f"{where}[{i}]", outer) for i, value in enumerate(node)]
    if step == "*" and isinstance(node, dict):
        return [(value, f"{where}.{key}", outer) for key, value in node.items()]
    if step not in ("[*]", "*") and isinstance(node, dict) and step in node:
        return [(node[step], f"{where}.{step}", {**outer, **{k: v for k, v in node.items() if k != step}})]
    if step in ("[*]", "*") or not isinstance(node, dict):
        wanted = "a list" if step == "[*]" else "an object"
        detail = f"{where} is a JSON {json_type(node)}, not {wanted}"
    else:
        detail = f"{where} has no key {step!r} (keys: {', '.join(map(repr, list(node)[:12])) or 'none'})"
    raise InputError(
        f"this file does not have the published layout of this benchmark (items at {path}): {detail}; check "
        "that it is the right file (a file laid out otherwise loads under a name of your own, with its "
        "question field)",
        path=str(file),
    )


def _parse_json(text: str, file: Path) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError("malformed JSON (nested too deeply to read)", path=str(file)) from None
    except json.JSONDecodeError as err:
        hint = (
            "; this looks like JSON Lines (one object per line): rename the file to .jsonl"
            if err.msg == "Extra data"
            else ""
        )
        raise InputError(
            f"malformed JSON ({err.msg} at column {err.colno}){hint}", path=str(file), line=err.lineno
        ) from err


def _json_lines(text: str, steps: list[str], expected: int) -> list[int] | None:
    """The 1-based line where each value the path steps select starts, or ``None`` if it cannot be told."""
    try:
        starts = [_skip_ws(text, 0)]
        for step in steps:
            starts = [found for start in starts for found in _json_starts(text, start, step)]
    except (json.JSONDecodeError, IndexError, RecursionError):
        return None
    if len(starts) != expected:
        return None
    lines, line, last = [], 1, 0
    for start in starts:  # in document order
        line += text.count("\n", last, start)
        lines.append(line)
        last = start
    return lines


def _json_starts(text: str, pos: int, step: str) -> list[int]:
    """Offsets of the values one path step selects from the JSON value at ``pos`` (a key: its last value)."""
    decoder = json.JSONDecoder()
    close = {"[": "]", "{": "}"}.get(text[pos])
    if close is None or (close == "]") != (step == "[*]"):
        return []
    starts: list[int] = []
    pos = _skip_ws(text, pos + 1)
    while text[pos] != close:
        if close == "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # past ':'
            if step == "*":
                starts.append(pos)
            elif key == step:
                starts = [pos]  # the last value of a repeated key, as json.loads keeps
        else:
            starts.append(pos)
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip_ws(text, pos)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return starts


def _skip_ws(text: str, pos: int) -> int:
    match = _JSON_WS.match(text, pos)
    return match.end() if match else pos


def csv_table(text: str, file: Path, columns: Sequence[str] | None = None) -> Table:
    """A CSV file's rows: by its header row, or by ``columns`` when its first row does not hold ``columns[0]``."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise InputError(f"malformed CSV header ({err})", path=str(file), line=reader.line_num) from err
    if header is None:
        return Table(iter(()))
    if columns is not None and columns[0] not in header:  # published without a header row: line 1 is data
        reader = csv.reader(io.StringIO(text, newline=""))
        described = f"the published layout has {len(columns)} columns ({', '.join(columns)})"
        return Table(_csv_rows(reader, list(columns), file, described), list(columns))
    return Table(_csv_rows(reader, header, file), header, 1)


def _csv_rows(reader: Any, header: list[str], file: Path, described: str | None = None) -> Records:
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
                f"row has {len(row)} values but {described or f'the header has {len(header)} columns'}; check "
                "the quoting of this row (fields with commas, quotes or newlines must be in double quotes)",
                path=str(file),
                line=start,
            )
        yield start, dict(zip(header, row))


def read_parquet(file: Path) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise MissingDependencyError("reading Parquet benchmarks needs pyarrow: pip install pyarrow") from err
    try:
        table = pq.read_table(file)
    except Exception as err:  # pyarrow raises ArrowInvalid/OSError subclasses for damaged files
        raise InputError(
            f"not a readable Parquet file ({err}); re-export it, or use .jsonl/.csv", path=str(file)
        ) from err
    return Table(enumerate(table.to_pylist(), start=1), table.column_names)


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value, for messages (``null``, ``number``, ``object``...)."""
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
