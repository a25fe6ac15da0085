"""`svccheck merge`: reports of one manifest from several locations, merged into one by a quorum.

Each report is one location's run (`--location NAME`; a report without one is
named by its file). A check passes when at least the quorum of locations saw
it pass (passed, or only warned without failing); by default a majority. The
merged reason names the locations that disagreed, each failure with its own
reason: `fail in eu-west (timed out after 2s); pass in us-east, office`. A
location whose report lacks the check, or where a signal cut it short, did not
see it pass. The merged report is an ordinary `Report`: it renders in every
format and exits like `all`.
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

from svccheck.errors import UsageError
from svccheck.model import CheckResult, Report, Service, Verdict, worst
from svccheck.modes.compare import failing
from svccheck.modes.settings import Display, Outputs, Run


def quorum_of(text: str | None, locations: int) -> int:
    """`--quorum N` or `N%` of `locations` (rounded up); None: a majority."""
    if text is None:
        return locations // 2 + 1
    value = text.strip()
    try:
        if value.endswith("%"):
            percent = float(value[:-1])
            if not 0 < percent <= 100:
                raise ValueError
            needed = max(1, math.ceil(locations * percent / 100 - 1e-9))
        else:
            needed = int(value)
    except ValueError:
        raise UsageError(f"--quorum expects N or N% (0% < N% <= 100%), got {text!r}") from None
    if not 1 <= needed <= locations:
        raise UsageError(f"--quorum {text}: must be between 1 and the {locations} reports given")
    return needed


def named(reports: list[tuple[Path, Report]]) -> list[tuple[str, Report]]:
    """Each report with its location's name; two reports from one location are a usage error."""
    out: list[tuple[str, Report]] = []
    files: dict[str, Path] = {}
    for path, report in reports:
        name = report.location or path.stem
        if name in files:
            raise UsageError(
                f"{files[name]} and {path} are both from location {name!r}: give each run its own --location"
            )
        files[name] = path
        out.append((name, report))
    return out


def merge(reports: list[tuple[str, Report]], quorum: int) -> Report:
    """One report of the checks of every location, each passing when `quorum` locations saw it pass."""
    from svccheck.engine.run import build_report

    services: dict[str, Service] = {}
    checks: dict[str, list[str]] = {}  # service -> its check names, first seen first
    for _, report in reports:
        for result in report.services:
            name = result.service.name
            services.setdefault(name, result.service)
            known = checks.setdefault(name, [])
            known += [c.check.name for c in result.checks if c.check.name not in known]
    seen = {
        location: {c.check.key: c for s in report.services for c in s.checks} for location, report in reports
    }
    results: dict[tuple[str, str], CheckResult] = {}
    merged_services: list[Service] = []
    for name, service in services.items():
        chosen = [_merged((name, c), seen, quorum, critical=service.critical) for c in checks[name]]
        merged_services.append(replace(service, checks=tuple(r.check for r in chosen)))
        results.update({r.check.key: r for r in chosen})
    first = reports[0][1]
    return build_report(
        merged_services,
        results,
        duration=max(r.summary.duration for _, r in reports),
        started_at=min(r.started_at for _, r in reports),
        manifest_path=first.manifest_path,
        strict=False,
        tls_unverified=tuple(dict.fromkeys(n for _, r in reports for n in r.tls_unverified)),
    )


def _merged(
    key: tuple[str, str],
    seen: dict[str, dict[tuple[str, str], CheckResult]],
    quorum: int,
    *,
    critical: bool,
) -> CheckResult:
    by_location = {location: checks.get(key) for location, checks in seen.items()}
    passed = {loc: r for loc, r in by_location.items() if r is not None and _saw_pass(r)}
    failed = {loc: r for loc, r in by_location.items() if r is not None and failing(r)}
    if len(passed) >= quorum:
        chosen = next(iter(passed.values()))
        verdict = worst([r.verdict for r in passed.values()])
        # the passing location's own result: no failures of the others carried along
        base = replace(chosen, verdict=verdict)
    elif failed:
        base = next(iter(failed.values()))
    else:
        base = next(r for r in by_location.values() if r is not None)
        # too few saw it pass and none saw it fail: not enough evidence is not a pass, unless
        # nobody finished it at all (a signal cut it short everywhere): then nothing is known
        verdict = Verdict.SKIP if not passed else Verdict.FAIL if critical else Verdict.WARN
        base = replace(base, verdict=verdict)
    outcomes = {_outcome(r) for r in by_location.values()}
    if len(outcomes) > 1:
        count = f"{len(passed)} of {len(by_location)} locations passed, quorum {quorum}"
        base = replace(base, reason=f"{_disagreement(by_location)} — {count}")
    return base


def _saw_pass(result: CheckResult) -> bool:
    return result.verdict in (Verdict.PASS, Verdict.WARN) and not failing(result)


def _outcome(result: CheckResult | None) -> str:
    if result is None:
        return "not run"
    if failing(result):
        return "fail"
    return str(result.verdict)


def _disagreement(by_location: dict[str, CheckResult | None]) -> str:
    """`fail in eu-west (timed out after 2s); pass in us-east, office`: failures first, with reasons."""
    parts = []
    for outcome in ("fail", "warn", "skip", "pass", "not run"):
        here = [(loc, r) for loc, r in by_location.items() if _outcome(r) == outcome]
        if not here:
            continue
        if outcome in ("fail", "warn"):
            shown = ", ".join(f"{loc} ({r.reason})" if r is not None and r.reason else loc for loc, r in here)
        else:
            shown = ", ".join(loc for loc, _ in here)
        parts.append(f"{outcome} in {shown}")
    return "; ".join(parts)


def run(paths: list[Path], quorum: str | None, outputs: Outputs, display: Display) -> int:
    """`svccheck merge A.json B.json …`: the merged report delivered like `all`'s; its exit code."""
    from svccheck.modes.saved_report import read

    if len(paths) < 2:
        raise UsageError("merge needs at least two reports, one per location")
    reports = named([(path, read(path)) for path in paths])
    manifests = sorted({r.manifest_path for _, r in reports})
    if len(manifests) > 1:
        print(
            f"svccheck: note: the reports name different manifests ({', '.join(manifests)}); "
            "checks are matched by service and check name",
            file=sys.stderr,
        )
    merged = merge(reports, quorum_of(quorum, len(reports)))
    from svccheck.model import Manifest
    from svccheck.modes.deliver import deliver
    from svccheck.redact import Redactor

    saved_manifest = Manifest(path=merged.manifest_path, services=())  # a saved report has no manifest
    return deliver(merged, saved_manifest, Redactor(), outputs, display, Run(), insecure=False)


__all__ = ["merge", "named", "quorum_of", "run"]
