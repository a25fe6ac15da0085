"""Where a value is in a manifest: its data path, and the line and column of every key and value.

Apart from the YAML reader (`grammar.source`, which fills `Positions`), so that what
only names a place — a protocol's shape, the reporter — does not import PyYAML:
a probing run never does (tests/test_parallel_start.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple[str | int, ...]


@dataclass
class Positions:
    """1-based (line, column) of keys and values, addressed by their data path."""

    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def of_key(self, path: Path) -> tuple[int, int] | None:
        return self.keys.get(path) or self.of_value(path)

    def of_value(self, path: Path) -> tuple[int, int] | None:
        while True:
            found = self.values.get(path) or self.keys.get(path)
            if found or not path:
                return found
            path = path[:-1]
