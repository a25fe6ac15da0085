"""`svccheck init` against real loopback services answering on different health paths."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from support.cli import assert_no_traceback, run_cli
from support.real_services import PROMETHEUS_CONFIG, free_port, prometheus_server
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.manifest import load_manifest
from svccheck.manifest.json_schema import manifest_schema
from svccheck.model import HttpRequest

SCHEMA_LINE = "# yaml-language-server: $schema=services.schema.json\n"


async def spring(request: Request) -> Response:
    if request.path == "/actuator/health":
        return json_response({"status": "UP", "components": {"db": {"status": "UP"}}})
    return json_response({"error": "not found"}, status=404)


async def hello_status(request: Request) -> Response:
    """No health format at all: a 2xx on /status with a greeting."""
    if request.path == "/status":
        return Response(200, b"hello", content_type="text/plain")
    return Response(404, b"no", content_type="text/plain")


async def degraded_ietf(request: Request) -> Response:
    if request.path == "/healthz":
        return json_response({"status": "fail"}, status=503, content_type="application/health+json")
    return json_response({}, status=404)


async def nothing(request: Request) -> Response:
    return json_response({}, status=404)


def test_init_discovers_health_paths_and_writes_a_manifest_that_loads(
    servers: ServerThread, tmp_path: Path
) -> None:
    ports = [servers.add(h) for h in (spring, hello_status, degraded_ietf, nothing)]
    refused = free_port()
    urls = [f"http://127.0.0.1:{p}" for p in (*ports, refused)]
    target = tmp_path / "services.yaml"
    result = run_cli("init", *urls, "-f", str(target), cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    text = target.read_text()
    assert text.startswith(SCHEMA_LINE)
    assert (tmp_path / "services.schema.json").is_file()

    manifest = load_manifest(str(target), environ={})
    health = {s.url: s.checks[0] for s in manifest.services}
    assert [s.url for s in manifest.services] == urls
    assert health[urls[0]].url.endswith("/actuator/health") and health[urls[0]].expect is None
    assert health[urls[1]].url.endswith("/status")
    greeter_expect = health[urls[1]].expect
    assert greeter_expect is not None and greeter_expect.body is not None
    assert "status: 200" in text and "body: {contains: hello}" in text
    assert health[urls[2]].url.endswith("/healthz")  # down right now, but it is the health path
    assert health[urls[3]].url.endswith("/health") and "is a guess" in text
    assert health[urls[4]].url.endswith("/health")
    assert "Spring Boot Actuator" in result.stdout and "connection refused" in result.stdout

    data = yaml.safe_load(text)
    assert list(jsonschema.Draft202012Validator(manifest_schema()).iter_errors(data)) == []
    # and it checks: spring and the greeter pass, the rest fail
    checked = run_cli("all", "-f", str(target), "--format", "json", "--retries", "0")
    verdicts = {s["url"]: s["verdict"] for s in json.loads(checked.stdout)["services"]}
    assert verdicts[urls[0]] == "pass" and verdicts[urls[1]] == "pass" and verdicts[urls[2]] == "fail"


def test_init_without_urls_writes_a_template_and_never_overwrites(tmp_path: Path) -> None:
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    target = tmp_path / "services.yaml"
    assert target.read_text().startswith(SCHEMA_LINE)
    assert load_manifest(str(target), environ={}).services[0].name == "api"

    target.write_text("mine\n")
    again = run_cli("init", cwd=tmp_path)
    assert_no_traceback(again)
    assert again.returncode == 2 and "--force" in again.stderr
    assert target.read_text() == "mine\n"
    forced = run_cli("init", "--force", cwd=tmp_path)
    assert forced.returncode == 0 and target.read_text().startswith(SCHEMA_LINE)


def test_init_rejects_bad_urls_and_keeps_passwords_out_of_the_file(
    servers: ServerThread, tmp_path: Path
) -> None:
    bad = run_cli("init", "ftp://example.test", cwd=tmp_path)
    assert bad.returncode == 2 and "bad URL" in bad.stderr
    assert not (tmp_path / "services.yaml").exists()

    port = servers.add(spring)
    result = run_cli("init", f"http://admin:hunter2secret@127.0.0.1:{port}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "services.yaml").read_text()
    assert "hunter2secret" not in text + result.stdout + result.stderr
    assert "${SERVICE_" in text and "_PASSWORD}" in text
    manifest = load_manifest(str(tmp_path / "services.yaml"), environ={f"SERVICE_{port}_PASSWORD": "x"})
    assert manifest.services[0].checks[0].url.endswith("/actuator/health")


def test_insecure_discovery_keeps_verification_on_in_the_file() -> None:
    from svccheck.modes.init import Found, render

    text = render([Found("https://billing.example.test", "/health", 200, "spring")], insecure=True)
    assert "discovered with --insecure" in text
    (service,) = yaml.safe_load(text)["services"].values()
    assert "verify_tls" not in service
    assert "--insecure" not in render([Found("https://billing.example.test", "/health", 200, "spring")])


def test_init_against_a_real_prometheus_writes_a_manifest_that_passes(tmp_path: Path) -> None:
    # Prometheus answers /-/healthy and /-/ready in text, every other well-known path 404 (or its
    # HTML UI): `init` once wrote a /health guess that failed a healthy server
    with prometheus_server(PROMETHEUS_CONFIG, tmp_path) as url:
        target = tmp_path / "services.yaml"
        result = run_cli("init", url, "-f", str(target), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        (service,) = load_manifest(str(target), environ={}).services
        assert service.checks[0].url == f"{url}/-/ready"
        checked = run_cli("all", "-f", str(target), "--format", "json", "--retries", "0")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["services"][0]["verdict"] == "pass"
        # a URL with a path is probed itself, not as a base: no /-/healthy/health
        own = tmp_path / "own.yaml"
        assert run_cli("init", f"{url}/-/healthy", "-f", str(own), cwd=tmp_path).returncode == 0
        (service,) = load_manifest(str(own), environ={}).services
        assert (service.url, service.checks[0].url) == (url, f"{url}/-/healthy")
        assert run_cli("all", "-f", str(own), "--retries", "0").returncode == 0


class Negotiating:
    """Answers as django-health-check does: JSON to `Accept: application/json`, a page otherwise."""

    def __init__(self) -> None:
        self.accepts: list[str] = []

    async def __call__(self, request: Request) -> Response:
        if request.path not in ("/health", "/health/"):
            return Response(404, b"<html>not found</html>", content_type="text/html")
        accept = request.headers.get("accept", "*/*")
        self.accepts.append(accept)
        if "application/json" in accept:
            return json_response({"Cache(alias='default')": "OK", "status": "ok"})
        return Response(200, b"<!DOCTYPE html><html>System status</html>", content_type="text/html")


def test_init_writes_the_accept_header_it_probed_with_on_every_check(
    servers: ServerThread, tmp_path: Path
) -> None:
    negotiating = Negotiating()
    port = servers.add(negotiating)
    target = tmp_path / "services.yaml"
    assert run_cli("init", f"http://127.0.0.1:{port}", "-f", str(target), cwd=tmp_path).returncode == 0
    (service,) = load_manifest(str(target), environ={}).services
    request = service.checks[0].target
    assert isinstance(request, HttpRequest)
    (accept,) = {value for name, value in request.headers if name == "Accept"}
    assert "application/json" in accept
    negotiating.accepts.clear()
    checked = run_cli("all", "-f", str(target), "--format", "json")
    assert json.loads(checked.stdout)["services"][0]["verdict"] == "pass", checked.stdout
    assert negotiating.accepts == [accept]  # `all` asked for the body `init` judged
    story = run_cli("check", service.name, "-f", str(target), "-v")
    assert f'-H "Accept: {accept}"' in story.stdout or f"-H 'Accept: {accept}'" in story.stdout, story.stdout


async def html_only(request: Request) -> Response:
    if request.path == "/status":  # Pushgateway's UI, for a browser
        return Response(
            200, b"<!DOCTYPE html><html>Pushgateway</html>", content_type="text/html; charset=utf-8"
        )
    return Response(404, b"404 page not found", content_type="text/plain")


def test_init_never_takes_an_html_page_for_a_health_endpoint(servers: ServerThread, tmp_path: Path) -> None:
    port = servers.add(html_only)
    target = tmp_path / "services.yaml"
    result = run_cli("init", f"http://127.0.0.1:{port}", "-f", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = target.read_text()
    assert "only HTML pages answered (/status), not a health endpoint" in text + result.stdout
    assert "path: /health" in text and "is a guess" in text
