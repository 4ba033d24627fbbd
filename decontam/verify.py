"""Reproducing a report: the command that re-runs it, and ``verify``, which re-runs it and compares.

A report records everything that decides its content: the options (``config``), the corpus sources and their
fingerprint, and each benchmark's source, fields and fingerprint. :func:`check_command` turns that into the
``decontam check`` command line that re-creates the report (built from the recorded values, so it is the same
on every machine and run); :func:`verify_report` re-runs the check and says whether the new report is the
recorded one, byte for byte, and if not, what changed: a benchmark (fingerprint), the corpus (fingerprint,
per source), the tool version, or the results.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .benchmarks import REGISTRY, Benchmark, load_benchmark
from .config import NEAR_DUP_THRESHOLD, DecontamConfig
from .errors import DecontamError
from .report import Report
from .version import __version__

__all__ = ["VerifyResult", "check_command", "verify_report"]

_CLI_DEFAULTS = {"text_field": "text", "id_field": "id", "on_error": "raise"}


def _is_memory(source: str) -> bool:
    return source.startswith("<") and source.endswith(">")


def _option(flag: str, value: str) -> list[str]:
    """An option and its value as words of a command: ``FLAG=VALUE`` when the value starts with ``-`` (a
    benchmark named ``-x``), which the command line would otherwise read as another option."""
    return [f"{flag}={shlex.quote(value)}"] if value.startswith("-") else [flag, shlex.quote(value)]


def check_command(report: Mapping[str, Any], report_path: str = "report.json") -> str:
    """The ``decontam check`` command line that re-creates ``report`` (from its recorded config and sources).

    In-memory corpora (``<list>``, ``<dataset>``...) have no path: the command names them as ``CORPUS`` and
    a comment says so.

    Example:
        >>> rep = {"config": {"normalize": {"lowercase": True, "nfkc": False, "unescape": False},
        ...        "sample": {"length": 50, "n_probes": 3, "mode": "sample", "seed": 7},
        ...        "text_field": "text", "id_field": "id", "on_error": "raise", "action": "check"},
        ...        "corpus": {"sources": ["data/a.jsonl"]},
        ...        "benchmarks": [{"name": "gsm8k", "source": "gsm8k/test.jsonl", "question_field": "question",
        ...                        "id_field": None}]}
        >>> check_command(rep)
        'decontam check data/a.jsonl -b gsm8k=gsm8k/test.jsonl --seed 7 --lowercase --report report.json'
    """
    cfg = report.get("config", {})
    parts = ["decontam", "check"]
    sources = list(report.get("corpus", {}).get("sources", []))
    memory = any(_is_memory(s) for s in sources)
    parts += ["CORPUS"] if memory else [shlex.quote(s) for s in sources]
    for b in report.get("benchmarks", []):
        name, source = b["name"], b.get("source", "")
        spec = REGISTRY.get(name)
        parts += _option("-b", name if source.startswith("hf://") else f"{name}={source}")
        if spec is None or b.get("question_field") != spec.question_field:
            if not (source.startswith("hf://") and spec is not None):
                parts += _option("--question-field", f"{name}={b.get('question_field')}")
        if b.get("id_field") is not None and (spec is None or b["id_field"] != spec.id_field):
            parts += _option("--item-id-field", f"{name}={b['id_field']}")
        if cfg.get("probe_answers") and b.get("answer_field") is not None and (
                spec is None or b["answer_field"] not in (spec.answer_field, spec.hub_answer_field)):
            parts += _option("--answer-field", f"{name}={b['answer_field']}")
    for key, flag in (("text_field", "--text-field"), ("id_field", "--id-field")):
        value = cfg.get(key, _CLI_DEFAULTS[key])
        if value != _CLI_DEFAULTS[key]:
            for one in (value if isinstance(value, list) else [value]):
                parts += [flag, shlex.quote(str(one or ""))]
    if cfg.get("method", "gpt4") != "gpt4":
        parts += ["--method", shlex.quote(str(cfg["method"]))]
    samp = cfg.get("sample", {})
    if samp.get("seed", 0) != 0:
        parts += ["--seed", str(samp["seed"])]
    if samp.get("mode") == "all":
        parts += ["--probes", "all"]
    elif samp.get("n_probes", 3) != 3:
        parts += ["--probes", str(samp["n_probes"])]
    if samp.get("length", 50) != 50:
        parts += ["--probe-length", str(samp["length"])]
    if samp.get("min_question_chars", 0):
        parts += ["--min-question-chars", str(samp["min_question_chars"])]
    for opt in ("lowercase", "nfkc", "unescape"):
        if cfg.get("normalize", {}).get(opt):
            parts.append(f"--{opt}")
    if cfg.get("probe_answers"):
        parts.append("--probe-answers")
    if cfg.get("on_error", "raise") != "raise":
        parts += ["--on-error", str(cfg["on_error"])]
    redact = cfg.get("redact")
    if redact is not None:
        parts += ["--action", "redact"]
        for key, default in (("context", 200), ("min_chars", 200), ("max_pieces", 10)):
            if redact.get(key, default) != default:
                parts += [f"--redact-{key.replace('_', '-')}", str(redact[key])]
    if cfg.get("near_dup"):
        parts.append("--near-dup")
        if cfg.get("near_dup_threshold", NEAR_DUP_THRESHOLD) != NEAR_DUP_THRESHOLD:
            parts += ["--near-dup-threshold", repr(float(cfg["near_dup_threshold"]))]
    parts += ["--report", shlex.quote(report_path)]
    line = " ".join(parts)
    if memory:
        line += "  # the corpus was given in memory: pass the same documents as CORPUS"
    return line


@dataclass
class VerifyResult:
    """What :func:`verify_report` found.

    Attributes:
        reproduced: True when the re-run report equals the recorded one byte for byte (after the notes).
        problems: What differs, one line each (benchmarks, corpus, tool version, results), empty if reproduced.
        notes: What was adjusted or is worth knowing (paths relabelled, action).
        report: The re-run report document (``None`` when it could not be run).
    """

    reproduced: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None

    def summary(self) -> str:
        """Human-readable lines: verdict, then problems and notes."""
        lines = ["REPRODUCED: the re-run report is identical, byte for byte" if self.reproduced
                 else "NOT REPRODUCED"]
        lines += [f"  - {p}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _load_recorded_benchmark(b: Mapping[str, Any], override: str | None) -> Benchmark:
    """A benchmark as the report records it: its source, fields and (with probe_answers) answer field."""
    source = override if override is not None else b.get("source", "")
    answers = "answer_fingerprint" in b  # the check probed answers
    fields = {"question_field": b.get("question_field"), "id_field": b.get("id_field"),
              "answer_field": b.get("answer_field"), "answers": answers}
    if source.startswith("hf://"):
        return load_benchmark(b["name"], None, **fields)
    if _is_memory(source):
        raise DecontamError(f"benchmark {b['name']!r} was given in memory ({source}): pass -b "
                            f"{b['name']}=PATH to say where its items are")
    return load_benchmark(b["name"], source, **fields)


def _diff_paths(a: Any, b: Any, path: str = "", out: list[str] | None = None, limit: int = 8) -> list[str]:
    """JSON paths where two documents differ (the first ``limit``)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                out.append(f"{path}/{k}: {'missing in the re-run' if k not in b else 'new in the re-run'}")
            elif a[k] != b[k]:
                _diff_paths(a[k], b[k], f"{path}/{k}", out, limit)
            if len(out) >= limit:
                break
        if list(a) != list(b) and not out:
            out.append(f"{path}: key order differs")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} entries recorded, {len(b)} now")
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    _diff_paths(x, y, f"{path}/{i}", out, limit)
                if len(out) >= limit:
                    break
    elif a != b:
        ra, rb = json.dumps(a, ensure_ascii=False), json.dumps(b, ensure_ascii=False)
        out.append(f"{path}: recorded {ra[:80]}, now {rb[:80]}")
    return out


def verify_report(
    report: Mapping[str, Any],
    corpus: Sequence[str | os.PathLike[str]],
    benchmarks: Mapping[str, str] | None = None,
    *,
    progress: bool | None = False,
) -> VerifyResult:
    """Re-run the check a report records and compare the result with it.

    Steps: re-load every benchmark from its recorded source (or ``benchmarks[name]``) and compare its
    fingerprint; re-run the check over ``corpus`` with the recorded options; compare the corpus fingerprint
    (and per source, which file changed); then compare the whole report byte for byte.

    The corpus and benchmark paths may differ from the recorded ones (another machine): when the re-run has as
    many sources as recorded, its path labels are replaced by the recorded ones before the comparison, and a
    note says so. A ``filter`` report is compared with a ``check`` re-run labelled ``filter`` (the two differ
    only in ``config.action``).

    Args:
        report: The recorded report document.
        corpus: The corpus files or folders to check.
        benchmarks: ``name -> path`` overrides for where to load benchmarks from.
        progress: Show progress bars.

    Returns:
        A :class:`VerifyResult`.
    """
    from .filter import check  # the stream direction, imported only when a check is re-run

    benchmarks = dict(benchmarks or {})
    recorded = json.loads(json.dumps(report))
    problems: list[str] = []
    notes: list[str] = []
    unknown = sorted(set(benchmarks) - {b["name"] for b in recorded.get("benchmarks", [])})
    if unknown:
        problems.append(f"-b names benchmarks that are not in the report: {', '.join(unknown)}")
        return VerifyResult(False, problems, notes)
    index = recorded.get("index")
    if isinstance(index, dict) and index.get("kind") == "portrait":
        problems.append("the report is a portrait check's: its figures are unverified upper bounds, which a check of "
                        "the corpus does not reproduce; whoever holds the corpus index confirms them with decontam "
                        "index check INDEX_DIR (the command is in the report's card)")
        return VerifyResult(False, problems, notes)
    if index is not None:  # an index check gives the report a streaming check gives, and says how it was made
        del recorded["index"]
        notes.append("the report is an index check's: compared with a check of the corpus itself (its index section, "
                     "on how the index answered, is not compared)")
    tool = recorded.get("tool", {}).get("version")
    if tool != __version__:
        problems.append(f"tool version differs: the report was written by decontam {tool}, this is {__version__}")
    loaded = _recorded_benchmarks(recorded, benchmarks, problems, notes)
    if loaded is None:
        return VerifyResult(False, problems, notes)
    cfg_dict = dict(recorded.get("config", {}))
    action = cfg_dict.pop("action", "check")
    if recorded.get("config", {}).pop("num_proc", None) is not None:
        notes.append("the report records num_proc (written by an earlier version): how a run is executed is not "
                     "compared")
    rerun = check([Path(c) for c in corpus], loaded, DecontamConfig.from_dict(cfg_dict), progress=progress).to_dict()
    if action != "check":
        rerun["config"]["action"] = action
        notes.append(f"the report's action is {action!r}: compared with a streaming check re-run labelled so")
    _compare_run(recorded, rerun, notes)
    _compare_corpus(recorded, rerun, problems, notes)
    same = Report(rerun).to_json() == Report(recorded).to_json()
    if not same:
        diffs = _diff_paths(recorded, rerun)
        if not problems or diffs:
            problems.append("the re-run report differs from the recorded one at: " + "; ".join(diffs or ["(bytes)"]))
    return VerifyResult(same and not problems, problems, notes, rerun)


def _recorded_benchmarks(recorded: dict[str, Any], overrides: Mapping[str, str], problems: list[str],
                         notes: list[str]) -> list[Benchmark] | None:
    """The report's benchmarks loaded again (from their recorded sources, or ``overrides``), labelled with
    their recorded sources; None when one cannot be loaded (the problem is recorded)."""
    loaded: list[Benchmark] = []
    for b in recorded.get("benchmarks", []):
        try:
            bench = _load_recorded_benchmark(b, overrides.get(b["name"]))
        except DecontamError as exc:
            problems.append(f"benchmark {b['name']!r} cannot be loaded: {exc}")
            continue
        if bench.fingerprint != b.get("fingerprint"):
            problems.append(f"benchmark {b['name']!r} changed: fingerprint recorded {b.get('fingerprint')}, now "
                            f"{bench.fingerprint} ({b.get('n_items')} items recorded, {bench.n_items} now; "
                            f"from {bench.source})")
        if "answer_fingerprint" in b and bench.answer_fingerprint != b["answer_fingerprint"]:
            problems.append(f"benchmark {b['name']!r}: its answers changed (field {b.get('answer_field')!r}): "
                            f"answer fingerprint recorded {b['answer_fingerprint']}, now {bench.answer_fingerprint}")
        if bench.source != b.get("source"):
            notes.append(f"benchmark {b['name']!r} read from {bench.source} (recorded: {b.get('source')})")
            bench = dataclasses.replace(bench, source=b.get("source", ""))
        loaded.append(bench)
    return loaded if len(loaded) == len(recorded.get("benchmarks", [])) else None


def _compare_run(recorded: dict[str, Any], rerun: dict[str, Any], notes: list[str]) -> None:
    """How the run was executed (``run.engine``) is not compared: the re-run (local) takes the recorded one."""
    rec_run = recorded.get("run")
    if rec_run is None:
        rerun.pop("run", None)
        notes.append("the report has no run section (written by an earlier version)")
    elif rec_run != rerun.get("run"):
        notes.append(f"the report was made by the {rec_run.get('engine')} engine, the re-run by the "
                     f"{rerun.get('run', {}).get('engine')} one: how a run is executed is not compared")
        rerun["run"] = copy.deepcopy(rec_run)


def _compare_corpus(recorded: dict[str, Any], rerun: dict[str, Any], problems: list[str],
                    notes: list[str]) -> None:
    """Relabel the re-run's sources with the recorded paths (same count, other machine), then say which
    corpus fingerprint or source changed."""
    rec_corpus, new_corpus = recorded.get("corpus", {}), rerun["corpus"]
    if new_corpus["sources"] != rec_corpus.get("sources"):
        if len(new_corpus["sources"]) == len(rec_corpus.get("sources", [])):
            notes.append("corpus paths differ from the recorded ones; compared source by source in order "
                         f"(e.g. {new_corpus['sources'][0]} for {rec_corpus['sources'][0]})")
            relabel = dict(zip(new_corpus["sources"], rec_corpus["sources"]))
            new_corpus["sources"] = list(rec_corpus["sources"])
            for d in new_corpus.get("source_digests", []):
                d["source"] = relabel.get(d["source"], d["source"])
            for r in (new_corpus.get("rejected", []) + new_corpus.get("text_fields", [])
                      + rerun.get("training", {}).get("by_source", [])):
                r["source"] = relabel.get(r["source"], r["source"])
        else:
            problems.append(f"corpus has {len(new_corpus['sources'])} source files, the report "
                            f"{len(rec_corpus.get('sources', []))}")
    if new_corpus["fingerprint"] != rec_corpus.get("fingerprint"):
        detail = (f"{rec_corpus.get('n_documents')} documents recorded, {new_corpus['n_documents']} now; "
                  f"{rec_corpus.get('n_characters')} characters recorded, {new_corpus['n_characters']} now")
        problems.append(f"corpus changed: fingerprint recorded {rec_corpus.get('fingerprint')}, now "
                        f"{new_corpus['fingerprint']} ({detail})")
        old_d = rec_corpus.get("source_digests")
        if old_d and len(old_d) == len(new_corpus["source_digests"]):
            changed = [d["source"] for d, n in zip(old_d, new_corpus["source_digests"])
                       if (d["text_sha256"], d["lengths_sha256"]) != (n["text_sha256"], n["lengths_sha256"])]
            problems.append(f"changed source(s): {', '.join(changed)}")
