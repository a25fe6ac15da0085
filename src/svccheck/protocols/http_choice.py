"""Which transport carries HTTP/1.1 under httpx: `http_wire` (llhttp, the `fast` extra) or httpx's own.

`SVCCHECK_HTTP_TRANSPORT` chooses: `fast` (the default when `httptools` is
installed: `pip install 'svccheck[fast]'`) or `httpx` (httpx's own pure-Python
transport, httpcore and h11, always available). The test suite passes with
either; CI runs the HTTP tests once with each.
"""

from __future__ import annotations

import os
from types import ModuleType

ENV = "SVCCHECK_HTTP_TRANSPORT"
CHOICES = ("fast", "httpx")


class TransportChoiceError(ValueError):
    pass


def wire_module() -> ModuleType | None:
    """`http_wire` when the fast transport is chosen and installed; `None` for httpx's own.

    Read when a lane is made (a handful per origin), so a test can set the variable per run.
    """
    choice = os.environ.get(ENV, "").strip().lower() or "fast"
    if choice not in CHOICES:
        raise TransportChoiceError(f"{ENV}={choice!r}: expected one of {', '.join(CHOICES)}")
    if choice == "httpx":
        return None
    try:
        from svccheck.protocols import http_wire
    except ImportError:  # the `fast` extra is not installed: httpx's own transport
        return None
    return http_wire
