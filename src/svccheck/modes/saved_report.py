"""A saved JSON report (`svccheck/report-v1`) read back into a `Report`: for `--baseline`, `diff`, `merge`.

A saved report is untrusted input like a manifest: whatever the file holds, the
answer is a `Report` or a `ReportFileError` (exit 2) naming the file and the
place in it (`services[1].checks[0].verdict: expected one of …`), never a
traceback. The verdicts of services, the root causes, the summary and the exit
code are decided again by `build_report` from the checks, so a report read back
is as consistent as one just made. What a report does not record (request
headers and bodies, the answers' bodies, the attempt log) is absent from the
`Report` it gives; every text in it is shown through the Redactor like any
other.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from svccheck.errors import ReportFileError
from svccheck.model import (
    Answer,
    Certificate,
    Check,
    CheckResult,
    Component,
    Failure,
    FailureClass,
    Report,
    Service,
    Target,
    Timings,
    Verdict,
)
from svccheck.protocols import protocol_for

SCHEMA = "svccheck/report-v1"
T = TypeVar("T")


class ReportProblem(ValueError):
    """A problem at a place in the document; becomes a ReportFileError naming the file."""


def read(path: Path) -> Report:
    """The report saved at `path`; a ReportFileError when it cannot be read as one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportFileError(f"{path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, and an int of 5,000 digits
        where = f"line {exc.lineno} column {exc.colno}: " if isinstance(exc, json.JSONDecodeError) else ""
        raise ReportFileError(f"{path}: not JSON: {where}{getattr(exc, 'msg', exc)}") from None
    try:
        return from_dict(data)
    except ReportProblem as exc:
        raise ReportFileError(f"{path}: not a {SCHEMA} report: {exc}") from None


def from_dict(data: object) -> Report:
    from svccheck.engine.run import build_report

    top = _mapping(data, "the document")
    schema = top.get("schema")
    if schema != SCHEMA:
        _fail(f"schema: expected {SCHEMA!r}, got {_shown(schema)}")
    services_data = _list(top, "services", "")
    services: list[Service] = []
    results: dict[tuple[str, str], CheckResult] = {}
    for index, item in enumerate(services_data):
        service, checks = _service(item, f"services[{index}]")
        if any(s.name == service.name for s in services):
            _fail(f"services[{index}].name: {service.name!r} appears twice")
        services.append(service)
        results.update({r.check.key: r for r in checks})
    verdict = _choice(top, "verdict", "", [str(v) for v in Verdict])
    exit_code = _typed(top, "exit_code", "", int)
    interrupted = _optional(top, "interrupted", "", str)
    report = build_report(
        services,
        results,
        duration=_number(top, "duration_ms", "") / 1000,
        started_at=_typed(top, "started_at", "", str),
        manifest_path=_typed(top, "manifest", "", str),
        # a report records no --strict; a run of warnings that exited 1 had it
        strict=interrupted is None and exit_code == 1 and verdict == Verdict.WARN,
        interrupted=interrupted,
        interrupt_code=exit_code if interrupted is not None and exit_code > 1 else 130,
        tls_unverified=tuple(_strings(top, "tls_unverified", "")),
    )
    from dataclasses import replace

    return replace(report, location=_optional(top, "location", "", str) if "location" in top else None)


def _service(data: object, at: str) -> tuple[Service, list[CheckResult]]:
    item = _mapping(data, at)
    name = _typed(item, "name", at, str)
    results: list[CheckResult] = []
    for index, check_data in enumerate(_list(item, "checks", at)):
        result = _check(check_data, name, f"{at}.checks[{index}]")
        if any(r.check.name == result.check.name for r in results):
            _fail(f"{at}.checks[{index}].name: {result.check.name!r} appears twice in {name!r}")
        results.append(result)
    service = Service(
        name=name,
        url=_typed(item, "url", at, str),
        critical=_typed(item, "critical", at, bool),
        tags=tuple(_strings(item, "tags", at)),
        depends_on=tuple(_strings(item, "depends_on", at)),
        checks=tuple(r.check for r in results),
    )
    return service, results


def _check(data: object, service: str, at: str) -> CheckResult:
    item = _mapping(data, at)
    url = _typed(item, "url", at, str)
    kind = _choice(item, "kind", at, ["health", "check"])
    check = Check(
        service=service,
        name=_typed(item, "name", at, str),
        kind="health" if kind == "health" else "check",
        url=url,
        target=_target(item, url, at),
        expect=None,
        timeout=0.0,  # not recorded: no real check has it, so views know there is no request to repeat
        retries=0,
        backoff=0.0,
        verify_tls=True,
    )
    verdict = Verdict(_choice(item, "verdict", at, [str(v) for v in Verdict]))
    classes = [str(c) for c in FailureClass]
    failure_class = _optional(item, "failure_class", at, str)
    if failure_class is not None and failure_class not in classes:
        _fail(f"{at}.failure_class: expected one of {', '.join(classes)}, got {failure_class!r}")
    failures = []
    for index, failure_data in enumerate(_list(item, "failures", at)):
        where = f"{at}.failures[{index}]"
        failure = _mapping(failure_data, where)
        failures.append(
            Failure(
                FailureClass(_choice(failure, "class", where, classes)),
                _typed(failure, "message", where, str),
                warn_only=_choice(failure, "severity", where, ["fail", "warn"]) == "warn",
            )
        )
    latency_ms = _optional_number(item, "latency_ms", at)
    latency = None if latency_ms is None else latency_ms / 1000
    status_code = _optional(item, "status_code", at, int)
    attempts = _typed(item, "attempts", at, int)
    recovered = _typed(item, "recovered", at, bool)
    ready_ms = _optional_number(item, "ready_after_ms", at) if "ready_after_ms" in item else None
    ready_after = None if ready_ms is None else ready_ms / 1000
    if ready_after is None and verdict is Verdict.PASS and attempts > 1 and not recovered:
        ready_after = 0.0  # an older `wait` report: the check became ready, it was not flaky
    timings = _timings(item, at)
    certificate = _certificate(item, at)
    status_text = f"HTTP {status_code}" if status_code is not None else None
    http_version = _optional(item, "http_version", at, str) if "http_version" in item else None
    answer = None
    if timings is not None or certificate is not None or http_version is not None:
        answer = Answer(
            status_text=status_text or "",
            headers=(),
            body=b"",
            truncated=False,
            latency=latency or 0.0,
            version=http_version or "",
            url=url,
            status_code=status_code,
            timings=timings,
            certificate=certificate,
        )
    return CheckResult(
        check=check,
        verdict=verdict,
        reason=_optional(item, "reason", at, str),
        failure_class=None if failure_class is None else FailureClass(failure_class),
        failures=tuple(failures),
        status_code=status_code,
        latency=latency,
        attempts=attempts,
        components=tuple(_components(item, at)),
        response=answer,
        ready_after=ready_after,
        status_text=status_text,
        trace_id=_trace_id(item, at),
    )


def _trace_id(item: dict[str, Any], at: str) -> str | None:
    """`trace_id`: 32 hex digits, or null; a report written before it was added has none."""
    if item.get("trace_id") is None:
        return None
    value = _typed(item, "trace_id", at, str)
    if len(value) != 32 or value.strip("0123456789abcdef"):
        _fail(f"{_name(at, 'trace_id')}: expected 32 lower-case hex digits, got {_shown(value)}")
    return value


def _target(item: dict[str, Any], url: str, at: str) -> Target:
    """The protocol's part of the check, as far as the report records it (`request_fields`)."""
    try:
        protocol = protocol_for(url)
    except ValueError:
        _fail(f"{at}.url: no protocol svccheck knows for {url!r}")
    try:
        return protocol.recorded_target(url, item)
    except ValueError as error:
        _fail(f"{at}.{error}")


def _timings(item: dict[str, Any], at: str) -> Timings | None:
    data = item.get("timings")
    if data is None:
        return None
    where = f"{at}.timings"
    timings = _mapping(data, where)
    phases = {k: _optional_number(timings, f"{k}_ms", where) for k in ("dns", "connect", "tls", "ttfb")}
    seconds = {k: None if v is None else v / 1000 for k, v in phases.items()}
    return Timings(**seconds, total=_number(timings, "total_ms", where) / 1000)


def _certificate(item: dict[str, Any], at: str) -> Certificate | None:
    data = item.get("tls")
    if data is None:
        return None
    where = f"{at}.tls"
    tls = _mapping(data, where)
    return Certificate(
        not_after=_typed(tls, "not_after", where, str),
        days_left=_number(tls, "days_left", where),
        subject=_optional(tls, "subject", where, str),
        issuer=_optional(tls, "issuer", where, str),
    )


def _components(item: dict[str, Any], at: str) -> list[Component]:
    if "components" not in item:
        return []
    out = []
    for index, data in enumerate(_list(item, "components", at)):
        where = f"{at}.components[{index}]"
        component = _mapping(data, where)
        status = _choice(component, "status", where, ["pass", "warn", "fail"])
        out.append(
            Component(
                name=_typed(component, "name", where, str),
                status="pass" if status == "pass" else "warn" if status == "warn" else "fail",
                raw_status=_typed(component, "raw_status", where, str),
                message=_optional(component, "message", where, str),
            )
        )
    return out


# --- typed access, each problem named by its place -----------------------------------------


def _fail(message: str) -> NoReturn:
    raise ReportProblem(message)


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _name(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _mapping(value: object, at: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(f"{at}: expected an object, got {_shown(value)}")
    return value


def _typed(item: dict[str, Any], key: str, at: str, kind: type[T]) -> T:
    if key not in item:
        _fail(f"{_name(at, key)}: missing")
    value = item[key]
    # a bool is an int to Python, not to a report
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        _fail(f"{_name(at, key)}: expected {kind.__name__}, got {_shown(value)}")
    return value


def _optional(item: dict[str, Any], key: str, at: str, kind: type[T]) -> T | None:
    if item.get(key) is None:
        if key not in item:
            _fail(f"{_name(at, key)}: missing")
        return None
    return _typed(item, key, at, kind)


def _number(item: dict[str, Any], key: str, at: str) -> float:
    if key not in item:
        _fail(f"{_name(at, key)}: missing")
    value = item[key]
    try:
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an integer beyond any float
        number = math.nan
    if not math.isfinite(number):
        _fail(f"{_name(at, key)}: expected a number, got {_shown(value)}")
    return number


def _optional_number(item: dict[str, Any], key: str, at: str) -> float | None:
    if key in item and item[key] is None:
        return None
    return _number(item, key, at)


def _choice(item: dict[str, Any], key: str, at: str, choices: list[str]) -> str:
    value = _typed(item, key, at, str)
    if value not in choices:
        _fail(f"{_name(at, key)}: expected one of {', '.join(choices)}, got {_shown(value)}")
    return value


def _list(item: dict[str, Any], key: str, at: str) -> list[Any]:
    return _typed(item, key, at, list)


def _strings(item: dict[str, Any], key: str, at: str) -> list[str]:
    values = _list(item, key, at)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            _fail(f"{_name(at, key)}[{index}]: expected str, got {_shown(value)}")
    return values


__all__ = ["SCHEMA", "ReportProblem", "from_dict", "read"]
