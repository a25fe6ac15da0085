"""A real OAuth2 authorization server for tests: npm's `oidc-provider`, started on loopback.

`.ci/run` installs it (`npm install --prefix tests/support/oidc`); where Node.js or the
package is missing, the tests that need it skip and say what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "oidc"
INSTALL = "npm install --prefix tests/support/oidc (Node.js 20 or later)"


@contextmanager
def oidc_provider(client_secret: str, *, token_ttl: int = 600) -> Iterator[str]:
    """The base URL of a running oidc-provider (its token endpoint is `/token`)."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.skip(f"oidc-provider is not installed: {INSTALL}")
    env = {**os.environ, "OIDC_CLIENT_SECRET": client_secret, "OIDC_TOKEN_TTL": str(token_ttl)}
    process = subprocess.Popen(
        [node, str(HERE / "server.mjs")],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()  # printed once it listens
        if not port.isdigit():
            pytest.fail(f"oidc-provider did not start (exit {process.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
