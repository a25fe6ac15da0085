"""Pure: a probe outcome + the check's expectations → assertion records → a CheckResult with a verdict.

One place decides how failures become verdicts, so every renderer agrees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from svccheck.judge.contract import prepare as compile_schemas
from svccheck.judge.expect import expect_assertions, unique_failures
from svccheck.listing import cut
from svccheck.model import (
    RESPONSE_EXCERPT,
    Answer,
    Assertion,
    Attempt,
    Check,
    CheckResult,
    Component,
    Failure,
    FailureClass,
    JsonSchema,
    Judgement,
    ProbeOutcome,
    Verdict,
)
from svccheck.redact import answer_secrets

if TYPE_CHECKING:
    from svccheck.judge.health import HealthReading


def prepare(checks: Iterable[Check]) -> None:
    """Compile these checks' JSON Schemas before any attempt starts: compiling inside the run
    would stall the event loop under every attempt in flight (their latencies would include it)."""
    schemas = [schema for check in checks for schema in _schemas(check)]
    if schemas:
        compile_schemas(schemas)


def modules_for(checks: Iterable[Check]) -> tuple[str, ...]:
    """What judging these checks' answers imports, for the run to import while it waits for them
    (`engine.idle`): the health readers, ten modules, and UTF-8 with a BOM, which bodies may use."""
    if any(check.kind == "health" for check in checks):
        return ("svccheck.judge.health", "encodings.utf_8_sig")
    return ()


def _schemas(check: Check) -> list[JsonSchema]:
    expect = check.expect
    if expect is None:
        return []
    found = [] if expect.schema is None else [expect.schema]
    if expect.openapi is not None:
        found.extend(s for r in expect.openapi.responses for _, s in r.media if s is not None)
    return found


_MAX_COMPONENTS_IN_REASON = 3
# Failures whose reason says how many attempts it took: those retries could have changed.
_RETRIED_CLASSES = frozenset(
    {
        FailureClass.TIMEOUT,
        FailureClass.REFUSED,
        FailureClass.DNS,
        FailureClass.PROTOCOL,
        FailureClass.STATUS,
        FailureClass.HEALTH,
    }
)


Judge = Callable[[Check, Answer], Judgement]


def evaluate(check: Check, outcome: ProbeOutcome, *, critical: bool, judge: Judge) -> CheckResult:
    """`judge` is the check's protocol's: its answer against its expectations, as records."""
    answer = outcome.answer
    if answer is None:
        failure = Failure(
            outcome.failure_class or FailureClass.PROTOCOL,
            outcome.reason or "no response",
            connect_failed=outcome.connect_failed,
        )
        return _result(
            check,
            [_no_answer(failure)],
            outcome.attempts,
            None,
            None,
            (),
            critical,
            trace_id=outcome.trace_id,
            started=outcome.started,
        )
    judgement = judge(check, answer)
    return _result(
        check,
        list(judgement.assertions),
        outcome.attempts,
        answer.status_code,
        answer.latency,
        judgement.components,
        critical,
        response=_excerpt(answer),
        secrets=answer_secrets(answer.headers, answer.body, answer.hop_cookies, answer.url),
        trace_id=outcome.trace_id,
        started=outcome.started,
    )


def judge_http(check: Check, answer: Answer) -> Judgement:
    """An HTTP answer: the manifest's `expect`, or without one 2xx and a body that does not say unhealthy.

    A health check's body is read once, for its components, whichever way it is judged.
    """
    reading = None
    if check.kind == "health":
        from svccheck.judge.health import parse_health  # its readers: only a run with a health check

        reading = parse_health(answer.body, answer.header("content-type"))
    components = reading.components if reading is not None else ()
    if check.expect is not None:
        return Judgement(tuple(expect_assertions(answer, check.expect)), components)
    failures = _health_failures(answer.status_code or 0, reading)
    label = "2xx status and a body that does not say unhealthy"
    record = Assertion(label, not failures, answer.status_text, failures[0] if failures else None)
    return Judgement((record,), components)


def _no_answer(failure: Failure) -> Assertion:
    return Assertion("an answer", False, "", failure)


def _excerpt(answer: Answer) -> Answer:
    """The answer kept for the report: headers, timings, certificate and the start of the body."""
    if len(answer.body) <= RESPONSE_EXCERPT:
        return answer
    return replace(answer, body=answer.body[:RESPONSE_EXCERPT], truncated=True)


def _health_failures(status_code: int, reading: HealthReading | None) -> list[Failure]:
    """Without `expect`: 2xx and a body that does not declare itself unhealthy.

    A status word svccheck does not know is never a pass (#15): the service
    said something about its health that cannot be vouched for, so it is a
    warn naming the word, even under a passing top-level status.
    """
    ok_status = 200 <= status_code < 300
    if reading is None or (not ok_status and reading.unrecognised and not reading.failing()):
        pass  # a word we cannot read adds nothing to an error status: the status code says it
    elif reading.status != "pass":
        detail = _health_detail(reading, reading.failing())
        if reading.status == "warn" and ok_status:
            # "degraded" only when the body said so in a word we know
            prefix = "" if reading.unrecognised else "degraded: "
            return [Failure(FailureClass.HEALTH, f"{prefix}{detail}", warn_only=True)]
        if reading.status == "fail" or not ok_status:
            prefix = "" if ok_status else f"HTTP {status_code}, "
            return [Failure(FailureClass.HEALTH, f"{prefix}{detail}")]
    elif ok_status and (unknown := reading.unrecognised_components()):
        return [Failure(FailureClass.HEALTH, _health_detail(reading, unknown), warn_only=True)]
    if not ok_status:
        return [Failure(FailureClass.STATUS, f"expected status 2xx, got {status_code}")]
    return []


def _health_detail(reading: HealthReading, components: tuple[Component, ...]) -> str:
    """`component db: DOWN, …`, led by the body's own status word when svccheck does not know it."""
    # `component a: DOWN, component b: DOWN, component c: DOWN and 2 more` (#16)
    listed = cut([_component_text(c) for c in components], _MAX_COMPONENTS_IN_REASON)
    parts = [_unrecognised(reading.raw_status or "")] if reading.unrecognised else []
    if listed:
        parts.append(listed)
    if parts:
        return ", ".join(parts)
    # no component explains it: the body's own words do (RabbitMQ's top-level `reason`)
    stated = reading.statement or f"health status {reading.raw_status or reading.status}"
    return f"{stated} ({reading.message})" if reading.message else stated


def _component_text(component: Component) -> str:
    """`component redis: DOWN (Connection is closed.)`: the component's own message is the why."""
    word = _unrecognised(component.raw_status) if component.unrecognised else component.raw_status
    text = f"component {component.name}: {word}"
    return f"{text} ({component.message})" if component.message else text


def _unrecognised(word: str) -> str:
    # the word is the body's, already one printable line (health._clean)
    return f"unrecognised health status '{word}'"


def _result(
    check: Check,
    records: list[Assertion],
    attempt_log: tuple[Attempt, ...],
    status_code: int | None,
    latency: float | None,
    components: tuple[Component, ...],
    critical: bool,
    response: Answer | None = None,
    secrets: frozenset[str] = frozenset(),
    trace_id: str | None = None,
    started: float | None = None,
) -> CheckResult:
    failures = unique_failures(records)
    attempts = len(attempt_log)
    hard = [f for f in failures if not f.warn_only]
    if hard:
        verdict = Verdict.FAIL if critical else Verdict.WARN
        lead = hard[0]
    elif failures:
        verdict, lead = Verdict.WARN, failures[0]
    else:
        verdict, lead = Verdict.PASS, None
    reason = None
    if lead is not None:
        notes = []
        if attempts > 1 and lead.failure_class in _RETRIED_CLASSES:
            notes.append(f"{attempts} attempts")
        named = _named_with(lead, failures)
        if len(failures) > named:
            # say what the others are: next to "3 attempts", a bare "+2 more" reads as attempts (#16)
            more = len(failures) - named
            notes.append(f"+{more} more failure{'s' if more != 1 else ''}")
        reason = _lead_text(lead, failures) + (f" ({', '.join(notes)})" if notes else "")
    return CheckResult(
        check=check,
        verdict=verdict,
        reason=reason,
        failure_class=lead.failure_class if lead else None,
        failures=tuple(failures),
        status_code=status_code,
        latency=latency,
        attempts=attempts,
        components=components,
        attempt_log=attempt_log,
        response=response,
        secrets=secrets,
        assertions=tuple(records),
        status_text=None if response is None else response.status_text,
        trace_id=trace_id,
        started=started,
    )


# the violations of one schema: the reason names this many, `check -v` and the JSON report all
_GROUP_IN_REASON = 3


def _named_with(lead: Failure, failures: list[Failure]) -> int:
    """How many failures the reason names: the lead, and the first few of its group."""
    if lead.group is None:
        return 1
    return min(_GROUP_IN_REASON, sum(1 for f in failures if f.group == lead.group))


def _lead_text(lead: Failure, failures: list[Failure]) -> str:
    if lead.group is None:
        return lead.message
    group = [f.message for f in failures if f.group == lead.group and f is not lead]
    return "; ".join([lead.message, *group[: _named_with(lead, failures) - 1]])


def unfinished(
    check: Check,
    attempt_log: tuple[Attempt, ...],
    *,
    interrupted: bool,
    critical: bool,
    trace_id: str | None = None,
) -> CheckResult:
    """A check cut short by the command's deadline or by a signal (`trace_id`: what it sent so far)."""
    if interrupted:
        return CheckResult(
            check,
            Verdict.SKIP,
            "interrupted before it finished",
            None,
            (),
            None,
            None,
            len(attempt_log),
            attempt_log=attempt_log,
            trace_id=trace_id,
        )
    failure = Failure(FailureClass.DEADLINE, "deadline exceeded")
    return _result(check, [_no_answer(failure)], attempt_log, None, None, (), critical, trace_id=trace_id)


def internal_error(check: Check, exc: Exception, *, critical: bool) -> CheckResult:
    """A failure inside svccheck itself, reported on the check instead of a traceback."""
    failure = Failure(FailureClass.PROTOCOL, f"svccheck internal error: {type(exc).__name__}: {exc}")
    return _result(check, [_no_answer(failure)], (), None, None, (), critical)
