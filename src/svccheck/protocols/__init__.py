"""The protocols svccheck speaks, by URL scheme: an explicit list, one line per protocol.

Adding a protocol is one new module (a `Protocol` subclass and its `PROTOCOL`
instance; see `base`) plus one line here. Modules are imported by name when a
manifest first uses their scheme, so a fleet without `tcp://` never loads it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svccheck.protocols.base import Protocol

# (module, the URL schemes it serves), in the order `svccheck schema` and the docs list them
PROTOCOLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("svccheck.protocols.http", ("http", "https")),
    ("svccheck.protocols.tcp", ("tcp",)),
)

SCHEMES: dict[str, str] = {scheme: module for module, schemes in PROTOCOLS for scheme in schemes}

_loaded: dict[str, Protocol] = {}


def protocol_for(url: str) -> Protocol:
    """The protocol of a check's URL; the manifest only lets known schemes through."""
    scheme = url.partition(":")[0].lower()
    loaded = _loaded.get(scheme)
    if loaded is None:
        module = SCHEMES.get(scheme)
        if module is None:
            raise ValueError(f"no protocol for URL scheme {scheme!r}")
        loaded = _loaded[scheme] = importlib.import_module(module).PROTOCOL
    return loaded


def every_protocol() -> list[Protocol]:
    """Each registered protocol once, in registry order (for the contract tests and the docs)."""
    return [protocol_for(f"{schemes[0]}:") for _, schemes in PROTOCOLS]
