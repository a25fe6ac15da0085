"""Pure: a list cut to its first few items always says how many it left out.

One wording everywhere (#16): `a, b, c and 2 more`, so no output drops names silently.
"""

from __future__ import annotations

from collections.abc import Sequence


def cut(items: Sequence[str], limit: int) -> str:
    """The first `limit` items joined by commas, then `and N more` for the rest."""
    shown = ", ".join(items[:limit])
    left = len(items) - limit
    return f"{shown} and {left} more" if left > 0 else shown


__all__ = ["cut"]
