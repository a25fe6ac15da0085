"""Where an attempt's time went: a collector for httpcore's `trace` request extension.

httpcore calls the collector at the start and end of each phase of a request
(``connection.connect_tcp``, ``connection.start_tls``,
``http11.receive_response_headers``…). A reused keep-alive connection has no
connect or TLS phase, and those stay `None` rather than a misleading 0.

httpcore resolves host names inside ``connect_tcp`` and does not report it, so
name resolution is timed separately: the first time a connection to a host
name (not an IP literal) is opened, :class:`DnsTimer` resolves it once with the
event loop's resolver and keeps the duration for the rest of the run; the
``connect`` phase is timed after that lookup.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import time
from typing import Any

from svccheck.model import Timings

_CONNECT_STARTED = "connection.connect_tcp.started"
_CONNECT_COMPLETE = "connection.connect_tcp.complete"
_TLS_STARTED = "connection.start_tls.started"
_TLS_COMPLETE = "connection.start_tls.complete"
_HEADERS_COMPLETE = frozenset(
    {"http11.receive_response_headers.complete", "http2.receive_response_headers.complete"}
)


class DnsTimer:
    """How long resolving each host name took, measured once per host per run."""

    def __init__(self) -> None:
        self._lookups: dict[tuple[str, int], asyncio.Task[float | None]] = {}

    async def duration(self, host: str, port: int) -> float | None:
        """Seconds the lookup of `host` took; `None` for an IP literal or a failed lookup."""
        key = (host, port)
        task = self._lookups.get(key)
        if task is None:
            # One lookup per host, shared by every connection opened concurrently to it.
            task = asyncio.ensure_future(_time_lookup(host, port))
            self._lookups[key] = task
        return await asyncio.shield(task)

    def close(self) -> None:
        for task in self._lookups.values():
            task.cancel()


@functools.lru_cache(maxsize=1024)  # every new connection asks; a fleet has a few hosts
def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def _time_lookup(host: str, port: int) -> float | None:
    if _is_address(host):
        return None
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    try:
        await loop.getaddrinfo(host, port, type=1)  # SOCK_STREAM, as the connection will ask
    except OSError:
        return None  # the connection's own lookup fails and is classified as a DNS failure
    return time.perf_counter() - start


# Where an attempt was when it ran out of time, as a timeout's reason says it.
CONNECTING = "connecting"
HANDSHAKING = "in the TLS handshake"
WAITING = "waiting for the response"
READING = "reading the body"


class AttemptTrace:
    """The `trace` extension of one attempt (all its redirect hops): phase timestamps."""

    __slots__ = ("_dns", "_dns_timer", "_headers", "_tcp", "_tcp_end", "_tls", "_tls_end", "phase", "start")

    def __init__(self, dns_timer: DnsTimer, start: float) -> None:
        self._dns_timer = dns_timer
        self.start = start
        self._dns: float | None = None
        self._tcp: float | None = None
        self._tcp_end: float | None = None
        self._tls: float | None = None
        self._tls_end: float | None = None
        self._headers: float | None = None
        # what the attempt is doing now, for a timeout's reason; a reused connection starts here
        self.phase = WAITING

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        if name in _HEADERS_COMPLETE:
            self._headers = time.perf_counter()
            self.phase = READING
        elif name == _CONNECT_STARTED:
            self.phase = CONNECTING
            self._dns = await self._dns_timer.duration(str(info.get("host", "")), int(info.get("port") or 0))
            self._tcp, self._tcp_end, self._tls, self._tls_end = time.perf_counter(), None, None, None
        elif name == _CONNECT_COMPLETE:
            self._tcp_end = time.perf_counter()
            self.phase = WAITING
        elif name == _TLS_STARTED:
            self._tls = time.perf_counter()
            self.phase = HANDSHAKING
        elif name == _TLS_COMPLETE:
            self._tls_end = time.perf_counter()
            self.phase = WAITING

    def timings(self, end: float) -> Timings:
        """The phases seen so far; the connection phases are those of the last connection opened."""
        opened = self._tcp is not None and self._tcp_end is not None
        return Timings(
            dns=self._dns if opened else None,
            connect=_span(self._tcp, self._tcp_end),
            tls=_span(self._tls, self._tls_end),
            ttfb=_span(self.start, self._headers),
            total=end - self.start,
        )


def _span(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else max(0.0, end - start)
