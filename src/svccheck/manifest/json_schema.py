"""The manifest's JSON Schema, generated from the shape the loader validates with.

Editors (any YAML language server) validate and complete `services.yaml` with
it. The loader reads the file *after* `${VAR}` interpolation and reads a
number or a boolean written as text (`retries: "3"`, `critical: "yes"`), so a
typed field may hold a `${VAR}` reference or a quoted scalar; the schema accepts
those strings too, or it would flag manifests that load fine.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# A string that interpolation may turn into anything.
_INTERPOLATED_DEF = {"type": "string", "pattern": r"\$\{", "description": "a ${VAR} reference"}
_INTERPOLATED = {"$ref": "#/$defs/Interpolated"}
# Strings the loader reads as a number, an integer or a boolean.
_LAX_STRINGS = {
    "integer": r"^\s*[+-]?[0-9][0-9_]*(\.0*)?\s*$",
    "number": r"^\s*[+-]?([0-9][0-9_]*(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$",
    "boolean": "^("
    + "|".join(
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)
        for word in ("true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0")
    )
    + ")$",
}
_SUBSCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_ANNOTATIONS = ("title", "description", "examples", "default")
_SUBSCHEMAS = ("additionalProperties", "items", "propertyNames", "not")


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a manifest, as a dict."""
    from svccheck.manifest.schema import MANIFEST

    defs: dict[str, Any] = {}
    root = defs.pop(MANIFEST.schema(defs)["$ref"].rsplit("/", 1)[-1])
    body = _loosen({**root, "$defs": defs})
    body["$defs"]["Interpolated"] = _INTERPOLATED_DEF
    return {"$schema": SCHEMA_DIALECT, **body}


def render_schema() -> str:
    """The schema as the text `svccheck schema` prints and `schema/services.schema.json` holds."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"


def _loosen(node: Any) -> Any:
    """Walk a schema: typed scalars also accept `${VAR}` and lax-mode strings."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _loosen(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [_loosen(sub) for sub in value]
        elif key in _SUBSCHEMAS and isinstance(value, dict):
            out[key] = _loosen(value)
        else:
            out[key] = value
    return _with_string_forms(out)


def _with_string_forms(node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type")
    if not isinstance(kind, str):  # no type, or a list that already takes strings
        return node
    if kind in _LAX_STRINGS:
        alternatives: list[dict[str, Any]] = [
            {"type": "string", "pattern": _LAX_STRINGS[kind]},
            _INTERPOLATED,
        ]
        if kind == "boolean":
            alternatives.insert(0, {"enum": [0, 1]})  # the loader reads 0 and 1 as booleans too
    elif kind == "string" and ("pattern" in node or "enum" in node):
        alternatives = [_INTERPOLATED]
    else:
        return node
    # Annotations stay on the outside, where editors show them.
    annotations: dict[str, Any] = {k: node[k] for k in _ANNOTATIONS if k in node}
    constraint = {k: v for k, v in node.items() if k not in annotations}
    return {**annotations, "anyOf": [constraint, *alternatives]}
