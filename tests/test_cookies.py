"""Each check starts with no cookies; a cookie lives only within its check's redirect chain.

A run used to keep one cookie jar per connection for the whole run: a
`Set-Cookie` from one check was sent on every later request to the same origin,
so a check's outcome depended on which check ran before it, and a server that
echoes request headers printed the session unmasked. `--concurrency 1` puts every
check on one connection, in manifest order: the old jar would carry the cookie.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response

SESSION = "ffsession-Oatmeal-31"
CHAIN = "chain-Ginger-Snap-47"
TOKEN = "tok-Issued-By-Login-53"


@dataclass
class Seen:
    cookies: dict[str, list[str]] = field(default_factory=dict)

    async def __call__(self, request: Request) -> Response:
        cookie = request.headers.get("cookie", "")
        self.cookies.setdefault(request.path, []).append(cookie)
        if request.path == "/login":
            response = json_response({"access_token": TOKEN, "token_type": "bearer"})
            response.headers = {"Set-Cookie": f"ffsession={SESSION}; Path=/; HttpOnly"}
            return response
        if request.path == "/me":  # echoes what it was sent, as many debugging endpoints do
            response = json_response({"status": "UP", "cookie": cookie})
            response.headers = {"X-Echo-Cookie": cookie}
            return response
        if request.path == "/start":
            return Response(302, b"", {"Location": "/landing", "Set-Cookie": f"chain={CHAIN}; Path=/"})
        if request.path == "/landing":
            return json_response(
                {"status": "UP" if CHAIN in cookie else "DOWN"}, 200 if CHAIN in cookie else 401
            )
        return json_response({"status": "UP"})


@dataclass(frozen=True)
class Site:
    manifest: Path
    seen: Seen


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    servers = ServerThread().start()
    seen = Seen()
    try:
        port = servers.add(seen)
        manifest = tmp_path / "services.yaml"
        manifest.write_text(f"""
defaults: {{retries: 0, timeout: 2s}}
services:
  api:
    url: http://127.0.0.1:{port}
    checks:
      - {{name: login, path: /login}}
      - {{name: me, path: /me}}
      - {{name: chained, path: /start}}
      - {{name: landing, path: /landing, expect: {{status: 401}}}}
""")
        yield Site(manifest, seen)
    finally:
        servers.stop()


def test_no_check_is_sent_a_cookie_another_check_was_given(site: Site) -> None:
    result = run_cli("all", "--concurrency", "1", "--format", "json", "-f", str(site.manifest))
    assert_no_traceback(result)
    assert site.seen.cookies["/me"] == [""], site.seen.cookies
    assert site.seen.cookies["/landing"].count("") == 1  # the check of its own went without
    checks = {c["name"]: c for c in json.loads(result.stdout)["services"][0]["checks"]}
    assert {name: c["verdict"] for name, c in checks.items()} == {
        "login": "pass",
        "me": "pass",
        "chained": "pass",  # its own redirect chain kept the cookie it was given on the way
        "landing": "pass",
    }
    assert result.returncode == 0


def test_a_cookie_or_token_the_server_handed_out_is_never_shown(site: Site) -> None:
    outputs = [
        run_cli("check", "api", "-v", "--concurrency", "1", "-f", str(site.manifest)),
        run_cli("all", "-v", "--concurrency", "1", "-f", str(site.manifest)),
        run_cli("all", "--format", "json", "--concurrency", "1", "-f", str(site.manifest)),
    ]
    for result in outputs:
        assert_no_traceback(result)
        text = result.stdout + result.stderr
        leaked = [value for value in (SESSION, CHAIN, TOKEN) if value in text]
        assert not leaked, f"{leaked} in:\n{text}"
    story = outputs[0].stdout
    assert '"access_token": "***"' in story and "set-cookie: ***" in story, story


def test_a_token_handed_out_in_a_redirect_is_masked_where_the_service_echoes_it(
    servers: ServerThread, manifest_file: Callable[..., Path]
) -> None:
    """`Location: /final?access_token=…` hands a token out like a cookie; once only the
    `(from …)` URL masked it, and the echo in a component message showed it."""
    token = "LOCATION-token-42"

    async def handler(request: Request) -> Response:
        if request.path == "/health":
            return Response(302, b"", {"Location": f"/final?access_token={token}"}, "text/plain")
        error = f"bad {request.query}"
        body = {"status": "DOWN", "components": {"db": {"status": "DOWN", "details": {"error": error}}}}
        return json_response(body, status=503)

    port = servers.add(handler)
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          a: {{url: "http://127.0.0.1:{port}", health: /health}}
    """)
    for args in (("all",), ("check", "a", "-v"), ("all", "--format", "json")):
        result = run_cli(*args, "-f", str(path))
        assert "bad access_token=***" in result.stdout, result.stdout  # the echo was reached
        assert token not in result.stdout + result.stderr, result.stdout


def test_wait_keeps_a_secret_handed_out_in_an_earlier_round(tmp_path: Path) -> None:
    """The final table and report of `wait` come after many rounds: what round 1 handed out stays secret."""
    handed_out = "round-One-Session-71"
    calls = {"a": 0}

    async def first_then_up(request: Request) -> Response:
        calls["a"] += 1
        if calls["a"] == 1:
            response = json_response({"status": "DOWN"}, 503)
            response.headers = {"Set-Cookie": f"sid={handed_out}; Path=/"}
            return response
        return json_response({"status": "UP"})

    async def echoes_it(request: Request) -> Response:
        return json_response(
            {
                "status": "DOWN",
                "components": {"db": {"status": "DOWN", "details": {"error": f"stale {handed_out}"}}},
            },
            503,
        )

    servers = ServerThread().start()
    try:
        first, echo = servers.add(first_then_up), servers.add(echoes_it)
        manifest = tmp_path / "services.yaml"
        manifest.write_text(f"""
defaults: {{retries: 0, timeout: 2s}}
services:
  a: {{url: "http://127.0.0.1:{first}", health: /health}}
  b: {{url: "http://127.0.0.1:{echo}", health: /health}}
""")
        report = tmp_path / "wait.json"
        result = run_cli(
            # b never gets ready, so wait runs to the bound: 2 s leaves room for a second round of a on a
            # loaded CI machine (with 1 s, one full run saw a probed only once)
            "wait",
            "--timeout",
            "2s",
            "--interval",
            "50ms",
            "--json",
            str(report),
            "-f",
            str(manifest),
        )
    finally:
        servers.stop()
    assert_no_traceback(result)
    assert calls["a"] >= 2, "a was never probed again"
    text = result.stdout + result.stderr + report.read_text()
    assert "stale ***" in text and handed_out not in text, text
