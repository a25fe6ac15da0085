"""Real loopback servers and the real CLI, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from svccheck.demo.server import ServerThread


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
