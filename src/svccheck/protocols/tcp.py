"""`tcp://host:port`: connect, optionally handshake TLS, optionally ping the protocol.

Run by the engine inside the same slots, whole-attempt timeout and retry loop
as HTTP. The answer's `status_text` is what the server said (`+PONG`,
`accepting connections`, `connected`); a wrong answer raises `TcpFailure` with
the class and reason a person reads in the report.

- plain: the port accepts a connection (and the TLS handshake, with `tls`);
- redis: `PING` answered by `+PONG` (or `-NOAUTH`: answering, wants a password);
- postgres: an SSLRequest answered by `S` or `N` — what every PostgreSQL server
  does before authentication, so no credentials are needed. With `tls`, the
  server must answer `S` and the handshake follows.

In the manifest (`SHAPE`) a TCP service has no requests to describe: its keys are
an allow-list. Timeouts, retries, backoff, `verify_tls`, `critical`, `tags` and
`depends_on` work as for HTTP; `expect` may bound the latency, the one thing a
TCP answer is judged by. It does not read the peer certificate nor time the
phases (its answer has no timings), so `tls_min_days`, `tls_warn_days` and
`max_dns`/`max_connect`/`max_tls`/`max_ttfb` are not in the list: they are
errors rather than bounds that would silently never be checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import ssl
import struct
import time
from collections.abc import Collection, Mapping
from typing import ClassVar
from urllib.parse import urlsplit

from svccheck.grammar import schema
from svccheck.grammar.protocol import ProtocolShape, service_of
from svccheck.grammar.settings import Layer, merge, tunables, verify_setting
from svccheck.judge.expect import expect_assertions
from svccheck.model import Answer, Assertion, Check, Expect, FailureClass, Judgement, Service, TcpTarget
from svccheck.protocols.base import Connector, Exchange, Origin, Protocol, own_target
from svccheck.protocols.shell import Reproduction, ShellSecrets, shell_word
from svccheck.protocols.timing import CONNECTING, HANDSHAKING, WAITING, AttemptTrace
from svccheck.protocols.tls import ssl_context

REDIS_PING = b"*1\r\n$4\r\nPING\r\n"
REDIS_ANSWERING = (b"+PONG", b"-NOAUTH", b"-WRONGPASS")
POSTGRES_SSL_REQUEST = struct.pack("!II", 8, 80877103)
MAX_ANSWER = 512


# --- the manifest: what a tcp:// service takes, and the one check it is built into ---

_TUNABLES = frozenset(schema.TUNABLE_NAMES) - {"headers"}  # no request to carry headers


def _foreign(key: str, service: str, allowed: Collection[str]) -> str:
    import difflib  # only when a key is wrong

    label = key if " " in key else repr(key)  # "a health path" is not a key name
    message = (
        f"{label} is for HTTP checks, an unknown key for a tcp:// service "
        f"({service!r} is checked by connecting, and with 'protocol', a ping)"
    )
    hint = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    if hint:
        return f"{message} (did you mean {hint[0]!r}?)"
    return f"{message}; allowed here: {', '.join(sorted(allowed))}"


def _service(name: str, svc: schema.ServiceSpec, layers: list[Layer], manifest_path: str) -> Service:
    check_layers = [*layers, tunables(svc)]
    expect: Expect | None = None
    health = svc.health
    if health is not None:
        if health.expect is not None:
            expect = Expect(max_latency=health.expect.max_latency, warn_latency=health.expect.warn_latency)
        check_layers.append(tunables(health))
    settings = merge(check_layers)
    parts = urlsplit(svc.url)
    target = TcpTarget(
        host=parts.hostname or "",
        port=parts.port or 0,
        tls=bool(svc.tls),
        protocol=svc.protocol,
    )
    check = Check(
        service=name,
        name=(health.name if health is not None and health.name else svc.protocol or "connect"),
        kind="health",
        url=svc.url,
        target=target,
        expect=expect or Expect(),
        timeout=settings["timeout"],
        retries=settings["retries"],
        backoff=settings["backoff"],
        verify_tls=verify_setting(settings["verify_tls"], manifest_path),
    )
    return service_of(name, svc, (check,))


SHAPE = ProtocolShape(
    name="tcp",
    schemes=("tcp",),
    service_keys=frozenset(
        {"url", "tls", "protocol", "critical", "tags", "depends_on", "description", "health", *_TUNABLES}
    ),
    health_keys=frozenset({"name", "expect", *_TUNABLES}),
    check_keys=frozenset(),  # no `checks`: one connection check per service
    expect_keys=frozenset({"max_latency", "warn_latency"}),
    foreign=_foreign,
    build=_service,
)


# --- the exchange ---


class TcpFailure(Exception):
    """The server answered, but not as the protocol says: a verdict, never a traceback."""

    def __init__(self, failure_class: FailureClass, reason: str) -> None:
        super().__init__(reason)
        self.failure_class = failure_class
        self.reason = reason


class Tcp(Protocol):
    name = "tcp"
    schemes: ClassVar[tuple[str, ...]] = ("tcp",)
    shape = SHAPE
    # "timed out after 2s": a TCP check's phases are few and its reason stays short
    names_stalled_phase = False

    def connector(self, *, total: int) -> Connector:
        return _TcpConnector()

    def origin(self, check: Check, verify: bool | str) -> Origin:
        target = _target(check)
        return ("tcp", target.host, target.port, verify if target.tls else None)

    def classify(self, exc: BaseException) -> tuple[FailureClass, str] | None:
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

    def request_lines(self, check: Check) -> list[str]:
        target = _target(check)
        lines = [f"connect {_address(target)}" + (" with TLS" if target.tls else "")]
        if target.protocol == "redis":
            lines.append("send PING")
        elif target.protocol == "postgres":
            lines.append("send SSLRequest (no credentials)")
        return lines

    def reproduce(
        self,
        check: Check,
        *,
        secret_vars: Mapping[str, str],
        secrets: frozenset[str] | set[str],
        verify: bool | str,
        timeout: float,
    ) -> Reproduction:
        """`redis-cli … PING`, `pg_isready …`, `openssl s_client …` or `nc -z …`: what the check does."""
        target = _target(check)
        known = ShellSecrets.of(secret_vars, secrets)
        host = shell_word(known.split(target.host, "URL"))
        port = str(target.port)
        seconds = f"{max(1, round(timeout))}"
        words: list[str]
        if target.protocol == "redis":
            words = ["redis-cli", "-h", host, "-p", port]
            if target.tls:
                words.append("--tls")
                words += _openssl_verify(verify, insecure="--insecure", cafile="--cacert")
            words.append("PING")
        elif target.protocol == "postgres":
            # the same question svccheck asks: is the server accepting connections (no login needed)
            words = ["pg_isready", "-h", host, "-p", port, "-t", seconds]
            if target.tls:
                words = ["env", "PGSSLMODE=require", *words]
        elif target.tls:
            words = ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", host, "-brief"]
            words += _openssl_verify(verify, insecure="", cafile="-CAfile")
            words += ["</dev/null"]
        else:
            words = ["nc", "-vz", "-w", seconds, host, port]
        return Reproduction(" ".join(w for w in words if w), known.variables)


def _openssl_verify(verify: bool | str, *, insecure: str, cafile: str) -> list[str]:
    if verify is False:
        return [insecure]
    if isinstance(verify, str):
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
        return "a PostgreSQL server answering" + (" with TLS" if target.tls else "")
    return "a connection accepted" + (" and a TLS handshake" if target.tls else "")


def _target(check: Check) -> TcpTarget:
    return own_target(check, TcpTarget)


PROTOCOL = Tcp()


class _TcpConnector(Connector):
    """TCP keeps no connection between attempts: each one opens and closes its own."""

    async def exchange(self, check: Check, attempt: Exchange) -> Answer:
        target = _target(check)
        context = ssl_context(attempt.verify) if target.tls else None
        return await exchange(target, check.url, context, attempt.trace.start, attempt.trace)


async def exchange(
    target: TcpTarget,
    url: str,
    tls_context: ssl.SSLContext | None,
    start: float,
    trace: AttemptTrace | None = None,
) -> Answer:
    """One attempt; the caller bounds it with its timeout and classifies OS and TLS errors.

    `trace.phase` says where the attempt is, so a timeout while connecting is
    told from a server that accepted and never answered (#12).
    """
    direct_tls = tls_context if target.tls and target.protocol != "postgres" else None
    if trace is not None:
        trace.phase = CONNECTING
    reader, writer = await asyncio.open_connection(
        target.host,
        target.port,
        ssl=direct_tls,
        server_hostname=target.host if direct_tls is not None else None,
    )
    if trace is not None:
        trace.phase = WAITING
    try:
        if target.protocol == "redis":
            answer = await _redis(reader, writer)
        elif target.protocol == "postgres":
            answer = await _postgres(reader, writer, tls_context if target.tls else None, target.host, trace)
        else:
            answer = b""
    finally:
        writer.close()
        with contextlib.suppress(Exception):  # the check is decided; a messy close changes nothing
            await writer.wait_closed()
    return Answer(
        status_text=_status_text(target, answer),
        headers=(),
        body=answer,
        truncated=False,
        latency=time.perf_counter() - start,
        version="TLS" if target.tls else "",
        url=url,
    )


def _status_text(target: TcpTarget, answer: bytes) -> str:
    if target.protocol == "redis":
        return answer.decode("utf-8", "backslashreplace")  # +PONG, -NOAUTH…: one line, capped
    if target.protocol == "postgres":
        return "accepting connections" + (" (TLS)" if answer == b"S" and target.tls else "")
    return "connected" + (" (TLS handshake done)" if target.tls else "")


async def _redis(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(REDIS_PING)
    await writer.drain()
    try:
        line = (await reader.readline())[:MAX_ANSWER].rstrip(b"\r\n")
    except ValueError:  # asyncio's stream limit: a line of over 64 KiB is no answer to PING
        raise TcpFailure(
            FailureClass.PROTOCOL, "not a Redis server: PING answered with a line of over 64 KiB"
        ) from None
    if not line:
        raise TcpFailure(FailureClass.PROTOCOL, "redis: connection closed without an answer to PING")
    if line.startswith(REDIS_ANSWERING):
        return line
    if line.startswith(b"-"):
        # -LOADING, -MASTERDOWN, -BUSY...: a Redis that is up but not serving
        raise TcpFailure(FailureClass.HEALTH, f"redis answered PING with {_show(line[1:])}")
    raise TcpFailure(FailureClass.PROTOCOL, f"not a Redis server: PING answered with {_show(line)}")


async def _postgres(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    tls_context: ssl.SSLContext | None,
    host: str,
    trace: AttemptTrace | None = None,
) -> bytes:
    writer.write(POSTGRES_SSL_REQUEST)
    await writer.drain()
    answer = await reader.read(1)
    if not answer:
        raise TcpFailure(FailureClass.PROTOCOL, "postgres: connection closed without an answer")
    if answer == b"E":
        # servers too old for SSLRequest answer with an error message: still PostgreSQL
        return answer
    if answer not in (b"S", b"N"):
        more = answer + await _some(reader)
        raise TcpFailure(FailureClass.PROTOCOL, f"not a PostgreSQL server: answered {_show(more)}")
    if tls_context is None:
        return answer
    if answer == b"N":
        raise TcpFailure(FailureClass.TLS, "postgres: server does not offer TLS (answered N to SSLRequest)")
    if trace is not None:
        trace.phase = HANDSHAKING
    await writer.start_tls(tls_context, server_hostname=host)
    return answer


async def _some(reader: asyncio.StreamReader) -> bytes:
    """What else is already there, to show a stranger's answer, without waiting for more."""
    try:
        return await asyncio.wait_for(reader.read(40), timeout=0.05)
    except TimeoutError:
        return b""


def _show(data: bytes) -> str:
    text = data[:60].decode("utf-8", errors="replace")
    return repr(text) + ("..." if len(data) > 60 else "")
