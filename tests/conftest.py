"""Real loopback servers and the real CLI, run as a subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from svccheck.demo.server import Handler, Raw, Request, Response, ServerThread, hang, json_response


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    thread = ServerThread().start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def manifest_file(tmp_path: Path) -> Iterator[object]:
    def write(text: str, name: str = "services.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    yield write


@contextlib.contextmanager
def serving(directory: Path, manifest: Callable[..., str], *handlers: Handler) -> Iterator[Path]:
    """Loopback servers answering with `handlers`, and `directory/services.yaml` as
    `manifest(*ports)` writes it (for module-scoped fixtures, which cannot use `servers`)."""
    thread = ServerThread().start()
    try:
        ports = [thread.add(handler) for handler in handlers]
        path = directory / "services.yaml"
        path.write_text(manifest(*ports))
        yield path
    finally:
        thread.stop()


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SVCCHECK_", "SMOKE_"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "PYTHONWARNINGS": "ignore"})
    env.update(extra or {})
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "svccheck", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


class Counting:
    """A handler answering with each status in turn, then the last one again; counts requests.

    The body is a health document saying UP below 400 and DOWN from 400 on.
    """

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.calls = 0

    async def __call__(self, request: Request) -> Response:
        status = self.statuses[min(self.calls, len(self.statuses) - 1)]
        self.calls += 1
        return json_response({"status": "UP" if status < 400 else "DOWN"}, status=status)


def half_stuck_fleet(
    servers: ServerThread, write_manifest: Callable[[str], Path]
) -> tuple[Path, threading.Event]:
    """A manifest of two services: `fast` answers, `slow` never does.

    The event is set once slow's request is in flight: the moment to signal a
    run that has results to show and a check still open.
    """
    reached = threading.Event()

    async def stuck(request: Request) -> Raw:
        reached.set()
        return hang()

    async def up(request: Request) -> Response:
        return json_response({"status": "UP"})

    slow, fast = servers.add(stuck), servers.add(up)
    path = write_manifest(f"""
        defaults: {{timeout: 60s, retries: 0}}
        services:
          fast: {{url: "http://127.0.0.1:{fast}", health: /health}}
          slow: {{url: "http://127.0.0.1:{slow}", health: /health}}
    """)
    return path, reached


def interrupt_when(reached: threading.Event, process: subprocess.Popen[str], signum: int) -> tuple[str, str]:
    """Send `signum` once `reached` is set; the CLI's stdout and stderr (no traceback in either)."""
    try:
        assert reached.wait(20), "the CLI never reached the server"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert "Traceback" not in stdout + stderr, stdout + stderr
    return stdout, stderr


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The CLI as a running subprocess, its output captured, for tests that signal it."""
    return subprocess.Popen(
        [sys.executable, "-m", "svccheck", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(env),
    )
