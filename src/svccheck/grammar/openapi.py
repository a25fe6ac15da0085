"""An OpenAPI 3.0 / 3.1 document as `expect: {openapi: …}` uses it: its operations by method and
path template, and what each promises to answer.

No OpenAPI library: matching a check to an operation is a path template and a method,
and a response's body is a JSON Schema that `jsonschema` validates (OpenAPI 3.1's
schemas are JSON Schema 2020-12; 3.0's are turned into it here: `nullable`, boolean
`exclusiveMinimum`/`exclusiveMaximum`, and `$ref` siblings, which 3.0 ignores).
openapi-core would bring a dozen more packages to a run for the same two steps
(measured in the commit that chose this). The document is read once per process
for each version of the file (the manifest's rules and its build both ask).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import unquote, urlsplit

from svccheck.grammar.contracts import (
    DRAFT_2020_12,
    ContractError,
    check_schema,
    file_uri,
    needs_jsonschema,
    reachable_files,
    read_document,
    schema_path,
)
from svccheck.model import DeclaredResponse, JsonSchema, ResponseContract

METHODS = ("get", "head", "options", "trace", "put", "post", "delete", "patch")


@dataclass(frozen=True, slots=True)
class Template:
    text: str  # "/pets/{petId}", as the document writes it
    pattern: re.Pattern[str]
    parameters: int
    pointer: str  # of its path item, after a `$ref`


@dataclass(frozen=True, slots=True, eq=False)
class OpenApiDocument:
    shown: str  # as the manifest names it
    uri: str
    version: str
    document: dict[str, Any]  # 3.0's schemas already turned into JSON Schema 2020-12
    documents: tuple[tuple[str, Any], ...]  # the files its `$ref`s reach
    templates: tuple[Template, ...]
    prefixes: tuple[str, ...]  # the paths of its `servers`, longest first ("/v1")
    # (method, template) → what it declares: read once per document, whatever the number of checks
    # (200 checks of one operation: load_manifest 2,257 → 650 ms, best of 5, a fresh process each)
    contracts: dict[tuple[str, str], ResponseContract] = field(default_factory=dict)

    def resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """A local `$ref` followed (to the end of a chain), with the pointer of where it led."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise ContractError(f"{self.shown}: $ref {ref!r} at {pointer or '/'}: only local ones here")
            if ref in seen:
                raise ContractError(f"{self.shown}: $ref {ref!r} refers to itself")
            seen.add(ref)
            pointer = unquote(ref[1:])
            node = self.at(pointer)
        return node, pointer

    def at(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.split("/")[1:] if pointer else []:
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise ContractError(f"{self.shown}: nothing at #{pointer}")
        return node

    def path_items(self) -> Iterator[tuple[Template, dict[str, Any]]]:
        for template in self.templates:
            item, _ = self.resolve(self.at(template.pointer), template.pointer)
            if isinstance(item, dict):
                yield template, item


def pointer_part(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


_CACHE: dict[tuple[str, int, int], OpenApiDocument] = {}


def load_openapi(value: str, manifest_path: str) -> OpenApiDocument:
    needs_jsonschema()  # the bodies are checked by it: say so before reading anything
    path = schema_path(value, manifest_path)
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = (str(path), stat.st_mtime_ns, stat.st_size) if stat is not None else None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    document = read_openapi(path, value)
    if key is not None:
        _CACHE[key] = document
    return document


def read_openapi(path: FsPath, shown: str) -> OpenApiDocument:
    raw = read_document(path, shown)
    if not isinstance(raw, dict):
        raise ContractError(f"{shown}: an OpenAPI document is a mapping")
    version = raw.get("openapi")
    if "swagger" in raw:
        raise ContractError(f"{shown}: Swagger {raw['swagger']} is not read: convert it to OpenAPI 3")
    if not isinstance(version, str) or not re.fullmatch(r"3\.[01]\.\d+(-.+)?", version):
        raise ContractError(f"{shown}: expected `openapi: 3.0.x` or `3.1.x`, got {version!r}")
    paths = raw.get("paths") or {}
    if not isinstance(paths, dict):
        raise ContractError(f"{shown}: `paths` is not a mapping")
    uri = file_uri(path)
    older = version.startswith("3.0")
    document = document_30(raw) if older else raw
    documents = tuple(
        (ref_uri, schema_30(doc) if older and _looks_like_schema(doc) else document_30(doc) if older else doc)
        for ref_uri, doc in reachable_files(document, uri, shown)
    )
    templates = tuple(_template(text) for text in paths)
    return OpenApiDocument(shown, uri, version, document, documents, templates, server_paths(raw))


def _template(text: str) -> Template:
    parts = re.split(r"(\{[^{}/]+\})", text)
    pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    parameters = sum(1 for part in parts if part.startswith("{"))
    return Template(text, re.compile(pattern), parameters, "/paths/" + pointer_part(text))


def server_paths(document: dict[str, Any]) -> tuple[str, ...]:
    """The path part of each server URL (`http://petstore.swagger.io/v1` → `/v1`), variables
    at their defaults: a check's path is matched with and without it."""
    found: set[str] = set()
    for server in document.get("servers") or []:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url = server["url"]
        for name, variable in (server.get("variables") or {}).items():
            if isinstance(variable, dict):
                url = url.replace("{" + str(name) + "}", str(variable.get("default", "")))
        prefix = urlsplit(url).path.rstrip("/") if "//" in url else url.rstrip("/")
        if prefix.startswith("/"):
            found.add(prefix)
    return tuple(sorted(found, key=len, reverse=True))


def operation_contract(
    document: OpenApiDocument, method: str, url_path: str, check_path: str | None = None
) -> ResponseContract:
    """The responses the operation for `method url_path` declares, or a ContractError that says
    which paths are near (a check whose path matches no operation is the manifest's problem).
    `check_path` is the path as the check writes it, after its service's URL."""
    template, item = match(document, url_path, check_path)
    known = document.contracts.get((method.upper(), template.text))
    if known is not None:
        return known
    operation = item.get(method.lower())
    if not isinstance(operation, dict):
        declared = [m.upper() for m in METHODS if isinstance(item.get(m), dict)]
        raise ContractError(
            f"{document.shown} declares no {method.upper()} for {template.text} "
            f"(only {', '.join(declared) or 'no operation'})"
        )
    item_pointer = template.pointer
    _, item_pointer = document.resolve(document.at(item_pointer), item_pointer)
    pointer = f"{item_pointer}/{method.lower()}"
    responses, responses_pointer = document.resolve(operation.get("responses") or {}, f"{pointer}/responses")
    name = f"{method.upper()} {template.text}"
    declared_responses = []
    for status, response in responses.items() if isinstance(responses, dict) else ():
        here = f"{responses_pointer}/{pointer_part(status)}"
        response, here = document.resolve(response, here)
        declared_responses.append(_declared(document, name, status, response, here))
    if not declared_responses:
        raise ContractError(f"{document.shown}: {name} declares no responses")
    contract = ResponseContract(document.shown, name, tuple(declared_responses), responses_pointer)
    document.contracts[(method.upper(), template.text)] = contract
    return contract


def _declared(
    document: OpenApiDocument, name: str, status: str, response: Any, pointer: str
) -> DeclaredResponse:
    content = response.get("content") if isinstance(response, dict) else None
    media: list[tuple[str, JsonSchema | None]] = []
    for media_type, entry in (content or {}).items() if isinstance(content, dict) else ():
        schema = entry.get("schema") if isinstance(entry, dict) else None
        if schema is None:
            media.append((media_type, None))
            continue
        where = f"{pointer}/content/{pointer_part(media_type)}/schema"
        shown = f"{document.shown} {name} {status} {media_type}"
        check_schema(schema, shown)
        media.append(
            (
                media_type,
                JsonSchema(
                    shown,
                    f"{document.uri}#{where}",
                    ((document.uri, document.document), *document.documents),
                    DRAFT_2020_12,
                ),
            )
        )
    return DeclaredResponse(status.upper(), tuple(media))


def match(
    document: OpenApiDocument, url_path: str, check_path: str | None = None
) -> tuple[Template, dict[str, Any]]:
    """The path item of the most specific template matching the path: the whole URL's, without
    a server's path before it, or the check's own after its service's URL; literal paths before
    templated ones, as OpenAPI says."""
    path = urlsplit(url_path).path or "/"
    candidates = [path, *(path[len(p) :] or "/" for p in document.prefixes if path.startswith(p + "/"))]
    if check_path is not None:
        own = "/" + urlsplit(check_path).path.lstrip("/")
        candidates = [*candidates, own] if own not in candidates else candidates
    best: tuple[int, int, Template] | None = None
    for template in document.templates:
        if any(template.pattern.fullmatch(candidate) for candidate in candidates):
            rank = (template.parameters, -len(template.text), template)
            if best is None or rank[:2] < best[:2]:
                best = rank
    if best is None:
        known = [t.text for t in document.templates]
        hint = difflib.get_close_matches(candidates[-1], known, n=1, cutoff=0.5)
        if hint:
            more = f" (did you mean {hint[0]}?)"
        else:
            shown = ", ".join(known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
            more = f"; its paths are: {shown or 'none'}"
        raise ContractError(f"{path} matches no path of {document.shown}{more}")
    template = best[2]
    item, _ = document.resolve(document.at(template.pointer), template.pointer)
    if not isinstance(item, dict):
        raise ContractError(f"{document.shown}: the path item {template.text} is not a mapping")
    return template, item


# --- OpenAPI 3.0's schema dialect as JSON Schema 2020-12 ---------------------------------------

_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_WORDS = frozenset({"type", "properties", "items", "required", "$ref", *_SCHEMA_LISTS, "enum"})


def schema_30(node: Any) -> Any:
    """An OpenAPI 3.0 Schema Object as the JSON Schema 2020-12 that means the same."""
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        return {"$ref": node["$ref"]}  # 3.0: "properties adjacent to a $ref are ignored"
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: schema_30(item) for name, item in value.items()}
        elif key in _SCHEMA_VALUES:
            out[key] = schema_30(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [schema_30(item) for item in value]
        else:
            out[key] = value
    for bound, word in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(out.get(word), bool) and out.pop(word) and bound in out:
            out[word] = out.pop(bound)
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif kind is None:
            return {"anyOf": [{"type": "null"}, out]}
    return out


def document_30(node: Any) -> Any:
    """An OpenAPI 3.0 document with every Schema Object in it turned into JSON Schema 2020-12:
    the values of `schema` keys and of `components.schemas`."""
    if isinstance(node, list):
        return [document_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = schema_30(value)
        elif key in ("example", "examples"):
            out[key] = value
        elif key == "components" and isinstance(value, dict):
            components = document_30({k: v for k, v in value.items() if k != "schemas"})
            if isinstance(value.get("schemas"), dict):
                components["schemas"] = {name: schema_30(s) for name, s in value["schemas"].items()}
            out[key] = components
        else:
            out[key] = document_30(value)
    return out


def _looks_like_schema(document: Any) -> bool:
    return isinstance(document, dict) and any(key in _SCHEMA_WORDS for key in document)
