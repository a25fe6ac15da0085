"""Pure: an answer against a JSON Schema or an OpenAPI operation → assertion records.

Each violation of a schema is a record of its own, naming where in the body it is and
what was expected and found (``$.data[3].id: expected integer, got "17"``); they share
a `group`, so the reason names the first few and `check -v` and the JSON report list
them all. `jsonschema` is imported by the first check that has a schema (the manifest
that has one loaded it already, to check the schema); every reference resolves from
the documents read with the manifest, never from a file or the network.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from itertools import islice
from typing import Any

from svccheck.judge.operators import show
from svccheck.model import (
    Answer,
    Assertion,
    DeclaredResponse,
    Failure,
    FailureClass,
    JsonSchema,
    ResponseContract,
)

# A body that breaks every item of a long list would list thousands; the first 50 say it.
MAX_VIOLATIONS = 50


@functools.cache
def validator(schema: JsonSchema) -> Any:
    """The schema compiled once per process (`watch` and `serve` judge it every round)."""
    import jsonschema
    import referencing
    import referencing.jsonschema

    default = referencing.jsonschema.specification_with(schema.dialect)
    resources = [
        (uri, referencing.Resource.from_contents(document, default_specification=default))
        for uri, document in schema.documents
    ]
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
    cls = jsonschema.validators.validator_for({"$schema": schema.dialect})
    return cls({"$schema": schema.dialect, "$ref": schema.uri}, registry=registry)


def prepare(schemas: Iterable[JsonSchema]) -> None:
    """Compile before the first attempt: compiling inside the run would stall every attempt in flight."""
    for schema in schemas:
        validator(schema)


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MiB" if count >= 1024 * 1024 else f"{count / 1024:g} KiB"


def body_document(answer: Answer, label: str, what: str) -> tuple[Any, Assertion | None]:
    """The body as JSON, or the record that says why it cannot be validated: cut at the read cap
    (a warning, never a pass), or not JSON (a failure naming the content type)."""
    if answer.truncated:
        warning = Failure(
            FailureClass.ASSERTION,
            f"{what}: not validated (body truncated at {_size(len(answer.body))})",
            warn_only=True,
        )
        return None, Assertion(label, False, "not validated", warning)
    try:
        return json.loads(answer.body), None
    except (ValueError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        ctype = answer.header("content-type") or "no content-type"
        failure = Failure(FailureClass.ASSERTION, f"{what}: body is not JSON ({ctype}): {detail}")
        return None, Assertion(label, False, "", failure)


def schema_assertions(answer: Answer, schema: JsonSchema) -> list[Assertion]:
    label = f"body matches {schema.where}"
    document, unreadable = body_document(answer, label, schema.where)
    if unreadable is not None:
        return [unreadable]
    return validate(document, schema, label)


def validate(document: Any, schema: JsonSchema, label: str) -> list[Assertion]:
    try:
        errors = list(islice(validator(schema).iter_errors(document), MAX_VIOLATIONS + 1))
    except Exception as exc:  # an unresolvable $ref, a body nested past the recursion limit
        failure = Failure(
            FailureClass.ASSERTION, f"{schema.where}: cannot validate: {type(exc).__name__}: {exc}"
        )
        return [Assertion(label, False, "", failure)]
    if not errors:
        return [Assertion(label, True, "ok")]
    found: dict[tuple[tuple[object, ...], str], None] = {}
    for error in errors[:MAX_VIOLATIONS]:
        for path, problem in violations(error):
            found.setdefault((tuple(path), problem), None)
    records = []
    for parts, problem in sorted(found, key=lambda item: _order(item[0])):
        where = json_path(parts)
        failure = Failure(FailureClass.ASSERTION, f"{where}: {problem}", group=schema.where)
        records.append(Assertion(label, False, where, failure))
    if len(errors) > MAX_VIOLATIONS:
        more = Failure(
            FailureClass.ASSERTION,
            f"more than {MAX_VIOLATIONS} violations: the first are listed",
            group=schema.where,
        )
        records.append(Assertion(label, False, "", more))
    return records


def _order(parts: Iterable[object]) -> list[tuple[int, int, str]]:
    return [(0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in parts]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parts: Iterable[object]) -> str:
    """`$.data[3].id`, in the notation of the manifest's JSONPath matchers (RFC 9535)."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.fullmatch(str(part)):
            out += f".{part}"
        else:
            # RFC 9535's normalized path: single quotes, a quote or a backslash escaped
            out += "['" + str(part).replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


_BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
    "minLength": "length >=",
    "maxLength": "length <=",
    "minItems": "length >=",
    "maxItems": "length <=",
    "minProperties": "at least this many properties:",
    "maxProperties": "at most this many properties:",
}


def violations(error: Any) -> list[tuple[list[object], str]]:
    """A jsonschema error as (where in the body, what was expected and found)."""
    path = list(error.absolute_path)
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "required" and isinstance(instance, dict):
        return [
            ([*path, name], "required, got nothing")
            for name in expected
            if isinstance(name, str) and name not in instance
        ]
    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        extras = _extra_properties(error.schema, instance) if kind == "additionalProperties" else []
        if extras:
            return [([*path, name], f"not allowed ({kind}: false)") for name in extras]
    if kind in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        closest = best_match(error.context)
        if closest is not None:
            return [
                (where, f"{problem} (no {kind} branch matched)") for where, problem in violations(closest)
            ]
    where = path
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return [(where, f"expected {' or '.join(str(k) for k in kinds)}, got {show(instance)}")]
    if kind == "enum":
        return [(where, f"expected one of {show(expected)}, got {show(instance)}")]
    if kind == "const":
        return [(where, f"expected {show(expected)}, got {show(instance)}")]
    if kind in _BOUNDS:
        actual = len(instance) if kind.startswith(("min", "max")) and not kind.endswith("imum") else instance
        shown = f"length {actual}" if "length" in _BOUNDS[kind] else show(actual)
        return [(where, f"expected {_BOUNDS[kind]} {expected}, got {shown}")]
    if kind == "pattern":
        return [(where, f"expected to match /{expected}/, got {show(instance)}")]
    if kind is False or error.schema is False:
        return [(where, "not allowed here (schema false)")]
    message = str(error.message)
    return [(where, message if len(message) <= 160 else message[:159] + "…")]


def _extra_properties(schema: Any, instance: dict[str, Any]) -> list[str]:
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    patterns = schema.get("patternProperties", {}) if isinstance(schema, dict) else {}
    return [
        name
        for name in instance
        if name not in properties and not any(re.search(pattern, name) for pattern in patterns)
    ]


# --- OpenAPI --------------------------------------------------------------------------------


def declared_response(contract: ResponseContract, code: int) -> DeclaredResponse | None:
    """The response the document declares for a status: its own code, its class (2XX), `default`."""
    by_status = {response.status: response for response in contract.responses}
    return by_status.get(str(code)) or by_status.get(f"{code // 100}XX") or by_status.get("DEFAULT")


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def declared_media(
    response: DeclaredResponse, content_type: str | None
) -> tuple[str, JsonSchema | None] | None:
    """The declared media type a content type falls under: itself, then `type/*`, then `*/*`."""
    if content_type is None:
        return None
    actual = _media_type(content_type)
    by_type = {_media_type(declared): (declared, schema) for declared, schema in response.media}
    return by_type.get(actual) or by_type.get(actual.split("/", 1)[0] + "/*") or by_type.get("*/*")


def _is_json(media_type: str) -> bool:
    kind = _media_type(media_type)
    return kind == "application/json" or kind.endswith("+json") or kind == "*/*"


def openapi_assertions(answer: Answer, contract: ResponseContract) -> list[Assertion]:
    method = contract.operation.partition(" ")[0]
    where = f"{contract.spec} {contract.operation}"
    code = answer.status_code
    label = f"status declared by {where}"
    response = None if code is None else declared_response(contract, code)
    if response is None:
        declared = ", ".join(
            r.status.lower() if r.status == "DEFAULT" else r.status for r in contract.responses
        )
        failure = Failure(
            FailureClass.ASSERTION,
            f"{contract.spec}#{contract.pointer}: status {code} is not declared for "
            f"{contract.operation} (declared: {declared})",
        )
        return [Assertion(label, False, str(code), failure)]
    records = [Assertion(label, True, f"{code} ({response.status.lower()})")]
    if not response.media:
        return records
    content_type = answer.header("content-type")
    media = declared_media(response, content_type)
    declared_types = ", ".join(kind for kind, _ in response.media)
    content_label = f"content type declared by {where} {response.status.lower()}"
    if media is None:
        if method == "HEAD" and content_type is None:
            return records
        failure = Failure(
            FailureClass.ASSERTION,
            f"content type {content_type or '(none)'} is not declared for {contract.operation} "
            f"{response.status.lower()} (declared: {declared_types})",
        )
        return [*records, Assertion(content_label, False, content_type or "none", failure)]
    records.append(Assertion(content_label, True, content_type or ""))
    media_type, schema = media
    if schema is None or method == "HEAD":
        return records
    body_label = f"body matches {where} {response.status.lower()} {media_type}"
    if not _is_json(media_type):
        records.append(Assertion(body_label, True, f"not validated ({media_type} is not JSON)"))
        return records
    document, unreadable = body_document(answer, body_label, f"{where} {response.status.lower()}")
    if unreadable is not None:
        return [*records, unreadable]
    return [*records, *validate(document, schema, body_label)]
