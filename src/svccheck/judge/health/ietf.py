"""IETF "Health Check Response Format for HTTP APIs" (draft-inadarei-api-health-check).

``status`` and ``checks: {"component:measurement": [node, ...]}``; recognised by that
shape, or by the ``application/health+json`` media type with a ``status``. With the media
type, the draft's earlier name ``details`` holds the checks too, one node per key (maikai,
the draft's reference middleware, sends that).
"""

from __future__ import annotations

from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
    RANK,
    Component,
    HealthBody,
    HealthFormat,
    HealthReading,
    HealthStatus,
    clean,
    component_name,
    conclude,
    first_message,
    status_word,
)


def read(body: HealthBody) -> HealthReading | None:
    data = body.json
    if not isinstance(data, dict):
        return None
    checks = data.get("checks")
    shaped = isinstance(checks, dict) and any(isinstance(v, list) for v in checks.values())
    health_json = _is_health_json(body.content_type) and "status" in data
    if not shaped and not health_json:
        return None
    if health_json and not isinstance(checks, dict):
        checks = data.get("details")
    components: list[Component] = []
    if isinstance(checks, dict):
        for key, nodes in checks.items():
            if len(components) >= MAX_COMPONENTS:
                break
            found = _component(str(key), nodes)
            if found is not None:
                components.append(found)
    return conclude(data.get("status"), "ietf", components)


def _is_health_json(content_type: str | None) -> bool:
    if not isinstance(content_type, str):
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    # The draft's earlier revisions registered application/vnd.health+json.
    return media in ("application/health+json", "application/vnd.health+json")


def _component(key: str, nodes: object) -> Component | None:
    """One ``checks`` entry; several nodes (instances) fold into their worst."""
    if isinstance(nodes, dict):
        nodes = [nodes]  # lenient: a single node without the list
    if not isinstance(nodes, list):
        return None
    worst: tuple[HealthStatus, str, bool] | None = None
    message: str | None = None
    for node in nodes[:MAX_COMPONENTS]:
        if not isinstance(node, dict) or not isinstance(node.get("status"), str):
            continue
        raw = node["status"]
        known = status_word(raw)
        status = known or "warn"
        if worst is None or RANK[status] > RANK[worst[0]]:
            worst, message = (status, raw, known is None), None
        if status == worst[0] and message is None:
            message = first_message(node, ("output",))
    if worst is None:
        return None
    return Component(component_name(key), worst[0], clean(worst[1]), message, unrecognised=worst[2])


FORMAT = HealthFormat("ietf", "IETF health+json", read)
