"""No import cycles among tamrig's, the drivers' and the simulators' modules.

The graph is read from the source with ``ast``: every ``import`` and ``from … import``,
at module level, inside functions (lazy imports) and under ``TYPE_CHECKING``. ``from pkg
import name`` counts as an import of ``pkg.name`` when that is a module, else of ``pkg``.
A cycle means two modules cannot be understood, tested or moved apart; it fails here with
the modules and the lines that close it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("tamrig", "drivers", "simulators")

#: Import edges of cycles still being taken apart elsewhere, each with its issue; an edge
#: listed here that no longer exists fails the test, so the list only ever shrinks.
KNOWN_EDGES: dict[tuple[str, str], str] = {
    # type-only back-edges of two cycles being taken apart in their own rooms
    ("tamrig.plan.points", "tamrig.plan.model"): "issue 15: plan model / points / pre-flight",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported module of ours, line) for every import statement in the file."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package upwards
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    yield sub, node.lineno
                elif target in known:
                    yield target, node.lineno


def graph() -> dict[str, dict[str, int]]:
    known = modules()
    edges: dict[str, dict[str, int]] = {name: {} for name in known}
    for name, path in known.items():
        for target, line in imports(name, path, known):
            if target != name:
                edges[name].setdefault(target, line)
    return edges


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    edges = graph()
    # a function-level import (the CLI loads its sub-commands only when used)
    assert "tamrig.commands.scan" not in edges["tamrig.cli"]  # by importlib, not an import
    assert "tamrig.analysis.monitor" in edges["tamrig.commands.scan"]  # inside run()
    assert "tamrig.analysis.fitting" in edges["tamrig.analysis"]
    assert "drivers.common" in edges["drivers.newport_smc100"]


def test_no_import_cycles() -> None:
    edges = graph()
    for (source, target), issue in KNOWN_EDGES.items():
        assert target in edges[source], f"{source} -> {target} ({issue}) is gone: unlist it"
        del edges[source][target]
    problems = []
    for component in cycles(edges):
        members = set(component)
        lines = [
            f"  {a} -> {b} (line {edges[a][b]})"
            for a in component
            for b in sorted(edges[a])
            if b in members
        ]
        problems.append("cycle among " + ", ".join(component) + ":\n" + "\n".join(lines))
    assert not problems, "\n".join(problems)


def third_party_imports(path: Path) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) of every non-relative import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno


def test_layers() -> None:
    """tamrig names no concrete instrument (drivers and simulators are found by the registry
    from a rig file's kind); only the GUI and the command that opens it touch Qt."""
    qt_allowed = ("tamrig.gui", "tamrig.commands.gui")
    problems = []
    for name, path in modules().items():
        if not name.startswith("tamrig"):
            continue
        for imported, line in third_party_imports(path):
            top = imported.split(".")[0]
            if top in ("drivers", "simulators"):
                problems.append(f"{name}:{line} imports {imported} (a concrete device package)")
            gui = top in ("PyQt6", "pyqtgraph") or imported.startswith("tamrig.gui")
            if gui and not name.startswith(qt_allowed):
                problems.append(f"{name}:{line} imports {imported} (Qt outside the GUI)")
    assert not problems, "\n".join(problems)
