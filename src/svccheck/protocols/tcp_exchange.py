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
from svccheck.protocols.base import Connector, Exchange, own_target
from svccheck.protocols.timing import CONNECTING, HANDSHAKING, WAITING, AttemptTrace
from svccheck.protocols.tls import ssl_context

REDIS_PING = b"*1\r\n$4\r\nPING\r\n"
REDIS_ANSWERING = (b"+PONG", b"-NOAUTH", b"-WRONGPASS")
POSTGRES_SSL_REQUEST = struct.pack("!II", 8, 80877103)
MAX_ANSWER = 512


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
