"""Layers point one way: the import graph between the project's packages has no cycle.

The units are the core (consolidation.core), the two toolkits over it
(consolidation.storage_migration, consolidation.policies: the policies/ and storage_migration/
folders, which the wheel installs inside consolidation), the phases (consolidation.phases) and
the rest of consolidation (CLI, demo, stack, seed, faults...). Every import counts, a
function-level one too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each folder of the repository and the package it is imported as.
PACKAGES = {
    "consolidation": "consolidation",
    "policies": "consolidation.policies",
    "storage_migration": "consolidation.storage_migration",
}
POLICIES, STORAGE = PACKAGES["policies"], PACKAGES["storage_migration"]
# What each unit may import, besides itself and the standard and third-party libraries.
ALLOWED = {
    "consolidation.core": set(),
    STORAGE: {"consolidation.core"},
    POLICIES: {"consolidation.core"},
    "consolidation.phases": {"consolidation.core", STORAGE, POLICIES},
    "consolidation": {"consolidation.core", "consolidation.phases", STORAGE, POLICIES},
}


def unit(module: str) -> str | None:
    for name in ("consolidation.core", "consolidation.phases", POLICIES, STORAGE, "consolidation"):
        if module == name or module.startswith(name + "."):
            return name
    return None


def module_of(path: Path) -> str:
    folder, *parts = path.relative_to(ROOT).with_suffix("").parts
    parts = [*PACKAGES[folder].split("."), *parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for every import in PATH."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
    return found


def edges() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> where, for imports that cross units."""
    found: dict[tuple[str, str], list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = unit(module_of(path))
            for module, _names, line in imports(path):
                target = unit(module)
                if target and source and target != source:
                    found.setdefault((source, target), []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_every_import_between_units_points_down() -> None:
    wrong = {
        f"{source} imports {target}": where
        for (source, target), where in edges().items()
        if target not in ALLOWED[source]
    }
    assert wrong == {}


def test_the_unit_graph_has_no_cycle() -> None:
    graph: dict[str, set[str]] = {name: set() for name in ALLOWED}
    for source, target in edges():
        graph[source].add(target)
    # The scan sees the imports that are there: every layer uses the one below.
    assert {"consolidation.core"} <= graph[POLICIES] & graph[STORAGE] & graph[
        "consolidation.phases"
    ]
    assert "consolidation.phases" in graph["consolidation"]
    seen: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        assert node not in path, f"import cycle: {' -> '.join([*path, node])}"
        if node in seen:
            return
        path.append(node)
        for following in sorted(graph[node]):
            visit(following)
        path.pop()
        seen.add(node)

    for node in sorted(graph):
        visit(node)


def test_no_private_name_is_imported_across_units() -> None:
    private = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = unit(module_of(path))
            for module, names, line in imports(path):
                if unit(module) not in (None, source):
                    private += [
                        f"{path.relative_to(ROOT)}:{line} {module}.{n}" for n in names if n.startswith("_")
                    ]
    assert private == []
