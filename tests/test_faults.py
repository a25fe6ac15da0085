"""The fault fleet: every way a service can misbehave, one row each, on real loopback sockets.

Each row says what svccheck must answer — verdict, failure class, a piece of
the reason — and how long it may take. `FAULTS` is also the source of the fault
table in docs/reliability.md (see test_reliability_doc.py), so the doc cannot
drift from what is tested.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import socket
import ssl
import textwrap
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from svccheck.demo.server import (
    Handler,
    Raw,
    Request,
    Response,
    ServerThread,
    hang,
    json_response,
    raw_bytes,
    reset,
    trickle,
)
from svccheck.engine.prober import DEFAULT_BODY_CAP, ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest
from svccheck.model import CheckResult

MiB = 1024 * 1024


@dataclass
class Fleet:
    """What a fault needs to stand up its server: the loopback servers, a CA, a scratch dir."""

    servers: ServerThread
    ca: trustme.CA
    tmp: Path
    seen: dict[str, object] = field(default_factory=dict)  # what the servers observed

    def https(
        self,
        handler: Handler,
        names: tuple[str, ...] = ("localhost", "127.0.0.1"),
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
    ) -> int:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf = self.ca.issue_cert(*names, not_before=not_before, not_after=not_after)
        leaf.configure_cert(context)
        return self.servers.add(handler, tls=context)

    def ca_file(self) -> str:
        path = self.tmp / "ca.pem"
        self.ca.cert_pem.write_to_path(str(path))
        return str(path)


@dataclass(frozen=True)
class Fault:
    id: str
    fault: str  # what the server does, for the doc
    verdict: str
    failure_class: str | None
    reason: str  # a fragment of the one-line reason
    bound: float  # seconds the check may take, at most
    service: Callable[[Fleet], str]  # the service's YAML flow mapping, servers started
    defaults: str = "{timeout: 400ms, retries: 0, backoff: 10ms}"
    attempts: int = 1
    max_peak_mib: float | None = None  # peak traced memory of the whole run
    deadline: float | None = None  # --timeout for the whole run, in seconds
    verify: Callable[[Fleet, CheckResult], None] | None = None


# --- Handlers ---------------------------------------------------------------------------


async def ok(request: Request) -> Response:
    return json_response({"status": "ok"})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(fleet: Fleet, handler: Handler, rest: str = "health: /h") -> str:
    return f'{{url: "http://127.0.0.1:{fleet.servers.add(handler)}", {rest}}}'


def answer(response: Response | Raw) -> Handler:
    async def handler(request: Request) -> Response | Raw:
        return response

    return handler


def sequence(statuses: list[int], headers: dict[str, str] | None = None) -> Handler:
    """Each status in turn, then the last one; failures carry `headers` (say, Retry-After)."""
    calls = {"n": 0}

    async def handler(request: Request) -> Response:
        status = statuses[min(calls["n"], len(statuses) - 1)]
        calls["n"] += 1
        if status < 400:
            return json_response({"status": "ok"})
        return Response(status, b'{"status": "busy"}', dict(headers or {}))

    return handler


def trickling_body() -> Raw:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 60\r\n\r\n"

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(head)
        await writer.drain()
        await trickle(b"x" * 60, interval=1.0).write(writer)

    return Raw(write)


def streamed_body(fleet: Fleet, size: int) -> Handler:
    """`size` bytes in 64 KiB writes; records how much the client let through."""
    block = b"A" * (64 * 1024)
    fleet.seen["sent"] = 0

    async def handler(request: Request) -> Raw:
        async def write(writer: asyncio.StreamWriter) -> None:
            writer.write(
                f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n\r\n".encode()
            )
            for _ in range(size // len(block)):
                writer.write(block)
                await writer.drain()
                fleet.seen["sent"] = int(fleet.seen["sent"]) + len(block)  # type: ignore[call-overload]

        return Raw(write)

    return handler


@functools.cache
def gzip_bomb(inflated: int = 200 * MiB) -> bytes:
    """`inflated` zero bytes, gzipped: about a thousandth of the size on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(MiB)
    parts = [compressor.compress(block) for _ in range(inflated // MiB)]
    parts.append(compressor.flush())
    return b"".join(parts)


def encoded(coding: str) -> Response:
    """{"status": "UP"} compressed with `coding`: gzip, deflate (zlib) or raw-deflate."""
    bits = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS, "raw-deflate": -zlib.MAX_WBITS}[coding]
    compressor = zlib.compressobj(6, zlib.DEFLATED, bits)
    body = compressor.compress(b'{"status": "UP"}') + compressor.flush()
    return Response(200, body, {"Content-Encoding": coding.removeprefix("raw-")})


def bomb(fleet: Fleet) -> str:
    body = gzip_bomb()
    fleet.seen["compressed"] = len(body)
    response = Response(200, body, {"Content-Encoding": "gzip"}, "text/plain")
    return http(fleet, answer(response), "checks: [{name: bomb, expect: {body: {contains: never-there}}}]")


def cross_origin(fleet: Fleet) -> str:
    async def target(request: Request) -> Response:
        fleet.seen["target"] = dict(request.headers)
        return json_response({"status": "ok"})

    target_port = fleet.servers.add(target)

    async def bounce(request: Request) -> Response:
        fleet.seen["origin"] = dict(request.headers)
        return Response(302, b"", {"Location": f"http://localhost:{target_port}/landing"})

    port = fleet.servers.add(bounce)
    headers = "{X-Auth-Token: redirect-tok-1, Cookie: sid=redirect-cookie-2, X-Api-Key: redirect-key-3}"
    return f'{{url: "http://user:redirect-pw-4@127.0.0.1:{port}", checks: [{{name: r, headers: {headers}}}]}}'


def credentials_stay_home(fleet: Fleet, result: CheckResult) -> None:
    origin, target = fleet.seen["origin"], fleet.seen["target"]
    assert isinstance(origin, dict) and isinstance(target, dict)
    # the first hop got them all: the URL's user:password as Basic auth, and the headers
    assert origin["authorization"].startswith("Basic ") and origin["cookie"] == "sid=redirect-cookie-2"
    assert origin["x-auth-token"] == "redirect-tok-1" and origin["x-api-key"] == "redirect-key-3"
    leaked = [k for k in ("authorization", "cookie", "x-api-key", "x-auth-token") if k in target]
    assert not leaked, target
    assert "redirect-" not in repr(target)


def big_body_capped(fleet: Fleet, result: CheckResult) -> None:
    sent = int(fleet.seen["sent"])  # type: ignore[call-overload]
    assert sent < 20 * MiB, f"the server pushed {sent} bytes: the client kept reading past the cap"


def retry_after_waited(seconds: float) -> Callable[[Fleet, CheckResult], None]:
    def verify(fleet: Fleet, result: CheckResult) -> None:
        assert result.attempt_log[0].wait_after == seconds

    return verify


def recovered(fleet: Fleet, result: CheckResult) -> None:
    assert result.recovered


# Dates for certificates; trustme needs naive UTC datetimes.
_NOW = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def tls_service(fleet: Fleet, verify: str = "", **cert: Any) -> str:
    port = fleet.https(ok, **cert)
    extra = {"": "", "ca": f", verify_tls: {fleet.ca_file()!r}", "off": ", verify_tls: false"}[verify]
    return f'{{url: "https://localhost:{port}", health: /h{extra}}}'


FAULTS: list[Fault] = [
    Fault("refused", "nothing listens on the port", "fail", "refused", "connection refused", 2.0,
          lambda f: f'{{url: "http://127.0.0.1:{closed_port()}", health: /h}}'),
    Fault("dns", "host name does not resolve (`name.invalid`, RFC 6761)", "fail", "dns", "DNS lookup failed", 10.0,
          lambda f: '{url: "http://name.invalid:8080", health: /h}'),
    Fault("hang", "accepts the connection, never answers", "fail", "timeout", "timed out after 400ms waiting for the response", 2.0,
          lambda f: http(f, answer(hang()))),
    Fault("tls-stall", "accepts the connection, never answers the TLS handshake", "fail", "timeout", "timed out after 400ms in the TLS handshake", 2.0,
          lambda f: f'{{url: "https://127.0.0.1:{f.servers.add(answer(hang()))}", health: /h}}'),
    Fault("hang-retried", "never answers, 2 retries", "fail", "timeout", "timed out after 300ms waiting for the response (3 attempts)", 3.0,
          lambda f: http(f, answer(hang())), defaults="{timeout: 300ms, retries: 2, backoff: 10ms}", attempts=3),
    Fault("hang-deadline", "never answers; the whole command has `--timeout 500ms`", "fail", "deadline", "deadline exceeded", 2.0,
          lambda f: http(f, answer(hang())), defaults="{timeout: 60s, retries: 0}", deadline=0.5, attempts=0),
    Fault("trickle", "sends headers, then the body at 1 byte/s", "fail", "timeout", "timed out after 400ms reading the body", 2.0,
          lambda f: http(f, answer(trickling_body()))),
    Fault("reset", "sends headers and half the body, then a TCP reset", "fail", "protocol", "connection reset", 2.0,
          lambda f: http(f, answer(reset(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)))),
    Fault("reset-at-once", "answers the request with a TCP reset", "fail", "protocol", "connection reset", 2.0,
          lambda f: http(f, answer(reset()))),
    Fault("truncated", "promises 1000 bytes, sends 10, closes", "fail", "protocol", "without sending complete message body", 2.0,
          lambda f: http(f, answer(raw_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")))),
    Fault("malformed-status", "malformed status line", "fail", "protocol", "illegal status line", 2.0,
          lambda f: http(f, answer(raw_bytes(b"HTTP/1.1 abc Nope\r\n\r\n")))),
    Fault("not-http", "answers with something that is not HTTP", "fail", "protocol", "disconnected without sending a response", 2.0,
          lambda f: http(f, answer(raw_bytes(b"SSH-2.0-OpenSSH_9.6\r\n")))),
    Fault("big-body", "a 50 MB body (cap 1 MiB, no assertion needs the rest)", "pass", None, "", 5.0,
          lambda f: http(f, streamed_body(f, 50 * 1000 * 1000), "checks: [{name: big, expect: {body: {contains: AAAA}}}]"),
          defaults="{timeout: 5s, retries: 0}", max_peak_mib=20, verify=big_body_capped),
    Fault("big-body-json", "a 50 MB body under a JSON assertion", "fail", "assertion", "exceeds the read cap", 5.0,
          lambda f: http(f, streamed_body(f, 50 * 1000 * 1000), "checks: [{name: big, expect: {json: {$.a: 1}}}]"),
          defaults="{timeout: 5s, retries: 0}", max_peak_mib=20, verify=big_body_capped),
    Fault("gzip-bomb", "a 200 KB gzip body that inflates to 200 MiB", "fail", "assertion", "truncated at the read cap", 5.0,
          bomb, defaults="{timeout: 5s, retries: 0}", max_peak_mib=20),
    Fault("gzip-json", "a gzip-encoded JSON body under a JSON assertion", "pass", None, "", 2.0,
          lambda f: http(f, answer(encoded("gzip")), "checks: [{name: j, expect: {json: {$.status: UP}}}]")),
    Fault("deflate-json", "a deflate (zlib) JSON body under a JSON assertion", "pass", None, "", 2.0,
          lambda f: http(f, answer(encoded("deflate")), "checks: [{name: j, expect: {json: {$.status: UP}}}]")),
    Fault("raw-deflate-json", "a raw deflate JSON body (no zlib header), as some servers send", "pass", None, "", 2.0,
          lambda f: http(f, answer(encoded("raw-deflate")), "checks: [{name: j, expect: {json: {$.status: UP}}}]")),
    Fault("bad-gzip", "says gzip, sends bytes that are not", "fail", "protocol", "cannot decode body", 2.0,
          lambda f: http(f, answer(Response(200, b"not gzip at all", {"Content-Encoding": "gzip"})))),
    Fault("invalid-json", "invalid JSON under a JSON assertion", "fail", "assertion", "body is not valid JSON", 2.0,
          lambda f: http(f, answer(Response(200, b"{oops", {}, "application/json")), "checks: [{name: j, expect: {json: {$.a: 1}}}]")),
    Fault("wrong-content-type", "HTML where JSON is expected", "fail", "assertion", "header content-type", 2.0,
          lambda f: http(f, answer(Response(200, b"<html></html>", {}, "text/html")),
                         "checks: [{name: c, expect: {headers: {content-type: {contains: application/json}}}}]")),
    Fault("redirect-loop", "redirects to itself forever", "fail", "protocol", "too many redirects (more than 5)", 2.0,
          lambda f: http(f, answer(Response(302, b"", {"Location": "/again"})))),
    Fault("redirect-cross-origin", "redirects to another origin", "pass", None, "", 2.0,
          cross_origin, verify=credentials_stay_home),
    Fault("429-retry-after", "429 with `Retry-After: 1`, then 200", "pass", None, "", 3.0,
          lambda f: http(f, sequence([429, 200], {"Retry-After": "1"})),
          defaults="{timeout: 400ms, retries: 1, backoff: 10ms}", attempts=2, verify=retry_after_waited(1.0)),
    Fault("503-retry-after", "503 with `Retry-After: 1`, every time", "fail", "status", "expected status 2xx, got 503 (2 attempts)", 3.0,
          lambda f: http(f, sequence([503], {"Retry-After": "1"})),
          defaults="{timeout: 400ms, retries: 1, backoff: 10ms}", attempts=2, verify=retry_after_waited(1.0)),
    Fault("503-retry-after-too-long", "503 with `Retry-After: 3600` (over the 10 s cap)", "fail", "status", "got 503 (2 attempts)", 2.0,
          lambda f: http(f, sequence([503], {"Retry-After": "3600"})),
          defaults="{timeout: 400ms, retries: 1, backoff: 10ms}", attempts=2),
    Fault("flaky", "fails twice (503), then passes", "pass", None, "", 2.0,
          lambda f: http(f, sequence([503, 503, 200])),
          defaults="{timeout: 400ms, retries: 2, backoff: 10ms}", attempts=3, verify=recovered),
    Fault("tls-unknown-ca", "TLS certificate from an unknown (self-signed) CA", "fail", "tls", "certificate verify failed", 2.0,
          lambda f: tls_service(f)),
    Fault("tls-ca-bundle", "the same, with the CA bundle given (`verify_tls: ca.pem`)", "pass", None, "", 2.0,
          lambda f: tls_service(f, verify="ca")),
    Fault("tls-expired", "expired TLS certificate", "fail", "tls", "certificate has expired", 2.0,
          lambda f: tls_service(f, verify="ca", not_before=_NOW - datetime.timedelta(days=30),
                                not_after=_NOW - datetime.timedelta(days=1))),
    Fault("tls-hostname", "TLS certificate for another host name", "fail", "tls", "Hostname mismatch", 2.0,
          lambda f: tls_service(f, verify="ca", names=("other.example.test",))),
    Fault("tls-unverified", "the same, with `verify_tls: false` (said so under the table)", "pass", None, "", 2.0,
          lambda f: tls_service(f, verify="off", names=("other.example.test",))),
    Fault("http10-close", "HTTP/1.0, body delimited by closing the connection", "pass", None, "", 2.0,
          lambda f: http(f, answer(raw_bytes(b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"status":"UP"}')))),
    Fault("health-down", "200 with a health body saying DOWN", "fail", "health", "component db: DOWN", 2.0,
          lambda f: http(f, answer(json_response({"status": "DOWN", "components": {"db": {"status": "DOWN"}, "disk": {"status": "UP"}}})))),
    Fault("health-warn", "200 with an IETF health body saying warn", "warn", "health", "component cache: warn", 2.0,
          lambda f: http(f, answer(json_response({"status": "warn", "checks": {"cache": [{"status": "warn"}]}}, content_type="application/health+json")))),
    Fault("health-unknown-word", "200 with a health status svccheck does not know", "warn", "health", "unrecognised health status 'NOK'", 2.0,
          lambda f: http(f, answer(json_response({"status": "NOK"})))),
]  # fmt: skip


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def fleet(servers: ServerThread, ca: trustme.CA, tmp_path: Path) -> Iterator[Fleet]:
    yield Fleet(servers, ca, tmp_path)


def run_fault(fault: Fault, fleet: Fleet) -> tuple[CheckResult, float, float]:
    """The check's result, the seconds it took and the peak MiB traced (0 when not traced)."""
    text = textwrap.dedent(f"""
        defaults: {fault.defaults}
        services:
          s: {fault.service(fleet)}
    """)
    manifest = parse_manifest(text, str(fleet.tmp / "services.yaml"), environ={})
    if fault.max_peak_mib is not None:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        deadline = None if fault.deadline is None else time.monotonic() + fault.deadline
        report = asyncio.run(execute(manifest.services, ProbeSettings(), deadline=deadline))
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / MiB if tracemalloc.is_tracing() else 0.0
    finally:
        tracemalloc.stop()
    return report.services[0].checks[0], elapsed, peak


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_fault(fault: Fault, fleet: Fleet) -> None:
    result, elapsed, peak = run_fault(fault, fleet)
    assert (result.verdict, result.failure_class) == (fault.verdict, fault.failure_class), result.reason
    assert fault.reason in (result.reason or ""), result.reason
    assert result.attempts == fault.attempts, result.attempt_log
    assert elapsed < fault.bound, f"{elapsed:.2f}s > {fault.bound}s"
    if fault.max_peak_mib is not None:
        assert peak < fault.max_peak_mib, f"peak {peak:.1f} MiB"
    if fault.verify is not None:
        fault.verify(fleet, result)
    assert not fleet.servers.errors, list(fleet.servers.errors)


def test_the_fleet_covers_every_class() -> None:
    classes = {f.failure_class for f in FAULTS}
    assert {
        "dns",
        "refused",
        "timeout",
        "tls",
        "protocol",
        "status",
        "assertion",
        "health",
        "deadline",
    } <= classes


def test_gzip_bomb_is_small_on_the_wire() -> None:
    # the bomb's point: far below the cap compressed, far above it inflated
    assert len(gzip_bomb()) < DEFAULT_BODY_CAP
