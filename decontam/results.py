"""Per-item evaluation results: which harness wrote a results file, and each record's item id and score.

Formats, told apart by the file's shape (not its name):

* **lm-evaluation-harness** ``--log_samples`` files (``samples_<task>_<time>.jsonl``, written by
  ``EvaluationTracker.save_results_samples`` from the records ``lm_eval/evaluator.py`` builds): JSON lines with
  ``doc_id``, ``doc``, ``filter``, ``metrics`` and one key per metric, e.g. ``"exact_match": 1.0``. A task
  with several filters (``strict-match``, ``flexible-extract``) logs every document once per filter; the
  filters are kept apart (:func:`load_results_by_filter`).
* **lighteval** details (``details_<task>_<time>.parquet``, written by ``EvaluationTracker.save_details``):
  since lighteval 0.11 one row per document with the structs ``doc`` (``doc.id``: the row of the evaluation
  split; ``doc.query``; ``doc.task_name``), ``metric`` and ``model_response``; before (0.10 and older) flat
  columns ``example`` (the query), ``full_prompt``, ``predictions``, ``metrics``... with no document id (up to
  0.7 every value is a string, ``metrics`` the ``str()`` of a dict). Metric names become fields (``em``,
  ``acc``...); the default score is the first metric.
* **EvalPlus** ``eval_results.json`` (``evalplus/evaluate.py``, ``evaluate``): ``{"date", "hash", "eval":
  {task_id: [{"task_id", "solution", "base_status", "plus_status", ...}, ...]}}`` (0.2.1 and later; before,
  ``{task_id: {"nfiles", "base": [[status, details], ...], "plus": [...]}}``). One record per sample; the default
  score is ``base_status`` (the original tests); ``plus`` is ``pass`` when both ``base_status`` and
  ``plus_status`` pass, which is how EvalPlus counts HumanEval+ and MBPP+ (``--score-field plus``).
* **HumanEval** ``*_results.jsonl`` from ``evaluate_functional_correctness`` (``task_id``, ``passed``);
* any **JSONL / JSON array / CSV / Parquet** with an item id and a score (number, boolean, or ``pass``/``fail``
  words).

Several samples of one item are averaged per item (the per-item pass@1 estimate), but for lm-eval and lighteval,
which write each document once per filter (what is refused: :func:`load_results_by_filter`).

Ids: unless ``id_field`` or ``id_template`` says how, every plausible id of a record is tried and the one that
names the most of the report's items wins (earlier candidates win ties); the choice is printed. Candidates:
``doc_id``, ``doc.task_id``... and ``<subject>_test/<doc_id>`` for lm-eval MMLU subtasks; ``doc.id`` and
``<subject>_test/<doc.id>`` for lighteval (``mmlu:<subject>`` tasks); ``task_id`` and the number after
``Mbpp/`` for EvalPlus (``Mbpp/2`` is MBPP's ``task_id`` 2; results of HumanEval for MBPP are refused, and the
reverse); and, for lighteval, the **query text**: the record names the report item all of whose probes occur
in its normalized query (:class:`QuestionFinder`), which needs no id at all. Items in the results but not in
the report, and the reverse, are counted and listed by the caller, never dropped silently.
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .benchmark_files import read_parquet
from .benchmarks import field_value
from .config import NormalizeConfig
from .errors import ConfigError, InputError
from .match import Matcher, ProbeGroup
from .normalize import normalize
from .words import word_text

__all__ = ["ItemResults", "QuestionFinder", "load_results", "load_results_by_filter", "score_value"]

_TRUE = {"true", "pass", "passed", "correct", "yes", "y", "t", "1", "ok", "success"}
_FALSE = {"false", "fail", "failed", "incorrect", "wrong", "no", "n", "f", "0", "timeout", "timed out", "error"}
_GENERIC_IDS = ("id", "item_id", "task_id", "doc_id", "question_id", "qid", "idx", "uid", "index")
_GENERIC_SCORES = ("score", "passed", "pass", "correct", "is_correct", "acc", "accuracy", "exact_match", "em",
                   "result", "pass@1")
_LM_EVAL_METRICS = ("acc", "exact_match", "pass@1", "acc_norm", "mc2", "mc1", "f1", "em", "bleu", "rougeL")
_LM_EVAL_STAMP = re.compile(r"^samples_(?P<task>.+?)_\d{4}-\d{2}-\d{2}T[\d\-.:]+\.jsonl(?:\.gz)?$")
_LIGHTEVAL_STAMP = re.compile(r"^details_(?P<task>.+)_\d{4}-\d{2}-\d{2}T[\d\-.:]+\.parquet$")
_LIGHTEVAL_SUBJECT = re.compile(r"(?:^|\|)(?:mmlu:|mmlu_|hendrycksTest-)(?P<subject>[a-z_]+)(?:\||$)")
_PASSING = ("pass", "success")  # EvalPlus statuses (0.2.1+, and older)
_EVALPLUS_SETS = {"HumanEval": "humaneval", "Mbpp": "mbpp"}  # EvalPlus task id prefix -> the benchmarks' names
_LONG = 50  # probe characters that make an item a strong candidate for a text (QuestionFinder._pool)

LM_EVAL = "lm-eval samples"
LIGHTEVAL = "lighteval details"
EVALPLUS = "evalplus results"
HUMANEVAL = "humaneval results"


# ------------------------------------------------------------------------------------------------- values


def score_value(value: Any) -> float | None:
    """A score from a record's value: numbers, booleans and pass/fail words; ``None`` if it is none of these.

    NaN and infinities, as numbers or as text (``"nan"``, ``"inf"``), are not scores: ``None``.

    Example:
        >>> [score_value(v) for v in (True, 0.5, "passed", "failed: AssertionError", "timed out", "maybe", "nan")]
        [1.0, 0.5, 1.0, 0.0, 0.0, None, None]
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        v = value.strip().lower()
        try:
            number = float(v)
        except ValueError:
            pass
        else:
            return number if math.isfinite(number) else None
        if v in _TRUE:
            return 1.0
        if v in _FALSE or v.startswith(("failed", "timed out")):
            return 0.0
    return None


def item_key(value: Any) -> str | None:
    """The text form an item id is joined on (``3`` and ``3.0`` are ``"3"``); ``None`` for no usable id."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ----------------------------------------------------------------------------------------------- records


_Rec = tuple[int | None, str, dict[str, Any]]  # (line or row, field prefix for messages, record)


@dataclass
class _File:
    """One results file, read: its format, the task its name (or content) gives, its records."""

    path: Path
    format: str
    task: str | None
    records: list[_Rec]


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig")


def _json(text: str, path: Path, line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply to read" if isinstance(exc, RecursionError) else str(exc)
        what = "not valid JSON" if line is None else "not a JSON object"
        raise InputError(f"{what}: {reason}", path=str(path), line=line) from None


def _read(path: Path) -> _File:
    """Read one results file and tell its format."""
    if not path.exists():
        raise InputError("no such results file", path=str(path))
    base = path.name.removesuffix(".gz")
    if base.lower().endswith(".parquet"):
        return _parquet_file(path)
    text = _open_text(path)
    if base.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        return _File(path, "csv", None, [(i + 2, "", dict(row)) for i, row in enumerate(reader)])
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = _json(text, path)
        return _File(path, "jsonl", None, [(i + 1, "", r) for i, r in enumerate(data) if isinstance(r, dict)])
    if stripped.startswith("{"):
        try:
            whole = json.loads(text)
        except (ValueError, RecursionError):
            whole = None  # JSON lines, read below
        if isinstance(whole, dict) and _is_evalplus(whole):
            return _File(path, EVALPLUS, None, _evalplus_records(whole, path))
    records: list[_Rec] = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        rec = _json(line, path, i + 1)
        if not isinstance(rec, dict):
            raise InputError("each line must be a JSON object", path=str(path), line=i + 1)
        records.append((i + 1, "", rec))
    fmt = _detect_lines(records)
    m = _LM_EVAL_STAMP.match(path.name)
    return _File(path, fmt, m.group("task") if m and fmt == LM_EVAL else None, records)


def _detect_lines(records: list[_Rec]) -> str:
    if not records:
        return "jsonl"
    rec = records[0][2]
    if "doc_id" in rec and ("filtered_resps" in rec or "resps" in rec or "doc" in rec):
        return LM_EVAL
    if "task_id" in rec and ("passed" in rec or "result" in rec):
        return HUMANEVAL
    return "jsonl"


def _is_evalplus(doc: Mapping[str, Any]) -> bool:
    """``{"eval": {task_id: [sample, ...] or {"base": [...], ...}}}``, as EvalPlus's ``evaluate`` writes."""
    ev = doc.get("eval")
    if not isinstance(ev, dict) or not ev:
        return False
    first = next(iter(ev.values()))
    return (isinstance(first, list) and all(isinstance(s, dict) and "base_status" in s for s in first)) or (
        isinstance(first, dict) and isinstance(first.get("base"), list))


def _plus(base: Any, plus: Any) -> str | None:
    """HumanEval+/MBPP+ outcome of a sample, as EvalPlus counts it: base and extra tests both pass."""
    if plus is None:
        return None
    return "pass" if base in _PASSING and plus in _PASSING else "fail"


def _evalplus_records(doc: Mapping[str, Any], path: Path) -> list[_Rec]:
    """One record per sample: ``task_id``, ``base_status``, ``plus_status``, ``plus`` (and the rest as written)."""
    out: list[_Rec] = []
    for task_id, entry in doc["eval"].items():
        if isinstance(entry, list):  # EvalPlus 0.2.1 and later
            for k, sample in enumerate(entry):
                if not isinstance(sample, dict):
                    raise InputError(f"eval[{task_id!r}][{k}] is not an object", path=str(path))
                rec = {"task_id": task_id, **sample}
                rec["plus"] = _plus(rec.get("base_status"), rec.get("plus_status"))
                out.append((None, f"eval[{task_id!r}][{k}].", rec))
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("base"), list):
            raise InputError(f"eval[{task_id!r}] has no 'base' list (an EvalPlus result?)", path=str(path))
        plus = entry.get("plus") or []
        for k, base in enumerate(entry["base"]):  # EvalPlus up to 0.2.0: [status, details] per sample
            status = base[0] if isinstance(base, list) and base else base
            pstatus = plus[k][0] if k < len(plus) and isinstance(plus[k], list) and plus[k] else None
            rec = {"task_id": task_id, "base_status": status, "plus_status": pstatus, "plus": _plus(status, pstatus)}
            out.append((None, f"eval[{task_id!r}].base[{k}].", rec))
    return out


def _parquet_file(path: Path) -> _File:
    table = read_parquet(path)
    columns = set(table.columns or ())
    rows = [(line, "", row) for line, row in table.records]
    new = {"doc", "metric", "model_response"} <= columns  # lighteval 0.11 and later
    old = {"example", "metrics"} <= columns and bool({"full_prompt", "predictions"} & columns)
    if not (new or old):
        return _File(path, "parquet", None, rows)
    records = [(line, "", _lighteval_record(row, new, path, line)) for line, _, row in rows]
    task = None
    if new and records:
        task = field_value(records[0][2], "doc.task_name") or None
    if task is None:
        m = _LIGHTEVAL_STAMP.match(path.name)
        task = m.group("task") if m else None
    return _File(path, LIGHTEVAL, task, records)


def _lighteval_record(row: dict[str, Any], new: bool, path: Path, line: int | None) -> dict[str, Any]:
    """A details row with its metrics also as fields of their own (``em``, ``acc``...) and ``query``."""
    metrics = row.get("metric") if new else row.get("metrics")
    if isinstance(metrics, str):  # lighteval <= 0.7 wrote str(dict)
        try:
            metrics = ast.literal_eval(metrics)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            metrics = None
        if not isinstance(metrics, dict):
            raise InputError("metrics is not a dictionary", path=str(path), line=line, field="metrics")
    rec = dict(row)
    for name, value in (metrics or {}).items():
        rec.setdefault(name, value)
    rec["__metrics__"] = [name for name, value in (metrics or {}).items() if value is not None]
    rec["__query__"] = field_value(row, "doc.query") if new else row.get("example")
    return rec


# ------------------------------------------------------------------------------------- the query-text join


class QuestionFinder:
    """Which report item a prompt asks: the item all of whose probes occur in the normalized prompt.

    This joins results that carry the prompt but no usable id (lighteval details) to the report, with the
    report alone: its items' probes, normalized as the check normalized. The items whose every probe is in a
    text (only those whose id starts with ``prefer``, e.g. the MMLU subject, if the report has such ids) are its
    candidates: those with at least 50 characters of probes (every sampled question) if there are any, else
    the short questions used whole that hold every other candidate. A text names its candidate when it has
    exactly one that no other text of the same call has. So a question asked twice, a template or a passage
    shared by several questions (unless the probes reach the part that differs), a generic short question
    (``Which of the following is true``) found in other texts, or a text whose item the report lacks name
    nothing: such records are listed by the caller, never guessed.

    Args:
        items: ``(id key, probes)`` per report item (items without probes cannot be found).
        config: The normalizer options of the check.
        words: The probes are the 13-gram rule's word text (words apart by spaces), not normalized text.

    Example:
        >>> f = QuestionFinder([("a", ["Howmanyapples"]), ("b", ["Howmanypears"])], NormalizeConfig())
        >>> f.find(["Question: How many pears?\\nAnswer:", "How many plums?"])
        ['b', None]
        >>> f.asks("a", "How many apples?"), f.asks("a", "How many pears?"), f.asks("c", "How many apples?")
        (True, False, None)
    """

    def __init__(self, items: Iterable[tuple[str, Sequence[str]]], config: NormalizeConfig,
                 words: bool = False) -> None:
        self.config = config
        self.words = words
        self._items = [(key, [p for p in probes if p]) for key, probes in items]
        self._items = [(key, probes) for key, probes in self._items if probes]
        self._probes = dict(self._items)
        self._matcher: Matcher | None = None

    def asks(self, key: str, text: str | None) -> bool | None:
        """Whether ``text`` holds a probe of item ``key``'s question, or an end of a question used whole (``--probes
        all``; the 13-gram rule's words); ``None`` for an item without probes, or no text (or a placeholder)."""
        probes = self._probes.get(key) or []
        norm = (word_text(text) if self.words else normalize(text, self.config)) if probes and text else ""
        if not norm:
            return None
        ends = probes[0].split() if self.words else []
        pieces = [f" {' '.join(ends[:13])} ", f" {' '.join(ends[-13:])} "] if self.words else (
            probes if len(probes) > 1 else [probes[0][:_LONG], probes[0][-_LONG:]])
        return any(p in norm for p in pieces)

    @classmethod
    def from_report(cls, report: Mapping[str, Any], benchmark: str) -> QuestionFinder:
        """The finder of one benchmark of a report document (its probes and its normalizer options)."""
        section = next((b for b in report.get("benchmarks", []) if b.get("name") == benchmark), {})
        items = []
        for it in section.get("items", []):
            key = item_key(it.get("id"))
            probes = it.get("probes") or ([it["normalized_question"]] if it.get("normalized_question") else [])
            if key is not None:
                items.append((key, probes))
        options = report.get("config", {}).get("normalize", {})
        known = {k: bool(v) for k, v in options.items() if k in ("lowercase", "nfkc", "unescape")}
        return cls(items, NormalizeConfig(**known), words=report.get("config", {}).get("method") == "ngram13")

    def _build(self) -> Matcher:
        groups = []
        for _, probes in self._items:
            # the probes end to end, apart (a space is never in normalized text): one group per item
            parts = [p.encode("utf-8") for p in probes]
            starts = np.cumsum([0] + [len(p) + 1 for p in parts[:-1]])
            groups.append(ProbeGroup(b" ".join(parts), starts, starts + [len(p) for p in parts]))
        return Matcher(groups)

    def find(self, texts: Sequence[str | None], prefer: str | None = None) -> list[str | None]:
        """The id key of the item each text asks, or ``None``."""
        if not self._items or not texts:
            return [None] * len(texts)
        if self._matcher is None:
            self._matcher = self._build()
        docs = [normalize(t, self.config).encode("utf-8") if isinstance(t, str) else b"" for t in texts]
        offsets = np.cumsum([0] + [len(d) for d in docs])
        found = self._matcher.scan(b"".join(docs), offsets)
        cands: dict[int, list[int]] = {}
        for (doc, group), windows in found.windows.items():
            if len(windows) == len(self._items[group][1]):
                cands.setdefault(doc, []).append(group)
        if prefer and any(key.startswith(prefer) for key, _ in self._items):  # e.g. the texts' MMLU subject
            cands = {doc: [g for g in groups if self._items[g][0].startswith(prefer)] for doc, groups in cands.items()}
        pools = {doc: self._pool(groups) for doc, groups in cands.items()}
        seen = Counter(g for pool in pools.values() for g in set(pool))
        out: list[str | None] = []
        for doc in range(len(texts)):
            only = [g for g in pools.get(doc, []) if seen[g] == 1]
            out.append(self._items[only[0]][0] if len(only) == 1 else None)
        return out

    def _pool(self, groups: list[int]) -> list[int]:
        """The candidates a text may ask, of the items whose probes it holds: those with sampled probes (at least
        :data:`_LONG` characters) if any; else the short questions used whole that hold all the others."""
        long = [g for g in groups if len(self._items[g][1]) > 1 or len(self._items[g][1][0]) >= _LONG]
        if long:
            return long
        return [g for g in groups if all(self._items[h][1][0] in self._items[g][1][0] for h in groups)]


# ------------------------------------------------------------------------------------------------------ ids


_IdFn = Callable[[dict[str, Any]], Any]
_Candidate = tuple[str, Callable[[list[_Rec]], list[str | None]]]


def _per_record(fn: _IdFn) -> Callable[[list[_Rec]], list[str | None]]:
    return lambda records: [item_key(fn(r)) for _, _, r in records]


def _id_candidates(f: _File, questions: QuestionFinder | None) -> list[_Candidate]:
    """The ways a file's records may name items, most direct first."""
    cands: list[_Candidate] = []
    if f.format == LM_EVAL:
        cands.append(("doc_id", _per_record(lambda r: r.get("doc_id"))))
        for name in ("doc.task_id", "doc.id", "doc.question_id", "doc.idx"):
            cands.append((name, _per_record(lambda r, n=name: field_value(r, n))))
        if f.task:
            subject = f.task.split("_", 1)[1] if f.task.startswith("mmlu_") else f.task
            cands.append((f"{subject}_test/{{doc_id}}", _per_record(
                lambda r, s=subject: None if r.get("doc_id") is None else f"{s}_test/{r['doc_id']}")))
    elif f.format == LIGHTEVAL:
        cands.append(("doc.id", _per_record(lambda r: field_value(r, "doc.id"))))
        subject = m.group("subject") if (m := _LIGHTEVAL_SUBJECT.search(f.task or "")) else None
        if subject:
            cands.append((f"{subject}_test/{{doc.id}}", _per_record(
                lambda r, s=subject: None if field_value(r, "doc.id") is None else f"{s}_test/{r['doc']['id']}")))
        if questions is not None:
            cands.append(("query text", lambda records: _by_query(f, records, questions, subject)))
    elif f.format == EVALPLUS:
        cands.append(("task_id", _per_record(lambda r: r.get("task_id"))))
        cands.append(("task_id number (Mbpp/2 -> 2)", _per_record(  # (only MBPP's: HumanEval/2 is not 2)
            lambda r: str(r["task_id"])[5:] if str(r.get("task_id")).startswith("Mbpp/") else None)))
    else:
        for name in _GENERIC_IDS:
            cands.append((name, _per_record(lambda r, n=name: r.get(n))))
    return cands


def _by_query(f: _File, records: list[_Rec], questions: QuestionFinder, subject: str | None) -> list[str | None]:
    """Ids by query text; a record whose query names no single item gets ``<file> row <n>`` (listed as not in
    the report)."""
    found = questions.find([r.get("__query__") for _, _, r in records], f"{subject}_test/" if subject else None)
    return [k if k is not None else f"{f.path.name} row {line}" for k, (line, _, _) in zip(found, records)]


def _choose_ids(f: _File, wanted: set[str], id_field: str | None, id_template: str | None,
                questions: QuestionFinder | None, benchmark: str | None = None) -> tuple[str, list[str | None]]:
    """How the file's records name report items (given, or the candidate naming the most), and their ids.

    A candidate some records lack is taken only if no complete one names an item: the first record without it
    is then the error (its line), rather than a file said to have no id. EvalPlus results of HumanEval for an MBPP
    report (``benchmark``), or the reverse, are refused."""
    ours = next((p for p, name in _EVALPLUS_SETS.items() if (benchmark or "").lower().startswith(name)), None)
    task_id = str(f.records[0][2].get("task_id"))  # (an EvalPlus file holds one dataset's tasks)
    if f.format == EVALPLUS and ours and (theirs := task_id.split("/", 1)[0]) in _EVALPLUS_SETS and theirs != ours:
        raise InputError(f"task {task_id!r}: EvalPlus results of {_EVALPLUS_SETS[theirs]}, not of the report's "
                         f"{benchmark}; pass {benchmark}'s results, or --benchmark NAME for another of the report's "
                         "benchmarks", path=str(f.path), field=f.records[0][1] + "task_id")
    if id_template is not None:
        return id_template, [item_key(_render(id_template, f.task, r)) for _, _, r in f.records]
    if id_field is not None:
        return id_field, [item_key(field_value(r, id_field)) for _, _, r in f.records]
    best: tuple[int, str, list[str | None]] | None = None
    partial: tuple[int, str, list[str | None]] | None = None
    for name, fn in _id_candidates(f, questions):
        if best is not None and all(k in wanted for k in best[2]):
            break  # every record names a report item already; ties go to the earlier candidate anyway
        keys = fn(f.records)
        hits = len({k for k in keys if k is not None} & wanted)
        if any(k is None for k in keys):
            if hits and (partial is None or hits > partial[0]):
                partial = (hits, name, keys)
            continue
        if best is None or hits > best[0]:
            best = (hits, name, keys)
    if partial is not None and (best is None or (wanted and best[0] == 0)):
        return partial[1], partial[2]  # (_collect names the first record without it)
    if best is None or (wanted and best[0] == 0):
        sample_ids = ", ".join(map(str, list(wanted)[:3]))
        raise ConfigError(f"{f.path}: found no id field whose values name the report's items (e.g. {sample_ids}); "
                          "pass --id-field FIELD or --id-template TEMPLATE")
    return best[1], best[2]


def _render(template: str, task: str | None, r: dict[str, Any]) -> Any:
    try:
        return template.format(task=task or "", **{k: v for k, v in r.items() if k != "task"})
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        fields = ", ".join(sorted(k for k in r if not k.startswith("__")))
        raise ConfigError(f"--id-template {template!r}: {exc!r} (record fields: {fields})") from None


# --------------------------------------------------------------------------------------------------- scores


def _default_metric(f: _File) -> str:
    """The field holding the score when none is given: lm-eval's first metric, lighteval's first metric,
    EvalPlus's ``base_status``, HumanEval's ``passed``, or the first of the usual names."""
    first = f.records[0][2] if f.records else {}
    metric = ""
    if f.format == LM_EVAL:
        listed = first.get("metrics")
        metric = listed[0] if isinstance(listed, list) and listed else next(
            (m for m in _LM_EVAL_METRICS if m in first), "")
    elif f.format == LIGHTEVAL:
        metric = next(iter(first.get("__metrics__", [])), "")
    elif f.format == EVALPLUS:
        metric = "base_status"
    elif f.format == HUMANEVAL:
        metric = "passed" if "passed" in first else "result"
    else:
        metric = next((m for m in _GENERIC_SCORES if m in first), "")
    if not metric:
        raise ConfigError(f"{f.path}: cannot tell which field holds the score; pass --score-field FIELD")
    return metric


# ----------------------------------------------------------------------------------------------- loading


@dataclass
class ItemResults:
    """Per-item outcomes read from results files.

    Attributes:
        scores: ``id key -> list of per-sample scores`` (the item's score is their mean).
        format: ``"lm-eval samples"``, ``"lighteval details"``, ``"evalplus results"``, ``"humaneval results"``,
            ``"jsonl"``, ``"csv"`` or ``"parquet"`` (several, comma-separated, when the files differ).
        id_source: Where the ids came from (a field path, a template, or ``query text``).
        metric: The score field used.
        n_records: Records read.
        sources: The files read.
        filter: The lm-eval filter these scores are of, when the files held several (else ``None``).
    """

    scores: dict[str, list[float]] = field(default_factory=dict)
    format: str = ""
    id_source: str = ""
    metric: str = ""
    n_records: int = 0
    sources: list[str] = field(default_factory=list)
    filter: str | None = None


def _filters(files: Sequence[_File]) -> list[str]:
    """The lm-eval filters of the records, in the order they first appear."""
    return list(dict.fromkeys(str(r["filter"]) for f in files if f.format == LM_EVAL
                              for _, _, r in f.records if "filter" in r))


def _select_filter(f: _File, filter_name: str) -> _File:
    """The records of one filter of an lm-eval file (other files unchanged)."""
    names = sorted({str(r.get("filter")) for _, _, r in f.records if "filter" in r})
    if f.format != LM_EVAL or not names:
        return f
    records = [rec for rec in f.records if str(rec[2].get("filter")) == filter_name]
    if not records:
        raise ConfigError(f"{f.path}: no sample with filter {filter_name!r} (has: {', '.join(names)})")
    return _File(f.path, f.format, f.task, records)


def load_results_by_filter(
    paths: Sequence[str | os.PathLike[str]],
    report_ids: Iterable[Any] = (),
    *,
    id_field: str | None = None,
    id_template: str | None = None,
    score_field: str | None = None,
    filter_name: str | None = None,
    questions: QuestionFinder | None = None,
    benchmark: str | None = None,
) -> list[ItemResults]:
    """Read per-item outcomes from results files: one :class:`ItemResults` per lm-eval filter.

    Files whose lm-eval samples hold several filters (``strict-match``, ``flexible-extract``) give one result per
    filter, in the order the filters appear (the task's order); otherwise, or with ``filter_name``, a list of
    one, exactly as :func:`load_results` returns it.

    Args:
        paths: Results files (several lm-eval sample or lighteval details files, e.g. one per MMLU subject, are
            read together).
        report_ids: The benchmark's item ids in the report, used to pick the id field automatically.
        id_field: Field (dotted path) holding the item id.
        id_template: A ``str.format`` template over the record's fields (and ``task``, from an lm-eval or
            lighteval file), e.g. ``"anatomy_test/{doc_id}"`` or ``"anatomy_test/{doc[id]}"``.
        score_field: Field holding the score (default: see :func:`_default_metric`).
        filter_name: lm-eval filter to keep (``strict-match``...).
        questions: Finds items by the text of the query (lighteval), and checks that records holding their
            question (lm-eval, lighteval) ask their items' (:func:`_check_questions`); without it, ids only.
        benchmark: The report's benchmark: EvalPlus results of another (``HumanEval/N`` for MBPP) are refused.

    Raises:
        InputError: An unreadable file, one without records, a record without id or score (names file, line,
            field), an lm-eval or lighteval document twice, records of another benchmark.
        ConfigError: A file given twice; no id field that names report items; a filter the files do not hold.
    """
    wanted = {k for k in (item_key(i) for i in report_ids) if k is not None}
    files = _read_all(paths)
    filters = _filters(files)
    if filter_name is not None and filter_name not in filters:
        raise ConfigError(f"--filter {filter_name}: " + (f"no sample has this filter; the files hold: "
                          f"{', '.join(filters)}" if filters else "no lm-eval filter in these results (only lm-eval "
                          "samples name filters); leave --filter out"))
    files = [_select_filter(f, filter_name) for f in files] if filter_name is not None else files
    named = [(f, *_choose_ids(f, wanted, id_field, id_template, questions, benchmark)) for f in files]
    chosen = len(filters) < 2 or filter_name is not None  # one result (named by the filter chosen, if any)
    out = [_collect(named, score_field, name) for name in ([filter_name] if chosen else filters)]
    for f, id_name, keys in named:
        _check_questions(f, id_name, keys, questions)
    return out


def _read_all(paths: Sequence[str | os.PathLike[str]]) -> list[_File]:
    """Every file read; one given twice (by any path) or holding no record is refused."""
    files: dict[str, _File] = {}
    for p in paths:
        real = os.path.realpath(p)
        if real in files:
            raise ConfigError(f"{p}: given twice as a results file (first as {files[real].path}); give each file once")
        files[real] = _read(Path(p))
        if not files[real].records:
            raise InputError("holds no records (an empty file?): nothing to score; pass the file the harness wrote",
                             path=str(p))
    return list(files.values())


def _check_questions(f: _File, id_name: str, keys: list[str | None], questions: QuestionFinder | None) -> None:
    """Refuse lm-eval samples or lighteval details none of whose records (of up to 50 that can tell) asks its
    item's question: results of another benchmark (or split) whose ids happen to be the report's."""
    if questions is None or id_name == "query text" or f.format not in (LM_EVAL, LIGHTEVAL):
        return
    told: list[tuple[int | None, str | None]] = []  # records that can tell: none asks its item's question
    for (line, _, rec), key in zip(f.records, keys):
        text = "\n".join(_strings(rec.get("doc"))) if f.format == LM_EVAL else rec.get("__query__")
        if asks := questions.asks(key, text) if key is not None else None:
            return
        told += [(line, key)] if asks is False else []
        if len(told) == 50:
            break
    if told:
        raise InputError(f"0 of {len(told)} records checked ask their report item's question (line {told[0][0]}: item "
                         f"{told[0][1]!r}): results of another benchmark, or of another split or order of this one? "
                         "Pass this benchmark's results, or --benchmark NAME for another of the report's",
                         path=str(f.path))


def _strings(value: Any, depth: int = 0) -> list[str]:
    """The strings of a value (an lm-eval ``doc``), nested lists and objects included."""
    if isinstance(value, str):
        return [value]
    if depth > 4 or not isinstance(value, (dict, list)):
        return []
    return [s for v in (value.values() if isinstance(value, dict) else value) for s in _strings(v, depth + 1)]


def _collect(named: Sequence[tuple[_File, str, list[str | None]]], score_field: str | None,
             filter_name: str | None) -> ItemResults:
    """The scores of the records (of one filter, if given) of every file."""
    out = ItemResults(sources=[str(f.path) for f, _, _ in named], filter=filter_name)
    out.format = ", ".join(sorted({f.format for f, _, _ in named}))
    id_sources, metrics = [], []
    once: dict[tuple[str, str], tuple[Path, int | None]] = {}
    for f, id_name, keys in named:
        metric = score_field if score_field is not None else _default_metric(f)
        for (line, prefix, rec), key in zip(f.records, keys):
            if filter_name is not None and f.format == LM_EVAL and str(rec.get("filter", filter_name)) != filter_name:
                continue
            if key is None:
                raise InputError(f"no item id ({id_name}); give every record its id", path=str(f.path), line=line,
                                 field=prefix + id_name)
            value = score_value(field_value(rec, metric))
            if value is None:
                raise InputError(f"score is missing, not finite or not a number/boolean/pass-fail word: "
                                 f"{field_value(rec, metric)!r}", path=str(f.path), line=line, field=prefix + metric)
            if f.format in (LM_EVAL, LIGHTEVAL):
                _once(once, key, str(rec.get("filter", "")), f, line)
            out.scores.setdefault(key, []).append(value)
            out.n_records += 1
        id_sources.append(id_name)
        metrics.append(metric)
    out.id_source = ", ".join(sorted(set(id_sources)))
    out.metric = ", ".join(sorted(set(metrics)))
    return out


def _once(seen: dict[tuple[str, str], tuple[Path, int | None]], key: str, flt: str, f: _File,
          line: int | None) -> None:
    """lm-eval and lighteval write each document once (per filter): a second record of an item is not a sample of
    it but another run's, or one of a file whose ids restart; refused, naming both places."""
    if (first := seen.setdefault((key, flt), (f.path, line))) != (f.path, line):
        raise InputError(f"a second record of item {key!r}" + (f" (filter {flt!r})" if flt else "") + f"; "
                         f"{first[0]}, line {first[1]} has the first. {f.format} hold each document once per filter: "
                         "two runs, or files whose ids restart (one lm-eval file per MMLU subject, for a report whose "
                         "ids are row numbers)? Pass one run's files; for files per subject, check MMLU from its "
                         "subject files (ids <subject>_test/<row>)", path=str(f.path), line=line)


def load_results(paths: Sequence[str | os.PathLike[str]], report_ids: Iterable[Any] = (),
                 **options: Any) -> ItemResults:
    """Read per-item outcomes of one filter from results files (see the module docstring for the formats).

    Arguments (``id_field``, ``id_template``, ``score_field``, ``filter_name``, ``questions``, ``benchmark``) and
    errors as :func:`load_results_by_filter`, and a :class:`ConfigError` for several lm-eval filters and no
    ``filter_name`` (:func:`load_results_by_filter` gives one result per filter).
    """
    results = load_results_by_filter(paths, report_ids, **options)
    if len(results) > 1:
        names = ", ".join(r.filter or "" for r in results)
        raise ConfigError(f"{', '.join(results[0].sources)}: these lm-eval samples hold several filters ({names}); "
                          "choose one with --filter NAME")
    return results[0]
