"""`svccheck init --openapi SPEC --url BASE`: a manifest of the safe checks an OpenAPI document allows.

Safe means read-only and answerable as written: every `GET` and `HEAD` operation
whose path parameters (and required query parameters) have examples in the
document, and which needs no credentials; each check is judged by the document
(`expect: {openapi: SPEC}`). A method that changes data is never written. Every
operation left out is listed in a comment with why, so the file says what it does
not check. The written file is loaded before `init` reports success: it validates
as it is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from svccheck.errors import UsageError
from svccheck.grammar.contracts import ContractError
from svccheck.grammar.openapi import METHODS, OpenApiDocument, read_openapi, server_paths
from svccheck.modes.init import HEADER, SCHEMA_FILE, StarterError, check_url

SAFE_METHODS = ("get", "head")
_WHY_UNSAFE = {
    "post": "POST creates or changes data",
    "put": "PUT replaces data",
    "patch": "PATCH changes data",
    "delete": "DELETE removes data",
    "options": "OPTIONS describes the endpoint, it reads nothing of the API",
    "trace": "TRACE echoes the request, it reads nothing of the API",
}


@dataclass(frozen=True)
class Planned:
    """One operation of the document: the check written for it, or why none was."""

    method: str  # upper case
    template: str
    name: str
    path: str | None = None  # the request path with examples filled in; None: skipped
    why_not: str | None = None


def _example(parameter: dict[str, Any]) -> Any:
    """The parameter's example: its own `example`, the first of its `examples`, or its schema's."""
    if "example" in parameter:
        return parameter["example"]
    examples = parameter.get("examples")
    if isinstance(examples, dict):
        for example in examples.values():
            if isinstance(example, dict) and "value" in example:
                return example["value"]
    schema = parameter.get("schema")
    if isinstance(schema, dict):
        if "example" in schema:
            return schema["example"]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
    return None


def _parameters(document: OpenApiDocument, *levels: Any) -> list[dict[str, Any]]:
    """The parameters of a path item and its operation; the operation's win (by name and place)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for level in levels:
        for parameter in level.get("parameters") or [] if isinstance(level, dict) else []:
            parameter, _ = document.resolve(parameter, "")
            if isinstance(parameter, dict):
                found[(str(parameter.get("name")), str(parameter.get("in")))] = parameter
    return list(found.values())


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def plan(document: OpenApiDocument) -> list[Planned]:
    """Every operation of the document, in its order: a safe check, or the reason it is not one."""
    planned: list[Planned] = []
    global_security = document.document.get("security")
    for template, item in document.path_items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            name = str(operation.get("operationId") or f"{method.upper()} {template.text}")
            if method not in SAFE_METHODS:
                planned.append(Planned(method.upper(), template.text, name, why_not=_WHY_UNSAFE[method]))
                continue
            planned.append(_planned(document, template.text, method, name, item, operation, global_security))
    return planned


def _planned(
    document: OpenApiDocument,
    template: str,
    method: str,
    name: str,
    item: dict[str, Any],
    operation: dict[str, Any],
    global_security: object,
) -> Planned:
    def skipped(why: str) -> Planned:
        return Planned(method.upper(), template, name, why_not=why)

    security = operation.get("security", global_security)
    if isinstance(security, list) and security and not any(requirement == {} for requirement in security):
        schemes = sorted(
            {str(key) for requirement in security if isinstance(requirement, dict) for key in requirement}
        )
        return skipped(
            f"needs credentials ({', '.join(schemes)}): add it by hand, with a header from ${{VAR}}"
        )
    path = template
    query: list[tuple[str, str]] = []
    for parameter in _parameters(document, item, operation):
        where, pname = parameter.get("in"), str(parameter.get("name"))
        example = _example(parameter)
        if where == "path":
            if example is None:
                return skipped(f"path parameter {pname} has no example in the document")
            path = path.replace("{" + pname + "}", quote(_text(example), safe=""))
        elif parameter.get("required") is True:
            if example is None:
                return skipped(f"required {where} parameter {pname} has no example in the document")
            if where != "query":
                return skipped(f"needs the {where} parameter {pname}: add it by hand")
            query.append((pname, _text(example)))
    if re.search(r"\{[^}]*\}", path):
        return skipped("a path parameter is not declared, so it has no example")
    if query:
        path = f"{path}?{urlencode(query)}"
    return Planned(method.upper(), template, name, path=path)


def _slug(title: object) -> str:
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(title or "api")).strip("-._").lower()
    return text[:90] or "api"


def _quoted(value: str) -> str:
    """A YAML scalar: JSON-quoted (JSON strings are YAML), plain when nothing in it can mislead;
    a `${` the document wrote is written `$${`, so the manifest does not read it as a variable."""
    value = value.replace("${", "$${")
    if re.fullmatch(r"[A-Za-z0-9/_.:{}-]+", value) and value[0] not in "-:{" and not value.isdigit():
        return value
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    # the document's words go into a comment: one printable line
    return "".join(c if c.isprintable() else " " for c in text)


def render(document: OpenApiDocument, planned: list[Planned], *, spec: str, url: str) -> str:
    title = (
        document.document.get("info", {}).get("title")
        if isinstance(document.document.get("info"), dict)
        else None
    )
    lines = [HEADER, "services:", f"  {_slug(title)}:"]
    if title:
        lines.append(f"    # {_comment(str(title))}: the safe checks of {_comment(spec)}")
    lines.append(f"    url: {_quoted(url)}")
    written = [p for p in planned if p.path is not None]
    skipped = [p for p in planned if p.path is None]
    if skipped:
        lines.append("    # not written, each with why (svccheck writes only reads it can make as they are):")
        lines.extend(
            f"    #   {p.method} {_comment(p.template)} ({_comment(p.name)}): {_comment(p.why_not or '')}"
            for p in skipped
        )
    if not written:
        lines.append("    # no operation can be checked as it is: a guess at a health path instead")
        lines.append("    health: /health")
        return "\n".join(lines) + "\n"
    lines.append("    checks:")
    names: set[str] = set()
    for item in written:
        name, counter = item.name, 2
        while name in names:
            name, counter = f"{item.name} ({counter})", counter + 1
        names.add(name)
        lines.append(f"      - name: {_quoted(name)}")
        if item.method != "GET":
            lines.append(f"        method: {item.method}")
        lines.append(f"        path: {_quoted(item.path or '/')}")
        lines.append(f"        expect: {{openapi: {_quoted(spec)}}}")
    return "\n".join(lines) + "\n"


def service_url(base: str, document: OpenApiDocument) -> str:
    """`--url` stands for the document's server: a base without a path takes the server's path
    (`servers: [{url: https://api.example/v1}]` and `--url http://localhost:8080` → `…:8080/v1`)."""
    parts = urlsplit(base)
    servers = document.document.get("servers")
    first = server_paths({"servers": servers[:1]}) if isinstance(servers, list) else ()
    if parts.path not in ("", "/") or not first:
        return base
    return urlunsplit((parts.scheme, parts.netloc, first[0], parts.query, ""))


@dataclass(frozen=True)
class WrittenFromSpec:
    manifest: Path
    schema: Path
    planned: list[Planned]


def write(manifest: Path, spec: Path, url: str, *, force: bool) -> WrittenFromSpec:
    """All of `init --openapi`: read the document, write the manifest and its schema, load it back."""
    from svccheck.redact import is_sensitive_param

    if manifest.exists() and not force:
        raise UsageError(f"{manifest} exists; use --force to overwrite it")
    try:
        base = check_url(url)
    except StarterError as exc:
        raise UsageError(f"--url: {exc}") from None
    parts = urlsplit(base)
    if parts.password is not None or any(
        is_sensitive_param(field.partition("=")[0]) for field in parts.query.split("&") if field
    ):
        raise UsageError("--url: give credentials in the manifest's headers from a ${VAR}, not in the URL")
    try:
        document = read_openapi(spec, str(spec))
    except ContractError as exc:
        raise UsageError(f"--openapi: {exc}") from None
    planned = plan(document)
    named = Path(os.path.relpath(spec.resolve(), manifest.resolve().parent)).as_posix()
    text = render(document, planned, spec=named, url=service_url(base, document))
    try:
        manifest.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {manifest}: {exc.strerror or exc}") from None
    schema = manifest.parent / SCHEMA_FILE
    if force or not schema.exists():
        from svccheck.manifest.json_schema import render_schema

        # the manifest works without it; `svccheck schema -o` writes it again
        with contextlib.suppress(OSError):
            schema.write_text(render_schema(), encoding="utf-8")
    from svccheck.manifest import load_manifest

    load_manifest(str(manifest), environ={})  # the file validates as written (a ManifestError says where)
    return WrittenFromSpec(manifest, schema, planned)


def written_lines(written: WrittenFromSpec) -> list[str]:
    """What `init --openapi` prints: each check written, each operation skipped and why (the
    document's words neutralised), then what was written."""
    from svccheck.redact import Redactor

    text = Redactor().text
    checks = [p for p in written.planned if p.path is not None]
    lines = [f"  {p.method} {text(p.path or '')}" for p in checks]
    lines.extend(
        f"  skipped {p.method} {text(p.template)}: {text(p.why_not or '')}"
        for p in written.planned
        if p.path is None
    )
    lines.append(
        f"wrote {written.manifest} ({len(checks)} safe check{'s' if len(checks) != 1 else ''}, "
        f"{len(written.planned) - len(checks)} skipped) and its schema {written.schema}; "
        f"next: svccheck all -f {written.manifest}"
    )
    return lines
