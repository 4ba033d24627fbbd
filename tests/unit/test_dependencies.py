"""Dependencies say the truth (issue 13, point 6): every core dependency in ``pyproject.toml`` is imported by the
package, and nothing the package imports from outside the standard library is missing from them.

Read from the files themselves (``pyproject.toml``, every module's imports, at any depth), so a dependency
added without use, or a use without the dependency, fails here. pybloom-live, the baseline of the index speed
benchmark only, lives in the ``bench`` extra.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+ (CI's); 3.10 has no reader of TOML in its library

ROOT = Path(__file__).resolve().parents[2]
# Distribution name -> the module it installs (where the two differ, they are listed here).
MODULE_OF = {"pybloom-live": "pybloom_live", "pyahocorasick": "ahocorasick", "websocket-client": "websocket"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip()


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def imported_top_levels() -> set[str]:
    """Every top-level module a ``decontam`` module imports (inside functions too), less relative imports."""
    out = set()
    for path in (ROOT / "decontam").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                out.add(node.module.split(".")[0])
    return out


def test_every_core_dependency_is_imported_by_the_package():
    core = [_name(r) for r in pyproject()["project"]["dependencies"]]
    imported = imported_top_levels()
    unused = [d for d in core if MODULE_OF.get(d, d.replace("-", "_")) not in imported]
    assert unused == [], f"core dependencies the package never imports: {unused}"
    assert "datasketch" in core and "pybloom-live" not in core


def test_every_third_party_import_is_a_declared_dependency():
    project = pyproject()["project"]
    optional = {_name(r) for reqs in project["optional-dependencies"].values() for r in reqs}
    declared = {MODULE_OF.get(d, d.replace("-", "_")) for d in {_name(r) for r in project["dependencies"]} | optional}
    third_party = imported_top_levels() - set(sys.stdlib_module_names) - {"decontam", "__future__"}
    assert third_party - declared == set(), "imported but not declared in pyproject.toml"


def test_the_bloom_baseline_is_a_benchmark_extra():
    extras = pyproject()["project"]["optional-dependencies"]
    assert "pybloom-live" in {_name(r) for r in extras["bench"]}
    assert "pybloom_live" not in imported_top_levels()
