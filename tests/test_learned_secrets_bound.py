"""A long-running `serve` (or `watch`, or a long `wait`) keeps a bounded set of learned secrets.

A service that hands out a fresh session on every request is ordinary (a new
`Set-Cookie` per answer); each round then teaches the Redactor new values. Kept
forever, every round made the mask pattern longer: with 2,000 new values a round,
rounds 30-40 took 18 s where rounds 1-10 took 2.4 s, and memory grew without
end. The most recent values are kept (`redact._MAX_LEARNED`): the cookie of the
latest round is still masked in the published report, the manifest's secrets
always are.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import cli_env
from svccheck.demo.server import Request, Response, ServerThread

FRESH_PER_ANSWER = 2000  # values a round teaches: a session list a service hands out
ROUNDS = 40  # 80,000 values in all, far past the bound


class FreshSessions:
    """Every answer hands out new sessions and echoes its own cookie in a component message."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cookies: list[str] = []

    async def __call__(self, request: Request) -> Response:
        cookie = secrets.token_hex(16)
        with self.lock:
            self.cookies.append(cookie)
        body = {
            "status": "DOWN",
            "sessions": [{"session": secrets.token_hex(8)} for _ in range(FRESH_PER_ANSWER)],
            "components": {"db": {"status": "DOWN", "details": {"error": f"stale session {cookie}"}}},
        }
        return Response(503, json.dumps(body), {"Set-Cookie": f"sid={cookie}; HttpOnly"})


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Path, FreshSessions]]:
    servers = ServerThread().start()
    handler = FreshSessions()
    try:
        port = servers.add(handler)
        manifest = tmp_path / "services.yaml"
        manifest.write_text(
            f"defaults: {{retries: 0, timeout: 5s}}\n"
            f"services:\n  api: {{url: 'http://127.0.0.1:{port}', health: /health}}\n"
        )
        yield manifest, handler
    finally:
        servers.stop()


def test_serve_keeps_up_with_a_service_that_hands_out_fresh_secrets_every_round(
    fresh: tuple[Path, FreshSessions],
) -> None:
    manifest, handler = fresh
    process = subprocess.Popen(
        [sys.executable, "-m", "svccheck", "serve", "-f", str(manifest), "--port", "0", "--interval", "1ms"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        base = process.stdout.readline().split()[2]
        reached = threading.Event()

        def read_log() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                if f"round {ROUNDS}:" in line:
                    reached.set()
                    return

        threading.Thread(target=read_log, daemon=True).start()
        # unbounded, the 40 rounds took 41 s on this VM (round 40 alone 2 s); bounded, 4 s
        assert reached.wait(25), f"serve did not reach round {ROUNDS} in 25s"
        report = urllib.request.urlopen(base + "/report.json", timeout=10).read().decode()
        with handler.lock:
            cookies = list(handler.cookies)
    finally:
        process.kill()
        process.wait(timeout=10)
    assert "stale session ***" in report, report[:2000]
    assert not [cookie for cookie in cookies if cookie in report]
