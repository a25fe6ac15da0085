"""The HTTP exchange itself, on httpx: imported only when a run sends an HTTP request.

Connections are "lanes" (see `lanes`): single-connection httpx clients, a few
per origin, because httpcore's shared pool costs O(connections²) per request.
Redirects are followed here, not by httpx, so each hop takes a lane of its own
origin and carries only this check's cookies; bodies are capped, gzip and
deflate inflated no further than the cap. `svccheck validate`, `list` and
`schema` never load this module, nor httpx (about 0.15 s of start-up here).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
import ssl
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

import httpx

from svccheck.model import Answer, Check, HttpRequest
from svccheck.protocols.base import Connector, Exchange, Origin, own_target
from svccheck.protocols.certificate import peer_certificate
from svccheck.protocols.http_choice import wire_module
from svccheck.protocols.lanes import Lanes
from svccheck.protocols.tls import ssl_context
from svccheck.redact import is_sensitive_header

MAX_REDIRECTS = 5


def _warm(checks: Sequence[Check]) -> None:
    """Import what these checks' lanes will load on their first connection, before any attempt's
    clock starts, so that no check's latency includes it (a loopback Redis PING beside an HTTP
    check once measured 93 ms): the TLS trust store for HTTPS, and httpx's own transport
    (httpcore, h11, h2, anyio's asyncio backend: 71 modules, ~37 ms here) only where it serves,
    without the fast transport or for HTTP/2; the fast transport (`http_wire`) uses none of them."""
    requests = [own_target(check, HttpRequest) for check in checks]
    if any(check.url.lower().startswith("https:") for check in checks):
        with contextlib.suppress(ImportError):  # what `tls.ssl_context` verifies with
            importlib.import_module("truststore")
            importlib.import_module("certifi").where()  # its resource readers: importlib, zipfile
    if wire_module() is not None and not any(request.http2 for request in requests):
        return
    with contextlib.suppress(ImportError):  # anyio's internals may move; then the first request pays
        importlib.import_module("httpcore")
        importlib.import_module("anyio._backends._asyncio")


class TooManyRedirects(Exception):
    pass


class HttpConnector(Connector):
    def __init__(self, *, total: int, user_agent: str, max_redirects: int) -> None:
        self._lanes = Lanes(lambda origin: new_lane(origin, user_agent), total=total)
        self._max_redirects = max_redirects

    def prepare(self, checks: Sequence[Check]) -> None:
        _warm(checks)

    async def aclose(self) -> None:
        await self._lanes.aclose()

    async def exchange(self, check: Check, attempt: Exchange) -> Answer:
        url = parsed_url(check.url)
        verify = attempt.verify
        sends = own_target(check, HttpRequest)
        method = sends.method
        headers = dict(sends.headers)
        if attempt.traceparent is not None:
            headers["traceparent"] = attempt.traceparent
            if attempt.tracestate is not None:
                headers["tracestate"] = attempt.tracestate
        body = sends.body
        tls_setting = lane_setting(verify, sends)
        origin = hop_origin = origin_of(url, tls_setting)
        trace = attempt.trace
        start = trace.start
        extensions = {"trace": trace, "timeout": httpx.Timeout(attempt.timeout).as_dict()}
        # Cookies live only within this check's redirect chain: the lanes' clients keep none,
        # so no check's outcome depends on which check ran before it on the same origin.
        chain: httpx.Cookies | None = None
        hop_cookies: list[str] = []
        for _ in range(self._max_redirects + 1):
            async with self._lanes.lane(hop_origin) as lane:
                request = lane.request(method, url, headers, body, extensions)
                if chain:
                    chain.set_cookie_header(request)
                response = await lane.send(request)
                try:
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        set_cookies = [v for k, v in _headers(response) if k == "set-cookie"]
                        if set_cookies:
                            hop_cookies.extend(set_cookies)
                            chain = chain if chain is not None else httpx.Cookies()
                            chain.extract_cookies(response)
                        url = response.url.join(location)
                        if response.status_code == 303 or (
                            response.status_code in (301, 302) and method == "POST"
                        ):
                            method, body = "GET", None
                        hop_origin = origin_of(url, tls_setting)
                        if hop_origin != origin:
                            headers = {k: v for k, v in headers.items() if not is_sensitive_header(k)}
                        continue
                    data, truncated = await _read_capped(response, attempt.body_cap)
                    certificate = peer_certificate(response.extensions) if url.scheme == "https" else None
                finally:
                    await response.aclose()
            end = time.perf_counter()
            return Answer(
                status_text=f"HTTP {response.status_code}",
                headers=_headers(response),
                body=data,
                truncated=truncated,
                latency=end - start,
                version=response.http_version,
                url=str(response.url),
                status_code=response.status_code,
                timings=trace.timings(end),
                certificate=certificate,
                hop_cookies=tuple(hop_cookies),
            )
        raise TooManyRedirects(f"too many redirects (more than {self._max_redirects})")


def _headers(response: httpx.Response) -> tuple[tuple[str, str], ...]:
    """Header names lower-cased, values decoded as UTF-8, each on its own.

    httpx decodes every value of a response with one encoding, Latin-1 as soon as
    one value is not UTF-8, which turns a UTF-8 U+202E into "â\\x80®", a C1 control
    on screen. A byte that is not UTF-8 shows as a visible ``\\xNN``.
    """
    return tuple(
        (name.decode("latin-1").lower(), value.decode("utf-8", "backslashreplace"))
        for name, value in response.headers.raw
    )


# httpx parses a URL in about 50 calls of pure Python; a check's URL is parsed once per process
# (the engine asks for its origin, then the exchange for the URL, on every attempt and round)
@functools.lru_cache(maxsize=16384)
def parsed_url(url: str) -> httpx.URL:
    return httpx.URL(url)


def lane_setting(verify: bool | str, request: HttpRequest) -> object:
    """What a lane's TLS is: the verification, and with it a client certificate and HTTP/2 when a
    check asks for them, so that no check is handed a connection made for another's settings."""
    if request.client_cert is None and not request.http2:
        return verify
    return (verify, request.client_cert, request.http2)


def origin_of(url: httpx.URL | str, verify: object) -> Origin:
    """Where a request goes, as httpx normalises it (host case, default ports): its lane and gate."""
    url = parsed_url(url) if isinstance(url, str) else url
    return (url.scheme, url.host, url.port, verify if url.scheme == "https" else None)


_PLAIN_HTTP_LIMITS = httpx.Limits(max_connections=1, max_keepalive_connections=1)
_plain_http_context: list[ssl.SSLContext] = []


@functools.cache
def _default_headers(user_agent: str) -> tuple[tuple[tuple[bytes, bytes, bytes], ...], frozenset[bytes]]:
    """What httpx's client sends with every request (Accept, Accept-Encoding as its decoders
    allow, Connection), read from a client once, with svccheck's User-Agent: each header as
    (name, lowercased name, value), and the lowercased names."""
    # a transport of its own, or the client would make httpx's default one (importing httpcore)
    unused = httpx.AsyncBaseTransport()
    client = httpx.AsyncClient(headers={"User-Agent": user_agent}, transport=unused, trust_env=False)
    headers = tuple((name, name.lower(), value) for name, value in client.headers.raw)
    return headers, frozenset(lowered for _, lowered, _ in headers)


class Lane:
    """One origin's connection (a lane of `lanes`): an httpx transport and the headers every request
    carries, without httpx's client around them.

    A lane sends one request at a time and needs nothing else the client adds: no redirects
    (`exchange` follows them), no cookie jar (a check's chain carries its own), no auth but a
    URL's `user:password@` (Basic, as the client sends it), no base URL. Without the client's
    layers, a 1,000-check run took 527 ms instead of 572 (whole process, medians of 11); requests
    and responses stay httpx's own.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, user_agent: str) -> None:
        self.transport = transport
        self._defaults, self._default_names = _default_headers(user_agent)

    def request(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        content: bytes | None,
        extensions: dict[str, object],
    ) -> httpx.Request:
        """The request `httpx.AsyncClient.build_request` makes, header for header and in its order:
        Host (and `Content-Length: 0` for a POST, PUT or PATCH without a body), the lane's
        headers, the check's over them, the body's length, a URL's `user:password@` as Basic.

        Given as a stream, so that httpx does not work the automatic headers out again (four
        copies of the header list and an encoding guess per request; ~8% of a 1,000-check run)."""
        method = method.upper()
        own = httpx.Headers(headers).raw  # the check's, encoded (and refused) as httpx does
        names = {name.lower() for name, _ in own}
        raw = [(name, value) for name, lowered, value in self._defaults if lowered not in names]
        raw += own
        names |= self._default_names
        auto: list[tuple[bytes, bytes]] = []
        if b"host" not in names and url.host:
            auto.append((b"Host", url.netloc))
        sized = bool(names & {b"content-length", b"transfer-encoding"})
        if content and b"content-length" not in names:
            raw.append((b"Content-Length", str(len(content)).encode("ascii")))
        elif not content and not sized and method in ("POST", "PUT", "PATCH"):
            auto.append((b"Content-Length", b"0"))
        stream = httpx.ByteStream(content or b"")
        request = httpx.Request(method, url, headers=auto + raw, stream=stream, extensions=extensions)
        if url.userinfo:  # `user:password@` in the URL is Basic auth, added last as httpx's client does
            userpass = f"{url.username}:{url.password}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(userpass).decode("ascii")
        return request

    async def send(self, request: httpx.Request) -> httpx.Response:
        """The response, its body not read yet (as `send(stream=True)`)."""
        response = await self.transport.handle_async_request(request)
        response.request = request
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> Lane:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def new_lane(origin: Origin, user_agent: str) -> Lane:
    """A one-connection lane for one origin.

    Plain HTTP lanes share a TLS context that loads no certificates (it is never
    used: every redirect hop picks its lane by scheme), so a fleet without
    HTTPS does not pay for reading the CA stores.
    """
    scheme, _, _, setting = origin
    http2 = False
    if scheme == "https":
        verify, client, http2 = setting if isinstance(setting, tuple) else (setting, None, False)
        context = ssl_context(verify if isinstance(verify, bool | str) else True, client, http2=http2)
    else:
        if not _plain_http_context:
            _plain_http_context.append(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        context = _plain_http_context[0]
    wire = wire_module()
    transport: httpx.AsyncBaseTransport
    if wire is not None and not http2:  # HTTP/2 is httpx's own (h2); the fast transport speaks HTTP/1.1
        transport = wire.WireTransport(context)
    else:
        transport = httpx.AsyncHTTPTransport(
            verify=context,
            http2=http2,  # h2 is offered in the handshake (ALPN) only: plain http:// stays HTTP/1.1
            limits=_PLAIN_HTTP_LIMITS,
            trust_env=False,
        )
    return Lane(transport, user_agent)


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """Read at most `cap` decoded bytes: a huge or gzip-bomb body cannot exhaust memory.

    httpx inflates each raw chunk in full (a 64 KiB gzip chunk of zeros is 64 MiB),
    so gzip and deflate bodies are inflated here, never more than the room left.
    """
    content_encoding = response.headers.get("content-encoding", "")
    inflater = _inflater(content_encoding)
    if inflater is None:
        # identity: the raw chunks as they are, without httpx's per-chunk decoder and re-chunker
        plain = content_encoding.strip().lower() in ("", "identity")
        return await _take(response.aiter_raw() if plain else response.aiter_bytes(), cap)
    async with contextlib.aclosing(inflater.inflate(response.aiter_raw(), cap + 1)) as chunks:
        return await _take(chunks, cap)


async def _take(chunks: AsyncIterator[bytes], cap: int) -> tuple[bytes, bool]:
    kept: list[bytes] = []
    size = 0
    async for chunk in chunks:
        room = cap - size
        if len(chunk) > room:
            kept.append(chunk[:room])
            return b"".join(kept), True
        kept.append(chunk)
        size += len(chunk)
    return b"".join(kept), False


class _Inflater:
    """Incremental gzip/deflate decoding with a bound on the output (zlib's max_length)."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding

    def _decompressor(self, raw_deflate: bool = False) -> zlib._Decompress:
        if self._encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | 16)

    async def inflate(self, raw: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
        decompressor = self._decompressor()
        produced = 0
        first = True
        async for chunk in raw:
            try:
                data = decompressor.decompress(chunk, limit - produced)
            except zlib.error as exc:
                if not (first and self._encoding == "deflate"):
                    raise httpx.DecodingError(f"{self._encoding}: {exc}") from None
                # some servers send raw deflate without the zlib header, as httpx tolerates
                decompressor = self._decompressor(raw_deflate=True)
                try:
                    data = decompressor.decompress(chunk, limit - produced)
                except zlib.error as again:
                    raise httpx.DecodingError(f"{self._encoding}: {again}") from None
            first = False
            produced += len(data)
            yield data
            if produced >= limit:
                return


def _inflater(content_encoding: str) -> _Inflater | None:
    encoding = content_encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _Inflater("deflate" if encoding == "deflate" else "gzip")
    return None  # identity, or an encoding httpx decodes itself (br, zstd, lists of codings)
