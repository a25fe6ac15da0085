"""The transient progress line `all` and `check` show on stderr while they probe (#15).

`checking 12/24 checks · waiting for payment-service/health 2.1s, billing-service/health 1.9s
and 3 more · deadline in 1m58s`: on a terminal only, redrawn a few times a second (the clocks
move), one line cut to the terminal's width, and erased before the table is printed. When
stderr is not a terminal nothing of it is written, so a CI log holds only the report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from svccheck.durations import format_duration
from svccheck.engine.board import Board

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from svccheck.redact import Redactor  # imported by the command after the line is up

_SHOWN = 2  # checks in flight named; the rest are counted
REFRESH_PER_SECOND = 8


def progress_text(board: Board, redactor: Redactor | None, now: float, deadline: float | None) -> str:
    """The line itself; `now` and `deadline` are `time.monotonic()` instants. Until the manifest is
    read (no `redactor` yet) it names nothing."""
    if redactor is None or not board.total:
        parts = ["starting…"]
    else:
        parts = [f"checking {board.done}/{board.total} check{'' if board.total == 1 else 's'}"]
    running = board.longest_running() if redactor is not None else []
    if redactor is not None and running:
        named = [
            f"{redactor.text(service)}/{redactor.text(check)} {format_duration(int(max(0.0, now - since)))}"
            for (service, check), since in running[:_SHOWN]
        ]
        more = len(running) - _SHOWN
        parts.append("waiting for " + ", ".join(named) + (f" and {more} more" if more > 0 else ""))
    if deadline is not None:
        # whole seconds, up: `1m59s`, never `1m60s` from a rounded fraction
        parts.append(f"deadline in {format_duration(max(0, math.ceil(deadline - now)))}")
    return " · ".join(parts)


class ProgressLine:
    """The line's renderable; `redactor` is set once the manifest is read (names are shown from then)."""

    def __init__(self, board: Board, deadline: float | None) -> None:
        self.board, self.deadline = board, deadline
        self.redactor: Redactor | None = None

    def __rich__(self) -> Text:
        from rich.text import Text

        line = progress_text(self.board, self.redactor, time.monotonic(), self.deadline)
        return Text(line, style="dim", no_wrap=True, overflow="ellipsis")


@contextmanager
def progress_line(board: Board, deadline: float | None, console: Console | None) -> Iterator[ProgressLine]:
    """Show the line on `console` (stderr, a terminal) for as long as the block runs; None: nothing."""
    line = ProgressLine(board, deadline)
    if console is None:
        yield line
        return
    from rich.live import Live

    with Live(
        line,
        console=console,
        refresh_per_second=REFRESH_PER_SECOND,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    ):
        yield line


__all__ = ["ProgressLine", "progress_line", "progress_text"]
