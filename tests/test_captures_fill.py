"""Filling captured values into a check, and a token's life in a `Session` (pure or on loopback)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.captures import extract, fill
from svccheck.engine.credentials import Session
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import load_manifest
from svccheck.model import Answer, Capture, Check, HttpRequest


def _check(url: str, headers: tuple[tuple[str, str], ...], body: bytes | None) -> Check:
    return Check("s", "c", "check", url, HttpRequest("POST", headers, body), None, 1.0, 0, 0.1, True)


def test_fill_encodes_for_the_place_it_goes() -> None:
    value = 'a b/"c"&d'
    check = _check(
        "http://h/x/${capture.v}?q=${capture.v}",
        (("X-V", "<${capture.v}>"), ("Content-Type", "application/json")),
        json.dumps({"v": "${capture.v}"}).encode(),
    )
    filled = fill(check, {"v": value})
    assert filled.url == "http://h/x/a%20b%2F%22c%22%26d?q=a%20b%2F%22c%22%26d"
    assert isinstance(filled.target, HttpRequest)
    assert dict(filled.target.headers)["X-V"] == f"<{value}>"
    assert filled.target.body is not None and json.loads(filled.target.body) == {"v": value}


def test_extract_takes_the_first_match_and_says_what_is_missing() -> None:
    answer = Answer(
        "HTTP 200", (("x-request-id", "r-1"),), b'{"a": [{"id": 7}, {"id": 8}]}', False, 0.0, "", ""
    )
    check = Check(
        "s", "c", "check", "http://h/", HttpRequest(), None, 1.0, 0, 0.1, True,
        captures=(Capture("id", "$.a[*].id"), Capture("rid", header="X-Request-Id"),
                  Capture("gone", "$.b"), Capture("hdr", header="X-None")),
    )  # fmt: skip
    values, problems = extract(check, answer)
    assert values == {"id": "7", "rid": "r-1"}
    assert problems == ["capture gone: $.b selected nothing", "capture hdr: no X-None header in the answer"]


def test_an_expired_token_is_requested_again_and_basic_is_sent(tmp_path: Path) -> None:
    issued: list[str] = []
    seen: list[str] = []

    async def token(request: Request) -> Response:
        issued.append(f"tok-{len(issued)}-abcdefgh")
        return json_response({"access_token": issued[-1], "expires_in": 3600})

    async def api(request: Request) -> Response:
        seen.append(request.headers.get("authorization", ""))
        return json_response({"ok": True})

    with ServerThread() as servers:
        issuer, port = servers.add(token), servers.add(api)
        path = tmp_path / "services.yaml"
        path.write_text(f"""
auth:
  smoke: {{oauth2: {{token_url: "http://127.0.0.1:{issuer}/t", client_id: c, client_secret: s3cr3t-value}}}}
  ops: {{basic: {{username: ops, password: pa55-word}}}}
services:
  api:
    url: http://127.0.0.1:{port}
    auth: smoke
    checks: [{{path: /a}}, {{path: /b}}, {{path: /basic, auth: ops}}]
""")
        manifest = load_manifest(str(path), environ={})
        session = Session()

        async def rounds() -> None:
            await execute(manifest.services, ProbeSettings(), session=session)
            await execute(manifest.services, ProbeSettings(), session=session)  # reused
            session.tokens["smoke"].expires = time.monotonic() - 1  # as if an hour had passed
            await execute(manifest.services, ProbeSettings(), session=session)

        asyncio.run(rounds())
    assert issued == ["tok-0-abcdefgh", "tok-1-abcdefgh"]
    bearer = [h for h in seen if h.startswith("Bearer ")]
    assert bearer == ["Bearer tok-0-abcdefgh"] * 4 + ["Bearer tok-1-abcdefgh"] * 2
    assert seen.count("Basic " + base64.b64encode(b"ops:pa55-word").decode()) == 3
