"""The terminal table: grouped by service, worst first, one-line summary."""

from __future__ import annotations

import math

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from svccheck.durations import format_ms
from svccheck.listing import cut
from svccheck.model import Change, CheckResult, Report, Timings, Verdict
from svccheck.protocols import protocol_for
from svccheck.redact import Redactor
from svccheck.report import changes as words
from svccheck.report.next_step import next_steps, strict_line

STYLE = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "bold red", Verdict.SKIP: "dim"}
LABEL = {Verdict.PASS: "PASS", Verdict.WARN: "WARN", Verdict.FAIL: "FAIL", Verdict.SKIP: "SKIP"}


def summary_line(report: Report) -> str:
    s = report.summary
    parts = [f"{s.healthy}/{s.services} services healthy"]
    if s.degraded:
        parts.append(f"{s.degraded} degraded")
    if s.failing:
        parts.append(f"{s.failing} failing")
    if s.skipped:
        parts.append(f"{s.skipped} skipped")
    if s.recovered:
        parts.append(f"{s.recovered} recovered after retries")
    parts.append(f"{s.checks} checks in {s.duration:.2f}s")
    return " · ".join(parts)


def _latency(result: CheckResult) -> str:
    return format_ms(result.latency)


def _verdict_text(result: CheckResult) -> Text:
    label = LABEL[result.verdict] + (" ↻" if result.recovered else "")
    return Text(label, style=STYLE[result.verdict])


def render(
    report: Report, redactor: Redactor, *, verbose: bool = False, reproduce: str | None = None
) -> RenderableType:
    """`reproduce`: the command template (with `{name}`) suggested under the table for a failure."""
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("service", no_wrap=True)
    table.add_column("check", overflow="fold", max_width=32)
    table.add_column("status", justify="right", no_wrap=True)
    table.add_column("latency", justify="right", no_wrap=True)
    table.add_column("tries", justify="right", no_wrap=True)
    table.add_column("reason", overflow="fold", min_width=24, ratio=1)
    for index, service_result in enumerate(report.services):
        if index:
            table.add_section()
        service = service_result.service
        name = Text(redactor.text(service.name), style=STYLE[service_result.verdict])
        for row, result in enumerate(service_result.checks):
            reason = _reason(result, redactor, critical=service.critical)
            table.add_row(
                _verdict_text(result),
                name if row == 0 else "",
                Text(redactor.text(result.check.name)),
                "" if result.status_code is None else str(result.status_code),
                _latency(result),
                str(result.attempts) if result.attempts else "",
                reason,
            )
            if verbose:
                _verbose_rows(table, result, redactor)
        if service_result.root_cause:
            table.add_row(
                "",
                "",
                Text(f"↳ caused by {redactor.text(service_result.root_cause)}", style="bold magenta"),
                "",
                "",
                "",
                "",
            )
    footer = Text()
    for line in next_steps(report, redactor, reproduce):
        footer.append(line + "\n", style="bold magenta" if not line.startswith(" ") else "")
    if report.tls_unverified:
        shown = cut([redactor.text(name) for name in report.tls_unverified], 5)
        footer.append(
            f"TLS certificates not verified (--insecure or verify_tls: false): {shown}\n",
            style="yellow",
        )
    _changes_lines(footer, report, redactor)
    if report.interrupted:
        footer.append(f"{report.interrupted}: partial results\n", style="bold yellow")
    _strict_line(footer, report, redactor)
    footer.append(
        summary_line(report), style=STYLE[report.verdict] if report.verdict is not Verdict.PASS else ""
    )
    return Group(table, Text(""), footer)


def _changes_lines(out: Text, report: Report, redactor: Redactor) -> None:
    """Under the table, with `--baseline` or `diff`: what changed since, one line a change, and the gate."""
    if report.changes is None:
        return
    out.append(words.summary_line(report.changes, redactor) + "\n", style="bold")
    styles = {
        Change.NEW_FAILURE: STYLE[Verdict.FAIL],
        Change.RECOVERED: "green",
        Change.NEW_WARNING: "yellow",
    }
    for item in sorted(report.changes.items, key=lambda i: words.ORDER.index(i.change)):
        if item.change not in (Change.ADDED, Change.REMOVED):
            out.append(f"  {words.change_line(item, redactor)}\n", style=styles.get(item.change, ""))
    unmatched = words.unmatched_line(report.changes, redactor)
    if unmatched is not None:
        out.append(f"  {unmatched}\n", style="dim")
    _fail_on_line(out, report)


def _fail_on_line(out: Text, report: Report) -> None:
    line = words.fail_on_line(report)
    if line is not None:
        out.append(line + "\n", style="bold yellow")


def _strict_line(out: Text, report: Report, redactor: Redactor) -> None:
    line = strict_line(report, redactor)
    if line is not None:
        out.append(line + "\n", style="bold yellow")


def _reason(result: CheckResult, redactor: Redactor, *, critical: bool) -> Text:
    if result.recovered:
        return Text("recovered after retries", style="yellow")
    if result.ready_after is not None:
        return Text(f"ready after {result.ready_after:.1f}s", style="green")
    if result.verdict is Verdict.PASS:  # a pass has no reason, but a merged one names who disagreed
        return Text(redactor.text(result.reason or ""), style="dim")
    prefix = f"[{result.failure_class}] " if result.failure_class is not None else ""
    if not critical and result.failures and any(not f.warn_only for f in result.failures):
        prefix += "non-critical: "
    return Text.assemble((prefix, "dim"), redactor.text(result.reason or ""))


def _verbose_rows(table: Table, result: CheckResult, redactor: Redactor) -> None:
    check = result.check
    detail = Text(f"{protocol_for(check.url).verb(check)} {redactor.url(check.url)}", style="dim")
    table.add_row("", "", detail, "", "", "", "")
    if result.timings is not None:
        table.add_row("", "", "", "", "", "", Text(timings_line(result.timings), style="dim"))
    if result.certificate is not None:
        cert = result.certificate
        line = f"TLS certificate: {certificate_line(cert.days_left, cert.not_after)}"
        table.add_row("", "", "", "", "", "", Text(line, style="dim"))
    for component in result.components:
        style = STYLE[Verdict(component.status)] if component.status in ("pass", "warn", "fail") else "dim"
        line = f"  component {component.name}: {component.raw_status}"
        if component.message:
            line += f" ({component.message})"
        table.add_row("", "", Text(redactor.text(line), style=style), "", "", "", "")
    if len(result.attempt_log) > 1:
        for attempt in result.attempt_log:
            outcome = attempt.reason or attempt.status_text or "answered"
            line = f"  attempt {attempt.number}: {redactor.text(outcome)} in {format_ms(attempt.latency)}"
            if attempt.wait_after:
                line += f", then waited {format_ms(attempt.wait_after)}"
            table.add_row("", "", Text(line, style="dim"), "", "", "", "")
    for failure in result.failures[1:]:
        table.add_row("", "", "", "", "", "", Text(redactor.text(failure.message), style="dim"))


def timings_line(timings: Timings) -> str:
    """``dns 1ms · connect 0ms · tls 4ms · ttfb 6ms · total 7ms``; phases that did not happen are left out."""
    parts = [
        f"{name} {format_ms(value)}"
        for name, value in (
            ("dns", timings.dns),
            ("connect", timings.connect),
            ("tls", timings.tls),
            ("ttfb", timings.ttfb),
            ("total", timings.total),
        )
        if value is not None
    ]
    if timings.connect is None:
        parts.insert(0, "reused connection")
    return " · ".join(parts)


def certificate_line(days_left: float, not_after: str) -> str:
    days = math.floor(days_left)
    return f"expired {-days} days ago ({not_after})" if days < 0 else f"expires in {days} days ({not_after})"


def render_quiet(report: Report, redactor: Redactor) -> RenderableType:
    out = Text()
    _fail_on_line(out, report)  # why a failing run exits 0 under --fail-on new, even quietly
    _strict_line(out, report, redactor)  # a run of warnings exiting 1 says why, even quietly (#14)
    style = STYLE[report.verdict] if report.verdict is not Verdict.PASS else ""
    out.append(summary_line(report), style=style)
    return out


def make_console(*, color: bool, stderr: bool = False) -> Console:
    import os
    import sys

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    no_color = not color or "NO_COLOR" in os.environ or not tty
    # markup and emoji off: no string from a service or a manifest is ever read as `[link=…]` or `:x:`
    return Console(
        file=stream,
        markup=False,
        emoji=False,
        no_color=no_color,
        color_system=None if no_color else "auto",
        highlight=False,
        width=None if tty else 160,
        soft_wrap=False,
    )


__all__ = ["certificate_line", "make_console", "render", "render_quiet", "summary_line", "timings_line"]
