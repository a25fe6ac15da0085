"""The gRPC exchange, on grpcio's asyncio API: loaded once a run has a grpc:// or grpcs:// check.

One channel per attempt (a health check measures a fresh connection, as
grpc-health-probe does), one `Health/Check` per listed service on it, each
bounded by what is left of the attempt's time. A service the server does not
know (the standard servicer answers NOT_FOUND) is `SERVICE_UNKNOWN`, a
component that fails like `NOT_SERVING`; every other gRPC error ends the
attempt and is classified here: `UNAVAILABLE` as what it really was (refused,
DNS, TLS, a timeout while connecting), `DEADLINE_EXCEEDED` as a timeout,
`UNIMPLEMENTED` as a server without the health service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from pathlib import Path

# grpcio's C core logs each failed handshake at INFO on stderr, beside svccheck's own report
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import grpc  # after its log level is set
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from svccheck.model import Answer, Certificate, Check, ClientCertificate, FailureClass, GrpcTarget
from svccheck.protocols.base import Connector, Exchange, own_target
from svccheck.protocols.timing import CONNECTING, WAITING

HEALTH_METHOD = "grpc.health.v1.Health/Check"
SERVING = "SERVING"
_UNKNOWN_SERVICE = "SERVICE_UNKNOWN"
# no proxy from the environment, no retries of grpcio's own beneath the engine's, and connections
# of this channel's own: grpcio's process-wide subchannel pool gave a check without a client
# certificate the connection another check had opened with one
_OPTIONS = (("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0), ("grpc.use_local_subchannel_pool", 1))


class GrpcConnector(Connector):
    """Channels live for one attempt; credentials are built once per TLS setting."""

    def __init__(self) -> None:
        self._credentials: dict[tuple[bool | str, ClientCertificate | None], grpc.ChannelCredentials] = {}

    async def exchange(self, check: Check, attempt: Exchange) -> Answer:
        target = own_target(check, GrpcTarget)
        trace = attempt.trace
        start = trace.start
        trace.phase = CONNECTING
        host = f"[{target.host}]" if ":" in target.host else target.host
        target_address = f"{host}:{target.port}"
        if target.tls:
            channel = grpc.aio.secure_channel(
                target_address, self._credentials_for(attempt.verify, target), _OPTIONS
            )
        else:
            channel = grpc.aio.insecure_channel(target_address, _OPTIONS)
        statuses: list[dict[str, str]] = []
        async with channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in target.services:
                left = max(0.001, attempt.timeout - (time.perf_counter() - start))
                try:
                    word = await _check(stub, service, left)
                except grpc.aio.AioRpcError as exc:
                    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                        raise TimeoutError from exc  # the attempt's time ran out: the engine says so
                    raise GrpcFailure(*classify(exc, target)) from None
                statuses.append({"service": service, "status": word})
                trace.phase = WAITING
        latency = time.perf_counter() - start
        certificate = None
        if target.tls and check.expect is not None and _reads_certificate(check):
            certificate = await _peer_certificate(target, attempt.verify)
        return Answer(
            status_text=_status_text([s["status"] for s in statuses]),
            headers=(),
            body=json.dumps({"services": statuses}).encode(),
            truncated=False,
            latency=latency,
            version="HTTP/2",
            url=check.url,
            certificate=certificate,
        )

    def _credentials_for(self, verify: bool | str, target: GrpcTarget) -> grpc.ChannelCredentials:
        key = (verify, target.client_cert)
        credentials = self._credentials.get(key)
        if credentials is None:
            roots = Path(verify).read_bytes() if isinstance(verify, str) else None  # None: grpcio's roots
            client = target.client_cert
            credentials = self._credentials[key] = grpc.ssl_channel_credentials(
                root_certificates=roots,
                private_key=None if client is None else _private_key(client),
                certificate_chain=None if client is None else Path(client.cert).read_bytes(),
            )
        return credentials


async def _check(stub: health_pb2_grpc.HealthStub, service: str, seconds_left: float) -> str:
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=seconds_left)
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return _UNKNOWN_SERVICE  # the standard servicer's answer for a name it does not serve
        raise
    status: int = reply.status
    try:
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(status))
    except ValueError:
        return f"status {status}"  # a number the protocol does not define: never a pass


def _status_text(words: list[str]) -> str:
    """`SERVING`, or `NOT_SERVING`, or `2 of 3 SERVING` when the services disagree."""
    if len(set(words)) == 1:
        return words[0]
    return f"{words.count(SERVING)} of {len(words)} {SERVING}"


def _private_key(client: ClientCertificate) -> bytes:
    data = Path(client.key).read_bytes()
    if client.password is None:
        return data
    # grpcio takes no passphrase: the key is decrypted here, in memory, never written anywhere
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(data, password=client.password.encode())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _reads_certificate(check: Check) -> bool:
    expect = check.expect
    return expect is not None and (expect.tls_min_days is not None or expect.tls_warn_days is not None)


async def _peer_certificate(target: GrpcTarget, verify: bool | str) -> Certificate | None:
    """The server's certificate, from a handshake of svccheck's own: grpcio shows a client none."""
    import ssl

    from svccheck.protocols.certificate import certificate_from_dict

    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    context.set_alpn_protocols(["h2"])
    if target.client_cert is not None:
        client = target.client_cert
        context.load_cert_chain(client.cert, client.key, password=client.password)
    _, writer = await asyncio.open_connection(
        target.host, target.port, ssl=context, server_hostname=target.host
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        cert = ssl_object.getpeercert() if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(Exception):  # the certificate is read; a messy close changes nothing
            await writer.wait_closed()
    return certificate_from_dict(cert, time.time()) if cert else None


class GrpcFailure(Exception):
    """A gRPC status that ends the attempt, read for what it means: a verdict, never a traceback."""

    def __init__(self, failure_class: FailureClass, reason: str) -> None:
        super().__init__(reason)
        self.failure_class = failure_class
        self.reason = reason


_OPENSSL_REASON = re.compile(r"OPENSSL_internal:([A-Z0-9_]+)")


def classify(exc: grpc.aio.AioRpcError, target: GrpcTarget) -> tuple[FailureClass, str]:
    """A gRPC status → a failure class and a reason; `UNAVAILABLE` read for what really happened."""
    code = exc.code()
    text = (exc.details() or "").strip()
    details = text.splitlines()[0][:200] if text else ""
    lowered = details.lower()
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return FailureClass.PROTOCOL, f"the server has no health service ({HEALTH_METHOD} is UNIMPLEMENTED)"
    if code == grpc.StatusCode.UNAVAILABLE:
        if "connection refused" in lowered:
            return FailureClass.REFUSED, "connection refused"
        if "dns resolution failed" in lowered or "name or service not known" in lowered:
            return FailureClass.DNS, f"DNS lookup failed: {details}"
        if "handshake failed" in lowered:
            found = _OPENSSL_REASON.search(text)
            return FailureClass.TLS, "TLS handshake failed" + (f": {found.group(1)}" if found else "")
        if target.tls and "socket closed" in lowered:
            # TLS 1.3: the server checks the client's certificate after the client's handshake is done
            wants = "presented none" if target.client_cert is None else "refused the one presented"
            return FailureClass.TLS, (
                f"the server closed the connection after the TLS handshake: it may want a client certificate "
                f"(client_cert), and svccheck {wants}"
            )
        if "timeout" in lowered or "timed out" in lowered:
            return FailureClass.TIMEOUT, f"timed out while connecting: {details}"
        if "unreachable" in lowered:
            return FailureClass.REFUSED, "host unreachable"
        return FailureClass.REFUSED, f"unavailable: {details}"
    name = code.name if code is not None else "UNKNOWN"
    return FailureClass.PROTOCOL, f"gRPC {name}" + (f": {details}" if details else "")
