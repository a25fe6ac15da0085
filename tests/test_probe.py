"""The probe engine against real loopback servers misbehaving in real ways."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from svccheck.demo.server import (
    Request,
    Response,
    ServerThread,
    json_response,
)
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest
from svccheck.model import CheckResult, Report
from svccheck.protocols.base import Origin
from svccheck.protocols.lanes import Lanes


def run_manifest(text: str, path: str = "services.yaml", **settings: object) -> Report:
    manifest = parse_manifest(textwrap.dedent(text), path, environ={})
    return asyncio.run(execute(manifest.services, ProbeSettings(**settings)))  # type: ignore[arg-type]


def only_check(report: Report) -> CheckResult:
    (service,) = report.services
    return service.checks[0]


async def ok(request: Request) -> Response:
    return json_response({"status": "ok", "path": request.path})


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(tls_ca: trustme.CA, servers: ServerThread) -> Iterator[tuple[int, int]]:
    """Two HTTPS listeners: one with a cert for localhost, one for another name."""
    contexts = []
    for name in ("localhost", "other.example.test"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ca.issue_cert(name, "127.0.0.1").configure_cert(context)
        contexts.append(context)
    yield servers.add(ok, tls=contexts[0]), servers.add(ok, tls=contexts[1])


def test_insecure_setting_skips_verification(tls_server: tuple[int, int]) -> None:
    good, _ = tls_server
    report = run_manifest(f"services:\n  s: {{url: 'https://localhost:{good}', health: /h}}\n", insecure=True)
    assert only_check(report).verdict == "pass"
    assert report.tls_unverified == ("s/health",)


class InFlight:
    """Holds each request for a while, recording the peak in flight; shared by listeners, it counts across origins.

    A request that arrives while `limit` are already held breaks the cap: it
    releases everyone at once, so the peak records it. Otherwise each request
    is held for `hold` seconds, long enough for the client to exceed a broken
    cap, so a working cap shows as a peak of exactly `limit`.
    """

    def __init__(self, limit: int, hold: float = 0.5) -> None:
        self.limit = limit
        self.hold = hold
        self.now = 0
        self.peak = 0
        self._over: asyncio.Event | None = None

    async def __call__(self, request: Request) -> Response:
        over = self._over = self._over or asyncio.Event()
        self.now += 1
        self.peak = max(self.peak, self.now)
        if self.now > self.limit:
            over.set()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.hold):
                    await over.wait()
        finally:
            self.now -= 1
        return json_response({"status": "ok"})


def many_checks(ports: list[int], per_port: int) -> str:
    """Two services per port (so one origin serves two services), `per_port` checks in all per port."""
    lines = ["defaults: {retries: 0}", "services:"]
    for port in ports:
        for half in (0, 1):
            lines += [f"  s{port}-{half}:", f"    url: http://127.0.0.1:{port}", "    checks:"]
            lines += [f"      - {{name: c{i}, path: /p{i}}}" for i in range(half, per_port, 2)]
    return "\n".join(lines) + "\n"


def test_connections_to_one_origin_are_capped(servers: ServerThread) -> None:
    handler = InFlight(limit=3)
    port = servers.add(handler)
    report = run_manifest(many_checks([port], 8), concurrency=100, per_origin=3)
    assert {c.verdict for s in report.services for c in s.checks} == {"pass"} and report.summary.checks == 8
    assert handler.peak == 3


def test_concurrency_caps_requests_across_origins(servers: ServerThread) -> None:
    handler = InFlight(limit=5)
    ports = [servers.add(handler) for _ in range(4)]
    report = run_manifest(many_checks(ports, 3), concurrency=5)
    assert report.summary.checks == 12
    assert {c.verdict for s in report.services for c in s.checks} == {"pass"}
    assert handler.peak == 5


def test_more_origins_than_slots_keep_their_connections(servers: ServerThread) -> None:
    # 20 origins of 20 checks through 10 slots: a slot handed to whichever check had waited
    # longest went to another origin nearly every time, whose lane had to evict an idle one, so
    # 10,000 checks on 100 origins opened 9,995 connections (here: 376 of 400). A freed slot now
    # goes to a check of its own origin first, so an origin opens about one connection per check
    # it may run at once (per_origin), when it takes its slots over from another: 96-137 in 8
    # runs (a lane left idle for its origin's next check is sometimes closed first for a check
    # of another origin granted a slot in the same moment), never 2x.
    ports = [servers.add(ok) for _ in range(20)]
    report = run_manifest(many_checks(ports, 20), concurrency=10, per_origin=5)
    checks = [c for s in report.services for c in s.checks]
    assert len(checks) == 400 and {c.verdict for c in checks} == {"pass"}
    opened = [c for c in checks if c.timings is not None and c.timings.connect is not None]
    assert len(opened) <= 2 * 5 * len(ports)


def test_lanes_close_idle_connections_of_other_origins_to_stay_bounded() -> None:
    made: list[Origin] = []

    def factory(origin: Origin) -> httpx.AsyncClient:
        made.append(origin)
        return httpx.AsyncClient(trust_env=False)

    async def scenario() -> list[int]:
        lanes = Lanes(factory, total=2)
        counts = []
        for host in ["a", "b", "a", "c", "c"]:
            async with lanes.lane(("http", host, 80, None)):
                counts.append(lanes.open_lanes)
        await lanes.aclose()
        counts.append(lanes.open_lanes)
        return counts

    counts = asyncio.run(scenario())
    assert counts == [1, 2, 2, 2, 2, 0]
    # a and b were reused or evicted as needed: "a" is reused on its second use, "c" evicts the coldest
    assert [origin[1] for origin in made] == ["a", "b", "c"]


def test_redirect_from_http_to_https_is_verified(
    tls_ca: trustme.CA, tls_server: tuple[int, int], servers: ServerThread, tmp_path: Path
) -> None:
    good, _ = tls_server

    async def upgrade(request: Request) -> Response:
        return Response(301, b"", {"Location": f"https://localhost:{good}/h"})

    port = servers.add(upgrade)
    tls_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    report = run_manifest(
        f"""
        defaults: {{retries: 0}}
        services:
          untrusted: {{url: "http://127.0.0.1:{port}", health: /h}}
          trusted: {{url: "http://127.0.0.1:{port}", health: /h, verify_tls: ca.pem}}
    """,
        path=str(tmp_path / "services.yaml"),
    )
    by_name = {s.service.name: s.checks[0] for s in report.services}
    assert by_name["untrusted"].failure_class == "tls"
    assert by_name["trusted"].verdict == "pass"


def test_an_internal_error_costs_one_check_not_the_report(
    servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from svccheck.judge.evaluate import Judge
    from svccheck.judge.evaluate import evaluate as real

    def broken(check: object, outcome: object, *, critical: bool, judge: Judge) -> CheckResult:
        if getattr(check, "name", "") == "boom":
            raise RuntimeError("simulated bug")
        return real(check, outcome, critical=critical, judge=judge)  # type: ignore[arg-type]

    monkeypatch.setattr("svccheck.engine.run.evaluate", broken)
    port = servers.add(ok)
    report = run_manifest(f"""
        services:
          s:
            url: http://127.0.0.1:{port}
            health: /h
            checks: [{{name: boom, path: /x}}]
    """)
    health, boom = report.services[0].checks
    assert health.verdict == "pass"
    assert boom.verdict == "fail" and boom.reason == "svccheck internal error: RuntimeError: simulated bug"


def test_answers_are_kept_only_when_asked_for(servers: ServerThread) -> None:
    port = servers.add(ok)
    manifest = parse_manifest(
        f"services:\n  s: {{url: 'http://127.0.0.1:{port}', health: /h}}\n", "m.yaml", environ={}
    )
    lean = asyncio.run(execute(manifest.services, ProbeSettings()))
    full = asyncio.run(execute(manifest.services, ProbeSettings(), keep_answers=True))
    lean_answer, full_answer = only_check(lean).response, only_check(full).response
    assert lean_answer is not None and full_answer is not None
    assert lean_answer.headers == () and lean_answer.body == b""
    assert lean_answer.timings is not None  # what the report shows stays
    assert dict(full_answer.headers)["content-type"].startswith("application/json")
    assert b'"status": "ok"' in full_answer.body or b'"status":"ok"' in full_answer.body
