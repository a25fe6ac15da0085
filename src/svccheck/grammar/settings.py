"""The tunables a check inherits: built-in defaults, `defaults`, the environment's, the service's, its own.

Shared by every protocol's build, so no protocol module imports another.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from svccheck.grammar import schema

Layer = dict[str, Any]

BUILTIN_DEFAULTS: Layer = schema.BUILTIN_DEFAULTS


def tunables(spec: schema.Tunables | schema.ServiceSpec | schema.CheckSpec | None) -> Layer:
    """The settings this level sets (timeout, retries, ...), by name."""
    if spec is None:
        return {}
    return {name: value for name in schema.TUNABLE_NAMES if (value := getattr(spec, name)) is not None}


def merge(layers: list[Layer]) -> Layer:
    merged: Layer = dict(BUILTIN_DEFAULTS)
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


def verify_setting(value: bool | str, manifest_path: str) -> bool | str:
    """`verify_tls` as the probe takes it: a CA bundle path is made absolute, relative to the manifest."""
    return value if isinstance(value, bool) else str(ca_bundle_path(value, manifest_path))


def ca_bundle_path(value: str, manifest_path: str) -> FsPath:
    candidate = FsPath(value).expanduser()
    if not candidate.is_absolute():
        candidate = FsPath(manifest_path).resolve().parent / candidate
    return candidate
