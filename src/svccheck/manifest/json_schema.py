"""The manifest's JSON Schema, generated from the shape the loader validates with.

Editors (any YAML language server) validate and complete `services.yaml` with
it. The loader reads the file *after* `${VAR}` interpolation and reads a
number or a boolean written as text (`retries: "3"`, `critical: "yes"`), so a
typed field may hold a `${VAR}` reference or a quoted scalar. Each kind writes
its own fragment, with the text forms of `svccheck.grammar.tokens` that its
parser reads, so the schema accepts exactly the scalars the loader accepts.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# A string that interpolation may turn into anything: each typed kind refers to it.
_INTERPOLATED_DEF = {"type": "string", "pattern": r"\$\{", "description": "a ${VAR} reference"}


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a manifest, as a dict."""
    from svccheck.grammar.schema import manifest_shape
    from svccheck.protocols import own_fields, url_schemes

    defs: dict[str, Any] = {}
    root = defs.pop(manifest_shape(own_fields(), url_schemes()).schema(defs)["$ref"].rsplit("/", 1)[-1])
    body = {**root, "$defs": defs}
    body["$defs"]["Interpolated"] = _INTERPOLATED_DEF
    body["$defs"]["ServiceSpec"]["allOf"] = _protocol_branches()
    return {"$schema": SCHEMA_DIALECT, **body}


def _protocol_branches() -> list[dict[str, Any]]:
    """`if` the URL is tcp://, `then` only the keys TCP takes; likewise for http(s)://. A URL that
    is a `${VAR}` takes no branch: only the loader, after interpolation, knows its scheme."""
    from svccheck.grammar import schema
    from svccheck.protocols import every_protocol, own_fields

    every = {
        "service": frozenset(schema.SERVICE.keys) | {f.key for f in own_fields()},
        "health": frozenset(schema.CHECK.keys),
        "check": frozenset(schema.CHECK.keys),
        "expect": frozenset(schema.EXPECT.keys),
    }
    return [
        protocol.shape.schema_branch(every, protocol.schemes) for protocol in every_protocol()
    ]  # in registry order


def render_schema() -> str:
    """The schema as the text `svccheck schema` prints and `schema/services.schema.json` holds."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"
