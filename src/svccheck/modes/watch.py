"""`svccheck watch`: re-run the checks every interval and show how they move.

On a terminal, a live table (verdict, last latency, p50/p95, a sparkline, time
since the last change, flap count; root causes on top). Otherwise one line per
state change, fit for a log. Rounds never overlap: the next starts only when
the previous one has finished or hit its deadline. Ctrl-C (or SIGTERM) leaves
with a one-screen summary of what changed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.text import Text

from svccheck.durations import format_duration, format_ms
from svccheck.engine import idle
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.rounds import Pace, Rounds
from svccheck.engine.run import Stop, signals_stop
from svccheck.errors import ExitCode
from svccheck.listing import cut
from svccheck.model import Service, Verdict
from svccheck.modes.watch_state import Session, Transition, percentile, since, sparkline
from svccheck.redact import Redactor
from svccheck.report.layout import Column, Row, Trimmed, build
from svccheck.report.next_step import next_steps
from svccheck.report.table import LABEL, STYLE, summary_line

_SUMMARY_CHANGES = 15
_SUMMARY_FLAPPING = 5


def run_watch(
    services: Sequence[Service],
    settings: ProbeSettings,
    *,
    console: Console,
    redactor: Redactor,
    interval: float,
    rounds: int | None = None,
    round_timeout: float | None = None,
    manifest_path: str = "",
    live: bool | None = None,
) -> ExitCode:
    """Watch until Ctrl-C / SIGTERM (exit 0 / 143) or `rounds` rounds (the last round's exit code)."""
    use_live = console.is_terminal if live is None else live
    return idle.run(  # the health readers, the table: imported while the first round waits
        _watch(
            services,
            settings,
            console=console,
            redactor=redactor,
            interval=interval,
            rounds=rounds,
            round_timeout=round_timeout,
            manifest_path=manifest_path,
            use_live=use_live,
        )
    )


async def _watch(
    services: Sequence[Service],
    settings: ProbeSettings,
    *,
    console: Console,
    redactor: Redactor,
    interval: float,
    rounds: int | None,
    round_timeout: float | None,
    manifest_path: str,
    use_live: bool,
) -> ExitCode:
    stop = Stop()
    session = Session(started=time.time())
    checks = sum(len(s.checks) for s in services)
    display: _Display = (
        _LiveDisplay(console, redactor, interval) if use_live else _LogDisplay(console, redactor)
    )
    pace = Pace.between_starts(interval, round_timeout=round_timeout, limit=rounds)

    def tick() -> None:  # the live table's clocks ("since") move between rounds too
        display.tick(session)

    watching = Rounds(lambda: services, settings, pace, stop=stop, manifest_path=manifest_path, tick=tick)
    with signals_stop(stop, "watch"), display:
        display.start(checks, len(services), interval)
        async for round_ in watching:
            if round_.cut_short:
                break  # a round cut short by a signal says nothing about the fleet
            redactor.learn_report(round_.report)  # before anything of this round is shown
            display.round(session, session.record(round_.report, time.time()))
    # on a terminal, wrapped at words; in a log, one line each (#15)
    console.print(summary(session, redactor, interval=interval, now=time.time()), soft_wrap=not use_live)
    _flush(console)
    return watching.exit_code  # Ctrl-C is how one leaves watch: 0 (run.ON_SIGNAL)


def _flush(console: Console) -> None:
    with contextlib.suppress(OSError, ValueError):
        console.file.flush()


class _Display:
    def __enter__(self) -> _Display:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def start(self, checks: int, services: int, interval: float) -> None: ...

    def round(self, session: Session, changes: list[Transition]) -> None: ...

    def tick(self, session: Session) -> None: ...


class _LogDisplay(_Display):
    """No terminal: one line per state change, flushed at once (for `| tee watch.log`)."""

    def __init__(self, console: Console, redactor: Redactor) -> None:
        self.console = console
        self.redactor = redactor

    def start(self, checks: int, services: int, interval: float) -> None:
        self.console.print(
            f"watching {_count(checks, 'check')} of {_count(services, 'service')} "
            f"every {format_duration(interval)} (Ctrl-C to stop)",
            soft_wrap=True,
        )
        _flush(self.console)

    def round(self, session: Session, changes: list[Transition]) -> None:
        for change in changes:
            self.console.print(transition_line(change, self.redactor), soft_wrap=True, markup=False)
        _flush(self.console)


class _LiveDisplay(_Display):
    def __init__(self, console: Console, redactor: Redactor, interval: float) -> None:
        self.redactor = redactor
        self.interval = interval
        self.live = Live(console=console, auto_refresh=False, transient=True)

    def __enter__(self) -> _Display:
        self.live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.live.__exit__(exc_type, exc, tb)

    def start(self, checks: int, services: int, interval: float) -> None:
        text = f"checking {_count(checks, 'check')} of {_count(services, 'service')}…"
        self.live.update(Text(text, style="dim"), refresh=True)

    def round(self, session: Session, changes: list[Transition]) -> None:
        self.tick(session)

    def tick(self, session: Session) -> None:
        self.live.update(live_table(session, self.redactor, self.interval, time.time()), refresh=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M:%S")


def transition_line(change: Transition, redactor: Redactor) -> str:
    """``06:30:01 billing-service/health pass -> fail: HTTP 503 (root cause: payment-service)``."""
    old = "start" if change.old is None else str(change.old)
    line = f"{_clock(change.at)} {redactor.text(change.name)} {old} -> {change.new}"
    if change.reason:
        line += f": {redactor.text(change.reason)}"
    if change.root_cause and change.new in (Verdict.FAIL, Verdict.WARN):
        line += f" (root cause: {redactor.text(change.root_cause)})"
    return line


# Which columns go first as the terminal narrows (#15): the sparkline, p95, the flap count, p50,
# the time since the last change, the last latency. The verdict, the names and the reason stay.
LIVE_COLUMNS = (
    Column("verdict", ""),
    Column("service", "service"),
    Column("check", "check", wraps=True, max_width=32),
    Column("last", "last", justify="right", min_width=5, drop=6),
    Column("p50", "p50", justify="right", min_width=5, drop=4),
    Column("p95", "p95", justify="right", min_width=5, drop=2),
    Column("trend", "trend", drop=1),
    Column("since", "since", justify="right", min_width=5, drop=5),
    Column("flaps", "flaps", justify="right", drop=3),
    Column("reason", "reason", wraps=True, flex=True),
)


def live_table(session: Session, redactor: Redactor, interval: float, now: float) -> RenderableType:
    """The title, a table of the checks (worst first) and the summary line, fitted to the terminal:
    columns drop as it narrows, and passing checks fold into one line when it is not tall enough."""
    title = Text(
        f"svccheck watch · round {session.rounds} · every {format_duration(interval)} · Ctrl-C to leave",
        style="bold",
    )
    footer = Text(summary_line(session.last)) if session.last is not None else Text("")
    rows = _live_rows(session, redactor, now)
    return _FittedLive(title, rows, footer)


def _live_rows(session: Session, redactor: Redactor, now: float) -> list[Row]:
    report = session.last
    critical = {r.service.name: r.service.critical for r in report.services} if report is not None else {}
    rows: list[Row] = []
    for track in session.ordered():
        latencies = list(track.latencies)
        reason = Text()
        if track.root_cause and track.verdict is not Verdict.PASS:
            reason.append(f"↳ caused by {redactor.text(track.root_cause)}", style="magenta")
            if track.reason:
                reason.append(" · ")
        if track.reason and not critical.get(track.service, True) and track.verdict is not Verdict.PASS:
            reason.append("non-critical: ", style="dim")  # as `all` says it (#15)
        reason.append(redactor.text(track.reason or ""))
        # every cell a Text: no name or reason from a service or a manifest is read as markup
        rows.append(
            {
                "verdict": Text(LABEL[track.verdict], style=STYLE[track.verdict]),
                "service": Text(redactor.text(track.service)),
                "check": Text(redactor.text(track.check)),
                "last": format_ms(track.last_latency),
                "p50": format_ms(percentile(latencies, 50)),
                "p95": format_ms(percentile(latencies, 95)),
                "trend": sparkline(latencies),
                "since": since(now - track.changed_at),
                "flaps": str(track.flaps) if track.flaps else "",
                "reason": reason,
            }
        )
    return rows


class _FittedLive:
    """The live view at the terminal's width and height: the checks that did not pass always shown,
    passing ones as many as fit, the rest counted on one line, the summary line never cut off."""

    def __init__(self, title: Text, rows: list[Row], footer: Text) -> None:
        self.title, self.rows, self.footer = title, rows, footer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        height = (options.height or console.height) - 1  # a full screen would scroll its title off
        passing = sum(1 for r in self.rows if _is_pass(r))

        def fits(shown: int) -> bool:
            view = self._view(width, shown, passing - shown)
            return len(console.render_lines(view, options.update(height=None), pad=False)) <= height

        low, high = 0, passing  # the most passing rows that fit: a binary search, a render a step
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        view = self._view(width, low, passing - low)
        yield Trimmed(view)

    def _view(self, width: int, shown: int, folded: int) -> RenderableType:
        kept, passed = [], 0
        for row in self.rows:
            if _is_pass(row):
                passed += 1
                if passed > shown:
                    continue
            kept.append(row)
        parts: list[RenderableType] = [self.title, build(LIVE_COLUMNS, kept, width, header_style="bold")]
        if folded:
            parts.append(Text(f"… {folded} more passing check{'' if folded == 1 else 's'}", style="dim"))
        parts.append(self.footer)
        return Group(*parts)


def _is_pass(row: Row) -> bool:
    verdict = row["verdict"]
    return (verdict.plain if isinstance(verdict, Text) else verdict) == LABEL[Verdict.PASS]


def summary(session: Session, redactor: Redactor, *, interval: float, now: float) -> RenderableType:
    """One screen: how long, what changed (the latest changes), where it stands, what flapped."""
    out = Text()
    changes = session.transitions
    out.append(
        f"watched {session.rounds} round{'s' if session.rounds != 1 else ''} over "
        f"{format_duration(now - session.started)} (every {format_duration(interval)}) · "
        f"{len(changes)} state change{'s' if len(changes) != 1 else ''}\n",
        style="bold",
    )
    if len(changes) > _SUMMARY_CHANGES:
        out.append(f"  … {len(changes) - _SUMMARY_CHANGES} earlier changes\n", style="dim")
    for change in changes[-_SUMMARY_CHANGES:]:
        out.append("  " + transition_line(change, redactor) + "\n", style=STYLE[change.new])
    flapping = session.flapping()  # two changes or more (#16)
    if flapping:
        shown = cut([f"{redactor.text(t.name)} ({t.flaps})" for t in flapping], _SUMMARY_FLAPPING)
        out.append(f"flapping: {shown}\n", style="yellow")
    report = session.last
    if report is not None:
        # as under `all`'s table: the root cause with what is broken in it, and the command to look
        # closer (#15); or that nothing answered (#12)
        for line in next_steps(report, redactor):
            out.append(line + "\n", style="bold magenta" if not line.startswith(" ") else "")
        out.append("now: " + summary_line(report))
    else:
        out.append("no round finished")
    return out
