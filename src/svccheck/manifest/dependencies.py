"""`depends_on` checks: unknown names and cycles, on the raw data.

They run before field validation, so a file with a typo in one service and a
cycle between two others reports both at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from svccheck.grammar.positions import Path

Report = Callable[[Path, str, bool], None]


def dependency_graph(services: Any) -> dict[str, tuple[str, ...]]:
    """Service name → depends_on names, for whatever part of the data is well-formed."""
    graph: dict[str, tuple[str, ...]] = {}
    if not isinstance(services, dict):
        return graph
    for name, spec in services.items():
        deps = spec.get("depends_on") if isinstance(spec, dict) else None
        graph[str(name)] = tuple(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else ()
    return graph


def check_dependencies(graph: dict[str, tuple[str, ...]], report: Report) -> None:
    names = list(graph)
    for service, deps in graph.items():
        for index, dep in enumerate(deps):
            where: Path = ("services", service, "depends_on", index)
            if dep == service:
                report(where, f"{service!r} depends on itself", False)
            elif dep not in graph:
                import difflib  # only when something is misspelt

                hint = difflib.get_close_matches(dep, names, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                report(where, f"depends_on: unknown service {dep!r}{suggestion}", False)
    reported: set[frozenset[str]] = set()
    for cycle in _cycles(graph):
        if frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        report(
            ("services", cycle[0], "depends_on"), f"dependency cycle: {' -> '.join([*cycle, cycle[0]])}", True
        )


def _cycles(graph: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """Every elementary cycle found by depth-first search (one per back edge)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, ()):
            if dep not in graph or dep == node:
                continue
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep) :])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return cycles
