"""The TCP exchange: connect, handshake TLS, ping; loaded by the first tcp:// attempt.

asyncio's streams, the TLS context and the protocol pings live here, so that
reading a manifest (which asks `protocols.tcp` for its keys) imports none of
them. A wrong answer raises `TcpFailure` with the class and reason a person
reads in the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
import time

from svccheck.model import Answer, Check, FailureClass, TcpTarget
from svccheck.neutral import neutralise
from svccheck.protocols.base import Connector, Exchange, own_target
from svccheck.protocols.timing import CONNECTING, HANDSHAKING, AttemptTrace
from svccheck.protocols.tls import ssl_context

REDIS_PING = b"*1\r\n$4\r\nPING\r\n"
REDIS_ANSWERING = (b"+PONG", b"-NOAUTH", b"-WRONGPASS")
POSTGRES_SSL_REQUEST = struct.pack("!II", 8, 80877103)
MAX_ANSWER = 512

# where a TCP attempt waits, for a timeout's reason ("timed out after 2s waiting for the answer to PING")
WAITING_FOR_PING = "waiting for the answer to PING"
WAITING_FOR_SSL_REQUEST = "waiting for the answer to the SSLRequest"
WAITING_FOR_STARTUP = "waiting for the answer to the StartupMessage"
WAITING_FOR_CLUSTER_INFO = "waiting for the answer to CLUSTER INFO"
REDIS_CLUSTER_INFO = b"*2\r\n$7\r\nCLUSTER\r\n$4\r\nINFO\r\n"
_MAX_CLUSTER_INFO = 16384


def _startup_message(user: str, database: str) -> bytes:
    """Protocol 3.0's StartupMessage: the first thing a client says once TLS is settled."""
    params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in (
        ("user", user), ("database", database), ("application_name", "svccheck"),
    )) + b"\0"  # fmt: skip
    return struct.pack("!II", 8 + len(params), 196608) + params


# pg_isready's question, asked the same way: any user and database do. An authentication
# request, or an error about the login (bad password, no such role or database), means the
# server is accepting connections; no credentials are sent, none are needed.
POSTGRES_STARTUP = _startup_message("postgres", "postgres")
POSTGRES_TERMINATE = b"X\0\0\0\4"
# SQLSTATEs of a server that is up but refuses every connection: cannot_connect_now
# (starting up, shutting down, in recovery) and too_many_connections
POSTGRES_REFUSING = {"57P03": "rejecting connections", "53300": "too many connections"}
_MAX_ERROR_MESSAGE = 8192


class TcpFailure(Exception):
    """The server answered, but not as the protocol says: a verdict, never a traceback."""

    def __init__(self, failure_class: FailureClass, reason: str) -> None:
        super().__init__(reason)
        self.failure_class = failure_class
        self.reason = reason


class TcpConnector(Connector):
    """TCP keeps no connection between attempts: each one opens and closes its own."""

    async def exchange(self, check: Check, attempt: Exchange) -> Answer:
        target = own_target(check, TcpTarget)
        context = ssl_context(attempt.verify, target.client_cert) if target.tls else None
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
    _phase(trace, CONNECTING)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        if direct_tls is not None:
            # handshaken apart from the connect, so a timeout says which of the two stalled
            _phase(trace, HANDSHAKING)
            await writer.start_tls(direct_tls, server_hostname=target.host)
        if target.protocol == "redis":
            _phase(trace, WAITING_FOR_PING)
            answer = await _redis(reader, writer)
            if target.cluster and answer.startswith(b"+PONG"):
                _phase(trace, WAITING_FOR_CLUSTER_INFO)
                answer += b", " + await _redis_cluster(reader, writer)
        elif target.protocol == "postgres":
            answer = await _postgres(reader, writer, tls_context if target.tls else None, target.host, trace)
        else:
            answer = b""
    except BaseException:
        # a timeout, a cancel or a wrong answer decided the check: drop the connection at once.
        # A graceful close would wait, and after a handshake cut short never ends: a stream whose
        # start_tls was cancelled is not told its socket closed
        writer.transport.abort()
        raise
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


def _phase(trace: AttemptTrace | None, phase: str) -> None:
    if trace is not None:
        trace.phase = phase


def _status_text(target: TcpTarget, answer: bytes) -> str:
    if target.protocol == "redis":
        return answer.decode("utf-8", "backslashreplace")  # +PONG, -NOAUTH…: one line, capped
    if target.protocol == "postgres":
        return "accepting connections" + (" (TLS)" if target.tls else "")
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


async def _redis_cluster(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """CLUSTER INFO: a node answers PING with +PONG whatever its cluster's state (issue 14)."""
    writer.write(REDIS_CLUSTER_INFO)
    await writer.drain()
    try:
        head = (await reader.readline()).rstrip(b"\r\n")
    except ValueError:
        raise TcpFailure(FailureClass.PROTOCOL, "redis: CLUSTER INFO answered with an endless line") from None
    if head.startswith(b"-"):
        # -ERR This instance has cluster support disabled: not the cluster node the manifest says
        raise TcpFailure(FailureClass.HEALTH, f"redis answered CLUSTER INFO with {_show(head[1:])}")
    if not head.startswith(b"$") or not head[1:].isdigit() or int(head[1:]) > _MAX_CLUSTER_INFO:
        raise TcpFailure(FailureClass.PROTOCOL, f"redis: CLUSTER INFO answered {_show(head)}")
    try:
        info = (await reader.readexactly(int(head[1:]) + 2)).decode("utf-8", "replace")
    except asyncio.IncompleteReadError:
        raise TcpFailure(FailureClass.PROTOCOL, "redis: CLUSTER INFO cut short") from None
    fields = dict(line.partition(":")[::2] for line in info.splitlines() if ":" in line)
    state = fields.get("cluster_state", "").strip()
    if state == "ok":
        return b"cluster_state:ok"
    slots = ", ".join(
        f"{key}:{_server_text(fields[key].strip())}"
        for key in ("cluster_slots_assigned", "cluster_slots_ok", "cluster_known_nodes")
        if key in fields
    )
    said = f"cluster_state:{_server_text(state) or '(missing)'}" + (f" ({slots})" if slots else "")
    raise TcpFailure(FailureClass.HEALTH, f"redis {said}")


async def _postgres(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    tls_context: ssl.SSLContext | None,
    host: str,
    trace: AttemptTrace | None = None,
) -> bytes:
    """SSLRequest, TLS when asked for, then a StartupMessage: its first answer says whether the
    server accepts connections. `N` to the SSLRequest alone does not: in smart shutdown, startup
    and recovery a server still answers it, and refuses every login with 57P03 (issue 14)."""
    _phase(trace, WAITING_FOR_SSL_REQUEST)
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
    if tls_context is not None:
        if answer == b"N":
            raise TcpFailure(
                FailureClass.TLS, "postgres: server does not offer TLS (answered N to SSLRequest)"
            )
        _phase(trace, HANDSHAKING)
        await writer.start_tls(tls_context, server_hostname=host)
    elif answer == b"S":
        # the check did not ask for TLS, the server offers it: as libpq's sslmode=prefer (what
        # pg_isready does), take it unverified, since the question is only whether it serves
        _phase(trace, HANDSHAKING)
        await writer.start_tls(_unverified(), server_hostname=host)
    _phase(trace, WAITING_FOR_STARTUP)
    writer.write(POSTGRES_STARTUP)
    await writer.drain()
    return await _startup_answer(reader, writer)


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _startup_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """The server's first message after a StartupMessage, as libpq's ping reads it."""
    try:
        head = await reader.readexactly(5)
    except asyncio.IncompleteReadError as exc:
        raise TcpFailure(
            FailureClass.PROTOCOL,
            "postgres: connection closed without an answer to the StartupMessage"
            + (f" (sent {_show(exc.partial)})" if exc.partial else ""),
        ) from None
    kind, length = head[:1], struct.unpack("!I", head[1:])[0]
    if kind == b"R":
        # an authentication request (trust: AuthenticationOk): answering; say goodbye
        writer.write(POSTGRES_TERMINATE)
        return head
    if kind != b"E" or not 4 < length <= _MAX_ERROR_MESSAGE:
        more = head + await _some(reader)
        raise TcpFailure(
            FailureClass.PROTOCOL, f"not a PostgreSQL server: StartupMessage answered {_show(more)}"
        )
    try:
        fields = _error_fields(await reader.readexactly(length - 4))
    except asyncio.IncompleteReadError:
        raise TcpFailure(FailureClass.PROTOCOL, "postgres: error message cut short") from None
    code = fields.get("C", "")
    if code in POSTGRES_REFUSING:
        message = _server_text(fields.get("M", "")) or "no message"
        said = f"{message} (SQLSTATE {_server_text(code)})"
        raise TcpFailure(FailureClass.HEALTH, f"postgres {POSTGRES_REFUSING[code]}: {said}")
    # a login refused (28000, 28P01), no such database (3D000)…: a server that is serving
    return head


def _error_fields(body: bytes) -> dict[str, str]:
    """An ErrorResponse's fields: a type byte, then text up to a NUL; a NUL ends the list."""
    fields: dict[str, str] = {}
    for part in body.split(b"\0"):
        if part:
            fields.setdefault(chr(part[0]), part[1:].decode("utf-8", "replace"))
    return fields


def _server_text(text: str) -> str:
    """The server's words in a reason: one inert line, bounded."""
    line = neutralise(" ".join(text.split()))
    return line if len(line) <= 200 else line[:199] + "…"


async def _some(reader: asyncio.StreamReader) -> bytes:
    """What else is already there, to show a stranger's answer, without waiting for more."""
    try:
        return await asyncio.wait_for(reader.read(40), timeout=0.05)
    except TimeoutError:
        return b""


def _show(data: bytes) -> str:
    text = data[:60].decode("utf-8", errors="replace")
    return repr(text) + ("..." if len(data) > 60 else "")
