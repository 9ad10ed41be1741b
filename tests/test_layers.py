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
