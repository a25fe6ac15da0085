"""Fuzzing: whatever comes in, only the documented outcomes come out.

- the manifest loader: a `Manifest`, or a `ManifestError` whose every line is `FILE:LINE:COL: ...`
  (or `FILE: ...`) with no character a terminal would act on or hide; never another exception,
  whatever the nesting depth and whatever characters sit in any string of the manifest;
- `svccheck validate`: exit 0 or 2, never a traceback;
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

from support.health_strategies import CONTENT_TYPES, health_bodies
from svccheck.grammar.source import MAX_DEPTH
from svccheck.judge.evaluate import evaluate, judge_http
from svccheck.judge.expect import evaluate_expect
from svccheck.manifest import ManifestError, load_manifest, parse_manifest
from svccheck.model import Answer, Check, CheckResult, Failure, ProbeOutcome, Verdict

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_POSITIONED = re.compile(r"^m\.yaml(:\d+:\d+)?: \S")


def assert_documented(text: str, environ: dict[str, str] | None = None) -> ManifestError | None:
    """Loads, or fails with every line positioned and printable; the error, if any."""
    try:
        parse_manifest(text, "m.yaml", environ=environ or {})
    except ManifestError as exc:
        lines = exc.render().splitlines()
        assert lines and all(_POSITIONED.match(line) for line in lines), lines
        # a value quoted in a message is shown escaped: no ESC, NUL, bidi override, line break
        assert all(line.isprintable() for line in lines), lines
        return exc
    return None


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
          json: {$.data: {len: {gte: 1}}, "$.data[0].id": {exists: true}}
  auth: {url: "http://${host}:8081", health: {path: /h, expect: {status: 2xx}}}
"""


def test_the_good_manifest_loads() -> None:
    # mutations of a manifest that loads reach validation; `$.data[0].id` unquoted in a flow
    # mapping was a syntax error, so they mostly reached the YAML parser only
    assert parse_manifest(_GOOD, "m.yaml", environ={}).services


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


# --- hostile strings in every string position, deep nesting (#11) ---------------------------

# What a terminal acts on or hides (C0, DEL, C1, bidi controls, zero-width and line-break
# characters), and console markup, in names especially: each may reach an error message.
_HOSTILE = st.sampled_from(
    ["[/]", "[link=http://evil.example/]x[/link]", "\x1b]0;pwned\x07", "\x1b[2J", "[bold red]x[/]",
     "\u202egnp.exe", "\u2066", "\u200b", "\x00", "\r\n", "\x85", "\x9b2J", "\x7f", "\t", " ",
     "${V}", "${E}", "$${", "%", "\\", "'", '"', ":", "#", "\ufeff"]
)  # fmt: skip
_INVISIBLE = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp"])
_nasty = st.lists(
    _HOSTILE | st.text(_INVISIBLE, min_size=1, max_size=3) | st.text(max_size=4), max_size=4
).map("".join)
_plain_name = st.sampled_from(["api", "auth", "db"])
_service_name = _plain_name | _nasty
_url = (
    st.sampled_from(["http://127.0.0.1:8080", "https://localhost/api", "tcp://127.0.0.1:6379"])
    | st.builds("{}{}".format, st.sampled_from(["http://127.0.0.1:8080/", "http://", "tcp://", ""]), _nasty)
    | st.builds("http://{}:8080/x".format, _nasty)
)
_path = _nasty | st.builds("/{}".format, _nasty)
_headers = st.dictionaries(_nasty | st.just("X-A"), _nasty, max_size=2)
_operators = st.sampled_from(["eq", "ne", "contains", "matches", "in", "len", "exists", "type", "lt"])
_operand = _nasty | st.lists(_nasty, max_size=2) | st.integers(-2, 3) | st.booleans()
_matcher = (
    _nasty
    | st.dictionaries(_operators | _nasty, _operand, max_size=2)
    | st.fixed_dictionaries({"len": st.dictionaries(_operators | _nasty, _operand, max_size=2)})
)
_expect = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from([200, "2xx"]) | _nasty,
        "headers": st.dictionaries(_nasty, _matcher, max_size=2),
        "body": _matcher,
        "json": st.dictionaries(st.sampled_from(["$.a", "$"]) | _nasty, _matcher, max_size=2),
    },
)
_check = st.fixed_dictionaries(
    {},
    optional={
        "name": _nasty,
        "path": _path,
        "method": st.sampled_from(["GET", "POST"]) | _nasty,
        "headers": _headers,
        "body": _nasty,
        "json": _yaml_values | _nasty,
        "expect": _expect,
    },
)
_service = st.fixed_dictionaries(
    {"url": _url},
    optional={
        "tags": st.lists(_nasty, max_size=2),
        "depends_on": st.lists(_service_name, max_size=2),
        "description": _nasty,
        "headers": _headers,
        "health": _path | _check,
        "checks": st.lists(_check, max_size=2),
    },
)
_hostile_manifests = st.fixed_dictionaries(
    {"services": st.dictionaries(_service_name, _service, min_size=1, max_size=3)},
    optional={
        "vars": st.fixed_dictionaries({"V": _nasty}),
        "defaults": st.fixed_dictionaries({"headers": _headers}),
    },
)
_hostile_texts = st.builds(
    lambda data, raw: yaml.safe_dump(data, allow_unicode=raw), _hostile_manifests, st.booleans()
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_texts, _nasty)
def test_hostile_strings_anywhere_load_or_fail_printably(text: str, environ_value: str) -> None:
    assert_documented(text, environ={"E": environ_value})


# Deep nesting put where a value goes in a good manifest: (what it replaces, in flow context)
_SPOTS = [("250ms", True), ("[200, 204]", True), ("{gte: 1}", True), ("[auth]", True), ("plans,", True),
          ("/health\n", False), ("{exists: true}", True)]  # fmt: skip
_DEPTHS = (
    st.integers(1, 70) | st.integers(70, 3_000) | st.sampled_from([63, 64, 65, 999, 1_000, 1_001, 30_000])
)


def _nested(kind: str, levels: int) -> str:
    if kind == "lists":
        return "[" * levels + "1" + "]" * levels
    if kind == "mappings":
        return "{a: " * levels + "1" + "}" * levels
    if kind == "mixed":
        return "[{a: " * (levels // 2) + "1" + "}]" * (levels // 2)
    return "[" * levels  # never closed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spot=st.sampled_from(_SPOTS), kind=st.sampled_from(["lists", "mappings", "mixed", "unclosed"]),
       levels=_DEPTHS)  # fmt: skip
def test_deep_nesting_anywhere_is_refused_at_a_place(spot: tuple[str, bool], kind: str, levels: int) -> None:
    target, flow = spot
    fragment = _nested(kind, levels)
    text = _GOOD.replace(target, fragment + ("," if target.endswith(",") else "\n" if not flow else ""), 1)
    error = assert_documented(text)
    # the top-level mapping is one level, so a fragment of MAX_DEPTH levels is one too many
    if levels - (kind == "mixed") >= MAX_DEPTH:
        assert error is not None, text[:200]
        assert f"more than {MAX_DEPTH} levels deep" in error.render().splitlines()[0], error.render()


_blocks = st.builds("- ".__mul__, st.integers(1, 3_000)).map(
    lambda dashes: f"services:\n  api:\n    tags:\n      {dashes}x\n"
)


@settings(max_examples=50, deadline=None)
@given(_blocks)
def test_deep_block_nesting_is_refused_at_a_place(text: str) -> None:
    error = assert_documented(text)
    if text.count("- ") + 3 > MAX_DEPTH:  # top level, services, api, then a list a dash
        assert error is not None and f"more than {MAX_DEPTH} levels" in error.render(), text[:100]


_SCRATCH = Path(tempfile.mkdtemp(prefix="svccheck-fuzz-"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _hostile_texts
    | st.builds(lambda kind, levels: f"services: {_nested(kind, levels)}\n", st.sampled_from(["lists", "mappings", "unclosed"]), _DEPTHS)
    | _blocks
)  # fmt: skip
def test_validate_exits_0_or_2_without_a_traceback(text: str) -> None:
    from typer.testing import CliRunner

    from svccheck.cli import app

    path = _SCRATCH / "validate.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "-f", str(path)], env={"E": "\x1b[2J", "NO_COLOR": "1"})
    assert result.exit_code in (0, 2), (result.exception, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


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
    snapshot = Answer(f"HTTP {status}", tuple(headers), body, truncated, 0.01, "HTTP/1.1", check.url, status)
    failures = evaluate_expect(snapshot, check.expect)
    assert all(isinstance(f, Failure) and f.message for f in failures)
    assert isinstance(evaluate(check, outcome(snapshot), critical=True, judge=judge_http), CheckResult)


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
    snapshot = Answer(f"HTTP {status}", all_headers, body, False, 0.01, "HTTP/1.1", _HEALTH.url, status)
    result = evaluate(_HEALTH, outcome(snapshot), critical=True, judge=judge_http)
    assert result.verdict in (Verdict.PASS, Verdict.WARN, Verdict.FAIL)
    assert (result.verdict is Verdict.PASS) == (result.reason is None), result


_HEALTH: Check = (
    parse_manifest("services: {s: {url: 'http://127.0.0.1:1', health: /h}}", "m.yaml", environ={})
    .services[0]
    .checks[0]
)


def outcome(snapshot: Answer) -> ProbeOutcome:
    return ProbeOutcome(snapshot, None, None, (), snapshot.latency)
