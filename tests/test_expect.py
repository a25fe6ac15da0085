"""Expectations are pure: a snapshot and an Expect give failures that read plainly."""

from __future__ import annotations

import json

import pytest

from svccheck.grammar.schema import to_matcher
from svccheck.judge.expect import check_matcher, evaluate_expect
from svccheck.model import ANY_2XX, Answer, Expect, FailureClass, StatusExpect


def snap(body: object = b"", status: int = 200, headers: tuple[tuple[str, str], ...] = (), latency: float = 0.01,
         truncated: bool = False) -> Answer:  # fmt: skip
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(
        f"HTTP {status}", headers, raw, truncated, latency, "HTTP/1.1", "http://127.0.0.1/x", status
    )


def messages(snapshot: Answer, expect: Expect) -> list[str]:
    return [f.message for f in evaluate_expect(snapshot, expect)]


def test_status_forms() -> None:
    assert messages(snap(status=503), Expect(status=ANY_2XX)) == ["expected status 2xx, got 503"]
    listed = StatusExpect(codes=frozenset({200, 204}), text="200, 204")
    assert messages(snap(status=204), Expect(status=listed)) == []
    assert messages(snap(status=201), Expect(status=listed)) == ["expected status 200, 204, got 201"]


def test_json_equality_reads_like_the_contract() -> None:
    expect = Expect(json=(("$.status", to_matcher("UP")),))
    assert messages(snap({"status": "DOWN"}), expect) == ['$.status: expected "UP", got "DOWN"']
    assert messages(snap({"status": "UP"}), expect) == []


@pytest.mark.parametrize(
    ("matcher", "actual", "problem"),
    [
        ({"len": {"gte": 1}}, [], "expected length >= 1, got length 0"),
        ({"len": 2}, [1, 2], None),
        ({"len": 2}, "abc", "expected length 2, got length 3"),
        ({"exists": True}, None, None),
        ({"gt": 3, "lt": 10}, 5, None),
        ({"gt": 3, "lt": 10}, 10, "expected < 10, got 10"),
        ({"in": ["a", "b"]}, "c", 'expected one of ["a", "b"], got "c"'),
        ({"contains": "ok"}, "all ok", None),
        ({"contains": 3}, [1, 2], "expected to contain 3, got [1, 2]"),
        ({"not_contains": "error"}, "an error", 'expected not to contain "error", got "an error"'),
        ({"matches": "^v\\d+"}, "v12", None),
        ({"matches": "^v\\d+"}, "x12", 'expected to match /^v\\d+/, got "x12"'),
        ({"type": "integer"}, 1, None),
        ({"type": "number"}, 1, None),
        ({"type": "string"}, 1, "expected type string, got 1"),
        ({"ne": 0}, 0, "expected not 0, got 0"),
        ({"eq": True}, 1, "expected true, got 1"),
        ({"lt": 5}, "4", None),
        ({"gte": 1}, "n/a", 'expected >= 1, got "n/a"'),
    ],
)
def test_matchers(matcher: object, actual: object, problem: str | None) -> None:
    assert check_matcher(to_matcher(matcher), actual) == problem


def test_missing_json_path_and_exists_false() -> None:
    expect = Expect(
        json=(("$.data[0].id", to_matcher({"exists": True})), ("$.error", to_matcher({"exists": False})))
    )
    assert messages(snap({"data": []}), expect) == ["$.data[0].id: expected to exist, got nothing"]
    assert messages(snap({"data": [{"id": 1}], "error": "x"}), expect) == [
        '$.error: expected not to exist, got "x"'
    ]


def test_invalid_json_is_an_assertion_failure() -> None:
    failures = evaluate_expect(snap(b"<html>", headers=(("content-type", "text/html"),)),
                               Expect(json=(("$.a", to_matcher(1)),)))  # fmt: skip
    assert failures[0].failure_class is FailureClass.ASSERTION
    assert failures[0].message.startswith("body is not valid JSON (text/html)")


def test_truncated_body_cannot_satisfy_json() -> None:
    failures = evaluate_expect(snap({"a": 1}, truncated=True), Expect(json=(("$.a", to_matcher(1)),)))
    assert "read cap" in failures[0].message


def test_latency_fails_and_warns() -> None:
    expect = Expect(max_latency=0.5, warn_latency=0.2)
    assert evaluate_expect(snap(latency=0.1), expect) == []
    warn = evaluate_expect(snap(latency=0.3), expect)
    assert warn[0].warn_only and "over warn_latency 200ms" in warn[0].message
    fail = evaluate_expect(snap(latency=0.9), expect)
    assert not fail[0].warn_only and fail[0].message == "latency 900ms over max_latency 500ms"


def test_headers_case_insensitive_and_missing() -> None:
    expect = Expect(
        headers=(("Content-Type", to_matcher({"contains": "json"})), ("X-Req", to_matcher({"exists": True})))
    )
    failures = messages(snap(headers=(("content-type", "application/json"),)), expect)
    assert failures == ["header X-Req: expected to exist, got nothing"]


def test_body_matchers() -> None:
    expect = Expect(body=to_matcher({"contains": "plans", "not_contains": "error"}))
    assert messages(snap(b"plans: 3"), expect) == []
    assert messages(snap(b"error: no plans"), expect) == [
        'body: expected not to contain "error", got "error: no plans"'
    ]
