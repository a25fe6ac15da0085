"""What the shape cannot see field by field, checked in the same pass as the shape.

The rules run on the spec the shape read even when it found problems: a value
it refused reads as `INVALID` and every rule that needs that value skips it,
so a typo in one place never hides a cross-field, protocol or file problem in
another (they used to appear one edit later).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from svccheck.grammar import schema
from svccheck.grammar.issues import Reporter
from svccheck.grammar.positions import Path
from svccheck.grammar.protocol import ProtocolShape
from svccheck.grammar.settings import ca_bundle_path
from svccheck.grammar.shape import INVALID, Spec
from svccheck.protocols.client_certificate import check_client_certificate
from svccheck.protocols.http_shape import http2_rule


def check_manifest(
    spec: schema.ManifestSpec,
    protocols: Mapping[str, ProtocolShape],
    *,
    env: str | None,
    manifest_path: str,
    report: Reporter,
) -> None:
    def ca_bundle(level: Spec | None, where: Path) -> None:
        value = getattr(level, "verify_tls", None) if _valid(level) else None
        if isinstance(value, str) and not ca_bundle_path(value, manifest_path).is_file():
            report.error((*where, "verify_tls"), f"verify_tls: CA bundle {value!r} not found")

    ca_bundle(spec.defaults, ("defaults",))
    http2_rule(spec.defaults, ("defaults",), report)
    if env is not None and _valid(spec.environments) and _valid(spec.environments.get(env)):
        ca_bundle(spec.environments[env].defaults, ("environments", env, "defaults"))
        http2_rule(spec.environments[env].defaults, ("environments", env, "defaults"), report)
    if not _valid(spec.services):
        return
    for name, svc in spec.services.items():
        if not _valid(svc):
            continue
        where: Path = ("services", name)
        ca_bundle(svc, where)
        check_client_certificate(svc, where, manifest_path, report)
        for check, check_where in _checks(svc, where):
            ca_bundle(check, check_where)
            if check.expect is not None and _valid(check.expect):
                _expect_rules(check.expect, (*check_where, "expect"), report)
        protocol = protocols.get(urlsplit(svc.url).scheme) if _valid(svc.url) else None
        if protocol is not None:
            _allow_list(name, svc, where, protocol, protocols, report)
            if protocol.rules is not None:
                protocol.rules(name, svc, where, report)
            if protocol.file_rules is not None:
                protocol.file_rules(name, svc, where, report, manifest_path)


def _checks(svc: schema.ServiceSpec, where: Path) -> list[tuple[schema.CheckSpec, Path]]:
    found: list[tuple[schema.CheckSpec, Path]] = []
    if svc.health is not None and _valid(svc.health):
        found.append((svc.health, (*where, "health")))
    if _valid(svc.checks):
        found.extend((c, (*where, "checks", i)) for i, c in enumerate(svc.checks) if _valid(c))
    return found


def _expect_rules(expect: schema.ExpectSpec, where: Path, report: Reporter) -> None:
    low, high = expect.tls_min_days, expect.tls_warn_days
    if isinstance(low, int) and isinstance(high, int) and high < low:
        report.error(
            (*where, "tls_warn_days"),
            f"tls_warn_days ({high}) is below tls_min_days ({low}): the warning would never show",
        )


def _owner(key: str, protocols: Mapping[str, ProtocolShape]) -> str | None:
    """The scheme of the protocol that declares `key` as its own, if one does (asked when a key is
    refused)."""
    return next((scheme for scheme, shape in protocols.items() if key in shape.own_keys), None)


def _allow_list(
    name: str,
    svc: schema.ServiceSpec,
    where: Path,
    protocol: ProtocolShape,
    protocols: Mapping[str, ProtocolShape],
    report: Reporter,
) -> None:
    """Every key the protocol does not take is an error at that key: none is silently ignored."""

    def refuse(keys: frozenset[str], allowed: frozenset[str], at: Path) -> None:
        for key in sorted(keys - allowed):
            message = protocol.foreign(key, name, allowed, _owner(key, protocols))
            report.error((*at, key), message, key=True)

    refuse(svc.written, protocol.service_keys, where)
    health = svc.health
    if health is not None and _valid(health):
        health_where = (*where, "health")
        written = health.written
        if (
            "path" not in protocol.health_keys
            and "path" in written
            and not report.written((*health_where, "path"))
        ):
            # `health: /path`, the shorthand: its path is the whole value
            report.error(health_where, protocol.foreign("a health path", name, protocol.health_keys, None))
            written = written - {"path"}
        refuse(written, protocol.health_keys, health_where)
        if _valid(health.expect) and health.expect is not None:
            refuse(health.expect.written, protocol.expect_keys, (*health_where, "expect"))
    if "checks" in protocol.service_keys and _valid(svc.checks):
        for index, check in enumerate(svc.checks):
            if not _valid(check):
                continue
            check_where = (*where, "checks", index)
            refuse(check.written, protocol.check_keys, check_where)
            if _valid(check.expect) and check.expect is not None:
                refuse(check.expect.written, protocol.expect_keys, (*check_where, "expect"))


def _valid(value: object) -> bool:
    return value is not INVALID
