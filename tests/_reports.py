"""Shared by the index tests: a report with what only an index (or only a check) reports taken out, so that
``index check`` and ``check`` reports can be compared whole."""

from __future__ import annotations

import copy
from typing import Any


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of report ``data`` without the index section, the action, and per-item coverage."""
    d = copy.deepcopy(data)
    d.pop("index", None)
    d["config"].pop("action")
    for b in d["benchmarks"]:
        for it in b["items"]:
            it.pop("coverage", None)
    return d
