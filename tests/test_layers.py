"""The package's structure: no import cycle anywhere (the layers contract, which
`lint-imports` checks in CI, allows imports within a layer; this forbids cycles there too)."""

from __future__ import annotations

import grimp


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("auditor")
    cycles = [
        chain
        for module in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if (chain := graph.find_shortest_chain(importer=imported, imported=module))
    ]
    assert len(graph.modules) > 50
    assert not cycles, f"import cycles: {cycles[:3]}"


def test_no_subpackage_imports_itself_back() -> None:
    """The same at the level of `auditor.<part>` (the root package's lazy `audit` export
    aside: `auditor/__init__.py` is the API's front door, not a layer)."""
    graph = grimp.build_graph("auditor")

    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        if module == "auditor":
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != "auditor" and part(imported) != part(module):
                edges.setdefault(part(module), set()).add(part(imported))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(p for p in edges if reaches(p, p, {p}))
    assert len(edges) > 10
    assert not cycles, f"subpackages in an import cycle: {cycles}"
