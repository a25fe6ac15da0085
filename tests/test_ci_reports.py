"""Report files and GitHub output from the real CLI against real loopback servers."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from junitparser import Failure, JUnitXml
from prometheus_client.parser import text_string_to_metric_families

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response

WriteManifest = Callable[..., Path]
GOLDEN = Path(__file__).parent / "golden"


async def ok_handler(request: Request) -> Response:
    return json_response({"status": "UP"})


async def down_handler(request: Request) -> Response:
    return json_response({"status": "DOWN", "components": {"db": {"status": "DOWN"}}}, status=503)


def fleet(servers: ServerThread, manifest_file: WriteManifest) -> Path:
    ok, down = servers.add(ok_handler), servers.add(down_handler)
    return manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          api: {{url: "http://127.0.0.1:{ok}", health: /health, depends_on: [payments]}}
          payments: {{url: "http://127.0.0.1:{down}", health: /health}}
    """)


def test_all_writes_every_report_file_at_once(servers: ServerThread, manifest_file: WriteManifest) -> None:
    path = fleet(servers, manifest_file)
    out = path.parent
    result = run_cli(
        "all", "-f", str(path),
        "--json", str(out / "r.json"), "--junit", str(out / "r.xml"),
        "--markdown", str(out / "r.md"), "--prometheus", str(out / "r.prom"),
    )  # fmt: skip
    assert_no_traceback(result)
    assert result.returncode == 1
    assert "payments" in result.stdout  # the table still goes to the terminal
    assert json.loads((out / "r.json").read_text())["verdict"] == "fail"
    suites = {s.name: s for s in JUnitXml.fromfile(str(out / "r.xml"))}
    [payments_case] = list(suites["payments"])
    [failure] = payments_case.result
    assert isinstance(failure, Failure) and failure.type == "health"
    assert failure.message == "HTTP 503, component db: DOWN"
    [api_case] = list(suites["api"])
    assert api_case.is_passed
    markdown = (out / "r.md").read_text()
    assert markdown.startswith("### ❌ svccheck failed") and "component db: DOWN" in markdown
    families = {f.name: f for f in text_string_to_metric_families((out / "r.prom").read_text())}
    up = {
        (s.labels["service"], s.labels.get("class")): s.value for s in families["svccheck_check_up"].samples
    }
    assert up == {("api", None): 1.0, ("payments", "health"): 0.0}
    assert not list(out.glob(".*.tmp"))  # no temporary file left behind


def test_format_on_stdout_for_each_machine_format(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    path = fleet(servers, manifest_file)
    junit = run_cli("all", "-f", str(path), "--format", "junit")
    assert junit.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    prom = run_cli("all", "-f", str(path), "--format", "prometheus")
    names = {f.name for f in text_string_to_metric_families(prom.stdout)}
    assert "svccheck_check_attempts" in names
    markdown = run_cli("all", "-f", str(path), "--format", "markdown")
    assert "| ❌ FAIL | payments | health | 503 |" in markdown.stdout
    assert junit.returncode == prom.returncode == markdown.returncode == 1


def test_github_annotations_and_step_summary(servers: ServerThread, manifest_file: WriteManifest) -> None:
    path = fleet(servers, manifest_file)
    summary = path.parent / "summary.md"
    summary.write_text("## earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    result = run_cli("all", "-f", str(path), env=env)
    assert "::error title=payments / health::[health] HTTP 503, component db: DOWN\n" in result.stdout
    text = summary.read_text()
    assert text.startswith("## earlier step\n### ❌ svccheck failed")
    # a machine format keeps stdout clean: annotations move to stderr
    as_json = run_cli("all", "-f", str(path), "--format", "json", env=env)
    assert json.loads(as_json.stdout)["verdict"] == "fail" and "::error title=payments" in as_json.stderr
    off = run_cli("all", "-f", str(path), "--no-github", env=env)
    assert "::error" not in off.stdout + off.stderr
    forced = run_cli("all", "-f", str(path), "--github")
    assert "::error title=payments" in forced.stdout


def test_secrets_absent_from_every_format(servers: ServerThread, manifest_file: WriteManifest) -> None:
    async def echo(request: Request) -> Response:
        return Response(401, json.dumps({"error": f"bad token {request.headers.get('authorization')}"}))

    port = servers.add(echo)
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          api:
            url: http://user:pw-Hunter2-xyz@127.0.0.1:{port}
            checks:
              - path: /x?access_token=qtok-77z
                headers: {{Authorization: "Bearer ${{SMOKE_TOKEN}}"}}
                expect: {{status: 200, body: {{contains: "${{SMOKE_TOKEN}}"}}}}
    """)
    secret = "tok-SUPER-secret-123"
    out = path.parent
    summary = out / "summary.md"
    env = {"SMOKE_TOKEN": secret, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    texts = []
    for fmt in ("table", "json", "junit", "markdown", "prometheus"):
        result = run_cli(
            "all", "-f", str(path), "--format", fmt, "-v",
            "--json", str(out / "r.json"), "--junit", str(out / "r.xml"),
            "--markdown", str(out / "r.md"), "--prometheus", str(out / "r.prom"), env=env,
        )  # fmt: skip
        assert result.returncode == 1
        texts.append(result.stdout + result.stderr)
        texts.extend((out / name).read_text() for name in ("r.json", "r.xml", "r.md", "r.prom"))
    texts.append(summary.read_text())
    joined = "\n".join(texts)
    assert "expected status 200, got 401" in joined  # the run really reached the server
    for leaked in (secret, "pw-Hunter2-xyz", "qtok-77z"):
        assert leaked not in joined


def test_markdown_from_the_cli_matches_golden_file(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    ok, down = servers.add(ok_handler), servers.add(down_handler)
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          billing: {{url: "http://127.0.0.1:{down}", health: /health, depends_on: [payments]}}
          payments: {{url: "http://127.0.0.1:{down}", health: /health}}
          users: {{url: "http://127.0.0.1:{ok}", health: /health, checks: [{{name: "list | users", path: /u}}]}}
    """)
    result = run_cli("all", "-f", str(path), "--format", "markdown")
    assert result.returncode == 1
    # latencies and the run's duration vary: normalised, everything else is exact
    text = re.sub(r"\| \d+ms \|", "| Nms |", result.stdout)
    text = re.sub(r"checks in \d+\.\d+s", "checks in N.NNs", text)
    text = re.sub(r"`[0-9a-f]{32}`", "`TRACE_ID`", text)  # a new trace id on every run
    golden = GOLDEN / "cli_report.md"
    if os.environ.get("SVCCHECK_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_location_is_recorded_in_the_json_report_and_on_every_prometheus_series(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    path = fleet(servers, manifest_file)
    out = path.parent
    result = run_cli(
        "all", "-f", str(path), "--location", "eu-west",
        "--json", str(out / "r.json"), "--prometheus", str(out / "r.prom"),
    )  # fmt: skip
    assert_no_traceback(result)
    assert json.loads((out / "r.json").read_text())["location"] == "eu-west"
    samples = [s for f in text_string_to_metric_families((out / "r.prom").read_text()) for s in f.samples]
    assert samples and all(s.labels.get("location") == "eu-west" for s in samples)
    unnamed = run_cli("all", "-f", str(path), "--format", "json")
    assert json.loads(unnamed.stdout)["location"] is None
    bad = run_cli("all", "-f", str(path), "--location", "a\nb")
    assert_no_traceback(bad)
    assert bad.returncode == 2 and "--location" in bad.stderr
