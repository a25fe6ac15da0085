"""The CLI end to end: real loopback servers, the real process, exit codes and output."""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.cli import assert_no_traceback, cli_env, interrupt_when, run_cli, start_cli
from support.servers import Counting, half_stuck_fleet
from svccheck.demo.server import Raw, Request, Response, ServerThread, hang, json_response

WriteManifest = Callable[..., Path]


async def ok_handler(request: Request) -> Response:
    if request.path == "/health":
        return json_response({"status": "UP"})
    if request.path == "/api/items":
        return json_response({"data": [{"id": 1}, {"id": 2}]})
    return json_response({"error": "not found"}, status=404)


async def never_answers(request: Request) -> Raw:
    return hang()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The JSON report is checked field by field; Any keeps those lookups free of casts.
def report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def check_of(data: dict[str, Any], service: str, check: str = "health") -> dict[str, Any]:
    svc = next(s for s in data["services"] if s["name"] == service)
    return next(c for c in svc["checks"] if c["name"] == check)


def test_healthy_service_passes_with_table(servers: ServerThread, manifest_file: WriteManifest) -> None:
    port = servers.add(ok_handler)
    path = manifest_file(f"""
        services:
          api:
            url: http://127.0.0.1:{port}
            health: /health
            checks:
              - name: items
                path: /api/items
                expect: {{json: {{$.data: {{len: 2}}, '$.data[0].id': 1}}}}
    """)
    result = run_cli("all", "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "api" in result.stdout and "items" in result.stdout and "PASS" in result.stdout
    assert "1/1 services healthy · 2 checks in" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when not a TTY


def test_json_report_has_every_contract_field(servers: ServerThread, manifest_file: WriteManifest) -> None:
    port = servers.add(ok_handler)
    path = manifest_file(f"""
        services:
          api:
            url: http://127.0.0.1:{port}
            tags: [edge]
            health: /health
            checks: [{{name: items, path: /api/items}}]
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    data = report(result)
    assert data["schema"] == "svccheck/report-v1" and data["verdict"] == "pass" and data["exit_code"] == 0
    assert data["summary"]["services"] == 1 and data["summary"]["checks"] == 2
    service = data["services"][0]
    assert {"name", "url", "critical", "verdict", "root_cause", "checks"} <= set(service)
    health = check_of(data, "api")
    assert {"name", "kind", "protocol", "method", "url", "verdict", "status_code", "latency_ms", "attempts",
            "failure_class", "reason", "failures", "components"} <= set(health)  # fmt: skip
    assert health["kind"] == "health" and health["status_code"] == 200 and health["attempts"] == 1
    assert health["protocol"] == "http" and health["method"] == "GET"
    assert check_of(data, "api", "items")["kind"] == "check"


def test_failing_status_fails_with_reason_and_exit_1(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    handler = Counting([500])
    port = servers.add(handler)
    path = manifest_file(f"""
        services:
          pay: {{url: "http://127.0.0.1:{port}", checks: [{{name: charge, path: /x, expect: {{status: 200}}}}]}}
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert result.returncode == 1
    check = check_of(report(result), "pay", "charge")
    assert check["verdict"] == "fail" and check["failure_class"] == "status"
    assert check["reason"] == "expected status 200, got 500"
    assert handler.calls == 1  # a definitive answer is not retried


def test_flaky_endpoint_recovers_and_is_marked(servers: ServerThread, manifest_file: WriteManifest) -> None:
    handler = Counting([503, 503, 200])
    port = servers.add(handler)
    path = manifest_file(f"""
        defaults: {{retries: 2, backoff: 10ms}}
        services:
          flaky: {{url: "http://127.0.0.1:{port}", health: /health}}
    """)
    result = run_cli("all", "-f", str(path), "--json", str(path.parent / "r.json"))
    assert result.returncode == 0, result.stdout
    assert "↻" in result.stdout and "recovered" in result.stdout
    check = check_of(json.loads((path.parent / "r.json").read_text()), "flaky")
    assert check["verdict"] == "pass" and check["attempts"] == 3 and check["recovered"] is True


def test_beyond_retries_fails_with_attempt_count(servers: ServerThread, manifest_file: WriteManifest) -> None:
    handler = Counting([503])
    port = servers.add(handler)
    path = manifest_file(f"""
        defaults: {{retries: 2, backoff: 10ms}}
        services:
          down: {{url: "http://127.0.0.1:{port}", health: /health}}
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    check = check_of(report(result), "down")
    assert result.returncode == 1
    assert check["attempts"] == 3 and handler.calls == 3
    assert check["reason"].endswith("(3 attempts)")


def test_post_is_not_retried_unless_idempotent(servers: ServerThread, manifest_file: WriteManifest) -> None:
    plain, marked = Counting([503]), Counting([503])
    port_a = servers.add(plain)
    port_b = servers.add(marked)
    path = manifest_file(f"""
        defaults: {{retries: 2, backoff: 10ms}}
        services:
          a: {{url: "http://127.0.0.1:{port_a}", checks: [{{method: POST, path: /t}}]}}
          b: {{url: "http://127.0.0.1:{port_b}", checks: [{{method: POST, path: /t, idempotent: true}}]}}
    """)
    run_cli("all", "-f", str(path))
    assert plain.calls == 1 and marked.calls == 3


def test_connection_refused_is_classified(manifest_file: WriteManifest) -> None:
    path = manifest_file(f"""
        defaults: {{retries: 1, backoff: 10ms}}
        services:
          gone: {{url: "http://127.0.0.1:{closed_port()}", health: /health}}
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    check = check_of(report(result), "gone")
    assert result.returncode == 1
    assert check["failure_class"] == "refused" and check["reason"] == "connection refused (2 attempts)"


def test_hanging_endpoint_is_bounded_by_request_timeout(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    port = servers.add(never_answers)
    path = manifest_file(f"""
        defaults: {{timeout: 300ms, retries: 1, backoff: 10ms}}
        services:
          stuck: {{url: "http://127.0.0.1:{port}", health: /health}}
    """)
    started = time.monotonic()
    result = run_cli("all", "-f", str(path), "--format", "json")
    elapsed = time.monotonic() - started
    check = check_of(report(result), "stuck")
    assert (
        check["failure_class"] == "timeout"
        and check["reason"] == "timed out after 300ms waiting for the response (2 attempts)"
    )
    assert elapsed < 10  # generous: the point is that it ends, not how fast


def test_whole_command_deadline_ends_unfinished_checks(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    path, _ = half_stuck_fleet(servers, manifest_file)
    # the bound counts from before the manifest is read: 2 s lets `fast` answer on a loaded CI machine,
    # where 700 ms sometimes ran out first
    result = run_cli("all", "-f", str(path), "--timeout", "2s", "--format", "json", timeout=20)
    data = report(result)
    assert result.returncode == 1
    slow_check = check_of(data, "slow")
    assert slow_check["failure_class"] == "deadline" and slow_check["reason"] == "deadline exceeded"
    assert check_of(data, "fast")["verdict"] == "pass"


def test_health_body_saying_down_fails_with_component(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    async def down(request: Request) -> Response:
        return json_response(
            {"status": "DOWN", "components": {"db": {"status": "DOWN"}, "disk": {"status": "UP"}}}
        )

    port = servers.add(down)
    path = manifest_file(f"""
        services:
          pay: {{url: "http://127.0.0.1:{port}", health: /actuator/health}}
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    check = check_of(report(result), "pay")
    assert result.returncode == 1
    assert check["failure_class"] == "health" and "component db: DOWN" in check["reason"]
    assert {"name": "db", "status": "fail"}.items() <= check["components"][0].items()


def test_non_critical_failure_warns_and_strict_fails(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    port = servers.add(Counting([404]))
    path = manifest_file(f"""
        services:
          extra: {{url: "http://127.0.0.1:{port}", critical: false, checks: [{{path: /x}}]}}
    """)
    lenient = run_cli("all", "-f", str(path), "--format", "json")
    assert lenient.returncode == 0
    check = check_of(report(lenient), "extra", "GET /x")
    assert check["verdict"] == "warn" and check["reason"] == "expected status 2xx, got 404"
    strict = run_cli("all", "-f", str(path), "--strict")
    assert strict.returncode == 1
    assert "1 warning fails the run (--strict): extra/GET /x" in strict.stdout.splitlines()


def test_strict_says_which_warnings_fail_the_run(
    servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path
) -> None:
    # --strict used to exit 1 with the same output as without it (#14)
    missing, up = servers.add(Counting([404])), servers.add(ok_handler)
    extras = "\n".join(
        f'  {name}: {{url: "http://127.0.0.1:{missing}", critical: false, checks: [{{path: /x}}]}}'
        for name in ("a", "b", "c", "d", "e", "f")
    )
    path = manifest_file(f'services:\n  api: {{url: "http://127.0.0.1:{up}", health: /health}}\n{extras}\n')
    line = "6 warnings fail the run (--strict): a/GET /x, b/GET /x, c/GET /x, d/GET /x and 2 more"
    lenient = run_cli("all", "-f", str(path))
    assert lenient.returncode == 0 and "fail the run" not in lenient.stdout
    summary = tmp_path / "step-summary.md"
    strict = run_cli(
        "all", "-f", str(path), "--strict", "--markdown", str(tmp_path / "r.md"), "--github",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert_no_traceback(strict)
    assert strict.returncode == 1
    assert line in strict.stdout.splitlines()
    assert line in (tmp_path / "r.md").read_text() and line in summary.read_text()
    quiet = run_cli("all", "-f", str(path), "--strict", "-q")
    assert quiet.returncode == 1 and line in quiet.stdout.splitlines()

    one = manifest_file(
        f'services:\n  extra: {{url: "http://127.0.0.1:{missing}", critical: false, checks: [{{path: /x}}]}}\n'
        f'  api: {{url: "http://127.0.0.1:{up}", health: /health}}\n'
        f'  gone: {{url: "http://127.0.0.1:{closed_port()}", health: /health, retries: 0}}\n',
        name="one.yaml",
    )
    both = run_cli("all", "-f", str(one), "--strict")
    assert "1 warning also fails the run (--strict): extra/GET /x" in both.stdout.splitlines()


def test_root_cause_across_depends_on(servers: ServerThread, manifest_file: WriteManifest) -> None:
    down = servers.add(Counting([500]))
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          billing: {{url: "http://127.0.0.1:{down}", health: /health, depends_on: [payments]}}
          payments: {{url: "http://127.0.0.1:{down}", health: /health}}
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    data = report(result)
    assert data["root_causes"] == ["payments"]
    assert [s["name"] for s in data["services"]] == ["payments", "billing"]
    assert next(s for s in data["services"] if s["name"] == "billing")["root_cause"] == "payments"
    table = run_cli("all", "-f", str(path))
    assert "↳ caused by payments" in table.stdout and "root cause: payments" in table.stdout


def test_manifest_error_exits_2_with_position(manifest_file: WriteManifest) -> None:
    path = manifest_file("""
        services:
          api:
            url: http://127.0.0.1:1
            helth: /health
    """)
    result = run_cli("all", "-f", str(path))
    assert result.returncode == 2
    assert f"{path}:5:5: unknown key 'helth'" in result.stderr
    assert "nothing was probed" in result.stderr
    assert_no_traceback(result)


def test_usage_errors_exit_2(manifest_file: WriteManifest) -> None:
    path = manifest_file("services:\n  api: {url: 'http://127.0.0.1:1', health: /h}\n")
    unknown = run_cli("check", "apii", "-f", str(path))
    assert unknown.returncode == 2 and "unknown service 'apii' (did you mean 'api'?)" in unknown.stderr
    assert run_cli("all", "-f", str(path), "--env", "prod").returncode == 2
    assert run_cli("all", "-f", str(path), "--timeout", "soon").returncode == 2
    assert run_cli("all", "-f", str(path), "--var", "novalue").returncode == 2
    missing = run_cli("all", "-f", str(path.parent / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    for result in (unknown, missing):
        assert_no_traceback(result)


def test_validate_and_list(manifest_file: WriteManifest) -> None:
    path = manifest_file("""
        services:
          api: {url: "http://127.0.0.1:1", health: /h, tags: [edge], depends_on: [auth]}
          auth: {url: "http://127.0.0.1:2", health: /h, checks: [{path: /x}]}
    """)
    valid = run_cli("validate", "-f", str(path))
    assert valid.returncode == 0 and "ok, 2 services, 3 checks" in valid.stdout
    listed = run_cli("list", "-f", str(path))
    assert listed.returncode == 0
    assert "api" in listed.stdout and "edge" in listed.stdout and "auth" in listed.stdout


def test_version_and_help_document_exit_codes() -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("svccheck ")
    help_text = run_cli("all", "--help").stdout
    assert "130" in help_text and "usage or manifest error" in help_text


def imported_modules(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the CLI under `-X importtime`: its result, and every module the run imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "svccheck", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=60,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return result, modules


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


# jsonschema and the packages it brings: only a manifest with `schema` or `openapi` loads them
CONTRACT_LIBRARIES = frozenset({"jsonschema", "referencing", "rpds", "jsonschema_specifications", "attrs"})


def test_start_up_imports_only_what_the_command_needs(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    # Start-up is most of a small fleet's wall time; what a command imports is its cost, asserted here
    # by module rather than by a timing that would flake.
    port = servers.add(ok_handler)
    path = manifest_file(f"""
        services:
          api: {{url: "http://127.0.0.1:{port}", health: /health, checks: [{{path: /api/items}}]}}
    """)
    result, modules = imported_modules("all", "-f", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["verdict"] == "pass"
    loaded = top_level(modules)
    assert {"httpx", "yaml", "typer"} <= loaded  # the test would pass vacuously without them
    # no validation library; tenacity only once a check retries; no tables for a JSON report
    assert not loaded & {"pydantic", "pydantic_core", "tenacity"}
    assert "rich.table" not in modules
    # opentelemetry (the otlp extra, installed with the tests) only with --otlp: tests/test_otlp.py
    assert "opentelemetry" not in loaded and "svccheck.report.otlp" not in modules
    # trace context costs one small module, on every run that probes HTTP
    assert "svccheck.protocols.trace_context" in modules
    # the JOSE library signs and verifies the demo fleet's JWTs only: a check never loads it
    assert "jwt" not in loaded and "svccheck.demo.tokens" not in modules
    # a manifest without a gRPC service loads no grpcio (nor protobuf): the exchange is never imported
    assert (
        not loaded & {"grpc", "grpc_health", "google"} and "svccheck.protocols.grpc_exchange" not in modules
    )

    if importlib.util.find_spec("grpc") is not None:  # the grpc extra: the same run with a gRPC service
        grpc_path = manifest_file(
            f"""
            services:
              api: {{url: "http://127.0.0.1:{port}", health: /health}}
              ledger: {{url: "grpc://127.0.0.1:1", retries: 0}}
            """,
            "with-grpc.yaml",
        )
        _, grpc_modules = imported_modules("all", "-f", str(grpc_path), "--format", "json")
        assert {"grpc", "grpc_health"} <= top_level(grpc_modules)  # what the first run proved absent
    # no JSON Schema validator nor what it brings, without a `schema` or `openapi` in the manifest
    assert not loaded & CONTRACT_LIBRARIES

    version_result, version_modules = imported_modules("--version")
    assert version_result.returncode == 0 and version_result.stdout.startswith("svccheck ")
    assert not top_level(version_modules) & {"typer", "httpx", "yaml", "rich"}

    # the health readers load with the first health check; a fleet of sample checks never needs them
    checks_only = manifest_file(
        f"""
        services:
          api: {{url: "http://127.0.0.1:{port}", checks: [{{path: /api/items}}]}}
        """,
        "checks-only.yaml",
    )
    checks_result, checks_modules = imported_modules("all", "-f", str(checks_only), "--format", "json")
    assert json.loads(checks_result.stdout)["verdict"] == "pass", checks_result.stderr[-2000:]
    assert "svccheck.judge.evaluate" in checks_modules
    assert not any(name.startswith("svccheck.judge.health") for name in checks_modules)
    assert any(name.startswith("svccheck.judge.health") for name in modules)  # the first run had one

    # reading a manifest asks each protocol for its shape, never for its exchange
    validate_result, validate_modules = imported_modules("validate", "-f", str(path))
    assert validate_result.returncode == 0, validate_result.stderr[-2000:]
    assert "svccheck.protocols.http_shape" in validate_modules  # vacuous without it
    assert not top_level(validate_modules) & {"httpx", "httpcore", "asyncio", "ssl", "rich"}
    assert not any(name.startswith("svccheck.judge.health") for name in validate_modules)

    # reading saved reports back (diff, merge) probes nothing: no HTTP client, no tables for JSON
    saved = path.parent / "saved.json"
    saved.write_text(result.stdout)
    diff_result, diff_modules = imported_modules("diff", str(saved), str(saved), "--format", "json")
    assert json.loads(diff_result.stdout)["changes"]["matched"] == 2, diff_result.stderr[-2000:]
    assert not top_level(diff_modules) & {"httpx", "httpcore", "tenacity"}
    assert "rich.table" not in diff_modules and "svccheck.modes.saved_report" in diff_modules
    # a manifest with a contract loads the validator: the assertions above are not vacuous
    (path.parent / "item.json").write_text('{"type": "object"}')
    contract = manifest_file(
        f"""
        services:
          api: {{url: "http://127.0.0.1:{port}", checks: [{{path: /api/items, expect: {{schema: item.json}}}}]}}
        """,
        "contract.yaml",
    )
    contract_result, contract_modules = imported_modules("all", "-f", str(contract), "--format", "json")
    assert contract_result.returncode in (0, 1), contract_result.stderr[-2000:]
    assert {"jsonschema", "referencing"} <= top_level(contract_modules)
    assert not top_level(validate_modules) & CONTRACT_LIBRARIES

    help_result, help_modules = imported_modules("--help")
    assert help_result.returncode == 0
    assert not top_level(help_modules) & {"httpx", "yaml", "asyncio", "pydantic", "svccheck.manifest"}
    assert not any(name.startswith("svccheck.manifest") for name in help_modules)


@pytest.mark.parametrize(
    ("signum", "code", "label"),
    [(signal.SIGINT, 130, "interrupted (SIGINT)"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
)
@pytest.mark.parametrize("output", ["table", "json"])
def test_signal_prints_partial_results_and_exits_with_its_code(
    servers: ServerThread, manifest_file: WriteManifest, signum: int, code: int, label: str, output: str
) -> None:
    path, reached = half_stuck_fleet(servers, manifest_file)
    report_file = path.parent / "partial.json"
    process = start_cli("all", "-f", str(path), "--json", str(report_file), "--format", output)
    stdout, stderr = interrupt_when(reached, process, signum)
    assert process.returncode == code, stdout + stderr
    if output == "json":
        printed = json.loads(stdout)  # the whole report, not a cut-off one
        assert printed["interrupted"] == label and printed["exit_code"] == code
    else:
        assert f"{label}: partial results" in stdout
    # the report file is whole: written beside, then renamed; no temporary left behind
    assert sorted(p.name for p in report_file.parent.iterdir()) == ["partial.json", "services.yaml"]
    data = json.loads(report_file.read_text())
    assert data["interrupted"] == label and data["exit_code"] == code
    assert check_of(data, "fast")["verdict"] == "pass"
    assert check_of(data, "slow")["verdict"] == "skip"


def test_demo_healthy_and_outage() -> None:
    healthy = run_cli("demo", "--format", "json")
    assert_no_traceback(healthy)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    data = report(healthy)
    # the eleven HTTP services, the gRPC ledger (the grpc extra), and the token request they shared
    assert len(data["services"]) == 13 and data["summary"]["services"] == 12
    token = next(s for s in data["services"] if s["name"] == "auth:smoke")
    assert token["verdict"] == "pass"
    assert all(c["verdict"] in ("pass", "warn") for s in data["services"] for c in s["checks"])
    assert data["summary"]["degraded"] == 1
    ledger = next(s for s in data["services"] if s["name"] == "ledger-service")["checks"][0]
    assert (ledger["protocol"], ledger["verdict"]) == ("grpc", "pass")
    assert [c["name"] for c in ledger["components"]] == ["(server)", "ledger.v1.Ledger", "ledger.v1.Audit"]
    outage = run_cli("demo", "--scenario", "outage", "--format", "json")
    assert outage.returncode == 1
    data = report(outage)
    assert "payment-service" in data["root_causes"]
    billing = next(s for s in data["services"] if s["name"] == "billing-service")
    assert billing["verdict"] == "fail" and billing["root_cause"] == "payment-service"


def test_demo_auth_down_names_the_login_as_the_root_cause() -> None:
    result = run_cli("demo", "--scenario", "auth-down", "--format", "json")
    assert_no_traceback(result)
    assert result.returncode == 1
    data = report(result)
    assert data["root_causes"][0] == "auth:smoke"
    checks = {(s["name"], c["name"]): c for s in data["services"] for c in s["checks"]}
    users = checks[("user-service", "list users")]
    assert (
        users["verdict"] == "skip" and users["reason"] == "needs a token from auth:smoke/token, which failed"
    )
    invoices = checks[("billing-service", "open invoices")]
    assert invoices["reason"] == "needs session from auth-service/issue token, which failed"
    table = run_cli("demo", "--scenario", "auth-down")
    assert "root cause: auth:smoke" in table.stdout and "are skipped because of it" in table.stdout


def test_demo_table_shows_eleven_services() -> None:
    result = run_cli("demo")
    assert result.returncode == 0
    for name in ("api-gateway", "auth-service", "user-service", "tenant-service", "payment-service",
                 "billing-service", "notification-service", "file-service", "analytics-service",
                 "audit-service", "scheduler-service"):  # fmt: skip
        assert name in result.stdout
    assert "11/12 services healthy · 1 degraded" in result.stdout and "ledger-service" in result.stdout


def test_demo_without_the_grpc_extra_says_how_to_add_its_grpc_service() -> None:
    script = (
        "import sys; sys.modules['grpc'] = None; sys.modules['grpc_health'] = None\n"
        "from svccheck.cli import run_app\n"
        "sys.argv = ['svccheck', 'demo']\n"
        "run_app()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=cli_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10/11 services healthy · 1 degraded" in result.stdout and "ledger-service" not in result.stdout
    assert (
        "demo: add a gRPC service (ledger-service) to the fleet with: pip install 'svccheck[grpc]'"
        in result.stderr
    )


def test_root_services_yaml_matches_the_bundled_one() -> None:
    root = Path(__file__).resolve().parent.parent
    bundled = root / "src" / "svccheck" / "demo" / "services.yaml"
    assert (root / "services.yaml").read_text() == bundled.read_text()
    assert run_cli("validate", "-f", str(root / "services.yaml")).returncode == 0


def _option_help(command: str, option: str) -> str:
    import typer
    from typer.core import TyperGroup

    from svccheck.cli import app

    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    [param] = [p for p in group.commands[command].params if option in p.opts]
    return getattr(param, "help", None) or ""


@pytest.mark.parametrize(
    ("command", "bound"),
    [("all", "whole command"), ("check", "whole command"), ("demo", "whole command"),
     ("wait", "whole command"), ("serve", "each round"), ("watch", "each round")],
)  # fmt: skip
def test_timeout_says_whether_it_bounds_the_command_or_each_round(command: str, bound: str) -> None:
    # one flag, two meanings (#13): each command's help says which one it has
    assert _option_help(command, "--timeout").lower().startswith(bound)


def test_settings_handed_to_the_core_are_frozen() -> None:
    import dataclasses

    from svccheck.modes import settings

    groups = [settings.Selection, settings.Probing, settings.Outputs, settings.Display]
    for group in groups:
        assert dataclasses.is_dataclass(group) and group.__dataclass_params__.frozen  # type: ignore[attr-defined]
    probing = settings.Probing(concurrency=5, request_timeout=None, retries=None, insecure=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        probing.concurrency = 6  # type: ignore[misc]


def test_list_shows_tags_as_written_and_masks_url_passwords(manifest_file: WriteManifest) -> None:
    path = manifest_file("""
        services:
          api: {url: "http://user:hunter2-pw@127.0.0.1:1", health: /h, tags: ["[beta]", "[bold]x"]}
    """)
    listed = run_cli("list", "-f", str(path))
    assert listed.returncode == 0, listed.stderr
    assert "[beta], [bold]x" in listed.stdout and "hunter2-pw" not in listed.stdout


def test_an_error_is_reported_once_by_the_command_wrapper_too(manifest_file: WriteManifest) -> None:
    # the CliRunner path (no run_app): the command itself ends with the message and exit 2
    from typer.testing import CliRunner

    from svccheck.cli import app

    path = manifest_file("services:\n  api: {url: 'http://127.0.0.1:1', health: /h}\n")
    result = CliRunner().invoke(app, ["check", "apii", "-f", str(path)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "svccheck: error: unknown service 'apii' (did you mean 'api'?)" in result.output


def test_demo_fleet_that_cannot_start_is_a_usage_error_on_stderr() -> None:
    # one exit-code policy (#13): `svccheck: error: …` on stderr and exit 2, as every other error
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        try:
            taken.bind(("127.0.0.1", 8080))
            taken.listen()
        except OSError:
            pass  # someone else holds it: the fleet cannot start either
        result = run_cli("demo", "--serve", timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("svccheck: error: cannot start the demo fleet on ports 8080-8090")
    assert result.stdout == ""
    assert_no_traceback(result)
