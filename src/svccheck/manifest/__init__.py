"""The manifest: YAML → validated, interpolated runtime model, errors with positions."""

from svccheck.grammar.errors import ManifestError, ManifestIssue
from svccheck.manifest.loader import load_manifest, parse_manifest

__all__ = ["ManifestError", "ManifestIssue", "load_manifest", "parse_manifest"]
