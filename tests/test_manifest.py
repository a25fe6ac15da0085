"""Manifest loading: a good file builds the model; every bad one names FILE:LINE:COL."""

from __future__ import annotations

import textwrap

import pytest

from svccheck.manifest import ManifestError, parse_manifest
from svccheck.model import HttpRequest
from svccheck.protocols.http_shape import join_url

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
    assert isinstance(plans.target, HttpRequest)
    assert ("Authorization", "Bearer dev-token") in plans.target.headers
    assert ("User-Agent", "svccheck-test") in plans.target.headers
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


def test_all_problems_are_reported_at_once() -> None:
    lines = _errors(
        "defaults:\n  retires: 2\n  timeout: soon\nservices:\n  a: {url: 'http://h:1', helth: /h}\n"
    )
    assert len(lines) == 3
    assert [line.split(":")[1] for line in lines] == ["2", "3", "5"]


def test_unknown_environment_is_a_usage_error() -> None:
    lines = _errors(GOOD, env="prod")
    assert any("unknown environment 'prod'" in line and "staging" in line for line in lines)


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


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\n",
        "services: !!set {a}\n",
        "services: !!python/object/new:pathlib.Path [x]\n",
        "services:\n  a: !!python/object/apply:os.system [x]\n",
    ],
)
def test_one_problem_is_reported_once(text: str) -> None:
    # a value dropped for its tag reads as null: no second error about that null
    assert len(_errors(text)) == 1, _errors(text)


def _service(text: str, **kwargs: object) -> object:
    manifest = parse_manifest(textwrap.dedent(text), "services.yaml", **kwargs)  # type: ignore[arg-type]
    return manifest.services[0]


def test_numbers_and_booleans_written_as_text_are_read() -> None:
    # `${VAR}` always expands to text, so "3" must mean 3 and "no" must mean false
    service = _service(
        "services:\n  a: {url: 'http://h:1', health: /h, retries: '${R}', critical: '${C}', timeout: '${T}'}\n",
        environ={"R": "3", "C": "no", "T": "1.5"},
    )
    assert service.critical is False  # type: ignore[attr-defined]
    check = service.checks[0]  # type: ignore[attr-defined]
    assert (check.retries, check.timeout) == (3, 1.5)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("retries: 2.5", "services.a.retries: expected an integer, got a number (2.5)"),
        ("retries: true", "services.a.retries: expected an integer, got a boolean (True)"),
        ("retries: -1", "services.a.retries: expected an integer between 0 and 20, got -1"),
        ("critical: maybe", "services.a.critical: expected true or false, got a string ('maybe')"),
        ("critical: 2", "services.a.critical: expected true or false, got a number (2)"),
        ("headers: {X-Num: 5}", "services.a.headers.X-Num: expected a string, got a number (5)"),
        ("protocol: mysql", "services.a.protocol: expected 'redis' or 'postgres', got a string ('mysql')"),
        ("tags: [[x]]", "services.a.tags[0]: expected a string, got a list"),
        ("timeout: 0", "services.a.timeout: expected a duration above 0, got 0"),
    ],
)
def test_a_wrong_value_is_named_with_its_place(value: str, message: str) -> None:
    lines = _errors(f"services:\n  a: {{url: 'http://h:1', health: /h, {value}}}\n")
    assert any(line.startswith("services.yaml:2:") and line.endswith(message) for line in lines), lines


def test_a_missing_key_points_at_its_mapping_and_unknown_keys_at_themselves() -> None:
    lines = _errors("services:\n  a:\n    health: /h\n    colour: blue\n")
    assert "services.yaml:3:5: services.a.url: missing required key 'url'" in lines
    assert any(
        line.startswith("services.yaml:4:5: unknown key 'colour' in services.a; allowed: ") for line in lines
    )


def test_every_problem_in_one_mapping_is_reported() -> None:
    lines = _errors(
        "services:\n  a:\n    url: 'http://h:1'\n    health: {path: 5, method: FETCH, expect: {status: 999}}\n"
    )
    text = "\n".join(lines)
    assert "services.a.health.path: expected a string" in text
    assert "services.a.health.method: unknown HTTP method 'FETCH'" in text
    assert "services.a.health.expect.status: status code 999 is not between 100 and 599" in text


def test_a_manifest_error_is_a_svccheck_error_that_exits_2() -> None:
    from svccheck.errors import ExitCode, SvccheckError

    with pytest.raises(SvccheckError) as info:
        parse_manifest("services: {}\n", "services.yaml", environ={})
    assert isinstance(info.value, ManifestError)
    assert info.value.exit_code is ExitCode.USAGE
    assert info.value.issues and info.value.render().startswith("services.yaml:1:1: ")
