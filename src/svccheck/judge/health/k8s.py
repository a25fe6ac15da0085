"""Kubernetes ``/readyz?verbose`` text: ``[+]name ok``, ``[-]name failed: …``, ``readyz check failed``."""

from __future__ import annotations

import re

from svccheck.judge.health.reading import (
    MAX_COMPONENTS,
    NOT_JSON,
    Component,
    HealthBody,
    HealthFormat,
    HealthReading,
    HealthStatus,
    clean,
    component_name,
)

# Patterns as text, compiled by `re` on first use (its cache): most runs read no text body,
# and compiling the three at import cost ~0.5 ms of every command's start-up.
_CHECK = r"\[([+-])\](\S+)[ \t]*(.*)"
_SUMMARY = r"(?i)\S+ check (passed|failed)"
_LEADING_WORD = r"([^\s:]*):?\s*(.*)"


def read(body: HealthBody) -> HealthReading | None:
    if body.json is not NOT_JSON:
        return None
    components: list[Component] = []
    any_failed = False
    seen = False
    summary: str | None = None
    for line in body.text.splitlines():
        line = line.strip()
        check = re.fullmatch(_CHECK, line)
        if check is not None:
            seen = True
            sign, name, rest = check.groups()
            status: HealthStatus = "pass" if sign == "+" else "fail"
            any_failed = any_failed or status == "fail"
            if len(components) < MAX_COMPONENTS:
                word, detail = _split_word(rest, "ok" if status == "pass" else "failed")
                components.append(Component(component_name(name), status, word, detail))
        elif re.fullmatch(_SUMMARY, line) is not None:
            seen, summary = True, line
    if not seen:
        return None
    if summary is not None:
        # The apiserver's own verdict wins, as IETF's top-level status does.
        failed = summary.lower().endswith("failed")
        return HealthReading("fail" if failed else "pass", clean(summary), "k8s", tuple(components))
    return HealthReading("fail" if any_failed else "pass", None, "k8s", tuple(components))


def _split_word(rest: str, default: str) -> tuple[str, str | None]:
    """``failed: reason withheld`` → (``failed``, ``reason withheld``)."""
    match = re.fullmatch(_LEADING_WORD, rest)
    if match is None:  # pragma: no cover - the pattern matches any line
        return default, None
    word, detail = match.groups()
    return (clean(word) or default), (clean(detail) or None)


FORMAT = HealthFormat("k8s", "Kubernetes readyz/livez text", read)
