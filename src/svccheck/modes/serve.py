"""`svccheck serve`: check the fleet every interval and serve the latest results over HTTP.

Rounds run one after another on the asyncio loop — never overlapping: a round
that outlasts the interval delays the next, and each round is bounded by its
own deadline. The HTTP side is the standard library's threading server on its
own thread; it only ever reads the latest rendered results, swapped in whole
after a round completes.

- `/metrics`: Prometheus text (the `prometheus` report plus a rounds counter);
- `/report.json`: the `svccheck/report-v1` JSON report;
- `/healthz`: 200 once a round has completed, 503 before (for readiness probes).
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from svccheck.engine.prober import ProbeSettings
from svccheck.engine.rounds import Pace, Rounds
from svccheck.engine.run import Stop
from svccheck.errors import ExitCode
from svccheck.model import Report, Service
from svccheck.redact import Redactor
from svccheck.report import json as json_report
from svccheck.report.prometheus import CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE
from svccheck.report.prometheus import render_prometheus

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
ROUNDS_METRIC = """\
# HELP svccheck_serve_rounds_total Check rounds completed since svccheck serve started.
# TYPE svccheck_serve_rounds_total counter
svccheck_serve_rounds_total {rounds}
"""


@dataclass(frozen=True)
class Published:
    """One completed round, rendered once for every scrape that follows."""

    metrics: bytes
    report_json: bytes
    rounds: int


class Latest:
    """The latest published round; replaced whole, so a reader never sees half a round."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Published | None = None

    def get(self) -> Published | None:
        with self._lock:
            return self._value

    def publish(self, report: Report, redactor: Redactor, rounds: int) -> None:
        metrics = render_prometheus(report, redactor) + ROUNDS_METRIC.format(rounds=rounds)
        value = Published(metrics.encode(), json_report.render(report, redactor).encode(), rounds)
        with self._lock:
            self._value = value


def make_handler(latest: Latest) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "svccheck"
        sys_version = ""

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            path = self.path.split("?", 1)[0]
            published = latest.get()
            if path not in ("/metrics", "/report.json", "/healthz", "/"):
                self._send(404, TEXT_CONTENT_TYPE, b"not found: try /metrics or /report.json\n", with_body)
            elif path == "/":
                self._send(
                    200, TEXT_CONTENT_TYPE, b"svccheck serve: /metrics /report.json /healthz\n", with_body
                )
            elif published is None:
                self._send(503, TEXT_CONTENT_TYPE, b"no results yet: the first round is running\n", with_body)
            elif path == "/metrics":
                self._send(200, PROMETHEUS_CONTENT_TYPE, published.metrics, with_body)
            elif path == "/report.json":
                self._send(200, JSON_CONTENT_TYPE, published.report_json, with_body)
            else:
                self._send(200, TEXT_CONTENT_TYPE, b"ok\n", with_body)

        def _send(self, status: int, content_type: str, body: bytes, with_body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds would drown the round log

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def start_http(host: str, port: int, latest: Latest) -> ThreadingHTTPServer:
    """Listening on return (port 0 picks a free one: read `server.server_address`)."""
    server = (
        _Server((host, port), make_handler(latest))
        if ":" not in host
        else _Server6((host, port), make_handler(latest))
    )
    threading.Thread(target=server.serve_forever, name="svccheck-serve-http", daemon=True).start()
    return server


async def run_rounds(
    services: Sequence[Service],
    settings: ProbeSettings,
    latest: Latest,
    redactor: Redactor,
    *,
    manifest_path: str,
    interval: float,
    round_timeout: float,
    strict: bool,
    stop: Stop,
    log: Callable[[str], None],
) -> ExitCode:
    """Run rounds until a signal stops them; each complete round is published."""
    pace = Pace.between_starts(interval, round_timeout=round_timeout)
    serving = Rounds(lambda: services, settings, pace, stop=stop, manifest_path=manifest_path, strict=strict)
    async for round_ in serving:
        if round_.cut_short:
            break  # a round cut short by the signal is not published
        redactor.learn_report(round_.report)
        latest.publish(round_.report, redactor, round_.number)
        log(_round_line(round_.number, round_.report))
    return serving.exit_code  # a signal is how serve ends: 0 (run.ON_SIGNAL)


def _round_line(rounds: int, report: Report) -> str:
    s = report.summary
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        f"{now} round {rounds}: {report.verdict.value}, {s.healthy}/{s.services} services healthy, "
        f"{s.checks_failed} checks failed, {s.checks_warned} warned, in {s.duration:.2f}s"
    )


def log_to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def serve_until_stopped(
    host: str,
    port: int,
    services: Sequence[Service],
    settings: ProbeSettings,
    redactor: Redactor,
    *,
    manifest_path: str,
    interval: float,
    round_timeout: float,
    strict: bool,
) -> ExitCode:
    """The whole of `svccheck serve`: listen, say where on stdout, run rounds until a signal, close.

    A port that cannot be bound is a usage error (nothing was probed). Serving is
    ended by SIGINT or SIGTERM: that is its normal way out, exit 0.
    """
    from svccheck.engine.run import run_with_signals
    from svccheck.errors import UsageError

    latest = Latest()
    try:
        server = start_http(host, port, latest)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    sys.stdout.write(f"listening on http://{shown}:{bound_port} (/metrics, /report.json, /healthz)\n")
    sys.stdout.flush()

    try:
        return run_with_signals(
            lambda stop: run_rounds(
                services,
                settings,
                latest,
                redactor,
                manifest_path=manifest_path,
                interval=interval,
                round_timeout=round_timeout,
                strict=strict,
                stop=stop,
                log=log_to_stderr,
            ),
            "serve",
        )
    finally:
        server.shutdown()
        server.server_close()
