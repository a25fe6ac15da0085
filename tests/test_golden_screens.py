"""Golden screens (#15): each view, driven through a real pseudo-terminal at 80×24 and 200×50 against
the outage demo fleet, read back through a terminal emulator (pyte) and compared with the committed
screen in tests/golden/screens/.

What changes from run to run is a hole: latencies and other durations (`⟨t⟩`), ports (`⟨port⟩`), trace
and span ids,
clock times, byte counts in a health body; a sparkline's heights; the spaces beside a duration count as one
column gap, since a latency's width moves the padding beside it. A view whose wrapped text holds durations (the
attempts under `all -v` at 80 columns) is compared as a flow of words, its wrap points free.

Regenerate after a change to a view (and read the diff):

    SVCCHECK_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_screens.py
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.emulator import frames, seen
from support.fleet_manifest import fleet_manifest
from support.terminal import Screen, run_on_terminal

GOLDEN = Path(__file__).parent / "golden" / "screens"
UPDATE = os.environ.get("SVCCHECK_UPDATE_GOLDEN") == "1"
SIZES = [(80, 24), (200, 50)]

_HOLES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(127\.0\.0\.1|localhost):\d{2,5}\b"), r"\1:⟨port⟩"),
    # a port in a URL the terminal soft-wrapped (the curl line stays one line, so it breaks anywhere)
    (re.compile(r"(?<=:)\d{4,5}(?=/)"), "⟨port⟩"),
    (re.compile(r"date: .*GMT"), "date: ⟨date⟩"),
    # W3C trace context: a new trace id per check, a span id per attempt (fixed lengths: wrapping holds)
    (re.compile(r"\b[0-9a-f]{32}\b"), "⟨trace⟩"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "⟨span⟩"),
    # ... and the two halves of a traceparent the terminal soft-wrapped inside its trace id
    (re.compile(r"(?<=\b00-)[0-9a-f]{1,31}$"), "⟨trace⟩"),
    (re.compile(r"^[0-9a-f]{1,31}(?=-⟨span⟩)"), "⟨trace⟩"),
    (re.compile(r"\b\d\d:\d\d:\d\d\b"), "⟨clock⟩"),
    (re.compile(r'"(total|free|threshold|latencyMs)": \d+'), r'"\1": ⟨n⟩'),
    (re.compile(r"\S*/tmp\S*/services\.yaml"), "⟨manifest⟩"),
]


# Which check opens a connection and which reuses one is the scheduler's choice, run by run
_CONNECTION = re.compile(r"(?:reused connection|dns ⟨t⟩ · connect ⟨t⟩(?: · tls ⟨t⟩)?) · ")


def _flowing(lines: list[str]) -> str:
    """The words of a screen whose lines wrap with its content, one space apart, connections as holes."""
    return _CONNECTION.sub("⟨connection⟩ · ", " ".join(" ".join(lines).split()))


_DURATION = r"\b\d+h\d+m\b|\b\d+m\d+s\b|\b\d+(?:\.\d+)?(?:ms|s)\b"
_BLOCKS = "▁▂▃▄▅▆▇█"
# the trailing spaces are the hole's only when no number follows them: those are the next one's lead
_IN_A_COLUMN = re.compile(
    r"( *)((?:" + _DURATION + r")|[" + _BLOCKS + r"]+)((?: +(?![ 0-9" + _BLOCKS + r"]))?)"
)


def _hole(match: re.Match[str]) -> str:
    """A hole as wide as what it replaces with the padding beside it: in a column (two spaces or more
    on one side) the column keeps its shape whatever the number's width; in running text, the hole."""
    lead, value, trail = match[1], match[2], match[3]
    if value[0] in _BLOCKS:  # a sparkline: as long as the rounds, its heights the latencies'
        return lead + "▁" * len(value) + trail
    hole = "⟨t⟩"
    if len(lead) >= 2:  # right-justified in its column
        return hole.rjust(len(lead) + len(value)) + trail
    if len(trail) >= 2:  # left-justified in its column
        return lead + hole.ljust(len(value) + len(trail))
    return lead + hole + trail


def normalised(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, hole in _HOLES:
            line = pattern.sub(hole, line)
        out.append(_IN_A_COLUMN.sub(_hole, line).rstrip())
    while out and not out[-1]:
        out.pop()
    return out


def last_frame(marker: str) -> Callable[[Screen, int, int], list[str]]:
    """The fullest frame of a live view that shows `marker`, the last of those: what stood on the
    screen just before the view gave way to what is printed after it."""

    def pick(screen: Screen, columns: int, lines: int) -> list[str]:
        best: list[str] = []
        for frame in frames(screen, columns, lines):
            if any(marker in line for line in frame) and _filled(frame) >= _filled(best):
                best = frame
        assert best, f"no frame shows {marker!r}"
        return best

    return pick


def _filled(frame: list[str]) -> int:
    return sum(1 for line in frame if line)


@dataclass(frozen=True)
class View:
    name: str
    args: tuple[str, ...]
    read: Callable[[Screen, int, int], list[str]] = seen
    flow_at: tuple[int, ...] = ()  # widths compared as a flow of words (durations inside wrapped text)


VIEWS = [
    View("all", ("all",)),
    View("all-v", ("all", "-v"), flow_at=(80,)),
    View("check-v", ("check", "payment-service", "-v")),
    View("list", ("list",)),
    # the first round holds payment-service's retries: 12s leaves the others time to be ready
    View("wait-live", ("wait", "--timeout", "12s", "--interval", "1s"), last_frame("waiting:")),
    View("wait", ("wait", "--timeout", "12s", "--interval", "1s")),
    View("watch-live", ("watch", "--rounds", "2", "--interval", "1s"), last_frame("round 2")),
    View("watch-summary", ("watch", "--rounds", "2", "--interval", "1s")),
]


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The outage fleet, and a directory holding `services.yaml` pointed at it (the default name: no -f)."""
    directory = tmp_path_factory.mktemp("fleet")
    with fleet_manifest("outage", directory):
        yield directory


@functools.cache
def _run(args: tuple[str, ...], columns: int, lines: int, fleet_dir: Path) -> Screen:
    """One run per command and size: a live view and what follows it come from the same run."""
    return run_on_terminal(*args, columns=columns, lines=lines, cwd=str(fleet_dir), timeout=120)


@pytest.mark.parametrize(("columns", "lines"), SIZES, ids=[f"{c}x{r}" for c, r in SIZES])
@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_golden_screen(view: View, columns: int, lines: int, fleet_dir: Path) -> None:
    screen = _run(view.args, columns, lines, fleet_dir)
    shown = view.read(screen, columns, lines)
    assert all(len(line) <= columns for line in shown)
    actual = normalised(shown)
    path = GOLDEN / f"{view.name}-{columns}x{lines}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(actual) + "\n", encoding="utf-8")
    expected = path.read_text(encoding="utf-8").splitlines()
    if columns in view.flow_at:
        assert _flowing(actual) == _flowing(expected), "\n".join(actual)
    else:
        unwrapped = [
            [_CONNECTION.sub("⟨connection⟩ · ", line) for line in lines] for lines in (actual, expected)
        ]
        assert unwrapped[0] == unwrapped[1], "\n".join(actual)


def test_normalising_leaves_words_and_fills_holes() -> None:
    wide = "FAIL  payment-service   health    503    124ms  3  HTTP 503 at http://127.0.0.1:41234/x  "
    narrow = "FAIL  payment-service   health    503      4ms  3  HTTP 503 at http://127.0.0.1:5001/x"
    expected = "FAIL  payment-service   health    503      ⟨t⟩  3  HTTP 503 at http://127.0.0.1:⟨port⟩/x"
    assert normalised([wide]) == normalised([narrow]) == [expected]
    assert normalised(["24 checks in 3.54s", "since 1m05s", "x  ▁█  y"]) == [
        "24 checks in ⟨t⟩",
        "since ⟨t⟩",
        "x  ▁▁  y",
    ]
    assert normalised(["✓ 3.0s   api", "✓ 12.0s  api"]) == ["✓ ⟨t⟩    api"] * 2
    assert (
        normalised(["a    5ms  124ms   ▁█"])
        == normalised(["a  124ms    5ms   ▁▁"])
        == ["a    ⟨t⟩    ⟨t⟩   ▁▁"]
    )
