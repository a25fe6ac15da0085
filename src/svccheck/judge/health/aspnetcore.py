"""ASP.NET Core HealthChecks (its UI response writer): ``status: Healthy|Degraded|Unhealthy``, ``entries``."""

from __future__ import annotations

from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
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
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return None
    components: list[Component] = []
    for key, node in entries.items():
        if len(components) >= MAX_COMPONENTS:
            break
        if isinstance(node, dict):
            found = component(str(key), node, first_message(node, ("description", "exception")))
            if found is not None:
                components.append(found)
    return conclude(data.get("status"), "aspnetcore", components)


FORMAT = HealthFormat("aspnetcore", "ASP.NET Core HealthChecks", read)
