"""What a person sees: the bytes a terminal received, played through a terminal emulator (pyte)."""

from __future__ import annotations

import pyte

from support.terminal import Screen


def seen(screen: Screen, columns: int, lines: int) -> list[str]:
    """Every line the terminal showed, those scrolled off the top first, trailing spaces dropped.

    What a transient live view drew and then erased is gone, as it is for the person watching.
    """
    terminal = pyte.HistoryScreen(columns, lines, history=100_000)
    pyte.ByteStream(terminal).feed(screen.output)
    scrolled = ["".join(row[x].data for x in range(columns)).rstrip() for row in terminal.history.top]
    shown = [line.rstrip() for line in terminal.display]
    while shown and not shown[-1]:
        shown.pop()
    return scrolled + shown


__all__ = ["seen"]
