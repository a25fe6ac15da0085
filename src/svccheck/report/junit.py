"""JUnit XML, as GitLab, Jenkins and GitHub test reporters read it.

One ``<testsuite>`` per service (``name`` = service), one ``<testcase>`` per
check (``classname`` = service, ``name`` = check, ``time`` = seconds spent on
the check over all its attempts).

- ``fail`` → ``<failure message="reason" type="class">`` with every failure,
  the request and the root cause in its text.
- ``warn`` → ``<skipped message="warn: reason">``: visible in every reporter
  without failing the pipeline; with ``--strict`` (where warnings fail the
  run) it is a ``<failure>`` instead.
- ``skip`` (cut short by a signal) → ``<skipped message="reason">``.

With ``--baseline``, a changed check's message starts with what changed
(``newly failing: …``, ``still failing: …``); under ``--fail-on new`` a
failure already in the baseline is ``<skipped message="already failing in the
baseline: …">``, since it does not fail the run either.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import NamedTuple

from svccheck.model import Change, CheckResult, Report, ServiceResult, Verdict
from svccheck.protocols import protocol_for
from svccheck.redact import Redactor
from svccheck.report import changes as words

# Characters XML 1.0 cannot carry at all, even escaped: a body excerpt may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(report: Report, redactor: Redactor) -> str:
    timestamp = _timestamp(report.started_at)
    root = ET.Element("testsuites", name="svccheck")
    totals = {"tests": 0, "failures": 0}
    strict = frozenset(report.strict_failures)  # warnings that fail the run (--strict)
    changed = _Changed(words.marks(report), _tolerated(report))
    for service_result in report.services:
        suite = _suite(service_result, redactor, strict=strict, timestamp=timestamp, changed=changed)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    # The schema Jenkins and GitLab follow has no skipped count or timestamp on the root;
    # the suites carry them.
    root.set("time", _seconds(report.summary.duration))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


class _Changed(NamedTuple):
    """With `--baseline`: each check's changes, and the old failures `--fail-on new` lets through."""

    marks: dict[tuple[str, str], str]
    tolerated: frozenset[tuple[str, str]]


def _tolerated(report: Report) -> frozenset[tuple[str, str]]:
    changes = report.changes
    if changes is None or changes.fail_on != "new":
        return frozenset()
    return frozenset(i.key for i in changes.items if i.change is Change.STILL_FAILING)


def _suite(
    result: ServiceResult,
    redactor: Redactor,
    *,
    strict: frozenset[tuple[str, str]],
    timestamp: str,
    changed: _Changed,
) -> ET.Element:
    service = result.service
    name = _clean(redactor.text(service.name))
    cases = [_case(name, c, result, redactor, strict=strict, changed=changed) for c in result.checks]
    failures = sum(1 for case in cases if case.find("failure") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=_seconds(max((_check_time(c) for c in result.checks), default=0.0)),
    )
    if timestamp:
        suite.set("timestamp", timestamp)
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("url", redactor.url(service.url)),
        ("critical", "true" if service.critical else "false"),
        ("verdict", str(result.verdict)),
        ("root_cause", result.root_cause or ""),
    ):
        ET.SubElement(properties, "property", name=key, value=_clean(value))
    suite.extend(cases)
    return suite


def _case(
    classname: str,
    result: CheckResult,
    service: ServiceResult,
    redactor: Redactor,
    *,
    strict: frozenset[tuple[str, str]],
    changed: _Changed,
) -> ET.Element:
    case = ET.Element(
        "testcase",
        name=_clean(redactor.text(result.check.name)),
        classname=classname,
        time=_seconds(_check_time(result)),
    )
    if result.trace_id is not None:  # the trace of this check's requests, for the tracing UI
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="trace_id", value=result.trace_id)
    reason = _clean(redactor.text(result.reason or ""))
    mark = changed.marks.get(result.check.key)
    if mark is not None:  # what changed since the baseline leads the message: `newly failing: …`
        reason = _clean(redactor.text(f"{mark}: {result.reason or result.verdict}"))
    if result.verdict is Verdict.FAIL and result.check.key in changed.tolerated:
        # --fail-on new: a failure already in the baseline does not fail the run, nor the test report
        ET.SubElement(case, "skipped", message=f"already failing in the baseline: {reason}")
    elif result.verdict is Verdict.FAIL or result.check.key in strict:
        failure = ET.SubElement(case, "failure", message=reason, type=str(result.failure_class or "fail"))
        failure.text = _detail(result, service, redactor)
    elif result.verdict is Verdict.WARN:
        ET.SubElement(case, "skipped", message=f"warn: {reason}")
    elif result.verdict is Verdict.SKIP:
        ET.SubElement(case, "skipped", message=reason)
    return case


def _detail(result: CheckResult, service: ServiceResult, redactor: Redactor) -> str:
    check = result.check
    lines = [f"{protocol_for(check.url).verb(check)} {redactor.url(check.url)}"]
    if result.status_text is not None:
        lines.append(redactor.text(result.status_text))
    lines.append(f"attempts: {result.attempts}")
    lines.extend(f"[{f.failure_class}] {redactor.text(f.message)}" for f in result.failures)
    lines.extend(
        redactor.text(f"component {c.name}: {c.raw_status}") for c in result.components if c.status == "fail"
    )
    if service.root_cause:
        lines.append(f"likely root cause: {redactor.text(service.root_cause)}")
    return _clean("\n".join(lines))


def _check_time(result: CheckResult) -> float:
    spent = sum(a.latency + a.wait_after for a in result.attempt_log)
    return spent or (result.latency or 0.0)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _timestamp(started_at: str) -> str:
    """JUnit's timestamp has no zone: the run's start in UTC."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


__all__ = ["render"]
