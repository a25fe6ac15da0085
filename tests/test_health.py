"""Health body parsing: the real-world payloads, the status words, and hostile input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.health_strategies import CONTENT_TYPES, HEALTH_JSON, health_bodies, json_values
from svccheck.judge.health import (
    MAX_COMPONENTS,
    MAX_DEPTH,
    MAX_TEXT,
    Component,
    HealthReading,
    HealthStatus,
    parse_health,
    status_word,
)

FIXTURES = Path(__file__).parent / "fixtures" / "health"

# file, content type it is served with, format, status, {failing component: status}
# — the table of fixtures/health/README.md.
FIXTURE_TABLE: list[tuple[str, str | None, str, HealthStatus, dict[str, HealthStatus]]] = [
    (
        "ietf-pass-with-warn-components.json",
        HEALTH_JSON,
        "ietf",
        "pass",
        {"cassandra:connections": "warn", "cpu:utilization": "warn", "memory:utilization": "warn"},
    ),
    ("ietf-warn.json", HEALTH_JSON, "ietf", "warn", {"sms-provider:responseTime": "warn"}),
    ("ietf-fail.json", HEALTH_JSON, "ietf", "fail", {"stripe:responseTime": "fail"}),
    ("spring-up.json", "application/vnd.spring-boot.actuator.v3+json", "spring", "pass", {}),
    ("spring-down.json", "application/json", "spring", "fail", {"db": "fail"}),
    ("spring-nested-out-of-service.json", "application/json", "spring", "fail", {"readinessState": "fail"}),
    ("terminus-error.json", "application/json; charset=utf-8", "terminus", "fail", {"database": "fail"}),
    ("aspnetcore-degraded.json", "application/json", "aspnetcore", "warn", {"redis": "warn"}),
    ("k8s-readyz-verbose-failed.txt", "text/plain; charset=utf-8", "k8s", "fail", {"etcd": "fail"}),
    ("k8s-readyz-verbose-ok.txt", "text/plain; charset=utf-8", "k8s", "pass", {}),
    ("plain-ok.json", "application/json", "plain-json", "pass", {}),
    ("plain-unhealthy.json", "application/json", "plain-json", "fail", {}),
    ("plain-text-ok.txt", "text/plain", "plain-text", "pass", {}),
]


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(body: bytes | str, content_type: str | None = None) -> HealthReading:
    reading = parse_health(body, content_type)
    assert reading is not None, body
    return reading


def failing(reading: HealthReading) -> dict[str, HealthStatus]:
    return {c.name: c.status for c in reading.failing()}


# --- the fixtures --------------------------------------------------------------


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.name != "README.md"}
    assert on_disk == {row[0] for row in FIXTURE_TABLE}


@pytest.mark.parametrize(
    ("name", "content_type", "fmt", "status", "bad"), FIXTURE_TABLE, ids=[r[0] for r in FIXTURE_TABLE]
)
def test_fixture(
    name: str, content_type: str | None, fmt: str, status: HealthStatus, bad: dict[str, HealthStatus]
) -> None:
    reading = parsed(read(name), content_type)
    assert (reading.format, reading.status, failing(reading)) == (fmt, status, bad)


@pytest.mark.parametrize(
    ("name", "fmt", "status", "bad"),
    [(r[0], r[2], r[3], r[4]) for r in FIXTURE_TABLE],
    ids=[r[0] for r in FIXTURE_TABLE],
)
def test_fixture_recognised_by_shape_alone(
    name: str, fmt: str, status: HealthStatus, bad: dict[str, HealthStatus]
) -> None:
    # Servers often send the wrong content type; the body's shape must suffice.
    reading = parsed(read(name).decode())
    assert (reading.format, reading.status, failing(reading)) == (fmt, status, bad)


def test_ietf_top_level_status_wins_over_components() -> None:
    reading = parsed(read("ietf-pass-with-warn-components.json"), HEALTH_JSON)
    assert reading.raw_status == "pass"
    assert [c.name for c in reading.components] == [
        "cassandra:responseTime",
        "cassandra:connections",
        "uptime",
        "cpu:utilization",
        "memory:utilization",
    ]
    # memory:utilization has a warn node and a pass node: the worst wins.
    memory = reading.components[-1]
    assert (memory.status, memory.raw_status, memory.message) == ("warn", "warn", None)


def test_ietf_fail_component_message_is_the_node_output() -> None:
    (stripe,) = parsed(read("ietf-fail.json"), HEALTH_JSON).failing()
    assert stripe == Component("stripe:responseTime", "fail", "fail", "connect ETIMEDOUT")


def test_ietf_warn_component_message() -> None:
    (sms,) = parsed(read("ietf-warn.json")).failing()
    assert sms.message == "SMS provider answering slowly"


def test_spring_down_message_from_details_error() -> None:
    reading = parsed(read("spring-down.json"))
    assert reading.raw_status == "DOWN"
    assert [c.name for c in reading.components] == ["db", "diskSpace", "ping"]
    (db,) = reading.failing()
    assert db.raw_status == "DOWN"
    assert db.message is not None
    assert db.message.startswith("org.springframework.jdbc.CannotGetJdbcConnectionException:")


def test_spring_nested_components_are_named_by_path() -> None:
    reading = parsed(read("spring-nested-out-of-service.json"))
    assert reading.raw_status == "OUT_OF_SERVICE"
    assert [(c.name, c.status) for c in reading.components] == [
        ("db/primary", "pass"),
        ("db/replica", "pass"),
        ("readinessState", "fail"),
        ("livenessState", "pass"),
    ]
    assert reading.failing()[0].raw_status == "OUT_OF_SERVICE"


def test_terminus_component_message() -> None:
    reading = parsed(read("terminus-error.json"))
    assert reading.raw_status == "error"
    assert [c.name for c in reading.components] == ["memory_heap", "database"]
    (database,) = reading.failing()
    assert database == Component("database", "fail", "down", "Connection terminated unexpectedly")


def test_aspnetcore_component_message_from_description() -> None:
    reading = parsed(read("aspnetcore-degraded.json"))
    assert reading.raw_status == "Degraded"
    (redis,) = reading.failing()
    assert redis == Component("redis", "warn", "Degraded", "Timeout connecting to redis:6379")


def test_k8s_failed_component_keeps_the_reason() -> None:
    reading = parsed(read("k8s-readyz-verbose-failed.txt"), "text/plain")
    assert reading.raw_status == "readyz check failed"
    assert len(reading.components) == 6
    assert reading.failing() == (Component("etcd", "fail", "failed", "reason withheld"),)


def test_plain_unhealthy_boolean_names_the_key() -> None:
    reading = parsed(read("plain-unhealthy.json"))
    assert (reading.raw_status, reading.components) == ("healthy=false", ())


def test_plain_ok_raw_status() -> None:
    assert parsed(read("plain-ok.json")).raw_status == "ok"


# --- status words ----------------------------------------------------------------

WORDS: list[tuple[str, HealthStatus]] = [
    # IETF
    ("pass", "pass"), ("ok", "pass"), ("up", "pass"), ("warn", "warn"),
    ("fail", "fail"), ("error", "fail"), ("down", "fail"),
    # Spring
    ("UP", "pass"), ("DOWN", "fail"), ("OUT_OF_SERVICE", "fail"), ("UNKNOWN", "warn"),
    # ASP.NET Core
    ("Healthy", "pass"), ("Degraded", "warn"), ("Unhealthy", "fail"),
    # Terminus
    ("shutting_down", "fail"),
    # Kubernetes, gRPC, plain bodies
    ("failed", "fail"), ("SERVING", "pass"), ("NOT_SERVING", "fail"),
    ("green", "pass"), ("alive", "pass"), ("ready", "pass"),
    ("yellow", "warn"), ("partial", "warn"),
    ("red", "fail"), ("critical", "fail"),
    # what real servers say while not serving: not ready, whatever the format (issue 14)
    ("STARTING", "fail"), ("stopping", "fail"), ("restarting", "fail"), ("stopped", "fail"),
    ("crashed", "fail"), ("start failed", "fail"), ("connection-failed", "fail"),
    # Case and separators do not matter.
    ("Out-Of-Service", "fail"), ("not serving", "fail"), ("  Pass ", "pass"), ("WARN", "warn"),
]  # fmt: skip


@pytest.mark.parametrize(("word", "expected"), WORDS)
def test_status_word(word: str, expected: HealthStatus) -> None:
    assert status_word(word) == expected


@pytest.mark.parametrize("word", ["", "published", "pong", "200", "x" * 1000, "o k", "passing grade"])
def test_status_word_unknown(word: str) -> None:
    assert status_word(word) is None


@pytest.mark.parametrize(("word", "expected"), WORDS)
def test_plain_json_status_words(word: str, expected: HealthStatus) -> None:
    reading = parsed(json.dumps({"status": word}))
    assert (reading.format, reading.status, reading.raw_status) == (
        "plain-json",
        expected,
        word.strip(),
    )


# --- IETF details ------------------------------------------------------------------


def test_ietf_recognised_by_content_type_without_checks() -> None:
    reading = parsed('{"status": "warn"}', "application/health+json; charset=utf-8")
    assert (reading.format, reading.status, reading.components) == ("ietf", "warn", ())


def test_ietf_warn_at_top_with_a_failing_component_stays_warn() -> None:
    body = {"status": "warn", "checks": {"db:connections": [{"status": "fail", "output": "refused"}]}}
    reading = parsed(json.dumps(body), HEALTH_JSON)
    assert reading.status == "warn"
    assert reading.failing() == (Component("db:connections", "fail", "fail", "refused"),)


def test_ietf_without_top_level_status_takes_the_worst_component() -> None:
    body = {"checks": {"a": [{"status": "pass"}], "b": [{"status": "warn"}]}}
    reading = parsed(json.dumps(body))
    assert (reading.status, reading.raw_status) == ("warn", None)


def test_ietf_unknown_top_level_word_is_at_least_warn() -> None:
    reading = parsed(json.dumps({"status": "sunny", "checks": {"a": [{"status": "pass"}]}}))
    assert (reading.status, reading.raw_status, reading.unrecognised) == ("warn", "sunny", True)


@pytest.mark.parametrize(
    ("body", "raw"),
    [
        ({"status": "NOK"}, "NOK"),
        ({"status": "published", "id": 7}, "published"),
        ({"State": "maintenance"}, "maintenance"),
        ({"status": "broken", "ok": True}, "broken"),  # a word we cannot read outranks a boolean pass
        ({"status": "x\x1b[0m" + "y" * 300}, "x\\x1b[0m" + "y" * (MAX_TEXT - 9) + "…"),
    ],
)
def test_plain_json_unknown_status_word_is_warn(body: dict[str, Any], raw: str) -> None:
    # A health endpoint stating its status in a word we do not know is not a pass (#15).
    reading = parsed(json.dumps(body))
    assert (reading.format, reading.status, reading.raw_status, reading.unrecognised) == (
        "plain-json",
        "warn",
        raw,
        True,
    )


def test_plain_json_unknown_status_word_with_a_failing_boolean_fails() -> None:
    reading = parsed(json.dumps({"status": "NOK", "healthy": False}))
    assert (reading.status, reading.raw_status, reading.unrecognised) == ("fail", "healthy=false", False)


def test_plain_json_listed_dependency_with_an_unknown_word_is_a_warn_component() -> None:
    body = {"status": "ok", "checks": {"queue": {"status": "paused"}, "version": "1.2", "db": "up"}}
    reading = parsed(json.dumps(body))
    # a bare string may be any datum: only the object stating a status is read whatever its word
    assert reading.components == (
        Component("queue", "warn", "paused", unrecognised=True),
        Component("db", "pass", "up"),
    )
    # an object alongside, not listed, is not taken for a component on an unknown word
    assert parsed(json.dumps({"status": "ok", "build": {"status": "released"}})).components == ()


def test_known_words_are_not_unrecognised() -> None:
    for name in FIXTURES.iterdir():
        if name.name == "README.md":
            continue
        reading = parsed(name.read_bytes())
        assert not reading.unrecognised and not reading.unrecognised_components(), name.name


# --- Spring details -----------------------------------------------------------------


def test_spring_down_composite_without_explaining_children_is_reported() -> None:
    body = {
        "status": "DOWN",
        "components": {
            "db": {
                "status": "DOWN",
                "details": {"error": "pool exhausted"},
                "components": {"primary": {"status": "UP"}},
            },
        },
    }
    reading = parsed(json.dumps(body))
    assert reading.failing() == (Component("db", "fail", "DOWN", "pool exhausted"),)
    assert [c.name for c in reading.components] == ["db/primary", "db"]


def test_spring_down_composite_is_explained_by_its_leaf() -> None:
    body = {
        "status": "DOWN",
        "components": {
            "db": {
                "status": "DOWN",
                "components": {"primary": {"status": "UP"}, "replica": {"status": "DOWN"}},
            },
        },
    }
    assert failing(parsed(json.dumps(body))) == {"db/replica": "fail"}


def test_spring_unknown_is_warn() -> None:
    body = {"status": "UP", "components": {"mail": {"status": "UNKNOWN"}}}
    reading = parsed(json.dumps(body))
    assert (reading.status, failing(reading)) == ("pass", {"mail": "warn"})


@pytest.mark.parametrize(
    "body",
    [
        {"status": "UP", "components": {"mail": {"status": "MAINTENANCE"}}},
        {"status": "pass", "checks": {"mail": [{"status": "MAINTENANCE"}]}},
        {"status": "ok", "details": {"mail": {"status": "MAINTENANCE"}}},
        {"status": "Healthy", "entries": {"mail": {"status": "MAINTENANCE"}}},
    ],
)
def test_unknown_component_word_is_warn_and_kept_as_written(body: dict[str, Any]) -> None:
    # A word we cannot vouch for inside a health report is not a pass.
    reading = parsed(json.dumps(body))
    expected = Component("mail", "warn", "MAINTENANCE", unrecognised=True)
    assert (reading.status, reading.failing()) == ("pass", (expected,))


def test_spring_boot_2_0_details_shape() -> None:
    body = {
        "status": "DOWN",
        "details": {
            "db": {"status": "DOWN", "details": {"error": "boom"}},
            "diskSpace": {"status": "UP", "details": {"total": 1, "free": 1}},
        },
    }
    reading = parsed(json.dumps(body))
    assert reading.format == "spring"
    assert reading.failing() == (Component("db", "fail", "DOWN", "boom"),)


# --- other JSON shapes ---------------------------------------------------------------


def test_microprofile_health() -> None:
    body = {
        "status": "DOWN",
        "checks": [
            {"name": "Database connections health check", "status": "UP"},
            {"name": "kafka", "status": "DOWN", "data": {"error": "broker gone"}},
        ],
    }
    reading = parsed(json.dumps(body))
    assert (reading.format, reading.status) == ("microprofile", "fail")
    assert reading.failing() == (Component("kafka", "fail", "DOWN", "broker gone"),)


def test_plain_json_lists_dependencies() -> None:
    body = {"status": "degraded", "checks": {"db": "ok", "cache": {"status": "down", "error": "x"}}}
    reading = parsed(json.dumps(body))
    assert (reading.status, failing(reading)) == ("warn", {"cache": "fail"})


@pytest.mark.parametrize(
    ("body", "status", "raw"),
    [
        ({"ok": True}, "pass", "ok=true"),
        ({"up": False}, "fail", "up=false"),
        ({"Healthy": True}, "pass", "Healthy=true"),
        ({"alive": True, "ready": False}, "fail", "ready=false"),
        ({"status": True}, "pass", "status=true"),
        ({"state": "UP"}, "pass", "UP"),
        ({"overall_status": "red"}, "fail", "red"),
        # A stated status outranks a boolean.
        ({"status": "ok", "ready": False}, "pass", "ok"),
    ],
)
def test_plain_json_shapes(body: dict[str, Any], status: HealthStatus, raw: str) -> None:
    reading = parsed(json.dumps(body))
    assert (reading.format, reading.status, reading.raw_status) == ("plain-json", status, raw)


def test_failing_lists_failures_before_warnings() -> None:
    body = {"status": "fail", "checks": {"a": [{"status": "warn"}], "b": [{"status": "fail"}]}}
    assert [c.name for c in parsed(json.dumps(body)).failing()] == ["b", "a"]


# --- text formats -------------------------------------------------------------------


def test_k8s_livez_without_summary_line_derives_the_status() -> None:
    reading = parsed("[+]ping ok\n[-]poststarthook/rbac failed: reason withheld\n")
    assert (reading.format, reading.status, reading.raw_status) == ("k8s", "fail", None)
    assert failing(reading) == {"poststarthook/rbac": "fail"}


def test_k8s_healthz_failed_summary_alone() -> None:
    reading = parsed("healthz check failed\n")
    assert (reading.format, reading.status, reading.components) == ("k8s", "fail", ())


def test_k8s_excluded_check_passes() -> None:
    reading = parsed("[+]etcd excluded: ok\n[+]ping ok\nlivez check passed\n")
    assert reading.status == "pass"
    assert reading.components[0] == Component("etcd", "pass", "excluded", "ok")


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("OK", "pass"), ("ok\n", "pass"), ("healthy", "pass"), ("UP", "pass"), ("pass", "pass"),
        ("alive", "pass"), ("pong", "pass"), ("PONG", "pass"), ("Healthy.", "pass"),
        ("Degraded", "warn"), ("unhealthy", "fail"), ("down", "fail"), ("fail", "fail"),
        ("NOT_SERVING", "fail"),
    ],
)  # fmt: skip
def test_plain_text(text: str, status: HealthStatus) -> None:
    reading = parsed(text.encode(), "text/plain")
    assert (reading.format, reading.status) == ("plain-text", status)


def test_plain_text_keeps_the_word_as_written() -> None:
    assert parsed(b"  Healthy\r\n").raw_status == "Healthy"


def test_json_string_body_is_read_as_a_word() -> None:
    reading = parsed('"Unhealthy"', "application/json")
    assert (reading.format, reading.status) == ("plain-json", "fail")


def test_charset_from_content_type_is_honoured() -> None:
    body = json.dumps({"status": "DOWN"}).encode("utf-16")
    assert parsed(body, "application/json; charset=utf-16").status == "fail"


# --- no health statement ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n\t",
        "\ufeff",
        b"<!doctype html><html><body>OK</body></html>",
        b"<html>healthy</html>",
        b'{"data": [1, 2, 3]}',
        b'{"status": 200}',
        b'{"status": {"code": "UP"}}',
        b'{"db": {"status": "DOWN"}}',
        b"[]",
        b'[{"status": "UP"}]',
        b"true",
        b"42",
        b"null",
        b'"hello"',
        b'{"status": "UP", "truncated',
        b"Not Found",
        b"Service Unavailable",
        b"everything is ok, trust me",
        b"ok\nbut not really",
        b"ok " * 40,
        b"\xff\xfe\xfa",
    ],
)
def test_no_health_statement(body: bytes | str) -> None:
    assert parse_health(body) is None


def test_html_is_none_even_with_health_json_content_type() -> None:
    assert parse_health(b"<h1>502 Bad Gateway</h1>", HEALTH_JSON) is None


def test_html_is_none_even_when_it_quotes_a_health_format() -> None:
    # A proxy's error page may echo the upstream body; it is still a page.
    assert parse_health(b"<pre>\n[-]etcd failed: reason withheld\nreadyz check failed\n</pre>") is None


# --- hostile input --------------------------------------------------------------------


def test_components_are_capped() -> None:
    body = {"status": "DOWN", "components": {f"c{i}": {"status": "DOWN"} for i in range(1000)}}
    reading = parsed(json.dumps(body))
    assert len(reading.components) == MAX_COMPONENTS
    assert reading.status == "fail"


def test_ietf_components_are_capped() -> None:
    body = {"status": "fail", "checks": {f"c{i}": [{"status": "fail"}] for i in range(1000)}}
    assert len(parsed(json.dumps(body)).components) == MAX_COMPONENTS


def test_deep_spring_nesting_is_cut_without_error() -> None:
    node: dict[str, Any] = {"status": "DOWN"}
    for _ in range(200):
        node = {"status": "DOWN", "components": {"n": node}}
    reading = parsed(json.dumps(node))
    assert reading.status == "fail"
    # The walk stops descending at MAX_DEPTH and reports that node as a leaf.
    (deepest,) = reading.components
    assert deepest.name == "/".join(["n"] * MAX_DEPTH)


def test_json_nested_beyond_the_parser_limit_is_none() -> None:
    assert parse_health(b"[" * 100_000 + b"]" * 100_000) is None
    assert parse_health(b'{"a":' * 100_000 + b"1" + b"}" * 100_000) is None


def test_long_messages_and_names_are_truncated() -> None:
    body = {
        "status": "DOWN",
        "components": {"x" * 5000: {"status": "DOWN", "details": {"error": "e" * 100_000}}},
    }
    (component,) = parsed(json.dumps(body)).components
    assert component.message is not None
    assert len(component.message) == MAX_TEXT
    assert component.message.endswith("…")
    assert len(component.name) == MAX_TEXT


def test_messages_are_one_printable_line() -> None:
    body = {
        "status": "DOWN",
        "components": {"db\x1b[31m": {"status": "DOWN", "details": {"error": "a\n\tb\x1b[2J\x00c"}}},
    }
    (component,) = parsed(json.dumps(body)).components
    # one line, every control shown as an escape: what the service sent is visible and inert
    assert (component.name, component.message) == ("db\\x1b[31m", "a b\\x1b[2J\\x00c")


def test_huge_integer_does_not_raise() -> None:
    assert parse_health(b'{"status": "UP", "n": ' + b"9" * 50_000 + b"}") is None


def test_invalid_utf8_around_a_valid_word() -> None:
    reading = parsed(b'{"status": "DOWN", "note": "\xff\xfe"}')
    assert reading.status == "fail"


def test_unknown_charset_falls_back_to_utf8() -> None:
    assert parsed(b"OK", "text/plain; charset=no-such-thing").status == "pass"
    assert parsed(b"OK", "text/plain; charset=idna").status == "pass"


def check_reading(reading: HealthReading | None) -> None:
    if reading is None:
        return
    assert reading.status in ("pass", "warn", "fail")
    assert len(reading.components) <= MAX_COMPONENTS
    for component in reading.components:
        assert component.status in ("pass", "warn", "fail")
        assert len(component.name) <= MAX_TEXT
        assert component.message is None or len(component.message) <= MAX_TEXT
    assert all(c.status != "pass" for c in reading.failing())


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000), CONTENT_TYPES)
def test_fuzz_random_bytes_never_raise(body: bytes, content_type: str | None) -> None:
    check_reading(parse_health(body, content_type))


@FUZZ
@given(json_values, CONTENT_TYPES)
def test_fuzz_random_json_never_raises(value: object, content_type: str | None) -> None:
    check_reading(parse_health(json.dumps(value).encode(), content_type))


@FUZZ
@given(health_bodies, CONTENT_TYPES)
def test_fuzz_health_shaped_json_never_raises(value: object, content_type: str | None) -> None:
    check_reading(parse_health(json.dumps(value), content_type))


@FUZZ
@given(st.lists(st.sampled_from(["[+]", "[-]", "ok", "failed:", " ", "\n", "x", "readyz check ", "passed"])))
def test_fuzz_k8s_like_text_never_raises(parts: list[str]) -> None:
    check_reading(parse_health("".join(parts)))


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_status_word_never_raises(word: str) -> None:
    assert status_word(word) in (None, "pass", "warn", "fail")


# --- shapes real servers and libraries send (tests/test_real_world_health.py replays them) ---


def test_terminus_error_array_names_each_error_with_its_message() -> None:
    # @godaddy/terminus's README pattern: the errors collected, thrown as HealthCheckError's causes
    body = {
        "status": "error",
        "error": [{"name": "redis", "message": "Connection is closed."}, "connect ECONNREFUSED", {}],
    }
    reading = parsed(json.dumps(body))
    assert (reading.format, reading.status) == ("terminus", "fail")
    assert [(c.name, c.status, c.raw_status, c.message) for c in reading.components] == [
        ("redis", "fail", "error", "Connection is closed."),
        ("error 2", "fail", "error", "connect ECONNREFUSED"),
        ("error 3", "fail", "error", None),
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"checker": "redis", "passed": False, "output": "refused"}, ("redis", "fail", "failed", "refused")),
        ({"name": "db", "healthy": True}, ("db", "pass", "passed", None)),
        ({"service": "mq", "ok": False, "error": "no route"}, ("mq", "fail", "failed", "no route")),
        ({"name": "cache", "state": "DOWN"}, ("cache", "fail", "DOWN", None)),
        ({"component": "disk", "status": "MAINTENANCE"}, ("disk", "warn", "MAINTENANCE", None)),
    ],
)
def test_a_list_of_named_results_names_its_components(
    entry: dict[str, Any], expected: tuple[str, HealthStatus, str, str | None]
) -> None:
    reading = parsed(json.dumps({"status": "failure", "results": [entry, {"unnamed": False}, "text"]}))
    assert [(c.name, c.status, c.raw_status, c.message) for c in reading.components] == [expected]


def test_a_traceback_explains_itself_by_its_last_line() -> None:
    trace = 'Traceback (most recent call last):\n  File "x.py", line 1\n' + "  frame\n" * 500
    trace += "ConnectionError: Error 111 connecting\n"
    reading = parsed(
        json.dumps({"healthy": False, "checks": [{"name": "Redis", "passed": False, "details": trace}]})
    )
    assert reading.components[0].message == "ConnectionError: Error 111 connecting"


def test_microprofile_like_checks_may_say_state() -> None:
    body = {"status": "DOWN", "checks": [{"name": "redis", "state": "DOWN", "data": {"reason": "closed"}}]}
    reading = parsed(json.dumps(body))
    assert reading.format == "microprofile"
    assert [(c.name, c.status, c.message) for c in reading.components] == [("redis", "fail", "closed")]


@pytest.mark.parametrize(("word", "status"), [("true", "pass"), ("false", "fail"), (" FALSE ", "fail")])
def test_true_and_false_strings_under_a_status_key(word: str, status: HealthStatus) -> None:
    reading = parsed(json.dumps({"health": word}), "text/plain")
    assert (reading.status, reading.statement) == (status, f"health {word.strip()}")


def test_the_body_s_own_reason_is_kept_when_it_has_one() -> None:
    body = {"status": "failed", "reason": "There are alarms in effect in the cluster", "alarms": [{}]}
    assert parsed(json.dumps(body)).message == "There are alarms in effect in the cluster"
    # not a `description` (it describes the service) nor an object
    assert parsed(json.dumps({"status": "fail", "description": "the api", "error": {}})).message is None


def test_ietf_health_json_reads_checks_under_details() -> None:
    body = {"status": "warn", "details": {"redis:memory": {"status": "warn", "output": "used_memory high"}}}
    reading = parsed(json.dumps(body), "application/health+json; charset=utf-8")
    assert reading.format == "ietf"
    assert [(c.name, c.status, c.message) for c in reading.components] == [
        ("redis:memory", "warn", "used_memory high")
    ]
