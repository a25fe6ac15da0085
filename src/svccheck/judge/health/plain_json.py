"""JSON that states a status: ``{"status": "ok"}``, ``{"healthy": false}``, a JSON string (``"Healthy"``)."""

from __future__ import annotations

from typing import Final

from svccheck.judge.health.plain_text import read_word
from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
    MESSAGE_KEYS,
    RANK,
    Component,
    HealthBody,
    HealthFormat,
    HealthReading,
    HealthStatus,
    clean,
    component,
    component_name,
    first_message,
    status_word,
)

# Compared after lower-casing and dropping "_" / "-", so "Status" and
# "overall_status" match too. Order is priority.
_STATUS_KEYS: Final = ("status", "state", "health", "healthstatus", "overallstatus", "overall")
_BOOL_KEYS: Final = ("healthy", "ok", "up", "alive", "ready", "live", "success", "status")
# Keys under which plain JSON bodies commonly list their dependencies.
_CONTAINER_KEYS: Final = ("checks", "components", "dependencies", "services", "details", "results")
# A list of results names each entry (py-healthcheck's `checker`) and says how it went in a
# word or a boolean (`passed`: py-healthcheck, fastapi-healthchecks).
_NAME_KEYS: Final = ("name", "checker", "check", "component", "service", "id")
_RESULT_BOOL_KEYS: Final = ("passed", "healthy", "ok", "up", "success")
# a result's explanation; fastapi-healthchecks sends its error under `details`
_RESULT_MESSAGE_KEYS: Final = (*MESSAGE_KEYS, "details")
_TRUTH: Final[dict[str, HealthStatus]] = {"true": "pass", "false": "fail"}


def read(body: HealthBody) -> HealthReading | None:
    data = body.json
    if isinstance(data, str):
        # A JSON string body, e.g. "Healthy": the same as the bare word.
        return read_word(data.strip(), "plain-json")
    if not isinstance(data, dict):
        return None
    keys: dict[str, str] = {}
    for key in data:
        keys.setdefault(str(key).lower().replace("_", "").replace("-", ""), key)
    unknown: str | None = None
    for wanted in _STATUS_KEYS:
        value = data[keys[wanted]] if wanted in keys else None
        if isinstance(value, str) and (stated := status_word(value)) is not None:
            return HealthReading(stated, clean(value), "plain-json", _components(data))
        if isinstance(value, str) and (truth := _TRUTH.get(value.strip().lower())) is not None:
            # a boolean sent as a string: etcd's `{"health": "false"}`
            said = f"{clean(keys[wanted])} {clean(value)}"
            return HealthReading(truth, clean(value), "plain-json", _components(data), statement=said)
        if unknown is None and isinstance(value, str) and clean(value):
            unknown = clean(value)
    # Booleans only when no status word: a stated status is authoritative.
    found: tuple[HealthStatus, str] | None = None
    for wanted in _BOOL_KEYS:
        if wanted not in keys:
            continue
        original = keys[wanted]
        value = data[original]
        if isinstance(value, bool):
            status: HealthStatus = "pass" if value else "fail"
            if found is None or RANK[status] > RANK[found[0]]:
                found = (status, f"{clean(original)}={'true' if value else 'false'}")
    # A status word we do not know ({"status": "NOK"}) is a statement we cannot vouch for:
    # a warn that names it, never a silent pass (#15); a boolean saying "down" still fails.
    if unknown is not None and (found is None or found[0] != "fail"):
        return HealthReading("warn", unknown, "plain-json", _components(data), unrecognised=True)
    if found is None:
        return None
    return HealthReading(found[0], found[1], "plain-json", _components(data))


def _components(data: dict[str, object]) -> tuple[Component, ...]:
    """Dependencies a plain body lists, where their status is a known word.

    Stricter than the named formats: an arbitrary object that happens to
    carry a "status" field should not show up as a failing component. Only
    an object with a `status` listed under a container key (`checks`,
    `dependencies`…) is a component whatever its word: an unknown one is a
    warn of that component (#15). A bare string there may be any datum
    (`"version": "1.2"`), so it counts only when it is a known word.
    """
    out: list[Component] = []

    def add(name: str, value: object, *, listed: bool) -> None:
        if len(out) >= MAX_COMPONENTS:
            return
        if isinstance(value, dict):
            raw, message = value.get("status"), first_message(value, MESSAGE_KEYS)
        else:
            raw, message, listed = value, None, False
        if not isinstance(raw, str):
            return
        status = status_word(raw)
        if status is not None:
            out.append(Component(component_name(name), status, clean(raw), message))
        elif listed and clean(raw):
            out.append(Component(component_name(name), "warn", clean(raw), message, unrecognised=True))

    containers = [key for key in data if str(key).lower() in _CONTAINER_KEYS]
    for key, value in data.items():
        if key not in containers and isinstance(value, dict):
            add(str(key), value, listed=False)
    for key in containers:
        section = data[key]
        if isinstance(section, dict):
            for name, value in section.items():
                add(str(name), value, listed=True)
        elif isinstance(section, list):
            for entry in section[:MAX_COMPONENTS]:
                if len(out) < MAX_COMPONENTS and (found := _result(entry)) is not None:
                    out.append(found)
    return tuple(out)


def _result(entry: object) -> Component | None:
    """One entry of a list of results: named, and with a status word or a boolean."""
    if not isinstance(entry, dict):
        return None
    name = next((entry[k] for k in _NAME_KEYS if isinstance(entry.get(k), str) and entry[k]), None)
    if name is None:
        return None
    message = first_message(entry, _RESULT_MESSAGE_KEYS)
    if isinstance(entry.get("status"), str) or isinstance(entry.get("state"), str):
        return component(name, entry, message)
    flag = next((entry[k] for k in _RESULT_BOOL_KEYS if isinstance(entry.get(k), bool)), None)
    if flag is None:
        return None
    word = "passed" if flag else "failed"
    return Component(component_name(name), "pass" if flag else "fail", word, message)


FORMAT = HealthFormat("plain-json", "JSON with a status", read)
