"""What `svccheck wait` shows while it waits: a live display on a terminal, plain lines in CI.

Both write to stderr, so stdout carries only the final report (a table, or a
machine format a pipeline parses). Every name and reason goes through the Redactor.
"""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING

from svccheck.errors import ExitCode
from svccheck.model import Verdict
from svccheck.modes.wait import Change, Readiness, WaitOutcome
from svccheck.redact import Redactor

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from svccheck.report.layout import Column


def _live_columns() -> tuple[Column, ...]:
    from svccheck.report.layout import Column

    # nothing is dropped: the state and the n/m count are the view; the reason wraps (#15)
    return (
        Column("state", "", min_width=7),  # no header row: the headers are empty
        Column("service", ""),
        Column("checks", "", justify="right"),
        Column("reason", "", wraps=True, flex=True),
    )


def change_line(change: Change, redactor: Redactor) -> str:
    if change.check is None:
        return f"{redactor.text(change.service)} ready after {change.at:.1f}s"
    line = (
        f"[{change.at:6.1f}s] {redactor.text(change.service)}/{redactor.text(change.check)}: {change.verdict}"
    )
    if change.reason:
        line += f" ({redactor.text(change.reason)})"
    return line


def root_causes_so_far(readiness: Readiness) -> dict[str, str]:
    """Each waiting service's root cause from the latest results, as the final report will name it."""
    from svccheck.judge.triage import root_causes

    broken, unreachable = [], []
    for service in readiness.services:
        results = [r for c in service.checks if (r := readiness.results.get(c.key)) is not None]
        if any(r.failures and any(not f.warn_only for f in r.failures) for r in results):
            broken.append(service.name)
        if any(r.connect_failed for r in results):
            unreachable.append(service.name)
    return root_causes(broken, {s.name: s.depends_on for s in readiness.services}, unreachable)


def closing_lines(outcome: WaitOutcome, redactor: Redactor) -> list[str]:
    """Who is not ready and why (and its root cause), then one line for the wait as a whole."""
    report, readiness = outcome.report, outcome.readiness
    waiting = [s for s in readiness.services if s.name not in outcome.ready_after]
    causes = root_causes_so_far(readiness)
    lines = []
    for service in waiting:
        results = [readiness.results.get(c.key) for c in service.checks]
        reasons = [r.reason for r in results if r is not None and not readiness.settled(r) and r.reason]
        why = redactor.text(reasons[0]) if reasons else "no answer yet"
        note = "" if service.critical else " (non-critical)"
        cause = causes.get(service.name)
        if cause is not None:  # as watch's lines say it (#15)
            why += f" (root cause: {redactor.text(cause)})"
        lines.append(f"{redactor.text(service.name)} not ready after {outcome.elapsed:.1f}s{note}: {why}")
    total = len(readiness.services)
    if report.interrupted:
        lines.append(
            f"{report.interrupted} after {outcome.elapsed:.1f}s: {total - len(waiting)}/{total} ready"
        )
    elif report.exit_code == ExitCode.OK:
        lines.append(f"ready after {outcome.elapsed:.1f}s: {total - len(waiting)}/{total} services")
    else:
        lines.append(f"timed out after {outcome.elapsed:.1f}s: {len(waiting)} of {total} services not ready")
    return lines


class PlainProgress:
    """One line per state change, nothing else: readable in a CI log."""

    def __init__(self, stream: IO[str], redactor: Redactor) -> None:
        self.stream = stream
        self.redactor = redactor

    def __call__(self, changes: list[Change], readiness: Readiness) -> None:
        self.redactor.learn_results(readiness.results.values())  # before anything is shown
        for change in changes:
            self.stream.write(change_line(change, self.redactor) + "\n")
        self.stream.flush()

    def finish(self, outcome: WaitOutcome) -> None:
        for line in closing_lines(outcome, self.redactor):
            self.stream.write(line + "\n")
        self.stream.flush()


class LiveProgress:
    """A live table of services on a terminal: a spinner while waiting, the time once ready."""

    def __init__(
        self, console: Console, redactor: Redactor, readiness: Readiness, limit: float | None
    ) -> None:
        from rich.live import Live

        self.console = console
        self.redactor = redactor
        self.limit = limit
        self.start = time.monotonic()
        self.live: Live = Live(self.render(readiness), console=console, refresh_per_second=8, transient=True)

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.live.stop()

    def __call__(self, changes: list[Change], readiness: Readiness) -> None:
        self.redactor.learn_results(readiness.results.values())  # before anything is shown
        self.live.update(self.render(readiness))

    def finish(self, outcome: WaitOutcome) -> None:
        from rich.text import Text

        for service in outcome.readiness.services:
            at = outcome.ready_after.get(service.name)
            if at is not None:
                name = self.redactor.text(service.name)
                self.console.print(Text(f"{name} ready after {at:.1f}s", style="green"))
        for line in closing_lines(outcome, self.redactor):
            self.console.print(Text(line))

    def render(self, readiness: Readiness) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        from svccheck.report.layout import Fitted, Row, build

        rows: list[Row] = []
        causes = root_causes_so_far(readiness)
        for service in readiness.services:
            results = [readiness.results.get(c.key) for c in service.checks]
            settled = sum(1 for r in results if r is not None and readiness.settled(r))
            name = self.redactor.text(service.name)
            if service.name in readiness.ready_after:
                # a word and a mark, not only a colour: readable with NO_COLOR too (#15)
                state = Text(f"✓ {readiness.ready_after[service.name]:.1f}s", style="green")
                reason = ""
            else:
                state = Text("waiting", style="yellow")
                failing = [r for r in results if r is not None and r.verdict is not Verdict.PASS]
                reason = ""
                if failing:  # the verdict word and the root cause, as at 200 columns so at 80 (#15)
                    cause = causes.get(service.name)
                    caused = f", caused by {self.redactor.text(cause)}" if cause is not None else ""
                    why = self.redactor.text(failing[0].reason or "")
                    reason = f"{failing[0].verdict}{caused}: {why}"
            # every cell a Text: no name or reason from a service or a manifest is read as markup
            rows.append(
                {
                    "state": state,
                    "service": Text(name),
                    "checks": Text(f"{settled}/{len(results)}"),
                    "reason": Text(reason, style="dim"),
                }
            )
        elapsed = _Elapsed(self.start, self.limit, len(readiness.ready_after), len(readiness.services))
        return Group(elapsed, Fitted(lambda width: build(_live_columns(), rows, width, show_header=False)))


class _Elapsed:
    """The header line; rendered on every refresh so the clock moves between rounds."""

    def __init__(self, start: float, limit: float | None, ready: int, total: int) -> None:
        self.start, self.limit, self.ready, self.total = start, limit, ready, total

    def __rich__(self) -> RenderableType:
        from rich.text import Text

        elapsed = time.monotonic() - self.start
        bound = f" / {self.limit:.0f}s" if self.limit is not None else ""
        return Text(f"waiting: {self.ready}/{self.total} services ready · {elapsed:.0f}s{bound}")


__all__ = ["LiveProgress", "PlainProgress", "change_line", "closing_lines", "root_causes_so_far"]
