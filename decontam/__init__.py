"""decontam: find and remove benchmark contamination in LLM training data.

The GPT-4 method, exactly: normalize text (keep letters, marks and digits), draw three seeded 50-character
substrings from each benchmark question, and flag every training document that contains one.

Inside training code::

    from decontam import filter_dataset
    clean = filter_dataset(ds, ["humaneval", "gsm8k"])

See the README for the command line and ``docs/`` for the method and the report.
"""

import sys as _sys
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .version import __version__

if _TYPE_CHECKING:
    from .benchmarks import REGISTRY, Benchmark, Item, load_benchmark
    from .config import DecontamConfig, NormalizeConfig, RedactConfig, SampleConfig
    from .errors import (
        BenchmarkNotFoundError,
        ConfigError,
        DecontamError,
        EngineError,
        IndexMismatchError,
        InputError,
        MissingDependencyError,
    )
    from .filter import check, filter_dataset, filter_files
    from .index import CorpusIndex, Portrait, build_index
    from .match import Matcher
    from .normalize import normalize
    from .report import Report
    from .sample import ItemProbes, sample_item

# Each public name and the module that defines it, imported on first use (PEP 562): ``import decontam`` costs
# nothing, a filter run does not import the corpus index, and the command line, which imports this package
# first, handles a Ctrl-C while its modules load (a name imported at the top here would have left a window of
# about 0.13 s in which Ctrl-C printed a traceback).
_LAZY = {
    **dict.fromkeys(("REGISTRY", "Benchmark", "Item", "load_benchmark"), "benchmarks"),
    **dict.fromkeys(("DecontamConfig", "NormalizeConfig", "RedactConfig", "SampleConfig"), "config"),
    **dict.fromkeys(("BenchmarkNotFoundError", "ConfigError", "DecontamError", "EngineError", "IndexMismatchError",
                     "InputError", "MissingDependencyError"), "errors"),
    **dict.fromkeys(("check", "filter_dataset", "filter_files"), "filter"),
    **dict.fromkeys(("CorpusIndex", "Portrait", "build_index"), "index"),
    "Matcher": "match",
    "normalize": "normalize",
    "Report": "report",
    **dict.fromkeys(("ItemProbes", "sample_item"), "sample"),
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'decontam' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # (found directly from now on)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(_ModuleType):
    """This package's module type: importing a submodule binds it as an attribute of the package, and the
    submodule :mod:`decontam.normalize` shares its name with the function ``decontam.normalize``, which must
    stay the function (as when it was imported here eagerly)."""

    def __setattr__(self, name: str, value: _Any) -> None:
        if name in _LAZY and isinstance(value, _ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


__all__ = [
    "REGISTRY",
    "Benchmark",
    "BenchmarkNotFoundError",
    "ConfigError",
    "CorpusIndex",
    "DecontamConfig",
    "DecontamError",
    "EngineError",
    "IndexMismatchError",
    "InputError",
    "Item",
    "ItemProbes",
    "Matcher",
    "MissingDependencyError",
    "NormalizeConfig",
    "Portrait",
    "RedactConfig",
    "Report",
    "SampleConfig",
    "__version__",
    "build_index",
    "check",
    "filter_dataset",
    "filter_files",
    "load_benchmark",
    "normalize",
    "sample_item",
]
