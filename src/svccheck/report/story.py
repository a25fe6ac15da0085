"""`svccheck check NAME -v`: the whole story of each check, and a curl line to reproduce it.

Request, every attempt with its outcome and wait, the answer's status, headers
and first 2 KiB of body, each expectation with what came, the timing breakdown,
the certificate, and a curl command. Everything passes through the Redactor;
the curl line refers to secrets by variable name, never by value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from svccheck._version import __version__
from svccheck.curl import curl_command
from svccheck.durations import format_duration
from svccheck.model import CheckResult, Failure, FailureClass, Manifest, Matcher, Report, Verdict
from svccheck.neutral import neutralise
from svccheck.operators import describe
from svccheck.redact import MASK, Redactor, is_secret_key, secret_values
from svccheck.report.table import LABEL, STYLE, certificate_line, timings_line

_INDENT = "    "
_BODY_SHOWN = 2048  # bytes of a request body shown
_MAX_BODY_LINES = 40


def render(
    report: Report, manifest: Manifest, redactor: Redactor, *, insecure: bool = False
) -> RenderableType:
    """Every check of every service in `report`, in report order."""
    secret_vars = dict(manifest.secret_vars)
    secrets = secret_values(manifest)
    blocks: list[RenderableType] = []
    for service_result in report.services:
        for result in service_result.checks:
            blocks.append(
                _story(
                    result,
                    redactor,
                    root_cause=service_result.root_cause,
                    secret_vars=secret_vars,
                    secrets=secrets,
                    insecure=insecure,
                )
            )
    return Group(*blocks)


def _story(
    result: CheckResult,
    redactor: Redactor,
    *,
    root_cause: str | None,
    secret_vars: dict[str, str],
    secrets: set[str],
    insecure: bool,
) -> RenderableType:
    check = result.check
    out = Text()
    out.append(f"── {redactor.text(check.service)} / {redactor.text(check.name)} ", style="bold")
    out.append(LABEL[result.verdict], style=STYLE[result.verdict])
    if result.reason:
        out.append(f"  {redactor.text(result.reason)}")
    out.append("\n")
    if root_cause:
        out.append(f"{_INDENT}↳ caused by {redactor.text(root_cause)}\n", style="bold magenta")

    out.append("request\n", style="bold")
    out.append(f"{_INDENT}{check.method} {redactor.url(check.url)}\n")
    headers = list(check.headers)
    if not any(name.lower() == "user-agent" for name, _ in headers):
        headers.insert(0, ("User-Agent", f"svccheck/{__version__}"))
    for name, value in redactor.headers(headers):
        out.append(f"{_INDENT}{name}: {value}\n", style="dim")
    if check.body is not None:
        out.append(f"{_INDENT}body: {request_body(check.body, redactor)}\n", style="dim")

    out.append("attempts\n", style="bold")
    if not result.attempt_log:
        out.append(f"{_INDENT}none finished\n", style="dim")
    for attempt in result.attempt_log:
        outcome = attempt.reason or f"HTTP {attempt.status_code}"
        line = f"{_INDENT}{attempt.number}: {redactor.text(outcome)} in {format_duration(attempt.latency)}"
        if attempt.wait_after:
            line += f", then waited {format_duration(attempt.wait_after)}"
        out.append(line + "\n")

    response = result.response
    if response is not None:
        out.append("response\n", style="bold")
        out.append(f"{_INDENT}{redactor.text(response.http_version)} {response.status_code}")
        if response.url != check.url:
            out.append(f"  (from {redactor.url(response.url)})")
        out.append("\n")
        for name, value in redactor.headers(response.headers):
            out.append(f"{_INDENT}{name}: {value}\n", style="dim")
        if response.body:
            out.append("body" + (" (first 2 KiB)" if response.truncated else "") + "\n", style="bold")
            text = readable_body(response.body, response.truncated, redactor)
            lines = text.splitlines() or [""]
            for line in lines[:_MAX_BODY_LINES]:
                out.append(f"{_INDENT}{line}\n", style="dim")
            if len(lines) > _MAX_BODY_LINES:
                out.append(f"{_INDENT}… {len(lines) - _MAX_BODY_LINES} more lines\n", style="dim")

    out.append("expectations\n", style="bold")
    for ok, label, detail in assertions(result):
        mark, style = ("✓", "green") if ok else ("✗", STYLE[Verdict.FAIL])
        out.append(f"{_INDENT}{mark} ", style=style)
        out.append(redactor.text(label))
        if detail:
            out.append(f": {redactor.text(detail)}", style="" if ok else style)
        out.append("\n")
    for component in result.components:
        style = STYLE[Verdict(component.status)] if component.status in ("pass", "warn", "fail") else "dim"
        line = f"{_INDENT}component {component.name}: {component.raw_status}"
        if component.message:
            line += f" ({component.message})"
        out.append(redactor.text(line) + "\n", style=style)

    if result.timings is not None:
        out.append("timings\n", style="bold")
        out.append(f"{_INDENT}{timings_line(result.timings)}\n")
    if result.certificate is not None:
        cert = result.certificate
        out.append("TLS certificate\n", style="bold")
        out.append(f"{_INDENT}{certificate_line(cert.days_left, cert.not_after)}\n")
        for label, named in (("subject", cert.subject), ("issuer", cert.issuer)):
            if named:
                out.append(f"{_INDENT}{label}: {redactor.text(named)}\n", style="dim")

    verify: bool | str = False if insecure else check.verify_tls
    curl = curl_command(check, secret_vars=secret_vars, secrets=secrets, verify=verify, timeout=check.timeout)
    out.append("reproduce", style="bold")
    # neutralised like everything else: a control character in the manifest is shown, never obeyed
    command = Text(_INDENT + neutralise(curl.line), style="cyan")
    notes = Text()
    placeholders = {name for name, _ in curl.placeholders}
    for name, where in curl.variables:
        if name in placeholders:
            notes.append(f"{_INDENT}(set {name} to the secret in the {where} first)\n", style="dim")
        else:
            notes.append(f"{_INDENT}(needs ${name} set, as for svccheck)\n", style="dim")
    return Group(out, command, notes)


def assertions(result: CheckResult) -> list[tuple[bool, str, str]]:
    """Each expectation as (held, what was expected, what came or why it failed)."""
    check = result.check
    failures = list(result.failures)
    response = result.response
    rows: list[tuple[bool, str, str]] = []

    def take(label: str, matches: Iterable[Failure], actual: str, *, shared: bool = False) -> None:
        found = list(matches)
        for failure in found:
            if not shared:
                failures.remove(failure)
        rows.append((not found, label, found[0].message if found else actual))

    def starting(prefix: str) -> list[Failure]:
        return [f for f in failures if f.message.startswith(prefix)]

    expect = check.expect
    if response is None:
        return [(False, "an answer", f.message) for f in failures]
    if expect is None:
        take(
            "2xx status and a body that does not say unhealthy",
            list(failures),
            f"HTTP {response.status_code}",
        )
        return rows
    if expect.status is not None:
        take(f"status {expect.status.text}", starting("expected status"), str(response.status_code))
    latency = format_duration(response.latency)
    if expect.max_latency is not None:
        take(f"latency ≤ {format_duration(expect.max_latency)}", starting("latency"), latency)
    if expect.warn_latency is not None:
        take(f"latency ≤ {format_duration(expect.warn_latency)} (warn)", starting("latency"), latency)
    timings = response.timings
    for phase, bound in (
        ("dns", expect.max_dns),
        ("connect", expect.max_connect),
        ("tls", expect.max_tls),
        ("ttfb", expect.max_ttfb),
    ):
        if bound is None:
            continue
        value = None if timings is None else getattr(timings, phase)
        actual = "not measured (no new connection)" if value is None else format_duration(value)
        take(f"{phase} ≤ {format_duration(bound)}", starting(f"{phase} "), actual)
    tls_failures = [f for f in failures if f.failure_class is FailureClass.TLS]
    cert = response.certificate
    days = "no certificate" if cert is None else f"{cert.days_left:.0f} days left"
    if expect.tls_min_days is not None:
        take(
            f"certificate valid ≥ {expect.tls_min_days} days",
            [f for f in tls_failures if not f.warn_only],
            days,
        )
    if expect.tls_warn_days is not None:
        take(
            f"certificate valid ≥ {expect.tls_warn_days} days (warn)",
            [f for f in tls_failures if f.warn_only],
            days,
        )
    for name, matcher in expect.headers:
        seen = response.header(name)
        take(f"header {name} {_matcher_text(matcher)}", starting(f"header {name}:"), seen or "absent")
    if expect.body is not None:
        take(f"body {_matcher_text(expect.body)}", starting("body: "), "ok")
    unreadable = starting("body is not valid JSON") + starting("body exceeds")
    for query, matcher in expect.json:
        label = f"{query} {_matcher_text(matcher)}"
        if unreadable:
            take(label, unreadable, "", shared=True)
        else:
            take(label, starting(f"{query}:"), "ok")
    for failure in unreadable:
        failures.remove(failure)
    rows.extend((False, "", f.message) for f in failures)
    return rows


def readable_body(body: bytes, truncated: bool, redactor: Redactor) -> str:
    """JSON indented for reading, anything else as text; secrets masked either way.

    JSON strings are masked once decoded, so a secret the server escaped
    (``\\u0041``, ``\\"``) is caught too; the value of a secret-named key
    (``access_token``, ``password``…) is masked whatever it is. Bytes that are
    not UTF-8 show as ``\\xNN``; controls as escapes (`Redactor.block`).
    """
    text = body.decode("utf-8", errors="backslashreplace")
    shown = _masked_json(text, redactor, indent=2) if not truncated and _looks_json(text) else None
    return redactor.block(shown if shown is not None else text)


def request_body(body: bytes, redactor: Redactor) -> str:
    """The request body on one line: secret-named JSON keys and form fields masked, like a query."""
    text = body[:_BODY_SHOWN].decode("utf-8", errors="backslashreplace")
    if len(body) <= _BODY_SHOWN:
        if _looks_json(text):
            shown = _masked_json(text, redactor, indent=None)
            if shown is not None:
                return redactor.text(shown)
        elif "=" in text and " " not in text.lstrip():
            return redactor.form(text)
    return redactor.text(text)


def _looks_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def _masked_json(text: str, redactor: Redactor, *, indent: int | None) -> str | None:
    """A JSON document with its secrets masked, as text again; None when `text` is not JSON."""
    try:
        return json.dumps(_masked(json.loads(text), redactor), indent=indent, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None


def _masked(value: Any, redactor: Redactor) -> Any:
    """Secrets masked in a decoded JSON document; it is neutralised once it is text again."""
    if isinstance(value, str):
        return redactor.mask(value)
    if isinstance(value, dict):
        return {
            redactor.mask(str(k)): MASK
            if is_secret_key(str(k)) and not isinstance(v, dict | list)
            else _masked(v, redactor)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v, redactor) for v in value]
    return value


def _matcher_text(matcher: Matcher) -> str:
    return " and ".join(describe(op, operand) for op, operand in matcher.ops)
