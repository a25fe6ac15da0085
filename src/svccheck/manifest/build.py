"""A manifest spec without problems → the immutable runtime model, by each service's protocol.

Building cannot fail: every problem was reported before, by the shape and the
rules (`svccheck.manifest.rules`), in one pass. Each service is built by the
shape of its URL scheme's protocol (`svccheck.protocols.shapes`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from svccheck.grammar import schema
from svccheck.grammar.settings import tunables
from svccheck.manifest.auth import credential_secrets, credentials, with_auth
from svccheck.model import Manifest
from svccheck.protocols import shapes


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
    by_scheme = shapes()
    services = tuple(
        by_scheme[urlsplit(svc.url).scheme].build(name, svc, layers, path)
        for name, svc in spec.services.items()
    )
    built = credentials(spec, layers, path)
    services = with_auth(services, spec, env, built)
    secrets = secrets | credential_secrets(built)
    return Manifest(path=path, services=services, secrets=secrets, secret_vars=secret_vars)
