"""`--otlp URL`: a span per check, sent over OTLP/HTTP to a loopback collector that decodes it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from support.cli import assert_no_traceback, run_cli
from support.real_services import free_port
from support.serving import get, serving
from svccheck.demo.server import Request, Response, ServerThread, json_response

SECRET = "otlp-Planted-Token-31"


class Collector:
    """An OTLP/HTTP receiver: keeps each export request it is sent to /v1/traces, decoded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, ExportTraceServiceRequest]] = []

    async def __call__(self, request: Request) -> Response:
        decoded = ExportTraceServiceRequest()
        decoded.ParseFromString(request.body)
        self.requests.append((request.method, request.path, decoded))
        return Response(200, b"", content_type="application/x-protobuf")

    def spans(self) -> list[Span]:
        return [
            s
            for _, _, r in self.requests
            for rs in r.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        ]


class Seen:
    """A service answering each status in turn, keeping the traceparent of each request."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = statuses
        self.traceparents: list[str] = []

    async def __call__(self, request: Request) -> Response:
        self.traceparents.append(request.headers.get("traceparent", ""))
        status = self.statuses[min(len(self.traceparents), len(self.statuses)) - 1]
        return json_response({"status": "UP" if status < 400 else "DOWN"}, status=status)


def attributes(span: Span) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in span.attributes:
        value = item.value
        out[item.key] = value.int_value if value.HasField("int_value") else value.string_value
    return out


def test_each_check_is_one_span_in_its_own_trace_under_the_span_its_request_carried(
    servers: ServerThread, manifest_file: Callable[[str], Path], tmp_path: Path
) -> None:
    collector, flaky, broken = Collector(), Seen(503, 200), Seen(500)
    collector_port = servers.add(collector)
    path = manifest_file(f"""
        defaults: {{retries: 1, backoff: 1ms}}
        services:
          flaky: {{url: "http://127.0.0.1:{servers.add(flaky)}", health: /health,
                  headers: {{Authorization: "Bearer {SECRET}"}}}}
          broken: {{url: "http://127.0.0.1:{servers.add(broken)}/?token={SECRET}", health: /health}}
    """)
    report_file = tmp_path / "r.json"
    result = run_cli(
        "check", "flaky", "broken", "-f", str(path), "--json", str(report_file),
        "--otlp", f"http://127.0.0.1:{collector_port}", "--location", "lab",
    )  # fmt: skip
    assert_no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot send spans" not in result.stderr
    assert [(method, where) for method, where, _ in collector.requests] == [("POST", "/v1/traces")]
    (resource_spans,) = collector.requests[0][2].resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "svccheck" and resource["svccheck.location"] == "lab"

    checks = {s["name"]: s["checks"][0] for s in json.loads(report_file.read_text())["services"]}
    spans = {attributes(s)["svccheck.service"]: s for s in collector.spans()}
    assert set(spans) == {"flaky", "broken"}  # one span per check
    for name, seen in (("flaky", flaky), ("broken", broken)):
        span, written = spans[name], checks[name]
        assert span.trace_id.hex() == written["trace_id"]
        # the span is the last attempt's: the backend's span for that request is its child
        assert f"00-{span.trace_id.hex()}-{span.span_id.hex()}-01" == seen.traceparents[-1]
        assert len(span.events) == written["attempts"] == len(seen.traceparents)
        assert span.kind == Span.SPAN_KIND_CLIENT and span.end_time_unix_nano >= span.start_time_unix_nano
        assert abs(span.start_time_unix_nano / 1e9 - time.time()) < 120
    assert spans["flaky"].status.code == Status.STATUS_CODE_OK
    assert attributes(spans["flaky"])["http.response.status_code"] == 200
    assert spans["broken"].status.code == Status.STATUS_CODE_ERROR
    assert attributes(spans["broken"])["error.type"] == checks["broken"]["failure_class"]
    assert SECRET not in str(collector.requests[0][2])  # the URL's token masked, the header never sent


def test_an_unreachable_collector_is_said_and_changes_nothing_else(
    servers: ServerThread, manifest_file: Callable[[str], Path]
) -> None:
    path = manifest_file(f"""
        services:
          api: {{url: "http://127.0.0.1:{servers.add(Seen(200))}", health: /health}}
    """)
    started = time.monotonic()
    result = run_cli(
        "check", "api", "-f", str(path), "--otlp", f"http://user:{SECRET}@127.0.0.1:{free_port()}"
    )
    assert_no_traceback(result)
    assert result.returncode == 0  # the run's verdict, whatever became of its spans
    assert re.search(r"cannot send spans to http://user:\*+@127\.0\.0\.1:\d+", result.stderr), result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert time.monotonic() - started < 30


def test_serve_sends_the_spans_of_each_probe_off_the_scrape(
    servers: ServerThread, manifest_file: Callable[[str], Path]
) -> None:
    collector, api = Collector(), Seen(200)
    collector_port = servers.add(collector)
    path = manifest_file(f"""
        services:
          api: {{url: "http://127.0.0.1:{servers.add(api)}", health: /health}}
    """)
    with serving(path, "--probe-only", "--otlp", f"http://127.0.0.1:{collector_port}") as base:
        for _ in range(2):
            assert get(base + "/probe?service=api")[0] == 200
        deadline = time.monotonic() + 20
        while len(collector.spans()) < 2:  # sent by serve's own thread, after each answer
            assert time.monotonic() < deadline, collector.requests
            time.sleep(0.05)
    sent = [s.trace_id.hex() for s in collector.spans()]
    assert sent == [tp.split("-")[1] for tp in api.traceparents]  # a span per probe, in its request's trace
