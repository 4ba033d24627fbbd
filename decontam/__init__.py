"""decontam: find and remove benchmark contamination in LLM training data.

The GPT-4 method, exactly: normalize text (keep letters, marks and digits), draw three seeded 50-character
substrings from each benchmark question, and flag every training document that contains one.

Inside training code::

    from decontam import filter_dataset
    clean = filter_dataset(ds, ["humaneval", "gsm8k"])

See the README for the command line and ``docs/`` for the method and the report.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

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
from .match import Matcher
from .normalize import normalize
from .report import Report
from .sample import ItemProbes, sample_item
from .version import __version__

if _TYPE_CHECKING:
    from .index import CorpusIndex, Portrait, build_index


_LAZY = ("CorpusIndex", "Portrait", "build_index")


def __getattr__(name: str) -> _Any:
    # The corpus index is imported on first use: a filter or check run does not pay for its imports.
    if name in _LAZY:
        from . import index

        return getattr(index, name)
    raise AttributeError(f"module 'decontam' has no attribute {name!r}")

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
