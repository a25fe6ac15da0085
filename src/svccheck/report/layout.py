"""Tables that fit the terminal by dropping whole columns, never by losing words (#15).

A view declares its columns once, each with a `drop` rank: as the terminal
narrows, the column with the lowest rank goes first, until the one `flex`
column (the reason) has room for its words. Columns that do not wrap (a
verdict, a name, a latency) are always shown whole; columns that wrap break
at spaces, and a word is folded only when it is longer than any width left.
A view adds a column by adding a `Column` and a cell: nothing else changes.

`Trimmed` drops the spaces rich pads every line with up to the table's width
(noise in a CI log and in a diff).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

GAP = 2  # rich's default padding of one space either side, between columns
FLEX_MIN = 28  # the reason gets at least this much room before a column is dropped for it


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    justify: JustifyMethod = "left"
    drop: int | None = None  # lowest goes first as the terminal narrows; None: never dropped
    wraps: bool = False  # breaks at spaces (a reason, a check name); otherwise always one whole line
    max_width: int | None = None  # a wrapping column's widest, when room is left
    flex: bool = False  # takes what the others leave (one per table: the reason)
    flex_min: int = FLEX_MIN  # the room the flex column wants before another column is dropped for it
    min_width: int = 0  # at least this wide: a latency column does not change width as numbers do


Cell = Text | str
Row = Mapping[str, Cell]


def _lines(column: Column, rows: Sequence[Row]) -> Iterator[str]:
    yield column.header
    for row in rows:
        cell = row.get(column.key, "")
        yield from (cell.plain if isinstance(cell, Text) else cell).split("\n")


def _natural(column: Column, rows: Sequence[Row]) -> int:
    return max(cell_len(line) for line in _lines(column, rows))


def _longest_word(column: Column, rows: Sequence[Row]) -> int:
    return max(cell_len(word) for line in _lines(column, rows) for word in [*line.split(), ""])


def fit(columns: Sequence[Column], rows: Sequence[Row], width: int) -> dict[str, int]:
    """The columns kept at `width`, each with its width (insertion order is the columns' order)."""
    natural = {c.key: max(c.min_width, _natural(c, rows)) for c in columns}
    word = {c.key: _longest_word(c, rows) for c in columns}
    kept = list(columns)

    def fixed(column: Column, tight: bool) -> int:
        if not column.wraps:
            return natural[column.key]
        widest = min(natural[column.key], column.max_width or natural[column.key])
        return max(word[column.key], min(widest, 12) if tight else widest)

    flex = next((c for c in columns if c.flex), None)
    want = 0 if flex is None else min(natural[flex.key], max(flex.flex_min, word[flex.key]))

    def used(tight: bool) -> int:
        others = [fixed(c, tight) for c in kept if not c.flex]
        return sum(others) + GAP * (len(kept) - 1)

    tight = used(False) + want > width
    droppable = sorted((c for c in kept if c.drop is not None), key=lambda c: c.drop or 0)
    while used(tight) + want > width and droppable:
        kept.remove(droppable.pop(0))
    if tight and used(False) + want <= width:
        tight = False  # a column dropped left room for the check names' natural width
    widths = {c.key: fixed(c, tight) for c in kept if not c.flex}
    if flex is not None:
        widths[flex.key] = min(natural[flex.key], max(8, width - used(tight)))
    return {c.key: widths[c.key] for c in kept}


def build(columns: Sequence[Column], rows: Iterable[Row | None], width: int, **table: object) -> Table:
    """A rich Table of the columns that fit `width`; a None row starts a new section."""
    rows = list(rows)
    widths = fit(columns, [r for r in rows if r is not None], width)
    out = Table(box=None, pad_edge=False, show_edge=False, **table)  # type: ignore[arg-type]
    kept = [c for c in columns if c.key in widths]
    for column in kept:
        out.add_column(
            column.header,
            justify=column.justify,
            no_wrap=not column.wraps,
            overflow="fold",
            width=widths[column.key],
        )
    for row in rows:
        if row is None:
            out.add_section()
            continue
        out.add_row(*(row.get(c.key, "") for c in kept))
    return out


class Fitted:
    """Built at the width it is printed at (the console's), and trimmed: `build` a view for that width."""

    def __init__(self, view: Callable[[int], RenderableType]) -> None:
        self.view = view

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Trimmed(self.view(options.max_width))


class Lines:
    """Text wrapped at words on a terminal; elsewhere (a pipe, a CI log) each line whole, however long,
    so that a suggested command can be copied as it is."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.is_terminal:  # wrapped at words even when printed with soft_wrap (a story)
            wrapped = options.update(no_wrap=False, overflow="fold")
            for line in console.render_lines(self.text, wrapped, pad=False):
                yield from _trim(line)
                yield Segment.line()
            return
        longest = max((cell_len(line) for line in self.text.plain.split("\n")), default=0)
        yield Trimmed(self.text, width=max(options.max_width, longest))


class Trimmed:
    """A renderable without the trailing spaces rich pads each line with."""

    def __init__(self, renderable: RenderableType, width: int | None = None) -> None:
        self.renderable = renderable
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.width is not None:
            options = options.update(width=self.width)
        for line in console.render_lines(self.renderable, options, pad=False):
            yield from _trim(line)
            yield Segment.line()


def _trim(line: list[Segment]) -> Iterator[Segment]:
    while line and not line[-1].control and not line[-1].text.rstrip(" "):
        line = line[:-1]
    if line and not line[-1].control:
        last = line[-1]
        line = [*line[:-1], Segment(last.text.rstrip(" "), last.style)]
    yield from line


__all__ = ["FLEX_MIN", "Column", "Fitted", "Lines", "Trimmed", "build", "fit"]
