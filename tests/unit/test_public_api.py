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
    """Names defined in the package namespace that are not private and not submodules, plus ``__version__``."""
    names = {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    return names | {"__version__"}


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
    """``import decontam`` does not import ``datasets`` (nor tqdm): they load when first needed."""
    code = "import sys, decontam; print(sorted(m for m in ('datasets', 'tqdm', 'jsonschema') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
