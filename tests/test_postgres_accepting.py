"""`protocol: postgres` means accepting connections, as pg_isready says it, and TCP timeouts say where.

A real PostgreSQL in smart shutdown (one session held open) still answers the SSLRequest
with `N`, then refuses every login with 57P03: svccheck must fail it. The captured wire
answers of tests/fixtures/real-world/ (postgres-*, redis-*) are replayed from a loopback
listener.
"""

from __future__ import annotations

import ast
import asyncio
import socket
import socketserver
import struct
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.real_services import free_port, postgres_instance, redis_server
from support.servers import tcp_listener
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import ManifestError, parse_manifest
from svccheck.model import CheckResult

FIXTURES = Path(__file__).parent / "fixtures" / "real-world"
SHUTTING_DOWN = "postgres rejecting connections: the database system is shutting down (SQLSTATE 57P03)"


def check(url: str, protocol: str, **extra: str) -> CheckResult:
    keys = "".join(f", {k}: {v}" for k, v in extra.items())
    text = f"""
        defaults: {{retries: 0, timeout: 5s}}
        services:
          db: {{url: "{url}", protocol: {protocol}{keys}}}
    """
    manifest = parse_manifest(textwrap.dedent(text), "services.yaml", environ={})
    report = asyncio.run(execute(manifest.services, ProbeSettings()))
    return report.services[0].checks[0]


def captured(name: str, label: str) -> bytes:
    """The bytes after `label` in a wire capture (`SSLRequest answer: b'N'`)."""
    for line in (FIXTURES / name).read_text().splitlines():
        if line.startswith(label):
            value = ast.literal_eval(line[len(label) :].strip())
            assert isinstance(value, bytes)
            return value
    raise AssertionError(f"{label!r} not in {name}")


def _read_message(sock: socket.socket) -> bytes:
    """One length-prefixed startup-phase message (SSLRequest, StartupMessage)."""
    head = sock.recv(4, socket.MSG_WAITALL)
    (length,) = struct.unpack("!I", head)
    return head + sock.recv(length - 4, socket.MSG_WAITALL)


def postgres_replaying(ssl_answer: bytes, startup_answer: bytes) -> type[socketserver.BaseRequestHandler]:
    """A listener answering as a captured PostgreSQL did: the SSLRequest, then the StartupMessage."""

    class Replay(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            _read_message(self.request)
            self.request.sendall(ssl_answer)
            startup = _read_message(self.request)
            assert struct.unpack("!I", startup[4:8])[0] == 196608  # protocol 3.0
            assert b"user\0postgres\0" in startup and b"password" not in startup
            self.request.sendall(startup_answer)
            self.request.recv(16)  # until the client closes (or says Terminate)

    return Replay


def error_response(code: str, message: str) -> bytes:
    fields = f"SFATAL\0VFATAL\0C{code}\0M{message}\0\0".encode()
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


@pytest.fixture
def held_in_smart_shutdown() -> Iterator[int]:
    """A real PostgreSQL told to stop smartly while one session stays open: it refuses new ones."""
    with postgres_instance() as server:
        session = subprocess.Popen(
            server.tool("psql", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-At"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert session.stdin is not None and session.stdout is not None
            session.stdin.write("select 'held';\n")
            session.stdin.flush()
            assert session.stdout.readline().strip() == "held"  # the session is open
            assert check(f"tcp://127.0.0.1:{server.port}", "postgres").verdict == "pass"
            subprocess.run(
                server.tool("pg_ctl", "-D", str(server.data), "-m", "smart", "-W", "stop"), check=True
            )
            # the signal is handled asynchronously: pg_isready says when it took effect
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                ready = subprocess.run(
                    server.tool("pg_isready", "-h", "127.0.0.1", "-p", str(server.port)),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if ready.returncode == 1:
                    assert "rejecting connections" in ready.stdout
                    break
            else:
                pytest.fail("PostgreSQL never entered its smart shutdown")
            yield server.port
        finally:
            session.kill()
            session.wait(timeout=10)


def test_a_real_postgresql_in_smart_shutdown_fails(held_in_smart_shutdown: int) -> None:
    result = check(f"tcp://127.0.0.1:{held_in_smart_shutdown}", "postgres")
    assert (result.verdict, result.failure_class, result.reason) == ("fail", "health", SHUTTING_DOWN)


@pytest.mark.parametrize(
    ("startup_answer", "verdict", "reason"),
    [
        (captured("postgres-healthy.txt", "answer to StartupMessage:"), "pass", None),
        (captured("postgres-broken-smart-shutdown.txt", "answer to StartupMessage:"), "fail", SHUTTING_DOWN),
        (
            error_response("57P03", "the database system is starting up"),
            "fail",
            "postgres rejecting connections: the database system is starting up (SQLSTATE 57P03)",
        ),
        (
            error_response("53300", "sorry, too many clients already"),
            "fail",
            "postgres too many connections: sorry, too many clients already (SQLSTATE 53300)",
        ),
        # a login refused or a database missing: the server is up and says so
        (error_response("28P01", 'password authentication failed for user "postgres"'), "pass", None),
        (error_response("28000", 'no pg_hba.conf entry for host "127.0.0.1"'), "pass", None),
        (error_response("3D000", 'database "postgres" does not exist'), "pass", None),
        # the server's words are shown, never obeyed
        (
            error_response("57P03", "\x1b]0;owned\x07going down"),
            "fail",
            "postgres rejecting connections: \\x1b]0;owned\\x07going down (SQLSTATE 57P03)",
        ),
        (
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
            "fail",
            "not a PostgreSQL server: StartupMessage answered 'HTTP/1.1 400 Bad Request\\r\\n\\r\\n'",
        ),
    ],
)
def test_the_startup_message_s_first_answer_decides(
    startup_answer: bytes, verdict: str, reason: str | None
) -> None:
    ssl_answer = captured("postgres-healthy.txt", "SSLRequest answer:")
    with tcp_listener(postgres_replaying(ssl_answer, startup_answer)) as port:
        result = check(f"tcp://127.0.0.1:{port}", "postgres")
    assert (result.verdict, result.reason) == (verdict, reason)
    if verdict == "fail" and reason and reason.startswith("postgres "):
        assert result.failure_class == "health"


def redis_replaying(answer: bytes) -> type[socketserver.BaseRequestHandler]:
    class Replay(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(64)
            self.request.sendall(answer)

    return Replay


@pytest.mark.parametrize(
    ("name", "verdict", "reason"),
    [
        ("redis-healthy.txt", "pass", None),
        ("redis-requirepass-healthy.txt", "pass", None),  # answering; wants a password
        (
            "redis-broken-loading.txt",
            "fail",
            "redis answered PING with 'LOADING Redis is loading the dataset in memory'",
        ),
        # what a PING cannot see (README, TCP checks): the cluster behind the node is down
        ("redis-broken-cluster-down.txt", "pass", None),
    ],
)
def test_captured_redis_answers_to_ping(name: str, verdict: str, reason: str | None) -> None:
    label = "request: b'*1\\r\\n$4\\r\\nPING\\r\\n' -> answer:" if "cluster" in name else "answer:"
    with tcp_listener(redis_replaying(captured(name, label))) as port:
        result = check(f"tcp://127.0.0.1:{port}", "redis")
    assert (result.verdict, result.reason) == (verdict, reason)


class _Silent(socketserver.BaseRequestHandler):
    """Accepts, reads what comes, never answers (nor handshakes TLS)."""

    def handle(self) -> None:
        self.request.settimeout(10)
        try:
            while self.request.recv(1024):
                pass
        except OSError:
            pass


@pytest.mark.parametrize(
    ("protocol", "extra", "stalled"),
    [
        ("redis", {}, "waiting for the answer to PING"),
        ("postgres", {}, "waiting for the answer to the SSLRequest"),
        ("redis", {"tls": "true"}, "in the TLS handshake"),
        ("null", {"tls": "true"}, "in the TLS handshake"),
    ],
)
def test_a_tcp_timeout_says_where_it_stalled(protocol: str, extra: dict[str, str], stalled: str) -> None:
    with tcp_listener(_Silent) as port:
        result = check(f"tcp://127.0.0.1:{port}", protocol, timeout="300ms", **extra)
    assert (result.verdict, result.failure_class) == ("fail", "timeout")
    assert result.reason == f"timed out after 300ms {stalled}"


def test_a_postgres_that_accepts_the_ssl_request_and_stalls_after_says_so() -> None:
    class Stalls(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            _read_message(self.request)
            self.request.sendall(b"N")
            _Silent.handle(self)  # type: ignore[arg-type]

    with tcp_listener(Stalls) as port:
        result = check(f"tcp://127.0.0.1:{port}", "postgres", timeout="300ms")
    assert result.reason == "timed out after 300ms waiting for the answer to the StartupMessage"


def _redis_command(port: int, *words: str) -> bytes:
    request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request.encode())
        return sock.recv(65536)


def test_redis_cluster_true_fails_a_redis_cluster_node_whose_cluster_is_down(tmp_path: Path) -> None:
    nodes = str(tmp_path / "nodes.conf")
    # the cluster bus gets a free port of its own: by default it is the port + 10,000, and Redis
    # refuses to start on an ephemeral port above 55,535 (about 1 run in 5 here)
    bus = str(free_port())
    with redis_server(
        "--cluster-enabled", "yes", "--cluster-config-file", nodes, "--cluster-port", bus
    ) as port:
        # no hash slot assigned: cluster_state:fail, and still +PONG
        assert check(f"tcp://127.0.0.1:{port}", "redis").verdict == "pass"
        down = check(f"tcp://127.0.0.1:{port}", "redis", redis_cluster="true")
        assert (down.verdict, down.failure_class) == ("fail", "health")
        assert down.reason == (
            "redis cluster_state:fail (cluster_slots_assigned:0, cluster_slots_ok:0, cluster_known_nodes:1)"
        )
        assert _redis_command(port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK\r\n"
        # the node settles its state on its own clock: CLUSTER INFO says when, bounded
        deadline = time.monotonic() + 30
        while b"cluster_state:ok" not in _redis_command(port, "CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the cluster never became ok"
        up = check(f"tcp://127.0.0.1:{port}", "redis", redis_cluster="true")
        assert (up.verdict, up.reason) == ("pass", None)
    with redis_server() as plain:  # not a cluster node at all: the manifest says otherwise
        wrong = check(f"tcp://127.0.0.1:{plain}", "redis", redis_cluster="true")
        assert (wrong.verdict, wrong.failure_class) == ("fail", "health")
        assert (
            wrong.reason
            == "redis answered CLUSTER INFO with 'ERR This instance has cluster support disabled'"
        )


def test_redis_cluster_true_without_protocol_redis_is_a_manifest_error() -> None:
    text = "services:\n  db: {url: 'tcp://127.0.0.1:5432', protocol: postgres, redis_cluster: true}\n"
    with pytest.raises(ManifestError) as raised:
        parse_manifest(text, "services.yaml", environ={})
    assert "services.yaml:2:" in str(raised.value)
    assert "redis_cluster: true asks a Redis: add protocol: redis" in str(raised.value)
