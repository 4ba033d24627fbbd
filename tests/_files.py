"""Files shared by the input and output tests: corpus files written and read back whole."""

from __future__ import annotations

import gzip
import json
import sysconfig
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from decontam.benchmarks import Benchmark, Item
from decontam.inputs import CorpusFile, Rejected, file_format, read_file

# Three questions, GSM8K- and MBPP-like, as a small benchmark: for the tests that plant them in files cut in parts.
DEMO_QUESTIONS = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting.",
    "Write a function that returns the sum of two integers given as arguments, or zero.",
]
DEMO_BENCH = Benchmark.from_items("demo", [Item(i, q) for i, q in enumerate(DEMO_QUESTIONS)])

ROWS = [
    {"id": 1, "text": "plain ASCII text"},
    {"id": "b", "text": "Ünïcödé — 中文 — 𝐀 — emoji 😀", "extra": {"nested": [1, 2]}},
    {"text": "escapes: \n \t \" \\ \u00e9", "id": 3.5},
    {"text": "", "id": None},
    {"meta": "text field not first", "text": "second field", "id": True},
    {"id": 6, "text": "x" * 300},
]


def jsonl_file(path: Path) -> CorpusFile:
    return CorpusFile(path, path.name, file_format(path))


def read_all(path: Path, on_error: str = "raise", text_field: str = "text", id_field: str | None = "id"):
    """Read a whole file: (texts, lines, rows, ids, rejected)."""
    rejected: list[Rejected] = []
    texts, lines, rows, ids = [], [], [], []
    for b in read_file(jsonl_file(path), text_field, id_field, on_error, rejected):
        assert len(b) == len(b.lines) == len(b.rows)
        texts += b.texts.to_pylist()
        lines += b.lines.tolist()
        rows += b.rows.tolist()
        ids += [b.doc_id(i) for i in range(len(b))]
    return texts, lines, rows, ids, rejected


def write_jsonl(path: Path, rows, *, ensure_ascii: bool = True, newline: bytes = b"\n",
                trailing: bool = True):
    lines = [json.dumps(r, ensure_ascii=ensure_ascii).encode("utf-8") for r in rows]
    data = newline.join(lines) + (newline if trailing and lines else b"")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return data


def parquet_file(path: Path, table: pa.Table, **kw) -> CorpusFile:
    pq.write_table(table, path, **kw)
    return CorpusFile(path, path.name, "parquet")


def stdlib_code_jsonl(path: Path, n_files: int) -> Path:
    """Real code as a corpus: the first ``n_files`` standard-library ``.py`` files (in path order), one JSONL row
    each (``id``: the path under the library, ``text``: the source)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    rows = []
    for p in sorted(root.rglob("*.py")):
        try:
            rows.append({"id": p.relative_to(root).as_posix(), "text": p.read_text(encoding="utf-8")})
        except (UnicodeDecodeError, OSError):
            continue
        if len(rows) == n_files:
            break
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
