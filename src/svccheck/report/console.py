"""The rich Console every view prints on; its own module so that a progress line can have one at
once, before the report's modules (the model, the protocols) are imported (#15)."""

from __future__ import annotations

from rich.console import Console


def make_console(*, color: bool, stderr: bool = False) -> Console:
    import os
    import sys

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    no_color = not color or "NO_COLOR" in os.environ or not tty
    # markup and emoji off: no string from a service or a manifest is ever read as `[link=…]` or `:x:`
    return Console(
        file=stream,
        markup=False,
        emoji=False,
        no_color=no_color,
        color_system=None if no_color else "auto",
        highlight=False,
        width=None if tty else 160,
        soft_wrap=False,
    )


__all__ = ["make_console"]
