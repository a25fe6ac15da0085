"""The curl reproduction: no secret value in it, correct shell quoting, and it really reproduces."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import textwrap
from pathlib import Path

import pytest
import trustme

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.manifest import parse_manifest
from svccheck.model import Check, HttpRequest, Manifest
from svccheck.protocols.http import curl_command
from svccheck.protocols.shell import shell_word
from svccheck.redact import Redactor, secret_values
from svccheck.report.story import readable_body

TOKEN = "s3cr3t-token-value"
LITERAL_KEY = "literal-api-key-42"


def manifest_with(url: str) -> Manifest:
    text = f"""
        services:
          api:
            url: {url}
            checks:
              - name: orders
                method: POST
                path: /orders?sort=desc&api_token=qs-secret-99
                headers:
                  Authorization: "Bearer ${{SMOKE_TOKEN}}"
                  X-Api-Key: {LITERAL_KEY}
                  X-Note: "it's \\"quoted\\" $HOME `cmd` !bang"
                json: {{item: "o'clock", note: "$PATH"}}
                idempotent: true
    """
    return parse_manifest(textwrap.dedent(text), "services.yaml", environ={"SMOKE_TOKEN": TOKEN})


def command_for(manifest: Manifest) -> tuple[str, Check, tuple[tuple[str, str], ...]]:
    check = manifest.services[0].checks[0]
    curl = curl_command(
        check,
        secret_vars=dict(manifest.secret_vars),
        secrets=secret_values(manifest),
        verify=check.verify_tls,
        timeout=check.timeout,
    )
    return curl.line, check, curl.placeholders


def test_the_line_holds_no_secret_value_only_references() -> None:
    line, _, placeholders = command_for(manifest_with("http://127.0.0.1:9"))
    for secret in (TOKEN, LITERAL_KEY, "qs-secret-99"):
        assert secret not in line
    assert '"Authorization: Bearer ${SMOKE_TOKEN}"' in line
    assert [where for _, where in placeholders] == ["header X-Api-Key", "URL"]
    assert "${SVCCHECK_SECRET_1}" in line and "${SVCCHECK_SECRET_2}" in line


def test_the_line_is_valid_shell() -> None:
    line, _, _ = command_for(manifest_with("http://127.0.0.1:9"))
    checked = subprocess.run(["bash", "-n", "-c", line], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([("text", "plain")], "plain"),
        ([("text", "two words")], "'two words'"),
        ([("text", "Bearer "), ("var", "TOKEN")], '"Bearer ${TOKEN}"'),
        ([("text", "it's $HOME "), ("var", "T")], "'it'\"'\"'s $HOME '\"${T}\""),
    ],
)
def test_shell_words(parts: list[tuple[str, str]], expected: str) -> None:
    assert shell_word(parts) == expected


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_line_reproduces_the_request_against_a_real_server(servers: ServerThread) -> None:
    seen: list[Request] = []

    async def orders(request: Request) -> Response:
        seen.append(request)
        authorised = (
            request.headers.get("authorization") == f"Bearer {TOKEN}"
            and request.headers.get("x-api-key") == LITERAL_KEY
            and request.param("api_token") == "qs-secret-99"
        )
        return json_response({"ok": authorised}, status=201 if authorised else 401)

    port = servers.add(orders)
    line, check, _ = command_for(manifest_with(f"http://127.0.0.1:{port}"))
    env = {
        "PATH": os.environ["PATH"],
        "SMOKE_TOKEN": TOKEN,
        "SVCCHECK_SECRET_1": LITERAL_KEY,
        "SVCCHECK_SECRET_2": "qs-secret-99",
    }
    result = subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, env=env, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[1] == "201", result.stdout
    (request,) = seen
    assert request.method == "POST"
    assert request.headers.get("x-note") == 'it\'s "quoted" $HOME `cmd` !bang'
    assert request.json() == {"item": "o'clock", "note": "$PATH"}
    assert isinstance(check.target, HttpRequest)
    assert check.target.body is not None and request.body == check.target.body


def test_check_verbose_tells_the_whole_story(servers: ServerThread, tmp_path: Path) -> None:
    async def orders(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return json_response({"error": "unauthorised"}, status=401)
        return json_response({"data": [], "echo": request.headers.get("authorization")})

    port = servers.add(orders)
    manifest = tmp_path / "services.yaml"
    manifest.write_text(
        textwrap.dedent(f"""
            services:
              api:
                url: http://127.0.0.1:{port}
                checks:
                  - name: orders
                    path: /orders
                    headers: {{Authorization: "Bearer ${{SMOKE_TOKEN}}"}}
                    expect:
                      status: 200
                      max_ttfb: 5s
                      headers: {{content-type: {{contains: json}}}}
                      json: {{$.data: {{len: {{gte: 1}}}}}}
        """)
    )
    result = run_cli("check", "api", "-v", "-f", str(manifest), env={"SMOKE_TOKEN": TOKEN})
    assert_no_traceback(result)
    out = result.stdout
    assert result.returncode == 1
    assert TOKEN not in out + result.stderr
    assert "── api / orders FAIL" in out
    assert "Authorization: ***" in out
    assert "HTTP/1.1 200" in out and "content-type: application/json" in out
    assert '"echo": "***"' in out  # the echoed token, masked by value in the (indented) body excerpt
    assert "✓ status 200: 200" in out
    assert '✓ header content-type to contain "json": application/json' in out
    assert "✗ $.data length >= 1: $.data: expected length >= 1, got length 0" in out
    assert "✓ ttfb ≤ 5s" in out
    assert "timings" in out and "total" in out
    assert "curl -sS -i --max-time 5 -L --max-redirs 5" in out
    assert '-H "Authorization: Bearer ${SMOKE_TOKEN}"' in out
    assert f"http://127.0.0.1:{port}/orders" in out


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_line_verifies_tls_with_the_same_ca_bundle(servers: ServerThread, tmp_path: Path) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)

    async def hello(request: Request) -> Response:
        return json_response({"status": "ok"}, status=202)

    port = servers.add(hello, tls=context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    manifest = parse_manifest(
        f"services:\n  s: {{url: 'https://localhost:{port}', health: /h, verify_tls: ca.pem}}\n",
        str(tmp_path / "services.yaml"),
        environ={},
    )
    line, _, _ = command_for(manifest)
    assert f"--cacert {tmp_path / 'ca.pem'}" in line
    env = {"PATH": os.environ["PATH"]}
    result = subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, env=env, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[1] == "202"
    untrusted = subprocess.run(
        ["bash", "-c", line.replace(f" --cacert {tmp_path / 'ca.pem'}", "")],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert untrusted.returncode != 0  # without the bundle curl refuses, as svccheck would


def test_body_excerpt_masks_secrets_the_server_escaped() -> None:
    redactor = Redactor(['pa"ss/wo\\rd'])
    body = b'{"echo": "pa\\"ss\\/wo\\\\rd", "also": "\\u0070a\\"ss/wo\\\\rd", "n": 1}'
    text = readable_body(body, False, redactor)
    assert json.loads(text) == {"echo": "***", "also": "***", "n": 1}
    assert readable_body(b'token pa"ss/wo\\rd here', False, redactor) == "token *** here"
