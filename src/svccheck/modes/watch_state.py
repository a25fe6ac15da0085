"""Pure: what `svccheck watch` remembers across rounds, and the statistics it shows.

Each round's Report goes into a `Session`, which keeps per check the current
verdict, the latencies of the session (the last `KEEP_LATENCIES` rounds), when
the verdict last changed and how often it flapped, and returns the state
changes of that round.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from svccheck.model import Report, Verdict

KEEP_LATENCIES = 1000
# Flapping is changing back and forth: one change (pass -> fail) is a move, not a flap (#16).
FLAPPING_CHANGES = 2
SPARK_BLOCKS = "▁▂▃▄▅▆▇█"

CheckKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Transition:
    at: float  # seconds since the epoch
    service: str
    check: str
    old: Verdict | None  # None: the first round
    new: Verdict
    reason: str | None
    root_cause: str | None = None

    @property
    def name(self) -> str:
        return f"{self.service}/{self.check}"


@dataclass
class Track:
    service: str
    check: str
    verdict: Verdict
    reason: str | None
    root_cause: str | None
    changed_at: float
    first_verdict: Verdict
    last_latency: float | None = None
    flaps: int = 0  # verdict changes since the first round
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=KEEP_LATENCIES))

    @property
    def name(self) -> str:
        return f"{self.service}/{self.check}"

    @property
    def flapping(self) -> bool:
        return self.flaps >= FLAPPING_CHANGES


@dataclass
class Session:
    started: float
    rounds: int = 0
    tracks: dict[CheckKey, Track] = field(default_factory=dict)
    order: list[CheckKey] = field(default_factory=list)  # the last report's order: root causes first
    transitions: list[Transition] = field(default_factory=list)
    last: Report | None = None

    def record(self, report: Report, now: float) -> list[Transition]:
        """Take one finished round; return its state changes (every check's first verdict included)."""
        self.rounds += 1
        self.last = report
        changes: list[Transition] = []
        order: list[CheckKey] = []
        for service_result in report.services:
            for result in service_result.checks:
                key = result.check.key
                order.append(key)
                track = self.tracks.get(key)
                if track is None:
                    track = Track(
                        service=key[0],
                        check=key[1],
                        verdict=result.verdict,
                        reason=result.reason,
                        root_cause=service_result.root_cause,
                        changed_at=now,
                        first_verdict=result.verdict,
                    )
                    self.tracks[key] = track
                    changes.append(
                        Transition(now, *key, None, result.verdict, result.reason, service_result.root_cause)
                    )
                elif track.verdict is not result.verdict:
                    changes.append(
                        Transition(
                            now, *key, track.verdict, result.verdict, result.reason, service_result.root_cause
                        )
                    )
                    track.flaps += 1
                    track.changed_at = now
                track.verdict = result.verdict
                track.reason = result.reason
                track.root_cause = service_result.root_cause
                track.last_latency = result.latency
                if result.latency is not None:
                    track.latencies.append(result.latency)
        self.order = order
        self.transitions.extend(c for c in changes if c.old is not None)
        return changes

    def ordered(self) -> list[Track]:
        return [self.tracks[k] for k in self.order if k in self.tracks]

    def flapping(self) -> list[Track]:
        """The checks that changed back and forth, most changes first (ties: first seen first)."""
        return sorted((t for t in self.tracks.values() if t.flapping), key=lambda t: -t.flaps)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): always a value that was observed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def sparkline(values: Sequence[float], width: int = 20) -> str:
    """The last `width` values as block characters, scaled between their min and max."""
    recent = list(values)[-width:]
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    if high - low <= 0:
        return SPARK_BLOCKS[0] * len(recent)
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((v - low) / (high - low) * top)] for v in recent)


def since(seconds: float) -> str:
    """`4s`, `3m12s`, `2h05m`: time since the last state change."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
