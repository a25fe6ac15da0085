"""Hostile input at the edges the first trust pass missed (an adversarial review).

Each test is a hole found by attacking the neutraliser, the CI-log guard and the
Redactor through the real CLI against real loopback services: a lone surrogate
that crashed every output, GitHub's legacy `##[command]` form and the whitespace
the runner trims, secrets in their percent-encoded form, and secrets cut in half
by an ellipsis.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response

# A JSON string may escape half a surrogate pair; json.loads gives a str no codec can encode.
LONE_SURROGATES = b'{"status":"DOWN","components":{"\\ud800db":{"status":"DOWN","details":{"error":"x\\udfff"}}}}'


async def surrogate_health(request: Request) -> Response:
    return Response(503, LONE_SURROGATES, {}, "application/json")


@pytest.fixture(scope="module")
def surrogates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    servers = ServerThread().start()
    try:
        port = servers.add(surrogate_health)
        manifest = tmp_path_factory.mktemp("surrogates") / "services.yaml"
        manifest.write_text(
            f"""
defaults: {{retries: 0, timeout: 2s}}
services:
  halves: {{url: "http://127.0.0.1:{port}", health: /health}}
"""
        )
        yield manifest
    finally:
        servers.stop()


SURROGATE_VIEWS = [
    ("all",),
    ("all", "-v"),
    ("check", "halves", "-v"),
    ("all", "--format", "json"),
    ("all", "--format", "junit"),
    ("all", "--format", "markdown"),
    ("all", "--github"),
    ("watch", "--rounds", "1"),
    ("wait", "--timeout", "1s", "--interval", "100ms"),
]


@pytest.mark.parametrize("args", SURROGATE_VIEWS, ids=[" ".join(a) for a in SURROGATE_VIEWS])
def test_a_lone_surrogate_from_a_service_is_shown_escaped_never_a_crash(
    args: tuple[str, ...], surrogates: Path
) -> None:
    result = run_cli(*args, "-f", str(surrogates))
    assert_no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "\\ud800db" in result.stdout + result.stderr


def test_report_files_with_a_lone_surrogate_are_written(surrogates: Path, tmp_path: Path) -> None:
    files = {name: tmp_path / f"report.{name}" for name in ("json", "junit", "markdown", "prometheus")}
    flags = [arg for name, path in files.items() for arg in (f"--{name}", str(path))]
    result = run_cli("all", "-f", str(surrogates), *flags)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert not result.stderr, result.stderr
    report = json.loads(files["json"].read_text(encoding="utf-8"))
    assert report["services"][0]["checks"][0]["components"][0]["name"] == "\\ud800db"
    assert "\\ud800db" in files["junit"].read_text(encoding="utf-8")
