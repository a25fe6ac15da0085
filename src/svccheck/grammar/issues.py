"""Where a problem goes: each one tied to the line and column of a key or a value."""

from __future__ import annotations

from svccheck.grammar.errors import ManifestIssue
from svccheck.grammar.positions import Path, Positions


class Reporter:
    """Collects problems in any order; `ManifestError` sorts them by place."""

    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        self.issues: list[ManifestIssue] = []

    def error(self, where: Path, message: str, *, key: bool = False) -> None:
        pos = self.positions.of_key(where) if key else self.positions.of_value(where)
        self.issues.append(ManifestIssue(message, *(pos or (1, 1))))

    def written(self, where: Path) -> bool:
        """Whether a key is in the file as written (not added by a shorthand like `health: /h`)."""
        return where in self.positions.keys
