"""Smaller truths of a run: the reproduce line uses the timeout in force, and Retry-After waits have
a total cap, so a down service cannot stretch a run far past its timeout × attempts."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine import prober
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest

WriteManifest = Callable[..., Path]


async def unavailable(request: Request) -> Response:
    return Response(503, b'{"status": "busy"}', {"Retry-After": "1"})


def test_retry_after_waits_of_one_check_stop_at_the_total_cap(
    servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the cap is 10 s; 1.5 s here keeps the test short and shows the same rule
    monkeypatch.setattr(prober, "RETRY_AFTER_TOTAL", 1.5)
    text = f"""
        services:
          api: {{url: "http://127.0.0.1:{servers.add(unavailable)}", health: /h, retries: 3, backoff: 10ms}}
    """
    manifest = parse_manifest(textwrap.dedent(text), "services.yaml", environ={})
    report = asyncio.run(execute(manifest.services, ProbeSettings()))
    result = report.services[0].checks[0]
    waits = [attempt.wait_after for attempt in result.attempt_log[:-1]]
    assert result.attempts == 4 and waits[0] == 1.0  # honoured while the budget lasts
    # then 1 s more would pass 1.5 s: the backoff (10 ms, 20 ms… with jitter) instead
    assert all(wait is not None and wait < 0.2 for wait in waits[1:]), waits


async def up(request: Request) -> Response:
    return json_response({"status": "UP"})


@pytest.mark.parametrize(("flag", "seconds"), [([], "5"), (["--request-timeout", "7s"], "7")])
def test_the_reproduce_line_uses_the_timeout_in_force(
    servers: ServerThread, manifest_file: WriteManifest, flag: list[str], seconds: str
) -> None:
    path = manifest_file(f"""
        defaults: {{timeout: 5s}}
        services:
          api: {{url: "http://127.0.0.1:{servers.add(up)}", health: /health}}
          db: {{url: "tcp://127.0.0.1:1", protocol: postgres, retries: 0}}
    """)
    api = run_cli("check", "api", "-f", str(path), "-v", *flag)
    assert_no_traceback(api)
    assert f"curl -sS -i --max-time {seconds} " in api.stdout, api.stdout
    db = run_cli("check", "db", "-f", str(path), "-v", *flag)
    assert f"pg_isready -h 127.0.0.1 -p 1 -t {seconds}" in db.stdout, db.stdout
