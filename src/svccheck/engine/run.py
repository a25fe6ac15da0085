"""Orchestration shared by the commands: select, probe, evaluate, build the Report."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from svccheck.engine import idle
from svccheck.engine.board import Board
from svccheck.engine.credentials import (
    RunInputs,
    Session,
    is_token_service,
    judge_token,
    token_service_of,
)
from svccheck.engine.prober import Prober, ProbeSettings
from svccheck.errors import ExitCode
from svccheck.judge.evaluate import evaluate, internal_error, modules_for, unfinished
from svccheck.judge.evaluate import prepare as prepare_judging
from svccheck.judge.triage import needed_causes, nothing_answered, root_causes
from svccheck.model import (
    Check,
    CheckResult,
    Manifest,
    ProbeOutcome,
    Report,
    Service,
    ServiceResult,
    Summary,
    Verdict,
    worst,
)
from svccheck.protocols import protocol_for

T = TypeVar("T")


class SelectionError(ValueError):
    """Names on the command line that the manifest does not have."""


@dataclass(frozen=True)
class Selection:
    """Which services a command runs: named ones, by tag, and those skipped."""

    names: Sequence[str] = ()  # `check NAME...` and --only
    tags: Sequence[str] = ()
    skip: Sequence[str] = ()


def select(manifest: Manifest, selection: Selection) -> tuple[Service, ...]:
    known = [s.name for s in manifest.services]
    unknown = [n for n in (*selection.names, *selection.skip) if n not in known]
    if unknown:
        hints = []
        for name in unknown:
            import difflib  # only when something is misspelt

            close = difflib.get_close_matches(name, known, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise SelectionError(f"unknown service {', '.join(hints)}; the manifest has: {', '.join(known)}")
    tags = list(dict.fromkeys(tag for s in manifest.services for tag in s.tags))
    unknown_tags = [t for t in selection.tags if t not in tags]
    if unknown_tags:  # a typo, as an unknown --only is: say which tags there are (#15)
        named = ", ".join(repr(t) for t in unknown_tags)
        noun = "tag" if len(unknown_tags) == 1 else "tags"
        has = f"the manifest's tags: {', '.join(tags)}" if tags else "the manifest has no tags"
        raise SelectionError(f"unknown {noun} {named} (--tag); {has}")
    chosen = [
        s
        for s in manifest.services
        if (not selection.names or s.name in selection.names)
        and (not selection.tags or set(selection.tags) & set(s.tags))
        and s.name not in selection.skip
    ]
    if not chosen:
        raise SelectionError("no service matches the selection (--only / --tag / --skip)")
    return tuple(with_producers(manifest, chosen))


def with_producers(manifest: Manifest, chosen: list[Service]) -> list[Service]:
    """`chosen` and every service whose check captures what they use (`check billing` logs in
    first), in manifest order."""
    producer = {c.name: s.name for s in manifest.services for check in s.checks for c in check.captures}
    names = {s.name for s in chosen}
    todo = list(chosen)
    while todo:
        for name in {producer[u] for check in todo.pop().checks for u in check.uses if u in producer}:
            if name not in names:
                names.add(name)
                service = manifest.service(name)
                if service is not None:
                    todo.append(service)
    return [s for s in manifest.services if s.name in names]


@dataclass
class Stop:
    """Set by a signal handler: the run ends early and reports what it has."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str | None = None
    exit_code: ExitCode = ExitCode.INTERRUPTED

    def trigger(self, reason: str, exit_code: ExitCode) -> None:
        if self.reason is None:
            self.reason, self.exit_code = reason, exit_code
        self.event.set()


@dataclass(frozen=True)
class OnSignal:
    """The exit codes a command ends with when SIGINT or SIGTERM stops it."""

    sigint: ExitCode
    sigterm: ExitCode


Command = Literal["all", "check", "wait", "watch", "serve"]

# The one table of what a signal means to each command (README "Exit codes").
ON_SIGNAL: Mapping[Command, OnSignal] = {
    # a run cut short: its report says so, and so does the exit code
    "all": OnSignal(ExitCode.INTERRUPTED, ExitCode.TERMINATED),
    "check": OnSignal(ExitCode.INTERRUPTED, ExitCode.TERMINATED),
    "wait": OnSignal(ExitCode.INTERRUPTED, ExitCode.TERMINATED),
    # Ctrl-C is how one leaves watch; SIGTERM (a supervisor, a CI cancel) still says so
    "watch": OnSignal(ExitCode.OK, ExitCode.TERMINATED),
    # a signal is how a server is stopped: its normal way out
    "serve": OnSignal(ExitCode.OK, ExitCode.OK),
}


@contextlib.contextmanager
def signals_stop(stop: Stop, command: Command = "all") -> Iterator[Stop]:
    """The one signal wiring: in the running loop, SIGINT and SIGTERM trigger `stop` instead of
    killing, with the exit codes `command` ends with (`ON_SIGNAL`)."""
    codes = ON_SIGNAL[command]
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.trigger, "interrupted (SIGINT)", codes.sigint)
    loop.add_signal_handler(signal.SIGTERM, stop.trigger, "terminated (SIGTERM)", codes.sigterm)
    try:
        yield stop
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)


def run_with_signals(main: Callable[[Stop], Awaitable[T]], command: Command = "all") -> T:
    """`asyncio.run(main(stop))` with `stop` wired to SIGINT and SIGTERM for `command`, on a loop
    that imports what a run needs later while it waits (`engine.idle`)."""

    async def wired() -> T:
        with signals_stop(Stop(), command) as stop:
            return await main(stop)

    return idle.run(wired())


def rounds_exit_code(stop: Stop, last: Report | None) -> ExitCode:
    """How a command that runs rounds ends: the signal's code when a signal stopped it,
    else the exit code of the last round it completed (OK before any)."""
    if stop.reason is not None:
        return stop.exit_code
    return ExitCode(last.exit_code) if last is not None else ExitCode.OK


async def execute(
    services: Sequence[Service],
    settings: ProbeSettings,
    *,
    deadline: float | None = None,
    stop: Stop | None = None,
    manifest_path: str = "",
    strict: bool = False,
    keep_answers: bool = False,
    board: Board | None = None,
    session: Session | None = None,
    while_probing: Callable[[], object] | None = None,
) -> Report:
    """Probe every check of `services` concurrently; `deadline` is a `time.monotonic()` instant.

    `board`, when given, follows the run as it goes (checks done, checks in flight), for a
    progress line.

    `while_probing` is called in an idle moment of the loop once the probes have
    started (their requests out, what judging needs imported first), to do what the
    run needs only afterwards while the network answers (`modes.later_imports`,
    `engine.idle`).

    `keep_answers` keeps each check's answer (headers and the start of the body)
    for `check -v`; otherwise only its timings and certificate stay in the report.
    `session` keeps tokens and captured values from one round to the next.
    """
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    results: dict[tuple[str, str], CheckResult] = {}
    checks = [check for service in services for check in service.checks]
    if board is not None:
        board.total = len(checks)
    prepare_judging(checks)  # schemas compiled now, not under an attempt's clock
    async with Prober(settings) as prober:
        prober.prepare(checks)

        async def fetch_token(check: Check) -> tuple[CheckResult, ProbeOutcome | None]:
            outcome = await prober.probe(check)
            return evaluate(check, outcome, critical=True, judge=judge_token), outcome

        inputs = RunInputs(session if session is not None else Session(), checks, fetch_token)
        tasks: list[asyncio.Future[Any]] = [
            asyncio.create_task(_service_checks(prober, s, results, keep_answers, inputs, board))
            for s in services
        ]
        # once the loop first waits on the network: what judging needs, then the caller's own
        idle.import_when_idle(modules_for(checks))
        if while_probing is not None:
            idle.call_when_idle(while_probing)
        stop_waiter: asyncio.Future[Any] | None = (
            asyncio.ensure_future(stop.event.wait()) if stop is not None else None
        )
        await _wait_until_done(tasks, stop_waiter, deadline)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if stop_waiter is not None:
            stop_waiter.cancel()
        interrupted = stop is not None and stop.reason is not None
        for service in services:
            for check in service.checks:
                if check.key not in results:
                    attempt_log = tuple(prober.progress.attempts.get(check.key, ()))
                    results[check.key] = unfinished(
                        check,
                        attempt_log,
                        interrupted=interrupted,
                        critical=service.critical,
                        trace_id=prober.progress.trace_ids.get(check.key),
                    )
    # the token requests this run's checks used, each as a service of its own (`auth:NAME`)
    for token in inputs.token_results():
        credential = inputs.used[token.check.service.removeprefix("auth:")]
        services = (token_service_of(token.check, credential), *services)
        results[token.check.key] = token
    return build_report(
        services,
        results,
        duration=time.perf_counter() - start,
        started_at=started_at,
        manifest_path=manifest_path,
        strict=strict,
        interrupted=stop.reason if stop is not None else None,
        interrupt_code=stop.exit_code if stop is not None else ExitCode.INTERRUPTED,
        tls_unverified=tls_unverified(services, settings),
    )


def tls_unverified(services: Sequence[Service], settings: ProbeSettings) -> tuple[str, ...]:
    """`service/check` of every HTTPS check whose certificate is not verified: the output says so."""
    return tuple(
        f"{s.name}/{c.name}"
        for s in services
        for c in s.checks
        if protocol_for(c.url).uses_tls(c) and settings.verify_for(c) is False
    )


async def _wait_until_done(
    tasks: list[asyncio.Future[Any]], stop_waiter: asyncio.Future[Any] | None, deadline: float | None
) -> None:
    """Return when every task is done, the deadline passes, or a stop is requested."""
    waiters = set(tasks) | ({stop_waiter} if stop_waiter is not None else set())
    pending = set(tasks)
    while pending:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done or stop_waiter in done:
            return
        pending -= done
        waiters -= done


async def _service_checks(
    prober: Prober,
    service: Service,
    results: dict[tuple[str, str], CheckResult],
    keep_answers: bool,
    inputs: RunInputs,
    board: Board | None = None,
) -> None:
    # The health check goes first; sample checks run whatever it says, so the
    # report shows the whole picture. A check that uses another's capture waits for it in a
    # task of its own, so that no worker a producer may need is held by its consumer.
    health = [c for c in service.checks if c.kind == "health" and not c.uses]
    samples = [c for c in service.checks if c.kind != "health" and not c.uses]
    consumers = [c for c in service.checks if c.uses]

    async def one(check: Check) -> None:
        if board is not None:
            board.begin(check.key)
        try:
            prepared = await inputs.prepare(check)
            if isinstance(prepared, CheckResult):  # what it needed is not there: skipped
                results[check.key] = prepared
                inputs.failed(check)
                return
            judge = protocol_for(check.url).judge
            outcome = await prober.probe(prepared.check)
            again = await inputs.refreshed(check, prepared, outcome)
            if again is not None:  # a 401 with a token granted earlier: once more with a new one
                prepared, outcome = again, await prober.probe(again.check)
            result = evaluate(prepared.check, outcome, critical=service.critical, judge=judge)
            if prepared.check is not check or check.captures:
                result = inputs.finish(check, prepared, outcome, result, critical=service.critical)
            if not keep_answers and result.response is not None:
                # a thousand checks' headers and bodies would outweigh everything else in memory
                result = replace(result, response=replace(result.response, headers=(), body=b""))
            results[check.key] = result
        except Exception as exc:  # a bug must cost one check its verdict, not the whole report
            results[check.key] = internal_error(check, exc, critical=service.critical)
            inputs.failed(check)
        finally:  # a skipped check ends too: the progress line counts it done
            if board is not None:
                board.end(check.key)

    waiting = [asyncio.ensure_future(one(check)) for check in consumers]
    for check in health:
        await one(check)
    # A few workers per service rather than a task per check: a service's
    # checks mostly share an origin, which serves only `per_origin` at a time
    # anyway, and a thousand parked tasks would cost memory for nothing.
    queue = iter(samples)

    async def worker() -> None:
        for check in queue:
            await one(check)

    try:
        await asyncio.gather(*(worker() for _ in range(min(len(samples), prober.settings.per_origin))))
        await asyncio.gather(*waiting)
    finally:
        for task in waiting:
            task.cancel()


def build_report(
    services: Sequence[Service],
    results: dict[tuple[str, str], CheckResult],
    *,
    duration: float,
    started_at: str,
    manifest_path: str,
    strict: bool,
    interrupted: str | None = None,
    interrupt_code: int = ExitCode.INTERRUPTED,
    tls_unverified: tuple[str, ...] = (),
) -> Report:
    service_results: list[ServiceResult] = []
    for service in services:
        checks = tuple(results[c.key] for c in service.checks)
        service_results.append(
            ServiceResult(service=service, verdict=worst([c.verdict for c in checks]), checks=checks)
        )
    broken = [
        r.service.name
        for r in service_results
        if any(c.failures and any(not f.warn_only for f in c.failures) for c in r.checks)
    ]
    unreachable = [r.service.name for r in service_results if any(c.connect_failed for c in r.checks)]
    causes = root_causes(broken, {s.name: s.depends_on for s in services}, unreachable)
    # a check skipped for want of a token or a capture: the check that failed to give it is the cause
    causes = needed_causes({r.service.name: r.checks for r in service_results}, causes) | causes
    service_results = [
        ServiceResult(r.service, r.verdict, r.checks, causes.get(r.service.name)) for r in service_results
    ]
    critical_verdicts = [c.verdict for r in service_results for c in r.checks]
    verdict = worst(critical_verdicts)
    if verdict is Verdict.SKIP:
        verdict = Verdict.PASS
    all_checks = [c for r in service_results for c in r.checks]
    # The one place that says what --strict means: every warning fails the run, and
    # each report names them (#14).
    strict_failures = tuple(c.check.key for c in all_checks if strict and c.verdict is Verdict.WARN)
    # The one place that says how a run that probed ends (errors.ExitCode): the signal's
    # code when one cut it short, else FAILED for a critical failure (or a --strict warning).
    if interrupted is not None:
        exit_code = ExitCode(interrupt_code)
    elif verdict is Verdict.FAIL or strict_failures:
        exit_code = ExitCode.FAILED
    else:
        exit_code = ExitCode.OK
    # a token request is a check of the run, not a service of the manifest (`auth:NAME`)
    counted = [r for r in service_results if not is_token_service(r.service.name)]
    summary = Summary(
        services=len(counted),
        healthy=sum(r.verdict is Verdict.PASS for r in counted),
        degraded=sum(r.verdict is Verdict.WARN for r in counted),
        failing=sum(r.verdict is Verdict.FAIL for r in counted),
        skipped=sum(r.verdict is Verdict.SKIP for r in counted),
        checks=len(all_checks),
        checks_failed=sum(c.verdict is Verdict.FAIL for c in all_checks),
        checks_warned=sum(c.verdict is Verdict.WARN for c in all_checks),
        recovered=sum(c.recovered for c in all_checks),
        duration=duration,
    )
    root_cause_names = tuple(dict.fromkeys(causes.values()))
    return Report(
        manifest_path=manifest_path,
        services=tuple(_order(service_results, root_cause_names)),
        verdict=verdict,
        exit_code=exit_code,
        summary=summary,
        started_at=started_at,
        interrupted=interrupted,
        root_causes=root_cause_names,
        tls_unverified=tls_unverified,
        nothing_answered=nothing_answered(all_checks),
        strict_failures=strict_failures,
    )


def _order(results: list[ServiceResult], causes: tuple[str, ...]) -> list[ServiceResult]:
    """Root causes first, then failures, warnings, passes; manifest order within each."""

    def key(item: tuple[int, ServiceResult]) -> tuple[int, int, int]:
        index, result = item
        is_cause = 0 if result.service.name in causes else 1
        return (is_cause, -result.verdict.rank, index)

    return [r for _, r in sorted(enumerate(results), key=key)]
