"""A `tcp://host:port` service → one connection check; its keys are an allow-list.

A TCP service has no requests to describe: it is checked by connecting (and
handshaking TLS with `tls: true`) and, with `protocol`, by a protocol-level
ping. Timeouts, retries, backoff, `verify_tls`, `critical`, `tags` and
`depends_on` work as for HTTP; `expect` may bound the latency, the one thing a
TCP answer is judged by. It does not read the peer certificate nor time the
phases (its snapshot has no timings), so `tls_min_days`, `tls_warn_days` and
`max_dns`/`max_connect`/`max_tls`/`max_ttfb` are not in the list: they are
errors rather than bounds that would silently never be checked.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from svccheck.manifest import schema
from svccheck.manifest.protocol import ProtocolShape
from svccheck.manifest.settings import Layer, merge, tunables, verify_setting
from svccheck.model import Check, Expect, Service, TcpTarget

_TUNABLES = frozenset(schema.TUNABLE_NAMES) - {"headers"}  # no request to carry headers


def _foreign(key: str, service: str, allowed: Collection[str]) -> str:
    import difflib  # only when a key is wrong

    label = key if " " in key else repr(key)  # "a health path" is not a key name
    message = (
        f"{label} is for HTTP checks, an unknown key for a tcp:// service "
        f"({service!r} is checked by connecting, and with 'protocol', a ping)"
    )
    hint = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    if hint:
        return f"{message} (did you mean {hint[0]!r}?)"
    return f"{message}; allowed here: {', '.join(sorted(allowed))}"


def _service(name: str, svc: schema.ServiceSpec, layers: list[Layer], manifest_path: str) -> Service:
    check_layers = [*layers, tunables(svc)]
    expect: Expect | None = None
    health = svc.health
    if health is not None:
        if health.expect is not None:
            expect = Expect(max_latency=health.expect.max_latency, warn_latency=health.expect.warn_latency)
        check_layers.append(tunables(health))
    settings = merge(check_layers)
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
        url=svc.url,
        target=target,
        expect=expect or Expect(),
        timeout=settings["timeout"],
        retries=settings["retries"],
        backoff=settings["backoff"],
        verify_tls=verify_setting(settings["verify_tls"], manifest_path),
    )
    return Service(
        name=name,
        url=svc.url,
        critical=svc.critical,
        tags=tuple(svc.tags),
        depends_on=tuple(svc.depends_on),
        checks=(check,),
    )


TCP = ProtocolShape(
    name="tcp",
    schemes=("tcp",),
    service_keys=frozenset(
        {"url", "tls", "protocol", "critical", "tags", "depends_on", "description", "health", *_TUNABLES}
    ),
    health_keys=frozenset({"name", "expect", *_TUNABLES}),
    check_keys=frozenset(),  # no `checks`: one connection check per service
    expect_keys=frozenset({"max_latency", "warn_latency"}),
    foreign=_foreign,
    build=_service,
)
