"""`--otlp URL`: one OpenTelemetry span per check, sent to a collector over OTLP/HTTP (protobuf).

Imported only when `--otlp` is given: opentelemetry-sdk and its OTLP exporter are
the optional `otlp` extra (`pip install 'svccheck[otlp]'`), and a run without the
option loads none of it (tests/test_cli.py proves it).

Each span is in the check's own trace, the one its requests' `traceparent`
carried, and has the span id of the check's last attempt: the backend's spans
for that request hang under it in the tracing UI. The earlier attempts are
events on the span (number, outcome, latency, span id). A check that sent no
trace context (`trace: false`, `tcp://`) gets a trace of its own.

The span is built as a finished `ReadableSpan` and handed to the exporter:
svccheck's run is over by then, and its ids and times are already known.
Every text in it went through the redactor, as in every report.
"""

from __future__ import annotations

import logging
from datetime import datetime

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import AttributeValue

from svccheck._version import __version__
from svccheck.model import CheckResult, Report, Verdict
from svccheck.protocols import protocol_for
from svccheck.protocols.trace_context import new_span_id, new_trace_id
from svccheck.redact import Redactor

TRACES_PATH = "/v1/traces"
EXPORT_TIMEOUT = 5.0  # seconds: a collector that does not answer costs the run no more than this
_NS = 1_000_000_000


def endpoint(url: str) -> str:
    """`--otlp http://collector:4318` → its `/v1/traces`, as OTEL_EXPORTER_OTLP_ENDPOINT is read."""
    stripped = url.rstrip("/")
    return stripped if stripped.endswith(TRACES_PATH) else stripped + TRACES_PATH


def spans(report: Report, redactor: Redactor) -> list[ReadableSpan]:
    resource_attributes: dict[str, AttributeValue] = {
        "service.name": "svccheck",
        "service.version": __version__,
    }
    if report.location is not None:
        resource_attributes["svccheck.location"] = redactor.text(report.location)
    resource = Resource.create(resource_attributes)
    scope = InstrumentationScope("svccheck", __version__)
    run_start = _epoch(report.started_at)
    return [
        _span(result, redactor, resource, scope, run_start)
        for service in report.services
        for result in service.checks
        if result.verdict is not Verdict.SKIP or result.attempt_log
    ]


def _span(
    result: CheckResult, redactor: Redactor, resource: Resource, scope: InstrumentationScope, run_start: float
) -> ReadableSpan:
    check = result.check
    trace_id = int(result.trace_id or new_trace_id(), 16)
    span_id = int(result.last_span_id or new_span_id(), 16)
    start = result.started if result.started is not None else run_start
    spent = sum(a.latency + a.wait_after for a in result.attempt_log) or (result.latency or 0.0)
    events = []
    at = start
    for attempt in result.attempt_log:
        attributes: dict[str, AttributeValue] = {
            "svccheck.attempt": attempt.number,
            "svccheck.outcome": redactor.text(attempt.reason or attempt.status_text or "answered"),
            "svccheck.latency_ms": round(attempt.latency * 1000, 3),
        }
        if attempt.failure_class is not None:
            attributes["svccheck.failure_class"] = str(attempt.failure_class)
        if attempt.span_id:
            attributes["svccheck.span_id"] = attempt.span_id
        events.append(Event("attempt", attributes, timestamp=int(at * _NS)))
        at += attempt.latency + attempt.wait_after
    attributes = {
        "svccheck.service": redactor.text(check.service),
        "svccheck.check": redactor.text(check.name),
        "svccheck.kind": check.kind,
        "svccheck.verdict": str(result.verdict),
        "svccheck.attempts": result.attempts,
        "url.full": redactor.url(check.url),
    }
    protocol = protocol_for(check.url)
    if protocol.name == "http":
        attributes["http.request.method"] = protocol.verb(check)
    if result.status_code is not None:
        attributes["http.response.status_code"] = result.status_code
    if result.failure_class is not None:
        attributes["error.type"] = str(result.failure_class)
    status = (
        Status(StatusCode.ERROR, redactor.text(result.reason or str(result.failure_class or "failed")))
        if result.verdict is Verdict.FAIL
        else Status(StatusCode.OK)
    )
    return ReadableSpan(
        name=f"{redactor.text(check.service)} {redactor.text(check.name)}",
        context=SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED)),
        resource=resource,
        attributes=attributes,
        events=events,
        kind=SpanKind.CLIENT,
        status=status,
        start_time=int(start * _NS),
        end_time=int((start + spent) * _NS),
        instrumentation_scope=scope,
    )


def export(report: Report, redactor: Redactor, url: str) -> str | None:
    """Send the report's spans; None when the collector took them, else what went wrong, to be said."""
    return send(spans(report, redactor), url)


def send(built: list[ReadableSpan], url: str) -> str | None:
    """Send spans to the collector at `url`; None when it took them, else what went wrong."""
    # the exporter logs its failures itself; the caller says them once, in svccheck's words
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)
    exporter = OTLPSpanExporter(endpoint=endpoint(url), timeout=EXPORT_TIMEOUT)
    try:
        result = exporter.export(built)
    except Exception as exc:  # the exporter's own errors (a bad URL): said, never a traceback
        return f"{type(exc).__name__}: {exc}"
    finally:
        exporter.shutdown()  # type: ignore[no-untyped-call]  # unannotated in the exporter
    if result is SpanExportResult.SUCCESS:
        return None
    return f"the collector at {endpoint(url)} did not take them"


def _epoch(started_at: str) -> float:
    try:
        return datetime.fromisoformat(started_at).timestamp()
    except ValueError:
        return 0.0


__all__ = ["endpoint", "export", "send", "spans"]
