"""Pure: (Answer, Expect) → assertion records, each saying what was expected and what came.

Reasons read like Gatus's resolved conditions: ``$.status: expected "UP", got "DOWN"``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import TYPE_CHECKING, Any

from svccheck.durations import format_duration
from svccheck.model import Answer, Assertion, Expect, Failure, FailureClass, Matcher, StatusExpect, Timings
from svccheck.redact import MASK, is_sensitive_header

if TYPE_CHECKING:
    from jsonpath_rfc9535 import JSONPathQuery

_MISSING = object()
_MAX_SHOWN = 80


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
    """`to exist and type string`: what a matcher expects, in words."""
    parts = []
    for op, operand in matcher.ops:
        if op == "exists":
            parts.append("to exist" if operand else "not to exist")
        else:
            parts.append(describe(op, operand))
    return " and ".join(parts)


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
        if op == "exists":
            present = actual is not _MISSING
            if present != operand:
                return f"expected {'to exist' if operand else 'not to exist'}, got {show(actual)}"
            continue
        if actual is _MISSING:
            return f"expected {describe(op, operand)}, got nothing"
        if not _holds(op, operand, actual):
            if op == "len":
                return f"expected {describe(op, operand)}, got {_length_text(actual)}"
            return f"expected {describe(op, operand)}, got {show(actual)}"
    return None


def _holds(op: str, operand: Any, actual: Any) -> bool:
    if op == "eq":
        return _equal(actual, operand)
    if op == "ne":
        return not _equal(actual, operand)
    if op in ("lt", "lte", "gt", "gte"):
        return _compare(op, actual, operand)
    if op == "in":
        return any(_equal(actual, item) for item in operand)
    if op == "contains":
        return _contains(actual, operand)
    if op == "not_contains":
        return not _contains(actual, operand)
    if op == "matches":
        return re.search(operand, actual if isinstance(actual, str) else json.dumps(actual)) is not None
    if op == "type":
        return json_type(actual) == operand or (operand == "number" and json_type(actual) == "integer")
    if op == "len":
        size = _length(actual)
        if size is None:
            return False
        if isinstance(operand, dict):
            return all(_holds(inner_op, inner, size) for inner_op, inner in operand.items())
        return bool(size == operand)
    raise ValueError(f"unknown matcher {op!r}")


def _equal(actual: Any, expected: Any) -> bool:
    # JSON has no bool/int confusion: true is not 1
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float) and isinstance(actual, str):
        number = _number(actual)
        return number is not None and number == expected
    return bool(actual == expected)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _compare(op: str, actual: Any, operand: Any) -> bool:
    left, right = _number(actual), _number(operand)
    if left is None or right is None:
        return False
    return {
        "lt": left < right, "lte": left <= right, "gt": left > right, "gte": left >= right,
    }[op]  # fmt: skip


def _contains(actual: Any, needle: Any) -> bool:
    if isinstance(actual, str):
        return str(needle) in actual
    if isinstance(actual, list):
        return any(_equal(item, needle) for item in actual)
    if isinstance(actual, dict):
        return needle in actual
    return False


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | dict) else None


def _length_text(actual: Any) -> str:
    size = _length(actual)
    return f"length {size}" if size is not None else f"{json_type(actual)} {show(actual)} (no length)"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_WORDS = {
    "eq": "", "ne": "not ", "lt": "< ", "lte": "<= ", "gt": "> ", "gte": ">= ", "in": "one of ",
    "contains": "to contain ", "not_contains": "not to contain ", "matches": "to match ",
    "type": "type ",
}  # fmt: skip


def describe(op: str, operand: Any) -> str:
    if op == "len":
        if isinstance(operand, dict):
            return "length " + " and ".join(describe(k, v) for k, v in operand.items())
        return f"length {operand}"
    if op in ("type",):
        return f"type {operand}"
    if op == "matches":
        return f"to match /{operand}/"
    return f"{_WORDS.get(op, op + ' ')}{show(operand)}"


def show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
