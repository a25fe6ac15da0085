"""The machine report: ``svccheck/report-v1``. Changed only with a new schema version."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from svccheck.model import Change, Changes, CheckResult, Report, ServiceResult, Timings
from svccheck.protocols import protocol_for
from svccheck.redact import Redactor

SCHEMA = "svccheck/report-v1"

_orjson: ModuleType | None
try:  # the `fast` extra: json indents in pure Python (21 ms of a 1,000-check run; orjson 0.4 ms)
    import orjson as _orjson
except ImportError:
    _orjson = None


def to_dict(report: Report, redactor: Redactor) -> dict[str, Any]:
    s = report.summary
    return {
        "schema": SCHEMA,
        "verdict": str(report.verdict),
        "exit_code": report.exit_code,
        "started_at": report.started_at,
        "duration_ms": _ms(s.duration),
        "manifest": report.manifest_path,
        # added to report-v1: where the run probed from (`--location`), null when not said
        "location": None if report.location is None else redactor.text(report.location),
        "interrupted": report.interrupted,
        "root_causes": list(report.root_causes),
        "tls_unverified": list(report.tls_unverified),
        "summary": {
            "services": s.services,
            "healthy": s.healthy,
            "degraded": s.degraded,
            "failing": s.failing,
            "skipped": s.skipped,
            "checks": s.checks,
            "checks_failed": s.checks_failed,
            "checks_warned": s.checks_warned,
            "recovered": s.recovered,
        },
        "services": [_service(r, redactor) for r in report.services],
        # added to report-v1: what changed since `--baseline FILE` (or diff's OLD); null without one
        "changes": None if report.changes is None else _changes(report.changes, redactor),
    }


def _changes(changes: Changes, redactor: Redactor) -> dict[str, Any]:
    def named(change: Change) -> list[str]:
        return [redactor.text(f"{i.service}/{i.check}") for i in changes.items if i.change is change]

    return {
        "baseline": redactor.text(changes.baseline),
        "baseline_started_at": changes.baseline_started_at,
        "baseline_location": None
        if changes.baseline_location is None
        else redactor.text(changes.baseline_location),
        "baseline_manifest": redactor.text(changes.baseline_manifest),
        "fail_on": changes.fail_on,
        "matched": changes.matched,
        "not_in_baseline": named(Change.ADDED),
        "only_in_baseline": named(Change.REMOVED),
        "counts": {str(c): changes.count(c) for c in Change},
        "already_failing": changes.already_failing,
        "new_critical_failures": [redactor.text(f"{i.service}/{i.check}") for i in changes.gating],
        "checks": [
            {
                "service": redactor.text(i.service),
                "check": redactor.text(i.check),
                "change": str(i.change),
                "critical": i.critical,
                "was": None if i.was is None else str(i.was),
                "now": None if i.now is None else str(i.now),
                "detail": redactor.text(i.detail),
            }
            for i in changes.items
        ],
    }


def _service(result: ServiceResult, redactor: Redactor) -> dict[str, Any]:
    service = result.service
    return {
        "name": service.name,
        "url": redactor.url(service.url),
        "critical": service.critical,
        "tags": list(service.tags),
        "depends_on": list(service.depends_on),
        "verdict": str(result.verdict),
        "root_cause": result.root_cause,
        "checks": [_check(c, redactor) for c in result.checks],
    }


def _check(result: CheckResult, redactor: Redactor) -> dict[str, Any]:
    check = result.check
    protocol = protocol_for(check.url)
    data: dict[str, Any] = {
        "name": redactor.text(check.name),
        "kind": check.kind,
        "protocol": protocol.name,
        # report-v1 has a `method` on every check: null where the protocol has none (tcp)
        "method": None,
        **protocol.request_fields(check),  # HTTP's sets `method`; the contract test keeps the rest apart
        "url": redactor.url(check.url),
        "verdict": str(result.verdict),
        "status_code": result.status_code,
        "latency_ms": _ms(result.latency),
        "attempts": result.attempts,
        "recovered": result.recovered,
        # added to report-v1: `wait` only, seconds into the wait when the check passed after failing
        "ready_after_ms": _ms(result.ready_after),
        "failure_class": None if result.failure_class is None else str(result.failure_class),
        "reason": None if result.reason is None else redactor.text(result.reason),
        "failures": [
            {
                "class": str(f.failure_class),
                "message": redactor.text(f.message),
                "severity": "warn" if f.warn_only else "fail",
            }
            for f in result.failures
        ],
    }
    data["timings"] = timings_dict(result.timings)
    # the HTTP version the answer came in (HTTP/1.1, HTTP/2: `http2: true` is offered, not imposed)
    version = None if result.response is None else result.response.version
    data["http_version"] = version if version and version.startswith("HTTP/") else None
    cert = result.certificate
    data["tls"] = (
        None
        if cert is None
        else {
            "days_left": round(cert.days_left, 1),
            "not_after": cert.not_after,
            "subject": None if cert.subject is None else redactor.text(cert.subject),
            "issuer": None if cert.issuer is None else redactor.text(cert.issuer),
        }
    )
    # the W3C trace id every attempt's `traceparent` carried; null when none was sent
    data["trace_id"] = result.trace_id
    if check.kind == "health":
        data["components"] = [
            {
                "name": redactor.text(c.name),
                "status": c.status,
                "raw_status": redactor.text(c.raw_status),
                "message": None if c.message is None else redactor.text(c.message),
            }
            for c in result.components
        ]
    return data


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def timings_dict(timings: Timings | None) -> dict[str, float | None] | None:
    """Milliseconds per phase; `null` for a phase that did not happen (a reused connection)."""
    if timings is None:
        return None
    return {
        "dns_ms": _ms(timings.dns),
        "connect_ms": _ms(timings.connect),
        "tls_ms": _ms(timings.tls),
        "ttfb_ms": _ms(timings.ttfb),
        "total_ms": _ms(timings.total),
    }


def render(report: Report, redactor: Redactor) -> str:
    return dumps(to_dict(report, redactor)) + "\n"


def dumps(document: dict[str, Any]) -> str:
    """The document indented by two, non-ASCII text as it is: what `json.dumps(indent=2,
    ensure_ascii=False)` writes, by orjson when the `fast` extra brought it. The two write the same
    bytes, but for a float under 1e-4, where orjson leaves out json's exponent zero (1e-7, 1e-07)."""
    if _orjson is not None:
        try:
            text: str = _orjson.dumps(document, option=_orjson.OPT_INDENT_2).decode()
            return text
        except TypeError:  # orjson.JSONEncodeError: an integer past 64 bits, a lone surrogate
            pass
    return json.dumps(document, indent=2, ensure_ascii=False)
