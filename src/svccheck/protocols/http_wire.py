"""HTTP/1.1 under httpx on llhttp (`httptools`, the parser Node.js uses): the `fast` extra's transport.

httpx stays the client API: this is an `httpx.AsyncBaseTransport`, the seam httpx
offers for what sits under it. httpcore's pure-Python HTTP/1.1 (h11 on anyio)
costs about 1 ms of CPU per request on a 2-CPU machine; here the bytes are
parsed in C and the socket is an asyncio protocol, no stream layers between.

What the default transport gives and the rest of svccheck relies on, kept:
- the `trace` extension with httpcore's event names (`timing.AttemptTrace`
  reads them: connect, TLS, response headers), so the DNS / connect / TLS /
  TTFB breakdown and a timeout's phase read the same;
- errors as httpx's exceptions (`ConnectError`, `ReadError`,
  `RemoteProtocolError`, `LocalProtocolError`) caused by the operating system's
  or TLS error, whose chain `classify_error` reads; a malformed or missing
  head is reported as h11 reports it (h11 waits for the end of the head);
- the `network_stream` extension (`get_extra_info("ssl_object")`) for the peer
  certificate, `http_version` and `reason_phrase`;
- the raw body as a stream, read only as fast as it is consumed (reading is
  paused above `HIGH_WATER` buffered bytes), so `http_transport`'s cap and
  bounded inflation hold; closing a response early closes its connection.

One transport is one lane (`lanes`): it keeps at most one idle keep-alive
connection. The attempt's time bound is the engine's (`asyncio.timeout` around
the whole exchange); cancelling an exchange closes its connection. HTTP/2 is
not spoken here: a client that asks for it keeps httpx's own transport.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, cast

import httptools
import httpx

HIGH_WATER = 256 * 1024  # buffered body bytes above which the socket is not read
LOW_WATER = 64 * 1024
MAX_HEAD = 64 * 1024  # a response head larger than this is refused (h11's own limit is 16 KiB)

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_BAD_VALUE = re.compile(rb"[\x00\r\n]")
_HEAD_END = re.compile(rb"\r?\n\r?\n")


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; the response being read, if any, gets its bytes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.response: _ResponseReader | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is one too, without subclassing asyncio.Transport)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.response is None:
            self.close()  # bytes nobody asked for on an idle connection: it cannot be reused
            return
        self.response.feed(data)

    def eof_received(self) -> bool:
        self.closed = True
        if self.response is not None:
            self.response.feed_eof()
        return False  # let asyncio close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.response is not None:
            self.response.lost(exc)

    @property
    def reusable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _ResponseReader:
    """httptools' callbacks for one response: its head, then its body chunks as they come."""

    def __init__(self, connection: _Connection, head_only: bool) -> None:
        self._connection = connection
        self._head_only = head_only
        self._parser = httptools.HttpResponseParser(self)
        self._head = bytearray()  # the bytes of the head so far, to report as h11 does
        self._deferred: Exception | None = None
        self._interim = False
        self.status_code = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = False
        self.http_version = b"HTTP/1.1"
        self.keep_alive = False
        self._until_close = False
        self._length: int | None = None
        self.received = 0
        self.chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self.complete = False
        self.error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None

    # --- fed by the connection ---

    def feed(self, data: bytes) -> None:
        if self.error is not None or self.complete:
            return
        if not self.head_done:
            self._head += data
            if self._deferred is not None:
                self._fail_when_head_ends()
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            if self.head_done:
                self._fail(httpx.RemoteProtocolError(f"malformed response body: {exc}"), exc)
            else:
                what = "illegal status line" if not self.status_code else "illegal header"
                self._deferred = httpx.RemoteProtocolError(f"{what}: {bytes(self._head[:200])!r} ({exc})")
                self._deferred.__cause__ = exc
                self._fail_when_head_ends()
        if not self.head_done and len(self._head) > MAX_HEAD and self.error is None:
            self._fail(httpx.RemoteProtocolError("the response head is too long"))

    def _fail_when_head_ends(self) -> None:
        # h11 reads a whole head before judging it: what is not HTTP waits for the end of the
        # head (or the connection), and the reason is the same whichever transport ran
        if self._deferred is not None and (_HEAD_END.search(self._head) or len(self._head) > MAX_HEAD):
            self._fail(self._deferred)

    def feed_eof(self) -> None:
        if self.error is not None or self.complete:
            return
        if not self.head_done:
            self._fail(httpx.RemoteProtocolError("Server disconnected without sending a response."))
        elif self._until_close:
            self.complete = True
            self._wake()
        else:
            expected = f"expected {self._length}" if self._length is not None else "incomplete chunked read"
            self._fail(
                httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body"
                    f" (received {self.received} bytes, {expected})"
                )
            )

    def lost(self, exc: Exception | None) -> None:
        if exc is None:
            self.feed_eof()
        elif self.error is None and not self.complete:
            self._fail(httpx.ReadError(str(exc) or type(exc).__name__), exc)

    # --- httptools' callbacks ---

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self._parser
        self.status_code = status = parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # 100 Continue, 103 Early Hints: the answer follows
            self._interim = True
            self.headers, self.reason = [], b""
            return
        self.http_version = b"HTTP/" + parser.get_http_version().encode("ascii")
        self.keep_alive = parser.should_keep_alive()
        length = chunked = None
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length = value
            elif lowered == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        with_body = not (self._head_only or status in (204, 304))
        self._length = int(length) if with_body and length is not None and length.strip().isdigit() else None
        self._until_close = with_body and length is None and not chunked
        self.head_done = True
        self._head = bytearray()
        if self._head_only:
            self.complete = True
            self.keep_alive = False  # a HEAD answer's length describes a body that is not sent
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.received += len(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self._connection.transport is not None:
            self._paused = True
            self._connection.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self.complete = True
        self.keep_alive = self.keep_alive and self._parser.should_keep_alive()
        self._wake()

    # --- read by the exchange ---

    def _fail(self, error: Exception, cause: BaseException | None = None) -> None:
        if cause is not None:
            error.__cause__ = cause
        self.error = error
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def head(self) -> None:
        while not self.head_done:
            if self.error is not None:
                raise self.error
            await self.wait()

    def take(self) -> bytes:
        chunk = self.chunks.popleft()
        self._buffered -= len(chunk)
        if self._paused and self._buffered < LOW_WATER and self._connection.transport is not None:
            self._paused = False
            self._connection.transport.resume_reading()
        return chunk


class _NetworkStream:
    """What `network_stream` offers of the connection: `get_extra_info` (the TLS object)."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    def get_extra_info(self, name: str) -> Any:
        transport = self._connection.transport
        return transport.get_extra_info(name) if transport is not None else None


class _Body(httpx.AsyncByteStream):
    def __init__(self, owner: WireTransport, connection: _Connection, reader: _ResponseReader) -> None:
        self._owner = owner
        self._connection = connection
        self._reader = reader
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader = self._reader
        while True:
            if reader.chunks:
                yield reader.take()
            elif reader.error is not None:
                raise reader.error
            elif reader.complete:
                return
            else:
                await reader.wait()

    async def aclose(self) -> None:
        if not self._released:
            self._released = True
            self._owner.release(self._connection, self._reader)


class WireTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 for one lane: one connection at a time, kept alive between requests."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self._idle: _Connection | None = None
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
        head = _request_head(request)
        content = await request.aread()
        trace = request.extensions.get("trace")
        connection, self._idle = self._idle, None
        if connection is not None and not connection.reusable:
            self._forget(connection)
            connection = None
        if connection is None:
            connection = await self._connect(url, trace)
        reader = _ResponseReader(connection, head_only=request.method == "HEAD")
        connection.response = reader
        if connection.closed:  # the peer closed a fresh connection before it was asked anything
            reader.feed_eof()
        try:
            assert connection.transport is not None
            connection.transport.write(head + content if content else head)
            await reader.head()
        except BaseException:
            self._forget(connection)
            raise
        if trace is not None:
            await trace("http11.receive_response_headers.complete", {"request": request})
        return httpx.Response(
            reader.status_code,
            headers=reader.headers,
            stream=_Body(self, connection, reader),
            extensions={
                "http_version": reader.http_version,
                "reason_phrase": reader.reason,
                "network_stream": _NetworkStream(connection),
            },
        )

    async def _connect(self, url: httpx.URL, trace: Any) -> _Connection:
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        loop = asyncio.get_running_loop()
        info = {"host": host, "port": port, "local_address": None, "timeout": None, "socket_options": None}
        if trace is not None:
            await trace("connection.connect_tcp.started", info)
        try:
            transport, connection = await loop.create_connection(_Connection, host, port)
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        self._open.add(connection)
        if trace is not None:
            await trace("connection.connect_tcp.complete", {"return_value": None})
        if url.scheme == "https":
            if trace is not None:
                info = {"ssl_context": self._context, "server_hostname": host, "timeout": None}
                await trace("connection.start_tls.started", info)
            try:
                tls = await loop.start_tls(transport, connection, self._context, server_hostname=host)
            except BaseException as exc:
                self._forget(connection)
                if isinstance(exc, OSError | ssl.SSLError):
                    raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
                raise
            if tls is None:  # the peer went away during the handshake
                self._forget(connection)
                raise httpx.ConnectError("the connection closed during the TLS handshake")
            connection.transport = tls
            if trace is not None:
                await trace("connection.start_tls.complete", {"return_value": None})
        return connection

    def release(self, connection: _Connection, reader: _ResponseReader) -> None:
        """A response is closed: keep its connection for the next request when it can be reused."""
        connection.response = None
        reusable = reader.complete and reader.error is None and reader.keep_alive and connection.reusable
        if reusable and self._idle is None:
            self._idle = connection
        else:
            self._forget(connection)

    def _forget(self, connection: _Connection) -> None:
        connection.response = None
        connection.close()
        self._open.discard(connection)

    async def aclose(self) -> None:
        self._idle = None
        for connection in list(self._open):
            self._forget(connection)


def _request_head(request: httpx.Request) -> bytes:
    """The request line and headers, refused when the manifest put a line break into them."""
    method = request.method.encode("ascii")
    if not _TOKEN.match(method):
        raise httpx.LocalProtocolError(f"illegal method: {method!r}")
    target = request.url.raw_path
    if _BAD_VALUE.search(target) or b" " in target:
        raise httpx.LocalProtocolError("illegal request target")
    lines = [method + b" " + target + b" HTTP/1.1"]
    for name, value in request.headers.raw:
        if not _TOKEN.match(name):
            raise httpx.LocalProtocolError(f"Illegal header name {name!r}")
        if _BAD_VALUE.search(value):
            raise httpx.LocalProtocolError(f"Illegal header value for {name!r}")
        lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n"
