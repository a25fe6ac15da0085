"""A real grpcio server with the standard health servicer, on loopback: plain, TLS or mTLS.

Some of its services are SERVING and some are not (`STATUSES`); certificates
come from trustme and are written to a folder, as a manifest names them. The
tests that use it skip when the `grpc` extra is not installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

grpc = pytest.importorskip("grpc", reason="install the grpc extra: pip install 'svccheck[grpc]'")
health = pytest.importorskip(
    "grpc_health.v1.health", reason="install the grpc extra: pip install 'svccheck[grpc]'"
)
health_pb2 = pytest.importorskip("grpc_health.v1.health_pb2")
health_pb2_grpc = pytest.importorskip("grpc_health.v1.health_pb2_grpc")

# the server overall ("") is SERVING, as the standard servicer starts it
STATUSES = {
    "ledger.v1.Ledger": "SERVING",
    "ledger.v1.Audit": "NOT_SERVING",
}


@dataclass(frozen=True)
class TlsFiles:
    """PEM files a manifest names: the CA, the client's certificate and key (and a stranger's)."""

    ca: Path
    client_cert: Path
    client_key: Path
    other_key: Path


def tls_files(folder: Path, ca: trustme.CA) -> TlsFiles:
    client = ca.issue_cert("svccheck@example.test")
    other = ca.issue_cert("someone-else@example.test")
    files = TlsFiles(
        folder / "ca.pem", folder / "client.pem", folder / "client-key.pem", folder / "other-key.pem"
    )
    ca.cert_pem.write_to_path(str(files.ca))
    client.cert_chain_pems[0].write_to_path(str(files.client_cert))
    client.private_key_pem.write_to_path(str(files.client_key))
    other.private_key_pem.write_to_path(str(files.other_key))
    return files


@contextlib.contextmanager
def grpc_health_server(
    ca: trustme.CA | None = None, *, require_client_cert: bool = False, health_service: bool = True
) -> Iterator[int]:
    """A grpcio server on 127.0.0.1, its port yielded; TLS when given a CA, mTLS when asked."""
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    if health_service:
        servicer = health.HealthServicer()
        for name, status in STATUSES.items():
            servicer.set(name, health_pb2.HealthCheckResponse.ServingStatus.Value(status))
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    if ca is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        cert = ca.issue_cert("127.0.0.1", "localhost")
        credentials = grpc.ssl_server_credentials(
            [(cert.private_key_pem.bytes(), b"".join(p.bytes() for p in cert.cert_chain_pems))],
            root_certificates=ca.cert_pem.bytes() if require_client_cert else None,
            require_client_auth=require_client_cert,
        )
        port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None).wait(5)
