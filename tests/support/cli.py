"""The real CLI, run as a subprocess with a clean environment: to completion, or running to be signalled."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path


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


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The CLI as a running subprocess, its output captured, for tests that signal it."""
    return subprocess.Popen(
        [sys.executable, "-m", "svccheck", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(env),
    )


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
