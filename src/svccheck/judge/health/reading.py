"""What every health format reader shares: the reading, the status words, the text hygiene.

A reader (one module per format in this package) takes a `HealthBody` and returns a
`HealthReading`, or ``None`` when the body is not in its format. The body is untrusted
input from a service that may be broken, so no reader raises on it, and every text a
reading carries (component names, status words, messages) went through `clean`.

Component names are the body's own keys. Spring nests components; a nested
one is named by its path from the root joined with ``/`` (``db/primary``), the
same path Actuator serves it under (``/actuator/health/db/primary``), so a
top-level component keeps its bare name (``readinessState``) and two
``primary`` leaves under different parents stay distinguishable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from svccheck.model import Component as Component
from svccheck.model import HealthStatus as HealthStatus
from svccheck.neutral import neutralise

MAX_COMPONENTS: Final = 200
MAX_DEPTH: Final = 20
MAX_TEXT: Final = 200

RANK: Final[dict[HealthStatus, int]] = {"pass": 0, "warn": 1, "fail": 2}

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
            # what real servers say while not serving (issue 14): a process that stopped or
            # crashed, and the transitions, which are not ready (MicroProfile-like `STARTING`)
            "stopped", "crashed", "starting", "stopping", "restarting",
        ),
        "fail",
    ),
}  # fmt: skip

_SEPARATORS = re.compile(r"[\s\-]+")
_SPACE = re.compile(r"\s+")

# Keys under which a component's explanation is commonly given.
MESSAGE_KEYS: Final = ("error", "message", "output", "description", "reason", "exception")
# ... and a whole body's (`description` there describes the service, not its trouble)
TOP_MESSAGE_KEYS: Final = ("reason", "error", "message", "output")


@dataclass(frozen=True, slots=True)
class HealthReading:
    """What a health body says: an overall status and its components."""

    status: HealthStatus
    raw_status: str | None
    format: str
    components: tuple[Component, ...]
    # `raw_status` is a word svccheck does not know: at least a warn that says so (#15)
    unrecognised: bool = False
    # the body's own top-level explanation (RabbitMQ's `reason`), said when no component does
    message: str | None = None
    # how the body stated its status when `health status WORD` would misread it:
    # etcd's `{"health": "false"}` is `health false`
    statement: str | None = None

    def failing(self) -> tuple[Component, ...]:
        """Components that are not ``pass``, failures before warnings.

        Failures first because a reason names only the first few; within one
        status the body's order is kept.
        """
        bad = [c for c in self.components if c.status != "pass"]
        return tuple(sorted(bad, key=lambda c: -RANK[c.status]))

    def unrecognised_components(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.unrecognised)


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Final[Any] = _NotJson()


# HealthBody and HealthFormat are plain classes: this package is imported on every run, and
# creating a class costs ~7 us, a NamedTuple ~0.2 ms (its annotations are compiled), a frozen
# dataclass ~0.8 ms.
class HealthBody:
    """A health answer as every reader sees it."""

    __slots__ = ("content_type", "json", "text")

    def __init__(self, text: str, json: object, content_type: str | None) -> None:
        self.text = text  # decoded, without surrounding blanks or a BOM; never empty, never HTML
        self.json = json  # the parsed document when the text is JSON, else NOT_JSON
        self.content_type = content_type

    def __repr__(self) -> str:
        return f"HealthBody({self.text[:40]!r}, {self.content_type!r})"


class HealthFormat:
    """One format's entry in the registry (`svccheck.judge.health.FORMATS`)."""

    __slots__ = ("name", "read", "title")

    def __init__(self, name: str, title: str, read: Callable[[HealthBody], HealthReading | None]) -> None:
        self.name = name  # HealthReading.format, as reports show it: "spring"
        self.title = title  # as `svccheck init` names it to people: "Spring Boot Actuator"
        self.read = read  # None: not a body of this format

    def __repr__(self) -> str:
        return f"HealthFormat({self.name!r})"


def status_word(word: str) -> HealthStatus | None:
    """Map a health status word of any common format to pass/warn/fail.

    Case-insensitive; ``-`` and spaces count as ``_`` (``Out-Of-Service``).
    ``None`` for a word no format uses.
    """
    if not isinstance(word, str) or len(word) > 40:
        return None
    key = _SEPARATORS.sub("_", word.strip().lower())
    found = _WORDS.get(key)
    if found is None and key.endswith("_failed"):
        return "fail"  # `start failed`, `connection-failed`: whatever failed, it is a failure
    return found


def component(name: str, node: dict[str, object], message: str | None) -> Component | None:
    """A component from a node with a `status` (or `state`, as MicroProfile-like libraries
    write it) word; None without one."""
    raw = node.get("status")
    if raw is None:
        raw = node.get("state")
    if not isinstance(raw, str):
        return None
    # A word we do not know inside a health report is something we cannot
    # vouch for: warn, and show the word as the body wrote it.
    known = status_word(raw)
    return Component(component_name(name), known or "warn", clean(raw), message, unrecognised=known is None)


def conclude(raw: object, fmt: str, components: list[Component]) -> HealthReading | None:
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
        for part in components:
            if RANK[part.status] > RANK[status]:
                status = part.status
    raw_status = clean(word) if word is not None else None
    unrecognised = word is not None and status_word(word) is None
    return HealthReading(status, raw_status, fmt, tuple(components), unrecognised=unrecognised)


def first_message(node: dict[str, object], keys: tuple[str, ...]) -> str | None:
    """The first of `keys` that holds some text, cleaned."""
    for key in keys:
        value = node.get(key)
        if isinstance(value, str):
            text = clean(explanation(value))
            if text:
                return text
    return None


_TRACEBACK = "Traceback (most recent call last):"


def explanation(value: str) -> str:
    """A message as it explains itself: a Python traceback by its last line (the exception
    raised; fastapi-healthchecks sends whole tracebacks as a check's details), anything else
    whole (`clean` makes it one line)."""
    if not value.lstrip().startswith(_TRACEBACK):
        return value
    tail = value[-MAX_TEXT * 4 :].splitlines()
    return next((line for line in reversed(tail) if line.strip()), "")


def component_name(key: str) -> str:
    return clean(key) or "(unnamed)"


def clean(value: str, limit: int = MAX_TEXT) -> str:
    """One printable line of at most `limit` characters (an ellipsis marks a cut)."""
    # Cleaning only a bounded head keeps the regex work small on huge strings.
    head = value[: limit * 4]
    # C0/C1 controls and bidi overrides are shown as escapes, not dropped: what a service
    # sent is visible (`\x1b]0;…`), and cannot drive the terminal or disguise a name.
    text = neutralise(_SPACE.sub(" ", head).strip())
    if len(text) > limit or len(value) > len(head):
        text = text[: limit - 1].rstrip() + "…"
    return text
