"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    """The folder of real benchmark files (``shared/benchmarks``), kept beside the repository, never in it.

    The repository root is ``parents[1]`` of this file; ``shared/`` is its sibling (locally ``/work/shared``,
    in CI a copy placed beside the clone). Set ``DECONTAM_SHARED_BENCHMARKS`` to use another folder.
    """
    override = os.environ.get("DECONTAM_SHARED_BENCHMARKS")
    folder = Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
    if not folder.is_dir():
        pytest.skip(
            f"real benchmark files not found at {folder}: place shared/benchmarks beside the repository "
            "or set DECONTAM_SHARED_BENCHMARKS to their folder"
        )
    return folder
