"""Health answers captured from real servers and libraries, replayed from a loopback server.

Each HTTP file of tests/fixtures/real-world/ (its README says where each comes from) is
served with its own status line, headers and body; one `svccheck all` run checks them all,
and each must get the verdict and the reason the README asks for: the *why* an on-call
engineer reads first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Raw, Request, ServerThread, raw_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "real-world"
# hop-by-hop and framing headers are rewritten: the body is sent whole, then the connection closes
_FRAMING = {"content-length", "transfer-encoding", "connection", "keep-alive"}

ECONNREFUSED_PG = "connect ECONNREFUSED 127.0.0.1:27432"
REDIS_111 = "Error 111 connecting to 127.0.0.1:27379. Connection refused."
# a message of several lines is one line in a reason, cut at 200 characters
PSYCOPG_REFUSED = (
    '(psycopg2.OperationalError) connection to server at "127.0.0.1", port 27432 failed: Connection refused '
    "Is the server running on that host and accepting TCP/IP connections? (Background on this error a…"
)

# file (without .txt) → (verdict, reason) of its health check
EXPECTED: dict[str, tuple[str, str | None]] = {
    # IETF health+json with the checks under `details`, each value one node
    "maikai-healthy": ("pass", None),
    "maikai-degraded-redis-memory-warn": (
        "warn",
        "degraded: component redis:memory: warn (used_memory 989400 above 1000)",
    ),
    "maikai-broken-redis-down": (
        "fail",
        "HTTP 503, component redis:responseTime: fail (Connection is closed.), "
        "component redis:memory: fail (Connection is closed.)",
    ),
    "maikai-broken-postgres-down": (
        "fail",
        f"HTTP 503, component postgres:responseTime: fail ({ECONNREFUSED_PG})",
    ),
    # MicroProfile-like, `state` instead of `status`
    "cloudnative-health-healthy": ("pass", None),
    "cloudnative-health-broken-redis-down": (
        "fail",
        "HTTP 503, component redis: DOWN (Connection is closed.)",
    ),
    "cloudnative-health-broken-postgres-down": (
        "fail",
        f"HTTP 503, component postgres: DOWN ({ECONNREFUSED_PG})",
    ),
    "cloudnative-health-starting": ("fail", "HTTP 503, component warmup: STARTING"),
    # the body's own top-level reason when no component explains the failure
    "rabbitmq-alarms-healthy": ("pass", None),
    "rabbitmq-alarms-broken-memory-alarm": (
        "fail",
        "HTTP 503, health status failed (There are alarms in effect in the cluster)",
    ),
    "rabbitmq-local-alarms-healthy": ("pass", None),
    "rabbitmq-local-alarms-broken-memory-alarm": (
        "fail",
        "HTTP 503, health status failed (There are alarms in effect on the node)",
    ),
    "rabbitmq-aliveness-healthy": ("pass", None),
    "rabbitmq-node-is-quorum-critical-healthy": ("pass", None),
    "rabbitmq-port-listener_27672-healthy": ("pass", None),
    "rabbitmq-port-listener_27672-during-memory-alarm": ("pass", None),
    "rabbitmq-port-listener_27999-broken-no-listener": (
        "fail",
        "HTTP 503, health status failed (No active listener)",
    ),
    "rabbitmq-virtual-hosts-healthy": ("pass", None),
    "rabbitmq-virtual-hosts-during-memory-alarm": ("pass", None),
    # "true" / "false" strings under a status key, sent as text/plain
    "etcd-healthy": ("pass", None),
    "etcd-broken-nospace-alarm": ("fail", "HTTP 503, health false"),
    # Spring Boot 2.0 `details`, the error text under `details.failure`
    "pyctuator-healthy": ("pass", None),
    "pyctuator-broken-redis-down": (
        "fail",
        f"HTTP 503, component redis: DOWN ({REDIS_111}), component datastores/cache: DOWN ({REDIS_111})",
    ),
    "pyctuator-broken-postgres-down": (
        "fail",
        f"HTTP 503, component db: DOWN ({PSYCOPG_REFUSED}), component datastores/primary: DOWN ({PSYCOPG_REFUSED})",
    ),
    # lists of named results with a boolean
    "py-healthcheck-flask-healthy": ("pass", None),
    "py-healthcheck-flask-broken-redis-down-within-cache-ttl": ("pass", None),  # its cache still says passed
    "py-healthcheck-flask-broken-redis-down": (
        "fail",
        f"HTTP 500, component redis_available: failed ({REDIS_111})",
    ),
    "fastapi-healthchecks-readiness-healthy": ("pass", None),
    "fastapi-healthchecks-readiness-broken-redis-down": (
        "fail",
        # a Python traceback says what happened on its last line
        "HTTP 503, component Redis: failed (redis.exceptions.ConnectionError: Error 111 connecting to "
        "127.0.0.1:27379. Connect call failed ('127.0.0.1', 27379).)",
    ),
    # already read right: keep them
    "godaddy-terminus-readyz-healthy": ("pass", None),
    "godaddy-terminus-readyz-broken-redis-down": (
        "fail",
        "HTTP 503, component redis: down (Connection is closed.)",
    ),
    "godaddy-terminus-readyz-broken-postgres-down": (
        "fail",
        f"HTTP 503, component postgres: down ({ECONNREFUSED_PG})",
    ),
    "godaddy-terminus-readyz-shutting-down": ("fail", "HTTP 503, health status error"),
    "nestjs-terminus-healthy": ("pass", None),
    "nestjs-terminus-broken-redis-down": ("fail", "HTTP 503, component redis: down (Connection is closed.)"),
    "nestjs-terminus-broken-postgres-down": ("fail", "HTTP 503, component database: down"),
    "nestjs-terminus-broken-upstream-down": (
        "fail",
        "HTTP 503, component upstream: down (connect ECONNREFUSED 127.0.0.1:27081)",
    ),
    "nestjs-terminus-shutting-down": ("fail", "HTTP 503, health status shutting_down"),
    "hmcts-health-healthy": ("pass", None),
    "hmcts-health-broken-redis-down": ("fail", "HTTP 503, component redis: DOWN (Connection is closed.)"),
    "hmcts-health-broken-postgres-down": ("fail", f"HTTP 503, component postgres: DOWN ({ECONNREFUSED_PG})"),
    "fastapi-health-healthy": ("pass", None),
    "fastapi-health-broken-redis-down": ("fail", "expected status 2xx, got 503"),
    "fastapi-health-details-healthy": ("pass", None),
    "fastapi-health-details-broken-redis-down": ("fail", "expected status 2xx, got 503"),
    "express-actuator-healthy": ("pass", None),
    "influxdb-ping-healthy": ("pass", None),
    # text bodies: the status code says it
    "prometheus-healthy": ("pass", None),
    "prometheus-ready-healthy": ("pass", None),
    "prometheus-ready-starting": ("fail", "expected status 2xx, got 503"),
    # content-negotiated: what `init` probed with decides which body is judged (tests/test_init.py)
    "django-health-check-healthy-accept-json": ("pass", None),
    "django-health-check-healthy-accept-any": ("pass", None),
    "django-health-check-broken-redis-down-accept-json": ("fail", "expected status 2xx, got 500"),
    "django-health-check-broken-redis-down-accept-any": ("fail", "expected status 2xx, got 500"),
}


def http_fixtures() -> list[str]:
    """Every captured HTTP answer: postgres-* and redis-* hold wire bytes (tests/test_tcp.py)."""
    return sorted(
        path.stem for path in FIXTURES.glob("*.txt") if not path.name.startswith(("postgres-", "redis-"))
    )


def captured_answer(name: str) -> bytes:
    """The file's answer as bytes on the wire: its status line and headers, the body it sent."""
    raw = (FIXTURES / f"{name}.txt").read_bytes()
    lines = raw.split(b"\n")
    while lines[0].startswith(b"#"):  # the capture's notes: the request, when
        lines.pop(0)
    head_end = [line.rstrip(b"\r") for line in lines].index(b"")
    status_line, headers = lines[0].rstrip(b"\r"), [line.rstrip(b"\r") for line in lines[1:head_end]]
    body = b"\n".join(lines[head_end + 1 :])
    kept = []
    for header in headers:
        key, _, value = header.partition(b":")
        if key.strip().lower() == b"content-length":
            body = body[: int(value)]  # the file ends with a newline the server did not send
        elif key.strip().lower().decode() not in _FRAMING:
            kept.append(header)
    if not any(h.lower().startswith(b"content-length") for h in headers):
        body = body.rstrip(b"\n")  # sent chunked: the body is what the chunks held
    head = [status_line, *kept, b"Content-Length: %d" % len(body), b"Connection: close"]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _replaying(answer: bytes) -> object:
    async def handler(request: Request) -> Raw:
        return raw_bytes(answer)

    return handler


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str | None]]:
    """One `svccheck all` over every captured answer: file → (verdict, reason)."""
    servers = ServerThread().start()
    try:
        lines = ["defaults: {retries: 0, timeout: 10s}", "services:"]
        for name in http_fixtures():
            port = servers.add(_replaying(captured_answer(name)))  # type: ignore[arg-type]
            lines.append(f"  {name}: {{url: 'http://127.0.0.1:{port}', health: /health}}")
        path = tmp_path_factory.mktemp("real-world") / "services.yaml"
        path.write_text("\n".join(lines) + "\n")
        result = run_cli("all", "-f", str(path), "--format", "json", timeout=120)
    finally:
        servers.stop()
    assert_no_traceback(result)
    data = json.loads(result.stdout)
    return {s["name"]: (s["checks"][0]["verdict"], s["checks"][0]["reason"]) for s in data["services"]}


def test_every_captured_answer_has_its_expectation() -> None:
    assert sorted(EXPECTED) == http_fixtures()


@pytest.mark.parametrize("name", http_fixtures())
def test_a_real_answer_reads_as_its_readme_says(
    name: str, verdicts: dict[str, tuple[str, str | None]]
) -> None:
    assert verdicts[name] == EXPECTED[name]
