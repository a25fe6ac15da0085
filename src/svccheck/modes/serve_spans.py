"""`serve --otlp URL`: the spans of every round and every `/probe`, sent from a thread of their own.

Exporting is a blocking HTTP request (up to `report.otlp.EXPORT_TIMEOUT`): done on
serve's loop it would stall the rounds, done in a scrape it would spend the
scrape's time. So reports are queued and one thread sends them; when the
collector is slower than the probes, the queue is bounded and the reports
that do not fit are dropped and counted, never waited for. opentelemetry is
imported when serve starts with `--otlp` (its absence is a usage error then).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from svccheck.model import Report
from svccheck.redact import Redactor

QUEUE = 64  # reports waiting to be sent at most
STOP_WAIT = 10.0  # seconds serve waits, stopping, for the reports still queued


class SpanSender:
    def __init__(
        self, url: str, redactor: Redactor, rendering: threading.Lock, log: Callable[[str], None]
    ) -> None:
        self.url = url
        self.redactor = redactor
        self.rendering = rendering  # held while the spans are built: the redactor is shared (serve_probe)
        self.log = log
        self.dropped = 0
        try:
            from svccheck.report import otlp
        except ImportError:
            from svccheck.errors import UsageError

            raise UsageError("--otlp needs the otlp extra: pip install 'svccheck[otlp]'") from None
        self._otlp = otlp
        self._queue: queue.Queue[Report | None] = queue.Queue(QUEUE)
        self._thread = threading.Thread(target=self._run, name="svccheck-otlp", daemon=True)
        self._thread.start()

    def send(self, report: Report) -> None:
        try:
            self._queue.put_nowait(report)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                self.log(f"svccheck: spans dropped: the collector at {self.redactor.url(self.url)} is behind")

    def close(self) -> None:
        """Send what is queued (for at most `STOP_WAIT`), then stop."""
        try:
            self._queue.put(None, timeout=STOP_WAIT)
        except queue.Full:
            return
        self._thread.join(STOP_WAIT)

    def _run(self) -> None:
        while (report := self._queue.get()) is not None:
            with self.rendering:
                built = self._otlp.spans(report, self.redactor)
            problem = self._otlp.send(built, self.url)
            if problem is not None:
                where = self.redactor.url(self.url)
                self.log(f"svccheck: cannot send spans to {where}: {self.redactor.text(problem)}")


__all__ = ["SpanSender"]
