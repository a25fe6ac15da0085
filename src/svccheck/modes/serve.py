"""`svccheck serve`: check the fleet every interval and serve the latest results over HTTP.

Rounds run one after another on the asyncio loop — never overlapping: a round
that outlasts the interval delays the next, and each round is bounded by its
own deadline. The HTTP side is the standard library's threading server on its
own thread; it only ever reads the latest rendered results, swapped in whole
after a round completes.

- `/metrics`: Prometheus text (the `prometheus` report plus a rounds counter);
- `/report.json`: the `svccheck/report-v1` JSON report;
- `/healthz`: 200 once a round has completed, 503 before (for readiness probes);
- `/probe?service=NAME`: probe on demand, within the scrape's timeout (`serve_probe`);
- `/targets`: the services as Prometheus HTTP service discovery (`report.targets`).

With `--probe-only` no rounds run: `/probe` and `/targets` are the whole of it,
and `/healthz` answers 200 at once. `--shard i/N` probes a share of the services
in the rounds (`engine.shard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from svccheck.engine.prober import ProbeSettings
from svccheck.engine.rounds import Pace, Rounds
from svccheck.engine.run import Stop
from svccheck.engine.shard import Shard
from svccheck.errors import ExitCode
from svccheck.model import Report, Service
from svccheck.modes.serve_probe import DEFAULT_MAX_CONCURRENT, TIMEOUT_HEADER, Prober
from svccheck.redact import Redactor
from svccheck.report import json as json_report
from svccheck.report.prometheus import CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE
from svccheck.report.prometheus import render_prometheus
from svccheck.report.targets import CONTENT_TYPE as TARGETS_CONTENT_TYPE
from svccheck.report.targets import render as render_targets

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

    def publish_probe_only(self) -> None:
        """`--probe-only`: no round will come; /metrics has the rounds counter (0), no report."""
        value = Published(ROUNDS_METRIC.format(rounds=0).encode(), b"", 0)
        with self._lock:
            self._value = value


@dataclass(frozen=True)
class OnDemand:
    """What `/probe` and `/targets` answer with (`serve_probe`)."""

    prober: Prober
    targets: bytes  # the services as HTTP service discovery JSON, rendered once


def make_handler(latest: Latest, on_demand: OnDemand | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "svccheck"
        sys_version = ""

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            path, _, query = self.path.partition("?")
            published = latest.get()
            if on_demand is not None and path == "/probe":
                answer = on_demand.prober.answer(query, self.headers.get(TIMEOUT_HEADER))
                content_type = PROMETHEUS_CONTENT_TYPE if answer.status == 200 else TEXT_CONTENT_TYPE
                self._send(answer.status, content_type, answer.body, with_body)
            elif on_demand is not None and path == "/targets":
                self._send(200, TARGETS_CONTENT_TYPE, on_demand.targets, with_body)
            elif path not in ("/metrics", "/report.json", "/healthz", "/"):
                self._send(404, TEXT_CONTENT_TYPE, b"not found: try /metrics or /report.json\n", with_body)
            elif path == "/":
                self._send(
                    200,
                    TEXT_CONTENT_TYPE,
                    b"svccheck serve: /metrics /report.json /healthz /probe?service=NAME /targets\n",
                    with_body,
                )
            elif published is None:
                self._send(503, TEXT_CONTENT_TYPE, b"no results yet: the first round is running\n", with_body)
            elif path == "/metrics":
                probes = b"" if on_demand is None else on_demand.prober.metrics().encode()
                self._send(200, PROMETHEUS_CONTENT_TYPE, published.metrics + probes, with_body)
            elif path == "/report.json" and not published.report_json:
                self._send(404, TEXT_CONTENT_TYPE, b"no rounds run (--probe-only): ask /probe\n", with_body)
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


def start_http(
    host: str, port: int, latest: Latest, on_demand: OnDemand | None = None
) -> ThreadingHTTPServer:
    """Listening on return (port 0 picks a free one: read `server.server_address`)."""
    handler = make_handler(latest, on_demand)
    server = _Server((host, port), handler) if ":" not in host else _Server6((host, port), handler)
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
    location: str | None = None,
    rendering: threading.Lock | None = None,
    on_report: Callable[[Report], None] | None = None,
) -> ExitCode:
    """Run rounds until a signal stops them; each complete round is published (with `location`)."""
    pace = Pace.between_starts(interval, round_timeout=round_timeout)
    serving = Rounds(lambda: services, settings, pace, stop=stop, manifest_path=manifest_path, strict=strict)
    async for round_ in serving:
        if round_.cut_short:
            break  # a round cut short by the signal is not published
        report = round_.report if location is None else replace(round_.report, location=location)
        with rendering or contextlib.nullcontext():  # /probe renders with the same redactor, on its threads
            redactor.learn_report(report)
            latest.publish(report, redactor, round_.number)
        if on_report is not None:
            on_report(report)
        log(_round_line(round_.number, report))
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
    shard: Shard | None = None,
    probe_only: bool = False,
    max_concurrent_probes: int = DEFAULT_MAX_CONCURRENT,
    location: str | None = None,
    otlp: str | None = None,
) -> ExitCode:
    """The whole of `svccheck serve`: listen, say where on stdout, run rounds until a signal, close.

    A port that cannot be bound is a usage error (nothing was probed). Serving is
    ended by SIGINT or SIGTERM: that is its normal way out, exit 0. `/probe` may
    ask for any selected service; the rounds probe only `shard`'s (all without one).
    """
    from svccheck.engine.run import run_with_signals
    from svccheck.errors import UsageError

    latest = Latest()
    rendering = threading.Lock()
    spans = None
    if otlp is not None:
        from svccheck.modes.serve_spans import SpanSender  # opentelemetry, only with --otlp

        spans = SpanSender(otlp, redactor, rendering, log_to_stderr)
    on_report = None if spans is None else spans.send
    prober = Prober(
        services,
        settings,
        redactor,
        manifest_path=manifest_path,
        strict=strict,
        max_concurrent=max_concurrent_probes,
        location=location,
        rendering=rendering,
        on_report=on_report,
    )
    on_demand = OnDemand(prober, render_targets(services, redactor).encode())
    rounds_of = services if shard is None else shard.select(services)
    if shard is not None and not rounds_of and not probe_only:
        log_to_stderr(f"shard {shard} has none of the {len(services)} services: no rounds, /probe only")
    if probe_only or not rounds_of:
        latest.publish_probe_only()
    try:
        server = start_http(host, port, latest, on_demand)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    sys.stdout.write(
        f"listening on http://{shown}:{bound_port} (/metrics, /report.json, /healthz, /probe, /targets)\n"
    )
    sys.stdout.flush()

    async def main(stop: Stop) -> ExitCode:
        prober.attach(asyncio.get_running_loop())  # /probe hands its probes to this loop
        try:
            if probe_only or not rounds_of:
                await stop.event.wait()
                return stop.exit_code
            return await run_rounds(
                rounds_of,
                settings,
                latest,
                redactor,
                manifest_path=manifest_path,
                interval=interval,
                round_timeout=round_timeout,
                strict=strict,
                stop=stop,
                log=log_to_stderr,
                location=location,
                rendering=rendering,
                on_report=on_report,
            )
        finally:
            prober.attach(None)

    try:
        return run_with_signals(main, "serve")
    finally:
        server.shutdown()
        server.server_close()
        if spans is not None:
            spans.close()
