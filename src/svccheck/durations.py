"""Durations as people write them: ``250ms``, ``5s``, ``1m``, ``1h``, ``1m30s`` or plain seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float:
    """Seconds as a float; raises ValueError with a message fit for a user."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 250ms, 5s or 1m, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_units(value, text)
    else:
        raise ValueError(f"expected a duration like 250ms, 5s or 1m, got {value!r}")
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"duration must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def _parse_units(original: str, text: str) -> float:
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"bad duration {original!r}: use a number with ms, s, m or h, like 250ms or 5s")
    return total


def format_ms(seconds: float | None) -> str:
    """A latency as the tables show it (``"42ms"``); empty when there is none."""
    return "" if seconds is None else f"{seconds * 1000:.0f}ms"


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:g}s" if seconds == int(seconds) else f"{seconds:.1f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.0f}s" if rest else f"{int(minutes)}m"
