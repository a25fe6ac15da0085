"""Validated manifest spec → the immutable runtime model, plus cross-field checks.

What the shape cannot see field by field is checked here: URLs, duplicate
check names, JSONPath syntax, `depends_on` names and cycles, CA bundle paths.
"""

from __future__ import annotations

import json
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from svccheck.manifest import schema
from svccheck.manifest.errors import ManifestIssue
from svccheck.manifest.source import Path, Positions
from svccheck.model import ANY_2XX, Check, Expect, Manifest, Matcher, Service, StatusExpect

BUILTIN_DEFAULTS = {"timeout": 5.0, "retries": 2, "backoff": 0.2, "verify_tls": True}
UNSAFE_METHODS = frozenset({"POST", "PATCH"})


class _Context:
    def __init__(self, path: str, positions: Positions) -> None:
        self.path = path
        self.positions = positions
        self.issues: list[ManifestIssue] = []

    def error(self, where: Path, message: str, *, key: bool = False) -> None:
        pos = self.positions.of_key(where) if key else self.positions.of_value(where)
        self.issues.append(ManifestIssue(message, *(pos or (1, 1))))


def build_manifest(
    spec: schema.ManifestSpec,
    *,
    path: str,
    env: str | None,
    positions: Positions,
    secrets: frozenset[str],
    secret_vars: tuple[tuple[str, str], ...] = (),
) -> tuple[Manifest, list[ManifestIssue]]:
    ctx = _Context(path, positions)
    if spec.version != 1:
        ctx.error(("version",), f"unsupported manifest version {spec.version}; this svccheck reads version 1")
    layers = [_tunables(spec.defaults)]
    if env is not None and spec.environments[env].defaults is not None:
        layers.append(_tunables(spec.environments[env].defaults))
    services = tuple(_service(name, svc, layers, ctx) for name, svc in spec.services.items())
    return Manifest(path=path, services=services, secrets=secrets, secret_vars=secret_vars), ctx.issues


def _tunables(spec: schema.Tunables | schema.ServiceSpec | schema.CheckSpec | None) -> dict[str, Any]:
    """The settings this level sets (timeout, retries, ...), by name."""
    if spec is None:
        return {}
    return {name: value for name in schema.TUNABLE_NAMES if (value := getattr(spec, name)) is not None}


def _merge(layers: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(BUILTIN_DEFAULTS)
    headers: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for key, value in layer.items():
            if key == "headers":
                # Header names are case-insensitive: a later `user-agent` replaces `User-Agent`.
                headers.update({name.lower(): (name, val) for name, val in value.items()})
            else:
                merged[key] = value
    merged["headers"] = tuple(headers.values())
    return merged


def _service(name: str, svc: schema.ServiceSpec, layers: list[dict[str, Any]], ctx: _Context) -> Service:
    where: Path = ("services", name)
    if urlsplit(svc.url).scheme == "tcp":
        from svccheck.manifest.tcp import tcp_service

        return tcp_service(name, svc, layers, ctx)
    for key in ("tls", "protocol"):
        if key in svc.fields_set:
            ctx.error(
                (*where, key),
                f"'{key}' is for tcp:// services; {name!r} is {svc.url.split(':')[0]}",
                key=True,
            )
    base_url = svc.url
    service_layers = [*layers, _tunables(svc)]
    checks: list[Check] = []
    if svc.health is None and not svc.checks:
        ctx.error(where, f"service {name!r} has neither 'health' nor 'checks': nothing to probe", key=True)
    if svc.health is not None:
        checks.append(_check(name, base_url, svc.health, "health", (*where, "health"), service_layers, ctx))
    seen: dict[str, int] = {"health": -1} if svc.health is not None else {}
    for index, check_spec in enumerate(svc.checks):
        check_where = (*where, "checks", index)
        check = _check(name, base_url, check_spec, "check", check_where, service_layers, ctx)
        if check.name in seen:
            ctx.error((*check_where, "name"), f"duplicate check name {check.name!r} in service {name!r}")
        seen[check.name] = index
        checks.append(check)
    return Service(
        name=name,
        url=base_url,
        critical=svc.critical,
        tags=tuple(svc.tags),
        depends_on=tuple(svc.depends_on),
        checks=tuple(checks),
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


def _check(
    service: str,
    base_url: str,
    spec: schema.CheckSpec,
    kind: str,
    where: Path,
    layers: list[dict[str, Any]],
    ctx: _Context,
) -> Check:
    settings = _merge([*layers, _tunables(spec)])
    method = spec.method
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = settings["headers"]
    if spec.body is not None and spec.json_ is not None:
        ctx.error(where, "give either 'body' or 'json' as the request body, not both", key=True)
    if spec.json_ is not None:
        body = json.dumps(spec.json_).encode()
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers = (*headers, ("Content-Type", "application/json"))
    elif spec.body is not None:
        body = spec.body.encode()
    verify = settings["verify_tls"]
    if isinstance(verify, str):
        verify = _ca_bundle(verify, where, ctx)
    name = spec.name or ("health" if kind == "health" else f"{method} {spec.path}")
    return Check(
        service=service,
        name=name,
        kind="health" if kind == "health" else "check",
        method=method,
        url=join_url(base_url, spec.path),
        headers=headers,
        body=body,
        expect=_expect(spec.expect, kind, (*where, "expect"), ctx),
        timeout=settings["timeout"],
        retries=settings["retries"],
        backoff=settings["backoff"],
        verify_tls=verify,
        retry_unsafe=bool(spec.idempotent) if method in UNSAFE_METHODS else spec.idempotent is not False,
    )


def _ca_bundle(value: str, where: Path, ctx: _Context) -> str:
    candidate = FsPath(value).expanduser()
    if not candidate.is_absolute():
        candidate = FsPath(ctx.path).resolve().parent / candidate
    if not candidate.is_file():
        ctx.error((*where, "verify_tls"), f"verify_tls: CA bundle {value!r} not found")
    return str(candidate)


def _expect(spec: schema.ExpectSpec | None, kind: str, where: Path, ctx: _Context) -> Expect | None:
    if spec is None:
        return None if kind == "health" else Expect(status=ANY_2XX)
    json_paths: list[tuple[str, Matcher]] = []
    for query, value in (spec.json_ or {}).items():
        try:
            from svccheck.expect import json_query

            json_query(query)
        except Exception as exc:  # the library raises its own hierarchy; any failure is a bad path
            ctx.error((*where, "json", query), f"bad JSONPath {query!r}: {exc}", key=True)
        json_paths.append((query, to_matcher(value)))
    if (
        spec.tls_min_days is not None
        and spec.tls_warn_days is not None
        and spec.tls_warn_days < spec.tls_min_days
    ):
        ctx.error(
            (*where, "tls_warn_days"),
            f"tls_warn_days ({spec.tls_warn_days}) is below tls_min_days ({spec.tls_min_days}): "
            "the warning would never show",
        )
    return Expect(
        status=_status(spec.status) if spec.status is not None else ANY_2XX,
        max_latency=spec.max_latency,
        warn_latency=spec.warn_latency,
        headers=tuple((name, to_matcher(v)) for name, v in (spec.headers or {}).items()),
        body=to_matcher(spec.body) if spec.body is not None else None,
        json=tuple(json_paths),
        max_dns=spec.max_dns,
        max_connect=spec.max_connect,
        max_tls=spec.max_tls,
        max_ttfb=spec.max_ttfb,
        tls_min_days=spec.tls_min_days,
        tls_warn_days=spec.tls_warn_days,
    )


def to_matcher(value: object) -> Matcher:
    if schema.is_matcher_mapping(value):
        assert isinstance(value, dict)
        return Matcher(tuple(value.items()))
    return Matcher((("eq", value),))


def _status(value: object) -> StatusExpect:
    items = value if isinstance(value, list) else [value]
    codes: set[int] = set()
    classes: set[int] = set()
    for item in items:
        text = str(item).strip().lower()
        if text.endswith("xx"):
            classes.add(int(text[0]))
        else:
            codes.add(int(text))
    label = ", ".join(str(i) for i in items) if isinstance(value, list) else str(value)
    return StatusExpect(codes=frozenset(codes), classes=frozenset(classes), text=label)
