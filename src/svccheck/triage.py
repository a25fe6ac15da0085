"""Pure: results + the `depends_on` graph → the likely root cause of each failure.

Attribution, not suppression: every check still runs and is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def root_causes(broken: Iterable[str], graph: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """For each broken service with a broken (transitive) dependency, the deepest such dependency.

    "Deepest" is a broken dependency none of whose own dependencies is broken:
    that is where a person should look first.
    """
    broken_set = set(broken)
    causes: dict[str, str] = {}
    for service in graph:
        if service not in broken_set:
            continue
        cause = _deepest_broken(service, graph, broken_set)
        if cause is not None:
            causes[service] = cause
    return causes


def _deepest_broken(start: str, graph: Mapping[str, Iterable[str]], broken: set[str]) -> str | None:
    # Breadth-first over dependencies; the first broken one with no broken
    # dependencies of its own wins, so nearer causes come first in a tie.
    seen = {start}
    queue = list(graph.get(start, ()))
    candidates: list[str] = []
    while queue:
        node = queue.pop(0)
        if node in seen:
            continue
        seen.add(node)
        if node in broken:
            candidates.append(node)
        queue.extend(graph.get(node, ()))
    for node in candidates:
        if _deepest_broken_is_none(node, graph, broken):
            return node
    return candidates[0] if candidates else None


def _deepest_broken_is_none(node: str, graph: Mapping[str, Iterable[str]], broken: set[str]) -> bool:
    seen: set[str] = {node}
    stack = list(graph.get(node, ()))
    while stack:
        dep = stack.pop()
        if dep in seen:
            continue
        seen.add(dep)
        if dep in broken:
            return False
        stack.extend(graph.get(dep, ()))
    return True
