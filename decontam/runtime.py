"""How a run uses its process: progress bars and the garbage collector.

Nothing here changes a result; it decides only how a run shows itself and what it costs.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["NoProgress", "gc_paused", "progress_bar"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small, acyclic objects are made.

    Loading benchmarks, drawing probes and assembling a report each create tens of thousands of small
    objects, none in a cycle; with the collector on, every few thousand of them trigger a walk over every
    object of the process. The figures are in ``docs/performance.md``.

    Example:
        >>> with gc_paused():
        ...     gc.isenabled()
        False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class NoProgress:
    """A progress bar that shows nothing (``progress=False``): tqdm is then not even imported."""

    def update(self, n: int = 1) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


def progress_bar(total: int | None, desc: str, enabled: bool | None) -> Any:
    """A byte progress bar on stderr.

    Args:
        total: Bytes expected, or None when unknown.
        desc: The bar's label.
        enabled: True (always), False (never: a :class:`NoProgress`), None (only when stderr is a terminal).
            Under IPython the bar is tqdm's notebook one.
    """
    if enabled is False:
        return NoProgress()
    if "IPython" in sys.modules:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm  # tqdm.auto imports more: only for notebooks

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=None if enabled is None else not enabled)
