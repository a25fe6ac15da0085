"""A manifest spec without problems → the immutable runtime model, by each service's protocol.

Building cannot fail: every problem was reported before, by the shape and the
rules (`svccheck.manifest.rules`), in one pass.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from svccheck.manifest import schema
from svccheck.manifest.http import HTTP, join_url
from svccheck.manifest.protocol import ProtocolShape
from svccheck.manifest.schema import to_matcher
from svccheck.manifest.settings import tunables
from svccheck.manifest.tcp import TCP
from svccheck.model import Manifest

__all__ = ["PROTOCOLS", "build_manifest", "join_url", "to_matcher"]

PROTOCOLS: dict[str, ProtocolShape] = {scheme: p for p in (HTTP, TCP) for scheme in p.schemes}


def build_manifest(
    spec: schema.ManifestSpec,
    *,
    path: str,
    env: str | None,
    secrets: frozenset[str],
    secret_vars: tuple[tuple[str, str], ...] = (),
) -> Manifest:
    layers = [tunables(spec.defaults)]
    if env is not None and spec.environments[env].defaults is not None:
        layers.append(tunables(spec.environments[env].defaults))
    services = tuple(
        PROTOCOLS[urlsplit(svc.url).scheme].build(name, svc, layers, path)
        for name, svc in spec.services.items()
    )
    return Manifest(path=path, services=services, secrets=secrets, secret_vars=secret_vars)
