"""The demo's gRPC service, `ledger-service`: a grpcio server with the standard health servicer.

Only with the `grpc` extra installed (`ledger_available`); `svccheck demo` then adds it to
the bundled manifest's fleet, and without it says how to add it. Its services are
SERVING in every scenario, so the scenarios' root causes stay what they are.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator

from svccheck.model import Manifest, Service

NAME = "ledger-service"
EXTRA = "svccheck[grpc]"
GRPC_SERVICES = ("", "ledger.v1.Ledger", "ledger.v1.Audit")
HINT = f"demo: add a gRPC service ({NAME}) to the fleet with: pip install '{EXTRA}'"


def ledger_available() -> bool:
    """Whether grpcio and its health stubs can be imported (found without importing them)."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in ("grpc", "grpc_health"))
    except (ImportError, ValueError):  # ValueError: hidden (`sys.modules[name] = None`)
        return False


@contextlib.contextmanager
def ledger_server(host: str = "127.0.0.1") -> Iterator[int]:
    """The ledger's gRPC health server on loopback, its port yielded."""
    from concurrent import futures

    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    for name in GRPC_SERVICES[1:]:
        servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port(f"{host}:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None).wait(5)


def with_ledger(manifest: Manifest, port: int) -> Manifest:
    """The manifest with `ledger-service` added, checked like the fleet's HTTP services."""
    import dataclasses

    from svccheck.manifest import parse_manifest

    listed = ", ".join(f'"{name}"' for name in GRPC_SERVICES)
    text = (
        "defaults: {timeout: 2s, retries: 2, backoff: 200ms}\n"
        "services:\n"
        f"  {NAME}:\n"
        f"    url: grpc://127.0.0.1:{port}\n"
        "    tags: [core]\n"
        f"    grpc: {{services: [{listed}]}}\n"
        "    health: {expect: {max_latency: 1s}}\n"
    )
    ledger: tuple[Service, ...] = parse_manifest(text, manifest.path, environ={}).services
    return dataclasses.replace(manifest, services=(*manifest.services, *ledger))
