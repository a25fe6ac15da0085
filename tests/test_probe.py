"""The probe engine against real loopback servers misbehaving in real ways."""

from __future__ import annotations

import asyncio
import json
import ssl
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from svccheck.demo.server import (
    Request,
    Response,
    ServerThread,
    json_response,
)
from svccheck.manifest import parse_manifest
from svccheck.model import CheckResult, Report
from svccheck.probe import ProbeSettings
from svccheck.run import execute


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


def test_concurrency_cap_holds_many_checks_on_a_small_pool(servers: ServerThread) -> None:
    port = servers.add(ok)
    checks = "\n".join(f"      - {{name: c{i}, path: /p{i}}}" for i in range(300))
    report = run_manifest(
        f"services:\n  many:\n    url: http://127.0.0.1:{port}\n    checks:\n{checks}\n", concurrency=8
    )
    verdicts = {c.verdict for c in report.services[0].checks}
    assert verdicts == {"pass"} and report.summary.checks == 300
    assert json.loads("{}") == {}


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
    from svccheck.evaluate import evaluate as real

    def broken(check: object, outcome: object, *, critical: bool) -> CheckResult:
        if getattr(check, "name", "") == "boom":
            raise RuntimeError("simulated bug")
        return real(check, outcome, critical=critical)  # type: ignore[arg-type]

    monkeypatch.setattr("svccheck.run.evaluate", broken)
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
