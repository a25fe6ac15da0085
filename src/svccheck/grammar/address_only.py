"""A protocol whose service is one check at `scheme://host:port` (tcp://, grpc://).

Such a service sends no HTTP request, so it takes no headers, HTTP/2, trace
context or credential, and has no `checks:` list: the keys it takes, the message
for a key it refuses and the one check it is built into are the same for each
such protocol and live here; a protocol gives what is its own (its fields, the
expectations it can judge, its rules, its target).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from svccheck.grammar import schema
from svccheck.grammar.protocol import Build, Foreign, ProtocolShape, Rules, service_of
from svccheck.grammar.settings import Layer, merge, tunables, verify_setting
from svccheck.model import Check, Expect, Service, Target

if TYPE_CHECKING:
    from svccheck.grammar.shape import Field

TUNABLES = frozenset(schema.TUNABLE_NAMES) - {"headers", "http2", "trace", "auth"}  # no HTTP request


def address_only_shape(
    *,
    fields: tuple[Field, ...],
    expect_keys: Iterable[str],
    foreign: Foreign,
    build: Build,
    rules: Rules,
) -> ProtocolShape:
    """The shape of a one-check protocol: the common service keys, a client certificate, `fields`."""
    service_keys = {"url", "critical", "tags", "depends_on", "description", "health", *TUNABLES}
    return ProtocolShape(
        service_keys=frozenset({*service_keys, *schema.CLIENT_CERTIFICATE_KEYS, *(f.key for f in fields)}),
        health_keys=frozenset({"name", "expect", *TUNABLES}),
        check_keys=frozenset(),  # no `checks`: one check per service
        expect_keys=frozenset(expect_keys),
        foreign=foreign,
        build=build,
        rules=rules,
        fields=fields,
        address_only=True,
    )


def refusing(kind: str, checked_by: str) -> Foreign:
    """The message for a key a one-check protocol does not take: whose key it is, or what is allowed.

    `kind` names the service ("a gRPC service"); `checked_by` says how it is checked."""

    def foreign(key: str, service: str, allowed: Collection[str], owner: str | None) -> str:
        import difflib  # only when a key is wrong

        label = key if " " in key else repr(key)  # "a health path" is not a key name
        whose = f"{owner}:// services" if owner is not None else "HTTP checks"
        message = f"{label} is for {whose}, an unknown key for {kind} ({service!r} {checked_by})"
        hint = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
        if hint:
            return f"{message} (did you mean {hint[0]!r}?)"
        return f"{message}; allowed here: {', '.join(sorted(allowed))}"

    return foreign


def health_service(
    name: str,
    svc: schema.ServiceSpec,
    layers: list[Layer],
    manifest_path: str,
    *,
    target: Target,
    default_name: str,
    expect_keys: Iterable[str],
) -> Service:
    """The service with its one health check: tunables layered defaults → service → health, the
    expectations of `expect_keys` as written under `health.expect`."""
    check_layers = [*layers, tunables(svc)]
    expect = Expect()
    health = svc.health
    if health is not None:
        if health.expect is not None:
            expect = Expect(**{key: getattr(health.expect, key) for key in expect_keys})
        check_layers.append(tunables(health))
    settings = merge(check_layers)
    check = Check(
        service=name,
        name=health.name if health is not None and health.name else default_name,
        kind="health",
        url=svc.url,
        target=target,
        expect=expect,
        timeout=settings["timeout"],
        retries=settings["retries"],
        backoff=settings["backoff"],
        verify_tls=verify_setting(settings["verify_tls"], manifest_path),
    )
    return service_of(name, svc, (check,))


__all__ = ["TUNABLES", "address_only_shape", "health_service", "refusing"]
