"""Pure: (Answer, Expect) → assertion records, each saying what was expected and what came.

Reasons read like Gatus's resolved conditions: ``$.status: expected "UP", got "DOWN"``.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Any

from svccheck.durations import format_duration
from svccheck.judge.contract import openapi_assertions, schema_assertions
from svccheck.judge.operators import MISSING, OPERATORS, describe, show
from svccheck.model import Answer, Assertion, Expect, Failure, FailureClass, Matcher, StatusExpect, Timings
from svccheck.redact import MASK, is_sensitive_header

if TYPE_CHECKING:
    from jsonpath_rfc9535 import JSONPathQuery

_MISSING = MISSING


def evaluate_expect(answer: Answer, expect: Expect) -> list[Failure]:
    """The failures among `expect_assertions`, each once, in the manifest's order."""
    return unique_failures(expect_assertions(answer, expect))


def unique_failures(records: list[Assertion]) -> list[Failure]:
    # one failure can stand behind several records (a body that is not JSON fails every query)
    seen: dict[int, Failure] = {}
    for record in records:
        if record.failure is not None:
            seen.setdefault(id(record.failure), record.failure)
    return list(seen.values())


def expect_assertions(answer: Answer, expect: Expect) -> list[Assertion]:
    """One record per expectation, held or not, in the manifest's order."""
    records: list[Assertion] = []
    if expect.status is not None:
        records.append(_status(answer, expect.status))
    records.extend(_latency(answer.latency, expect))
    records.extend(phase_assertions(answer.timings, expect))
    records.extend(certificate_assertions(answer, expect))
    for name, matcher in expect.headers:
        value = answer.header(name)
        problem = check_matcher(matcher, _MISSING if value is None else value)
        if problem and value and is_sensitive_header(name):
            # a session cookie or token the server sets is a secret the redactor cannot know by value
            problem = problem.replace(show(value), json.dumps(MASK))
        failure = Failure(FailureClass.ASSERTION, f"header {name}: {problem}") if problem else None
        records.append(
            Assertion(f"header {name} {matcher_text(matcher)}", failure is None, value or "absent", failure)
        )
    if expect.body is not None:
        text = answer.body.decode("utf-8", errors="replace")
        problem = check_matcher(expect.body, text)
        failure = None
        if problem:
            note = " (body truncated at the read cap)" if answer.truncated else ""
            failure = Failure(FailureClass.ASSERTION, f"body: {problem}{note}")
        records.append(Assertion(f"body {matcher_text(expect.body)}", failure is None, "ok", failure))
    if expect.json:
        records.extend(_json(answer, expect))
    if expect.schema is not None:
        records.extend(schema_assertions(answer, expect.schema))
    if expect.openapi is not None:
        records.extend(openapi_assertions(answer, expect.openapi))
    return records


def _status(answer: Answer, status: StatusExpect) -> Assertion:
    code = answer.status_code
    actual = answer.status_text if code is None else str(code)
    failure = None
    if code is None or not status.accepts(code):
        failure = Failure(FailureClass.STATUS, f"expected status {status.text}, got {actual}")
    return Assertion(f"status {status.text}", failure is None, actual, failure)


def _latency(latency: float, expect: Expect) -> list[Assertion]:
    records: list[Assertion] = []
    actual = format_duration(latency)
    over_max = expect.max_latency is not None and latency > expect.max_latency
    if expect.max_latency is not None:
        failure = None
        if over_max:
            failure = Failure(
                FailureClass.ASSERTION,
                f"latency {actual} over max_latency {format_duration(expect.max_latency)}",
            )
        records.append(
            Assertion(f"latency ≤ {format_duration(expect.max_latency)}", not over_max, actual, failure)
        )
    if expect.warn_latency is not None:
        over_warn = latency > expect.warn_latency
        failure = None
        if over_warn and not over_max:  # over max_latency already fails the check: one failure says it
            failure = Failure(
                FailureClass.ASSERTION,
                f"latency {actual} over warn_latency {format_duration(expect.warn_latency)}",
                warn_only=True,
            )
        label = f"latency ≤ {format_duration(expect.warn_latency)} (warn)"
        records.append(Assertion(label, not over_warn, actual, failure))
    return records


def phase_assertions(timings: Timings | None, expect: Expect) -> list[Assertion]:
    """`max_dns`, `max_connect`, `max_tls`, `max_ttfb`: a phase that did not happen is not judged."""
    records = []
    for phase, bound in (
        ("dns", expect.max_dns),
        ("connect", expect.max_connect),
        ("tls", expect.max_tls),
        ("ttfb", expect.max_ttfb),
    ):
        if bound is None:
            continue
        actual = None if timings is None else getattr(timings, phase)
        label = f"{phase} ≤ {format_duration(bound)}"
        if actual is None:
            records.append(Assertion(label, True, "not measured (no new connection)"))
            continue
        failure = None
        if actual > bound:
            failure = Failure(
                FailureClass.ASSERTION,
                f"{phase} {format_duration(actual)} over max_{phase} {format_duration(bound)}",
            )
        records.append(Assertion(label, failure is None, format_duration(actual), failure))
    return records


def certificate_assertions(answer: Answer, expect: Expect) -> list[Assertion]:
    """`tls_min_days` fails and `tls_warn_days` warns below their number of days left."""
    if expect.tls_min_days is None and expect.tls_warn_days is None:
        return []
    cert = answer.certificate
    records: list[Assertion] = []
    failing: Failure | None = None
    warning: Failure | None = None
    if cert is None:
        why = "plain HTTP" if answer.url.lower().startswith("http:") else "certificate not verified"
        problem = Failure(
            FailureClass.TLS, f"no TLS certificate to check ({why})", warn_only=expect.tls_min_days is None
        )
        failing, warning = (problem, None) if expect.tls_min_days is not None else (None, problem)
        days_text = "no certificate"
    else:
        days = math.floor(cert.days_left)
        when = f"expired {-days} days ago" if days < 0 else f"expires in {days} days"
        days_text = f"{cert.days_left:.0f} days left"
        if expect.tls_min_days is not None and cert.days_left < expect.tls_min_days:
            failing = Failure(FailureClass.TLS, f"TLS certificate {when} (< {expect.tls_min_days})")
        elif expect.tls_warn_days is not None and cert.days_left < expect.tls_warn_days:
            warning = Failure(
                FailureClass.TLS, f"TLS certificate {when} (< {expect.tls_warn_days})", warn_only=True
            )
    if expect.tls_min_days is not None:
        label = f"certificate valid ≥ {expect.tls_min_days} days"
        records.append(Assertion(label, failing is None, days_text, failing))
    if expect.tls_warn_days is not None:
        label = f"certificate valid ≥ {expect.tls_warn_days} days (warn)"
        records.append(Assertion(label, warning is None, days_text, warning))
    return records


def _json(answer: Answer, expect: Expect) -> list[Assertion]:
    unreadable: Failure | None = None
    document: Any = None
    if answer.truncated:
        unreadable = Failure(
            FailureClass.ASSERTION, "body exceeds the read cap: cannot evaluate JSON assertions"
        )
    else:
        try:
            document = json.loads(answer.body)
        except (ValueError, RecursionError) as exc:
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            ctype = answer.header("content-type") or "no content-type"
            unreadable = Failure(FailureClass.ASSERTION, f"body is not valid JSON ({ctype}): {detail}")
    records: list[Assertion] = []
    for query, matcher in expect.json:
        label = f"{query} {matcher_text(matcher)}"
        if unreadable is not None:
            records.append(Assertion(label, False, "", unreadable))
            continue
        try:
            values = json_query(query).find(document).values()
        except Exception as exc:  # a query the library rejects at run time is a failed assertion
            broken = Failure(FailureClass.ASSERTION, f"{query}: cannot evaluate: {exc}")
            records.append(Assertion(label, False, "", broken))
            continue
        actual: Any = _MISSING if not values else (values[0] if len(values) == 1 else list(values))
        problem = check_matcher(matcher, actual)
        failure = Failure(FailureClass.ASSERTION, f"{query}: {problem}") if problem else None
        records.append(Assertion(label, failure is None, "ok", failure))
    return records


def matcher_text(matcher: Matcher) -> str:
    """`to exist and type string`: what a matcher expects, in words (the operators' own)."""
    return " and ".join(describe(op, operand) for op, operand in matcher.ops)


@functools.cache
def json_query(query: str) -> JSONPathQuery:
    """A JSONPath compiled once per process: the manifest's validation compiles it, and every
    evaluation after (each response, each `watch` or `serve` round) reuses it. Compiling is
    ~5x the cost of running a query on a small body."""
    import jsonpath_rfc9535

    return jsonpath_rfc9535.compile(query)


def check_matcher(matcher: Matcher, actual: Any) -> str | None:
    """None when every operator holds; else "expected X, got Y" for the first that does not."""
    for op, operand in matcher.ops:
        operator = OPERATORS.get(op)
        if operator is None:
            raise ValueError(f"unknown matcher {op!r}")
        if actual is _MISSING and not operator.judges_missing:
            return f"expected {operator.words(operand)}, got nothing"
        if not operator.holds(actual, operand):
            return f"expected {operator.words(operand)}, got {operator.shown(actual)}"
    return None
