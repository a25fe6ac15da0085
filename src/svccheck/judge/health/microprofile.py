"""MicroProfile Health (Quarkus, Open Liberty): ``status`` and ``checks: [{"name", "status"}, ...]``."""

from __future__ import annotations

from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
    MESSAGE_KEYS,
    Component,
    HealthBody,
    HealthFormat,
    HealthReading,
    component,
    conclude,
    first_message,
)


def read(body: HealthBody) -> HealthReading | None:
    data = body.json
    if not isinstance(data, dict):
        return None
    checks = data.get("checks")
    if not isinstance(checks, list) or not isinstance(data.get("status"), str):
        return None
    components: list[Component] = []
    for index, node in enumerate(checks[:MAX_COMPONENTS], start=1):
        if not isinstance(node, dict):
            continue
        name = node.get("name")
        details = node.get("data")
        message = first_message(details, MESSAGE_KEYS) if isinstance(details, dict) else None
        found = component(name if isinstance(name, str) else f"check {index}", node, message)
        if found is not None:
            components.append(found)
    return conclude(data.get("status"), "microprofile", components)


FORMAT = HealthFormat("microprofile", "MicroProfile Health", read)
