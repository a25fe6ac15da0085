"""Manifest loading: a good file builds the model; every bad one names FILE:LINE:COL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svccheck.manifest import ManifestError, load_manifest, parse_manifest
from svccheck.manifest.build import join_url

GOOD = """\
version: 1
defaults:
  timeout: 250ms
  retries: 1
  backoff: 50ms
  headers: {User-Agent: svccheck-test}
vars:
  host: localhost
  port: "8080"
environments:
  staging:
    vars: {host: staging.internal.example}
    defaults: {timeout: 3s}
services:
  api-gateway:
    url: http://${host}:${port}/api
    tags: [edge]
    depends_on: [auth-service]
    health: /health
    checks:
      - name: list plans
        path: /v1/plans?limit=2
        headers: {Authorization: "Bearer ${SMOKE_TOKEN:-dev-token}"}
        expect:
          status: [200, 204]
          max_latency: 800ms
          headers: {content-type: {contains: application/json}}
          json:
            $.data: {len: {gte: 1}}
            $.data[0].id: {exists: true}
  auth-service:
    url: http://${host}:8081
    critical: false
    timeout: 1s
    health:
      path: /actuator/health
      expect: {status: 2xx, json: {$.status: UP}}
"""


def _errors(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ManifestError) as info:
        parse_manifest(textwrap.dedent(text), "services.yaml", environ={}, **kwargs)  # type: ignore[arg-type]
    return info.value.render().splitlines()


def test_good_manifest_builds_the_model() -> None:
    manifest = parse_manifest(GOOD, "services.yaml", environ={})
    gateway, auth = manifest.services
    assert gateway.name == "api-gateway" and gateway.depends_on == ("auth-service",)
    health, plans = gateway.checks
    assert health.kind == "health" and health.url == "http://localhost:8080/api/health"
    assert plans.url == "http://localhost:8080/api/v1/plans?limit=2"
    assert plans.timeout == 0.25 and plans.retries == 1 and plans.backoff == 0.05
    assert ("Authorization", "Bearer dev-token") in plans.headers
    assert ("User-Agent", "svccheck-test") in plans.headers
    assert plans.expect is not None and plans.expect.status is not None
    assert plans.expect.status.accepts(204) and not plans.expect.status.accepts(201)
    assert auth.critical is False and auth.checks[0].timeout == 1.0
    assert health.expect is None  # health without expect uses the health-body rules


def test_environment_overlays_vars_and_defaults() -> None:
    manifest = parse_manifest(GOOD, "services.yaml", env="staging", environ={})
    check = manifest.services[0].checks[0]
    assert check.url.startswith("http://staging.internal.example:8080/")
    assert check.timeout == 3.0


def test_resolution_order_cli_then_environ_then_env_vars_then_vars() -> None:
    text = "services:\n  a: {url: 'http://${host}:1', health: /h}\nvars: {host: top}\n"
    assert parse_manifest(text, "m.yaml", environ={}).services[0].url == "http://top:1"
    assert parse_manifest(text, "m.yaml", environ={"host": "envhost"}).services[0].url == "http://envhost:1"
    cli = parse_manifest(text, "m.yaml", environ={"host": "envhost"}, cli_vars={"host": "cli"})
    assert cli.services[0].url == "http://cli:1"


def test_secret_variables_are_collected_for_masking() -> None:
    text = "services:\n  a: {url: 'http://h:1', health: {path: /h, headers: {X-Id: '${API_TOKEN}'}}}\n"
    manifest = parse_manifest(text, "m.yaml", environ={"API_TOKEN": "s3cr3t-value"})
    assert "s3cr3t-value" in manifest.secrets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "services:\n  a: {url: 'http://h:1', helth: /h}\n",
            "2:26: unknown key 'helth' in services.a (did you mean 'health'?)",
        ),
        (
            "defaults:\n  retires: 2\nservices:\n  a: {url: 'http://h:1', health: /h}\n",
            "2:3: unknown key 'retires'",
        ),
        (
            "defaults:\n  timeout: 5x\nservices:\n  a: {url: 'http://h:1', health: /h}\n",
            "2:12: defaults.timeout: bad duration '5x'",
        ),
        ("services:\n  a: {url: 'ftp://h', health: /h}\n", "2:12: services.a.url: bad URL 'ftp://h'"),
        (
            "services:\n  a: {url: 'http://h:1', health: /h}\n  a: {url: 'http://h:2', health: /h}\n",
            "3:3: duplicate key 'a' (first defined on line 2)",
        ),
        ("services:\n  a: {url: 'http://h:1', health: /h, depends_on: [b]}\n", "unknown service 'b'"),
        (
            "services:\n  a: {url: 'http://h:1', health: /h, depends_on: [b]}\n  b: {url: 'http://h:1', health: /h, depends_on: [a]}\n",
            "dependency cycle: a -> b -> a",
        ),
        ("services:\n  a: {url: 'http://${nope}:1', health: /h}\n", "2:12: undefined variable ${nope}"),
        (
            "services:\n  a:\n    url: http://h:1\n    checks:\n      - expect: {status: 999}\n",
            "5:26: services.a.checks[0].expect.status: status code 999 is not between 100 and 599",
        ),
        (
            "services:\n  a:\n    url: http://h:1\n    checks:\n      - expect: {body: {contians: x}}\n",
            "unknown matcher 'contians' (did you mean 'contains'?)",
        ),
        (
            "services:\n  a:\n    url: http://h:1\n    checks:\n      - expect: {body: {matches: '(['}}\n",
            "matches: invalid regular expression",
        ),
        (
            "services:\n  a:\n    url: http://h:1\n    checks:\n      - expect: {json: {'$.[': 1}}\n",
            "5:25: bad JSONPath '$.['",
        ),
        ("services:\n  a: {url: 'http://h:1'}\n", "2:3: service 'a' has neither 'health' nor 'checks'"),
        ("services: {}\n", "1:1: 'services' is empty"),
        ("- a\n- b\n", "1:1: expected a mapping with 'services' at the top level, got a list"),
        ("", "1:1: manifest is empty"),
        ("# only a comment\n", "1:1: manifest is empty"),
        ("services:\n  a: [1,\n", "YAML syntax error"),
        ("services:\n\ta: 1\n", "2:1: YAML syntax error"),
        ("services:\n  a: !!python/object:os.system {url: x}\n", "2:6: unsupported YAML tag"),
        (
            "version: 2\nservices:\n  a: {url: 'http://h:1', health: /h}\n",
            "1:10: unsupported manifest version 2",
        ),
        (
            "services:\n  a: {url: 'http://h:1', health: /h, retries: many}\n",
            "services.a.retries: expected an integer, got a string ('many')",
        ),
        ("services:\n  a: {url: 'http://h:1', health: /h, tags: edge}\n", "services.a.tags: expected a list"),
        (
            "services:\n  a:\n    url: http://h:1\n    checks:\n      - {method: FETCH}\n",
            "unknown HTTP method 'FETCH'",
        ),
        ("\x00\x01", "1:1: not a YAML text"),
        ("services:\n  'pay ment': {url: 'http://h:1', health: /h}\n", "2:3: bad service name 'pay ment'"),
        ("services:\n  a: {url: 'http://h:1', checks: [{expect: {body: {}}}]}\n", "empty matcher"),
        ("services: !!set {a}\n", "1:11: unsupported YAML tag"),
        (
            "services: {a: {url: 'http://h', health: /, retries: 100}}\n",
            "services.a.retries: Input should be less than or equal to 20",
        ),
    ],
)
def test_bad_manifest_names_the_place(text: str, expected: str) -> None:
    lines = _errors(text)
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("services.yaml:") for line in lines)


def test_all_problems_are_reported_at_once() -> None:
    lines = _errors(
        "defaults:\n  retires: 2\n  timeout: soon\nservices:\n  a: {url: 'http://h:1', helth: /h}\n"
    )
    assert len(lines) == 3
    assert [line.split(":")[1] for line in lines] == ["2", "3", "5"]


def test_alias_bomb_is_refused_quickly() -> None:
    rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        rows.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines = _errors("\n".join(rows) + "\n")
    assert "alias bomb" in lines[0]


def test_unknown_environment_is_a_usage_error() -> None:
    lines = _errors(GOOD, env="prod")
    assert any("unknown environment 'prod'" in line and "staging" in line for line in lines)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_manifest(str(tmp_path / "absent.yaml"))
    with pytest.raises(ManifestError, match="is a directory"):
        load_manifest(str(tmp_path))


def test_non_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"services:\n  a: \xff\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(str(path))
    assert f"{path}:2:6: not UTF-8" in info.value.render()


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("http://h/api", "/health", "http://h/api/health"),
        ("http://h/api/", "/health", "http://h/api/health"),
        ("http://h", "/health", "http://h/health"),
        ("http://h", "/", "http://h/"),
        ("http://h?tenant=a", "/x?y=1", "http://h/x?tenant=a&y=1"),
        ("http://h:8080", "health", "http://h:8080/health"),
    ],
)
def test_join_url(base: str, path: str, expected: str) -> None:
    assert join_url(base, path) == expected


def test_field_and_graph_errors_come_together() -> None:
    lines = _errors(
        "services:\n"
        "  a: {url: 'ftp://h', health: /h, depends_on: [b]}\n"
        "  b: {url: 'http://h:1', health: /h, depends_on: [a], retries: lots}\n"
        "  c: {url: 'http://h:1', health: /h, depends_on: [d]}\n"
    )
    text = "\n".join(lines)
    assert "bad URL 'ftp://h'" in text
    assert "dependency cycle: a -> b -> a" in text
    assert "unknown service 'd'" in text
    assert "services.b.retries: expected an integer" in text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_loads_or_fails_with_positions(text: str) -> None:
    try:
        parse_manifest(text, "m.yaml", environ={})
    except ManifestError as exc:
        assert exc.issues and all(line.startswith("m.yaml:") for line in exc.render().splitlines())


_yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
_keys = st.sampled_from(
    ["url", "health", "checks", "expect", "status", "json", "timeout", "headers", "depends_on"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=8), st.dictionaries(_keys, _yaml_values, max_size=5), max_size=3))
def test_random_service_shapes_never_escape(services: dict[str, object]) -> None:
    import yaml

    text = yaml.safe_dump({"services": services})
    try:
        parse_manifest(text, "m.yaml", environ={})
    except ManifestError as exc:
        assert all(line.startswith("m.yaml:") for line in exc.render().splitlines())
