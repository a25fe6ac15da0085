"""One self-contained HTML page of a run, for people who are not on the CI page (`--html FILE`).

No network: the CSS and the one small script are inline, there are no fonts,
images or links to fetch, and a Content-Security-Policy (`default-src 'none'`,
the script allowed by its hash) keeps it so even if a browser were tempted.
Every piece of foreign text goes through the Redactor (masked and neutralised)
and is then HTML-escaped, attribute values included.

The page: the verdict and summary; the root causes first; the changes against a
baseline when there is one; "flaky this run" (the checks that passed only on a
retry); then every check, failing ones first, each with its reason, attempts (a
recovered one marked), timings, certificate, components, failures and a curl
line to reproduce it (secrets shown as `***`; `svccheck check NAME -v` prints
one that refers to them by variable).
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from svccheck.durations import format_ms
from svccheck.model import CheckResult, Report, ServiceResult, Verdict
from svccheck.protocols import protocol_for
from svccheck.protocols.trace_context import last_traceparent
from svccheck.redact import Redactor
from svccheck.report import changes as change_words
from svccheck.report.next_step import next_steps, strict_line
from svccheck.report.reason_cell import Markup, reason_cell
from svccheck.report.table import LABEL, certificate_line, summary_line, timings_line

HEADING = {Verdict.PASS: "passed", Verdict.WARN: "passed with warnings", Verdict.FAIL: "failed"}
# the order checks are listed in: what needs a look first
_ORDER = {Verdict.FAIL: 0, Verdict.WARN: 1, Verdict.SKIP: 2, Verdict.PASS: 3}

_CSS = """
:root{color-scheme:light dark;--fail:#c62828;--warn:#b26a00;--pass:#2e7d32;--skip:#757575;--line:#8884}
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
.verdict-fail{color:var(--fail)}.verdict-warn{color:var(--warn)}.verdict-pass{color:var(--pass)}
.verdict-skip{color:var(--skip)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;vertical-align:top}
tr.check>td{border-top:1px solid var(--line)}td.num{text-align:right;white-space:nowrap}
.badge{font-weight:600;white-space:nowrap}
.change{font-size:.85em;padding:0 .3em;border:1px solid;border-radius:.3em}
pre,code{font-family:ui-monospace,monospace;font-size:.9em;white-space:pre-wrap;word-break:break-all}
details>summary{cursor:pointer}.meta{color:var(--skip)}ul{margin:.2rem 0;padding-left:1.2rem}
.hidden{display:none}
"""

# The one script: a switch that hides the passing checks. Nothing is fetched, nothing foreign is read.
_SCRIPT = (
    "document.getElementById('only-problems').addEventListener('change',function(e){"
    'document.querySelectorAll(\'tr.check[data-verdict="pass"],tr.detail[data-verdict="pass"]\')'
    ".forEach(function(r){r.classList.toggle('hidden',e.target.checked);});});"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
_POLICY = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'"


def render(report: Report, redactor: Redactor) -> str:
    def t(text: str) -> str:
        return escape(redactor.text(text))

    heading = f"svccheck {HEADING.get(report.verdict, 'finished')}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(_POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(heading)}: {t(summary_line(report))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1 class="verdict-{report.verdict}" id="verdict">{escape(heading)}</h1>',
        f'<p id="summary">{t(summary_line(report))}</p>',
        f'<p class="meta">{_meta(report, redactor)}</p>',
    ]
    if report.interrupted:
        parts.append(f'<p class="verdict-warn"><strong>{t(report.interrupted)}: partial results</strong></p>')
    strict = strict_line(report, redactor)
    if strict is not None:
        parts.append(f'<p class="verdict-warn"><strong>{escape(strict)}</strong></p>')
    parts += _root_causes(report, redactor)
    parts += _changes(report, redactor)
    parts += _flaky(report, redactor)
    parts += _checks(report, redactor)
    if report.tls_unverified:
        shown = ", ".join(report.tls_unverified)
        parts.append(f'<p class="verdict-warn">TLS certificates not verified: {t(shown)}</p>')
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _meta(report: Report, redactor: Redactor) -> str:
    items = [f"started {report.started_at}", f"manifest {report.manifest_path}"]
    if report.location is not None:
        items.append(f"location {report.location}")
    return " · ".join(escape(redactor.text(item)) for item in items)


def _root_causes(report: Report, redactor: Redactor) -> list[str]:
    lines = next_steps(report, redactor)
    if not lines:
        return []
    title = "Root causes" if report.root_causes else "Look first"
    items = "".join(
        f"<li><code>{escape(line.strip())}</code></li>"
        if line.startswith(" ")
        else f"<li><strong>{escape(line)}</strong></li>"
        for line in lines
    )
    return [f'<section id="root-causes"><h2>{title}</h2><ul>{items}</ul></section>']


def _changes(report: Report, redactor: Redactor) -> list[str]:
    changes = report.changes
    if changes is None:
        return []
    out = ['<section id="changes"><h2>Changes since the baseline</h2>']
    out.append(f"<p>{escape(change_words.summary_line(changes, redactor))}</p>")
    gate = change_words.fail_on_line(report)
    if gate is not None:
        out.append(f"<p><strong>{escape(redactor.text(gate))}</strong></p>")
    unmatched = change_words.unmatched_line(changes, redactor)
    if unmatched is not None:
        out.append(f'<p class="meta">{escape(unmatched)}</p>')
    if changes.items:
        ordered = sorted(changes.items, key=lambda i: change_words.ORDER.index(i.change))
        rows = "".join(
            f'<li data-change="{i.change}">{escape(change_words.change_line(i, redactor))}</li>'
            for i in ordered
        )
        out.append(f"<ul>{rows}</ul>")
    out.append("</section>")
    return out


def _flaky(report: Report, redactor: Redactor) -> list[str]:
    flaky = [(s, c) for s in report.services for c in s.checks if c.recovered]
    if not flaky:
        return []
    items = "".join(
        f"<li>{escape(redactor.text(f'{c.check.service}/{c.check.name}'))}: passed on attempt "
        f"{c.attempts}{_attempt_list(c, redactor)}</li>"
        for _, c in flaky
    )
    return [f'<section id="flaky"><h2>Flaky this run</h2><ul>{items}</ul></section>']


def _checks(report: Report, redactor: Redactor) -> list[str]:
    rows = [(s, c) for s in report.services for c in s.checks]
    # stable: within a verdict, root causes first and the services' order kept (report.services)
    rows.sort(key=lambda row: _ORDER[row[1].verdict])
    marks = change_words.marks(report)
    out = [
        '<section id="checks"><h2>Checks</h2>',
        '<p><label><input type="checkbox" id="only-problems"> only the checks that did not pass</label></p>',
        "<table><thead><tr><th></th><th>service</th><th>check</th><th>status</th>"
        "<th>latency</th><th>tries</th><th>reason</th></tr></thead><tbody>",
    ]
    for service, result in rows:
        out += _check_rows(service, result, redactor, marks.get(result.check.key))
    out.append("</tbody></table></section>")
    return out


def _check_rows(
    service: ServiceResult, result: CheckResult, redactor: Redactor, change: str | None
) -> list[str]:
    def t(text: str) -> str:
        return escape(redactor.text(text))

    verdict = str(result.verdict)
    label = LABEL[result.verdict] + (" ↻" if result.recovered else "")
    mark = f' <span class="change">{escape(change)}</span>' if change else ""
    row = (
        f'<tr class="check" data-verdict="{verdict}">'
        f'<td class="badge verdict-{verdict}">{escape(label)}</td>'
        f"<td>{t(service.service.name)}</td><td>{t(result.check.name)}{mark}</td>"
        f'<td class="num">{"" if result.status_code is None else result.status_code}</td>'
        f'<td class="num">{escape(format_ms(result.latency))}</td>'
        f'<td class="num">{result.attempts or ""}</td>'
        f"<td>{_reason(service, result, redactor)}</td></tr>"
    )
    detail = f'<tr class="detail" data-verdict="{verdict}"><td></td><td colspan="6"><details'
    detail += " open>" if result.verdict is Verdict.FAIL else ">"
    detail += f"<summary>details</summary>{_detail(result, redactor)}</details></td></tr>"
    return [row, detail]


_MARKUP = Markup(
    escape=escape, code=lambda text: f"<code>{text}</code>", strong=lambda text: f"<strong>{text}</strong>"
)


def _reason(service: ServiceResult, result: CheckResult, redactor: Redactor) -> str:
    return reason_cell(service, result, redactor, _MARKUP)


def _detail(result: CheckResult, redactor: Redactor) -> str:
    check = result.check
    protocol = protocol_for(check.url)
    items = [f"<li><code>{escape(protocol.verb(check))} {escape(redactor.url(check.url))}</code></li>"]
    if result.status_text is not None:
        items.append(f"<li>answered {escape(redactor.text(result.status_text))}</li>")
    if result.trace_id is not None:  # what its requests' traceparent carried: for the tracing UI
        items.append(f"<li>trace id <code>{escape(redactor.text(result.trace_id))}</code></li>")
    if result.timings is not None:
        items.append(f"<li>timings: {escape(timings_line(result.timings))}</li>")
    cert = result.certificate
    if cert is not None:
        expiry = redactor.text(certificate_line(cert.days_left, cert.not_after))
        items.append(f"<li>TLS certificate: {escape(expiry)}</li>")
    attempts = _attempt_list(result, redactor)
    if attempts:
        items.append(f"<li>attempts{attempts}</li>")
    if result.components:
        components = "".join(
            f'<li class="verdict-{escape(c.status)}">{escape(redactor.text(c.name))}: '
            f"{escape(redactor.text(c.raw_status))}"
            + (f" ({escape(redactor.text(c.message))})" if c.message else "")
            + "</li>"
            for c in result.components
        )
        items.append(f"<li>components<ul>{components}</ul></li>")
    if len(result.failures) > 1:
        failures = "".join(
            f"<li>[{f.failure_class}] {escape(redactor.text(f.message))}"
            + (" (warning)" if f.warn_only else "")
            + "</li>"
            for f in result.failures
        )
        items.append(f"<li>failures<ul>{failures}</ul></li>")
    if check.timeout > 0:
        items.append(f"<li>reproduce: <pre>{escape(_reproduction(result, redactor))}</pre></li>")
    else:  # read back from a saved report (diff, merge), which records no request to repeat
        items.append("<li>reproduce: <code>svccheck check NAME -v</code> with the manifest</li>")
    return f"<ul>{''.join(items)}</ul>"


def _attempt_list(result: CheckResult, redactor: Redactor) -> str:
    if len(result.attempt_log) < 2:
        return ""
    last = len(result.attempt_log)
    items = []
    for attempt in result.attempt_log:
        outcome = attempt.reason or attempt.status_text or "answered"
        text = f"{redactor.text(outcome)} in {format_ms(attempt.latency)}"  # the list numbers it
        if attempt.wait_after:
            text += f", then waited {format_ms(attempt.wait_after)}"
        if result.recovered and attempt.number == last:
            text += " (recovered)"
        items.append(f'<li value="{attempt.number}">{escape(text)}</li>')
    return f"<ol>{''.join(items)}</ol>"


def _reproduction(result: CheckResult, redactor: Redactor) -> str:
    check = result.check
    line = protocol_for(check.url).reproduce(
        check,
        secret_vars={},
        secrets=set(),
        verify=check.verify_tls,
        timeout=check.timeout,
        traceparent=last_traceparent(result.trace_id, result.last_span_id),
    )
    return redactor.text(line.line)  # every secret the run knows masked, like everywhere else


__all__ = ["render"]
