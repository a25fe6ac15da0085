"""The only code that touches the network.

Connections are "lanes" (see `lanes`): single-connection httpx clients, a few
per origin, because httpcore's shared pool costs O(connections²) per request;
in-flight requests are capped by a semaphore (`--concurrency`) and never wait
in httpx's pool queue, which collapses under a large `gather`; each attempt
bounded as a whole (connect + headers + body) because httpx's read timeout
is per read; bodies capped; transient failures retried by tenacity with
exponential backoff and jitter, honouring `Retry-After`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import http.cookiejar
import socket
import ssl
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from svccheck import tcp_probe
from svccheck._version import __version__
from svccheck.certificate import peer_certificate
from svccheck.durations import format_duration
from svccheck.lanes import Lanes, Origin
from svccheck.model import Attempt, Check, FailureClass, ProbeOutcome, Snapshot
from svccheck.redact import is_sensitive_header
from svccheck.timing import CONNECTING, HANDSHAKING, AttemptTrace, DnsTimer

if TYPE_CHECKING:
    from tenacity import RetryCallState

DEFAULT_BODY_CAP = 1024 * 1024
PER_ORIGIN_CONNECTIONS = 10
MAX_REDIRECTS = 5
RETRY_AFTER_CAP = 10.0
BACKOFF_CAP = 10.0
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
TRANSIENT_CLASSES = frozenset(
    {FailureClass.REFUSED, FailureClass.TIMEOUT, FailureClass.PROTOCOL, FailureClass.DNS}
)
# An exception of these classes means no connection was made (a timeout: see its phase).
CONNECT_CLASSES = frozenset({FailureClass.REFUSED, FailureClass.DNS, FailureClass.TLS})


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    concurrency: int = 100
    per_origin: int = PER_ORIGIN_CONNECTIONS  # connections to one origin at most
    body_cap: int = DEFAULT_BODY_CAP
    request_timeout: float | None = None  # overrides each check's timeout
    retries: int | None = None  # overrides each check's retries
    insecure: bool = False

    def verify_for(self, check: Check) -> bool | str:
        """The TLS verification a check runs with: --insecure wins over the manifest."""
        return False if self.insecure else check.verify_tls


@dataclass
class _AttemptResult:
    snapshot: Snapshot | None
    failure_class: FailureClass | None
    reason: str | None
    latency: float
    retry_after: float | None = None
    transient: bool = False
    connect_failed: bool = False


@dataclass
class Progress:
    """Attempts so far, per check; readable after a probe is cancelled by the deadline."""

    attempts: dict[tuple[str, str], list[Attempt]] = field(default_factory=dict)


class Prober:
    def __init__(self, settings: ProbeSettings) -> None:
        self.settings = settings
        self.progress = Progress()
        concurrency = max(1, settings.concurrency)
        self._slots = asyncio.Semaphore(concurrency)
        self._lanes = Lanes(_new_client, per_origin=min(settings.per_origin, concurrency), total=concurrency)
        self._dns = DnsTimer()

    async def __aenter__(self) -> Prober:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._dns.close()
        await self._lanes.aclose()

    async def probe(self, check: Check) -> ProbeOutcome:
        started = time.perf_counter()
        timeout = self.settings.request_timeout or check.timeout
        retries = check.retries if self.settings.retries is None else self.settings.retries
        may_retry = check.retry_unsafe or check.method not in ("POST", "PATCH")
        history = self.progress.attempts.setdefault(check.key, [])
        verify = self.settings.verify_for(check)

        url = httpx.URL(check.url)
        # the origin's gate before a global slot: checks queued on a busy origin hold no slot
        gate = self._lanes.gate(_origin(url, verify))

        async def attempt() -> _AttemptResult:
            async with gate, self._slots:
                result = await self._attempt(check, url, verify, timeout)
            history.append(
                Attempt(
                    number=len(history) + 1,
                    status_code=result.snapshot.status_code if result.snapshot else None,
                    failure_class=result.failure_class,
                    reason=result.reason,
                    latency=result.latency,
                )
            )
            return result

        last = await attempt()
        max_attempts = 1 + (retries if may_retry else 0)
        if last.transient and max_attempts > 1:
            last = await _retry(last, attempt, history, max_attempts, check.backoff)
        return ProbeOutcome(
            snapshot=last.snapshot,
            failure_class=last.failure_class,
            reason=last.reason,
            attempts=tuple(history),
            elapsed=time.perf_counter() - started,
            connect_failed=last.connect_failed,
        )

    async def _attempt(
        self, check: Check, url: httpx.URL, verify: bool | str, attempt_timeout: float
    ) -> _AttemptResult:
        start = time.perf_counter()
        trace = AttemptTrace(self._dns, start)
        try:
            async with asyncio.timeout(attempt_timeout):
                if check.tcp is not None:
                    snapshot = await self._tcp_exchange(check, verify, trace)
                else:
                    snapshot = await self._exchange(check, url, verify, attempt_timeout, trace)
        except (TimeoutError, httpx.TimeoutException):
            # where it stalled tells a listener that never answers from a slow body or a dead host
            stalled = "" if check.tcp is not None else f" {trace.phase}"
            return _AttemptResult(
                None,
                FailureClass.TIMEOUT,
                f"timed out after {format_duration(attempt_timeout)}{stalled}",
                time.perf_counter() - start,
                transient=True,
                connect_failed=trace.phase in (CONNECTING, HANDSHAKING),
            )
        except _TooManyRedirects as exc:
            return _AttemptResult(None, FailureClass.PROTOCOL, str(exc), time.perf_counter() - start)
        except Exception as exc:  # every network failure becomes a classified verdict, never a traceback
            failure_class, reason = classify_error(exc)
            return _AttemptResult(
                None,
                failure_class,
                reason,
                time.perf_counter() - start,
                transient=failure_class in TRANSIENT_CLASSES,
                connect_failed=failure_class in CONNECT_CLASSES,
            )
        transient = snapshot.status_code in TRANSIENT_STATUS
        return _AttemptResult(
            snapshot,
            None,
            None,
            snapshot.latency,
            retry_after=_retry_after(snapshot) if transient else None,
            transient=transient,
        )

    async def _exchange(
        self, check: Check, url: httpx.URL, verify: bool | str, attempt_timeout: float, trace: AttemptTrace
    ) -> Snapshot:
        method = check.method
        headers = dict(check.headers)
        body = check.body
        origin = hop_origin = _origin(url, verify)
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
                    timeout=httpx.Timeout(attempt_timeout),
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
                    data, truncated = await _read_capped(response, self.settings.body_cap)
                    certificate = peer_certificate(response.extensions) if url.scheme == "https" else None
                finally:
                    await response.aclose()
            end = time.perf_counter()
            return Snapshot(
                status_code=response.status_code,
                headers=_headers(response),
                body=data,
                truncated=truncated,
                latency=end - start,
                http_version=response.http_version,
                url=str(response.url),
                timings=trace.timings(end),
                certificate=certificate,
                hop_cookies=tuple(hop_cookies),
            )
        raise _TooManyRedirects(f"too many redirects (more than {MAX_REDIRECTS})")

    async def _tcp_exchange(self, check: Check, verify: bool | str, trace: AttemptTrace) -> Snapshot:
        assert check.tcp is not None
        context = _ssl_context(verify) if check.tcp.tls else None
        return await tcp_probe.exchange(check.tcp, check.url, context, trace.start, trace)


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
        context = _ssl_context(verify if isinstance(verify, bool | str) else True)
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
        # next check; a check's own redirect chain carries its cookies itself (`_exchange`)
        cookies=http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        headers={"User-Agent": f"svccheck/{__version__}"},
    )


class _TooManyRedirects(Exception):
    pass


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


async def _retry(
    first: _AttemptResult,
    attempt: Callable[[], Awaitable[_AttemptResult]],
    history: list[Attempt],
    max_attempts: int,
    backoff: float,
) -> _AttemptResult:
    """Attempts after a transient failure, scheduled by tenacity.

    Most checks settle on their first attempt, so tenacity (its import and a
    handful of objects per check) is paid for only by checks that retry. It
    replays the first result as its attempt 1, so its numbering and waits are
    the same as if it had made that attempt itself.
    """
    from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt

    replay = [first]

    async def next_attempt() -> _AttemptResult:
        return replay.pop() if replay else await attempt()

    def record_wait(state: RetryCallState) -> None:
        if history and state.next_action is not None:
            last = history[-1]
            history[-1] = Attempt(
                last.number,
                last.status_code,
                last.failure_class,
                last.reason,
                last.latency,
                wait_after=state.next_action.sleep,
            )

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_attempts),
        wait=_RetryWait(backoff),
        retry=retry_if_result(lambda r: r.transient),
        before_sleep=record_wait,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    result: _AttemptResult = await retrying(next_attempt)
    return result


class _RetryWait:
    """Exponential backoff with jitter; a server's `Retry-After` (up to a cap) wins."""

    def __init__(self, backoff: float) -> None:
        from tenacity import wait_exponential, wait_random

        # backoff, 2×, 4×… capped, plus up to half a backoff of jitter so that
        # many checks failing together do not retry in lockstep
        self._exponential = wait_exponential(multiplier=backoff, max=max(backoff, BACKOFF_CAP)) + wait_random(
            0, backoff / 2
        )

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            result = outcome.result()
            if isinstance(result, _AttemptResult) and result.retry_after is not None:
                return result.retry_after
        return float(self._exponential(state))


def _retry_after(snapshot: Snapshot) -> float | None:
    value = snapshot.header("retry-after")
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


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify_error(exc: BaseException) -> tuple[FailureClass, str]:
    """A network exception → (failure class, a reason a person understands)."""
    if isinstance(exc, tcp_probe.TcpFailure):
        return exc.failure_class, exc.reason
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            detail = item.verify_message or item.reason or "verification failed"
            return FailureClass.TLS, f"TLS certificate verify failed: {detail}"
        if isinstance(item, ssl.SSLError):
            return FailureClass.TLS, f"TLS error: {item.reason or item}"
        if isinstance(item, socket.gaierror):
            return FailureClass.DNS, f"DNS lookup failed: {item.strerror or item}"
        if isinstance(item, ConnectionRefusedError) or getattr(item, "errno", None) == errno.ECONNREFUSED:
            return FailureClass.REFUSED, "connection refused"
        if isinstance(item, ConnectionResetError):
            return FailureClass.PROTOCOL, "connection reset by peer"
    if isinstance(exc, httpx.RemoteProtocolError):
        return FailureClass.PROTOCOL, f"protocol error: {_first_line(exc)}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return FailureClass.PROTOCOL, f"connection broken: {_first_line(exc) or type(exc).__name__}"
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(i, OSError) and getattr(i, "errno", None) == errno.EHOSTUNREACH for i in chain):
            return FailureClass.REFUSED, "host unreachable"
        return FailureClass.REFUSED, f"connection failed: {_first_line(exc)}"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FailureClass.PROTOCOL, f"bad request URL: {_first_line(exc)}"
    if isinstance(exc, httpx.DecodingError):
        return FailureClass.PROTOCOL, f"cannot decode body: {_first_line(exc)}"
    return FailureClass.PROTOCOL, f"{type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


_context_cache: dict[object, ssl.SSLContext] = {}


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The operating system's trust store plus certifi's roots, or exactly a given CA bundle.

    `truststore` verifies against the platform's own store (Keychain, Windows'
    store, OpenSSL's system paths honouring SSL_CERT_FILE/SSL_CERT_DIR), so a
    corporate CA installed there passes without flags; certifi's roots are
    loaded on top so a thin container without CA certificates still verifies
    public services.
    """
    cached = _context_cache.get(verify)
    if cached is not None:
        return cached
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        context = ssl.create_default_context(cafile=verify)
    else:
        import certifi
        import truststore

        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=certifi.where())
    _context_cache[verify] = context
    return context
