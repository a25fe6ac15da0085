"""`svccheck check NAME -v`: the whole story of each check, and a curl line to reproduce it.

Request, every attempt with its outcome and wait, the answer's status, headers
and first 2 KiB of body, each expectation with what came, the timing breakdown,
the certificate, and a curl command. Everything passes through the Redactor;
the curl line refers to secrets by variable name, never by value.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from svccheck.durations import format_duration
from svccheck.model import CheckResult, Manifest, Report, Verdict
from svccheck.neutral import neutralise
from svccheck.protocols import protocol_for
from svccheck.protocols.trace_context import last_traceparent
from svccheck.redact import MASK, Redactor, is_secret_key, secret_values
from svccheck.report.layout import Lines
from svccheck.report.table import LABEL, STYLE, certificate_line, timings_line

_INDENT = "    "
_BODY_SHOWN = 2048  # bytes of a request body shown
_MAX_BODY_LINES = 40


def render(
    report: Report,
    manifest: Manifest,
    redactor: Redactor,
    *,
    insecure: bool = False,
    request_timeout: float | None = None,
) -> RenderableType:
    """Every check of every service in `report`, in report order. `request_timeout`: the
    --request-timeout in force, which the reproduce line then uses instead of the manifest's."""
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
                    request_timeout=request_timeout,
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
    request_timeout: float | None,
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

    protocol = protocol_for(check.url)
    out.append("request\n", style="bold")
    first, *details = protocol.request_lines(check)
    verb, _, target = first.partition(" ")
    out.append(f"{_INDENT}{verb} {redactor.url(target)}\n")
    for line in details:
        name, sep, value = line.partition(": ")
        shown = f"{name}: {redactor.headers([(name, value)])[0][1]}" if sep else redactor.text(line)
        out.append(f"{_INDENT}{shown}\n", style="dim")
    traceparent = last_traceparent(result.trace_id, result.last_span_id)
    if traceparent is not None:
        out.append(f"{_INDENT}traceparent: {traceparent}\n", style="dim")
    body = protocol.request_body(check)
    if body is not None:
        out.append(f"{_INDENT}body: {request_body(body, redactor)}\n", style="dim")
    if result.trace_id is not None:
        out.append("trace ", style="bold")
        out.append(f"{result.trace_id}\n")

    out.append("attempts\n", style="bold")
    if not result.attempt_log:
        out.append(f"{_INDENT}none finished\n", style="dim")
    for attempt in result.attempt_log:
        outcome = attempt.reason or attempt.status_text or "answered"
        line = f"{_INDENT}{attempt.number}: {redactor.text(outcome)} in {format_duration(attempt.latency)}"
        if attempt.span_id:
            line += f" (span {attempt.span_id})"
        if attempt.wait_after:
            line += f", then waited {format_duration(attempt.wait_after)}"
        out.append(line + "\n")

    response = result.response
    if response is not None:
        out.append("response\n", style="bold")
        status = response.status_text if response.status_code is None else str(response.status_code)
        version = f"{response.version} " if response.version else ""
        out.append(f"{_INDENT}{redactor.text(version + status)}")
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
    for ok, label, detail in assertion_rows(result):
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
    # the timeout the attempts ran with, as the prober chose it: --request-timeout wins (issue 14)
    timeout = request_timeout or check.timeout
    # a token or a captured value the run obtained is named by a variable of its own (#16)
    got = {name: how for _, name, how in result.run_vars}
    if result.run_vars:
        secret_vars = {**secret_vars, **{value: name for value, name, _ in result.run_vars}}
        secrets = secrets | {value for value, _, _ in result.run_vars}
    command_line = protocol.reproduce(
        check,
        secret_vars=secret_vars,
        secrets=secrets,
        verify=verify,
        timeout=timeout,
        traceparent=traceparent,  # None but for a protocol that `carries_trace`
    )
    out.append("reproduce", style="bold")
    # neutralised like everything else: a control character in the manifest is shown, never obeyed
    command = Text(_INDENT + neutralise(command_line.line), style="cyan")
    notes = Text()
    placeholders = {name for name, _ in command_line.placeholders}
    for name, where in command_line.variables:
        if name in got:
            notes.append(f"{_INDENT}(set {name} to {redactor.text(got[name])} first)\n", style="dim")
        elif name in placeholders:
            notes.append(f"{_INDENT}(set {name} to the secret in the {where} first)\n", style="dim")
        else:
            notes.append(f"{_INDENT}(needs ${name} set, as for svccheck)\n", style="dim")
    # the story wraps at words on a terminal (#15); the curl line stays one line, to copy it whole
    return Group(Lines(out), command, notes)


def assertion_rows(result: CheckResult) -> list[tuple[bool, str, str]]:
    """Each expectation as (held, what was expected, what came or why it did not hold)."""
    return [
        (record.held, record.label, record.failure.message if record.failure else record.actual)
        for record in result.assertions
    ]


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
