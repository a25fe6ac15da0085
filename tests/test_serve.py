"""`svccheck serve` as a real subprocess, scraped over real HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.cli import assert_no_traceback, cli_env, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response

WAIT = 20.0  # generous bound on events that normally take milliseconds


class Watched:
    """A health endpoint that records every request and how many were in flight at once."""

    def __init__(self, status: int = 200, hold: threading.Event | None = None) -> None:
        self.status = status
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.reached: dict[int, threading.Event] = {}
        self.lock = threading.Lock()

    def when(self, count: int) -> threading.Event:
        with self.lock:
            return self.reached.setdefault(count, threading.Event())

    async def __call__(self, request: Request) -> Response:
        import asyncio

        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.reached.setdefault(self.calls, threading.Event()).set()
        try:
            await asyncio.sleep(0.05)  # a slow endpoint, so overlapping rounds would show
            return json_response({"status": "UP" if self.status < 400 else "DOWN"}, status=self.status)
        finally:
            with self.lock:
                self.in_flight -= 1


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(manifest: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "svccheck", "serve", "-f", str(manifest), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line + (
            process.stderr.read() if process.stderr else ""
        )
        return process, line.split()[2]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_serve_publishes_metrics_and_report_without_overlapping_rounds(
    serve: object, servers: ServerThread, manifest_file: object
) -> None:
    up, down = Watched(200), Watched(503)
    up_port, down_port = servers.add(up), servers.add(down)
    path = manifest_file(  # type: ignore[operator]
        f"""
        defaults: {{retries: 0}}
        services:
          api: {{url: "http://127.0.0.1:{up_port}", health: /health}}
          billing: {{url: "http://127.0.0.1:{down_port}", health: /health, headers: {{Authorization: "Bearer s3cr3t-token"}}}}
        """
    )
    process, base = serve(path, "--interval", "10ms")  # type: ignore[operator]
    # Round 3 cannot start before round 2 is published: rounds are sequential.
    assert up.when(3).wait(WAIT), "the third round never started"

    status, content_type, text = get(base + "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, s.labels.get("service")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("svccheck_check_up", "api")] == 1
    assert samples[("svccheck_check_up", "billing")] == 0
    assert samples[("svccheck_serve_rounds_total", None)] >= 2

    status, content_type, body = get(base + "/report.json")
    assert status == 200 and content_type.startswith("application/json")
    report = json.loads(body)
    assert report["schema"] == "svccheck/report-v1" and report["verdict"] == "fail"
    assert "s3cr3t-token" not in text + body
    assert get(base + "/healthz")[0] == 200
    assert get(base + "/nope")[0] == 404

    assert up.max_in_flight == 1 and down.max_in_flight == 1  # never two rounds at once
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=WAIT)
    assert process.returncode == 0
    assert "round 1: fail" in err
    assert_no_traceback(subprocess.CompletedProcess([], 0, out, err))


def test_serve_answers_503_until_the_first_round_and_stops_on_ctrl_c(
    serve: object, servers: ServerThread, manifest_file: object
) -> None:
    gate = threading.Event()

    async def held(request: Request) -> Response:
        import asyncio

        # the first round waits until the test has scraped
        await asyncio.get_running_loop().run_in_executor(None, gate.wait, WAIT)
        return json_response({"status": "UP"})

    port = servers.add(held)
    path = manifest_file(f'services:\n  api: {{url: "http://127.0.0.1:{port}", health: /h}}\n')  # type: ignore[operator]
    process, base = serve(path, "--interval", "1h", "--timeout", "30s")  # type: ignore[operator]
    try:
        status, _, text = get(base + "/metrics")
        assert status == 503 and "no results yet" in text
        assert get(base + "/healthz")[0] == 503
    finally:
        gate.set()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=WAIT)
    assert process.returncode == 0
    assert_no_traceback(subprocess.CompletedProcess([], 0, out, err))


def test_serve_usage_errors(manifest_file: object) -> None:
    path = manifest_file('services:\n  api: {url: "http://127.0.0.1:1", health: /h}\n')  # type: ignore[operator]
    bad = run_cli("serve", "-f", str(path), "--interval", "soon")
    assert bad.returncode == 2 and "--interval" in bad.stderr
    assert run_cli("serve", "-f", str(path), "--only", "nope").returncode == 2
    assert_no_traceback(bad)
