"""A run compared with a baseline report: what changed, check by check, and what `--fail-on new` gates.

Checks are matched by service and check name, so a baseline from another
manifest (or another selection) still compares; what has no partner is a
`new check` or a `removed check`, and every format says so. Per matched check:

- newly failing: it fails now (a critical failure, or a non-critical one, which
  only warns) and did not in the baseline;
- still failing: it failed in both;
- recovered: it failed in the baseline and does not now;
- newly warning: it warns now (for a reason other than failing), and passed in the baseline;
- latency regressed: the last latency is more than `LATENCY_FACTOR` times the
  baseline's *and* at least `LATENCY_FLOOR` more (a single run has no
  percentiles: the floor keeps a 2 ms → 5 ms wobble from counting);
- certificate expiring: the certificate's days left dropped under
  `CERTIFICATE_DAYS` since the baseline.

A check a signal cut short (skip) in either report is not compared: nothing is known of it.
"""

from __future__ import annotations

from dataclasses import replace
from math import floor
from pathlib import Path

from svccheck.durations import format_ms
from svccheck.errors import ExitCode
from svccheck.model import (
    Change,
    Changes,
    CheckChange,
    CheckResult,
    FailOn,
    Report,
    ServiceResult,
    Verdict,
)
from svccheck.modes.settings import Baseline, Display, Outputs, Run

LATENCY_FACTOR = 2.0
LATENCY_FLOOR = 0.1  # seconds
# a certificate renewed 30 days before it expires (Let's Encrypt's habit) never drops under
CERTIFICATE_DAYS = 30


def compare(now: Report, baseline: Report, *, label: str, fail_on: FailOn = "any") -> Changes:
    """What changed in `now` since `baseline` (its file given as `label`)."""
    before = {(s.service.name, c.check.name): (s, c) for s in baseline.services for c in s.checks}
    items: list[CheckChange] = []
    matched = 0
    seen: set[tuple[str, str]] = set()
    for service in now.services:
        for result in service.checks:
            key = (service.service.name, result.check.name)
            seen.add(key)
            old = before.get(key)
            if old is None:
                items.append(_item(service, result, Change.ADDED, None, str(result.verdict)))
                continue
            matched += 1
            items += _changes(service, result, old[1])
    for key, (service, result) in before.items():
        if key not in seen:
            items.append(
                CheckChange(
                    key[0], key[1], Change.REMOVED, service.service.critical, result.verdict, None,
                    f"was {result.verdict}",
                )
            )  # fmt: skip
    return Changes(
        baseline=label,
        baseline_started_at=baseline.started_at,
        baseline_location=baseline.location,
        baseline_manifest=baseline.manifest_path,
        items=tuple(items),
        matched=matched,
        fail_on=fail_on,
    )


def with_changes(report: Report, changes: Changes) -> Report:
    """`report` holding its changes; with `--fail-on new`, exiting 1 only for a new critical failure
    (or a new warning that `--strict` fails), 0 when every failure was already in the baseline."""
    report = replace(report, changes=changes)
    if changes.fail_on != "new" or report.interrupted is not None:
        return report
    return replace(report, exit_code=ExitCode.FAILED if gates(report, changes) else ExitCode.OK)


def gates(report: Report, changes: Changes) -> bool:
    """A change that fails the run under `--fail-on new` (and `diff`)."""
    strict = set(report.strict_failures)
    new_warnings = {i.key for i in changes.items if i.change in (Change.NEW_WARNING, Change.ADDED)}
    return bool(changes.gating) or bool(strict & new_warnings)


def failing(result: CheckResult) -> bool:
    """Fails, critical or not: a non-critical failure is reported as a warning but is a failure still."""
    return result.verdict is Verdict.FAIL or any(not f.warn_only for f in result.failures)


def _changes(service: ServiceResult, now: CheckResult, was: CheckResult) -> list[CheckChange]:
    if Verdict.SKIP in (now.verdict, was.verdict):
        return []
    out = []
    if failing(now):
        kind = Change.STILL_FAILING if failing(was) else Change.NEW_FAILURE
        out.append(_item(service, now, kind, was.verdict, now.reason or ""))
    elif failing(was):
        out.append(_item(service, now, Change.RECOVERED, was.verdict, f"was: {was.reason or was.verdict}"))
    elif now.verdict is Verdict.WARN and was.verdict is Verdict.PASS:
        out.append(_item(service, now, Change.NEW_WARNING, was.verdict, now.reason or ""))
    if _slower(now.latency, was.latency):
        assert now.latency is not None and was.latency is not None
        detail = f"{format_ms(was.latency)} → {format_ms(now.latency)} (×{now.latency / was.latency:.1f})"
        if was.latency == 0:
            detail = f"{format_ms(was.latency)} → {format_ms(now.latency)}"
        out.append(_item(service, now, Change.LATENCY_REGRESSED, was.verdict, detail))
    if now.certificate is not None and was.certificate is not None:
        left, before = now.certificate.days_left, was.certificate.days_left
        if left < CERTIFICATE_DAYS <= before:
            detail = f"{floor(before)} → {floor(left)} days left (under {CERTIFICATE_DAYS})"
            out.append(_item(service, now, Change.CERTIFICATE_DAYS_DROPPED, was.verdict, detail))
    return out


def _slower(now: float | None, was: float | None) -> bool:
    if now is None or was is None:
        return False
    return now > was * LATENCY_FACTOR and now - was >= LATENCY_FLOOR


def _item(
    service: ServiceResult, result: CheckResult, change: Change, was: Verdict | None, detail: str
) -> CheckChange:
    return CheckChange(
        service=service.service.name,
        check=result.check.name,
        change=change,
        critical=service.service.critical,
        was=was,
        now=result.verdict,
        detail=detail,
    )


__all__ = [
    "CERTIFICATE_DAYS",
    "LATENCY_FACTOR",
    "LATENCY_FLOOR",
    "compare",
    "compared",
    "diff",
    "failing",
    "gates",
    "read_baseline",
    "with_changes",
]


def read_baseline(baseline: Baseline) -> Report | None:
    """The `--baseline` report, read before anything is probed; None without one."""
    if baseline.path is None:
        return None
    from svccheck.modes.saved_report import read

    return read(baseline.path)


def compared(report: Report, saved: Report | None, baseline: Baseline) -> Report:
    """`report` with its changes since the `--baseline` report, when there is one."""
    if saved is None or baseline.path is None:
        return report
    return with_changes(report, compare(report, saved, label=str(baseline.path), fail_on=baseline.fail_on))


def diff(old: Path, new: Path, outputs: Outputs, display: Display) -> int:
    """`svccheck diff OLD NEW`: NEW shown with its changes since OLD; exit 1 for a new critical failure."""
    from svccheck.modes.saved_report import read

    earlier, later = read(old), read(new)
    report = with_changes(later, compare(later, earlier, label=str(old), fail_on="new"))
    from svccheck.model import Manifest
    from svccheck.modes.deliver import deliver
    from svccheck.redact import Redactor

    saved_manifest = Manifest(path=report.manifest_path, services=())  # a saved report has no manifest
    return deliver(report, saved_manifest, Redactor(), outputs, display, Run(), insecure=False)
