"""Health status words svccheck does not know, through the real CLI: a warn naming the word (#15)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response

WriteManifest = Callable[..., Path]

# service -> (what its health endpoint answers with HTTP 200, the verdict, the reason)
ANSWERS: dict[str, tuple[Response, str, str | None]] = {
    "nok": (json_response({"status": "NOK"}), "warn", "unrecognised health status 'NOK'"),
    "broken": (json_response({"status": "broken"}), "warn", "unrecognised health status 'broken'"),
    "maint": (json_response({"state": "maintenance"}), "warn", "unrecognised health status 'maintenance'"),
    "spring": (
        json_response({"status": "UP", "components": {"mail": {"status": "MAINTENANCE"}}}),
        "warn",
        "component mail: unrecognised health status 'MAINTENANCE'",
    ),
    "listing": (
        json_response({"status": "ok", "checks": {"queue": {"status": "paused"}}}),
        "warn",
        "component queue: unrecognised health status 'paused'",
    ),
    "ietf": (
        json_response({"status": "sunny", "checks": {"db": [{"status": "pass"}]}}, content_type="x/y"),
        "warn",
        "unrecognised health status 'sunny'",
    ),
    # A body must not drive the terminal through the word it shows: controls are dropped.
    "hostile": (
        json_response({"status": "\x1b[2J\x1b]0;owned\x07NOK\u202e"}),
        "warn",
        "unrecognised health status '\\x1b[2J\\x1b]0;owned\\x07NOK\\u202e'",  # shown, never obeyed
    ),
    # Known words and bodies without any status word read as before.
    "up": (json_response({"status": "UP"}), "pass", None),
    "text": (Response(200, b"hello there", {}, "text/plain"), "pass", None),
    "degraded": (json_response({"status": "degraded"}), "warn", "degraded: health status degraded"),
}


def _serving(answer: Response) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        return answer

    return handler


def test_unrecognised_status_words_warn_with_the_word(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    lines = ["defaults: {retries: 0}", "services:"]
    for name, (answer, _, _) in ANSWERS.items():
        lines.append(f"  {name}: {{url: 'http://127.0.0.1:{servers.add(_serving(answer))}', health: /h}}")
    path = manifest_file("\n".join(lines) + "\n")
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert_no_traceback(result)
    data = json.loads(result.stdout)
    seen = {s["name"]: (s["checks"][0]["verdict"], s["checks"][0]["reason"]) for s in data["services"]}
    assert seen == {name: (verdict, reason) for name, (_, verdict, reason) in ANSWERS.items()}
    assert result.returncode == 0  # warnings, not failures
    assert "\x1b" not in result.stdout
    table = run_cli("all", "-f", str(path))
    assert "unrecognised health status 'NOK'" in table.stdout and "\x1b" not in table.stdout
    assert run_cli("all", "-f", str(path), "--strict").returncode == 1


def test_unrecognised_status_word_with_an_error_status_fails_on_the_status(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    port = servers.add(_serving(json_response({"status": "NOK"}, status=503)))
    path = manifest_file(f"services:\n  api: {{url: 'http://127.0.0.1:{port}', health: /h, retries: 0}}\n")
    result = run_cli("all", "-f", str(path), "--format", "json")
    check = json.loads(result.stdout)["services"][0]["checks"][0]
    assert (result.returncode, check["verdict"], check["failure_class"], check["reason"]) == (
        1,
        "fail",
        "status",
        "expected status 2xx, got 503",
    )
