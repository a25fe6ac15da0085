"""The one rounds loop (`svccheck.engine.rounds`) of wait, watch and serve, against real loopback servers.

Pauses are read on a `FakeClock` where the point is how long the loop pauses
(nothing sleeps); where the point is that a real wait ends early (a signal, a
deadline) the real clock runs, bounded so a bug fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Sequence

import pytest

from svccheck.demo.server import Raw, Request, Response, ServerThread, hang, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.rounds import Pace, Round, Rounds
from svccheck.engine.run import Command, Stop, signals_stop
from svccheck.errors import ExitCode
from svccheck.manifest import parse_manifest
from svccheck.model import FailureClass, Service, Verdict

ROUND_SECONDS = 3.0  # what a round "takes" on the fake clock: the server moves it on
BOUND = 10.0  # seconds: a loop that should end at once and did not fails instead of hanging


class FakeClock:
    """Starts at the real monotonic time (the deadlines `execute` reads are on that timeline)
    and moves only when the loop pauses or a request moves it on; records every pause."""

    def __init__(self) -> None:
        self.at = time.monotonic()
        self.pauses: list[float] = []

    def now(self) -> float:
        return self.at

    async def pause(self, seconds: float, stop: Stop) -> bool:
        self.pauses.append(round(seconds, 6))
        self.at += seconds
        return stop.reason is not None


def services_at(port: int) -> tuple[Service, ...]:
    text = f"defaults: {{timeout: 60s, retries: 0}}\nservices:\n  api: {{url: 'http://127.0.0.1:{port}', health: /h}}\n"
    return parse_manifest(text, "services.yaml", environ={}).services


async def stuck(request: Request) -> Raw:
    return hang()


class Fleet:
    """One loopback service; each answer moves `clock` (if any) on by `takes` seconds."""

    def __init__(self, servers: ServerThread, clock: FakeClock | None = None, *, status: int = 200) -> None:
        self.calls = 0
        self.takes = ROUND_SECONDS

        async def answer(request: Request) -> Response:
            self.calls += 1
            if clock is not None:
                clock.at += self.takes
            return json_response({"status": "UP" if status < 400 else "DOWN"}, status=status)

        self.services = services_at(servers.add(answer))


def collect(rounds: Rounds) -> list[Round]:
    async def main() -> list[Round]:
        return [r async for r in rounds]

    return asyncio.run(asyncio.wait_for(main(), BOUND))


def starts(done: list[Round]) -> list[float]:
    return [r.started - done[0].started for r in done]


def paced(
    services: Sequence[Service], pace: Pace, clock: FakeClock, tick: Callable[[], None] | None = None
) -> Rounds:
    return Rounds(lambda: services, ProbeSettings(), pace, stop=Stop(), tick=tick, clock=clock)


def test_between_starts_pauses_what_is_left_of_the_interval(servers: ServerThread) -> None:
    clock = FakeClock()
    fleet = Fleet(servers, clock)
    done = collect(paced(fleet.services, Pace.between_starts(10.0, limit=3), clock))
    # each round takes 3s of the 10s between starts; no pause follows the last round
    assert clock.pauses == [7.0, 7.0]
    assert starts(done) == pytest.approx([0.0, 10.0, 20.0])
    assert [r.number for r in done] == [1, 2, 3] and fleet.calls == 3


def test_after_each_pauses_the_whole_interval_after_a_round(servers: ServerThread) -> None:
    clock = FakeClock()
    fleet = Fleet(servers, clock)
    plans = iter([fleet.services] * 3)
    rounds = Rounds(lambda: next(plans, ()), ProbeSettings(), Pace.after_each(10.0), stop=Stop(), clock=clock)
    done = collect(rounds)
    # wait's pace: 10s after each round ends, so 13s start to start; the empty plan ends it, unpaused
    assert clock.pauses == [10.0, 10.0]
    assert starts(done) == pytest.approx([0.0, 13.0, 26.0]) and rounds.count == 3


def test_a_round_that_outlasts_the_interval_is_followed_at_once(servers: ServerThread) -> None:
    clock = FakeClock()
    fleet = Fleet(servers, clock)
    fleet.takes = 12.0
    done = collect(paced(fleet.services, Pace.between_starts(10.0, limit=3), clock))
    assert clock.pauses == []  # never overlapping, and no pause either
    assert starts(done) == pytest.approx([0.0, 12.0, 24.0])


def test_a_pause_ticks_at_least_every_second(servers: ServerThread) -> None:
    clock = FakeClock()
    fleet = Fleet(servers, clock)
    fleet.takes = 0.5
    ticks: list[float] = []
    rounds = paced(
        fleet.services, Pace.between_starts(4.0, limit=2), clock, tick=lambda: ticks.append(clock.at)
    )
    done = collect(rounds)
    assert clock.pauses == [1.0, 1.0, 1.0, 0.5]  # the 3.5s left of the interval, in steps of 1s at most
    assert [t - done[0].started for t in ticks] == pytest.approx([1.5, 2.5, 3.5, 4.0])


def test_the_round_limit_ends_the_loop_with_the_last_rounds_exit_code(servers: ServerThread) -> None:
    clock = FakeClock()
    fleet = Fleet(servers, clock, status=503)
    rounds = paced(fleet.services, Pace.between_starts(10.0, limit=2), clock)
    done = collect(rounds)
    assert len(done) == 2 and fleet.calls == 2 and clock.pauses == [7.0]
    assert not any(r.cut_short for r in done)
    assert done[-1].report.exit_code == ExitCode.FAILED and rounds.exit_code is ExitCode.FAILED


def test_the_plan_says_what_each_round_probes(servers: ServerThread) -> None:
    one, two = Fleet(servers), Fleet(servers)
    plans = iter([(*one.services, *two.services), two.services, ()])
    rounds = Rounds(lambda: next(plans), ProbeSettings(), Pace.after_each(0.0), stop=Stop())
    done = collect(rounds)
    assert [len(r.report.services) for r in done] == [2, 1]
    assert (one.calls, two.calls) == (1, 2)
    assert rounds.exit_code is ExitCode.OK  # no signal: the last round's


def test_a_deadline_bounds_the_pause_and_no_round_starts_after_it(servers: ServerThread) -> None:
    clock = FakeClock()
    fleet = Fleet(servers, clock)
    pace = Pace.after_each(10.0, deadline=clock.at + 5.0)
    done = collect(paced(fleet.services, pace, clock))
    # the first round ends 3s in; the 10s pause is cut at the deadline, 2s later
    assert len(done) == 1 and clock.pauses == [2.0] and fleet.calls == 1


def test_the_first_round_runs_even_past_the_deadline(servers: ServerThread) -> None:
    fleet = Fleet(servers)
    pace = Pace.after_each(10.0, deadline=time.monotonic() - 1.0)
    done = collect(Rounds(lambda: fleet.services, ProbeSettings(), pace, stop=Stop()))
    # wait has a report to show: what the deadline cut short
    [check] = done[0].report.services[0].checks
    assert len(done) == 1 and check.failure_class is FailureClass.DEADLINE


def test_a_deadline_bounds_a_round_in_flight(servers: ServerThread) -> None:
    services = services_at(servers.add(stuck))
    started = time.monotonic()
    pace = Pace.after_each(60.0, deadline=started + 0.3)
    done = collect(Rounds(lambda: services, ProbeSettings(), pace, stop=Stop()))
    elapsed = time.monotonic() - started
    [check] = done[0].report.services[0].checks
    assert len(done) == 1 and check.failure_class is FailureClass.DEADLINE
    assert 0.3 <= elapsed < BOUND  # neither the 60s request timeout nor the 60s interval


def test_a_round_timeout_bounds_each_round(servers: ServerThread) -> None:
    services = services_at(servers.add(stuck))
    pace = Pace.between_starts(0.0, round_timeout=0.2, limit=2)
    started = time.monotonic()
    done = collect(Rounds(lambda: services, ProbeSettings(), pace, stop=Stop()))
    assert len(done) == 2 and time.monotonic() - started < BOUND
    for r in done:
        assert r.ended - r.started >= 0.2
        [check] = r.report.services[0].checks
        assert check.verdict is Verdict.FAIL and check.failure_class is FailureClass.DEADLINE


def run_until_signalled(
    services: Sequence[Service], pace: Pace, command: Command, signum: int
) -> tuple[list[Round], Rounds, float]:
    """Rounds under the real signal wiring; `signum` comes to this process in the first pause."""

    async def main() -> tuple[list[Round], Rounds, float]:
        stop = Stop()
        rounds = Rounds(lambda: services, ProbeSettings(), pace, stop=stop)
        done: list[Round] = []
        with signals_stop(stop, command):
            started = time.monotonic()
            async for round_ in rounds:
                done.append(round_)
                # runs once the loop awaits its pause: the signal comes in the middle of it
                asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signum)
            return done, rounds, time.monotonic() - started

    return asyncio.run(asyncio.wait_for(main(), BOUND))


@pytest.mark.parametrize(
    ("command", "signum", "code"),
    [
        ("watch", signal.SIGINT, ExitCode.OK),
        ("watch", signal.SIGTERM, ExitCode.TERMINATED),
        ("serve", signal.SIGTERM, ExitCode.OK),
        ("wait", signal.SIGINT, ExitCode.INTERRUPTED),
    ],
)
def test_a_signal_in_a_pause_ends_the_loop_at_once(
    servers: ServerThread, command: Command, signum: int, code: ExitCode
) -> None:
    fleet = Fleet(servers)
    pace = Pace.after_each(60.0) if command == "wait" else Pace.between_starts(60.0)
    done, rounds, elapsed = run_until_signalled(fleet.services, pace, command, signum)
    assert len(done) == 1 and fleet.calls == 1
    assert elapsed < BOUND  # not the 60s interval
    assert rounds.exit_code is code
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the wiring is undone


def test_a_round_cut_short_by_a_signal_says_so_and_is_the_last(servers: ServerThread) -> None:
    async def stuck_then_signalled(request: Request) -> Raw:
        os.kill(os.getpid(), signal.SIGTERM)  # the round is in flight: this request never ends
        return hang()

    services = services_at(servers.add(stuck_then_signalled))

    async def main() -> tuple[list[Round], Rounds]:
        stop = Stop()
        rounds = Rounds(lambda: services, ProbeSettings(), Pace.between_starts(0.0), stop=stop)
        with signals_stop(stop, "watch"):
            return [r async for r in rounds], rounds

    done, rounds = asyncio.run(asyncio.wait_for(main(), BOUND))
    assert [r.cut_short for r in done] == [True]
    assert done[0].report.interrupted == "terminated (SIGTERM)"
    assert done[0].report.services[0].checks[0].verdict is Verdict.SKIP
    assert rounds.last_complete is None and rounds.exit_code is ExitCode.TERMINATED
