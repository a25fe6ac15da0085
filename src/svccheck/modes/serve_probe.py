"""`GET /probe` and `GET /targets` on `svccheck serve`: Prometheus decides what to probe, and when.

The multi-target exporter pattern (blackbox_exporter's): Prometheus discovers
the services from `/targets` (HTTP service discovery), relabels each into
`/probe?service=NAME` on one of N replicas (`hashmod`), and every scrape
probes just that service, on demand, with retries and failure classes.

A probe is bounded by the scrape: Prometheus sends its timeout in
`X-Prometheus-Scrape-Timeout-Seconds`, and the probe gets that minus a margin
(a quarter of it, at most `MARGIN`), so its answer is written before Prometheus
gives up on it. A check still running then fails with class `deadline` and the
answer says so; nothing of the probe outlives the scrape. At most
`--max-concurrent-probes` run at once; a scrape that cannot get a slot within
its own time is answered 503.

Probes run on `serve`'s event loop (beside its rounds) and are handed to it
from the HTTP threads with `asyncio.run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import parse_qs

from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import Selection, SelectionError, execute, select
from svccheck.model import Manifest, Report, Service
from svccheck.redact import Redactor
from svccheck.report.probe_metrics import render_probe

TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
DEFAULT_SCRAPE_TIMEOUT = 10.0  # seconds: Prometheus's own default, when no header says otherwise
MARGIN = 0.5  # seconds at most kept back from the scrape's timeout to write the answer
MIN_BUDGET = 0.05
DEFAULT_MAX_CONCURRENT = 10
PROBES_METRIC = """\
# HELP svccheck_serve_probes_total /probe requests answered since svccheck serve started.
# TYPE svccheck_serve_probes_total counter
svccheck_serve_probes_total {total}
# HELP svccheck_serve_probes_in_flight /probe requests being probed now.
# TYPE svccheck_serve_probes_in_flight gauge
svccheck_serve_probes_in_flight {in_flight}
"""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def probe_budget(header: str | None) -> float:
    """Seconds a probe may take: the scrape's timeout less a quarter of it, at most `MARGIN`."""
    try:
        timeout = float(header) if header is not None else DEFAULT_SCRAPE_TIMEOUT
    except ValueError:
        timeout = DEFAULT_SCRAPE_TIMEOUT
    if not timeout > 0 or timeout == float("inf"):  # NaN, 0, negative, inf: not a timeout
        timeout = DEFAULT_SCRAPE_TIMEOUT
    return max(MIN_BUDGET, timeout - min(MARGIN, timeout / 4))


@dataclass(frozen=True)
class ProbeRequest:
    services: tuple[str, ...]
    checks: tuple[str, ...]
    tags: tuple[str, ...]

    @classmethod
    def from_query(cls, query: str) -> ProbeRequest:
        params = parse_qs(query, keep_blank_values=True)
        return cls(
            # `target` is what blackbox-style configs and the operator's `Probe` send: the same
            (*params.get("service", ()), *params.get("target", ())),
            tuple(params.get("check", ())),
            tuple(params.get("tag", ())),
        )


class Prober:
    """What `/probe` runs: selection, the budget, the concurrency bound, the loop hand-off."""

    def __init__(
        self,
        services: Sequence[Service],
        settings: ProbeSettings,
        redactor: Redactor,
        *,
        manifest_path: str,
        strict: bool,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        location: str | None = None,
        rendering: threading.Lock | None = None,
        on_report: Callable[[Report], None] | None = None,
    ) -> None:
        self.manifest = Manifest(manifest_path, tuple(services))
        self.settings = settings
        self.redactor = redactor
        self.strict = strict
        self.location = location
        self.max_concurrent = max(1, max_concurrent)
        # the redactor is shared with the rounds and the other probes: what one learns must be in the
        # pattern when it renders, not replaced by another thread's older compile (`Redactor.learn`)
        self.rendering = rendering or threading.Lock()
        self.on_report = on_report  # each probe's report, once answered (serve --otlp sends its spans)
        self._slots = threading.BoundedSemaphore(self.max_concurrent)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = threading.Event()  # serve's loop runs: probes may be handed to it
        self._count_lock = threading.Lock()
        self._total = 0
        self._in_flight = 0

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop probes run on, once it runs; None when it stops (probes are then refused)."""
        self._loop = loop
        if loop is None:
            self._running.clear()
        else:
            self._running.set()

    def metrics(self) -> str:
        """The probes counters `/metrics` adds; `in_flight` falls only once a probe's work has ended."""
        with self._count_lock:
            return PROBES_METRIC.format(total=self._total, in_flight=self._in_flight)

    def _count(self, change: int) -> None:
        with self._count_lock:
            self._in_flight += change
            if change < 0:  # one more probe answered
                self._total += 1

    def answer(self, query: str, scrape_timeout: str | None) -> Answer:
        """The whole of one `/probe` request (`scrape_timeout`: Prometheus's header); on an HTTP thread."""
        started = time.monotonic()
        budget = probe_budget(scrape_timeout)
        request = ProbeRequest.from_query(query)
        try:
            services = self._select(request)
        except SelectionError as exc:
            return Answer(400, f"{exc}\n".encode())
        # serve says where it listens before its loop starts: a scrape that quick waits for it
        loop = self._loop if self._running.wait(timeout=budget) else None
        if loop is None or loop.is_closed():
            return Answer(503, b"not ready: serve is starting or stopping\n")
        if not self._slots.acquire(timeout=budget):
            return Answer(
                503, f"busy: {self.max_concurrent} probes in flight (--max-concurrent-probes)\n".encode()
            )
        self._count(+1)
        try:
            deadline = started + budget
            future = asyncio.run_coroutine_threadsafe(
                execute(
                    services,
                    self.settings,
                    deadline=deadline,
                    manifest_path=self.manifest.path,
                    strict=self.strict,
                ),
                loop,
            )
            try:
                # execute returns at its deadline; the grace covers cancelling and closing what is open
                report = future.result(timeout=max(0.0, deadline - time.monotonic()) + 1.0)
            except TimeoutError:  # concurrent.futures' is the builtin since Python 3.11
                future.cancel()
                return Answer(503, b"probe did not end within the scrape's timeout\n")
            except concurrent.futures.CancelledError:  # serve is stopping: its loop cancelled the probe
                return Answer(503, b"serve is stopping\n")
        finally:
            self._count(-1)
            self._slots.release()
        if self.location is not None:
            report = replace(report, location=self.location)
        with self.rendering:
            self.redactor.learn_report(report)
            text = render_probe(report, self.redactor)
        if self.on_report is not None:
            self.on_report(report)
        return Answer(200, text.encode())

    def _select(self, request: ProbeRequest) -> tuple[Service, ...]:
        if not request.services and not request.tags:
            known = ", ".join(s.name for s in self.manifest.services)
            raise SelectionError(f"give ?service=NAME (repeatable) or ?tag=TAG; the manifest has: {known}")
        chosen = select(self.manifest, Selection(names=request.services, tags=request.tags))
        if not request.checks:
            return chosen
        known_checks = {c.name for s in chosen for c in s.checks}
        unknown = [name for name in request.checks if name not in known_checks]
        if unknown:
            raise SelectionError(
                f"unknown check {', '.join(map(repr, unknown))}; "
                f"the selected services have: {', '.join(sorted(known_checks))}"
            )
        narrowed = [replace(s, checks=tuple(c for c in s.checks if c.name in request.checks)) for s in chosen]
        return tuple(s for s in narrowed if s.checks)


__all__ = ["DEFAULT_MAX_CONCURRENT", "TIMEOUT_HEADER", "Answer", "ProbeRequest", "Prober", "probe_budget"]
