"""`check NAME -v` on a tcp:// service speaks its own protocol: no HTTP in the story, a command that works.

Before protocols were one interface, a TCP check was an HTTP check with a flag:
its story showed a `User-Agent` header, `1: HTTP 0 in 1ms` and a
`curl -X TCP … tcp://…` line that curl rejects.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from support.cli import assert_no_traceback, run_cli

WriteManifest = Callable[..., Path]


def story(manifest_file: WriteManifest, text: str, *names: str) -> str:
    path = manifest_file(text)
    result = run_cli("check", *names, "-v", "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def reproduce_line(out: str) -> str:
    lines = out.splitlines()
    return lines[lines.index("reproduce") + 1].strip()


def assert_no_http(out: str) -> None:
    for http_only in ("User-Agent", "HTTP 0", "curl", "2xx status"):
        assert http_only not in out, (http_only, out)


def test_redis_story_and_its_redis_cli_line(manifest_file: WriteManifest, redis_port: int) -> None:
    out = story(
        manifest_file,
        f'services:\n  cache: {{url: "tcp://127.0.0.1:{redis_port}", protocol: redis}}\n',
        "cache",
    )
    assert_no_http(out)
    assert f"connect 127.0.0.1:{redis_port}" in out and "send PING" in out
    assert "1: +PONG in " in out  # the attempt says what the server answered
    assert "✓ PING answered (+PONG, or a request for a password): +PONG" in out
    line = reproduce_line(out)
    assert line == f"redis-cli -h 127.0.0.1 -p {redis_port} PING"
    if shutil.which("redis-cli"):
        ran = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=20, check=False)
        assert ran.stdout.strip() == "PONG", ran.stderr


def test_postgres_story_and_its_pg_isready_line(manifest_file: WriteManifest, postgres_port: int) -> None:
    out = story(
        manifest_file,
        f'services:\n  db: {{url: "tcp://127.0.0.1:{postgres_port}", protocol: postgres}}\n',
        "db",
    )
    assert_no_http(out)
    assert "send SSLRequest (no credentials)" in out
    assert "1: accepting connections in " in out
    line = reproduce_line(out)
    assert line == f"pg_isready -h 127.0.0.1 -p {postgres_port} -t 5"
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    path = os.pathsep.join([*(str(b) for b in bindirs), os.environ.get("PATH", "")])
    if shutil.which("pg_isready", path=path):
        ran = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, timeout=20, check=False, env={"PATH": path}
        )
        assert ran.returncode == 0 and "accepting connections" in ran.stdout, ran.stdout + ran.stderr


def test_plain_port_story(manifest_file: WriteManifest, banner_port: int) -> None:
    out = story(manifest_file, f'services:\n  mail: {{url: "tcp://127.0.0.1:{banner_port}"}}\n', "mail")
    assert_no_http(out)
    assert "✓ a connection accepted: connected" in out
    assert reproduce_line(out) == f"nc -vz -w 5 127.0.0.1 {banner_port}"
