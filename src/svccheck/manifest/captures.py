"""Credentials and captures across the whole file: unknown names, captures defined twice, cycles.

Like `dependencies`, these run on the interpolated data (a `${capture.NAME}` is left as it
is there) before the shape, so a misspelt capture and a typo elsewhere are reported in one
pass, each at its line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from svccheck.grammar.auth import NO_AUTH, capture_names
from svccheck.grammar.positions import Path

Report = Callable[[Path, str, bool], None]


def check_auth_and_captures(data: dict[str, Any], report: Report) -> None:
    credentials = data.get("auth") if isinstance(data.get("auth"), dict) else {}
    assert isinstance(credentials, dict)
    for where, name in _auth_choices(data):
        if name != NO_AUTH and name not in credentials and not name.startswith("${"):
            report(
                where, _unknown("credential", name, list(credentials), "under the top-level 'auth'"), False
            )
    for where, _ in _references(data.get("auth"), ("auth",)):
        report(where, "a credential cannot use a capture: captures are taken by checks at run time", False)

    services = data.get("services") if isinstance(data.get("services"), dict) else {}
    assert isinstance(services, dict)
    producers: dict[str, Path] = {}
    for check_path, check in _checks(services):
        capture = check.get("capture")
        if not isinstance(capture, dict):
            continue
        for name in capture:
            if name in producers:
                report(
                    (*check_path, "capture", name),
                    f"capture {name!r} is defined twice: also by {_label(services, producers[name])}",
                    True,
                )
            else:
                producers[str(name)] = check_path

    # consumer check -> the checks whose captures it uses (and where it refers to each)
    edges: dict[Path, dict[Path, Path]] = {}
    misplaced: set[Path] = set()
    for consumer, where, name in _uses(data, services):
        if not _fillable(where):
            if where not in misplaced:
                misplaced.add(where)
                report(
                    where, f"${{capture.{name}}} can go in a check's path, headers, body or json only", False
                )
            continue
        producer = producers.get(name)
        if producer is None:
            report(where, _unknown("capture", name, list(producers), "under a check's 'capture'"), False)
        elif producer == consumer:
            report(
                where,
                f"{_label(services, consumer)} uses its own capture {name!r}: a capture is for later checks",
                False,
            )
        else:
            edges.setdefault(consumer, {}).setdefault(producer, where)
    for cycle in _cycles(edges):
        where = edges[cycle[0]][cycle[1 % len(cycle)]]
        names = " -> ".join(_label(services, node) for node in [*cycle, cycle[0]])
        report(where, f"capture cycle: {names} (each uses a capture of the next)", False)


def _fillable(where: Path) -> bool:
    """Whether a `${capture.NAME}` at `where` is filled in at run time: a check's request (its path,
    headers, body, json) or headers it inherits; never a URL, a name or an expectation."""
    if where[0] in ("defaults", "environments"):
        return "headers" in where
    inside = where[3:] if where[2] == "health" else where[4:] if where[2] == "checks" else where[2:]
    if where[2] not in ("health", "checks"):
        return inside[:1] == ("headers",)
    return bool(inside) and inside[0] in ("path", "headers", "body", "json")


def _unknown(kind: str, name: str, known: list[str], where: str) -> str:
    import difflib  # only when something is misspelt

    hint = difflib.get_close_matches(name, known, n=1)
    if hint:
        return f"unknown {kind} {name!r} (did you mean {hint[0]!r}?)"
    return f"unknown {kind} {name!r}: define it {where}" + (f"; known: {', '.join(known)}" if known else "")


def _label(services: dict[str, Any], check_path: Path) -> str:
    """`auth-service/log in`: how a report names the check at `check_path`."""
    service = str(check_path[1])
    node: Any = services.get(service, {})
    for part in check_path[2:]:
        if isinstance(node, dict):
            node = node.get(part, {})
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part]
    if not isinstance(node, dict):
        return f"{service}/health"
    if check_path[-1] == "health":
        return f"{service}/{node.get('name') or 'health'}"
    name = node.get("name") or f"{node.get('method', 'GET')} {node.get('path', '/')}"
    return f"{service}/{name}"


def _checks(services: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    for service, spec in services.items():
        if not isinstance(spec, dict):
            continue
        if isinstance(spec.get("health"), dict):
            yield ("services", service, "health"), spec["health"]
        for index, check in enumerate(
            spec.get("checks") or [] if isinstance(spec.get("checks"), list) else []
        ):
            if isinstance(check, dict):
                yield ("services", service, "checks", index), check


def _service_checks(services: dict[str, Any], service: str) -> list[Path]:
    return [path for path, _ in _checks({service: services[service]})]


def _uses(data: dict[str, Any], services: dict[str, Any]) -> Iterator[tuple[Path, Path, str]]:
    """(consumer check, where the reference is, capture name) for every `${capture.NAME}`.

    A reference in `defaults` (or an environment's) is used by every check; one in a service's
    own keys by each of its checks."""
    every = [path for path, _ in _checks(services)]
    shared: list[tuple[Path, str]] = list(_references(data.get("defaults"), ("defaults",)))
    environments = data.get("environments")
    if isinstance(environments, dict):
        for env, overlay in environments.items():
            if isinstance(overlay, dict):
                shared.extend(_references(overlay.get("defaults"), ("environments", env, "defaults")))
    for where, name in shared:
        for consumer in every:
            yield consumer, where, name
    for service, spec in services.items():
        if not isinstance(spec, dict):
            continue
        own = {k: v for k, v in spec.items() if k not in ("health", "checks")}
        for where, name in _references(own, ("services", service)):
            for consumer in _service_checks(services, service):
                yield consumer, where, name
    for consumer, check in _checks(services):
        used = {k: v for k, v in check.items() if k != "capture"}
        for where, name in _references(used, consumer):
            yield consumer, where, name


def _references(node: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(node, str):
        for name in capture_names(node):
            yield path, name
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _references(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _references(value, (*path, index))


def _auth_choices(data: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    def choice(node: Any, path: Path) -> Iterator[tuple[Path, str]]:
        if isinstance(node, dict) and isinstance(node.get("auth"), str):
            yield (*path, "auth"), node["auth"].strip()

    yield from choice(data.get("defaults"), ("defaults",))
    environments = data.get("environments")
    if isinstance(environments, dict):
        for env, overlay in environments.items():
            if isinstance(overlay, dict):
                yield from choice(overlay.get("defaults"), ("environments", env, "defaults"))
    services = data.get("services")
    if isinstance(services, dict):
        for service, spec in services.items():
            yield from choice(spec, ("services", service))
        for path, check in _checks(services):
            yield from choice(check, path)


def _cycles(edges: dict[Path, dict[Path, Path]]) -> list[list[Path]]:
    """One elementary cycle per back edge of a depth-first walk, each set of checks once."""
    cycles: list[list[Path]] = []
    seen: set[frozenset[Path]] = set()
    state: dict[Path, int] = {}
    stack: list[Path] = []

    def visit(node: Path) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, {}):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in list(edges):
        if node not in state:
            visit(node)
    return cycles


__all__ = ["check_auth_and_captures"]
