"""tcp:// services against real servers: Redis, PostgreSQL, a plain listener, TLS, a closed port."""

from __future__ import annotations

import asyncio
import json
import socketserver
import ssl
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from support.cli import assert_no_traceback, run_cli
from support.real_services import free_port, postgres_server, redis_server, write_tls_files
from support.servers import tcp_listener
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import ManifestError, parse_manifest
from svccheck.model import CheckResult, Report


def run_manifest(text: str, path: str = "services.yaml", **settings: object) -> Report:
    manifest = parse_manifest(textwrap.dedent(text), path, environ={})
    return asyncio.run(execute(manifest.services, ProbeSettings(**settings)))  # type: ignore[arg-type]


def results(report: Report) -> dict[str, CheckResult]:
    return {s.service.name: s.checks[0] for s in report.services}


class _Flood(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"+" + b"x" * 100_000)  # a line with no end, past asyncio's 64 KiB


@pytest.fixture
def flood_port() -> Iterator[int]:
    with tcp_listener(_Flood) as port:
        yield port


async def hello(request: Request) -> Response:
    return json_response({"status": "ok"})


def test_redis_and_postgres_answer_their_pings(redis_port: int, postgres_port: int) -> None:
    report = run_manifest(f"""
        services:
          cache: {{url: "tcp://127.0.0.1:{redis_port}", protocol: redis}}
          db: {{url: "tcp://127.0.0.1:{postgres_port}", protocol: postgres}}
          cache-port: {{url: "tcp://127.0.0.1:{redis_port}"}}
    """)
    by_name = results(report)
    for name in ("cache", "db", "cache-port"):
        assert by_name[name].verdict == "pass", by_name[name].reason
        assert by_name[name].status_code is None
        assert by_name[name].latency is not None
    assert by_name["cache"].check.name == "redis" and by_name["db"].check.name == "postgres"
    assert report.exit_code == 0


def test_open_port_is_not_a_working_service(redis_port: int, postgres_port: int, banner_port: int) -> None:
    report = run_manifest(f"""
        defaults: {{retries: 0, timeout: 2s}}
        services:
          redis-on-pg: {{url: "tcp://127.0.0.1:{postgres_port}", protocol: redis}}
          pg-on-banner: {{url: "tcp://127.0.0.1:{banner_port}", protocol: postgres}}
          redis-on-banner: {{url: "tcp://127.0.0.1:{banner_port}", protocol: redis}}
          banner: {{url: "tcp://127.0.0.1:{banner_port}"}}
    """)
    by_name = results(report)
    assert by_name["banner"].verdict == "pass"  # without a protocol, an open port is all we ask
    for name in ("redis-on-pg", "pg-on-banner", "redis-on-banner"):
        assert by_name[name].verdict == "fail", name
        assert by_name[name].failure_class in ("protocol", "timeout"), by_name[name].reason
    assert "not a PostgreSQL server" in (by_name["pg-on-banner"].reason or "")
    assert "not a Redis server" in (by_name["redis-on-banner"].reason or "")
    assert "220 mail.example" in (by_name["redis-on-banner"].reason or "")


def test_an_endless_answer_line_is_not_redis(flood_port: int) -> None:
    report = run_manifest(f"""
        defaults: {{retries: 0, timeout: 2s}}
        services:
          flood: {{url: "tcp://127.0.0.1:{flood_port}", protocol: redis}}
    """)
    flood = results(report)["flood"]
    assert (flood.verdict, flood.failure_class) == ("fail", "protocol")
    assert flood.reason == "not a Redis server: PING answered with a line of over 64 KiB", flood.reason


def test_refused_port_is_retried_and_classified() -> None:
    port = free_port()
    report = run_manifest(f"""
        services:
          gone: {{url: "tcp://127.0.0.1:{port}", protocol: redis, retries: 2, backoff: 10ms}}
    """)
    (check,) = results(report).values()
    assert check.verdict == "fail" and check.failure_class == "refused"
    assert check.attempts == 3
    assert check.reason == "connection refused (3 attempts)"
    assert report.exit_code == 1


def test_non_critical_tcp_failure_warns_and_depends_on_names_the_root_cause(servers: ServerThread) -> None:
    async def unavailable(request: Request) -> Response:
        return json_response({"status": "DOWN"}, status=503)

    port = free_port()
    report = run_manifest(f"""
        defaults: {{retries: 0}}
        services:
          db: {{url: "tcp://127.0.0.1:{port}", protocol: postgres}}
          cache: {{url: "tcp://127.0.0.1:{port}", critical: false}}
          app: {{url: "http://127.0.0.1:{servers.add(unavailable)}", health: /h, depends_on: [db]}}
          worker: {{url: "tcp://127.0.0.1:{port}", depends_on: [db]}}
    """)
    by_name = results(report)
    assert by_name["cache"].verdict == "warn"
    assert by_name["db"].verdict == "fail"
    assert report.root_causes == ("db",)
    # app answered 503: db may be why; worker's port refused: that is worker's own (#12)
    causes = {s.service.name: s.root_cause for s in report.services}
    assert causes == {"db": None, "cache": None, "app": "db", "worker": None}


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


def test_tls_handshake_is_verified(tls_ca: trustme.CA, servers: ServerThread, tmp_path: Path) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    tls_port = servers.add(hello, tls=context)
    plain_port = servers.add(hello)
    tls_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    report = run_manifest(
        f"""
        defaults: {{retries: 0, timeout: 1s}}
        services:
          trusted: {{url: "tcp://localhost:{tls_port}", tls: true, verify_tls: ca.pem}}
          untrusted: {{url: "tcp://localhost:{tls_port}", tls: true}}
          unchecked: {{url: "tcp://localhost:{tls_port}", tls: true, verify_tls: false}}
          not-tls: {{url: "tcp://localhost:{plain_port}", tls: true, verify_tls: ca.pem}}
        """,
        path=str(tmp_path / "services.yaml"),
    )
    by_name = results(report)
    assert by_name["trusted"].verdict == "pass", by_name["trusted"].reason
    assert by_name["unchecked"].verdict == "pass"
    assert by_name["untrusted"].failure_class == "tls"
    assert "certificate verify failed" in (by_name["untrusted"].reason or "")
    assert by_name["not-tls"].verdict == "fail"
    assert by_name["not-tls"].failure_class in ("tls", "protocol", "timeout")
    assert report.tls_unverified == ("unchecked/connect",)


def test_cli_reports_tcp_checks_in_json_and_table(redis_port: int, manifest_file: object) -> None:
    path = manifest_file(  # type: ignore[operator]
        f"""
        services:
          cache:
            url: tcp://127.0.0.1:{redis_port}
            protocol: redis
            health: {{expect: {{max_latency: 5s}}}}
        """
    )
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    (check,) = json.loads(result.stdout)["services"][0]["checks"]
    # the JSON report records what a TCP check sends, not an HTTP method it never used
    assert check["protocol"] == "tcp" and check["ping"] == "redis" and check["over_tls"] is False
    assert check["method"] is None and check["url"] == f"tcp://127.0.0.1:{redis_port}"
    table = run_cli("check", "cache", "-f", str(path), "-v")
    assert table.returncode == 0 and "PASS" in table.stdout


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("headers: {X-Token: abc}", "4:5: 'headers' is for HTTP checks"),
        ("health: /health", "4:13: a health path is for HTTP checks"),
        ("health: {path: /h}", "4:14: 'path' is for HTTP checks"),
        ("checks: [{path: /x}]", "4:5: 'checks' is for HTTP checks"),
        ("health: {method: POST}", "4:14: 'method' is for HTTP checks"),
        ("health: {expect: {json: {$.a: 1}}}", "4:23: 'json' is for HTTP checks"),
        ("health: {expect: {status: 200}}", "4:23: 'status' is for HTTP checks"),
    ],
)
def test_http_keys_on_a_tcp_service_are_errors_with_position(service: str, message: str) -> None:
    text = f"services:\n  cache:\n    url: tcp://127.0.0.1:6379\n    {service}\n"
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "services.yaml", environ={})
    rendered = caught.value.render()
    assert f"services.yaml:{message}" in rendered, rendered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url: tcp://127.0.0.1", "a TCP check is tcp://host:port"),
        ("url: tcp://127.0.0.1:6379/db", "a TCP check is tcp://host:port"),
        ("url: tcp://127.0.0.1:6379\n    protocol: mysql", "'redis' or 'postgres'"),
        ("url: http://127.0.0.1:80\n    health: /\n    tls: true", "'tls' is for tcp:// services"),
    ],
)
def test_bad_tcp_services_are_errors(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(f"services:\n  s:\n    {text}\n", "services.yaml", environ={})
    assert message in caught.value.render()


def test_redis_asking_for_a_password_is_answering() -> None:
    with redis_server("--requirepass", "not-needed-for-ping") as port:
        report = run_manifest(f'services:\n  cache: {{url: "tcp://127.0.0.1:{port}", protocol: redis}}\n')
    (check,) = results(report).values()
    assert check.verdict == "pass", check.reason


def test_redis_over_tls_is_verified(tls_ca: trustme.CA, tmp_path: Path) -> None:
    tls_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with redis_server(tls=write_tls_files(tls_ca, tmp_path)) as port:
        report = run_manifest(
            f"""
            defaults: {{retries: 0, timeout: 3s}}
            services:
              trusted: {{url: "tcp://localhost:{port}", protocol: redis, tls: true, verify_tls: ca.pem}}
              untrusted: {{url: "tcp://localhost:{port}", protocol: redis, tls: true}}
              plain-to-tls: {{url: "tcp://localhost:{port}", protocol: redis}}
            """,
            path=str(tmp_path / "services.yaml"),
        )
    by_name = results(report)
    assert by_name["trusted"].verdict == "pass", by_name["trusted"].reason
    assert by_name["untrusted"].failure_class == "tls"
    assert by_name["plain-to-tls"].verdict == "fail"


def test_postgres_tls_after_the_ssl_request(tls_ca: trustme.CA, postgres_port: int, tmp_path: Path) -> None:
    tls_ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with postgres_server(ca=tls_ca) as tls_port:
        report = run_manifest(
            f"""
            defaults: {{retries: 0, timeout: 3s, verify_tls: ca.pem}}
            services:
              db-tls: {{url: "tcp://localhost:{tls_port}", protocol: postgres, tls: true}}
              db-tls-untrusted: {{url: "tcp://localhost:{tls_port}", protocol: postgres, tls: true, verify_tls: true}}
              db-without-tls: {{url: "tcp://localhost:{postgres_port}", protocol: postgres, tls: true}}
            """,
            path=str(tmp_path / "services.yaml"),
        )
    by_name = results(report)
    assert by_name["db-tls"].verdict == "pass", by_name["db-tls"].reason
    assert by_name["db-tls-untrusted"].failure_class == "tls"
    assert by_name["db-without-tls"].failure_class == "tls"
    assert "does not offer TLS" in (by_name["db-without-tls"].reason or "")
