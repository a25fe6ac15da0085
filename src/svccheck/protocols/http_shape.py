"""What an `http://` or `https://` service takes in the manifest: its keys (all but the tcp://
ones), its rules, and how its health endpoint and sample checks are built."""

from __future__ import annotations

import json
from collections.abc import Collection
from urllib.parse import urlsplit, urlunsplit

from svccheck.grammar import schema
from svccheck.grammar.issues import Reporter
from svccheck.grammar.positions import Path
from svccheck.grammar.protocol import ProtocolShape, service_of
from svccheck.grammar.settings import Layer, merge, tunables, verify_setting
from svccheck.grammar.shape import INVALID, Field
from svccheck.model import (
    ANY_2XX,
    Check,
    ClientCertificate,
    Expect,
    HttpRequest,
    JsonSchema,
    ResponseContract,
    Service,
)
from svccheck.protocols.client_certificate import client_certificate
from svccheck.protocols.http_contracts import (
    ContractProblem,
    Contracts,
    body_schema_of,
    openapi_source,
    operation_of,
)

UNSAFE_METHODS = frozenset({"POST", "PATCH"})
HTTP2_EXTRA = "svccheck[http2]"
NO_CONTRACTS = Contracts()


def _foreign(key: str, service: str, allowed: Collection[str], owner: str | None) -> str:
    # every key an HTTP service refuses is another protocol's own (common keys are all HTTP's)
    whose = f"for {owner}:// services" if owner is not None else "not an HTTP key"
    return f"{key!r} is {whose}; {service!r} is an HTTP service"


def http2_rule(level: schema.Tunables | None, where: Path, report: Reporter) -> None:
    """`http2: true` needs h2, the optional extra: a manifest error naming it, at the key."""
    if level is not None and level is not INVALID and level.http2 is True and not _h2_installed():
        report.error((*where, "http2"), f"http2: true needs the h2 package: pip install '{HTTP2_EXTRA}'")


def _h2_installed() -> bool:
    import importlib.util  # found without importing it: reading a manifest stays light

    try:
        return importlib.util.find_spec("h2") is not None
    except (ImportError, ValueError):  # ValueError: hidden (`sys.modules["h2"] = None`)
        return False


def _rules(name: str, svc: schema.ServiceSpec, where: Path, report: Reporter) -> None:
    http2_rule(svc, where, report)
    for index, check in enumerate(svc.checks if svc.checks is not INVALID else []):
        http2_rule(check, (*where, "checks", index), report)
    if svc.health is not None:
        http2_rule(svc.health, (*where, "health"), report)
    given = sorted(svc.written & set(schema.CLIENT_CERTIFICATE_KEYS))
    if given and svc.url is not INVALID and urlsplit(svc.url).scheme == "http":
        report.error((*where, given[0]), "a client certificate needs TLS: use https://", key=True)
    if svc.health is None and svc.checks == [] and not svc.unknown:  # `helth: /h` said it already
        report.error(where, f"service {name!r} has neither 'health' nor 'checks': nothing to probe", key=True)
    seen: set[str] = set()
    if svc.health is not None and svc.health is not INVALID:
        seen.add("health")
        _check_rules(svc.health, (*where, "health"), report)
    if svc.checks is INVALID:
        return
    for index, check in enumerate(svc.checks):
        check_where = (*where, "checks", index)
        if check is INVALID:
            continue
        _check_rules(check, check_where, report)
        check_name = _check_name(check, "check")
        if check_name is None:
            continue
        if check_name in seen:
            report.error((*check_where, "name"), f"duplicate check name {check_name!r} in service {name!r}")
        seen.add(check_name)


def _check_rules(check: schema.CheckSpec, where: Path, report: Reporter) -> None:
    if check.body is not None and check.json_ is not None:
        report.error(where, "give either 'body' or 'json' as the request body, not both", key=True)


def _check_name(spec: schema.CheckSpec, kind: str) -> str | None:
    """The name a check is reported by; None while a part of it is invalid."""
    if spec.name is INVALID or (spec.name is None and INVALID in (spec.method, spec.path)):
        return None
    return spec.name or ("health" if kind == "health" else f"{spec.method} {spec.path}")


def _file_rules(
    name: str, svc: schema.ServiceSpec, where: Path, report: Reporter, manifest_path: str
) -> None:
    """Each check's contracts read and checked: every problem at its key; a service's `openapi`
    that cannot be read, once, at that key."""
    if svc.url is INVALID:
        return
    entries: list[tuple[schema.CheckSpec, Path, str]] = []
    if svc.health is not None and svc.health is not INVALID:
        entries.append((svc.health, (*where, "health"), "health"))
    if svc.checks is not INVALID:
        entries.extend(
            (c, (*where, "checks", i), "check") for i, c in enumerate(svc.checks) if c is not INVALID
        )
    said_service = False
    for spec, check_where, kind in entries:
        for read in (_body_schema, _operation):
            try:
                read(svc, spec, kind, manifest_path, check_where)
            except ContractProblem as problem:
                if not problem.service_level:
                    report.error((*check_where, *problem.key), str(problem))
                elif not said_service:
                    said_service = True
                    report.error((*where, "openapi"), str(problem))


def _body_schema(
    svc: schema.ServiceSpec, spec: schema.CheckSpec, kind: str, manifest_path: str, where: Path
) -> JsonSchema | None:
    return body_schema_of(spec, manifest_path=manifest_path, where=where)


def _operation(
    svc: schema.ServiceSpec, spec: schema.CheckSpec, kind: str, manifest_path: str, where: Path
) -> ResponseContract | None:
    source, from_service = openapi_source(spec, kind, svc.value("openapi"))
    if source is None:  # most checks: no URL to join
        return None
    path = spec.path if isinstance(spec.path, str) else "/"
    url = join_url(svc.url, path)
    return operation_of(spec, source=source, from_service=from_service, url=url, manifest_path=manifest_path)


def _contracts(
    svc: schema.ServiceSpec, spec: schema.CheckSpec, kind: str, manifest_path: str, where: Path
) -> Contracts:
    return Contracts(
        _body_schema(svc, spec, kind, manifest_path, where), _operation(svc, spec, kind, manifest_path, where)
    )


def _service(name: str, svc: schema.ServiceSpec, layers: list[Layer], manifest_path: str) -> Service:
    service_layers = [*layers, tunables(svc)]
    client = client_certificate(svc, manifest_path)
    checks: list[Check] = []
    where: Path = ("services", name)
    if svc.health is not None:
        contracts = _contracts(svc, svc.health, "health", manifest_path, (*where, "health"))
        checks.append(
            _check(name, svc.url, svc.health, "health", service_layers, manifest_path, client, contracts)
        )
    for index, spec in enumerate(svc.checks):
        contracts = _contracts(svc, spec, "check", manifest_path, (*where, "checks", index))
        checks.append(_check(name, svc.url, spec, "check", service_layers, manifest_path, client, contracts))
    return service_of(name, svc, tuple(checks))


def _check(
    service: str,
    base_url: str,
    spec: schema.CheckSpec,
    kind: str,
    layers: list[Layer],
    manifest_path: str,
    client: ClientCertificate | None = None,
    contracts: Contracts = NO_CONTRACTS,
) -> Check:
    settings = merge([*layers, tunables(spec)])
    method = spec.method
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = settings["headers"]
    if spec.json_ is not None:
        body = json.dumps(spec.json_).encode()
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers = (*headers, ("Content-Type", "application/json"))
    elif spec.body is not None:
        body = spec.body.encode()
    name = _check_name(spec, kind)
    assert name is not None  # built only from a manifest without problems
    return Check(
        service=service,
        name=name,
        kind="health" if kind == "health" else "check",
        url=join_url(base_url, spec.path),
        target=HttpRequest(
            method=method,
            headers=headers,
            body=body,
            retry_unsafe=bool(spec.idempotent) if method in UNSAFE_METHODS else spec.idempotent is not False,
            client_cert=client,
            http2=bool(settings["http2"]),
        ),
        expect=_expect(spec.expect, kind, contracts),
        timeout=settings["timeout"],
        retries=settings["retries"],
        backoff=settings["backoff"],
        verify_tls=verify_setting(settings["verify_tls"], manifest_path),
        # a `traceparent` header written in the manifest is sent as written, and is the only one
        trace=bool(settings["trace"]) and not any(k.lower() == "traceparent" for k, _ in headers),
    )


def _expect(spec: schema.ExpectSpec | None, kind: str, contracts: Contracts = NO_CONTRACTS) -> Expect | None:
    if spec is None:
        if contracts.openapi is not None:  # the service's `openapi`, on a check with no `expect`
            return Expect(status=ANY_2XX, openapi=contracts.openapi)
        return None if kind == "health" else Expect(status=ANY_2XX)
    return Expect(
        status=spec.status if spec.status is not None else ANY_2XX,
        max_latency=spec.max_latency,
        warn_latency=spec.warn_latency,
        headers=tuple((spec.headers or {}).items()),
        body=spec.body,
        json=tuple((spec.json_ or {}).items()),
        max_dns=spec.max_dns,
        max_connect=spec.max_connect,
        max_tls=spec.max_tls,
        max_ttfb=spec.max_ttfb,
        tls_min_days=spec.tls_min_days,
        tls_warn_days=spec.tls_warn_days,
        schema=contracts.schema,
        openapi=contracts.openapi,
    )


def join_url(base: str, path: str) -> str:
    """`http://h/api` + `/health` → `http://h/api/health`; both query strings are kept."""
    parts = urlsplit(base)
    rel_path, _, rel_query = path.partition("?")
    if rel_path and not rel_path.startswith("/"):
        rel_path = "/" + rel_path
    full_path = parts.path.rstrip("/") + rel_path if rel_path not in ("", "/") else (parts.path or "/")
    if rel_path == "/" and parts.path not in ("", "/"):
        full_path = parts.path.rstrip("/") + "/"
    query = "&".join(q for q in (parts.query, rel_query) if q)
    return urlunsplit((parts.scheme, parts.netloc, full_path or "/", query, parts.fragment))


# HTTP's own service key: the checks of the service are matched to its operations
OPENAPI = Field(
    "openapi",
    schema.OPENAPI_SOURCE,
    description=(
        "an OpenAPI 3.0 / 3.1 document relative to the manifest: each of the service's checks is matched "
        "to its operation by method and path, and its answer must be one that operation declares"
    ),
    examples=["specs/billing.yaml"],
)

SHAPE = ProtocolShape(
    service_keys=frozenset({*schema.SERVICE.keys, OPENAPI.key}),  # every common key, and its own
    health_keys=frozenset(schema.CHECK.keys),
    check_keys=frozenset(schema.CHECK.keys),
    expect_keys=frozenset(schema.EXPECT.keys),
    foreign=_foreign,
    build=_service,
    rules=_rules,
    fields=(OPENAPI,),
    file_rules=_file_rules,
)
