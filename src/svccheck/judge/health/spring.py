"""Spring Boot Actuator: ``status`` and ``components`` (nested), or Boot 2.0-2.1's ``details``."""

from __future__ import annotations

from typing import Final

from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
    MAX_DEPTH,
    MAX_TEXT,
    Component,
    HealthBody,
    HealthFormat,
    HealthReading,
    clean,
    component_name,
    conclude,
    first_message,
    status_word,
)

# A wide Spring tree can hold far more nodes than we report; visiting is bounded
# separately so a hostile body cannot make a walk expensive.
_MAX_NODES: Final = 2000


def read(body: HealthBody) -> HealthReading | None:
    data = body.json
    if not isinstance(data, dict):
        return None
    children = _children(data)
    groups = data.get("groups")
    if children is None and not (isinstance(groups, list) and isinstance(data.get("status"), str)):
        return None
    components: list[Component] = []
    if children:
        _walk(children, "", 1, components, [_MAX_NODES])
    return conclude(data.get("status"), "spring", components)


def _children(node: dict[str, object]) -> dict[str, object] | None:
    components = node.get("components")
    if isinstance(components, dict):
        return components
    # Boot 2.0-2.1 nested indicators under `details`, which otherwise holds
    # an indicator's own data (disk sizes, the error), so all must look like
    # indicators.
    details = node.get("details")
    if isinstance(details, dict) and details and all(_is_status_node(v) for v in details.values()):
        return details
    return None


def _walk(
    children: dict[str, object],
    path: str,
    depth: int,
    out: list[Component],
    budget: list[int],
) -> bool:
    """Append the components under `children`; True if any is not passing.

    Leaves are reported; a composite only when it is unhealthy and none of its
    children says why, so its status is not lost. A passing composite is
    summed up by its leaves.
    """
    unhealthy = False
    for key, node in children.items():
        if len(out) >= MAX_COMPONENTS or budget[0] <= 0:
            break
        budget[0] -= 1
        if not isinstance(node, dict):
            continue
        # Segments are cleaned as the path grows: a huge key repeated in every
        # descendant's path would otherwise cost memory quadratic in the body.
        name = f"{path}/{component_name(str(key))}" if path else component_name(str(key))
        raw = node.get("status")
        known = status_word(raw) if isinstance(raw, str) else None
        status = (known or "warn") if isinstance(raw, str) else None
        sub = _children(node) if depth < MAX_DEPTH else None
        if sub:
            explained = _walk(sub, name, depth + 1, out, budget)
            unhealthy = unhealthy or explained
            if explained or status in (None, "pass"):
                continue
        if status is None or not isinstance(raw, str) or len(out) >= MAX_COMPONENTS:
            continue
        details = node.get("details")
        message = (
            # `failure`: pyctuator, Spring Boot Actuator for Python, puts the error text there
            first_message(details, ("error", "message", "reason", "failure"))
            if isinstance(details, dict)
            else None
        )
        out.append(Component(_tail(name), status, clean(raw), message, unrecognised=known is None))
        unhealthy = unhealthy or status != "pass"
    return unhealthy


def _is_status_node(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("status"), str)


def _tail(path: str) -> str:
    """A long nested path keeps its leaf end, the part that names the culprit."""
    return path if len(path) <= MAX_TEXT else "…" + path[-(MAX_TEXT - 1) :]


FORMAT = HealthFormat("spring", "Spring Boot Actuator", read)
