"""The event loop's idle moments: what a run needs only once the answers come, done while it waits.

Once a run's requests are out, its loop waits on the network: that is when it
imports what it needs only afterwards (the health readers, the report's format,
rich's tables), one module at a time. The loop (`run`, `new_loop`) polls its
selector without waiting first: when a socket or a timer is ready it handles it;
only when nothing is does it import the next module, then polls again. An
answer that lands meanwhile waits for one queued import at most (the longest:
`report.table`, which brings rich's modules with it), never behind all of them.

Measured against the commit before, where the health readers loaded before the
first request and a daemon thread did the rest (15 alternating rounds, bench/'s
eleven services, first request as the server sees it; the same change stopped
loading HTTP's manifest shape for a probe): the first request leaves 85.6 ms
after launch instead of 91.8 ms at 0 ms latency, 87.6 instead of 91.1 at
20…220 ms. The thread took the interpreter for up to 5 ms at a time
(`sys.getswitchinterval()`) while the loop still had requests to send, and an
answer that landed then waited as long: the latency a table run reports
exceeded the server's by 4.1–6.2 ms (medians per service), at most 13.4 ms, and
now by 2.3–4.1 ms, at most 5.8 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import selectors
import weakref
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


class IdleSelector(selectors.DefaultSelector):
    """The platform's selector; `select` runs one queued callback when a poll finds nothing ready."""

    def __init__(self) -> None:
        super().__init__()
        self.idle: deque[Callable[[], object]] = deque()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if self.idle and (timeout is None or timeout > 0):
            ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
            if ready:
                return ready
            self.idle.popleft()()
            # back to the loop at once: the callback may have made work for it (a future's
            # callbacks), and the loop reckons its timeout afresh before it waits again
            timeout = 0
        events: list[tuple[selectors.SelectorKey, int]] = super().select(timeout)
        return events


_SELECTORS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, IdleSelector] = weakref.WeakKeyDictionary()


def new_loop() -> asyncio.AbstractEventLoop:
    """An event loop that does `call_when_idle`'s callbacks in its idle moments."""
    selector = IdleSelector()
    loop = asyncio.SelectorEventLoop(selector)
    _SELECTORS[loop] = selector
    return loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on a `new_loop`."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(main)


def call_when_idle(callback: Callable[[], object]) -> None:
    """Call `callback` (a short one: it holds the loop) the next time the running loop would wait.

    On a loop not made by `new_loop` it is simply called soon.
    """
    loop = asyncio.get_running_loop()
    selector = _SELECTORS.get(loop)
    if selector is None:
        loop.call_soon(callback)
    else:
        selector.idle.append(callback)


def import_when_idle(names: Iterable[str]) -> None:
    """Import `names` in order, one per idle moment of the running loop.

    Best effort: a module that fails to import is imported again, and its error
    said, by the code that needs it.
    """
    for name in names:
        call_when_idle(functools.partial(_import, name))


def _import(name: str) -> None:
    with contextlib.suppress(Exception):
        importlib.import_module(name)
