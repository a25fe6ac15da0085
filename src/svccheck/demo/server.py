"""A tiny HTTP/1.1 server on `asyncio.start_server`, for the demo fleet, tests and benchmarks.

Why not `http.server`? It is one thread per connection, slow, and prints a
traceback or a log line for every client that goes away. This one serves any
number of listeners from one event loop in a daemon thread, keeps connections
alive, never prints anything, and lets a test misbehave on purpose.

Handlers
--------
A handler is ``async def handler(request: Request) -> Response | Raw``.

* Return a `Response`: the engine writes the status line, ``Content-Type``,
  ``Content-Length`` (always), ``Connection``, ``Date`` and ``Server``, then the
  body (none for ``HEAD``), and keeps the connection open for the next request
  unless the client asked to close it.
* Return a `Raw` to take over the socket: ``Raw(write)`` where
  ``async def write(writer: asyncio.StreamWriter) -> None`` writes whatever it
  likes (a malformed status line, half a body, one byte a second, nothing at
  all) and returns; the engine then closes the connection. To send a TCP reset
  instead, return `reset()`. `raw_bytes`, `hang`, `trickle` and `reset` build
  the common cases. A `Raw` that never returns is cancelled by
  `ServerThread.stop`.

A handler that raises gets a ``500`` JSON answer and the connection is closed;
the exception is kept in `ServerThread.errors` (never printed) so a test can
assert there were none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "Handler",
    "Raw",
    "Request",
    "Response",
    "Router",
    "ServerThread",
    "hang",
    "json_response",
    "raw_bytes",
    "reset",
    "serving",
    "trickle",
]

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
# An idle keep-alive connection is closed after this long, as real servers do
# (nginx: 75 s), so a forgotten client cannot pin a task forever.
KEEPALIVE_TIMEOUT = 60.0
SERVER_NAME = "svccheck-demo"

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REQUEST_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/(1\.[01])")
_ABSOLUTE_FORM = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


@dataclass(slots=True)
class Request:
    method: str
    path: str  # without the query string, not percent-decoded
    query: str  # the raw query string, without "?"
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes = b""
    version: str = "1.1"
    path_params: dict[str, str] = field(default_factory=dict)  # filled in by `Router`

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter (``?verbose`` gives ``""``)."""
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body)


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Raw:
    """Take over the connection: `write` owns the socket; it is closed afterwards."""

    write: Callable[[asyncio.StreamWriter], Awaitable[None]]


Handler = Callable[[Request], Awaitable[Response | Raw]]


def json_response(obj: Any, status: int = 200, content_type: str = "application/json") -> Response:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(status, body, {}, content_type)


# --- Raw behaviours for tests ---------------------------------------------------------


def raw_bytes(data: bytes) -> Raw:
    """Send `data` verbatim, then close: malformed status lines, truncated bodies..."""

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return Raw(write)


def hang() -> Raw:
    """Accept the request and never answer (until the server stops)."""

    async def write(writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    return Raw(write)


def trickle(data: bytes, interval: float, chunk: int = 1) -> Raw:
    """Send `data` `chunk` bytes at a time, `interval` seconds apart (slowloris in reverse)."""

    async def write(writer: asyncio.StreamWriter) -> None:
        for start in range(0, len(data), chunk):
            writer.write(data[start : start + chunk])
            await writer.drain()
            await asyncio.sleep(interval)

    return Raw(write)


def reset(after: bytes = b"") -> Raw:
    """Send `after` (say, headers and half a body), then a TCP RST (``connection reset by peer``)."""

    async def write(writer: asyncio.StreamWriter) -> None:
        if after:
            writer.write(after)
            await writer.drain()
        _abort_with_rst(writer)

    return Raw(write)


def _abort_with_rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER with a zero timeout turns close() into a reset.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# --- Routing ---------------------------------------------------------------------------


class Router:
    """Dispatch on method and path; ``{name}`` segments land in `Request.path_params`.

    Unknown paths answer 404 and known paths with another method 405, both as
    JSON naming `service`, the way API frameworks answer.
    """

    def __init__(self, service: str = SERVER_NAME) -> None:
        self.service = service
        self._exact: dict[str, dict[str, Handler]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, Handler]]] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        if "{" in path:
            regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
            table = next((t for p, t in self._patterns if p.pattern == regex.pattern), None)
            if table is None:
                table = {}
                self._patterns.append((regex, table))
        else:
            table = self._exact.setdefault(path, {})
        table[method.upper()] = handler

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, path, handler)
            return handler

        return register

    def static(self, method: str, path: str, response: Response) -> None:
        """Always answer `response` (encoded once: the common case for demo data)."""
        if isinstance(response.body, str):
            response = Response(
                response.status, response.body.encode(), response.headers, response.content_type
            )

        async def handler(request: Request) -> Response:
            return response

        self.add(method, path, handler)

    async def __call__(self, request: Request) -> Response | Raw:
        table = self._match(request)
        if table is None:
            return self._error(404, "not_found", f"no route for {request.method} {request.path}")
        handler = table.get(request.method)
        if handler is None and request.method == "HEAD":
            handler = table.get("GET")
        if handler is None:
            response = self._error(405, "method_not_allowed", f"{request.method} not allowed")
            response.headers["Allow"] = ", ".join(sorted(table))
            return response
        return await handler(request)

    def _match(self, request: Request) -> dict[str, Handler] | None:
        table = self._exact.get(request.path)
        if table is not None:
            return table
        for regex, candidate in self._patterns:
            found = regex.match(request.path)
            if found:
                request.path_params = found.groupdict()
                return candidate
        return None

    def _error(self, status: int, code: str, message: str) -> Response:
        return json_response({"error": code, "message": message, "service": self.service}, status)


# --- Wire format -----------------------------------------------------------------------


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_date_cache: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    # formatdate costs more than the rest of a response; a second's resolution is the format's.
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def _parse_head(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    found = _REQUEST_LINE.fullmatch(lines[0])
    if found is None:
        if lines[0].endswith(("HTTP/2.0", "HTTP/2")):
            raise _BadRequest(505, "only HTTP/1.x is served")
        raise _BadRequest(400, "malformed request line")
    method, target, version = found.groups()
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequest(400, "malformed header line")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    target = _ABSOLUTE_FORM.sub("", target) or "/"  # a proxy-style absolute URL
    path, _, query = target.partition("?")
    return Request(method.upper(), path, query, headers, b"", version)


async def _read_body(reader: asyncio.StreamReader, request: Request) -> bytes:
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    raw_length = request.headers.get("content-length")
    if raw_length is None:
        return b""
    if not raw_length.isdigit():
        raise _BadRequest(400, "malformed Content-Length")
    length = int(raw_length)
    if length > MAX_BODY_BYTES:
        raise _BadRequest(413, "request body too large")
    return await reader.readexactly(length) if length else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _BadRequest(400, "malformed chunk size") from None
        if size == 0:
            # Skip any trailer fields, up to the empty line that ends the message.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise _BadRequest(413, "request body too large")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the CRLF after each chunk


def _wants_keep_alive(request: Request) -> bool:
    tokens = {t.strip() for t in request.headers.get("connection", "").lower().split(",")}
    if request.version == "1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _encode(response: Response, *, keep_alive: bool, head_only: bool) -> bytes:
    body = response.body.encode() if isinstance(response.body, str) else response.body
    reason = _REASONS.get(response.status, "Unknown")
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    given = {k.lower() for k in response.headers}
    if "content-type" not in given and response.status not in (204, 304):
        lines.append(f"Content-Type: {response.content_type}")
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "connection"):
            lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head = ("\r\n".join(lines) + "\r\nServer: " + SERVER_NAME + "\r\nDate: ").encode("latin-1")
    return head + _http_date() + b"\r\n\r\n" + (b"" if head_only else body)


# --- Connections -----------------------------------------------------------------------


@dataclass(slots=True)
class _Listener:
    handler: Handler
    sock: socket.socket
    latency: float
    tls: ssl.SSLContext | None = None
    server: asyncio.Server | None = None


class _Connection:
    """One client connection: read requests, answer them, until either side closes."""

    def __init__(self, owner: ServerThread, listener: _Listener) -> None:
        self.owner = owner
        self.listener = listener

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._loop(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away or sent garbage: nothing to answer, nothing to print
        except asyncio.CancelledError:
            writer.transport.abort()  # server stopping: don't wait to flush to a peer that won't read
            raise
        except Exception as exc:  # a bug in the engine itself: keep it, never print it
            self.owner._record_error(exc)
        finally:
            writer.transport.close()
            self.owner._writers.discard(writer)

    async def _loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await self._next_request(reader, writer)
            if request is None:
                return
            keep_alive = _wants_keep_alive(request)
            if self.listener.latency > 0:
                await asyncio.sleep(self.listener.latency)
            try:
                result = await self.listener.handler(request)
                if not isinstance(result, Response | Raw):
                    raise TypeError(f"handler returned {type(result).__name__}, not Response or Raw")
            except Exception as exc:
                self.owner._record_error(exc)
                result = json_response({"error": "internal_error", "message": str(exc)}, 500)
                keep_alive = False
            if isinstance(result, Raw):
                await result.write(writer)
                return
            writer.write(_encode(result, keep_alive=keep_alive, head_only=request.method == "HEAD"))
            await writer.drain()
            if not keep_alive:
                return

    async def _next_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Request | None:
        """The next request, or None when the client closed (or sent garbage: answered 4xx)."""
        try:
            async with asyncio.timeout(KEEPALIVE_TIMEOUT):
                head = await self._read_head(reader)
                if head is None:
                    return None
                request = _parse_head(head)
                if request.headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                request.body = await _read_body(reader, request)
            return request
        except TimeoutError:
            return None
        except asyncio.LimitOverrunError:
            await self._refuse(writer, 431, "request header fields too large")
        except _BadRequest as exc:
            await self._refuse(writer, exc.status, str(exc))
        return None

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return None  # closed between requests (or mid-head: nothing sensible to answer)
            # RFC 9112 2.2: ignore empty lines before a request line.
            head = head.lstrip(b"\r\n")
            if head:
                return head[:-4]

    @staticmethod
    async def _refuse(writer: asyncio.StreamWriter, status: int, message: str) -> None:
        response = json_response({"error": "bad_request", "message": message}, status)
        writer.write(_encode(response, keep_alive=False, head_only=False))
        await writer.drain()


# --- The thread ------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        # Lets `svccheck demo --serve` restart on 8080 while old sockets sit in TIME_WAIT
        # (as asyncio does; on Windows the option would let two servers share a port).
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(512)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _quiet_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Peers that vanish mid-write are routine for a test server, not news.
    if isinstance(context.get("exception"), ConnectionError | asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


class ServerThread:
    """One asyncio loop in a daemon thread, serving any number of listeners.

    >>> with ServerThread() as servers:
    ...     port = servers.add(handler)          # bound at once, before or after start
    ...     httpx.get(f"http://127.0.0.1:{port}/")

    `add` binds in the caller's thread, so the port is known (and a busy port
    raises OSError) immediately; the listener starts accepting when the loop
    runs. `stop` closes listeners and connections, cancels handlers still
    running (a `hang()` included) and joins the thread; a stopped instance
    cannot be restarted.
    """

    def __init__(self, name: str = SERVER_NAME) -> None:
        self.name = name
        self.errors: deque[BaseException] = deque(maxlen=100)
        self._lock = threading.Lock()
        self._listeners: list[_Listener] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._writers: set[asyncio.StreamWriter] = set()  # open connections; loop thread only

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopped

    @property
    def ports(self) -> list[int]:
        return [int(listener.sock.getsockname()[1]) for listener in self._listeners]

    def add(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: float = 0.0,
        tls: ssl.SSLContext | None = None,
    ) -> int:
        """Listen on host:port (0 = ephemeral) and return the bound port.

        `latency` seconds pass before each answer, to stand in for a slow service;
        `tls` serves HTTPS with that server-side context.
        """
        if latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency}")
        with self._lock:
            if self._stopped:
                raise RuntimeError("this ServerThread has been stopped")
            listener = _Listener(handler, _bind(host, port), latency, tls)
            self._listeners.append(listener)
            bound = int(listener.sock.getsockname()[1])
            if self._loop is not None:
                self._call(self._open(listener))
        return bound

    def start(self) -> ServerThread:
        with self._lock:
            if self._stopped:
                raise RuntimeError("this ServerThread has been stopped")
            if self._thread is not None:
                return self
            loop = asyncio.new_event_loop()
            loop.set_exception_handler(_quiet_exception_handler)
            self._loop = loop
            self._thread = threading.Thread(target=self._run, args=(loop,), name=self.name, daemon=True)
            self._thread.start()
            for listener in self._listeners:
                self._call(self._open(listener))
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Close every listener and connection and join the thread; idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                self._close_sockets()
                return
            if threading.current_thread() is thread:
                raise RuntimeError("stop() called from the server's own thread")
            with contextlib.suppress(Exception):
                self._call(self._shutdown(timeout / 2), timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._close_sockets()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record_error(self, exc: BaseException) -> None:
        self.errors.append(exc)

    def _call(self, coro: Coroutine[Any, Any, None], timeout: float = 5.0) -> None:
        assert self._loop is not None
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("ServerThread methods cannot be called from a handler")
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                _cancel_all(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self, listener: _Listener) -> None:
        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Awaitable[None]:
            # Called synchronously on accept, so `_shutdown` sees every connection,
            # even one whose task has not run yet.
            self._writers.add(writer)
            return _Connection(self, listener).serve(reader, writer)

        listener.server = await asyncio.start_server(
            on_connect, sock=listener.sock, limit=MAX_HEADER_BYTES, ssl=listener.tls
        )

    async def _shutdown(self, grace: float) -> None:
        for listener in self._listeners:
            if listener.server is not None:
                listener.server.close()  # stops accepting and closes the listening socket now
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def _close_sockets(self) -> None:
        for listener in self._listeners:
            listener.sock.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    # Like asyncio.run's cleanup: tasks left pending would warn when collected.
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=0.5))


@contextlib.contextmanager
def serving(handler: Handler, *, latency: float = 0.0) -> Iterator[str]:
    """Serve one handler on an ephemeral loopback port; yields its base URL (for tests)."""
    with ServerThread() as servers:
        port = servers.add(handler, latency=latency)
        yield f"http://127.0.0.1:{port}"
