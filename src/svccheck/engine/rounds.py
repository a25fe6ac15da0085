"""The one rounds loop of `wait`, `watch` and `serve`: `run.execute`, a pause, again.

`Rounds` is an async iterator of `Round`s. Before each round it asks its
`plan` which services to probe (`wait` re-runs only the checks that have not
passed; `watch` and `serve` all of them); an empty plan ends it. It ends too
when a signal sets the `Stop` (at once, even in a pause), after `Pace.limit`
rounds, or at `Pace.deadline`, which bounds rounds and pauses alike. The caller
decides what a round means and may leave the loop at any time: nothing runs
between two rounds unless it asks for the next.

The pause is the `Pace`: `between_starts` (watch, serve) starts a round every
interval, at once when the previous one outlasted it, so rounds never overlap;
`after_each` (wait) pauses the interval after a round ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from svccheck.engine.credentials import Session
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import Stop, execute, rounds_exit_code
from svccheck.errors import ExitCode
from svccheck.model import Report, Service

TICK = 1.0  # seconds: how often a pause calls `tick` (watch's live clocks move between rounds)


class Clock(Protocol):
    """Where the loop reads the time and pauses; `MONOTONIC` but in its own tests.

    `now()` is on `time.monotonic()`'s timeline (it may run faster): the round
    deadlines computed from it go to `execute`, which reads that clock."""

    def now(self) -> float: ...

    async def pause(self, seconds: float, stop: Stop) -> bool:
        """Wait `seconds`; True as soon as `stop` is set (at once if it already is)."""
        ...


class MonotonicClock:
    """`time.monotonic()`: the clock `execute`'s deadlines are read on."""

    def now(self) -> float:
        return time.monotonic()

    async def pause(self, seconds: float, stop: Stop) -> bool:
        try:
            await asyncio.wait_for(stop.event.wait(), timeout=max(0.0, seconds))
        except TimeoutError:
            return stop.event.is_set()
        return True


MONOTONIC = MonotonicClock()


@dataclass(frozen=True)
class Pace:
    """When the next round starts, and when the rounds end."""

    interval: float  # seconds
    from_starts: bool  # True: between round starts (watch, serve); False: after each round (wait)
    round_timeout: float | None = None  # bounds each round, from its start
    deadline: float | None = None  # a clock instant that bounds every round and pause
    limit: int | None = None  # at most this many rounds

    @classmethod
    def between_starts(
        cls, interval: float, *, round_timeout: float | None = None, limit: int | None = None
    ) -> Pace:
        return cls(interval, from_starts=True, round_timeout=round_timeout, limit=limit)

    @classmethod
    def after_each(cls, interval: float, *, deadline: float | None = None) -> Pace:
        return cls(interval, from_starts=False, deadline=deadline)


@dataclass(frozen=True)
class Round:
    number: int  # 1, 2, …
    report: Report
    started: float  # on the loop's clock
    ended: float
    cut_short: bool  # a signal stopped it: what it saw says little about the fleet


class Rounds:
    """`async for round in Rounds(...)`: one `execute` per step, paced by `pace`."""

    def __init__(
        self,
        plan: Callable[[], Sequence[Service]],
        settings: ProbeSettings,
        pace: Pace,
        *,
        stop: Stop,
        manifest_path: str = "",
        strict: bool = False,
        tick: Callable[[], None] | None = None,
        clock: Clock = MONOTONIC,
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.pace = pace
        self.stop = stop
        self.manifest_path = manifest_path
        self.strict = strict
        self.tick = tick
        self.clock = clock
        self.count = 0
        self.last: Round | None = None  # the latest round, cut short or not
        self.last_complete: Report | None = None  # the latest report no signal cut short
        # tokens and captures, reused from round to round (a token until shortly before it expires)
        self.session = Session()

    def __aiter__(self) -> Rounds:
        return self

    async def __anext__(self) -> Round:
        if self.stop.reason is not None or self._limit_reached():
            raise StopAsyncIteration
        services = self.plan()  # asked before the pause: when nothing is left, no pause either
        if not services or not await self._may_start():
            raise StopAsyncIteration
        started = self.clock.now()
        report = await execute(
            services,
            self.settings,
            deadline=self._round_deadline(started),
            stop=self.stop,
            manifest_path=self.manifest_path,
            strict=self.strict,
            session=self.session,
        )
        self.count += 1
        cut_short = self.stop.reason is not None
        self.last = Round(self.count, report, started, self.clock.now(), cut_short)
        if not cut_short:
            self.last_complete = report
        return self.last

    @property
    def exit_code(self) -> ExitCode:
        """For `watch` and `serve`: the signal's code, else the last complete round's."""
        return rounds_exit_code(self.stop, self.last_complete)

    def _limit_reached(self) -> bool:
        return self.pace.limit is not None and self.count >= self.pace.limit

    async def _may_start(self) -> bool:
        """Pause as the pace says; False when the rounds are over instead (a signal, the deadline).

        The first round always runs, even past the deadline: its report is what the
        deadline cut short (`wait` has nothing else to report)."""
        if self.last is None:
            return True
        if await self._pause(self._next_start(self.last)):
            return False
        return self.pace.deadline is None or self.clock.now() < self.pace.deadline

    def _next_start(self, last: Round) -> float:
        after = last.started if self.pace.from_starts else last.ended
        until = after + self.pace.interval
        return until if self.pace.deadline is None else min(until, self.pace.deadline)

    def _round_deadline(self, started: float) -> float | None:
        bounds = [
            bound
            for bound in (
                self.pace.deadline,
                None if self.pace.round_timeout is None else started + self.pace.round_timeout,
            )
            if bound is not None
        ]
        return min(bounds) if bounds else None

    async def _pause(self, until: float) -> bool:
        """Pause until `until`, calling `tick` every `TICK` seconds; True when a signal came."""
        while (remaining := until - self.clock.now()) > 0:
            if await self.clock.pause(min(remaining, TICK) if self.tick else remaining, self.stop):
                return True
            if self.tick is not None:
                self.tick()
        return self.stop.reason is not None


__all__ = ["MONOTONIC", "TICK", "Clock", "MonotonicClock", "Pace", "Round", "Rounds"]
