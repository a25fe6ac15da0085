"""Pure: a health endpoint's body → what it says about the service's health.

The body is untrusted input from a service that may be broken, so nothing here
raises on it: every path either returns a reading or ``None``. ``None`` means
the body makes no health statement we recognise (empty, HTML, arbitrary JSON,
prose); the caller then falls back to the HTTP status code alone.

Formats, detected by shape (and IETF also by ``application/health+json``):

========== ==========================================================
format     shape
========== ==========================================================
ietf       ``status`` + ``checks: {"component:measurement": [node...]}``
microprof. ``status`` + ``checks: [{"name", "status"}...]`` (Quarkus, Liberty)
aspnetcore ``status: Healthy|Degraded|Unhealthy`` + ``entries``
terminus   ``status: ok|error|shutting_down`` + ``info``/``error``/``details``
spring     ``status`` + ``components`` (nested) or Boot 2.0 ``details``
plain-json ``{"status": "ok"}`` or ``{"healthy": false}``-style booleans
k8s        ``[+]name ok`` / ``[-]name failed: …`` / ``readyz check failed``
plain-text a single status word: ``OK``, ``healthy``, ``pong``, ``DOWN``…
========== ==========================================================

Component names are the body's own keys. Spring nests components; a nested
one is named by its path from the root joined with ``/`` (``db/primary``), the
same path Actuator serves it under (``/actuator/health/db/primary``), so a
top-level component keeps its bare name (``readinessState``) and two
``primary`` leaves under different parents stay distinguishable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final, Literal

from svccheck.neutral import neutralise

HealthStatus = Literal["pass", "warn", "fail"]

MAX_COMPONENTS: Final = 200
MAX_DEPTH: Final = 20
MAX_TEXT: Final = 200
# A wide Spring tree can hold far more nodes than we report; visiting is bounded
# separately so a hostile body cannot make a walk expensive.
_MAX_NODES: Final = 2000
# A plain-text health body is one word; anything longer is prose or a page.
_MAX_PLAIN_TEXT: Final = 64

_RANK: Final[dict[HealthStatus, int]] = {"pass": 0, "warn": 1, "fail": 2}

_WORDS: Final[dict[str, HealthStatus]] = {
    **dict.fromkeys(
        (
            "pass", "passed", "ok", "up", "healthy", "green", "alive", "ready",
            "serving", "live", "running", "online", "available", "success",
        ),
        "pass",
    ),
    # Spring's UNKNOWN: the indicator could not tell, which is not a clean pass.
    **dict.fromkeys(
        ("warn", "warning", "degraded", "yellow", "partial", "unknown"),
        "warn",
    ),
    **dict.fromkeys(
        (
            "fail", "failed", "failure", "error", "errored", "down", "unhealthy",
            "red", "critical", "out_of_service", "not_serving", "service_unknown",
            "shutting_down", "dead", "unavailable", "offline", "not_ready", "ko",
        ),
        "fail",
    ),
}  # fmt: skip
# Only a bare text body may say "pong"; as a JSON status it would be a guess.
_TEXT_ONLY_PASS: Final = frozenset({"pong"})

_SEPARATORS = re.compile(r"[\s\-]+")
_SPACE = re.compile(r"\s+")
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:\-]+)", re.IGNORECASE)
_K8S_CHECK = re.compile(r"\[([+-])\](\S+)[ \t]*(.*)")
_K8S_SUMMARY = re.compile(r"\S+ check (passed|failed)", re.IGNORECASE)
_LEADING_WORD = re.compile(r"([^\s:]*):?\s*(.*)")

_TERMINUS_WORDS: Final = frozenset({"ok", "error", "shutting_down"})
# Compared after lower-casing and dropping "_" / "-", so "Status" and
# "overall_status" match too. Order is priority.
_STATUS_KEYS: Final = ("status", "state", "health", "healthstatus", "overallstatus", "overall")
_BOOL_KEYS: Final = ("healthy", "ok", "up", "alive", "ready", "live", "success", "status")
# Keys under which plain JSON bodies commonly list their dependencies.
_CONTAINER_KEYS: Final = ("checks", "components", "dependencies", "services", "details", "results")
_MESSAGE_KEYS: Final = ("error", "message", "output", "description", "reason", "exception")


@dataclass(frozen=True, slots=True)
class Component:
    """One named part of a service's health (a dependency, a check, a probe)."""

    name: str
    status: HealthStatus
    raw_status: str
    message: str | None = None
    # `raw_status` is a word svccheck does not know: a warn that says so, never a pass (#15)
    unrecognised: bool = False


@dataclass(frozen=True, slots=True)
class HealthReading:
    """What a health body says: an overall status and its components."""

    status: HealthStatus
    raw_status: str | None
    format: str
    components: tuple[Component, ...]
    # `raw_status` is a word svccheck does not know: at least a warn that says so (#15)
    unrecognised: bool = False

    def failing(self) -> tuple[Component, ...]:
        """Components that are not ``pass``, failures before warnings.

        Failures first because a reason names only the first few; within one
        status the body's order is kept.
        """
        bad = [c for c in self.components if c.status != "pass"]
        return tuple(sorted(bad, key=lambda c: -_RANK[c.status]))

    def unrecognised_components(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.unrecognised)


def status_word(word: str) -> HealthStatus | None:
    """Map a health status word of any common format to pass/warn/fail.

    Case-insensitive; ``-`` and spaces count as ``_`` (``Out-Of-Service``).
    ``None`` for a word no format uses.
    """
    if not isinstance(word, str) or len(word) > 40:
        return None
    return _WORDS.get(_SEPARATORS.sub("_", word.strip().lower()))


def parse_health(body: bytes | str, content_type: str | None = None) -> HealthReading | None:
    """Read a health endpoint's body.

    ``None`` when the body carries no recognisable health statement: empty or
    blank, HTML, JSON that is not an object with a status-ish key (``status``,
    ``state``, ``health``…, or a boolean such as ``healthy``/``ok``/``up``), a
    JSON array, or text that is neither the Kubernetes verbose format nor a
    single known status word.
    """
    text = _decode(body, content_type)
    if text is None:
        return None
    text = text.strip().lstrip("\ufeff").strip()
    if not text or text[0] == "<":
        return None
    if text[0] in '{["':
        try:
            data: object = json.loads(text)
        except (ValueError, RecursionError):
            # Not JSON after all: "[+]ping ok" starts with a bracket, and a
            # truncated JSON body will be rejected by the text readers below.
            pass
        else:
            return _from_json(data, content_type)
    return _from_k8s(text) or _from_word(text, "plain-text")


# --- decoding ------------------------------------------------------------------


def _decode(body: bytes | str, content_type: str | None) -> str | None:
    if isinstance(body, str):
        return body
    if not isinstance(body, bytes | bytearray | memoryview):
        return None
    raw = bytes(body)
    match = _CHARSET.search(content_type) if isinstance(content_type, str) else None
    if match is not None:
        try:
            return raw.decode(match.group(1), errors="replace")
        except (LookupError, ValueError):
            # An unknown charset, or a codec that cannot "replace" (idna):
            # UTF-8 is what health endpoints send in practice.
            pass
    return raw.decode("utf-8-sig", errors="replace")


def _is_health_json(content_type: str | None) -> bool:
    if not isinstance(content_type, str):
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    # The draft's earlier revisions registered application/vnd.health+json.
    return media in ("application/health+json", "application/vnd.health+json")


# --- JSON formats ----------------------------------------------------------------


def _from_json(data: object, content_type: str | None) -> HealthReading | None:
    if isinstance(data, str):
        # A JSON string body, e.g. "Healthy": the same as the bare word.
        return _from_word(data.strip(), "plain-json")
    if not isinstance(data, dict):
        return None
    return (
        _ietf(data, forced=_is_health_json(content_type))
        or _microprofile(data)
        or _aspnetcore(data)
        or _terminus(data)
        or _spring(data)
        or _plain_json(data)
    )


def _ietf(data: dict[str, object], *, forced: bool) -> HealthReading | None:
    checks = data.get("checks")
    shaped = isinstance(checks, dict) and any(isinstance(v, list) for v in checks.values())
    if not shaped and not (forced and "status" in data):
        return None
    components: list[Component] = []
    if isinstance(checks, dict):
        for key, nodes in checks.items():
            if len(components) >= MAX_COMPONENTS:
                break
            component = _ietf_component(str(key), nodes)
            if component is not None:
                components.append(component)
    return _conclude(data.get("status"), "ietf", components)


def _ietf_component(key: str, nodes: object) -> Component | None:
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
        if worst is None or _RANK[status] > _RANK[worst[0]]:
            worst, message = (status, raw, known is None), None
        if status == worst[0] and message is None:
            message = _message(node, ("output",))
    if worst is None:
        return None
    return Component(_name(key), worst[0], _clean(worst[1]), message, unrecognised=worst[2])


def _microprofile(data: dict[str, object]) -> HealthReading | None:
    checks = data.get("checks")
    if not isinstance(checks, list) or not isinstance(data.get("status"), str):
        return None
    components: list[Component] = []
    for index, node in enumerate(checks[:MAX_COMPONENTS], start=1):
        if not isinstance(node, dict):
            continue
        name = node.get("name")
        details = node.get("data")
        message = _message(details, _MESSAGE_KEYS) if isinstance(details, dict) else None
        component = _component(name if isinstance(name, str) else f"check {index}", node, message)
        if component is not None:
            components.append(component)
    return _conclude(data.get("status"), "microprofile", components)


def _aspnetcore(data: dict[str, object]) -> HealthReading | None:
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return None
    components: list[Component] = []
    for key, node in entries.items():
        if len(components) >= MAX_COMPONENTS:
            break
        if isinstance(node, dict):
            message = _message(node, ("description", "exception"))
            component = _component(str(key), node, message)
            if component is not None:
                components.append(component)
    return _conclude(data.get("status"), "aspnetcore", components)


def _terminus(data: dict[str, object]) -> HealthReading | None:
    raw = data.get("status")
    if not isinstance(raw, str) or raw.strip().lower() not in _TERMINUS_WORDS:
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
            component = _component(name, node, _message(node, ("message", "error")))
            if component is not None:
                found[name] = component
    return _conclude(raw, "terminus", list(found.values()))


def _spring(data: dict[str, object]) -> HealthReading | None:
    children = _spring_children(data)
    groups = data.get("groups")
    if children is None and not (isinstance(groups, list) and isinstance(data.get("status"), str)):
        return None
    components: list[Component] = []
    if children:
        _spring_walk(children, "", 1, components, [_MAX_NODES])
    return _conclude(data.get("status"), "spring", components)


def _spring_children(node: dict[str, object]) -> dict[str, object] | None:
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


def _spring_walk(
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
        name = f"{path}/{_name(str(key))}" if path else _name(str(key))
        raw = node.get("status")
        known = status_word(raw) if isinstance(raw, str) else None
        status = (known or "warn") if isinstance(raw, str) else None
        sub = _spring_children(node) if depth < MAX_DEPTH else None
        if sub:
            explained = _spring_walk(sub, name, depth + 1, out, budget)
            unhealthy = unhealthy or explained
            if explained or status in (None, "pass"):
                continue
        if status is None or not isinstance(raw, str) or len(out) >= MAX_COMPONENTS:
            continue
        details = node.get("details")
        message = _message(details, ("error", "message", "reason")) if isinstance(details, dict) else None
        out.append(Component(_tail(name), status, _clean(raw), message, unrecognised=known is None))
        unhealthy = unhealthy or status != "pass"
    return unhealthy


def _plain_json(data: dict[str, object]) -> HealthReading | None:
    keys: dict[str, str] = {}
    for key in data:
        keys.setdefault(str(key).lower().replace("_", "").replace("-", ""), key)
    unknown: str | None = None
    for wanted in _STATUS_KEYS:
        value = data[keys[wanted]] if wanted in keys else None
        if isinstance(value, str) and (stated := status_word(value)) is not None:
            return HealthReading(stated, _clean(value), "plain-json", _generic_components(data))
        if unknown is None and isinstance(value, str) and _clean(value):
            unknown = _clean(value)
    # Booleans only when no status word: a stated status is authoritative.
    found: tuple[HealthStatus, str] | None = None
    for wanted in _BOOL_KEYS:
        if wanted not in keys:
            continue
        original = keys[wanted]
        value = data[original]
        if isinstance(value, bool):
            status: HealthStatus = "pass" if value else "fail"
            if found is None or _RANK[status] > _RANK[found[0]]:
                found = (status, f"{_clean(original)}={'true' if value else 'false'}")
    # A status word we do not know ({"status": "NOK"}) is a statement we cannot vouch for:
    # a warn that names it, never a silent pass (#15); a boolean saying "down" still fails.
    if unknown is not None and (found is None or found[0] != "fail"):
        return HealthReading("warn", unknown, "plain-json", _generic_components(data), unrecognised=True)
    if found is None:
        return None
    return HealthReading(found[0], found[1], "plain-json", _generic_components(data))


def _generic_components(data: dict[str, object]) -> tuple[Component, ...]:
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
            raw, message = value.get("status"), _message(value, _MESSAGE_KEYS)
        else:
            raw, message, listed = value, None, False
        if not isinstance(raw, str):
            return
        status = status_word(raw)
        if status is not None:
            out.append(Component(_name(name), status, _clean(raw), message))
        elif listed and _clean(raw):
            out.append(Component(_name(name), "warn", _clean(raw), message, unrecognised=True))

    containers = [key for key in data if str(key).lower() in _CONTAINER_KEYS]
    for key, value in data.items():
        if key not in containers and isinstance(value, dict):
            add(str(key), value, listed=False)
    for key in containers:
        section = data[key]
        if isinstance(section, dict):
            for name, value in section.items():
                add(str(name), value, listed=True)
    return tuple(out)


def _component(name: str, node: dict[str, object], message: str | None) -> Component | None:
    raw = node.get("status")
    if not isinstance(raw, str):
        return None
    # A word we do not know inside a health report is something we cannot
    # vouch for: warn, and show the word as the body wrote it.
    known = status_word(raw)
    return Component(_name(name), known or "warn", _clean(raw), message, unrecognised=known is None)


def _conclude(raw: object, fmt: str, components: list[Component]) -> HealthReading | None:
    """The reading of a structured format: its top-level status is authoritative.

    Without a top-level word the components decide; with an unknown one the
    reading is at least ``warn``, since the body does claim to be a health report.
    """
    word = raw if isinstance(raw, str) else None
    status = status_word(word) if word is not None else None
    if status is None:
        if word is None and not components:
            return None
        status = "pass" if word is None else "warn"
        for component in components:
            if _RANK[component.status] > _RANK[status]:
                status = component.status
    raw_status = _clean(word) if word is not None else None
    unrecognised = word is not None and status_word(word) is None
    return HealthReading(status, raw_status, fmt, tuple(components), unrecognised=unrecognised)


def _is_status_node(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("status"), str)


# --- text formats --------------------------------------------------------------------


def _from_k8s(text: str) -> HealthReading | None:
    components: list[Component] = []
    any_failed = False
    seen = False
    summary: str | None = None
    for line in text.splitlines():
        line = line.strip()
        check = _K8S_CHECK.fullmatch(line)
        if check is not None:
            seen = True
            sign, name, rest = check.groups()
            status: HealthStatus = "pass" if sign == "+" else "fail"
            any_failed = any_failed or status == "fail"
            if len(components) < MAX_COMPONENTS:
                word, detail = _split_word(rest, "ok" if status == "pass" else "failed")
                components.append(Component(_name(name), status, word, detail))
        elif _K8S_SUMMARY.fullmatch(line) is not None:
            seen, summary = True, line
    if not seen:
        return None
    if summary is not None:
        # The apiserver's own verdict wins, as IETF's top-level status does.
        failed = summary.lower().endswith("failed")
        return HealthReading("fail" if failed else "pass", _clean(summary), "k8s", tuple(components))
    return HealthReading("fail" if any_failed else "pass", None, "k8s", tuple(components))


def _split_word(rest: str, default: str) -> tuple[str, str | None]:
    """``failed: reason withheld`` → (``failed``, ``reason withheld``)."""
    match = _LEADING_WORD.fullmatch(rest)
    if match is None:  # pragma: no cover - the pattern matches any line
        return default, None
    word, detail = match.groups()
    return (_clean(word) or default), (_clean(detail) or None)


def _from_word(text: str, fmt: str) -> HealthReading | None:
    if len(text) > _MAX_PLAIN_TEXT or "\n" in text or "\r" in text:
        return None
    word = text.rstrip(".!").strip()
    status: HealthStatus | None = "pass" if word.lower() in _TEXT_ONLY_PASS else status_word(word)
    if status is None:
        return None
    return HealthReading(status, _clean(word), fmt, ())


# --- text hygiene -------------------------------------------------------------------


def _message(node: dict[str, object], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = node.get(key)
        if isinstance(value, str):
            text = _clean(value)
            if text:
                return text
    return None


def _name(key: str) -> str:
    return _clean(key) or "(unnamed)"


def _tail(path: str) -> str:
    """A long nested path keeps its leaf end, the part that names the culprit."""
    return path if len(path) <= MAX_TEXT else "…" + path[-(MAX_TEXT - 1) :]


def _clean(value: str, limit: int = MAX_TEXT) -> str:
    """One printable line of at most `limit` characters (an ellipsis marks a cut)."""
    # Cleaning only a bounded head keeps the regex work small on huge strings.
    head = value[: limit * 4]
    # C0/C1 controls and bidi overrides are shown as escapes, not dropped: what a service
    # sent is visible (`\x1b]0;…`), and cannot drive the terminal or disguise a name.
    text = neutralise(_SPACE.sub(" ", head).strip())
    if len(text) > limit or len(value) > len(head):
        text = text[: limit - 1].rstrip() + "…"
    return text
