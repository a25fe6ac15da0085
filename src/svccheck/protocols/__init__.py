"""The protocols svccheck speaks, by URL scheme: an explicit list, one line per protocol.

Adding a protocol is one new module plus one line here. The module holds a
`Protocol` subclass (see `base`) and its `PROTOCOL` instance, whose `shape`
says what the protocol takes in the manifest (`svccheck.grammar.protocol`). The
manifest reader asks this registry for the shape of each service's scheme, and
the engine and the reports for the protocol. Reading a manifest imports every
protocol module, for the keys each declares as its own (`own_fields`), so a
protocol module stays light: what it needs to exchange (httpx, asyncio's
streams, a client library) is imported by its connector, from a module of its
own (`http_transport`, `tcp_exchange`), on the first attempt.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svccheck.grammar.protocol import ProtocolShape
    from svccheck.grammar.shape import Field
    from svccheck.protocols.base import Protocol

# (module, the URL schemes it serves), in the order `svccheck schema` and the docs list them
PROTOCOLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("svccheck.protocols.http", ("http", "https")),
    ("svccheck.protocols.tcp", ("tcp",)),
    ("svccheck.protocols.grpc", ("grpc", "grpcs")),
)

SCHEMES: dict[str, str] = {scheme: module for module, schemes in PROTOCOLS for scheme in schemes}

_loaded: dict[str, Protocol] = {}


def protocol_for(url: str) -> Protocol:
    """The protocol of a check's URL; the manifest only lets known schemes through."""
    return protocol_of(url.partition(":")[0].lower())


def protocol_of(scheme: str) -> Protocol:
    """The protocol serving a URL scheme (lower case), its module imported on first use."""
    loaded = _loaded.get(scheme)
    if loaded is None:
        module = SCHEMES.get(scheme)
        if module is None:
            raise ValueError(f"no protocol for URL scheme {scheme!r}")
        loaded = _loaded[scheme] = importlib.import_module(module).PROTOCOL
    return loaded


@functools.cache
def every_protocol() -> tuple[Protocol, ...]:
    """Each registered protocol once, in registry order (the manifest reader, the schema, the tests)."""
    return tuple(protocol_of(schemes[0]) for _, schemes in PROTOCOLS)


@functools.cache
def shapes() -> Mapping[str, ProtocolShape]:
    """URL scheme → the manifest shape of its protocol. Imports every protocol module: reading a
    manifest needs every protocol's own keys anyway (`own_fields`)."""
    return {scheme: protocol_of(scheme).shape for scheme in SCHEMES}


@functools.cache
def url_schemes() -> Mapping[str, bool]:
    """URL scheme → whether its URL is scheme://host:port only, in registry order: what a
    service's `url` may be (`svccheck.grammar.schema.manifest_shape`)."""
    return {scheme: protocol_of(scheme).shape.address_only for scheme in SCHEMES}


@functools.cache
def own_fields() -> tuple[Field, ...]:
    """Every protocol's own service keys (tcp's `tls`, `protocol`), in registry order: the
    manifest reader takes them all, and each protocol's allow-list says which are its."""
    return tuple(field for protocol in every_protocol() for field in protocol.shape.fields)
