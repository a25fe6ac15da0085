"""NestJS Terminus: ``status: ok|error|shutting_down`` and ``info`` / ``error`` / ``details``.

@godaddy/terminus sends the same words, its `error` either keyed by check (as NestJS does)
or, in its README's pattern (`throw new HealthCheckError('healthcheck failed', errors)`),
an array of the errors collected: each entry a failing component, named by its `name`
when it has one, with its message.
"""

from __future__ import annotations

from typing import Final

from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
    MESSAGE_KEYS,
    Component,
    HealthBody,
    HealthFormat,
    HealthReading,
    clean,
    component,
    component_name,
    conclude,
    explanation,
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
    errors = data.get("error")
    if not any(isinstance(section, dict) for section in sections) and not isinstance(errors, list):
        return None
    # `details` is the complete set; `error`/`info` only fill in what a
    # partial body left out of it, so the first mention of a name wins.
    found: dict[str, Component] = {}
    if isinstance(errors, list):
        for index, entry in enumerate(errors[:MAX_COMPONENTS], start=1):
            part = _listed_error(entry, index)
            if part is not None and part.name not in found:
                found[part.name] = part
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


def _listed_error(entry: object, index: int) -> Component | None:
    """One entry of an `error` array: an error's text, or an object with its message."""
    if isinstance(entry, str):
        text = clean(explanation(entry))
        return Component(f"error {index}", "fail", "error", text or None) if text else None
    if not isinstance(entry, dict):
        return None
    name = entry.get("name")
    label = component_name(name) if isinstance(name, str) and name.strip() else f"error {index}"
    message = first_message(entry, MESSAGE_KEYS)
    raw = entry.get("status")
    word = clean(raw) if isinstance(raw, str) and clean(raw) else "error"
    # an entry of `error` failed whatever word it carries: it is listed among the errors
    return Component(label, "fail", word, message)


FORMAT = HealthFormat("terminus", "NestJS Terminus", read)
