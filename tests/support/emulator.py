"""What a person sees: the bytes a terminal received, played through a terminal emulator (pyte)."""

from __future__ import annotations

from collections.abc import Iterator

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


def frames(screen: Screen, columns: int, lines: int) -> Iterator[list[str]]:
    """The screen after each line the terminal received: the frames of a live view, as drawn."""
    terminal = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(terminal)
    for piece in screen.output.split(b"\n"):
        stream.feed(piece + b"\n")
        yield [line.rstrip() for line in terminal.display]


__all__ = ["frames", "seen"]
