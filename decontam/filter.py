"""The stream direction: check a corpus against benchmarks, or write it without its contaminated rows.

``check``, ``filter_files`` and ``filter_dataset`` all draw the probes of every benchmark item once
(:class:`~decontam.scan.ProbeSet`) and stream the corpus past them with the scan engine (:mod:`decontam.scan`);
memory is bounded by the probes, not by the corpus. This module decides what a run returns: the report, and for
a filter the same kind of object (files, a ``datasets`` object, an Arrow table, a list) without the rows that
hold a probe.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .atomic import Commit
from .benchmarks import Benchmark, BenchmarkArg, benchmark_args
from .config import DEFAULT_ID_FIELD, DecontamConfig, make_config
from .errors import ConfigError
from .guard import OutputLock, check_outputs
from .inputs import (
    CorpusFile,
    SkippedFile,
    TextEdit,
    as_paths,
    edit_row,
    expand_corpus,
    field_names,
    file_format,
    filter_rows,
    is_dataset,
    is_dataset_dict,
    is_iterable_dataset,
    is_iterable_dataset_dict,
    is_pathlike,
    is_ray_dataset,
    memory_source,
    require_id_field,
    text_buffers,
)
from .outputs import OutputSet, edit_arrow
from .report import Report
from .runtime import progress_bar
from .scan import (
    ProbeSet,
    SourceResult,
    build_report,
    check_ray_dataset,
    filter_ray_dataset,
    require_rows,
    scan_batches,
    scan_dataset,
    scan_files,
    scan_files_ray,
)

__all__ = ["benchmark_paths", "check", "filter_dataset", "filter_files"]


def check(
    corpus: Any,
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    config: DecontamConfig | None = None,
    *,
    progress: bool | None = None,
    question_field: str | None = None,
    item_id_field: str | None = None,
    answer_field: str | None = None,
    **options: Any,
) -> Report:
    """Flag the benchmark items found in a training corpus.

    Args:
        corpus: Corpus file(s) or folder(s) (``.jsonl``, ``.jsonl.gz``, ``.parquet``), a ``datasets.Dataset``
            or ``IterableDataset`` (or a ``DatasetDict`` of them: every split, one report), a ``ray.data.Dataset``
            (scanned by Ray tasks, block by block: ``pip install 'decontam[ray]'``), a ``pyarrow.Table``, or a
            list of strings or dicts. Files run on Ray with ``engine="ray"`` (and ``ray_address=``).
        benchmarks: Names (``"humaneval"``), ``"NAME=PATH"`` strings, ``(name, path)`` pairs or loaded
            :class:`~decontam.benchmarks.Benchmark` objects.
        config: Options (default: the GPT-4 rule); keyword ``options`` override it (see :func:`make_config`).
        progress: Show progress bars on stderr (default: when stderr is a terminal).
        question_field: Question field of custom ``"NAME=PATH"`` benchmarks (as ``--question-field``).
        item_id_field: Item id field of custom benchmarks (as ``--item-id-field``; default: row numbers).
        answer_field: Answer field of custom benchmarks, probed with ``probe_answers=True`` (as
            ``--answer-field``; registry benchmarks have their own).

    Returns:
        The report: per benchmark, the contaminated and the clean item ids, with probes and evidence.

    Example:
        >>> from decontam.benchmarks import Benchmark, Item
        >>> q = "Write a function that returns the sum of two integers given as arguments."
        >>> bench = Benchmark.from_items("demo", [Item(1, q), Item(2, "Something else entirely, not in there.")])
        >>> report = check(["some text " + q + " more text", "unrelated"], [bench], progress=False)
        >>> report.contaminated_ids("demo"), report.clean_ids("demo")
        ([1], [2])
    """
    cfg = _engine_config(corpus, make_config(config, **options))
    skipped: list[SkippedFile] = []
    files = expand_corpus(as_paths(corpus), cfg.on_error, skipped) if is_pathlike(corpus) else []
    _require_id_field(corpus, files, cfg)
    probes = ProbeSet.load(benchmarks, cfg, question_field, item_id_field, answer_field)
    if is_ray_dataset(corpus):
        return check_ray_dataset(corpus, probes, cfg)
    if is_pathlike(corpus):
        results = _scan_files(files, probes, cfg, None, progress)
        return build_report(probes, results, cfg, "check", [str(f.path) for f in files], skipped)
    if is_dataset_dict(corpus) or is_iterable_dataset_dict(corpus):
        results = [_scan_memory(ds, probes, cfg, progress, want_output=False, label=_split_label(corpus, split))[0]
                   for split, ds in corpus.items()]
        return build_report(probes, results, cfg, "check", [r.source for r in results])
    result, _ = _scan_memory(corpus, probes, cfg, progress, want_output=False)
    return build_report(probes, [result], cfg, "check", [result.source])


def filter_files(
    corpus: Sequence[str | os.PathLike[str]],
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    output: str | os.PathLike[str],
    config: DecontamConfig | None = None,
    *,
    overwrite: bool = False,
    report_path: str | os.PathLike[str] | None = None,
    markdown_path: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    question_field: str | None = None,
    item_id_field: str | None = None,
    answer_field: str | None = None,
    **options: Any,
) -> Report:
    """Write the corpus without its contaminated rows (same format, rows unchanged, in order); with
    ``action="redact"``, with the matched lines of those rows cut instead (:mod:`decontam.redact`): only their
    text changes, and a row is dropped only when too little of it is left.

    A single input file gives an output file; several files or a folder give an output folder with the same
    relative names. The outputs, and the report if asked for, are put in place together at the end, the report
    last: a failure or an interruption leaves none of them, and no temporary file.

    Args:
        corpus: Corpus files or folders.
        benchmarks: As in :func:`check`.
        output: The output file or folder.
        config: Options; keyword ``options`` override it.
        overwrite: Replace outputs that exist (never an input: an output that is, lies inside or holds an input
            is refused whatever this says).
        report_path: Also write the JSON report here, with the outputs.
        markdown_path: Also write the Markdown summary here.
        progress: Show a progress bar (default: when stderr is a terminal).
        question_field: Question field of custom ``"NAME=PATH"`` benchmarks.
        item_id_field: Item id field of custom benchmarks.
        answer_field: Answer field of custom benchmarks (with ``probe_answers=True``).

    Returns:
        The report, ``action = "filter"``; with ``probe_answers=True`` the rows holding an answer probe are
        removed too, counted apart (``training.n_removed_answer_only``).

    Raises:
        OutputExistsError: An output exists and ``overwrite`` is False (checked before any work).
        PathConflictError: An output is, lies inside or holds an input.
        OutputBusyError: Another run is writing one of the outputs.
    """
    cfg = make_config(config, **options)
    benchmarks = benchmark_args(benchmarks)  # (read once: a generator is used twice below)
    paths = as_paths(corpus)
    dests = [("output", output), ("report_path", report_path), ("markdown_path", markdown_path)]
    inputs = [*paths, *benchmark_paths(benchmarks)]
    check_outputs(dests, inputs, overwrite)
    with OutputLock(path for _, path in dests), Commit() as commit:
        check_outputs(dests, inputs, overwrite)  # again, now that no other run can write them
        skipped: list[SkippedFile] = []
        files = expand_corpus(paths, cfg.on_error, skipped)
        _require_id_field(paths, files, cfg)
        probes = ProbeSet.load(benchmarks, cfg, question_field, item_id_field, answer_field)
        outputs = OutputSet(output, files, commit)
        results = _scan_files(files, probes, cfg, outputs, progress)
        report = build_report(probes, results, cfg, "filter", [str(f.path) for f in files], skipped)
        outputs.stage(commit)
        if report_path is not None:
            commit.stage_bytes(report_path, report.to_json())
        if markdown_path is not None:
            commit.stage_bytes(markdown_path, report.to_markdown())
        commit.apply()
    return report


def benchmark_paths(benchmarks: BenchmarkArg | Sequence[BenchmarkArg]) -> list[str]:
    """The local files and folders benchmark arguments name (the inputs an output must never touch)."""
    out = []
    for spec in benchmark_args(benchmarks):
        if isinstance(spec, Benchmark):
            path = spec.source
        elif isinstance(spec, tuple):
            path = os.fspath(spec[1])
        else:
            path = spec.partition("=")[2]
        if path and os.path.lexists(path):
            out.append(path)
    return out


def filter_dataset(
    dataset: Any,
    benchmarks: BenchmarkArg | Sequence[BenchmarkArg],
    config: DecontamConfig | None = None,
    *,
    return_report: bool = False,
    output: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    question_field: str | None = None,
    item_id_field: str | None = None,
    answer_field: str | None = None,
    **options: Any,
) -> Any:
    """Return the dataset without the rows that contain a probe of any benchmark item.

    ``clean = filter_dataset(ds, ["humaneval", "gsm8k"])`` is the one-line use.

    Args:
        dataset: A ``datasets.Dataset`` (filtered with ``datasets.map``, batched, ``num_proc`` workers) or
            ``IterableDataset`` (filtered lazily), a ``DatasetDict`` or ``IterableDatasetDict`` (every split
            filtered; one report, with per-split counts in ``training.by_source``), a ``ray.data.Dataset`` (lazily,
            by Ray tasks), a ``pyarrow.Table``, a list of strings or dicts, or a path to JSONL/Parquet file(s).
        benchmarks: As in :func:`check`.
        config: Options; keyword ``options`` override it (``text_field``, ``num_proc``, ``seed``...;
            ``action="redact"`` with ``redact_context``, ``redact_min_chars``, ``redact_max_pieces`` to cut what
            matched rather than drop the row: see :class:`~decontam.config.RedactConfig`).
        return_report: Also return the :class:`~decontam.report.Report` of what was removed and why.
        output: For a path input: where to write the result (default: ``<name>.decontam<suffix>`` beside it).
        overwrite: For a path input: replace ``output`` if it exists (see :func:`filter_files`).
        progress: Show progress bars (default: when stderr is a terminal).
        question_field: Question field of custom ``"NAME=PATH"`` benchmarks (as ``--question-field``).
        item_id_field: Item id field of custom benchmarks (default: row numbers).
        answer_field: Answer field of custom benchmarks (with ``probe_answers=True``, which also removes the
            rows holding an answer probe).

    Returns:
        The same kind of object without the contaminated rows (redacted: with their matched lines cut, unless
        dropped; a list's dicts are copies, the caller's are not changed) (for a path, the output path), or
        ``(filtered, report)`` with ``return_report=True``. For an ``IterableDataset`` the report fills in
        as the returned dataset is iterated (complete once it has been read to the end).

    Example:
        >>> from decontam.benchmarks import Benchmark, Item
        >>> q = "Write a function that returns the sum of two integers given as arguments."
        >>> bench = Benchmark.from_items("demo", [Item(1, q)])
        >>> filter_dataset(["clean row", "leak: " + q.upper() + q], [bench], progress=False)
        ['clean row']
    """
    cfg = _engine_config(dataset, make_config(config, **options))
    if is_pathlike(dataset):
        paths = as_paths(dataset)
        output = output if output is not None else _default_output(paths)
        report = filter_files(paths, benchmarks, output, cfg, overwrite=overwrite, progress=progress,
                              question_field=question_field, item_id_field=item_id_field, answer_field=answer_field)
        return (Path(output), report) if return_report else Path(output)
    _require_id_field(dataset, [], cfg)
    probes = ProbeSet.load(benchmarks, cfg, question_field, item_id_field, answer_field)
    if is_ray_dataset(dataset) or is_iterable_dataset(dataset) or is_iterable_dataset_dict(dataset):
        filtered, lazy_report = (filter_ray_dataset(dataset, probes, cfg, return_report) if is_ray_dataset(dataset)
                                 else _filter_iterable(dataset, probes, cfg))
        return (filtered, lazy_report) if return_report else filtered
    if is_dataset_dict(dataset):
        import datasets

        results, splits = [], {}
        for split, ds in dataset.items():
            result, splits[split] = _scan_memory(ds, probes, cfg, progress, want_output=True,
                                                 label=_split_label(dataset, split))
            results.append(result)
        report = build_report(probes, results, cfg, "filter", [r.source for r in results])
        filtered = datasets.DatasetDict(splits)
        return (filtered, report) if return_report else filtered
    result, filtered = _scan_memory(dataset, probes, cfg, progress, want_output=True)
    report = build_report(probes, [result], cfg, "filter", [result.source])
    return (filtered, report) if return_report else filtered


# ------------------------------------------------------------------------------------------------ engines


def _default_output(paths: Sequence[str | os.PathLike[str]]) -> Path:
    """``NAME.decontam.FORMAT`` beside the one file to filter.

    Raises:
        ConfigError: Several files, or a folder (they need an output folder).
    """
    if len(paths) != 1 or Path(paths[0]).is_dir():
        raise ConfigError("filtering several files or a folder needs output=<folder>")
    p = Path(paths[0])
    fmt = file_format(p) or ""
    return p.with_name(p.name[: -len(fmt) - 1] + ".decontam." + fmt)


def _require_id_field(corpus: Any, files: Sequence[CorpusFile], cfg: DecontamConfig) -> None:
    """Refuse an ``id_field`` that was named (not the default ``id``, which is read where present) and that the
    corpus does not have: in the first row of its files, in its columns, or in a list's first row. A misspelt
    name would otherwise name every document by its row number, silently. Streams and Ray datasets are not
    read ahead for it.

    Raises:
        ConfigError: The corpus does not have the field.
    """
    field = cfg.id_field
    if not field or field == DEFAULT_ID_FIELD:
        return
    if is_pathlike(corpus):
        require_id_field(files, field)
        return
    names = field_names(corpus)
    if names is not None and field not in names:
        raise ConfigError(f"id_field={field!r}: the corpus has no such field (its fields: {', '.join(names[:20])}); "
                          "documents would be named by row number: check the name, or leave id_field out")


def _engine_config(corpus: Any, cfg: DecontamConfig) -> DecontamConfig:
    """The options with the engine the corpus runs on: a Ray dataset on Ray, files on ``cfg.engine``.

    Raises:
        ConfigError: ``engine="ray"`` for an in-memory corpus other than a Ray dataset.
    """
    if is_ray_dataset(corpus):
        return cfg if cfg.engine == "ray" else dataclasses.replace(cfg, engine="ray")
    if cfg.engine == "ray" and not is_pathlike(corpus):
        raise ConfigError(f"engine='ray' scans files or a ray.data.Dataset, not a {type(corpus).__name__}: pass "
                          "the files, or the data as a Ray dataset (ray.data.from_arrow, from_huggingface...), "
                          "or use the local engine")
    return cfg


def _scan_files(files: Any, probes: ProbeSet, cfg: DecontamConfig, outputs: OutputSet | None,
                progress: bool | None) -> list[SourceResult]:
    """The files scanned by the engine ``cfg.engine`` names (the same results, either way)."""
    engine = scan_files_ray if cfg.engine == "ray" else scan_files
    return engine(files, probes, cfg, outputs, progress)


# --------------------------------------------------------------------------------- in-memory objects


def _split_label(splits: Any, split: str) -> str:
    """How a report names a split of a dataset dict: ``<dataset:train>``, ``<iterable dataset:train>``."""
    return f"<iterable dataset:{split}>" if is_iterable_dataset_dict(splits) else f"<dataset:{split}>"


def _scan_memory(obj: Any, probes: ProbeSet, cfg: DecontamConfig, progress: bool | None,
                 want_output: bool, label: str | None = None) -> tuple[SourceResult, Any]:
    """Scan an in-memory corpus; returns its result and, with ``want_output``, the object without the rows
    that hold a probe (or were rejected). ``label`` names a split of a dataset dict."""
    if is_dataset(obj):
        return scan_dataset(obj, probes, cfg, want_output, progress, **({"label": label} if label else {}))
    _warn_if_paths(obj)
    source = memory_source(obj, cfg.text_field, cfg.id_field or None, cfg.on_error, cfg.max_doc_bytes, label)
    result = SourceResult(source.label)
    keep = np.zeros(source.n_rows or 0, dtype=bool)
    edits: dict[int, list[TextEdit]] = {}  # rows kept redacted (by row number): their texts
    bar = progress_bar(None, "decontam: scanning", progress)
    try:
        for batch, kept in scan_batches(source.read(result.rejected), probes.matcher, cfg.text_rule, result,
                                        cfg.redact, probes.near):
            if want_output:
                keep[batch.rows[kept]] = True
                edits.update({int(batch.rows[k]): es for k, es in (batch.edits or {}).items()})
            offsets = text_buffers(batch.texts)[1]
            bar.update(int(offsets[-1] - offsets[0]))
    finally:
        bar.close()
    require_rows([result], allow_empty=True)
    if not want_output:
        return result, None
    if isinstance(obj, pa.Table):
        return result, filter_rows(edit_arrow(obj, edits, cfg.text_fields[0]), keep)
    return result, [_edited(x, edits.get(i), cfg.text_fields[0]) for i, (x, k) in enumerate(zip(obj, keep.tolist()))
                    if k]


def _edited(row: Any, edits: list[TextEdit] | None, text_field: str) -> Any:
    """A row of a list or an iterable dataset as written: itself, or (redacted) a copy with its texts cut."""
    if not edits:
        return row
    if isinstance(row, str):  # a list of documents: the row is its one text
        return edits[0].new_text
    return edit_row(row, edits, text_field)


def _warn_if_paths(obj: Any) -> None:
    """Warn when a list of strings looks like file names: a list of ``str`` is a list of documents (the texts
    themselves), so ``["data/a.jsonl"]`` would be checked as the text "data/a.jsonl"."""
    if not isinstance(obj, (list, tuple)) or not obj or not all(isinstance(x, str) for x in obj[:100]):
        return
    if all(len(x) < 4096 and "\n" not in x and os.path.exists(x) for x in obj[:100]):
        warnings.warn(f"the corpus is a list of {len(obj)} strings that name existing files or folders (such as "
                      f"{obj[0]!r}): a list of str is checked as documents, not read as files; pass pathlib.Path "
                      "objects (or one path as a str) to read the files", UserWarning, stacklevel=4)


def _filter_iterable(obj: Any, probes: ProbeSet, cfg: DecontamConfig) -> tuple[Any, Report]:
    """A lazily filtered ``IterableDataset`` (or ``IterableDatasetDict``: each split), and its report: filled
    in once every split has been read to the end (the report of the splits in their order)."""
    import datasets

    report = Report({})
    splits = dict(obj.items()) if is_iterable_dataset_dict(obj) else None
    done: dict[str, SourceResult] = {}

    def finished(key: str, result: SourceResult) -> None:
        done[key] = result
        keys = list(splits) if splits is not None else [key]
        if all(k in done for k in keys):
            results = [done[k] for k in keys]
            report.data.clear()
            report.data.update(build_report(probes, results, cfg, "filter", [r.source for r in results]).data)

    def lazy(ds: Any, key: str, label: str | None) -> Any:
        def generate() -> Iterator[dict[str, Any]]:
            source = memory_source(ds, cfg.text_field, cfg.id_field or None, cfg.on_error, cfg.max_doc_bytes,
                                   label)
            result = SourceResult(source.label)
            for batch, kept in scan_batches(source.read(result.rejected), probes.matcher, cfg.text_rule, result,
                                            cfg.redact, probes.near):
                edits = batch.edits or {}
                yield from (_edited(row, edits.get(i), cfg.text_fields[0])
                            for i, (row, k) in enumerate(zip(batch.raw, kept.tolist())) if k)
            finished(key, result)

        return datasets.IterableDataset.from_generator(generate, features=ds.features)

    if splits is None:
        return lazy(obj, "", None), report
    return datasets.IterableDatasetDict({k: lazy(ds, k, _split_label(obj, k)) for k, ds in splits.items()}), report
