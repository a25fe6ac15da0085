"""`svccheck init` against real loopback services answering on different health paths."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from support.cli import assert_no_traceback, run_cli
from support.real_services import free_port
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.manifest import load_manifest
from svccheck.manifest.json_schema import manifest_schema

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
