"""Pure: a health endpoint's body → what it says about the service's health.

The body is untrusted input from a service that may be broken, so nothing here
raises on it: every path either returns a reading or ``None``. ``None`` means
the body makes no health statement we recognise (empty, HTML, arbitrary JSON,
prose); the caller then falls back to the HTTP status code alone.

Formats, one module each, detected by shape (and IETF also by ``application/health+json``):

============ ==========================================================
format       shape
============ ==========================================================
ietf         ``status`` + ``checks: {"component:measurement": [node...]}`` (or ``details``)
microprofile ``status`` + ``checks: [{"name", "status" or "state"}...]`` (Quarkus, Liberty)
aspnetcore   ``status: Healthy|Degraded|Unhealthy`` + ``entries``
terminus     ``status: ok|error|shutting_down`` + ``info``/``error``/``details`` (``error`` maybe a list)
spring       ``status`` + ``components`` (nested) or Boot 2.0 ``details``
plain-json   ``{"status": "ok"}``, ``{"healthy": false}``, ``{"health": "false"}``, lists of results
k8s          ``[+]name ok`` / ``[-]name failed: …`` / ``readyz check failed``
plain-text   a single status word: ``OK``, ``healthy``, ``pong``, ``DOWN``…
============ ==========================================================

A new format is a module with a ``FORMAT = HealthFormat(name, title, read)`` and its line in
`FORMATS`; tests/test_health_formats.py runs every entry through the same contract.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Final

from svccheck.judge.health import (
    aspnetcore,
    ietf,
    k8s,
    microprofile,
    plain_json,
    plain_text,
    spring,
    terminus,
)
from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
    MAX_DEPTH,
    MAX_TEXT,
    NOT_JSON,
    TOP_MESSAGE_KEYS,
    Component,
    HealthBody,
    HealthFormat,
    HealthReading,
    HealthStatus,
    first_message,
    status_word,
)

__all__ = [
    "FORMATS",
    "MAX_COMPONENTS",
    "MAX_DEPTH",
    "MAX_TEXT",
    "Component",
    "HealthBody",
    "HealthFormat",
    "HealthReading",
    "HealthStatus",
    "parse_health",
    "status_word",
]

# Read in this order; the first format that claims a body reads it. Specific shapes come
# before the lenient ones that would also claim them: Terminus before Spring (Terminus's
# `details` of `{status}` nodes is also Spring Boot 2.0's nested form, which would read
# `status: error` as a component-less Spring body), every named JSON format before
# plain-json (which reads any object with a status word and would lose the components),
# and k8s before plain-text. tests/test_health_formats.py asserts that no format claims a
# sample of one listed after it.
FORMATS: Final[tuple[HealthFormat, ...]] = (
    ietf.FORMAT,
    microprofile.FORMAT,
    aspnetcore.FORMAT,
    terminus.FORMAT,
    spring.FORMAT,
    plain_json.FORMAT,
    k8s.FORMAT,
    plain_text.FORMAT,
)

# compiled by `re` on first use (its cache), not at import: `validate` and a run without a
# health body never need it
_CHARSET = r"(?i)charset\s*=\s*\"?([A-Za-z0-9._:\-]+)"


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
    answer = HealthBody(text, _json_document(text) if text[0] in '{["' else NOT_JSON, content_type)
    for health_format in FORMATS:
        reading = health_format.read(answer)
        if reading is not None:
            return _with_message(reading, answer.json)
    return None


def _with_message(reading: HealthReading, document: object) -> HealthReading:
    """The body's own top-level explanation, whatever the format: RabbitMQ's
    `{"status": "failed", "reason": "There are alarms in effect in the cluster"}`."""
    if reading.message is not None or not isinstance(document, dict):
        return reading
    message = first_message(document, TOP_MESSAGE_KEYS)
    return reading if message is None else replace(reading, message=message)


def _json_document(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        # Not JSON after all: "[+]ping ok" starts with a bracket, and a
        # truncated JSON body will be rejected by the text readers.
        return NOT_JSON


def _decode(body: bytes | str, content_type: str | None) -> str | None:
    if isinstance(body, str):
        return body
    if not isinstance(body, bytes | bytearray | memoryview):
        return None
    raw = bytes(body)
    match = re.search(_CHARSET, content_type) if isinstance(content_type, str) else None
    if match is not None:
        try:
            return raw.decode(match.group(1), errors="replace")
        except (LookupError, ValueError):
            # An unknown charset, or a codec that cannot "replace" (idna):
            # UTF-8 is what health endpoints send in practice.
            pass
    return raw.decode("utf-8-sig", errors="replace")
