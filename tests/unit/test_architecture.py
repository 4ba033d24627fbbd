"""The shape of the house: imports point one way, in the order of the data flow written in
``docs/architecture.md``; no cycles (imports inside functions included); no module reaches into another's
private names; modules and functions stay small.

The layers are read from the document itself, so the picture people read and the rule the code obeys cannot
drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "decontam"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80
LONG_REASON = "Why this is long:"  # a function over the limit says why in its docstring, after these words


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text("utf-8"), str(path)) for name, path in MODULES.items()}


def unit_of(module: str) -> str:
    """The unit a module belongs to in the layers: ``decontam.scan.step`` -> ``scan``, ``decontam`` -> ``decontam``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layers() -> dict[str, int]:
    """unit -> layer number, from the numbered list under "## Layers" in docs/architecture.md."""
    text = ARCHITECTURE.read_text("utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    out: dict[str, int] = {}
    for line in section.splitlines():
        m = re.match(r"^(\d+)\. \*\*[^*]+\*\*: (.*)$", line)
        if m:
            for unit in re.findall(r"`([a-z_0-9]+)/?`", m.group(2)):
                out[unit] = int(m.group(1))
    return out


def resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[tuple[str, str | None]]:
    """The decontam modules an import statement reaches, with the name taken from each (None: the module)."""
    is_pkg = MODULES[module].name == "__init__.py"
    found: list[tuple[str, str | None]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == "decontam" or alias.name.startswith("decontam."):
                found.append((alias.name, None))
        return found
    if node.level:
        base = module.split(".")
        base = base if is_pkg else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    elif node.module and (node.module == "decontam" or node.module.startswith("decontam.")):
        target = node.module
    else:
        return found
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        found.append((sub, None) if sub in MODULES else (target, alias.name))
    return found


def edges() -> list[tuple[str, str, str | None, int]]:
    """Every import between decontam modules: (importer, imported, name taken or None, line)."""
    out = []
    for module, tree in TREES.items():
        for node in ast.walk(tree):  # every import, at module level or inside a function
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out += [(module, target, name, node.lineno) for target, name in resolve(module, node)]
    return out


EDGES = edges()


def test_the_document_names_every_unit_of_the_package():
    named = layers()
    units = {unit_of(m) for m in MODULES} - {"decontam", "__main__"}
    assert units - set(named) == set(), "modules missing from docs/architecture.md's layers"
    assert set(named) - units == set(), "docs/architecture.md names modules that do not exist"


def test_imports_point_one_way():
    """A unit imports only units of lower layers (inside a package: its own modules, see the cycle test)."""
    rank = layers()
    wrong = []
    for importer, imported, _, line in EDGES:
        a, b = unit_of(importer), unit_of(imported)
        if importer in ("decontam", "decontam.__main__") or a == b:
            continue
        if b == "decontam":
            wrong.append(f"{importer}:{line} imports the package root {imported}")
        elif rank[b] >= rank[a]:
            wrong.append(f"{importer}:{line} (layer {rank[a]}) imports {imported} (layer {rank[b]})")
    assert wrong == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for importer, imported, _, _ in EDGES:
        if imported in graph and imported != importer:
            graph[importer].add(imported)
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == []


def test_no_module_takes_another_modules_private_names():
    """``from .x import _y`` and ``x._y`` across modules: what two modules share is public where it lives."""
    wrong = [f"{importer}:{line} takes {name} from {imported}" for importer, imported, name, line in EDGES
             if name and name.startswith("_") and not name.startswith("__") and imported != importer]
    for module, tree in TREES.items():
        aliases = {alias.asname or alias.name.split(".")[-1]: target
                   for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                   for alias, (target, name) in zip(node.names, resolve(module, node)) if name is None}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                wrong.append(f"{module}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert wrong == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    n = len(MODULES[module].read_text("utf-8").splitlines())
    assert n <= MAX_MODULE_LINES, f"{module} has {n} lines: split it by job"


def test_long_functions_say_why():
    wrong = []
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES and LONG_REASON not in (ast.get_docstring(node) or ""):
                    wrong.append(f"{module}.{node.name}: {n} lines")
    assert wrong == []


def test_the_checks_see_what_they_should():
    """The rules above would catch a violation: the walker finds imports inside functions, relative imports
    of every level, private names and attribute access (a rule that sees nothing passes vacuously)."""
    tree = ast.parse("from .a import _b\nfrom ..c import d\nimport decontam.e as f\ndef g():\n    from . import h\n")
    module = "decontam.scan.step"
    nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    got = [resolve(module, n) for n in nodes]
    assert got[0] == [("decontam.scan.a", "_b")]
    assert got[1] == [("decontam.c", "d")]
    assert got[2] == [("decontam.e", None)]
    assert got[3] in ([("decontam.scan.h", None)], [("decontam.scan", "h")])
    assert len(EDGES) > 100 and any(name is None for _, _, name, _ in EDGES)
