"""Client certificates (mTLS) for https:// and tcp:// with `tls`: real servers that require one.

A server that requires a client certificate passes with one and fails, class
`tls`, without; `check -v` and the curl line name the files, never their
contents; a passphrase is a variable reference.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from support.cli import assert_no_traceback, run_cli
from support.mtls_server import mtls_https_server
from svccheck.report.formats import MACHINE_FORMATS

WriteManifest = Callable[..., Path]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def pem(tmp_path: Path, ca: trustme.CA) -> Path:
    """ca.pem, client.pem, client-key.pem (and client-key-enc.pem, passphrase `hunter2-pass`)."""
    from cryptography.hazmat.primitives import serialization

    client = ca.issue_cert("svccheck@example.test")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    client.private_key_pem.write_to_path(str(tmp_path / "client-key.pem"))
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2-pass"),
    )
    (tmp_path / "client-key-enc.pem").write_bytes(encrypted)
    return tmp_path


def requiring_context(ca: trustme.CA, *, max_tls12: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    if max_tls12:
        # TLS 1.3 refuses a missing certificate after the client's handshake is done; a TCP check
        # that sends nothing would not see it. TLS 1.2 refuses it inside the handshake.
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


@pytest.fixture
def mtls_port(ca: trustme.CA) -> Iterator[int]:
    with mtls_https_server(requiring_context(ca)) as port:
        yield port


def report(path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run_cli("all", "-f", str(path), "--format", "json", *args, env=env)
    assert_no_traceback(result)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def check_of(data: dict[str, Any], service: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["services"] if s["name"] == service)["checks"][0]
    return found


def test_https_server_requiring_a_client_certificate_passes_with_one_and_fails_without(
    mtls_port: int, pem: Path, manifest_file: WriteManifest
) -> None:
    path = manifest_file(f"""
        services:
          with-cert:
            url: https://127.0.0.1:{mtls_port}
            health: /health
            verify_tls: ca.pem
            client_cert: client.pem
            client_key: client-key.pem
          encrypted-key:
            url: https://127.0.0.1:{mtls_port}
            health: /health
            verify_tls: ca.pem
            client_cert: client.pem
            client_key: client-key-enc.pem
            client_key_password: ${{KEY_PASSWORD}}
          without:
            url: https://127.0.0.1:{mtls_port}
            health: /health
            verify_tls: ca.pem
    """)
    data = report(path, env={"KEY_PASSWORD": "hunter2-pass"})
    assert check_of(data, "with-cert")["verdict"] == "pass", check_of(data, "with-cert")["reason"]
    assert check_of(data, "encrypted-key")["verdict"] == "pass", check_of(data, "encrypted-key")["reason"]
    without = check_of(data, "without")
    assert without["failure_class"] == "tls", without["reason"]
    assert "CERTIFICATE_REQUIRED" in without["reason"].upper()


def test_check_v_and_curl_name_the_files_and_hide_the_passphrase(
    mtls_port: int, pem: Path, manifest_file: WriteManifest
) -> None:
    path = manifest_file(f"""
        services:
          api:
            url: https://127.0.0.1:{mtls_port}
            health: /health
            verify_tls: ca.pem
            client_cert: client.pem
            client_key: client-key-enc.pem
            client_key_password: ${{KEY_PASSWORD}}
    """)
    result = run_cli("check", "api", "-v", "-f", str(path), env={"KEY_PASSWORD": "hunter2-pass"})
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout
    curl = next(line.strip() for line in result.stdout.splitlines() if line.strip().startswith("curl "))
    assert (
        f'--cert {pem / "client.pem"} --key {pem / "client-key-enc.pem"} --pass "${{KEY_PASSWORD}}"' in curl
    )
    assert "hunter2-pass" not in result.stdout + result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr


def test_tcp_tls_presents_the_client_certificate(
    ca: trustme.CA, pem: Path, manifest_file: WriteManifest
) -> None:
    with mtls_https_server(requiring_context(ca, max_tls12=True)) as port:
        path = manifest_file(f"""
            services:
              with-cert:
                url: tcp://127.0.0.1:{port}
                tls: true
                verify_tls: ca.pem
                client_cert: client.pem
                client_key: client-key.pem
              without:
                url: tcp://127.0.0.1:{port}
                tls: true
                verify_tls: ca.pem
                retries: 0
        """)
        data = report(path)
        verbose = run_cli("check", "with-cert", "-v", "-f", str(path))
    assert check_of(data, "with-cert")["verdict"] == "pass", check_of(data, "with-cert")["reason"]
    assert check_of(data, "without")["failure_class"] == "tls"
    assert f"present client certificate {pem / 'client.pem'}" in verbose.stdout
    assert f"-cert {pem / 'client.pem'} -key {pem / 'client-key.pem'}" in verbose.stdout  # openssl s_client


def test_misplaced_or_wrong_certificates_are_manifest_errors(pem: Path, manifest_file: WriteManifest) -> None:
    path = manifest_file("""\
        services:
          plain-http:
            url: http://127.0.0.1:8080
            health: /health
            client_cert: client.pem
            client_key: client-key.pem
          plain-tcp:
            url: tcp://127.0.0.1:6379
            client_cert: client.pem
            client_key: client-key.pem
          no-passphrase:
            url: https://127.0.0.1:8443
            health: /health
            client_cert: client.pem
            client_key: client-key-enc.pem
          wrong-passphrase:
            url: https://127.0.0.1:8443
            health: /health
            client_cert: client.pem
            client_key: client-key-enc.pem
            client_key_password: not-it-at-all
    """)
    result = run_cli("validate", "-f", str(path))
    assert_no_traceback(result)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "services.yaml:5:5: a client certificate needs TLS: use https://" in out
    assert "services.yaml:9:5: a client certificate needs TLS: add tls: true" in out
    assert "services.yaml:15:17: client_key is encrypted: give its passphrase as client_key_password" in out
    assert "services.yaml:20:17: client_key cannot be decrypted with client_key_password" in out
    assert "not-it-at-all" not in out


@pytest.mark.parametrize(
    "args", [("all", "--format", f) for f in MACHINE_FORMATS] + [("all",), ("check", "api", "-v")]
)
def test_the_passphrase_is_in_no_output(
    mtls_port: int, pem: Path, manifest_file: WriteManifest, args: tuple[str, ...]
) -> None:
    # the secrets audit for the one secret a client certificate brings: every format, and -v
    path = manifest_file(f"""
        services:
          api:
            url: https://127.0.0.1:{mtls_port}
            health: /health
            verify_tls: ca.pem
            client_cert: client.pem
            client_key: client-key-enc.pem
            client_key_password: ${{KEY_PASSWORD}}
    """)
    result = run_cli(*args, "-f", str(path), env={"KEY_PASSWORD": "hunter2-pass"})
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hunter2-pass" not in result.stdout + result.stderr


def test_the_passphrase_is_in_no_manifest_error(pem: Path, manifest_file: WriteManifest) -> None:
    path = manifest_file("""\
        services:
          api:
            url: https://127.0.0.1:8443
            health: /health
            client_cert: client.pem
            client_key: client-key.pem
            client_key_password: ${KEY_PASSWORD}
            timeout: ${KEY_PASSWORD}
    """)
    result = run_cli("validate", "-f", str(path), env={"KEY_PASSWORD": "hunter2-pass"})
    assert result.returncode == 2
    assert "hunter2-pass" not in result.stdout + result.stderr
