"""Real Redis, PostgreSQL and Prometheus servers for tests, on ephemeral loopback ports in temporary
directories.

They come from the distribution's packages (`.ci/run` installs `redis-server`, `postgresql` and
`prometheus` when missing). PostgreSQL refuses to run as root: as root the
server runs as `nobody` through `runuser`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate and key (PEM files) for a TLS-enabled test server."""

    cert: Path
    key: Path


def write_tls_files(ca: trustme.CA, directory: Path) -> TlsFiles:
    issued = ca.issue_cert("localhost", "127.0.0.1")
    cert, key = directory / "server.crt", directory / "server.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    return TlsFiles(cert, key)


@contextmanager
def redis_server(*extra: str, tls: TlsFiles | None = None) -> Iterator[int]:
    """A Redis on a free port; `extra` are more `--option value` arguments; `tls` serves TLS only."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not found: install it (apt-get install redis-server) to run this test")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="svccheck-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--loglevel", "notice", *extra,
         *(["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tls.cert),
            "--tls-key-file", str(tls.key), "--tls-auth-clients", "no"] if tls else [])],
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
def postgres_server(ca: trustme.CA | None = None) -> Iterator[int]:
    """A PostgreSQL on a free port; with `ca`, TLS on with a certificate it issued for localhost."""
    with postgres_instance(ca) as server:
        yield server.port


@dataclass(frozen=True)
class PostgresInstance:
    """A running PostgreSQL: its port, and its own tools (as its user) to drive it."""

    port: int
    bindir: Path
    data: Path
    prefix: tuple[str, ...]  # runuser -u nobody --, as root

    def tool(self, name: str, *args: str) -> list[str]:
        """The command line of one of its tools (`pg_ctl`, `psql`, `pg_isready`), run as its user."""
        return [*self.prefix, str(self.bindir / name), *args]


@contextmanager
def postgres_instance(ca: trustme.CA | None = None) -> Iterator[PostgresInstance]:
    """`postgres_server`, for tests that drive the server itself (a smart shutdown)."""
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
    if ca is not None:
        tls = write_tls_files(ca, workdir)
        if prefix:  # the server reads its key as its own user, and only from a private file
            for path in (tls.cert, tls.key):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        options += f" -c ssl=on -c ssl_cert_file={tls.cert} -c ssl_key_file={tls.key}"
    # -w: pg_ctl returns once the server accepts connections
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start")
    try:
        yield PostgresInstance(port, bindir, data, tuple(prefix))
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=READY_TIMEOUT,
            check=False,
        )
        shutil.rmtree(workdir, ignore_errors=True)


def stop_process(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def prometheus_binaries() -> tuple[str, str]:
    """`prometheus` and `promtool`, or a skip that says how to install them."""
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus is None or promtool is None:
        pytest.skip(
            "prometheus/promtool not found: install them (apt-get install --no-install-recommends prometheus) "
            "to run this test"
        )
    return prometheus, promtool


@contextmanager
def prometheus_server(config: str, directory: Path) -> Iterator[str]:
    """A Prometheus on a free loopback port with `config` as its prometheus.yml (rule files relative
    to `directory`), its storage in `directory`; yields its base URL once /-/ready answers 200."""
    import urllib.error
    import urllib.request

    binary, _ = prometheus_binaries()
    port = free_port()
    config_file = directory / "prometheus.yml"
    config_file.write_text(config)
    log = (directory / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config_file}", f"--storage.tsdb.path={directory / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=directory,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:  # polled: Prometheus says it is ready on /-/ready, not on its output
            if process.poll() is not None:
                pytest.fail(
                    f"prometheus exited with {process.returncode}: {(directory / 'prometheus.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prometheus not ready after {READY_TIMEOUT:.0f}s")
            time.sleep(0.1)
        yield base
    finally:
        stop_process(process)
        log.close()


PROMETHEUS_CONFIG = """\
global: {scrape_interval: 1m}
scrape_configs: []
"""
