"""Real Redis and PostgreSQL servers for tests, on ephemeral loopback ports in temporary directories.

They come from the distribution's packages (`.ci/run` installs `redis-server` and
`postgresql` when missing). PostgreSQL refuses to run as root: as root the
server runs as `nobody` through `runuser`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not found: install it (apt-get install redis-server) to run this test")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="svccheck-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--loglevel", "notice"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        # Redis logs this line once it listens: wait for it rather than for a while
        for line in process.stdout:
            if "Ready to accept connections" in line:
                break
        else:
            pytest.fail(f"redis-server exited with {process.wait()}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts[-3].zfill(4))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


@contextmanager
def postgres_server() -> Iterator[int]:
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL not found: install it (apt-get install postgresql) to run this test")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="svccheck-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: PostgreSQL cannot be started")
        nobody = pwd.getpwnam("nobody")
        os.chown(workdir, nobody.pw_uid, nobody.pw_gid)
        prefix = [runuser, "-u", "nobody", "--"]
    data = workdir / "data"

    def run(*args: str) -> None:
        result = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=READY_TIMEOUT, check=False, cwd=workdir
        )
        if result.returncode != 0:
            pytest.fail(f"{Path(args[0]).name} failed: {result.stdout}{result.stderr}")

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {workdir} -h 127.0.0.1 -c fsync=off -c shared_buffers=8MB"
    # -w: pg_ctl returns once the server accepts connections
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start")
    try:
        yield port
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=READY_TIMEOUT,
            check=False,
        )
        shutil.rmtree(workdir, ignore_errors=True)
