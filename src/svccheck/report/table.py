"""The terminal table: grouped by service, worst first, one-line summary."""

from __future__ import annotations

import math
from collections.abc import Iterator

from rich.console import Group, RenderableType
from rich.text import Text

from svccheck.durations import format_ms
from svccheck.listing import cut
from svccheck.model import Change, CheckResult, Report, Timings, Verdict
from svccheck.protocols import protocol_for
from svccheck.redact import Redactor
from svccheck.report import changes as words
from svccheck.report.console import make_console
from svccheck.report.layout import Column, Fitted, Lines, Row, build
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


# The columns of the table, in order; `drop` says which go first on a narrow terminal (#15): the
# attempts, then the status code (the reason says it: `HTTP 503`), then the latency. The verdict,
# the names and the reason stay; the reason wraps at words.
COLUMNS = (
    Column("verdict", ""),
    Column("service", "service"),
    Column("check", "check", wraps=True, max_width=32),
    Column("status", "status", justify="right", drop=2),
    Column("latency", "latency", justify="right", drop=3),
    Column("tries", "tries", justify="right", drop=1),
    Column("reason", "reason", wraps=True, flex=True),
)


def render(
    report: Report, redactor: Redactor, *, verbose: bool = False, reproduce: str | None = None
) -> RenderableType:
    """`reproduce`: the command template (with `{name}`) suggested under the table for a failure."""
    rows = list(table_rows(report, redactor, verbose=verbose))
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
    return Group(
        Fitted(lambda width: build(COLUMNS, rows, width, header_style="bold")), Text(""), Lines(footer)
    )


def table_rows(report: Report, redactor: Redactor, *, verbose: bool = False) -> Iterator[Row | None]:
    """The table's rows, one mapping of column key to cell each; None between services."""
    for index, service_result in enumerate(report.services):
        if index:
            yield None
        service = service_result.service
        name = Text(redactor.text(service.name), style=STYLE[service_result.verdict])
        for row, result in enumerate(service_result.checks):
            yield {
                "verdict": _verdict_text(result),
                "service": name if row == 0 else "",
                "check": Text(redactor.text(result.check.name)),
                "status": "" if result.status_code is None else str(result.status_code),
                "latency": _latency(result),
                "tries": str(result.attempts) if result.attempts else "",
                "reason": _reason(result, redactor, critical=service.critical),
            }
            if verbose:
                yield from _verbose_rows(result, redactor)
        if service_result.root_cause:
            # in the reason's column, the widest: the name is never broken in two (#15)
            cause = f"↳ caused by {redactor.text(service_result.root_cause)}"
            yield {"reason": Text(cause, style="bold magenta")}


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


def _verbose_rows(result: CheckResult, redactor: Redactor) -> Iterator[Row]:
    """Under the check's row, in the reason's column: a URL or a component name is never cut by a
    narrow column of its own (#15)."""
    check = result.check
    yield {"reason": Text(f"{protocol_for(check.url).verb(check)} {redactor.url(check.url)}", style="dim")}
    if result.timings is not None:
        yield {"reason": Text(timings_line(result.timings), style="dim")}
    if result.certificate is not None:
        cert = result.certificate
        line = f"TLS certificate: {certificate_line(cert.days_left, cert.not_after)}"
        yield {"reason": Text(line, style="dim")}
    for component in result.components:
        style = STYLE[Verdict(component.status)] if component.status in ("pass", "warn", "fail") else "dim"
        line = f"component {component.name}: {component.raw_status}"
        if component.message:
            line += f" ({component.message})"
        yield {"reason": Text(redactor.text(line), style=style)}
    if len(result.attempt_log) > 1:
        for attempt in result.attempt_log:
            outcome = attempt.reason or attempt.status_text or "answered"
            line = f"attempt {attempt.number}: {redactor.text(outcome)} in {format_ms(attempt.latency)}"
            if attempt.wait_after:
                line += f", then waited {format_ms(attempt.wait_after)}"
            yield {"reason": Text(line, style="dim")}
    for failure in result.failures[1:]:
        yield {"reason": Text(redactor.text(failure.message), style="dim")}


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


__all__ = [
    "COLUMNS",
    "certificate_line",
    "make_console",
    "render",
    "render_quiet",
    "summary_line",
    "table_rows",
    "timings_line",
]
