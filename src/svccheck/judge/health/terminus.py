"""NestJS Terminus: ``status: ok|error|shutting_down`` and ``info`` / ``error`` / ``details``."""

from __future__ import annotations

from typing import Final

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

_WORDS: Final = frozenset({"ok", "error", "shutting_down"})


def read(body: HealthBody) -> HealthReading | None:
    data = body.json
    if not isinstance(data, dict):
        return None
    raw = data.get("status")
    if not isinstance(raw, str) or raw.strip().lower() not in _WORDS:
        return None
    sections = [data.get(key) for key in ("details", "error", "info")]
    if not any(isinstance(section, dict) for section in sections):
        return None
    # `details` is the complete set; `error`/`info` only fill in what a
    # partial body left out of it, so the first mention of a name wins.
    found: dict[str, Component] = {}
    for section in sections:
        if not isinstance(section, dict):
            continue
        for key, node in section.items():
            if len(found) >= MAX_COMPONENTS:
                break
            name = str(key)
            if name in found or not isinstance(node, dict):
                continue
            part = component(name, node, first_message(node, ("message", "error")))
            if part is not None:
                found[name] = part
    return conclude(raw, "terminus", list(found.values()))


FORMAT = HealthFormat("terminus", "NestJS Terminus", read)
