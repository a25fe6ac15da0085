"""Captures: values one check takes from its answer, filled into later checks' `${capture.NAME}`.

A check that uses a capture waits for the check that takes it (`CaptureBoard`), wherever
both are in the manifest; everything else runs concurrently as before. A capture that
could not be taken (its check failed, or its JSONPath selected nothing) makes every check
that needs it `skip`, naming that check: the failure is reported once, where it happened.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from svccheck.grammar.tokens import CAPTURE_REFERENCE
from svccheck.judge.expect import json_query
from svccheck.model import Answer, Check, HttpRequest

CAPTURE_VAR_PREFIX = "SVCCHECK_CAPTURE_"


def capture_var(name: str) -> str:
    """The environment variable a reproduction names a captured value by: `SVCCHECK_CAPTURE_SESSION`."""
    return CAPTURE_VAR_PREFIX + name.upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Taken:
    """A capture's value, or why it could not be taken; `producer` is "service/check"."""

    value: str | None
    producer: str
    secret: bool = True
    source: str = ""


def label(check: Check) -> str:
    return f"{check.service}/{check.name}"


def extract(check: Check, answer: Answer | None) -> tuple[dict[str, str], list[str]]:
    """The check's captures from its answer, and for each one it could not take, why."""
    values: dict[str, str] = {}
    problems: list[str] = []
    if answer is None:
        return values, [f"capture {c.name}: no answer" for c in check.captures]
    document: Any = None
    parsed = False
    for capture in check.captures:
        if capture.header is not None:
            found = answer.header(capture.header)
            if found is None:
                problems.append(f"capture {capture.name}: no {capture.header} header in the answer")
            else:
                values[capture.name] = found
            continue
        assert capture.json_path is not None
        if not parsed:
            parsed = True
            try:
                document = json.loads(answer.body)
            except (ValueError, RecursionError):
                document = _NOT_JSON
        if document is _NOT_JSON:
            problems.append(f"capture {capture.name}: the body is not JSON")
            continue
        selected = json_query(capture.json_path).find(document).values()
        if not selected or selected[0] is None:
            problems.append(f"capture {capture.name}: {capture.json_path} selected nothing")
            continue
        first = selected[0]
        values[capture.name] = first if isinstance(first, str) else json.dumps(first)
    return values, problems


_NOT_JSON = object()


def fill(check: Check, values: dict[str, str]) -> Check:
    """The check with each `${capture.NAME}` replaced: percent-encoded in the URL, escaped as a
    JSON string's content in a JSON body, as it is in a header and any other body."""
    url = _substitute(check.url, values, lambda v: quote(v, safe=""))
    target = check.target
    if isinstance(target, HttpRequest):
        headers = tuple((name, _substitute(value, values, str)) for name, value in target.headers)
        body = target.body
        if body is not None and b"capture." in body:
            is_json = any(n.lower() == "content-type" and "json" in v.lower() for n, v in target.headers)
            escape = (lambda v: json.dumps(v)[1:-1]) if is_json else str
            body = _substitute(body.decode("utf-8"), values, escape).encode("utf-8")
        target = replace(target, headers=headers, body=body)
    return replace(check, url=url, target=target)


def with_authorization(check: Check, value: str) -> Check:
    """The check sending `Authorization: value`, unless the manifest wrote its own."""
    target = check.target
    if not isinstance(target, HttpRequest):
        return check
    if any(name.lower() == "authorization" for name, _ in target.headers):
        return check
    return replace(check, target=replace(target, headers=(*target.headers, ("Authorization", value))))


def _substitute(text: str, values: dict[str, str], escape: object) -> str:
    if "capture." not in text:
        return text
    assert callable(escape)
    return CAPTURE_REFERENCE.sub(lambda m: str(escape(values.get(m.group(1), ""))), text)


@dataclass
class CaptureBoard:
    """One run's captures: each producer in the run posts what it took; consumers wait for it.

    `kept` holds what earlier rounds took (a `wait` round that re-runs only a failed
    consumer uses the session its producer captured before)."""

    producers: dict[str, str] = field(default_factory=dict)  # capture name -> "service/check"
    kept: dict[str, Taken] = field(default_factory=dict)
    _taken: dict[str, Taken] = field(default_factory=dict)
    _posted: dict[str, asyncio.Event] = field(default_factory=dict)

    def expect(self, checks: list[Check]) -> None:
        for check in checks:
            for capture in check.captures:
                self.producers[capture.name] = label(check)
                self._posted[capture.name] = asyncio.Event()

    def post(self, check: Check, values: dict[str, str], ok: bool) -> None:
        for capture in check.captures:
            value = values.get(capture.name) if ok else None
            taken = Taken(value, label(check), capture.secret, capture.source)
            self._taken[capture.name] = taken
            if value is not None:
                self.kept[capture.name] = taken
            else:
                self.kept.pop(capture.name, None)
            self._posted[capture.name].set()

    async def wait(self, name: str) -> Taken:
        posted = self._posted.get(name)
        if posted is None:  # its producer is not in this run: an earlier round's value, if any
            return self.kept.get(name) or Taken(None, "", source="")
        await posted.wait()
        return self._taken[name]
