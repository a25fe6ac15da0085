"""Timing breakdown and TLS certificate expiry, against real loopback servers (plain and TLS)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import textwrap
from pathlib import Path

import pytest
import trustme

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import ManifestError, parse_manifest
from svccheck.model import CheckResult, Report, Timings
from svccheck.protocols.certificate import certificate_from_dict
from svccheck.protocols.timing import AttemptTrace, DnsTimer


def run_manifest(text: str, path: str = "services.yaml") -> Report:
    manifest = parse_manifest(textwrap.dedent(text), path, environ={})
    return asyncio.run(execute(manifest.services, ProbeSettings()))


def checks_of(report: Report) -> dict[str, CheckResult]:
    return {f"{s.service.name}/{c.check.name}": c for s in report.services for c in s.checks}


async def ok(request: Request) -> Response:
    return json_response({"status": "ok"})


def assert_ordered(timings: Timings | None) -> Timings:
    assert timings is not None
    assert timings.ttfb is not None
    if timings.connect is not None:
        assert timings.connect <= timings.ttfb
    if timings.tls is not None:
        assert timings.connect is not None and timings.connect + timings.tls <= timings.ttfb
    assert timings.ttfb <= timings.total
    return timings


def test_plain_http_phases_are_present_and_ordered(servers: ServerThread) -> None:
    port = servers.add(ok)
    report = run_manifest(f"""
        services:
          by-ip:
            url: http://127.0.0.1:{port}
            health: /h
            checks: [{{name: again, path: /again}}]
          by-name: {{url: "http://localhost:{port}", health: /h}}
    """)
    results = checks_of(report)
    first = assert_ordered(results["by-ip/health"].timings)
    assert first.connect is not None and first.tls is None
    assert first.dns is None  # an IP literal needs no lookup
    # the sample check runs after the health check and reuses its keep-alive connection
    reused = assert_ordered(results["by-ip/again"].timings)
    assert reused.connect is None and reused.dns is None and reused.tls is None
    named = assert_ordered(results["by-name/health"].timings)
    assert named.dns is not None and named.connect is not None


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


def tls_port(servers: ServerThread, ca: trustme.CA, days: float) -> int:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    not_after = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    ca.issue_cert("localhost", "127.0.0.1", not_after=not_after).configure_cert(context)
    return servers.add(ok, tls=context)


def test_tls_phases_and_certificate_expiry(servers: ServerThread, tls_ca: trustme.CA, tmp_path: Path) -> None:
    tls_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    fresh, soon, expiring = (tls_port(servers, tls_ca, d) for d in (90.5, 20.5, 9.5))
    report = run_manifest(
        f"""
        defaults: {{verify_tls: ca.pem, retries: 0}}
        services:
          fresh:
            url: https://localhost:{fresh}
            health: {{path: /h, expect: {{tls_min_days: 14, tls_warn_days: 30}}}}
          soon:
            url: https://localhost:{soon}
            health: {{path: /h, expect: {{tls_min_days: 14, tls_warn_days: 30}}}}
          expiring:
            url: https://127.0.0.1:{expiring}
            health: {{path: /h, expect: {{tls_min_days: 14}}}}
        """,
        path=str(tmp_path / "services.yaml"),
    )
    results = checks_of(report)
    timings = assert_ordered(results["fresh/health"].timings)
    assert timings.connect is not None and timings.tls is not None and timings.dns is not None
    cert = results["fresh/health"].certificate
    assert cert is not None and 89 < cert.days_left < 91
    assert cert.issuer is not None and "trustme" in cert.issuer
    assert results["fresh/health"].verdict == "pass"
    assert results["soon/health"].verdict == "warn"
    assert results["soon/health"].reason == "TLS certificate expires in 20 days (< 30)"
    assert results["expiring/health"].verdict == "fail"
    assert results["expiring/health"].failure_class == "tls"
    assert results["expiring/health"].reason == "TLS certificate expires in 9 days (< 14)"


def test_tls_expectation_on_plain_http_says_why(servers: ServerThread) -> None:
    port = servers.add(ok)
    report = run_manifest(f"""
        services:
          s: {{url: "http://127.0.0.1:{port}", health: {{path: /h, expect: {{tls_warn_days: 30}}}}}}
    """)
    (result,) = checks_of(report).values()
    assert result.verdict == "warn" and result.reason == "no TLS certificate to check (plain HTTP)"


def test_slow_first_byte_fails_max_ttfb_but_not_max_connect(servers: ServerThread) -> None:
    port = servers.add(ok, latency=0.3)
    report = run_manifest(f"""
        services:
          slow:
            url: http://127.0.0.1:{port}
            health: {{path: /h, expect: {{max_ttfb: 50ms, max_connect: 5s}}}}
    """)
    (result,) = checks_of(report).values()
    assert result.verdict == "fail" and result.failure_class == "assertion"
    assert result.reason is not None and result.reason.startswith("ttfb ")
    assert result.reason.endswith("over max_ttfb 50ms")


def test_json_report_carries_timings_and_tls_in_milliseconds(
    servers: ServerThread, tls_ca: trustme.CA, tmp_path: Path
) -> None:
    tls_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    port = tls_port(servers, tls_ca, 40.5)
    manifest = tmp_path / "services.yaml"
    manifest.write_text(
        f"services:\n  s: {{url: 'https://localhost:{port}', health: /h, verify_tls: ca.pem}}\n"
    )
    result = run_cli("all", "-f", str(manifest), "--format", "json")
    assert_no_traceback(result)
    (check,) = json.loads(result.stdout)["services"][0]["checks"]
    timings = check["timings"]
    assert set(timings) == {"dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"}
    assert timings["connect_ms"] <= timings["ttfb_ms"] <= timings["total_ms"]
    assert timings["tls_ms"] is not None
    assert 39 < check["tls"]["days_left"] < 41 and check["tls"]["not_after"].endswith("+00:00")
    verbose = run_cli("all", "-f", str(manifest), "-v")
    assert "ttfb" in verbose.stdout and "TLS certificate: expires in 40 days" in verbose.stdout


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ("{max_ttfb: soon}", "3:61: services.a.health.expect.max_ttfb: bad duration 'soon'"),
        ("{max_ttbf: 1s}", "unknown key 'max_ttbf' in services.a.health.expect (did you mean 'max_ttfb'?)"),
        (
            "{tls_min_days: -1}",
            "services.a.health.expect.tls_min_days: expected an integer between 0 and 36500, got -1",
        ),
        (
            "{tls_min_days: 30, tls_warn_days: 14}",
            "3:84: tls_warn_days (14) is below tls_min_days (30)",
        ),
    ],
)
def test_bad_timing_and_tls_expectations_name_the_place(expect: str, message: str) -> None:
    text = f"services:\n  a:\n    {{url: 'https://h', health: {{path: /, expect: {expect}}}}}\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "services.yaml", environ={})
    lines = info.value.render().splitlines()
    assert any(message in line for line in lines), lines


def test_trace_without_a_new_connection_reports_no_connect_phase() -> None:
    async def scenario() -> tuple[Timings, Timings]:
        dns = DnsTimer()
        fresh = AttemptTrace(dns, start=0.0)
        await fresh("connection.connect_tcp.started", {"host": "127.0.0.1", "port": 1})
        await fresh("connection.connect_tcp.complete", {})
        await fresh("http11.receive_response_headers.complete", {})
        reused = AttemptTrace(dns, start=0.0)
        await reused("http11.receive_response_headers.complete", {})
        dns.close()
        return fresh.timings(end=10**9), reused.timings(end=10**9)

    fresh, reused = asyncio.run(scenario())
    assert fresh.connect is not None and fresh.dns is None and fresh.tls is None
    assert reused.connect is None and reused.dns is None and reused.ttfb is not None


def test_certificate_fields_read_from_getpeercert() -> None:
    now = ssl.cert_time_to_seconds("Jan  1 00:00:00 2030 GMT")
    cert = certificate_from_dict(
        {
            "notAfter": "Jan 11 00:00:00 2030 GMT",
            "subject": ((("commonName", "api.example"),),),
            "issuer": ((("organizationName", "Example CA"),), (("commonName", "Example R1"),)),
        },
        now,
    )
    assert cert is not None
    assert cert.days_left == 10 and cert.not_after == "2030-01-11T00:00:00+00:00"
    assert cert.subject == "CN=api.example" and cert.issuer == "O=Example CA, CN=Example R1"
    assert certificate_from_dict({"notAfter": "garbage"}, now) is None
