"""The report's figure: a bar chart of contamination rates per benchmark for a paper (PNG or SVG, needs
matplotlib), and the words beside each bar, which the HTML page's chart shares.

Every text is drawn as it is: a benchmark named ``v$\\frac$`` or a title with two dollar signs is not read as
mathtext (nor as LaTeX, whatever the user's matplotlibrc says).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import MissingDependencyError
from .markup import percent
from .methods import is_ngram

__all__ = ["bar_label", "figure", "portrait_index", "rate", "to_png"]


def rate(b: Mapping[str, Any]) -> str:
    """A benchmark's contamination rate (never rounded to all or none: :func:`~decontam.markup.percent`)."""
    return percent(b["n_contaminated"], b["n_items"])


def portrait_index(report: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``index`` section of a portrait check (whose figures are unverified upper bounds), else None."""
    idx = report.get("index")
    return idx if isinstance(idx, Mapping) and idx.get("kind") == "portrait" else None


def bar_label(b: Mapping[str, Any], portrait: bool) -> str:
    """The figure beside a benchmark's bar: its rate and count (a portrait's: an upper bound, and undecided)."""
    label = f"{rate(b)} ({b['n_contaminated']}/{b['n_items']})"
    return f"{label} possible, {b.get('n_undecided', 0)} undecided" if portrait else label


def to_png(report: Mapping[str, Any], path: str | os.PathLike[str], title: str | None = None,
           fmt: str = "png", overwrite: bool = False) -> Path:
    """Write a bar chart of contamination rates per benchmark (a paper figure) to ``path``, atomically.

    Raises:
        MissingDependencyError: matplotlib is not installed.
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
    """
    from .atomic import write_atomic
    from .guard import check_outputs

    check_outputs([("path", path)], [], overwrite)
    return write_atomic(path, figure(report, title, fmt))


def figure(report: Mapping[str, Any], title: str | None = None, fmt: str = "png") -> bytes:
    """A bar chart of contamination rates per benchmark (a paper figure), as PNG or SVG bytes.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependencyError(
            "the PNG figure needs matplotlib: pip install matplotlib (or pip install 'decontam[plot]')"
        ) from exc
    benches = report.get("benchmarks", [])
    names = [b["name"] for b in benches]
    rates = [100 * b["contamination_rate"] for b in benches]
    # every text drawn as it is: no mathtext ($...$ in a name or a title), no LaTeX (whatever matplotlibrc says)
    with matplotlib.rc_context({"text.usetex": False}):
        return _draw(plt, report, names, rates, title, fmt)


def _draw(plt: Any, report: Mapping[str, Any], names: Sequence[str], rates: Sequence[float], title: str | None,
          fmt: str) -> bytes:
    """The figure's bar chart drawn and saved (``parse_math=False`` on every text)."""
    benches = report.get("benchmarks", [])
    fig, ax = plt.subplots(figsize=(6.4, 1.6 + 0.45 * max(1, len(benches))), dpi=200)
    try:
        ypos = list(range(len(benches)))[::-1]
        ax.barh(ypos, rates, color="#c2410c", height=0.6)
        ax.set_yticks(ypos, names, parse_math=False)
        peak = max([*rates, 0.0])
        portrait = portrait_index(report) is not None
        ax.set_xlim(0, max(peak * (1.9 if portrait else 1.35), 1.0))  # room for the label beside the bar
        ax.set_ylim(-0.75, len(benches) - 0.25)
        for y, b in zip(ypos, benches):
            ax.text(100 * b["contamination_rate"] + max(peak, 1.0) * 0.02, y, bar_label(b, portrait),
                    va="center", fontsize=8, parse_math=False)
        tool = report.get("tool", {})
        if portrait:
            ax.set_xlabel("possible items (% of benchmark): upper bounds, unverified; undecided items not counted; "
                          "the exact index confirms", fontsize=7, parse_math=False)
        else:
            ax.set_xlabel("contaminated items (% of benchmark)", parse_math=False)
        method = "GPT-3 13-gram" if is_ngram(report.get("config", {})) else "GPT-4 substring"
        ax.set_title(title or (f"Portrait check (decontam {tool.get('version')}): unverified upper bounds"
                               if portrait else
                               f"Benchmark contamination (decontam {tool.get('version')}, {method} method)"),
                     fontsize=9, parse_math=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata={"Software": None} if fmt == "png" else None)
    finally:
        plt.close(fig)
    return buf.getvalue()
