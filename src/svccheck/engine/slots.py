"""The run's slots: at most `total` attempts in flight, a freed slot kept on its origin.

An `asyncio.Semaphore` wakes whichever waiter came first. With more origins than slots that
is nearly always a check of another origin, whose lane then has to close an idle connection of
someone else's and open its own (`protocols.lanes` holds at most `total`): 10,000 checks on
100 origins through 100 slots opened 9,995 connections, and a run of them went 0.6× as fast
per check as 1,000 checks on 10 origins. So a slot freed by an attempt goes first to a check
waiting on the same origin (its connection is idle and warm), and only when none waits there
to the check of another origin that has waited longest, as HTTP clients hand a returned
connection to a waiter for the same host. No origin gains slots by this: its engine gate
(`Prober`) lets at most `per_origin` of its checks in.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Hashable


class OriginSlots:
    def __init__(self, total: int) -> None:
        self._free = max(1, total)
        # every waiter, oldest first (OrderedDict: taking its first item stays O(1) as
        # items come and go, where a dict's first item is found past the holes left at its front)
        self._waiting: OrderedDict[asyncio.Future[None], Hashable] = OrderedDict()
        self._waiting_by_origin: dict[Hashable, deque[asyncio.Future[None]]] = {}

    def slot(self, origin: Hashable) -> _Slot:
        """`async with slots.slot(origin):` holds one slot for an attempt to `origin`."""
        return _Slot(self, origin)

    async def _acquire(self, origin: Hashable) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[future] = origin
        self._waiting_by_origin.setdefault(origin, deque()).append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.cancelled():  # cancelled while waiting (a deadline): it leaves the queue
                if future in self._waiting:  # unless a release already stepped over it
                    self._forget(future, origin)
            else:  # handed the slot, then cancelled before it could run: the slot moves on
                self._release(origin)
            raise

    def _forget(self, future: asyncio.Future[None], origin: Hashable) -> None:
        del self._waiting[future]
        queue = self._waiting_by_origin[origin]
        queue.remove(future)  # the head when granted; at most `per_origin` long when cancelled
        if not queue:
            del self._waiting_by_origin[origin]

    def _release(self, origin: Hashable) -> None:
        while True:
            queue = self._waiting_by_origin.get(origin)
            if queue:
                future = queue[0]
            elif self._waiting:
                future, origin = next(iter(self._waiting.items()))
            else:
                self._free += 1
                return
            self._forget(future, origin)
            # a waiter cancelled since its task last ran is still queued: it is stepped over
            if not future.cancelled():
                future.set_result(None)
                return


class _Slot:
    """One attempt's hold on a slot: a plain context manager, not a generator one. It is on every
    attempt's path, where `contextlib.asynccontextmanager` cost 5.2 us a use and this costs
    1.9 us, as an `asyncio.Semaphore` does."""

    __slots__ = ("_origin", "_slots")

    def __init__(self, slots: OriginSlots, origin: Hashable) -> None:
        self._slots = slots
        self._origin = origin

    async def __aenter__(self) -> None:
        await self._slots._acquire(self._origin)

    async def __aexit__(self, *exc: object) -> None:
        self._slots._release(self._origin)
