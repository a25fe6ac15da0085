"""An HTTP check's contracts: the JSON Schema of `expect.schema`, and the OpenAPI operation its
method and path match (its own `expect.openapi`, or its service's `openapi`).

One function says which contracts apply to a check and reads them; the manifest's rules
call it to report every problem at its key, and the build calls it again to make the
check (the documents are read once: `grammar.contracts` and `grammar.openapi` keep them).
"""

from __future__ import annotations

from dataclasses import dataclass

from svccheck.grammar import schema
from svccheck.grammar.contracts import ContractError, load_schema
from svccheck.grammar.openapi import load_openapi, operation_contract
from svccheck.grammar.positions import Path
from svccheck.grammar.shape import INVALID
from svccheck.model import JsonSchema, ResponseContract


@dataclass(frozen=True, slots=True)
class Contracts:
    """A check's response contracts: a JSON Schema for its body, or an OpenAPI operation's."""

    schema: JsonSchema | None = None
    openapi: ResponseContract | None = None


class ContractProblem(ContractError):
    """A contract problem and the key it belongs at, under the check (or the service: `openapi`)."""

    def __init__(self, message: str, key: tuple[str, ...], *, service_level: bool = False) -> None:
        super().__init__(message)
        self.key = key
        self.service_level = service_level


def openapi_source(spec: schema.CheckSpec, kind: str, service_openapi: object) -> tuple[str | None, bool]:
    """The OpenAPI document for this check, and whether it is its service's: a check's own
    `expect.openapi` wins (`false` turns the service's off); a service's applies to its `checks`,
    not to its health endpoint, which APIs seldom document."""
    expect = spec.expect
    own = expect.openapi if expect is not None and expect is not INVALID else None
    if own is False or own is INVALID:
        return None, False
    if isinstance(own, str):
        return own, False
    if kind == "check" and isinstance(service_openapi, str):
        return service_openapi, True
    return None, False


def body_schema_of(spec: schema.CheckSpec, *, manifest_path: str, where: Path) -> JsonSchema | None:
    """The check's `expect.schema`, read and checked; a ContractProblem at that key."""
    expect = spec.expect
    if expect is None or expect is INVALID or expect.schema in (None, INVALID):
        return None
    try:
        return load_schema(expect.schema, manifest_path, written=".".join(str(part) for part in where))
    except ContractError as exc:
        raise ContractProblem(f"expect.schema: {exc}", ("expect", "schema")) from None


def operation_of(
    spec: schema.CheckSpec, *, source: str, from_service: bool, url: str, manifest_path: str
) -> ResponseContract | None:
    """What the OpenAPI operation of the check's method and path declares in `source` (found by
    `openapi_source`); a ContractProblem at the check's `expect.openapi`, or at its path (a path
    no operation has), or at the service's `openapi` (a document that cannot be read). `url` is
    the check's whole URL: its path is matched with the service URL's path before it."""
    from urllib.parse import urlsplit

    key = ("path",) if from_service else ("expect", "openapi")
    try:
        document = load_openapi(source, manifest_path)
    except ContractError as exc:
        if from_service:
            raise ContractProblem(f"openapi: {exc}", ("openapi",), service_level=True) from None
        raise ContractProblem(f"expect.openapi: {exc}", key) from None
    if spec.method is INVALID or spec.path is INVALID:
        return None
    try:
        return operation_contract(document, spec.method, urlsplit(url).path, spec.path)
    except ContractError as exc:
        message = str(exc)
        raise ContractProblem(
            f"{spec.method} {message}" if message.startswith("/") else message, key
        ) from None
