"""`grpc://host:port` and `grpcs://host:port`: the standard gRPC health check, per service.

Each service listed under `grpc.services` ("" is the server as a whole, the
default) is asked `grpc.health.v1.Health/Check`, the question Kubernetes gRPC
probes, AWS load balancers and grpc-health-probe ask. `SERVING` passes;
`NOT_SERVING`, `UNKNOWN` and `SERVICE_UNKNOWN` (the standard servicer's
NOT_FOUND for a name it does not know) fail, and every service is a component
of the one check, so tables, root causes and every report read it as they read
an HTTP health document's components. gRPC's status codes become failure
classes (`grpc_exchange.classify`).

The client is `grpcio` with its `grpcio-health-checking` stubs, the optional
extra `svccheck[grpc]`: this module is read with every manifest and imports
neither; `grpc_exchange`, which does, is imported by the connector, once a run
has a gRPC check. A manifest with a gRPC service and no grpcio installed is a
manifest error naming the extra.

In the manifest (`SHAPE`) a gRPC service is an allow-list like a TCP one: no
requests, no headers, no HTTP expectations. `expect` bounds the latency of the
whole exchange and, over TLS, the certificate's days left (read by a handshake
of svccheck's own, as grpcio does not expose the peer certificate to a client).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from svccheck.grammar import schema
from svccheck.grammar.address_only import address_only_shape, health_service, refusing
from svccheck.grammar.issues import Reporter
from svccheck.grammar.positions import Path
from svccheck.grammar.settings import Layer
from svccheck.grammar.shape import INVALID, Field, ListOf, Nullable, Shape, Spec
from svccheck.judge.expect import expect_assertions
from svccheck.listing import cut
from svccheck.model import (
    Answer,
    Assertion,
    Check,
    ClientCertificate,
    Component,
    Failure,
    FailureClass,
    GrpcTarget,
    Judgement,
    Service,
)
from svccheck.protocols.base import Connector, Origin, Protocol, own_target, recorded, recorded_address
from svccheck.protocols.client_certificate import client_certificate

if TYPE_CHECKING:
    from svccheck.protocols.shell import Reproduction

EXTRA = "svccheck[grpc]"
HEALTH_METHOD = "grpc.health.v1.Health/Check"
SERVING = "SERVING"
# the name a component of the server as a whole ("") is reported by
SERVER = "(server)"
_MAX_IN_REASON = 3


class GrpcSpec(Spec):
    FIELDS = (
        Field(
            "services",
            ListOf(schema.TEXT),
            default=lambda: [""],
            description='the gRPC services to ask Health/Check about; "" is the server as a whole',
            examples=[["", "ledger.v1.Ledger"]],
        ),
    )
    services: list[str]


FIELDS = (
    Field(
        "grpc",
        Nullable(Shape(GrpcSpec)),
        description="grpc:// and grpcs:// only: which services to ask grpc.health.v1.Health/Check about",
    ),
)

# gRPC is HTTP/2 already; it sends no trace context (yet) and no credential: the tunables of
# `grammar.address_only`, like tcp://


_foreign = refusing("a gRPC service", "is checked by grpc.health.v1.Health/Check")


def _rules(name: str, svc: schema.ServiceSpec, where: Path, report: Reporter) -> None:
    if not all(_installed(module) for module in ("grpc", "grpc_health")):
        report.error(
            (*where, "url"),
            f"a gRPC service needs the optional grpcio client: pip install '{EXTRA}'",
        )
    tls = svc.url is not INVALID and urlsplit(svc.url).scheme == "grpcs"
    if tls and svc.verify_tls is False:
        # grpcio's client always verifies: an unverified check would be a promise it cannot keep
        report.error(
            (*where, "verify_tls"),
            "verify_tls: false is not possible with grpcs:// (grpcio always verifies); give the CA bundle",
        )
    if not tls and svc.written & set(schema.CLIENT_CERTIFICATE_KEYS):
        report.error(
            (*where, sorted(svc.written & set(schema.CLIENT_CERTIFICATE_KEYS))[0]),
            "a client certificate needs TLS: use grpcs://",
            key=True,
        )
    grpc = svc.value("grpc")
    if isinstance(grpc, GrpcSpec) and grpc.services is not INVALID:
        seen: set[str] = set()
        for index, listed in enumerate(grpc.services):
            if listed in seen:
                report.error((*where, "grpc", "services", index), f"{listed!r} is listed twice")
            seen.add(listed)
        if not grpc.services:
            report.error((*where, "grpc", "services"), 'list at least one service ("" is the server)')


def _installed(module: str) -> bool:
    """Whether a module can be imported, found without importing it: reading a manifest stays light."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: hidden (`sys.modules[name] = None`)
        return False


_EXPECT_KEYS = ("max_latency", "warn_latency", "tls_min_days", "tls_warn_days")


def _service(name: str, svc: schema.ServiceSpec, layers: list[Layer], manifest_path: str) -> Service:
    parts = urlsplit(svc.url)
    grpc = svc.value("grpc")
    services = tuple(grpc.services) if isinstance(grpc, GrpcSpec) else ("",)
    target = GrpcTarget(
        host=parts.hostname or "",
        port=parts.port or 0,
        tls=parts.scheme == "grpcs",
        services=services,
        client_cert=client_certificate(svc, manifest_path),
    )
    return health_service(
        name, svc, layers, manifest_path, target=target, default_name="health", expect_keys=_EXPECT_KEYS
    )


SHAPE = address_only_shape(
    fields=FIELDS, expect_keys=_EXPECT_KEYS, foreign=_foreign, build=_service, rules=_rules
)


class Grpc(Protocol):
    name = "grpc"
    schemes: ClassVar[tuple[str, ...]] = ("grpc", "grpcs")
    shape_module = "svccheck.protocols.grpc"  # SHAPE above

    def connector(self, *, total: int) -> Connector:
        from svccheck.protocols.grpc_exchange import GrpcConnector  # grpcio: for a gRPC probe only

        return GrpcConnector()

    def origin(self, check: Check, verify: bool | str) -> Origin:
        target = _target(check)
        return ("grpc", target.host, target.port, (verify, target.client_cert) if target.tls else None)

    def classify(self, exc: BaseException) -> tuple[FailureClass, str] | None:
        from svccheck.protocols.grpc_exchange import GrpcFailure  # loaded already: only an exchange raises

        if isinstance(exc, GrpcFailure):
            return exc.failure_class, exc.reason
        return None

    def judge(self, check: Check, answer: Answer) -> Judgement:
        statuses = read_statuses(answer.body)
        components = tuple(
            Component(name=service or SERVER, status="pass" if word == SERVING else "fail", raw_status=word)
            for service, word in statuses
        )
        failing = [f"component {c.name}: {c.raw_status}" for c in components if c.status != "pass"]
        asked = cut([repr(service) for service, _ in statuses], _MAX_IN_REASON)
        record = Assertion(
            f"{HEALTH_METHOD} answered {SERVING} for {asked}",
            not failing,
            answer.status_text,
            Failure(FailureClass.HEALTH, cut(failing, _MAX_IN_REASON)) if failing else None,
        )
        records = [record]
        if check.expect is not None:
            records.extend(expect_assertions(answer, check.expect))
        return Judgement(tuple(records), components)

    def verb(self, check: Check) -> str:
        return "Health/Check" + (" over TLS" if _target(check).tls else "")

    def uses_tls(self, check: Check) -> bool:
        return _target(check).tls

    def request_fields(self, check: Check) -> dict[str, object]:
        target = _target(check)
        fields: dict[str, object] = {"grpc_services": list(target.services), "over_tls": target.tls}
        if target.client_cert is not None:
            fields["client_cert"] = target.client_cert.cert
        return fields

    def recorded_target(self, url: str, fields: Mapping[str, object]) -> GrpcTarget:
        host, port = recorded_address(url)
        services = recorded(fields, "grpc_services", list, [""])
        if not all(isinstance(name, str) for name in services):
            raise ValueError("grpc_services: expected a list of strings")
        cert = recorded(fields, "client_cert", str, "")
        return GrpcTarget(
            host=host,
            port=port,
            tls=recorded(fields, "over_tls", bool, url.lower().startswith("grpcs:")),
            services=tuple(services),
            # the report records the certificate's path, never the key's: enough to show what was sent
            client_cert=ClientCertificate(cert=cert, key="") if cert else None,
        )

    def request_lines(self, check: Check) -> list[str]:
        target = _target(check)
        how = "TLS" if target.tls else "plaintext (h2c)"
        lines = [f"connect {address(target)} over HTTP/2, {how}"]
        if target.client_cert is not None:
            lines.append(
                f"present client certificate {target.client_cert.cert} (key {target.client_cert.key})"
            )
        lines += [f'{HEALTH_METHOD} {{"service": {_json(service)}}}' for service in target.services]
        return lines

    def reproduce(
        self,
        check: Check,
        *,
        secret_vars: Mapping[str, str],
        secrets: frozenset[str] | set[str],
        verify: bool | str,
        timeout: float,
        traceparent: str | None = None,  # a grpc:// check carries no trace context
    ) -> Reproduction:
        """One `grpcurl` per listed service, joined by `&&`: what the check asks, by hand. The line
        names the health service's proto shipped with svccheck, so it works on a server without
        reflection (#17)."""
        import shlex
        from pathlib import Path as FilePath

        from svccheck.protocols.shell import (  # for check -v only
            Reproduction,
            ShellSecrets,
            client_certificate_words,
            shell_word,
        )

        target = _target(check)
        known = ShellSecrets.of(secret_vars, secrets)
        words = ["grpcurl", "-max-time", f"{timeout:g}"]
        if not target.tls:
            words.append("-plaintext")
        elif isinstance(verify, str):
            words += ["-cacert", shlex.quote(verify)]
        if target.client_cert is not None:  # grpcurl takes no passphrase: an unencrypted key is needed
            words += client_certificate_words(
                target.client_cert, known, cert="-cert", key="-key", password=None
            )
        proto = FilePath(__file__).with_name(HEALTH_PROTO)
        words += ["-import-path", shlex.quote(str(proto.parent)), "-proto", HEALTH_PROTO]
        host = shell_word(known.split(address(target), "URL"))
        lines = [
            " ".join([*words, "-d", shlex.quote(f'{{"service":{_json(service)}}}'), host, HEALTH_METHOD])
            for service in target.services
        ]
        return Reproduction(" && ".join(lines), known.variables)


# the standard health service's Check, declared for grpcurl: package data next to this module
HEALTH_PROTO = "grpc_health.proto"


def read_statuses(body: bytes) -> list[tuple[str, str]]:
    """The (service, status word) pairs the exchange recorded in the answer's body."""
    import json

    return [(str(item["service"]), str(item["status"])) for item in json.loads(body)["services"]]


def address(target: GrpcTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


def _json(text: str) -> str:
    import json

    return json.dumps(text)


def _target(check: Check) -> GrpcTarget:
    return own_target(check, GrpcTarget)


PROTOCOL = Grpc()
