"""Interop: svccheck against real servers and libraries, healthy and broken, on loopback.

    .venv/bin/python bench/interop.py [--write-doc] [--budget 600]

Starts each server that installs here from the registries and is found on this machine —
Debian's `prometheus`, `prometheus-alertmanager`, `prometheus-pushgateway`, `etcd-server`,
`redis-server` and `postgresql`; from PyPI, py-healthcheck on Flask in a throwaway
virtualenv — on an ephemeral 127.0.0.1 port in a temporary directory. For an HTTP server,
`svccheck init URL` writes the manifest and `svccheck all` runs it; then the server is broken
(its dependency stopped, a smart shutdown, the server itself stopped) and `all` runs again on
the same manifest. A server that is not installed is listed as such, never fetched from
elsewhere. Every step has a timeout, and the whole run stops starting servers past
`--budget` seconds.

It prints a Markdown table (server, version, format, state, what svccheck said); with
`--write-doc` it rewrites docs/interop.md with it. Not part of the test run: it takes about two
minutes and needs the packages above (`apt-get install -y --no-install-recommends prometheus
prometheus-alertmanager prometheus-pushgateway etcd-server redis-server postgresql`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the suite's real-server starters: one way to start each

from support.real_services import postgres_instance, redis_server  # noqa: E402

DOC = ROOT / "docs" / "interop.md"
STEP_TIMEOUT = 60.0
READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class Row:
    server: str
    version: str
    fmt: str  # what it sends, as svccheck read it
    state: str
    said: str  # verdict and reason


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def svccheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "svccheck", *args],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )


def verdict(manifest: Path) -> tuple[str, str]:
    """`svccheck all` on the manifest: (the health check's URL path, `verdict: reason`)."""
    result = svccheck("all", "-f", str(manifest), "--format", "json", "--retries", "0")
    try:
        check = json.loads(result.stdout)["services"][0]["checks"][0]
    except (ValueError, KeyError, IndexError):
        return "", f"no report (exit {result.returncode}): {result.stderr.strip()[:200]}"
    said = check["verdict"] + (f": {check['reason']}" if check.get("reason") else "")
    return str(check.get("url", "")), said


def wait_answering(url: str) -> None:
    """Until `url` answers at all (a server's port opens before it serves): bounded polling."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answered, if not with 2xx
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {READY_TIMEOUT:.0f}s")


@contextlib.contextmanager
def process(command: list[str], ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_answering(ready_url)
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def version_of(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    found = re.search(r"\d+\.\d+(?:\.\d+)?", out.stdout or out.stderr)
    return found.group(0) if found else "?"


def init_and_check(url: str, workdir: Path) -> tuple[Path, str, str]:
    """`init URL`, then `all`: the manifest, the format init named, what `all` said."""
    manifest = workdir / f"services-{free_port()}.yaml"
    result = svccheck("init", url, "-f", str(manifest), "--force")
    found = result.stdout.strip().splitlines()[0].strip() if result.stdout.strip() else result.stderr.strip()
    path, said = verdict(manifest)
    fmt = found.split(": ", 1)[1] if ": " in found else found
    where = urlsplit(path).path or "/"
    return manifest, f"`{where}`: {fmt}", said


# --- the servers ---------------------------------------------------------------------------


Scenario = Callable[[Path], list["Row"]]


def prometheus_family(binary: str, name: str, args: Callable[[int, Path], list[str]]) -> Scenario:
    def run(workdir: Path) -> list[Row]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        version = version_of([binary, "--version"])
        with process([binary, *args(port, workdir)], f"{url}/-/healthy") as proc:
            manifest, fmt, said = init_and_check(url, workdir)
            rows = [Row(name, version, fmt, "healthy", said)]
            stop(proc)
            rows.append(Row(name, version, fmt, "stopped", verdict(manifest)[1]))
        return rows

    return run


def _prometheus_args(port: int, workdir: Path) -> list[str]:
    config = workdir / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1m}\nscrape_configs: []\n")
    return [f"--config.file={config}", f"--storage.tsdb.path={workdir / 'prom'}",
            f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip


def _alertmanager_args(port: int, workdir: Path) -> list[str]:
    config = workdir / "alertmanager.yml"
    config.write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
    return [f"--config.file={config}", f"--storage.path={workdir / 'am'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]  # fmt: skip


def _pushgateway_args(port: int, workdir: Path) -> list[str]:
    return [f"--web.listen-address=127.0.0.1:{port}"]


def etcd(workdir: Path) -> list[Row]:
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    command = ["etcd", "--data-dir", str(workdir / "etcd"), "--listen-client-urls", url,
               "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
               "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
               "--initial-cluster", f"default=http://127.0.0.1:{peer}"]  # fmt: skip
    version = version_of(["etcd", "--version"])
    with process(command, f"{url}/health") as proc:
        manifest, fmt, said = init_and_check(url, workdir)
        rows = [Row("etcd", version, fmt, "healthy", said)]
        stop(proc)
        rows.append(Row("etcd", version, fmt, "stopped", verdict(manifest)[1]))
    return rows


def tcp_manifest(workdir: Path, port: int, protocol: str, extra: str = "") -> Path:
    manifest = workdir / f"tcp-{port}{extra.split(':')[0]}.yaml"
    manifest.write_text(
        "defaults: {retries: 0, timeout: 3s}\nservices:\n"
        f"  db: {{url: 'tcp://127.0.0.1:{port}', protocol: {protocol}{', ' + extra if extra else ''}}}\n"
    )
    return manifest


def redis(workdir: Path) -> list[Row]:
    version = version_of(["redis-server", "--version"])
    rows = []
    with redis_server() as port:
        manifest = tcp_manifest(workdir, port, "redis")
        rows.append(Row("Redis", version, "RESP `PING`", "healthy", verdict(manifest)[1]))
    rows.append(Row("Redis", version, "RESP `PING`", "stopped", verdict(manifest)[1]))
    cluster = ("--cluster-enabled", "yes", "--cluster-config-file", str(workdir / "nodes.conf"))
    with redis_server(*cluster) as port:
        said = verdict(tcp_manifest(workdir, port, "redis"))[1]
        state = "cluster node, no slots (`cluster_state:fail`)"
        rows.append(Row("Redis", version, "RESP `PING`", state, said))
        said = verdict(tcp_manifest(workdir, port, "redis", "redis_cluster: true"))[1]
        rows.append(Row("Redis", version, "`PING` + `CLUSTER INFO` (`redis_cluster: true`)", state, said))
    return rows


WIRE = "SSLRequest + StartupMessage"


def postgres(workdir: Path) -> list[Row]:
    rows = []
    with postgres_instance() as server:
        version = version_of([str(server.bindir / "postgres"), "--version"])
        manifest = tcp_manifest(workdir, server.port, "postgres")
        rows.append(Row("PostgreSQL", version, WIRE, "healthy", verdict(manifest)[1]))
        session = subprocess.Popen(
            server.tool("psql", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-At"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert session.stdin is not None and session.stdout is not None
            session.stdin.write("select 1;\n")
            session.stdin.flush()
            session.stdout.readline()  # the session is open
            stop_smart = server.tool("pg_ctl", "-D", str(server.data), "-m", "smart", "-W", "stop")
            subprocess.run(stop_smart, check=True, capture_output=True)
            deadline = time.monotonic() + READY_TIMEOUT
            isready = server.tool("pg_isready", "-h", "127.0.0.1", "-p", str(server.port))
            while time.monotonic() < deadline:
                if subprocess.run(isready, capture_output=True, check=False).returncode == 1:
                    break  # "rejecting connections": the shutdown took effect
                time.sleep(0.1)
            state = "smart shutdown, one session open"
            rows.append(Row("PostgreSQL", version, WIRE, state, verdict(manifest)[1]))
        finally:
            session.kill()
            session.wait(timeout=10)
    return rows


FLASK_APP = """
import socket, sys
from flask import Flask
from healthcheck import HealthCheck

app = Flask(__name__)
health = HealthCheck(success_ttl=0, failed_ttl=0)

def redis_available():
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=2) as sock:
            sock.sendall(b"*1\\r\\n$4\\r\\nPING\\r\\n")
            return sock.recv(64).startswith(b"+PONG"), "redis ok"
    except OSError as exc:
        return False, f"Error {exc.errno} connecting to redis. {exc.strerror}."

health.add_check(redis_available)
app.add_url_rule("/healthcheck", "healthcheck", view_func=health.run)
app.run(host="127.0.0.1", port=int(sys.argv[1]))
"""


def py_healthcheck(workdir: Path) -> list[Row]:
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=STEP_TIMEOUT)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "py-healthcheck", "flask"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    if pip.returncode != 0:
        return [Row("py-healthcheck (Flask)", "?", "", "not installed", "pip install failed")]
    python = str(venv / "bin" / "python")
    version = version_of([python, "-c", "import importlib.metadata as m; print(m.version('py-healthcheck'))"])
    app = workdir / "app.py"
    app.write_text(FLASK_APP)
    rows = []
    with contextlib.ExitStack() as dependency:
        redis_port = dependency.enter_context(redis_server())
        port = free_port()
        url = f"http://127.0.0.1:{port}/healthcheck"
        with process([python, str(app), str(port), str(redis_port)], url):
            manifest, fmt, said = init_and_check(url, workdir)
            name = "py-healthcheck (Flask)"
            rows.append(Row(name, version, fmt, "healthy", said))
            dependency.close()  # the Redis it checks stops; the app goes on
            rows.append(Row(name, version, fmt, "its Redis stopped", verdict(manifest)[1]))
    return rows


SERVERS: list[tuple[str, str, Scenario]] = [
    ("Prometheus", "prometheus", prometheus_family("prometheus", "Prometheus", _prometheus_args)),
    ("Alertmanager", "prometheus-alertmanager",
     prometheus_family("prometheus-alertmanager", "Alertmanager", _alertmanager_args)),
    ("Pushgateway", "prometheus-pushgateway",
     prometheus_family("prometheus-pushgateway", "Pushgateway", _pushgateway_args)),
    ("etcd", "etcd", etcd),
    ("Redis", "redis-server", redis),
    ("PostgreSQL", "", postgres),
    ("py-healthcheck (Flask)", "", py_healthcheck),
]  # fmt: skip


def run_all(budget: float) -> list[Row]:
    start = time.monotonic()
    rows: list[Row] = []
    for name, binary, scenario in SERVERS:
        if time.monotonic() - start > budget:
            rows.append(Row(name, "", "", "not run", f"past the {budget:.0f}s budget"))
            continue
        if binary and shutil.which(binary) is None:
            rows.append(Row(name, "", "", "not installed", f"apt-get install {binary}"))
            continue
        with tempfile.TemporaryDirectory(prefix="svccheck-interop-") as tmp:
            try:
                rows.extend(scenario(Path(tmp)))
            except BaseException as exc:  # pytest.skip from a starter is a BaseException
                if isinstance(exc, KeyboardInterrupt):
                    raise
                rows.append(Row(name, "", "", "not run", f"{type(exc).__name__}: {str(exc)[:160]}"))
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| server | version | what it sends (as `init` read it) | state | what svccheck said |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in rows:
        cells = [row.server, row.version, row.fmt, row.state, row.said]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--write-doc", action="store_true", help=f"rewrite {DOC.relative_to(ROOT)}")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds; no server starts after it")
    options = parser.parse_args()
    began = time.monotonic()
    rows = run_all(options.budget)
    text = table(rows)
    sys.stdout.write(text)
    if options.write_doc:
        head = DOC.read_text().split("<!-- interop:start -->")[0]
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        took = time.monotonic() - began
        DOC.write_text(
            f"{head}<!-- interop:start -->\nLatest run: {when}, {took:.0f} s "
            f"(`.venv/bin/python bench/interop.py --write-doc`).\n\n{text}<!-- interop:end -->\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
