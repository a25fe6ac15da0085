"""What a run is doing while it runs: checks done, checks in flight and since when (#15).

The run writes it from its event loop; a progress line reads it from another
thread (rich's refresh), so it holds only a counter and a dict of start times,
each updated by one assignment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

CheckKey = tuple[str, str]


@dataclass
class Board:
    """How far a run is: checks in all, done, and in flight since when (the progress line reads it)."""

    total: int = 0
    done: int = 0
    running: dict[CheckKey, float] = field(default_factory=dict)  # check -> time.monotonic() it started

    def begin(self, key: CheckKey) -> None:
        self.running[key] = time.monotonic()

    def end(self, key: CheckKey) -> None:
        self.running.pop(key, None)
        self.done += 1

    def longest_running(self) -> list[tuple[CheckKey, float]]:
        """The checks in flight, the longest running first, with their start times."""
        return sorted(list(self.running.items()), key=lambda item: item[1])


__all__ = ["Board", "CheckKey"]
