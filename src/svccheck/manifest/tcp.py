"""A `tcp://host:port` service → one connection check; HTTP-only keys are errors.

A TCP service has no requests to describe: it is checked by connecting (and
handshaking TLS with `tls: true`) and, with `protocol`, by a protocol-level
ping. Timeouts, retries, backoff, `verify_tls`, `critical`, `tags` and
`depends_on` work as for HTTP; `expect` may bound the latency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from svccheck.model import Check, Expect, Service, TcpTarget

if TYPE_CHECKING:
    from svccheck.manifest import schema
    from svccheck.manifest.build import _Context
    from svccheck.manifest.source import Path

# Keys that describe an HTTP request or answer; on a tcp:// service they would silently do nothing.
_HTTP_SERVICE_KEYS = ("headers", "checks")
_HTTP_CHECK_KEYS = ("method", "path", "headers", "body", "json_", "idempotent")
_HTTP_EXPECT_KEYS = ("status", "headers", "body", "json_")


def tcp_service(name: str, svc: schema.ServiceSpec, layers: list[dict[str, Any]], ctx: _Context) -> Service:
    from svccheck.manifest.build import _ca_bundle, _merge, _tunables

    where: Path = ("services", name)
    for key in _HTTP_SERVICE_KEYS:
        if key in svc.fields_set:
            ctx.error((*where, key), _http_only(key, name), key=True)
    check_layers = [*layers, _tunables(svc)]
    expect: Expect | None = None
    health = svc.health
    if health is not None:
        health_where: Path = (*where, "health")
        for key in _HTTP_CHECK_KEYS:
            if key not in health.fields_set:
                continue
            if (*health_where, _alias(key)) not in ctx.positions.keys:  # `health: /path` shorthand
                ctx.error(health_where, _http_only("a health path", name))
            else:
                ctx.error((*health_where, _alias(key)), _http_only(_alias(key), name), key=True)
        if health.expect is not None:
            for key in _HTTP_EXPECT_KEYS:
                if key in health.expect.fields_set:
                    ctx.error((*health_where, "expect", _alias(key)), _http_only(_alias(key), name), key=True)
            expect = Expect(max_latency=health.expect.max_latency, warn_latency=health.expect.warn_latency)
        check_layers.append(_tunables(health))
    settings = _merge(check_layers)
    verify = settings["verify_tls"]
    if isinstance(verify, str):
        verify = _ca_bundle(verify, where, ctx)
    parts = urlsplit(svc.url)
    target = TcpTarget(
        host=parts.hostname or "",
        port=parts.port or 0,
        tls=bool(svc.tls),
        protocol=svc.protocol,
    )
    check = Check(
        service=name,
        name=(health.name if health is not None and health.name else svc.protocol or "connect"),
        kind="health",
        method="TCP",
        url=svc.url,
        headers=(),
        body=None,
        expect=expect or Expect(),
        timeout=settings["timeout"],
        retries=settings["retries"],
        backoff=settings["backoff"],
        verify_tls=verify,
        retry_unsafe=True,
        tcp=target,
    )
    return Service(
        name=name,
        url=svc.url,
        critical=svc.critical,
        tags=tuple(svc.tags),
        depends_on=tuple(svc.depends_on),
        checks=(check,),
    )


def _alias(key: str) -> str:
    return "json" if key == "json_" else key


def _http_only(key: str, name: str) -> str:
    label = key if " " in key else repr(key)
    return (
        f"{label} is for HTTP checks; {name!r} is a tcp:// service, checked by connecting "
        "(and with 'protocol', a ping)"
    )
