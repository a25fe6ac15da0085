"""`svccheck serve` as a real subprocess on a free loopback port, and plain HTTP GETs to it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from support.cli import cli_env
from support.real_services import stop_process


@contextlib.contextmanager
def serving(manifest: Path, *args: str) -> Iterator[str]:
    """`svccheck serve -f MANIFEST --port 0 ARGS…` until the block ends; yields its base URL.

    Its stderr (a line per round) goes to a file, not a pipe nobody reads, which would fill and stall it."""
    with tempfile.TemporaryFile("w+") as log, _started(manifest, args, log) as process:
        assert process.stdout is not None
        line = process.stdout.readline()  # the first line says where it listens
        if not line.startswith("listening on http://127.0.0.1:"):
            process.wait(timeout=10)
            log.seek(0)
            raise AssertionError(f"serve did not start: {line}{log.read()}")
        yield line.split()[2]


@contextlib.contextmanager
def _started(manifest: Path, args: tuple[str, ...], log: IO[str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "svccheck", "serve", "-f", str(manifest), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=cli_env(),
    )
    try:
        yield process
    finally:
        stop_process(process)


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, str, str]:
    """Status, Content-Type and body of a GET; an HTTP error status is an answer too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()
