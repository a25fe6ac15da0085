"""Pure: (Snapshot, Expect) → failures, each saying what was expected and what came.

Reasons read like Gatus's resolved conditions: ``$.status: expected "UP", got "DOWN"``.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Any

from svccheck.durations import format_duration
from svccheck.model import Expect, Failure, FailureClass, Matcher, Snapshot, Timings
from svccheck.operators import MISSING, OPERATORS, show
from svccheck.redact import MASK, is_sensitive_header

if TYPE_CHECKING:
    from jsonpath_rfc9535 import JSONPathQuery

_MISSING = MISSING


def evaluate_expect(snapshot: Snapshot, expect: Expect) -> list[Failure]:
    failures: list[Failure] = []
    if expect.status is not None and not expect.status.accepts(snapshot.status_code):
        failures.append(
            Failure(FailureClass.STATUS, f"expected status {expect.status.text}, got {snapshot.status_code}")
        )
    failures.extend(_latency(snapshot.latency, expect))
    failures.extend(phase_failures(snapshot.timings, expect))
    failures.extend(certificate_failures(snapshot, expect))
    for name, matcher in expect.headers:
        value = snapshot.header(name)
        problem = check_matcher(matcher, _MISSING if value is None else value)
        if problem and value and is_sensitive_header(name):
            # a session cookie or token the server sets is a secret the redactor cannot know by value
            problem = problem.replace(show(value), json.dumps(MASK))
        if problem:
            failures.append(Failure(FailureClass.ASSERTION, f"header {name}: {problem}"))
    if expect.body is not None:
        text = snapshot.body.decode("utf-8", errors="replace")
        problem = check_matcher(expect.body, text)
        if problem:
            note = " (body truncated at the read cap)" if snapshot.truncated else ""
            failures.append(Failure(FailureClass.ASSERTION, f"body: {problem}{note}"))
    if expect.json:
        failures.extend(_json(snapshot, expect))
    return failures


def _latency(latency: float, expect: Expect) -> list[Failure]:
    if expect.max_latency is not None and latency > expect.max_latency:
        return [
            Failure(
                FailureClass.ASSERTION,
                f"latency {format_duration(latency)} over max_latency {format_duration(expect.max_latency)}",
            )
        ]
    if expect.warn_latency is not None and latency > expect.warn_latency:
        return [
            Failure(
                FailureClass.ASSERTION,
                f"latency {format_duration(latency)} over warn_latency "
                f"{format_duration(expect.warn_latency)}",
                warn_only=True,
            )
        ]
    return []


def phase_failures(timings: Timings | None, expect: Expect) -> list[Failure]:
    """`max_dns`, `max_connect`, `max_tls`, `max_ttfb`: a phase that did not happen is not judged."""
    if timings is None:
        return []
    failures = []
    for phase, actual, bound in (
        ("dns", timings.dns, expect.max_dns),
        ("connect", timings.connect, expect.max_connect),
        ("tls", timings.tls, expect.max_tls),
        ("ttfb", timings.ttfb, expect.max_ttfb),
    ):
        if bound is not None and actual is not None and actual > bound:
            failures.append(
                Failure(
                    FailureClass.ASSERTION,
                    f"{phase} {format_duration(actual)} over max_{phase} {format_duration(bound)}",
                )
            )
    return failures


def certificate_failures(snapshot: Snapshot, expect: Expect) -> list[Failure]:
    """`tls_min_days` fails and `tls_warn_days` warns below their number of days left."""
    if expect.tls_min_days is None and expect.tls_warn_days is None:
        return []
    cert = snapshot.certificate
    if cert is None:
        why = "plain HTTP" if snapshot.url.lower().startswith("http:") else "certificate not verified"
        return [
            Failure(
                FailureClass.TLS,
                f"no TLS certificate to check ({why})",
                warn_only=expect.tls_min_days is None,
            )
        ]
    days = math.floor(cert.days_left)
    when = f"expired {-days} days ago" if days < 0 else f"expires in {days} days"
    if expect.tls_min_days is not None and cert.days_left < expect.tls_min_days:
        return [Failure(FailureClass.TLS, f"TLS certificate {when} (< {expect.tls_min_days})")]
    if expect.tls_warn_days is not None and cert.days_left < expect.tls_warn_days:
        return [
            Failure(FailureClass.TLS, f"TLS certificate {when} (< {expect.tls_warn_days})", warn_only=True)
        ]
    return []


def _json(snapshot: Snapshot, expect: Expect) -> list[Failure]:
    if snapshot.truncated:
        return [Failure(FailureClass.ASSERTION, "body exceeds the read cap: cannot evaluate JSON assertions")]
    try:
        document = json.loads(snapshot.body)
    except (ValueError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        ctype = snapshot.header("content-type") or "no content-type"
        return [Failure(FailureClass.ASSERTION, f"body is not valid JSON ({ctype}): {detail}")]
    failures: list[Failure] = []
    for query, matcher in expect.json:
        try:
            values = json_query(query).find(document).values()
        except Exception as exc:  # a query the library rejects at run time is a failed assertion
            failures.append(Failure(FailureClass.ASSERTION, f"{query}: cannot evaluate: {exc}"))
            continue
        actual: Any = _MISSING if not values else (values[0] if len(values) == 1 else list(values))
        problem = check_matcher(matcher, actual)
        if problem:
            failures.append(Failure(FailureClass.ASSERTION, f"{query}: {problem}"))
    return failures


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
