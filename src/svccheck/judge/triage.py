"""Pure: results + the `depends_on` graph → the likely root cause of each failure.

Attribution, not suppression: every check still runs and is reported. The one
place that decides it: every report format shows what this says.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from svccheck.model import CheckResult


def root_causes(
    broken: Iterable[str], graph: Mapping[str, Iterable[str]], unreachable: Iterable[str] = ()
) -> dict[str, str]:
    """For each broken service with a broken (transitive) dependency, the deepest such dependency.

    "Deepest" is a broken dependency none of whose own dependencies is broken:
    that is where a person should look first. An `unreachable` service (one
    of its checks failed to connect) is broken on its own account: no
    dependency makes its port refuse a connection, so it is never blamed on
    one (#12); it may still be the root cause of others.
    """
    broken_set = set(broken)
    own = set(unreachable)
    causes: dict[str, str] = {}
    for service in graph:
        if service not in broken_set or service in own:
            continue
        cause = _deepest_broken(service, graph, broken_set)
        if cause is not None:
            causes[service] = cause
    return causes


def needed_causes(
    checks: Mapping[str, Iterable[CheckResult]], causes: Mapping[str, str] = {}
) -> dict[str, str]:
    """For each service with a check skipped for want of a token or a capture, the service whose
    check failed to give it: followed through checks that were skipped the same way, and on to
    that service's own root cause (`causes`) if it has one."""
    by_label = {f"{c.check.service}/{c.check.name}": c for results in checks.values() for c in results}
    found: dict[str, str] = {}
    for service, results in checks.items():
        needed = next((c.needed for c in results if c.needed), None)
        seen: set[str] = set()
        while needed is not None and needed not in seen:
            seen.add(needed)
            upstream = by_label.get(needed)
            if upstream is None or upstream.needed is None:
                break
            needed = upstream.needed
        if needed is None:
            continue
        cause = needed.split("/", 1)[0]
        cause = causes.get(cause, cause)
        if cause != service:
            found[service] = cause
    return found


def nothing_answered(checks: Iterable[CheckResult]) -> bool:
    """Every check (at least one) failed to connect: suspect the host before any service (#12)."""
    seen = False
    for check in checks:
        if not check.connect_failed:
            return False
        seen = True
    return seen


def _deepest_broken(start: str, graph: Mapping[str, Iterable[str]], broken: set[str]) -> str | None:
    # Nearer dependencies come first in a tie: the walk is breadth-first.
    candidates = [node for node in _reachable(start, graph) if node in broken]
    for node in candidates:
        if not any(dep in broken for dep in _reachable(node, graph)):
            return node
    return candidates[0] if candidates else None


def _reachable(start: str, graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every (transitive) dependency of `start`, breadth-first, each once."""
    seen = {start}
    order: list[str] = []
    queue = deque(graph.get(start, ()))
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        queue.extend(graph.get(node, ()))
    return order
