"""`svccheck wait`: re-run the selected checks until the run would pass or the deadline comes.

Each round is one `run.execute` over the checks that have not settled yet; a
check that passed is not probed again. The deadline bounds the whole wait,
rounds and pauses alike, and a check still in flight when it comes ends the
way `execute` ends it. The final Report is built by `run.build_report` from
the latest result of every check, so it reads exactly like `all`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from svccheck.engine.credentials import token_rows
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.rounds import Pace, Rounds
from svccheck.engine.run import Stop, build_report, tls_unverified
from svccheck.errors import ExitCode
from svccheck.model import CheckResult, FailureClass, Report, Service, Verdict


@dataclass(frozen=True, slots=True)
class Change:
    """A check whose state changed (or was seen for the first time), or a service that became ready."""

    at: float  # seconds since the wait began
    service: str
    check: str | None  # None: the service became ready
    verdict: Verdict
    reason: str | None = None


@dataclass
class Readiness:
    """Pure bookkeeping of a wait: the latest result of each check and when each service became ready."""

    services: Sequence[Service]
    strict: bool = False
    results: dict[tuple[str, str], CheckResult] = field(default_factory=dict)
    ready_after: dict[str, float] = field(default_factory=dict)

    def settled(self, result: CheckResult) -> bool:
        """Passed, or only warned where warnings do not fail the run: not worth probing again."""
        if result.verdict is Verdict.PASS:
            return True
        return (
            result.verdict is Verdict.WARN and not self.strict and all(f.warn_only for f in result.failures)
        )

    def pending(self) -> tuple[Service, ...]:
        """The services with the checks still to probe, and only those checks."""
        out = []
        for service in self.services:
            checks = tuple(
                c
                for c in service.checks
                if c.key not in self.results or not self.settled(self.results[c.key])
            )
            if checks:
                out.append(replace(service, checks=checks))
        return tuple(out)

    def record(self, results: Iterable[CheckResult], at: float) -> list[Change]:
        changes: list[Change] = []
        for result in results:
            key = result.check.key
            previous = self.results.get(key)
            if previous is not None and _unfinished(result):
                continue  # cut short this round: what was last seen says more
            if result.verdict is Verdict.PASS and (previous is not None or result.attempts > 1):
                # it failed first and passes now: the service came up, it did not "recover" (#13)
                result = replace(result, ready_after=at)
            self.results[key] = result
            if previous is None or _state(previous) != _state(result):
                changes.append(Change(at, key[0], key[1], result.verdict, result.reason))
        for service in self.services:
            if service.name in self.ready_after:
                continue
            if all(c.key in self.results and self.settled(self.results[c.key]) for c in service.checks):
                self.ready_after[service.name] = at
                changes.append(Change(at, service.name, None, Verdict.PASS))
        return changes

    def complete(self) -> bool:
        return all(c.key in self.results for s in self.services for c in s.checks)

    def report(
        self,
        *,
        duration: float,
        started_at: str,
        manifest_path: str,
        stop: Stop | None = None,
        unverified: tuple[str, ...] = (),
    ) -> Report:
        interrupted = stop.reason if stop is not None else None
        return build_report(
            (*token_rows(self.results.values()), *self.services),  # the token requests it used
            self.results,
            duration=duration,
            started_at=started_at,
            manifest_path=manifest_path,
            strict=self.strict,
            interrupted=interrupted,
            interrupt_code=stop.exit_code if stop is not None else ExitCode.INTERRUPTED,
            tls_unverified=unverified,
        )

    def ready(self) -> bool:
        """Every check has a result and together they would pass the run."""
        if not self.complete():
            return False
        return self.report(duration=0.0, started_at="", manifest_path="").exit_code == ExitCode.OK


def _unfinished(result: CheckResult) -> bool:
    return result.verdict is Verdict.SKIP or result.failure_class is FailureClass.DEADLINE


def _state(result: CheckResult) -> tuple[Verdict, str | None]:
    return (result.verdict, result.reason)


@dataclass(frozen=True)
class WaitOutcome:
    report: Report
    readiness: Readiness
    elapsed: float
    rounds: int

    @property
    def ready_after(self) -> dict[str, float]:
        return self.readiness.ready_after


async def wait_until_ready(
    services: Sequence[Service],
    settings: ProbeSettings,
    *,
    deadline: float | None,
    interval: float,
    stop: Stop,
    manifest_path: str = "",
    strict: bool = False,
    on_changes: Callable[[list[Change], Readiness], None] | None = None,
    started: float | None = None,
) -> WaitOutcome:
    """Rounds of `execute` until ready, stopped, or past `deadline` (a `time.monotonic()` instant).

    Times to ready count from `started` (the command's start, by default now).
    """
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.monotonic() if started is None else started
    readiness = Readiness(services, strict=strict)
    rounds = Rounds(
        readiness.pending,  # a check that passed is not probed again
        settings,
        Pace.after_each(interval, deadline=deadline),
        stop=stop,
        manifest_path=manifest_path,
        strict=strict,
    )
    async for round_ in rounds:
        results = [c for s in round_.report.services for c in s.checks]
        changes = readiness.record(results, at=time.monotonic() - start)
        if on_changes is not None:
            on_changes(changes, readiness)
        if readiness.ready():
            break
    elapsed = time.monotonic() - start
    report = readiness.report(
        duration=elapsed,
        started_at=started_at,
        manifest_path=manifest_path,
        stop=stop,
        unverified=tls_unverified(services, settings),
    )
    return WaitOutcome(report, readiness, elapsed, rounds.count)


__all__ = ["Change", "Readiness", "WaitOutcome", "wait_until_ready"]
