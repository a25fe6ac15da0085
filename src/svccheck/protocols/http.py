"""`http://` and `https://`: one request (redirects followed by hand), the answer read capped.

Connections are "lanes" (see `lanes`): single-connection httpx clients, a few
per origin, because httpcore's shared pool costs O(connections²) per request.
Redirects are followed here, not by httpx, so each hop takes a lane of its own
origin and carries only this check's cookies; bodies are capped, gzip and
deflate inflated no further than the cap.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import shlex
import ssl
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import ClassVar

import httpx

from svccheck._version import __version__
from svccheck.judge.evaluate import judge_http
from svccheck.model import Answer, Check, FailureClass, HttpRequest, Judgement
from svccheck.protocols.base import (
    Connector,
    Exchange,
    Origin,
    Protocol,
    exception_chain,
    first_line,
    own_target,
    unreachable,
)
from svccheck.protocols.certificate import peer_certificate
from svccheck.protocols.lanes import Lanes
from svccheck.protocols.shell import Reproduction, ShellSecrets, shell_word
from svccheck.protocols.tls import ssl_context
from svccheck.redact import is_sensitive_header, url_secrets

MAX_REDIRECTS = 5
RETRY_AFTER_CAP = 10.0
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
USER_AGENT = f"svccheck/{__version__}"


class TooManyRedirects(Exception):
    pass


class Http(Protocol):
    name = "http"
    schemes: ClassVar[tuple[str, ...]] = ("http", "https")

    def connector(self, *, total: int) -> Connector:
        return _HttpConnector(total=total)

    def origin(self, check: Check, verify: bool | str) -> Origin:
        return _origin(httpx.URL(check.url), verify)

    def may_retry(self, check: Check) -> bool:
        request = own_target(check, HttpRequest)
        return request.retry_unsafe or request.method not in ("POST", "PATCH")

    def transient(self, answer: Answer) -> bool:
        return answer.status_code in TRANSIENT_STATUS

    def retry_after(self, answer: Answer) -> float | None:
        return _retry_after(answer)

    def is_timeout(self, exc: BaseException) -> bool:
        return isinstance(exc, httpx.TimeoutException)

    def classify(self, exc: BaseException) -> tuple[FailureClass, str] | None:
        if isinstance(exc, TooManyRedirects):
            return FailureClass.PROTOCOL, str(exc)
        if isinstance(exc, httpx.RemoteProtocolError):
            return FailureClass.PROTOCOL, f"protocol error: {first_line(exc)}"
        if isinstance(exc, httpx.ReadError | httpx.WriteError):
            return FailureClass.PROTOCOL, f"connection broken: {first_line(exc) or type(exc).__name__}"
        if isinstance(exc, httpx.ConnectError):
            if unreachable(exception_chain(exc)):
                return FailureClass.REFUSED, "host unreachable"
            return FailureClass.REFUSED, f"connection failed: {first_line(exc)}"
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return FailureClass.PROTOCOL, f"bad request URL: {first_line(exc)}"
        if isinstance(exc, httpx.DecodingError):
            return FailureClass.PROTOCOL, f"cannot decode body: {first_line(exc)}"
        return None

    def judge(self, check: Check, answer: Answer) -> Judgement:
        return judge_http(check, answer)

    def verb(self, check: Check) -> str:
        return own_target(check, HttpRequest).method

    def request_lines(self, check: Check) -> list[str]:
        headers = list(own_target(check, HttpRequest).headers)
        if not any(name.lower() == "user-agent" for name, _ in headers):
            headers.insert(0, ("User-Agent", USER_AGENT))
        return [f"{self.verb(check)} {check.url}", *(f"{name}: {value}" for name, value in headers)]

    def request_body(self, check: Check) -> bytes | None:
        return own_target(check, HttpRequest).body

    def uses_tls(self, check: Check) -> bool:
        return check.url.lower().startswith("https:")

    def request_fields(self, check: Check) -> dict[str, object]:
        return {"method": own_target(check, HttpRequest).method}

    def reproduce(
        self,
        check: Check,
        *,
        secret_vars: Mapping[str, str],
        secrets: frozenset[str] | set[str],
        verify: bool | str,
        timeout: float,
    ) -> Reproduction:
        return curl_command(check, secret_vars=secret_vars, secrets=secrets, verify=verify, timeout=timeout)


PROTOCOL = Http()


class _HttpConnector(Connector):
    def __init__(self, *, total: int) -> None:
        self._lanes = Lanes(_new_client, total=total)

    async def aclose(self) -> None:
        await self._lanes.aclose()

    async def exchange(self, check: Check, attempt: Exchange) -> Answer:
        url = httpx.URL(check.url)
        verify = attempt.verify
        sends = own_target(check, HttpRequest)
        method = sends.method
        headers = dict(sends.headers)
        body = sends.body
        origin = hop_origin = _origin(url, verify)
        trace = attempt.trace
        start = trace.start
        extensions = {"trace": trace}
        # Cookies live only within this check's redirect chain: the lanes' clients keep none,
        # so no check's outcome depends on which check ran before it on the same origin.
        chain: httpx.Cookies | None = None
        hop_cookies: list[str] = []
        for _ in range(MAX_REDIRECTS + 1):
            async with self._lanes.lane(hop_origin) as client:
                request = client.build_request(
                    method,
                    url,
                    headers=headers,
                    content=body,
                    timeout=httpx.Timeout(attempt.timeout),
                    extensions=extensions,
                )
                if chain:
                    chain.set_cookie_header(request)
                response = await client.send(request, stream=True)
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
                        hop_origin = _origin(url, verify)
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
        raise TooManyRedirects(f"too many redirects (more than {MAX_REDIRECTS})")


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


def _origin(url: httpx.URL, verify: bool | str) -> Origin:
    return (url.scheme, url.host, url.port, verify if url.scheme == "https" else None)


_PLAIN_HTTP_LIMITS = httpx.Limits(max_connections=1, max_keepalive_connections=1)
_plain_http_context: list[ssl.SSLContext] = []


def _new_client(origin: Origin) -> httpx.AsyncClient:
    """A one-connection client for one origin (a lane).

    Plain HTTP lanes share a TLS context that loads no certificates (it is never
    used: every redirect hop picks its lane by scheme), so a fleet without
    HTTPS does not pay for reading the CA stores.
    """
    scheme, _, _, verify = origin
    if scheme == "https":
        context = ssl_context(verify if isinstance(verify, bool | str) else True)
    else:
        if not _plain_http_context:
            _plain_http_context.append(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        context = _plain_http_context[0]
    return httpx.AsyncClient(
        verify=context,
        limits=_PLAIN_HTTP_LIMITS,
        follow_redirects=False,
        trust_env=False,
        # stores and sends no cookie (no domain is allowed): a `Set-Cookie` cannot leak into the
        # next check; a check's own redirect chain carries its cookies itself (`exchange`)
        cookies=http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        headers={"User-Agent": USER_AGENT},
    )


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """Read at most `cap` decoded bytes: a huge or gzip-bomb body cannot exhaust memory.

    httpx inflates each raw chunk in full (a 64 KiB gzip chunk of zeros is 64 MiB),
    so gzip and deflate bodies are inflated here, never more than the room left.
    """
    inflater = _inflater(response.headers.get("content-encoding", ""))
    if inflater is None:
        return await _take(response.aiter_bytes(), cap)
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


def _retry_after(answer: Answer) -> float | None:
    value = answer.header("retry-after")
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds < 0:
        return 0.0
    return seconds if seconds <= RETRY_AFTER_CAP else None


def curl_command(
    check: Check,
    *,
    secret_vars: Mapping[str, str],
    secrets: Iterable[str],
    verify: bool | str,
    timeout: float,
) -> Reproduction:
    """`secret_vars` maps secret values to the variable each came from; `secrets` lists every secret value."""
    known = ShellSecrets.of(secret_vars, secrets)
    request = own_target(check, HttpRequest)
    words: list[str] = ["curl", "-sS", "-i"]
    if request.method == "HEAD":
        words.append("--head")
    elif request.method != "GET":
        words += ["-X", request.method]
    words += ["--max-time", f"{timeout:g}", "-L", "--max-redirs", str(MAX_REDIRECTS)]
    if verify is False:
        words.append("-k")
    elif isinstance(verify, str):
        words += ["--cacert", shlex.quote(verify)]
    if not any(name.lower() == "user-agent" for name, _ in request.headers):
        words += ["-A", shlex.quote(USER_AGENT)]
    for name, value in request.headers:
        where = f"header {name}"
        place: list[str] = []
        if is_sensitive_header(name):
            _, _, credential = value.partition(" ")
            place = [value, credential.strip()]
        words += ["-H", shell_word(known.split(f"{name}: {value}", where, place))]
    if request.body is not None:
        text = request.body.decode("utf-8", errors="replace")
        words += ["--data-binary", shell_word(known.split(text, "request body"))]
    # the URL's secrets as written there too (`%2F`, `+`): the decoded value alone is not in the line
    words.append(shell_word(known.split(check.url, "URL", url_secrets(check.url))))
    return Reproduction(" ".join(words), known.variables)
