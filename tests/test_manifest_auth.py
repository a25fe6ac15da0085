"""`auth:` credentials and `capture:` in the manifest: built into checks, and every mistake at
its line and column (unknown names, a capture defined twice, a cycle of captures)."""

from __future__ import annotations

import textwrap

import pytest

from svccheck.manifest import ManifestError, parse_manifest
from svccheck.model import BasicCredential, OAuth2Credential

FLEET = """\
auth:
  smoke:
    oauth2:
      token_url: http://localhost:8081/oauth/token
      client_id: svccheck-smoke
      client_secret: ${SMOKE_CLIENT_SECRET}
      scope: "users:read"
      client_auth: client_secret_post
  ops:
    basic: {username: ops, password: "${OPS_PASSWORD}"}
defaults: {auth: smoke}
services:
  billing-service:
    url: http://localhost:8083
    checks:
      - name: my invoices
        path: /api/v1/invoices/${capture.tenant_id}
        headers: {X-Session: "Bearer ${capture.session}"}
        json: {tenant: "${capture.tenant_id}"}
      - name: open
        path: /open
        auth: none
  auth-service:
    url: http://localhost:8081
    auth: ops
    health: /health
    checks:
      - name: log in
        method: POST
        path: /api/v1/auth/login
        json: {username: smoke}
        capture:
          session: $.access_token
          tenant_id: {json: $.tenant, secret: false}
          request_id: {header: X-Request-Id}
"""
ENV = {"SMOKE_CLIENT_SECRET": "client-s3cret-value", "OPS_PASSWORD": "ops-pa55word"}


def _load(text: str) -> object:
    return parse_manifest(textwrap.dedent(text), "services.yaml", environ=ENV)


def _errors(text: str) -> str:
    with pytest.raises(ManifestError) as caught:
        _load(text)
    return str(caught.value)


def test_credentials_and_captures_are_built_into_the_checks() -> None:
    manifest = parse_manifest(FLEET, "services.yaml", environ=ENV)
    billing, auth = manifest.services
    invoices, open_check = billing.checks
    assert isinstance(invoices.auth, OAuth2Credential)
    assert invoices.auth.form == (("grant_type", "client_credentials"), ("scope", "users:read"))
    assert invoices.auth.client_auth == "client_secret_post"
    assert invoices.uses == ("tenant_id", "session")
    assert open_check.auth is None and open_check.uses == ()
    health, login = auth.checks
    assert isinstance(health.auth, BasicCredential) and health.auth.username == "ops"
    assert [(c.name, c.source, c.secret) for c in login.captures] == [
        ("session", "$.access_token", True),
        ("tenant_id", "$.tenant", False),
        ("request_id", "header X-Request-Id", True),
    ]
    assert {"client-s3cret-value", "ops-pa55word"} <= manifest.secrets


def test_unknown_capture_and_credential_are_errors_at_their_place() -> None:
    text = _errors(FLEET.replace("${capture.session}", "${capture.sesion}").replace("auth: ops", "auth: opz"))
    assert "services.yaml:18:" in text and "unknown capture 'sesion' (did you mean 'session'?)" in text
    assert "services.yaml:25:" in text and "unknown credential 'opz' (did you mean 'ops'?)" in text


def test_a_capture_defined_twice_is_an_error_at_the_second_in_file_order() -> None:
    text = _errors(
        FLEET.replace("      - name: open\n", "      - name: open\n        capture: {session: $.s}\n")
    )
    assert "services.yaml:34:" in text
    assert "capture 'session' is defined twice: also by billing-service/open" in text


def test_a_cycle_of_captures_is_an_error() -> None:
    text = _errors(
        FLEET.replace(
            "        json: {username: smoke}\n", "        json: {username: '${capture.x}'}\n"
        ).replace(
            "        auth: none\n",
            "        auth: none\n        capture: {x: $.x}\n        headers: {A: '${capture.session}'}\n",
        )
    )
    assert "capture cycle:" in text
    assert "billing-service/open" in text and "auth-service/log in" in text


def test_a_check_cannot_use_its_own_capture_nor_a_credential_one() -> None:
    text = _errors(
        FLEET.replace("json: {username: smoke}", "json: {username: '${capture.session}'}").replace(
            "client_id: svccheck-smoke", "client_id: '${capture.session}'"
        )
    )
    assert "auth-service/log in uses its own capture 'session'" in text
    assert "a credential cannot use a capture" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("client_auth: client_secret_post", "client_auth: jwt"),
            "client_auth: expected client_secret_basic",
        ),
        (
            ("token_url: http://localhost:8081/oauth/token", "token_url: ftp://x"),
            "token_url: expected an http",
        ),
        (("session: $.access_token", "session: $[oops"), "bad JSONPath"),
        (("tenant_id: {json", "tenant-id!: {json"), "bad capture name"),
    ],
)
def test_bad_auth_and_capture_values(change: tuple[str, str], message: str) -> None:
    assert message in _errors(FLEET.replace(*change))


def test_a_tcp_service_takes_no_auth() -> None:
    text = _errors("services:\n  cache:\n    url: tcp://localhost:6379\n    auth: none\n")
    assert "'auth'" in text


def test_a_capture_where_nothing_fills_it_is_an_error() -> None:
    text = _errors(
        FLEET.replace(
            "url: http://localhost:8083", "url: http://localhost:8083\n    description: '${capture.session}'"
        ).replace(
            "        auth: none\n",
            "        auth: none\n        expect: {json: {$.id: '${capture.tenant_id}'}}\n",
        )
    )
    assert "services.yaml:15:" in text and "services.yaml:24:" in text
    assert "${capture.session} can go in a check's path, headers, body or json only" in text


def test_defaults_auth_is_for_http_checks_only() -> None:
    manifest = parse_manifest(
        FLEET.replace("services:\n", "services:\n  cache: {url: 'tcp://localhost:6379'}\n", 1),
        "services.yaml",
        environ=ENV,
    )
    cache = next(s for s in manifest.services if s.name == "cache")
    assert cache.checks[0].auth is None
