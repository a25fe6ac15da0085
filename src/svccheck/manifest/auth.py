"""The built checks' credentials and captures: `auth:` names resolved, `capture:` read, uses found.

Every name was checked before (`svccheck.manifest.captures`): building cannot fail.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from svccheck.grammar import schema
from svccheck.grammar.auth import NO_AUTH, CredentialSpec, capture_names
from svccheck.grammar.settings import Layer, merge, verify_setting
from svccheck.model import (
    BasicCredential,
    Capture,
    Check,
    Credential,
    HttpRequest,
    OAuth2Credential,
    Service,
)


def credentials(spec: schema.ManifestSpec, layers: list[Layer], manifest_path: str) -> dict[str, Credential]:
    """The named credentials; a token request takes the top-level (and environment) defaults."""
    settings = merge(layers)
    built: dict[str, Credential] = {}
    for name, raw in spec.auth.items():
        assert isinstance(raw, CredentialSpec)
        if raw.oauth2 is not None:
            o = raw.oauth2
            form = [("grant_type", "client_credentials")]
            form += [(k, v) for k, v in (("scope", o.scope), ("audience", o.audience)) if v]
            form += list((o.form or {}).items())
            built[name] = OAuth2Credential(
                name=name,
                token_url=o.token_url,
                client_id=o.client_id,
                client_secret=o.client_secret,
                client_auth=o.client_auth,
                form=tuple(form),
                timeout=settings["timeout"],
                retries=settings["retries"],
                backoff=settings["backoff"],
                verify_tls=verify_setting(settings["verify_tls"], manifest_path),
            )
        elif raw.basic is not None:
            built[name] = BasicCredential(name, raw.basic.username, raw.basic.password)
    return built


def credential_secrets(built: dict[str, Credential]) -> set[str]:
    """Client secrets and passwords, and the Basic forms a server may echo: masked by value."""
    found: set[str] = set()
    for credential in built.values():
        if isinstance(credential, OAuth2Credential):
            found.add(credential.client_secret)
            found.add(basic_value(credential.client_id, credential.client_secret))
        else:
            found.add(credential.password)
            found.add(basic_value(credential.username, credential.password))
    return {value for value in found if value}


def basic_value(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def with_auth(
    services: tuple[Service, ...],
    spec: schema.ManifestSpec,
    env: str | None,
    built: dict[str, Credential],
) -> tuple[Service, ...]:
    """Each check with its credential (the most specific `auth:` wins), captures and uses."""
    top = [getattr(spec.defaults, "auth", None)]
    if env is not None and spec.environments[env].defaults is not None:
        top.append(getattr(spec.environments[env].defaults, "auth", None))
    out: list[Service] = []
    for service in services:
        svc = spec.services[service.name]
        check_specs: list[Any] = ([svc.health] if svc.health is not None else []) + list(svc.checks)
        checks: list[Check] = []
        # a tcp:// service without `health` still has its one check, built from the service
        check_specs += [None] * (len(service.checks) - len(check_specs))
        for check, check_spec in zip(service.checks, check_specs, strict=True):
            choices = [*top, getattr(svc, "auth", None), getattr(check_spec, "auth", None)]
            choice = next((c for c in reversed(choices) if c), None)
            credential = None if choice in (None, NO_AUTH) else built.get(str(choice))
            if not isinstance(check.target, HttpRequest):
                credential = None  # `defaults: {auth: …}` is for HTTP requests: tcp:// sends none
            captures = tuple(
                _capture(name, raw) for name, raw in (getattr(check_spec, "capture", None) or {}).items()
            )
            uses = tuple(dict.fromkeys(_uses(check)))
            if credential is not None or captures or uses:
                check = replace(check, auth=credential, captures=captures, uses=uses)
            checks.append(check)
        out.append(replace(service, checks=tuple(checks)))
    return tuple(out)


def _capture(name: str, raw: Any) -> Capture:
    return Capture(name=name, json_path=raw.json_, header=raw.header, secret=raw.secret)


def _uses(check: Check) -> list[str]:
    names = capture_names(check.url)
    if isinstance(check.target, HttpRequest):
        for header, value in check.target.headers:
            names += capture_names(header) + capture_names(value)
        if check.target.body:
            names += capture_names(check.target.body.decode("utf-8", "replace"))
    return names
