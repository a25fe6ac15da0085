"""A Markdown summary fit for ``$GITHUB_STEP_SUMMARY`` or a PR comment.

A heading with the overall verdict, the summary line, root causes named, then
with `--baseline`, what changed since (a table of its own), then one table of
the checks that did not pass (failures first, root causes first among them)
and the passing checks folded away in a ``<details>`` block.
"""

from __future__ import annotations

import re

from svccheck.durations import format_ms
from svccheck.model import Change, CheckResult, Report, ServiceResult, Verdict
from svccheck.redact import Redactor
from svccheck.report import changes as words
from svccheck.report.next_step import nothing_answered_line, strict_line
from svccheck.report.reason_cell import Markup, reason_cell
from svccheck.report.table import summary_line

ICON = {Verdict.PASS: "✅", Verdict.WARN: "⚠️", Verdict.FAIL: "❌", Verdict.SKIP: "⏭️"}
HEADING = {Verdict.PASS: "passed", Verdict.WARN: "passed with warnings", Verdict.FAIL: "failed"}
_COLUMNS = ("", "service", "check", "status", "latency", "tries", "reason")
# Characters Markdown (or the HTML GitHub lets through) would read as syntax.
# `$` too: GitHub renders text between two of them as math.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")


def render(report: Report, redactor: Redactor) -> str:
    lines = [f"### {ICON[report.verdict]} svccheck {HEADING.get(report.verdict, 'finished')}", ""]
    if report.interrupted:
        lines += [f"**{escape(report.interrupted)}: partial results**", ""]
    lines += [escape(summary_line(report)), ""]
    strict = strict_line(report, redactor)
    if strict is not None:
        lines += [f"**{escape(strict)}**", ""]
    if report.root_causes:
        causes = ", ".join(f"**{escape(redactor.text(name))}**" for name in report.root_causes)
        lines += [f"Root cause: {causes}", ""]
    elif report.nothing_answered:
        lines += [f"**{escape(nothing_answered_line(report, redactor))}**", ""]
    lines += _changes(report, redactor)
    rows = [(s, c) for s in report.services for c in s.checks]
    problems = sorted(
        (row for row in rows if row[1].verdict is not Verdict.PASS),
        key=lambda row: -row[1].verdict.rank,  # stable: root causes and service order kept
    )
    passing = [row for row in rows if row[1].verdict is Verdict.PASS]
    if problems:
        lines += _table(problems, redactor, report.root_causes)
        lines.append("")
    if passing:
        label = f"{len(passing)} passing check{'s' if len(passing) != 1 else ''}"
        body = _table(passing, redactor, report.root_causes)
        if problems:
            lines += ["<details>", f"<summary>{label}</summary>", "", *body, "", "</details>", ""]
        else:
            lines += [*body, ""]
    if report.tls_unverified:
        lines += [f"TLS certificates not verified: {escape(', '.join(report.tls_unverified))}", ""]
    return "\n".join(lines)


def _changes(report: Report, redactor: Redactor) -> list[str]:
    """With `--baseline` or `diff`: what changed since, as a table of its own, and the gate."""
    if report.changes is None:
        return []
    out = ["#### Since the baseline", "", escape(words.summary_line(report.changes, redactor)), ""]
    gate = words.fail_on_line(report)
    if gate is not None:
        out += [f"**{escape(redactor.text(gate))}**", ""]
    shown = [i for i in report.changes.items if i.change not in (Change.ADDED, Change.REMOVED)]
    if shown:
        out += ["| change | service | check | detail |", "|---|---|---|---|"]
        for item in sorted(shown, key=lambda i: words.ORDER.index(i.change)):
            cells = (item.change.words, redactor.text(item.service), redactor.text(item.check))
            out.append("| " + " | ".join(escape(c) for c in (*cells, redactor.text(item.detail))) + " |")
        out.append("")
    unmatched = words.unmatched_line(report.changes, redactor)
    if unmatched is not None:
        out += [escape(unmatched), ""]
    return out


def _table(
    rows: list[tuple[ServiceResult, CheckResult]], redactor: Redactor, causes: tuple[str, ...]
) -> list[str]:
    # a trace column when the checks sent trace context: the id to paste into a tracing UI
    traced = any(result.trace_id is not None for _, result in rows)
    columns = (*_COLUMNS, "trace") if traced else _COLUMNS
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for service, result in rows:
        cells = (
            f"{ICON[result.verdict]} {result.verdict.upper()}" + (" ↻" if result.recovered else ""),
            escape(redactor.text(service.service.name)),
            escape(redactor.text(result.check.name)),
            "" if result.status_code is None else str(result.status_code),
            format_ms(result.latency),
            str(result.attempts) if result.attempts else "",
            _reason(service, result, redactor, causes),
            *((_trace(result),) if traced else ()),
        )
        out.append("| " + " | ".join(cells) + " |")
    return out


def _reason(service: ServiceResult, result: CheckResult, redactor: Redactor, causes: tuple[str, ...]) -> str:
    return reason_cell(service, result, redactor, _MARKUP, causes=causes)


def _trace(result: CheckResult) -> str:
    """The trace id the check's requests carried, to paste into a tracing UI (hex digits only)."""
    return "" if result.trace_id is None else f"`{result.trace_id}`"


def escape(text: str) -> str:
    """Plain text in a table cell: syntax characters escaped, one line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    return _SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")


_MARKUP = Markup(escape=escape, code=lambda text: f"`{text}`", strong=lambda text: f"**{text}**")


__all__ = ["escape", "render"]
