"""Connections per origin, each a lane of its own: one connection, one httpx transport.

Why not one shared pool: httpcore 1.0 walks every connection of a pool, and
asks each idle one whether its socket is readable, on every request it adds
or removes — quadratic in the pool size (a 100-connection pool spent ~80% of
the client's CPU there on 1,000 loopback checks). A client holding one
connection makes that walk O(1), so svccheck keeps a few such "lanes" per
origin and hands a free one to each request.

Bounds: at most `per_origin` lanes serve one origin at a time, because the
engine's gate for that origin (`probe.Prober`, taken before a global slot, so
checks queued on a busy origin do not hold slots other origins could use)
lets no more checks through; and at most `total` lanes exist at once: an idle
lane of another origin is closed to make room. Redirect hops take a lane
without a gate (the first hop's slot already bounds them), so a redirect into
a saturated origin cannot deadlock.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Generic, Protocol, TypeVar

from svccheck.protocols.base import Origin


class Closable(Protocol):
    async def aclose(self) -> None: ...


L = TypeVar("L", bound=Closable)


class Lanes(Generic[L]):
    """The lanes of a run, each made by `make_client` for its origin (`http_transport.Lane`)."""

    def __init__(self, make_client: Callable[[Origin], L], *, total: int) -> None:
        self._make_client = make_client
        self._total = max(1, total)
        # idle lanes, least recently used first, so eviction closes the coldest one
        self._idle: OrderedDict[L, Origin] = OrderedDict()
        self._idle_by_origin: dict[Origin, list[L]] = {}
        self._count = 0
        self._all: set[L] = set()

    @property
    def open_lanes(self) -> int:
        return self._count

    @contextlib.asynccontextmanager
    async def lane(self, origin: Origin) -> AsyncIterator[L]:
        client = await self._take(origin)
        try:
            yield client
        finally:
            self._idle[client] = origin
            self._idle_by_origin.setdefault(origin, []).append(client)

    async def _take(self, origin: Origin) -> L:
        idle = self._idle_by_origin.get(origin)
        if idle:
            client = idle.pop()  # the most recently used: its connection is the likeliest alive
            del self._idle[client]
            return client
        if self._count >= self._total and self._idle:
            victim, victim_origin = self._idle.popitem(last=False)
            self._idle_by_origin[victim_origin].remove(victim)
            await self._close(victim)
        client = self._make_client(origin)
        self._all.add(client)
        self._count += 1
        return client

    async def _close(self, client: L) -> None:
        self._all.discard(client)
        self._count -= 1
        # closing is best effort; a broken connection must not mask results
        with contextlib.suppress(Exception):
            await client.aclose()

    async def aclose(self) -> None:
        clients = list(self._all)
        self._idle.clear()
        self._idle_by_origin.clear()
        for client in clients:
            await self._close(client)
