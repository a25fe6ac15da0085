"""The real CLI on a real pseudo-terminal: the bytes a person's terminal would receive."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import dataclass

from support.cli import cli_env


@dataclass(frozen=True)
class Screen:
    output: bytes  # every byte the terminal received, escape sequences and all
    returncode: int
    chunks: tuple[bytes, ...] = ()  # the output as it was read, for the frames of a live view

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


def run_on_terminal(
    *args: str,
    env: dict[str, str] | None = None,
    columns: int = 200,
    lines: int = 50,
    timeout: float = 60,
    cwd: str | None = None,
) -> Screen:
    """Run `svccheck ARGS` with stdin, stdout and stderr on one pty, colour on, until it exits."""
    leader, follower = pty.openpty()
    terminal_env = cli_env(
        {"COLUMNS": str(columns), "LINES": str(lines), "TERM": "xterm-256color", **(env or {})}
    )
    terminal_env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "svccheck", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=terminal_env,
        cwd=cwd,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, (
                f"svccheck {args} still running after {timeout}s: {b''.join(chunks)[-2000:]!r}"
            )
            ready, _, _ = select.select([leader], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer closed the terminal, the process is gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        returncode = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        process.kill()
        os.close(leader)
    return Screen(b"".join(chunks), returncode, tuple(chunks))
