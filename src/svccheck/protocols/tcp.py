"""`tcp://host:port`: connect, optionally handshake TLS, optionally ping the protocol.

Run by the engine inside the same slots, whole-attempt timeout and retry loop
as HTTP. The answer's `status_text` is what the server said (`+PONG`,
`accepting connections`, `connected`); a wrong answer raises `TcpFailure` with
the class and reason a person reads in the report. The exchange itself is
`tcp_exchange`, which the connector imports on the first attempt: this module
is read with every manifest, for its keys, and imports no asyncio.

- plain: the port accepts a connection (and the TLS handshake, with `tls`);
- redis: `PING` answered by `+PONG` (or `-NOAUTH`: answering, wants a password);
- postgres: accepting connections, as `pg_isready` asks it: an SSLRequest answered by
  `S` or `N` (with `tls`, `S` and the handshake), then a StartupMessage whose first
  answer is an authentication request or a login error. A server in smart shutdown,
  startup or recovery still answers the SSLRequest, then refuses every login with
  57P03 (or 53300, too many connections): that fails with class `health` and the
  server's message. No credentials are sent or needed.

In the manifest (`SHAPE`) a TCP service has no requests to describe: its keys are
an allow-list. Timeouts, retries, backoff, `verify_tls`, `critical`, `tags` and
`depends_on` work as for HTTP; `expect` may bound the latency, the one thing a
TCP answer is judged by. It does not read the peer certificate nor time the
phases (its answer has no timings), so `tls_min_days`, `tls_warn_days` and
`max_dns`/`max_connect`/`max_tls`/`max_ttfb` are not in the list: they are
errors rather than bounds that would silently never be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from svccheck.grammar import schema
from svccheck.grammar.address_only import address_only_shape, health_service, refusing
from svccheck.grammar.issues import Reporter
from svccheck.grammar.positions import Path
from svccheck.grammar.schema import BOOL
from svccheck.grammar.settings import Layer
from svccheck.grammar.shape import INTERPOLATED, Field, Nullable, Scalar, one_of
from svccheck.judge.expect import expect_assertions
from svccheck.model import Answer, Assertion, Check, FailureClass, Judgement, Service, TcpTarget
from svccheck.protocols.base import Connector, Origin, Protocol, own_target, recorded, recorded_address
from svccheck.protocols.client_certificate import client_certificate

if TYPE_CHECKING:
    from svccheck.protocols.shell import Reproduction

# --- the manifest: what a tcp:// service takes, and the one check it is built into ---

PINGS = ("redis", "postgres")

# the keys only a tcp:// service takes, declared here once (reading, JSON Schema, allow-list)
FIELDS = (
    Field(
        "tls",
        Nullable(BOOL),
        description="tcp:// only: handshake TLS after connecting (verified like https)",
    ),
    Field(
        "protocol",
        Nullable(Scalar(one_of(*PINGS), {"anyOf": [{"type": "string", "enum": list(PINGS)}, INTERPOLATED]})),
        description=(
            "tcp:// only: a protocol-level ping, so an open port is not taken for a working service: "
            "redis (PING, expects PONG) or postgres (SSLRequest and StartupMessage, expects the "
            "server accepting connections)"
        ),
    ),
    Field(
        "redis_cluster",
        Nullable(BOOL),
        description=(
            "tcp:// with protocol: redis only: also ask CLUSTER INFO, and fail a node whose "
            "cluster_state is not ok (a PING cannot see it)"
        ),
    ),
)


_foreign = refusing("a tcp:// service", "is checked by connecting, and with 'protocol', a ping")


def _rules(name: str, svc: schema.ServiceSpec, where: Path, report: Reporter) -> None:
    given = sorted(svc.written & set(schema.CLIENT_CERTIFICATE_KEYS))
    if given and svc.value("tls") is not True:
        report.error((*where, given[0]), "a client certificate needs TLS: add tls: true", key=True)
    if svc.value("redis_cluster") is True and svc.value("protocol") != "redis":
        asks = "redis_cluster: true asks a Redis: add protocol: redis"
        report.error((*where, "redis_cluster"), asks, key=True)


_EXPECT_KEYS = ("max_latency", "warn_latency")


def _service(name: str, svc: schema.ServiceSpec, layers: list[Layer], manifest_path: str) -> Service:
    parts = urlsplit(svc.url)
    target = TcpTarget(
        host=parts.hostname or "",
        port=parts.port or 0,
        tls=bool(svc.value("tls")),
        protocol=svc.value("protocol"),
        client_cert=client_certificate(svc, manifest_path),
        cluster=svc.value("redis_cluster") is True,
    )
    default_name = svc.value("protocol") or "connect"
    return health_service(
        name, svc, layers, manifest_path, target=target, default_name=default_name, expect_keys=_EXPECT_KEYS
    )


SHAPE = address_only_shape(
    fields=FIELDS, expect_keys=_EXPECT_KEYS, foreign=_foreign, build=_service, rules=_rules
)


class Tcp(Protocol):
    name = "tcp"
    schemes: ClassVar[tuple[str, ...]] = ("tcp",)
    shape_module = "svccheck.protocols.tcp"  # SHAPE above
    # "timed out after 2s in the TLS handshake", "… waiting for the answer to PING" (issue 14)
    names_stalled_phase = True

    def connector(self, *, total: int) -> Connector:
        from svccheck.protocols.tcp_exchange import TcpConnector  # asyncio's streams: for a probe only

        return TcpConnector()

    def origin(self, check: Check, verify: bool | str) -> Origin:
        target = _target(check)
        setting = verify if target.client_cert is None else (verify, target.client_cert)
        return ("tcp", target.host, target.port, setting if target.tls else None)

    def classify(self, exc: BaseException) -> tuple[FailureClass, str] | None:
        from svccheck.protocols.tcp_exchange import TcpFailure  # loaded already: only an exchange raises

        if isinstance(exc, TcpFailure):
            return exc.failure_class, exc.reason
        return None

    def judge(self, check: Check, answer: Answer) -> Judgement:
        records = [Assertion(_promise(_target(check)), True, answer.status_text)]
        if check.expect is not None:
            records.extend(expect_assertions(answer, check.expect))
        return Judgement(tuple(records))

    def verb(self, check: Check) -> str:
        target = _target(check)
        what = {"redis": "PING", "postgres": "SSLRequest"}.get(target.protocol or "", "connect")
        return what + (" over TLS" if target.tls else "")

    def uses_tls(self, check: Check) -> bool:
        return _target(check).tls

    def request_fields(self, check: Check) -> dict[str, object]:
        target = _target(check)
        return {"over_tls": target.tls, "ping": target.protocol}

    def recorded_target(self, url: str, fields: Mapping[str, object]) -> TcpTarget:
        host, port = recorded_address(url)
        ping = recorded(fields, "ping", str, "") or None
        return TcpTarget(host=host, port=port, tls=recorded(fields, "over_tls", bool, False), protocol=ping)

    def request_lines(self, check: Check) -> list[str]:
        target = _target(check)
        lines = [f"connect {_address(target)}" + (" with TLS" if target.tls else "")]
        if target.client_cert is not None:
            client = target.client_cert
            lines.append(f"present client certificate {client.cert} (key {client.key})")
        if target.protocol == "redis":
            lines.append("send PING")
            if target.cluster:
                lines.append("send CLUSTER INFO: cluster_state must be ok")
        elif target.protocol == "postgres":
            lines.append("send SSLRequest (no credentials)")
            lines.append("send StartupMessage (user postgres, no password): accepting connections?")
        return lines

    def reproduce(
        self,
        check: Check,
        *,
        secret_vars: Mapping[str, str],
        secrets: frozenset[str] | set[str],
        verify: bool | str,
        timeout: float,
        traceparent: str | None = None,  # a tcp:// check carries no trace context
    ) -> Reproduction:
        """`redis-cli … PING`, `pg_isready …`, `openssl s_client …` or `nc -z …`: what the check does."""
        from svccheck.protocols.shell import (  # for check -v only
            Reproduction,
            ShellSecrets,
            client_certificate_words,
            shell_word,
        )

        target = _target(check)
        known = ShellSecrets.of(secret_vars, secrets)
        host = shell_word(known.split(target.host, "URL"))
        port = str(target.port)
        seconds = f"{max(1, round(timeout))}"
        words: list[str]
        client = target.client_cert if target.tls else None
        if target.protocol == "redis":
            words = ["redis-cli", "-h", host, "-p", port]
            if target.tls:
                words.append("--tls")
                words += _openssl_verify(verify, insecure="--insecure", cafile="--cacert")
            if client is not None:
                words += client_certificate_words(client, known, cert="--cert", key="--key", password=None)
            words.append("PING")
        elif target.protocol == "postgres":
            # the same question svccheck asks: is the server accepting connections (no login needed)
            words = ["pg_isready", "-h", host, "-p", port, "-t", seconds]
            if target.tls:
                env = ["PGSSLMODE=require"]
                if client is not None:
                    import shlex

                    env += [f"PGSSLCERT={shlex.quote(client.cert)}", f"PGSSLKEY={shlex.quote(client.key)}"]
                words = ["env", *env, *words]
        elif target.tls:
            words = ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", host, "-brief"]
            words += _openssl_verify(verify, insecure="", cafile="-CAfile")
            if client is not None:
                words += client_certificate_words(client, known, cert="-cert", key="-key", password="-pass")
            words += ["</dev/null"]
        else:
            words = ["nc", "-vz", "-w", seconds, host, port]
        return Reproduction(" ".join(w for w in words if w), known.variables)


def _openssl_verify(verify: bool | str, *, insecure: str, cafile: str) -> list[str]:
    if verify is False:
        return [insecure]
    if isinstance(verify, str):
        import shlex

        return [cafile, shlex.quote(verify)]
    return []


def _address(target: TcpTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


def _promise(target: TcpTarget) -> str:
    """What a TCP check expects of the server, in words (`check -v`'s first expectation)."""
    if target.protocol == "redis":
        return "PING answered (+PONG, or a request for a password)"
    if target.protocol == "postgres":
        return "a PostgreSQL server accepting connections" + (" with TLS" if target.tls else "")
    return "a connection accepted" + (" and a TLS handshake" if target.tls else "")


def _target(check: Check) -> TcpTarget:
    return own_target(check, TcpTarget)


PROTOCOL = Tcp()
