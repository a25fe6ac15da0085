"""Logging in end to end: OAuth2 client credentials against a real authorization server
(oidc-provider), captures from one check into the next across services, and a failed login
as the root cause with the checks that needed it skipped."""

from __future__ import annotations

import asyncio
import json
import textwrap
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, run_cli
from support.oidc import oidc_provider
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.credentials import Session
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import load_manifest
from svccheck.model import FailureClass, Verdict

CLIENT_SECRET = "oidc-client-s3cret-Zq9"
LOGIN_TOKEN = "session-tok-9f8e7d6c5b4a"
TENANT = "tenant-42"


class Api:
    """A resource server that records the Authorization header of every request."""

    def __init__(self, accept: Callable[[str], bool] = lambda _: True) -> None:
        self.seen: list[str] = []
        self.accept = accept

    async def __call__(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        self.seen.append(header)
        if request.path == "/public":
            return json_response({"ok": True})
        if not header.startswith("Bearer ") or not self.accept(header.removeprefix("Bearer ")):
            return json_response({"error": "unauthorized"}, status=401)
        return json_response({"ok": True, "path": request.path})


def _oauth_manifest(tmp_path: Path, base: str, api_port: int, client: str = "svccheck-basic") -> Path:
    client_auth = "client_secret_post" if client == "svccheck-post" else "client_secret_basic"
    path = tmp_path / "services.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            auth:
              smoke:
                oauth2:
                  token_url: {base}/token
                  client_id: {client}
                  client_secret: ${{SMOKE_CLIENT_SECRET}}
                  scope: "users:read"
                  client_auth: {client_auth}
            defaults: {{auth: smoke, retries: 0}}
            services:
              users:
                url: http://127.0.0.1:{api_port}
                checks:
                  - {{name: me, path: /me}}
                  - {{name: list, path: /users}}
                  - {{name: public, path: /public, auth: none}}
            """
        )
    )
    return path


def _introspect(base: str, client: str, token: str) -> dict[str, object]:
    import base64

    request = urllib.request.Request(
        f"{base}/token/introspection",
        data=f"token={token}".encode(),
        headers={"Authorization": "Basic " + base64.b64encode(f"{client}:{CLIENT_SECRET}".encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        result: dict[str, object] = json.loads(answer.read())
        return result


@pytest.mark.parametrize("client", ["svccheck-basic", "svccheck-post"])
def test_client_credentials_against_a_real_authorization_server(
    tmp_path: Path, servers: ServerThread, client: str
) -> None:
    api = Api()
    port = servers.add(api)
    with oidc_provider(CLIENT_SECRET) as base:
        manifest = _oauth_manifest(tmp_path, base, port, client)
        result = run_cli(
            "all", "-f", str(manifest), "--format", "json", env={"SMOKE_CLIENT_SECRET": CLIENT_SECRET}
        )
        assert_no_traceback(result)
        assert result.returncode == 0, result.stdout + result.stderr
        tokens = {h for h in api.seen if h}
        assert len(tokens) == 1 and "" in api.seen  # one token, shared; `auth: none` sent none
        token = tokens.pop().removeprefix("Bearer ")
        assert _introspect(base, client, token)["active"] is True  # a token the server really granted
        output = result.stdout + result.stderr
        assert token not in output and CLIENT_SECRET not in output
        report = json.loads(result.stdout)
        names = [s["name"] for s in report["services"]]
        assert "auth:smoke" in names  # the token request is a step of the report


def test_a_refused_client_is_the_root_cause_of_class_auth(tmp_path: Path, servers: ServerThread) -> None:
    api = Api()
    port = servers.add(api)
    with oidc_provider(CLIENT_SECRET) as base:
        manifest = _oauth_manifest(tmp_path, base, port)
        result = run_cli(
            "all", "-f", str(manifest), "--format", "json", env={"SMOKE_CLIENT_SECRET": "wrong-secret"}
        )
    assert_no_traceback(result)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    services = {s["name"]: s for s in report["services"]}
    token = services["auth:smoke"]["checks"][0]
    assert token["failure_class"] == FailureClass.AUTH.value
    assert "invalid_client" in token["reason"] and "client authentication failed" in token["reason"]
    users = {c["name"]: c for c in services["users"]["checks"]}
    assert users["me"]["verdict"] == "skip"
    assert users["me"]["reason"] == "needs a token from auth:smoke/token, which failed"
    assert users["public"]["verdict"] == "pass"
    assert api.seen == [""]  # only the check without auth went out
    assert report["root_causes"] == ["auth:smoke"]
    assert "wrong-secret" not in result.stdout + result.stderr


def test_a_token_is_reused_across_rounds_and_requested_again_on_a_401(
    tmp_path: Path, servers: ServerThread
) -> None:
    revoked: set[str] = set()
    api = Api(accept=lambda token: token not in revoked)
    port = servers.add(api)
    with oidc_provider(CLIENT_SECRET) as base:
        manifest = load_manifest(
            str(_oauth_manifest(tmp_path, base, port)), environ={"SMOKE_CLIENT_SECRET": CLIENT_SECRET}
        )
        session = Session()

        async def rounds() -> list[Verdict]:
            verdicts = []
            for _ in range(3):
                report = await execute(manifest.services, ProbeSettings(), session=session)
                verdicts.append(report.verdict)
                if len(verdicts) == 2:
                    revoked.update(h.removeprefix("Bearer ") for h in api.seen if h)
            return verdicts

        assert asyncio.run(rounds()) == [Verdict.PASS] * 3
    granted = list(dict.fromkeys(h for h in api.seen if h))
    assert len(granted) == 2  # rounds 1 and 2 shared one token; round 3 got a 401 and a new one
    # 2 checks x 2 rounds with the first token, 2 refused in round 3, then both again with the new one
    assert api.seen.count(granted[0]) == 6 and api.seen.count(granted[1]) == 2


CAPTURE_FLEET = """\
services:
  billing-service:
    url: http://127.0.0.1:{billing}
    checks:
      - name: my invoices
        method: POST
        path: /api/v1/invoices/${{capture.tenant_id}}
        headers: {{Authorization: "Bearer ${{capture.session}}"}}
        json: {{tenant: "${{capture.tenant_id}}"}}
  auth-service:
    url: http://127.0.0.1:{auth}
    checks:
      - name: log in
        method: POST
        path: /api/v1/auth/login
        json: {{username: smoke}}
        capture:
          session: $.access_token
          tenant_id: {{json: $.tenant, secret: false}}
          request_id: {{header: X-Request-Id}}
"""


def _capture_servers(servers: ServerThread, login_status: int = 200) -> tuple[int, int, list[Request]]:
    billed: list[Request] = []

    async def login(request: Request) -> Response:
        body = {"access_token": LOGIN_TOKEN, "tenant": TENANT} if login_status == 200 else {"error": "nope"}
        response = json_response(body, status=login_status)
        response.headers["X-Request-Id"] = "req-1234567890"
        return response

    async def invoices(request: Request) -> Response:
        billed.append(request)
        ok = request.headers.get("authorization") == f"Bearer {LOGIN_TOKEN}"
        return json_response({"invoices": []}, status=200 if ok else 401)

    return servers.add(login), servers.add(invoices), billed


def test_captures_cross_services_in_any_manifest_order(tmp_path: Path, servers: ServerThread) -> None:
    auth, billing, billed = _capture_servers(servers)
    path = tmp_path / "services.yaml"
    path.write_text(CAPTURE_FLEET.format(auth=auth, billing=billing))
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout
    (request,) = billed
    assert request.path == f"/api/v1/invoices/{TENANT}"
    assert json.loads(request.body) == {"tenant": TENANT}
    assert LOGIN_TOKEN not in result.stdout + result.stderr
    assert TENANT in result.stdout  # `secret: false`: an id a person may read


def test_a_failed_login_skips_what_needed_it_and_is_the_root_cause(
    tmp_path: Path, servers: ServerThread
) -> None:
    auth, billing, billed = _capture_servers(servers, login_status=500)
    path = tmp_path / "services.yaml"
    path.write_text(
        CAPTURE_FLEET.format(auth=auth, billing=billing).replace(
            "    checks:\n      - name: log in", "    retries: 0\n    checks:\n      - name: log in"
        )
    )
    reason = "needs session from auth-service/log in, which failed"
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    services = {s["name"]: s for s in report["services"]}
    invoice = services["billing-service"]["checks"][0]
    assert invoice["verdict"] == "skip"
    assert invoice["reason"] in (reason, reason.replace("session", "tenant_id"))
    assert report["root_causes"] == ["auth-service"]
    assert billed == []
    table = run_cli("all", "-f", str(path))
    assert "auth-service" in table.stdout and "which failed" in table.stdout
    junit = tmp_path / "junit.xml"
    markdown = tmp_path / "report.md"
    run_cli("all", "-f", str(path), "--junit", str(junit), "--markdown", str(markdown))
    assert "which failed" in junit.read_text() and "auth-service" in junit.read_text()
    assert "which failed" in markdown.read_text()


def test_a_jsonpath_that_selects_nothing_fails_the_capturing_check(
    tmp_path: Path, servers: ServerThread
) -> None:
    auth, billing, billed = _capture_servers(servers)
    path = tmp_path / "services.yaml"
    path.write_text(
        CAPTURE_FLEET.format(auth=auth, billing=billing).replace("$.access_token", "$.nothing_here")
    )
    result = run_cli("all", "-f", str(path), "--format", "json")
    report = json.loads(result.stdout)
    services = {s["name"]: s for s in report["services"]}
    login = services["auth-service"]["checks"][0]
    assert (
        login["verdict"] == "fail" and "capture session: $.nothing_here selected nothing" in login["reason"]
    )
    assert (
        services["billing-service"]["checks"][0]["reason"]
        == "needs session from auth-service/log in, which failed"
    )
    assert billed == []


def test_wait_names_a_refused_token_as_the_root_cause(tmp_path: Path, servers: ServerThread) -> None:
    async def refuse(request: Request) -> Response:
        return json_response({"error": "invalid_client", "error_description": "unknown client"}, status=401)

    api = Api()
    issuer, port = servers.add(refuse), servers.add(api)
    path = tmp_path / "services.yaml"
    path.write_text(f"""
auth:
  smoke: {{oauth2: {{token_url: "http://127.0.0.1:{issuer}/token", client_id: c, client_secret: s3cr3t-value}}}}
defaults: {{auth: smoke, retries: 0}}
services:
  users: {{url: "http://127.0.0.1:{port}", checks: [{{name: me, path: /me}}]}}
""")
    result = run_cli("wait", "-f", str(path), "--timeout", "4s", "--interval", "100ms", "--format", "json")
    assert_no_traceback(result)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["root_causes"] == ["auth:smoke"]
    services = {s["name"]: s for s in report["services"]}
    assert services["auth:smoke"]["checks"][0]["failure_class"] == "auth"
    assert services["users"]["checks"][0]["reason"] == "needs a token from auth:smoke/token, which failed"
    assert api.seen == []
