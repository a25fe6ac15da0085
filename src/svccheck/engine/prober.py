"""Run one check's attempts: slots, per-origin gates, the attempt's time bound, retries.

The engine's part of probing; what an attempt sends and what its answer is
belongs to the check's protocol (`svccheck.protocols`). In-flight attempts are
capped by a semaphore (`--concurrency`) and never wait in httpx's pool queue,
which collapses under a large `gather`; each attempt is bounded as a whole
(connect + headers + body) because httpx's read timeout is per read;
transient failures are retried by tenacity with exponential backoff and
jitter, honouring `Retry-After`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from svccheck.durations import format_duration
from svccheck.engine.slots import OriginSlots
from svccheck.model import Answer, Attempt, Check, FailureClass, ProbeOutcome
from svccheck.protocols import protocol_for
from svccheck.protocols.base import Connector, Exchange, Protocol, classify_error
from svccheck.protocols.timing import CONNECTING, HANDSHAKING, AttemptTrace, DnsTimer
from svccheck.protocols.trace_context import new_span_id, new_trace_id, traceparent, tracestate

if TYPE_CHECKING:
    from tenacity import RetryCallState

DEFAULT_BODY_CAP = 1024 * 1024
PER_ORIGIN_CONNECTIONS = 10
BACKOFF_CAP = 10.0
# All the Retry-After waits of one check together: a down service answering `Retry-After: 10` to
# every attempt would otherwise stretch a run to 10 s per retry (issue 14); past it, the backoff
RETRY_AFTER_TOTAL = 10.0
TRANSIENT_CLASSES = frozenset(
    {FailureClass.REFUSED, FailureClass.TIMEOUT, FailureClass.PROTOCOL, FailureClass.DNS}
)
# An exception of these classes means no connection was made (a timeout: see its phase).
CONNECT_CLASSES = frozenset({FailureClass.REFUSED, FailureClass.DNS, FailureClass.TLS})


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """The run-wide limits and overrides every attempt obeys (`--concurrency`, `--timeout`, `-k`…)."""

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
    """What one attempt came to, before it becomes an `Attempt` of the outcome."""

    answer: Answer | None
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
    trace_ids: dict[tuple[str, str], str] = field(default_factory=dict)


class Prober:
    def __init__(self, settings: ProbeSettings) -> None:
        self.settings = settings
        self.progress = Progress()
        concurrency = max(1, settings.concurrency)
        self._per_origin = min(max(1, settings.per_origin), concurrency)
        self._concurrency = concurrency
        self._slots = OriginSlots(concurrency)
        self._gates: dict[object, asyncio.Semaphore] = {}
        self._connectors: dict[str, Connector] = {}
        self._dns = DnsTimer()

    async def __aenter__(self) -> Prober:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._dns.close()
        for connector in self._connectors.values():
            await connector.aclose()

    def prepare(self, checks: Iterable[Check]) -> None:
        """Open the connectors of every protocol these checks use, before any attempt starts.

        A connector imports its protocol's exchange (httpx is ~0.2 s here). Done by the first
        attempt of each protocol, that import stalled the loop while other attempts' clocks
        ran: a loopback Redis PING beside an HTTP check measured 214 ms instead of 2 ms.
        """
        by_protocol: dict[Protocol, list[Check]] = {}
        for check in checks:
            by_protocol.setdefault(protocol_for(check.url), []).append(check)
        for protocol, own in by_protocol.items():
            self._connector(protocol).prepare(own)

    def _connector(self, protocol: Protocol) -> Connector:
        connector = self._connectors.get(protocol.name)
        if connector is None:
            connector = protocol.connector(total=self._concurrency)
            self._connectors[protocol.name] = connector
        return connector

    def _gate(self, origin: object) -> asyncio.Semaphore:
        gate = self._gates.get(origin)
        if gate is None:
            gate = self._gates[origin] = asyncio.Semaphore(self._per_origin)
        return gate

    async def probe(self, check: Check) -> ProbeOutcome:
        started = time.perf_counter()
        wall_clock = time.time()  # for a span's start (--otlp); durations are read on perf_counter
        protocol = protocol_for(check.url)
        timeout = self.settings.request_timeout or check.timeout
        retries = check.retries if self.settings.retries is None else self.settings.retries
        history = self.progress.attempts.setdefault(check.key, [])
        verify = self.settings.verify_for(check)
        connector = self._connector(protocol)
        # the origin's gate before a global slot: checks queued on a busy origin hold no slot
        origin = protocol.origin(check, verify)
        gate = self._gate(origin)
        # a new trace per check, a new span per attempt (protocols.trace_context)
        trace_id = new_trace_id() if check.trace and protocol.carries_trace else None
        if trace_id is not None:
            self.progress.trace_ids[check.key] = trace_id

        async def attempt() -> _AttemptResult:
            span_id = None if trace_id is None else new_span_id()
            context = (
                (None, None)
                if trace_id is None or span_id is None
                else (traceparent(trace_id, span_id), tracestate(len(history) + 1))
            )
            async with gate, self._slots.slot(origin):
                result = await self._attempt(protocol, connector, check, verify, timeout, context)
            history.append(
                Attempt(
                    number=len(history) + 1,
                    status_text=result.answer.status_text if result.answer else None,
                    failure_class=result.failure_class,
                    reason=result.reason,
                    latency=result.latency,
                    span_id=span_id,
                )
            )
            return result

        last = await attempt()
        max_attempts = 1 + (retries if protocol.may_retry(check) else 0)
        if last.transient and max_attempts > 1:
            last = await _retry(last, attempt, history, max_attempts, check.backoff)
        return ProbeOutcome(
            answer=last.answer,
            failure_class=last.failure_class,
            reason=last.reason,
            attempts=tuple(history),
            elapsed=time.perf_counter() - started,
            connect_failed=last.connect_failed,
            trace_id=trace_id,
            started=wall_clock,
        )

    async def _attempt(
        self,
        protocol: Protocol,
        connector: Connector,
        check: Check,
        verify: bool | str,
        bound: float,
        context: tuple[str | None, str | None] = (None, None),  # traceparent, tracestate
    ) -> _AttemptResult:
        start = time.perf_counter()
        trace = AttemptTrace(self._dns, start)
        try:
            async with asyncio.timeout(bound):
                answer = await connector.exchange(
                    check,
                    Exchange(
                        verify=verify,
                        timeout=bound,
                        body_cap=self.settings.body_cap,
                        trace=trace,
                        traceparent=context[0],
                        tracestate=context[1],
                    ),
                )
        except TimeoutError:
            return self._timed_out(protocol, trace, bound, start)
        except Exception as exc:  # every network failure becomes a classified verdict, never a traceback
            if protocol.is_timeout(exc):
                return self._timed_out(protocol, trace, bound, start)
            failure_class, reason = classify_error(protocol, exc)
            return _AttemptResult(
                None,
                failure_class,
                reason,
                time.perf_counter() - start,
                transient=failure_class in TRANSIENT_CLASSES,
                connect_failed=failure_class in CONNECT_CLASSES,
            )
        transient = protocol.transient(answer)
        return _AttemptResult(
            answer,
            None,
            None,
            answer.latency,
            retry_after=protocol.retry_after(answer) if transient else None,
            transient=transient,
        )

    @staticmethod
    def _timed_out(protocol: Protocol, trace: AttemptTrace, timeout: float, start: float) -> _AttemptResult:
        # where it stalled tells a listener that never answers from a slow body or a dead host
        stalled = f" {trace.phase}" if protocol.names_stalled_phase else ""
        return _AttemptResult(
            None,
            FailureClass.TIMEOUT,
            f"timed out after {format_duration(timeout)}{stalled}",
            time.perf_counter() - start,
            transient=True,
            connect_failed=trace.phase in (CONNECTING, HANDSHAKING),
        )


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
                last.status_text,
                last.failure_class,
                last.reason,
                last.latency,
                wait_after=state.next_action.sleep,
                span_id=last.span_id,
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
    """Exponential backoff with jitter; a server's `Retry-After` (up to a cap, and up to
    `RETRY_AFTER_TOTAL` for all of one check's waits) wins."""

    def __init__(self, backoff: float) -> None:
        from tenacity import wait_exponential, wait_random

        self._retry_after_left = RETRY_AFTER_TOTAL

        # backoff, 2×, 4×… capped, plus up to half a backoff of jitter so that
        # many checks failing together do not retry in lockstep
        self._exponential = wait_exponential(multiplier=backoff, max=max(backoff, BACKOFF_CAP)) + wait_random(
            0, backoff / 2
        )

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            result = outcome.result()
            wanted = result.retry_after if isinstance(result, _AttemptResult) else None
            if wanted is not None and wanted <= self._retry_after_left:
                self._retry_after_left -= wanted
                return wanted
        return float(self._exponential(state))
