"""The JSON Schema of `expect: {schema: …}`: read with the manifest, checked, every local `$ref` loaded.

A schema is a file relative to the manifest (YAML or JSON) or an inline mapping. Each
file its `$ref`s reach is read here, once, so the judge resolves every reference from
memory: judging an answer reads no file, and a `$ref` to the network is refused (a
check must not fetch what a schema file names). A schema that is itself invalid, a
file that cannot be read and a remote `$ref` are problems of the manifest, at the
`schema` key. The validator is `jsonschema`, imported only when a manifest has a
schema: a manifest without one never loads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from svccheck.model import JsonSchema

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# a dependency of svccheck, imported only by a manifest with a contract; an environment without it
# (a vendored copy, a partial install) is told what to install
INSTALL_HINT = "pip install 'jsonschema>=4.18'"
# A schema and the files its `$ref`s reach: a few in practice; the bound stops a crawl of a tree.
MAX_SCHEMA_FILES = 200
# Larger than any hand-written schema; a published OpenAPI document of a large API (GitHub's,
# Stripe's) is 6-9 MB of YAML, and beyond this the reader's node bound refuses it anyway.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


class ContractError(ValueError):
    """A schema or an OpenAPI document that cannot be used: the manifest's problem, at its key."""


def needs_jsonschema() -> Any:
    """The `jsonschema` module, or a ContractError naming the extra that brings it."""
    try:
        import jsonschema
    except ImportError:
        raise ContractError(f"the jsonschema library is not installed: {INSTALL_HINT}") from None
    return jsonschema


def file_uri(path: FsPath) -> str:
    return path.resolve().as_uri()


def schema_path(value: str, manifest_path: str) -> FsPath:
    """A file named in the manifest, relative to the manifest's folder."""
    candidate = FsPath(value).expanduser()
    if not candidate.is_absolute():
        candidate = FsPath(manifest_path).resolve().parent / candidate
    return candidate


def read_document(path: FsPath, shown: str) -> Any:
    """A YAML or JSON file as plain data; mapping keys as text (YAML reads `200:` as a number,
    JSON pointers address it as "200"). YAML goes through the manifest's own reader: no tags,
    bounded aliases and size, duplicate keys refused."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise ContractError(f"{shown} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise ContractError(f"{shown} is a directory, not a file") from None
    except OSError as exc:
        raise ContractError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractError(f"{shown}: not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        try:
            return text_keys(json.loads(text))
        except (ValueError, RecursionError) as exc:
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            where = (
                f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
            )
            raise ContractError(f"{shown}: not valid JSON{where}: {detail}") from None
    from svccheck.grammar.source import load_source

    source = load_source(text)
    if source.issues:
        first = source.issues[0]
        where = f" (line {first.line}, column {first.column})" if first.line else ""
        raise ContractError(f"{shown}: {first.message}{where}")
    if source.data is None:
        raise ContractError(f"{shown} is empty")
    return text_keys(source.data)


def text_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): text_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [text_keys(item) for item in node]
    return node


def references(node: Any) -> Iterator[str]:
    """Every `$ref` string in a document (a property named `$ref` holds a mapping, not a string)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def reachable_files(root: Any, base_uri: str, shown: str) -> tuple[tuple[str, Any], ...]:
    """(file URI, document) of every local file the `$ref`s of `root` reach, transitively."""
    loaded: dict[str, Any] = {}
    pending = [(base_uri, root)]
    while pending:
        uri, document = pending.pop()
        for ref in references(document):
            target, _ = urldefrag(urljoin(uri, ref))
            if not target or target == urldefrag(base_uri)[0] or target in loaded:
                continue
            scheme = urlsplit(target).scheme
            if scheme != "file":
                raise ContractError(
                    f"{shown}: $ref {ref!r} is not a local file: svccheck reads no schema from the "
                    "network; save it next to the schema and refer to it by a relative path"
                )
            if len(loaded) >= MAX_SCHEMA_FILES:
                raise ContractError(f"{shown}: $refs reach more than {MAX_SCHEMA_FILES} files")
            path = FsPath(unquote(urlsplit(target).path))
            loaded[target] = read_document(path, f"{shown}: $ref {ref!r}")
            pending.append((target, loaded[target]))
    return tuple(loaded.items())


def check_schema(schema: Any, shown: str, dialect: str = DRAFT_2020_12) -> None:
    """A ContractError when `schema` is not a valid JSON Schema of its `$schema` dialect."""
    jsonschema = needs_jsonschema()
    if not isinstance(schema, dict | bool):
        raise ContractError(f"{shown}: a JSON Schema is a mapping or true/false, got {type(schema).__name__}")
    default = jsonschema.validators.validator_for({"$schema": dialect})
    cls = jsonschema.validators.validator_for(schema, default=None) if isinstance(schema, dict) else None
    if cls is None:
        if isinstance(schema, dict) and "$schema" in schema:
            raise ContractError(f"{shown}: unknown $schema {str(schema['$schema'])!r}")
        cls = default
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = exc.json_path if exc.path else "its top level"
        raise ContractError(f"{shown}: not a valid JSON Schema at {where}: {exc.message}") from None


_CACHE: dict[tuple[str, int, int], JsonSchema] = {}


def load_schema(value: object, manifest_path: str, *, written: str) -> JsonSchema:
    """`expect.schema` as written (a path, or an inline schema) → the checked `JsonSchema`.

    A file's schema is read once per process for each version of it (the manifest's rules
    and its build both ask; `watch` rereads a file that changed)."""
    needs_jsonschema()
    if isinstance(value, str):
        path = schema_path(value, manifest_path)
        try:
            stat = path.stat()
        except OSError:
            stat = None
        key = (str(path), stat.st_mtime_ns, stat.st_size) if stat is not None else None
        if key is not None and key in _CACHE:
            return _CACHE[key]
        root = read_document(path, value)
        uri = file_uri(path)
        documents = reachable_files(root, uri, value)
        check_schema(root, value)
        for ref_uri, document in documents:
            if isinstance(document, dict):
                check_schema(document, f"{value}: {FsPath(unquote(urlsplit(ref_uri).path)).name}")
        schema = JsonSchema(value, uri, ((uri, root), *documents), dialect_of(root))
        if key is not None:
            _CACHE[key] = schema
        return schema
    uri = file_uri(FsPath(manifest_path)) + "?inline-schema=" + written
    root = text_keys(value)
    check_schema(root, "inline schema")
    documents = reachable_files(root, uri, "inline schema")
    return JsonSchema("inline schema", uri, ((uri, root), *documents), dialect_of(root))


def dialect_of(schema: Any, default: str = DRAFT_2020_12) -> str:
    declared = schema.get("$schema") if isinstance(schema, dict) else None
    return declared if isinstance(declared, str) else default
