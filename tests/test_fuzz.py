"""Fuzzing: whatever comes in, only the documented outcomes come out.

- the manifest loader: a `Manifest`, or a `ManifestError` whose every line is `FILE:LINE:COL: ...`
  (or `FILE: ...`); never another exception;
- the expectation evaluator: a list of `Failure`s, never an exception, whatever the response;
- the health verdict: any status, headers and body give pass, warn or fail, with a reason
  unless it passes (the health parser itself is fuzzed in test_health.py).

Example counts and deadlines are set explicitly so that the whole module stays
within a few seconds on CI (each test prints nothing when it passes).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svccheck.evaluate import evaluate
from svccheck.expect import evaluate_expect
from svccheck.manifest import ManifestError, load_manifest, parse_manifest
from svccheck.model import Check, CheckResult, Failure, ProbeOutcome, Snapshot, Verdict
from test_health import CONTENT_TYPES, health_bodies

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_POSITIONED = re.compile(r"^m\.yaml(:\d+:\d+)?: \S")


def assert_documented(text: str) -> None:
    try:
        parse_manifest(text, "m.yaml", environ={})
    except ManifestError as exc:
        lines = exc.render().splitlines()
        assert lines and all(_POSITIONED.match(line) for line in lines), lines


# --- the loader ---------------------------------------------------------------------------


@FAST
@given(st.text(max_size=300))
def test_any_text_loads_or_fails_with_positions(text: str) -> None:
    assert_documented(text)


_yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
_keys = st.sampled_from(
    ["url", "health", "checks", "expect", "status", "json", "body", "headers", "timeout", "retries",
     "backoff", "depends_on", "critical", "tags", "method", "path", "verify_tls", "name", "helth"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=8), st.dictionaries(_keys, _yaml_values, max_size=5), max_size=3))
def test_random_service_shapes_never_escape(services: dict[str, object]) -> None:
    assert_documented(yaml.safe_dump({"services": services}))


_GOOD = """\
version: 1
defaults: {timeout: 250ms, retries: 1, headers: {User-Agent: fuzz}}
vars: {host: localhost}
services:
  api:
    url: http://${host}:8080/api
    depends_on: [auth]
    health: /health
    checks:
      - name: plans
        path: /v1/plans
        expect:
          status: [200, 204]
          body: {contains: plans, matches: "pl.ns"}
          json: {$.data: {len: {gte: 1}}, $.data[0].id: {exists: true}}
  auth: {url: "http://${host}:8081", health: {path: /h, expect: {status: 2xx}}}
"""


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_good_manifest_never_escapes(data: st.DataObject) -> None:
    # edits of a real manifest reach deeper than random documents: tags, aliases, indentation
    text = _GOOD
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        insert = data.draw(
            st.sampled_from(["", " ", "\t", "\n", ":", "- ", "{", "]", "&a ", "*a", "!!python/name:os.system ",
                             "${", "${X}", "'", '"', "#", "999", "-1", "ftp://", "\x00", "\ufeff", "{{", "<<: *a"])
            | st.text(max_size=4)
        )  # fmt: skip
        text = text[:at] + insert + text[at + cut :]
    assert_documented(text)


_SCRATCH = Path(tempfile.mkdtemp(prefix="svccheck-fuzz-"))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-16")))
def test_any_bytes_load_or_fail_with_positions(raw: bytes) -> None:
    path = _SCRATCH / "m.yaml"
    path.write_bytes(raw)
    try:
        load_manifest(str(path), environ={})
    except ManifestError as exc:
        lines = exc.render().splitlines()
        assert lines and all(line.startswith(f"{path}:") for line in lines), lines


# --- the expectation evaluator ------------------------------------------------------------

_matcher_ops = st.dictionaries(
    st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "not_contains", "matches",
                     "exists", "type", "len"]),
    _yaml_values,
    min_size=1,
    max_size=3,
)  # fmt: skip


@FAST
@given(
    expect=st.fixed_dictionaries(
        {},
        optional={
            "status": st.one_of(st.integers(100, 599), st.sampled_from(["2xx", "5xx", "oops"]), _yaml_values),
            "body": _matcher_ops,
            "headers": st.dictionaries(st.sampled_from(["content-type", "x-a"]), _matcher_ops | _yaml_values, max_size=2),
            "json": st.dictionaries(st.sampled_from(["$", "$.a", "$.a[0]", "$..b", "$[*]", "$.a.length()"]),
                                    _matcher_ops | _yaml_values, max_size=3),
            "max_latency": st.sampled_from(["1ms", "10s", 0, -1, "x"]),
        },
    ),
    response=st.tuples(
        st.integers(100, 599),
        st.lists(st.tuples(st.sampled_from(["content-type", "x-a", "X-A"]), st.text(max_size=20)), max_size=3),
        st.binary(max_size=200) | _yaml_values.map(lambda v: json.dumps(v).encode()),
        st.booleans(),
    ),
)  # fmt: skip
def test_expectations_against_any_response_give_failures_only(
    expect: dict[str, Any], response: tuple[int, list[tuple[str, str]], bytes, bool]
) -> None:
    text = yaml.safe_dump({"services": {"s": {"url": "http://127.0.0.1:1", "checks": [{"expect": expect}]}}})
    try:
        manifest = parse_manifest(text, "m.yaml", environ={})
    except ManifestError as exc:
        assert all(_POSITIONED.match(line) for line in exc.render().splitlines())
        return
    (check,) = manifest.services[0].checks
    assert check.expect is not None
    status, headers, body, truncated = response
    snapshot = Snapshot(status, tuple(headers), body, truncated, 0.01, "HTTP/1.1", check.url)
    failures = evaluate_expect(snapshot, check.expect)
    assert all(isinstance(f, Failure) and f.message for f in failures)
    assert isinstance(evaluate(check, outcome(snapshot), critical=True), CheckResult)


# --- the health verdict ---------------------------------------------------------------------
# parse_health itself is fuzzed in test_health.py; here its readings go on through evaluate().


@settings(max_examples=200, deadline=None)
@given(
    status=st.integers(100, 599),
    headers=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=30)), max_size=4),
    body=st.text(max_size=200).map(str.encode) | health_bodies.map(lambda v: json.dumps(v).encode()),
    ctype=CONTENT_TYPES,
)
def test_health_check_verdict_for_any_response(
    status: int, headers: list[tuple[str, str]], body: bytes, ctype: str | None
) -> None:
    all_headers = (*headers, *((("content-type", ctype),) if ctype else ()))
    snapshot = Snapshot(status, all_headers, body, False, 0.01, "HTTP/1.1", _HEALTH.url)
    result = evaluate(_HEALTH, outcome(snapshot), critical=True)
    assert result.verdict in (Verdict.PASS, Verdict.WARN, Verdict.FAIL)
    assert (result.verdict is Verdict.PASS) == (result.reason is None), result


_HEALTH: Check = (
    parse_manifest("services: {s: {url: 'http://127.0.0.1:1', health: /h}}", "m.yaml", environ={})
    .services[0]
    .checks[0]
)


def outcome(snapshot: Snapshot) -> ProbeOutcome:
    return ProbeOutcome(snapshot, None, None, (), snapshot.latency)
