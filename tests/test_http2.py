"""`http2: true`: h2 offered in the TLS handshake, used when the server picks it; JSON and -v say which."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from support.cli import assert_no_traceback, run_cli
from support.h2_server import h2_server

WriteManifest = Callable[..., Path]


@pytest.fixture(scope="module")
def h2_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("h2")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    with h2_server(ca, folder) as port:
        yield port, folder / "ca.pem"


def test_http2_is_used_when_asked_and_http1_otherwise(
    h2_port: tuple[int, Path], manifest_file: WriteManifest
) -> None:
    port, ca = h2_port
    path = manifest_file(f"""
        defaults: {{verify_tls: {ca}}}
        services:
          h2:
            url: https://127.0.0.1:{port}
            http2: true
            health: {{path: /health, expect: {{json: {{$.http_version: "2"}}}}}}
          h1:
            url: https://127.0.0.1:{port}
            health: {{path: /health, expect: {{json: {{$.http_version: "1.1"}}}}}}
          h2-check-only:
            url: https://127.0.0.1:{port}
            checks: [{{path: /x, http2: true, expect: {{json: {{$.http_version: "2"}}}}}}]
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert_no_traceback(result)
    data = json.loads(result.stdout)
    versions = {s["name"]: (s["verdict"], s["checks"][0]["http_version"]) for s in data["services"]}
    assert versions == {
        "h2": ("pass", "HTTP/2"),
        "h1": ("pass", "HTTP/1.1"),
        "h2-check-only": ("pass", "HTTP/2"),
    }
    verbose = run_cli("check", "h2", "-v", "-f", str(path))
    assert "HTTP/2 200" in verbose.stdout, verbose.stdout


def test_http2_is_an_https_setting_not_a_tcp_or_grpc_one(manifest_file: WriteManifest) -> None:
    path = manifest_file("""\
        services:
          cache: {url: "tcp://127.0.0.1:6379", http2: true}
    """)
    result = run_cli("validate", "-f", str(path))
    assert result.returncode == 2
    assert (
        "services.yaml:2:40: 'http2' is for HTTP checks, an unknown key for a tcp:// service"
        in result.stdout + result.stderr
    )


def test_without_h2_http2_is_a_manifest_error_naming_the_extra(tmp_path: Path) -> None:
    import subprocess
    import sys

    manifest = tmp_path / "services.yaml"
    manifest.write_text(
        "defaults: {http2: true}\nservices:\n  web: {url: 'https://127.0.0.1:8443', health: /h}\n"
    )
    script = (
        "import sys; sys.modules['h2'] = None\n"
        "from svccheck.cli import run_app\n"
        f"sys.argv = ['svccheck', 'validate', '-f', {str(manifest)!r}]\n"
        "run_app()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "services.yaml:1:19: http2: true needs the h2 package: pip install 'svccheck[http2]'" in result.stderr
    )
