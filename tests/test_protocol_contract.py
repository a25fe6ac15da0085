"""The contract every protocol in the registry keeps, tested the day a protocol is added.

Each protocol is run through the real engine against a real loopback server of
its own (`LIVE`: a protocol without one fails here, on purpose) and against a
closed port; its records, its neutral answer, what `check -v` shows it sent and
its reproduction line are held to the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socketserver
import threading
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest
from svccheck.model import CheckResult, Report
from svccheck.modes.saved_report import from_dict
from svccheck.protocols import PROTOCOLS, SCHEMES, every_protocol, protocol_for, shapes
from svccheck.protocols.base import Protocol
from svccheck.redact import Redactor
from svccheck.report.json import render as render_json


async def healthy(request: Request) -> Response:
    return json_response({"status": "UP"})


@contextlib.contextmanager
def http_server() -> Iterator[str]:
    with ServerThread() as server:
        yield f'url: "http://127.0.0.1:{server.add(healthy)}", health: /health'


class _Accept(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(16)


@contextlib.contextmanager
def tcp_server() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Accept)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'url: "tcp://127.0.0.1:{server.server_address[1]}"'
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def grpc_server() -> Iterator[str]:
    # imported here: the module skips without the grpc extra, and only gRPC's cases need it
    from support.grpc_servers import grpc_health_server

    with grpc_health_server() as port:
        yield f'url: "grpc://127.0.0.1:{port}", grpc: {{services: ["", ledger.v1.Ledger]}}'


# protocol name → a real server of that protocol on loopback, as a service's manifest keys
LIVE: dict[str, Callable[[], contextlib.AbstractContextManager[str]]] = {
    "http": http_server,
    "tcp": tcp_server,
    "grpc": grpc_server,
}

NAMES = [p.name for p in every_protocol()]


def run(service_keys: str) -> Report:
    text = f"defaults: {{retries: 0, timeout: 5s}}\nservices:\n  svc: {{{service_keys}}}\n"
    manifest = parse_manifest(text, "services.yaml", environ={})
    return asyncio.run(execute(manifest.services, ProbeSettings()))


def json_report(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_json(report, Redactor()))
    return data


def first(report: Report) -> CheckResult:
    return report.services[0].checks[0]


def printable(text: str) -> bool:
    return all(unicodedata.category(c)[0] != "C" for c in text)


def test_registry_lists_each_scheme_once_and_finds_its_protocol() -> None:
    schemes = [scheme for _, listed in PROTOCOLS for scheme in listed]
    assert len(schemes) == len(set(schemes)) == len(SCHEMES)
    for scheme in schemes:
        protocol = protocol_for(f"{scheme}://127.0.0.1:1")
        assert isinstance(protocol, Protocol) and scheme in protocol.schemes
    assert len(set(NAMES)) == len(NAMES) == len(PROTOCOLS)


@pytest.mark.parametrize("name", NAMES)
def test_a_protocol_brings_its_own_manifest_shape(name: str) -> None:
    protocol = next(p for p in every_protocol() if p.name == name)
    shape = protocol.shape
    assert all(shapes()[scheme] is shape for scheme in protocol.schemes)
    assert {"url", "critical", "tags", "depends_on"} <= shape.service_keys  # what every service has


def test_a_protocols_own_keys_are_declared_once_and_refused_elsewhere_naming_the_owner() -> None:
    from svccheck.grammar import schema
    from svccheck.manifest import ManifestError
    from svccheck.protocols import own_fields

    keys = [field.key for field in own_fields()]
    assert keys and len(keys) == len(set(keys))  # no two protocols declare the same key
    assert not set(keys) & set(schema.SERVICE.keys)  # nor one the common grammar has
    for protocol in every_protocol():
        assert protocol.shape.own_keys <= protocol.shape.service_keys
        for other in every_protocol():
            if other is protocol or not other.shape.fields:
                continue
            key = other.shape.fields[0].key
            url = f"{protocol.schemes[0]}://127.0.0.1:1"
            text = f"services:\n  svc: {{url: '{url}', {key}: null, health: {{name: h}}}}\n"
            with pytest.raises(ManifestError) as caught:
                parse_manifest(text, "services.yaml", environ={})
            assert f"{key!r} is for {other.schemes[0]}:// services" in caught.value.render()


@pytest.mark.parametrize("name", NAMES)
def test_every_protocol_has_a_live_server_here(name: str) -> None:
    assert name in LIVE, f"add a real loopback server for {name!r} to LIVE: the contract runs against it"


@pytest.mark.parametrize("name", NAMES)
def test_a_live_server_passes_with_a_neutral_answer_and_records(name: str) -> None:
    with LIVE[name]() as keys:
        result = first(run(keys))
    assert result.verdict == "pass", result.reason
    assert result.status_text and printable(result.status_text)
    assert result.response is not None and result.response.latency > 0
    assert result.assertions and all(a.held and a.failure is None for a in result.assertions)
    assert all(a.label and printable(a.label) for a in result.assertions)
    assert [a.status_text for a in result.attempt_log] == [result.status_text]


@pytest.mark.parametrize("name", NAMES)
def test_a_closed_port_is_refused_and_no_fault_of_a_dependency(name: str) -> None:
    with LIVE[name]() as keys:
        pass  # the same service, once its server is gone: nothing listens on its port any more
    result = first(run(keys))
    assert (result.verdict, result.failure_class, result.connect_failed) == ("fail", "refused", True)
    assert result.reason == "connection refused"
    assert [(a.label, a.held) for a in result.assertions] == [("an answer", False)]
    assert result.status_text is None and result.attempt_log[0].status_text is None


@pytest.mark.parametrize("name", NAMES)
def test_what_it_sent_and_how_to_reproduce_it(name: str) -> None:
    with LIVE[name]() as keys:
        check = first(run(keys)).check
    protocol = protocol_for(check.url)
    lines = protocol.request_lines(check)
    assert lines and all(line and printable(line) for line in lines)
    port = check.url.rsplit(":", 1)[1].split("/")[0]
    secret = "s3cr3t-value-123"
    line = protocol.reproduce(
        check, secret_vars={secret: "TOKEN"}, secrets={secret}, verify=True, timeout=check.timeout
    )
    assert port in line.line and secret not in line.line and printable(line.line)


# what the JSON report writes of every check whatever its protocol: a protocol's own fields add to it
COMMON_JSON_FIELDS = {
    "name", "kind", "protocol", "method", "url", "verdict", "status_code", "latency_ms", "attempts", "recovered",
    "failure_class", "reason", "failures", "timings", "tls", "components", "ready_after_ms",
}  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_the_check_carries_the_protocols_own_target_and_reports_read_it_through_the_protocol(
    name: str,
) -> None:
    with LIVE[name]() as keys:
        report = run(keys)
    check = first(report).check
    protocol = protocol_for(check.url)
    verb = protocol.verb(check)
    assert verb and printable(verb) and check.url not in verb
    fields = protocol.request_fields(check)
    # a protocol's fields never overwrite the common ones (tcp's `tls` once did: the certificate's key);
    # `method` is report-v1's, null unless the protocol has one
    assert fields and not set(fields) & (COMMON_JSON_FIELDS - {"method"}), fields
    written = json_report(report)["services"][0]["checks"][0]
    assert written["protocol"] == protocol.name and {k: written[k] for k in fields} == fields
    assert set(written) >= COMMON_JSON_FIELDS
    assert isinstance(protocol.uses_tls(check), bool)


@pytest.mark.parametrize("name", NAMES)
def test_a_saved_report_reads_back_with_the_protocols_own_target(name: str) -> None:
    # --baseline, diff and merge read reports back: what the protocol records rebuilds its target
    with LIVE[name]() as keys:
        report = run(keys)
    written = json_report(report)
    again = from_dict(written)
    assert json_report(again) == written
    check, back = first(report).check, first(again).check
    protocol = protocol_for(check.url)
    assert protocol.request_fields(back) == protocol.request_fields(check)
    assert protocol.verb(back) == protocol.verb(check)


def test_nothing_is_imported_while_an_attempts_clock_runs() -> None:
    # An import inside the run stalls the event loop under every attempt in flight. httpx's own
    # (httpcore, h11, anyio: ~0.2 s with httpx here) once made a loopback Redis PING beside an
    # HTTP check measure 214 ms where `check` said 2 ms. A fresh interpreter, a real HTTP server
    # answering a health document, and a service of every protocol on a closed port. What the run
    # queued for the loop's idle moments (`engine.idle`: the health readers) is the one exception:
    # it is imported only while nothing else is ready, one queued name at a time.
    import subprocess
    import sys

    script = """
import asyncio, sys
from svccheck.demo.server import ServerThread, json_response
from svccheck.engine import prober
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest
from svccheck.protocols import PROTOCOLS

async def up(request):
    return json_response({"status": "UP", "components": {"db": {"status": "UP"}}})

at_first_clock = []
real = prober.AttemptTrace
def first_clock(*args, **kwargs):
    if not at_first_clock:
        at_first_clock.append(set(sys.modules))
    return real(*args, **kwargs)
prober.AttemptTrace = first_clock
from svccheck.engine import idle
queued, real_queue = [], idle.import_when_idle
def recorded_queue(names):
    names = tuple(names)
    queued.extend(names)
    real_queue(names)
idle.import_when_idle = recorded_queue
def queued_for_idle(name):
    return any(name == q or name.startswith(q + ".") for q in queued)
server = ServerThread().start()
port = server.add(up)
text = "defaults: {retries: 0, timeout: 2s}\\nservices:\\n"
text += f"  web: {{url: 'http://127.0.0.1:{port}', health: /health}}\\n"
for index, (_, schemes) in enumerate(PROTOCOLS):
    text += f"  s{index}: {{url: '{schemes[0]}://127.0.0.1:1', health: {{name: h}}}}\\n"
# HTTP/2 is httpx's own transport (httpcore, h2) even when the fast one carries HTTP/1.1
text += "  h2: {url: 'https://127.0.0.1:1', http2: true, health: /h}\\n"
manifest = parse_manifest(text, "services.yaml", environ={})
assert "httpx" not in sys.modules, "the test needs a run that has not loaded the HTTP stack yet"
report = idle.run(execute(manifest.services, ProbeSettings()))
server.stop()
web = next(s for s in report.services if s.service.name == "web").checks[0]
assert web.verdict == "pass" and web.components, web.reason
assert "svccheck.judge.health" in queued, "the health readers were not queued for the idle loop"
# whoever imported those first: the idle loop, or an answer that needed them sooner
print(" ".join(sorted(n for n in set(sys.modules) - at_first_clock[0] if not queued_for_idle(n))))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [], f"imported while attempts ran: {result.stdout}"


def test_the_fast_transport_leaves_httpx_own_transport_unloaded() -> None:
    # httpcore, h11, h2 and anyio (71 modules, ~37 ms of every run's start here) serve only
    # httpx's own transport: a run on the fast one (`http_wire`) must not import them
    import subprocess
    import sys

    pytest.importorskip("httptools", reason="the fast transport is the `fast` extra")
    script = """
import asyncio, os, sys
os.environ.pop("SVCCHECK_HTTP_TRANSPORT", None)
from svccheck.demo.server import ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest

async def up(request):
    return json_response({"status": "UP"})

server = ServerThread().start()
port = server.add(up)
text = f"services:\\n  web: {{url: 'http://127.0.0.1:{port}', health: /health}}\\n"
report = asyncio.run(execute(parse_manifest(text, "services.yaml", environ={}).services, ProbeSettings()))
server.stop()
assert report.services[0].checks[0].verdict == "pass", report.services[0].checks[0].reason
print(" ".join(sorted(m for m in ("httpcore", "h11", "h2", "anyio") if m in sys.modules)))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [], f"loaded for httpx's own transport: {result.stdout}"
