"""TLS trust: the system store (via truststore) and certifi by default, or exactly a CA bundle."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
import trustme
import truststore

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest
from svccheck.protocols import tls
from svccheck.protocols.tls import ssl_context as _ssl_context


async def ok(request: Request) -> Response:
    return json_response({"status": "UP"})


@pytest.fixture
def corporate_ca() -> trustme.CA:
    return trustme.CA(organization_name="Example Corp Internal CA")


@pytest.fixture
def internal_service(corporate_ca: trustme.CA, servers: ServerThread) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    corporate_ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    yield servers.add(ok, tls=context)


def test_default_context_is_a_truststore_context() -> None:
    context = _ssl_context(True)
    assert isinstance(context, truststore.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_certifi_roots_are_trusted_on_top_of_the_system_store(
    corporate_ca: trustme.CA, internal_service: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stand the corporate CA in for certifi's bundle: the default context must trust it.
    bundle = tmp_path / "cacert.pem"
    corporate_ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setattr(certifi, "where", lambda: str(bundle))
    monkeypatch.setattr(tls, "_context_cache", {})
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "empty-system-store"))
    manifest = parse_manifest(
        f"services:\n  internal: {{url: 'https://localhost:{internal_service}', health: /health, retries: 0}}\n",
        "services.yaml",
        environ={},
    )
    report = asyncio.run(execute(manifest.services, ProbeSettings()))
    check = report.services[0].checks[0]
    assert check.verdict == "pass", check.reason


def test_a_ca_bundle_is_trusted_exactly(corporate_ca: trustme.CA, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    corporate_ca.cert_pem.write_to_path(str(bundle))
    context = _ssl_context(str(bundle))
    assert not isinstance(context, truststore.SSLContext)
    assert len(context.get_ca_certs()) == 1


def test_a_ca_in_the_system_store_is_trusted_without_flags(
    corporate_ca: trustme.CA, internal_service: int, manifest_file: object, tmp_path: Path
) -> None:
    # OpenSSL's system store is where SSL_CERT_FILE points: a store holding only the corporate CA
    # stands in for a machine whose administrators installed it.
    store = tmp_path / "system-store.pem"
    corporate_ca.cert_pem.write_to_path(str(store))
    path = manifest_file(  # type: ignore[operator]
        f"""
        defaults: {{retries: 0}}
        services:
          internal: {{url: "https://localhost:{internal_service}", health: /health}}
        """
    )
    trusted = run_cli("all", "-f", str(path), "--format", "json", env={"SSL_CERT_FILE": str(store)})
    assert_no_traceback(trusted)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert json.loads(trusted.stdout)["tls_unverified"] == []

    untrusted = run_cli(
        "all", "-f", str(path), "--format", "json", env={"SSL_CERT_FILE": str(tmp_path / "none")}
    )
    assert untrusted.returncode == 1
    check = json.loads(untrusted.stdout)["services"][0]["checks"][0]
    assert check["failure_class"] == "tls" and "certificate verify failed" in check["reason"]


def test_a_ca_bundle_in_the_manifest_still_works(
    corporate_ca: trustme.CA, internal_service: int, manifest_file: object, tmp_path: Path
) -> None:
    corporate_ca.cert_pem.write_to_path(str(tmp_path / "corp-ca.pem"))
    path = manifest_file(  # type: ignore[operator]
        f"""
        services:
          internal: {{url: "https://localhost:{internal_service}", health: /health, verify_tls: corp-ca.pem}}
        """
    )
    result = run_cli("all", "-f", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
