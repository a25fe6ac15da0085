"""What `wait` shows while waiting: plain lines for CI logs, a live display on a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from support.sample_reports import SECRET, make_check, result
from svccheck.model import Failure, FailureClass, Service, Verdict
from svccheck.modes.wait import Readiness, WaitOutcome
from svccheck.modes.wait_progress import LiveProgress, PlainProgress, change_line, closing_lines
from svccheck.redact import Redactor

DOWN = Failure(FailureClass.STATUS, f"expected status 2xx, got 503 for {SECRET}")


def _readiness() -> tuple[Readiness, Service, Service]:
    api = Service("api", "http://127.0.0.1:1", True, (), (), (make_check("api", "health", "health"),))
    pay = Service("pay", "http://127.0.0.1:2", True, (), (), (make_check("pay", "health", "health"),))
    return Readiness((api, pay)), api, pay


def test_plain_progress_writes_one_line_per_change_masked() -> None:
    readiness, api, pay = _readiness()
    stream = io.StringIO()
    progress = PlainProgress(stream, Redactor([SECRET]))
    changes = readiness.record(
        [
            result(api.checks[0], Verdict.PASS),
            result(pay.checks[0], Verdict.FAIL, reason=DOWN.message, failures=(DOWN,)),
        ],
        at=0.4,
    )
    progress(changes, readiness)
    progress(
        readiness.record(
            [result(pay.checks[0], Verdict.FAIL, reason=DOWN.message, failures=(DOWN,))], at=2.4
        ),
        readiness,
    )
    assert stream.getvalue().splitlines() == [
        "[   0.4s] api/health: pass",
        "[   0.4s] pay/health: fail (expected status 2xx, got 503 for ***)",
        "api ready after 0.4s",
    ]


def test_closing_lines_name_who_is_not_ready_and_why() -> None:
    readiness, api, pay = _readiness()
    readiness.record(
        [
            result(api.checks[0], Verdict.PASS),
            result(pay.checks[0], Verdict.FAIL, reason=DOWN.message, failures=(DOWN,)),
        ],
        at=1.0,
    )
    report = readiness.report(duration=5.0, started_at="", manifest_path="")
    lines = closing_lines(WaitOutcome(report, readiness, 5.0, 3), Redactor([SECRET]))
    assert lines == [
        "pay not ready after 5.0s: expected status 2xx, got 503 for ***",
        "timed out after 5.0s: 1 of 2 services not ready",
    ]
    assert change_line(readiness.record([result(pay.checks[0], Verdict.PASS)], at=6.0)[-1], Redactor()) == (
        "pay ready after 6.0s"
    )


def test_live_progress_renders_services_on_a_terminal() -> None:
    readiness, api, pay = _readiness()
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    with LiveProgress(console, Redactor([SECRET]), readiness, 300.0) as live:
        changes = readiness.record(
            [
                result(api.checks[0], Verdict.PASS),
                result(pay.checks[0], Verdict.FAIL, reason=DOWN.message, failures=(DOWN,)),
            ],
            at=1.2,
        )
        live(changes, readiness)
        console.print(live.render(readiness))
    output = buffer.getvalue()
    assert "waiting: 1/2 services ready" in output and "/ 300s" in output
    assert "✓ 1.2s" in output and "expected status 2xx, got 503 for ***" in output
    assert SECRET not in output
