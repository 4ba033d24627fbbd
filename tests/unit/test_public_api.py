"""The public surface (STYLE.md section 2): ``decontam.__all__`` is sorted and is exactly the public names."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import decontam


def isort_key(name: str) -> tuple[int, str]:
    """The order of a sorted ``__all__`` (ruff RUF022, isort style): CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def public_names(module: types.ModuleType) -> set[str]:
    """Names defined in the package namespace that are not private and not submodules, plus ``__version__``
    and the names the package resolves on first use (``_LAZY``)."""
    names = {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    return names | {"__version__"} | set(getattr(module, "_LAZY", ()))


def test_all_is_sorted():
    assert decontam.__all__ == sorted(decontam.__all__, key=isort_key)


def test_all_is_exactly_the_public_names():
    assert len(decontam.__all__) == len(set(decontam.__all__)), "duplicates in __all__"
    assert set(decontam.__all__) == public_names(decontam)


def test_every_exported_name_resolves_and_is_documented():
    for name in decontam.__all__:
        obj = getattr(decontam, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"decontam.{name} has no docstring"


def test_the_entry_points_of_the_brief_are_exported():
    for name in ("filter_dataset", "check", "Report", "DecontamConfig", "DecontamError", "load_benchmark"):
        assert name in decontam.__all__
    assert isinstance(decontam.__version__, str) and decontam.__version__.count(".") >= 1


def test_import_stays_light():
    """``import decontam`` does not import ``datasets``, pandas, tqdm, the index, Parquet, process pools or Ray:
    they load when first needed (pandas alone takes 0.4 s, Ray 1.5 s)."""
    heavy = ("datasets", "pandas", "tqdm", "jsonschema", "decontam.index", "pyarrow.parquet",
             "concurrent.futures.process", "ray")
    code = f"import sys, decontam; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import decontam; print(decontam.CorpusIndex.__module__, decontam.build_index.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["decontam.index", "build_index"]


def test_a_jsonl_filter_run_stays_light(tmp_path):
    """The main job (JSONL in, JSONL out) never imports pandas (``pa.array`` would: 0.4 s per run) nor the
    index, Parquet or process pools."""
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    code = (
        "import sys; from decontam.cli import main\n"
        f"rc = main(['filter', {str(examples / 'corpus.jsonl')!r}, '-b', 'toy={examples / 'benchmark.jsonl'}', "
        "'--question-field', 'question', '--item-id-field', 'id', "
        f"'-o', {str(tmp_path / 'clean.jsonl')!r}, '--report', {str(tmp_path / 'r.json')!r}, '--no-progress'])\n"
        "heavy = ('pandas', 'datasets', 'decontam.index', 'pyarrow.parquet', 'concurrent.futures.process', 'ray')\n"
        "print(rc, sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "clean.jsonl").read_text().count("\n") == 36
