"""What a protocol owns in the manifest: the keys it accepts (an allow-list), its rules, its build.

Each protocol declares one `ProtocolShape` as data, in its own module
(`protocols/tcp.py`'s `SHAPE`; HTTP's is `protocols/http_shape.py`, apart from
its exchange so that reading a manifest never imports httpx), as the `shape`
of its `Protocol`. A key the shape does not list is an error at that key,
never a setting silently ignored: `tls_min_days` on a `tcp://` service used to
validate and then do nothing. The JSON Schema's per-scheme branches are
generated from the same lists. A key only one protocol takes (tcp's `tls` and
`protocol`) is declared in that protocol's shape (`fields`), once: the
manifest reader adds every protocol's own fields to the keys a service may
have (`grammar.schema.manifest_shape`), and the other protocols' allow-lists
leave them out, so a `tls` on an HTTP service says whose key it is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from svccheck.model import Check, Service

if TYPE_CHECKING:
    from svccheck.grammar import schema
    from svccheck.grammar.issues import Reporter
    from svccheck.grammar.positions import Path
    from svccheck.grammar.settings import Layer
    from svccheck.grammar.shape import Field

Json = dict[str, Any]
# (service name, its spec, tunable layers above it, manifest path) -> the runtime service
Build = Callable[[str, "schema.ServiceSpec", "list[Layer]", str], Service]
# (service name, its spec, where it is, reporter): the protocol's own cross-field rules
Rules = Callable[[str, "schema.ServiceSpec", "Path", "Reporter"], None]
# (service name, its spec, where it is, reporter, manifest path): rules that read the files a service
# names (HTTP's schemas and OpenAPI documents, relative to the manifest)
FileRules = Callable[[str, "schema.ServiceSpec", "Path", "Reporter", str], None]
# (key as shown, service name, keys allowed there, the URL scheme of the protocol whose own key it
# is, if any) -> the message for a key this protocol does not take
Foreign = Callable[[str, str, Collection[str], str | None], str]


@dataclass(frozen=True, slots=True)
class ProtocolShape:
    """What a protocol takes in the manifest; its name and URL schemes are its `Protocol`'s."""

    service_keys: frozenset[str]  # keys as written in the file
    health_keys: frozenset[str]
    check_keys: frozenset[str]  # keys of an entry of `checks` (when `checks` is a service key)
    expect_keys: frozenset[str]
    foreign: Foreign
    build: Build
    rules: Rules | None = None
    # service-level keys only this protocol takes, declared here (tcp's `tls`, `protocol`); the
    # build reads them with `spec.value(name)`; they are in `service_keys` too
    fields: tuple[Field, ...] = ()
    # its URL is scheme://host:port and nothing more (tcp://, grpc://): a path or query is an error
    address_only: bool = False
    file_rules: FileRules | None = None

    @property
    def own_keys(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields)

    def schema_branch(self, every: dict[str, frozenset[str]], schemes: tuple[str, ...]) -> Json:
        """`if: url is one of `schemes`, then: only these keys`; `every` is the keys each level has."""

        def only(keys: frozenset[str], level: str, inner: Json | None = None) -> Json | None:
            if keys >= every[level] and not inner:
                return None
            body: Json = {"type": "object"}
            if not keys >= every[level]:
                body["propertyNames"] = {"enum": sorted(keys)}
            if inner:
                body["properties"] = inner
            return {"anyOf": [{"type": "null"}, body]}

        expect = only(self.expect_keys, "expect")
        health = only(self.health_keys, "health", {"expect": expect} if expect else None)
        check = only(self.check_keys, "check", {"expect": expect} if expect else None)
        then: Json = {}
        if not self.service_keys >= every["service"]:
            then["propertyNames"] = {"enum": sorted(self.service_keys)}
        properties: Json = {}
        if health:
            properties["health"] = health
        if check and "checks" in self.service_keys:
            properties["checks"] = {"items": check["anyOf"][1]}
        if properties:
            then["properties"] = properties
        return {
            "if": {
                "properties": {"url": {"type": "string", "pattern": url_pattern(schemes)}},
                "required": ["url"],
            },
            "then": then,
        }


def service_of(name: str, svc: schema.ServiceSpec, checks: tuple[Check, ...]) -> Service:
    """A built service: the keys every protocol's services share (url, critical, tags,
    depends_on) around the checks the protocol built."""
    return Service(
        name=name,
        url=svc.url,
        critical=svc.critical,
        tags=tuple(svc.tags),
        depends_on=tuple(svc.depends_on),
        checks=checks,
    )


def url_pattern(schemes: tuple[str, ...]) -> str:
    """A JSON Schema pattern for a URL of these schemes, as the loader reads it (scheme in any case)."""
    from svccheck.grammar.tokens import WHITESPACE, any_case

    return f"^{WHITESPACE}*({'|'.join(any_case(scheme) for scheme in schemes)})://"
