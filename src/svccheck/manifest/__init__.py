"""The manifest: YAML → validated, interpolated runtime model, errors with positions."""

from svccheck.manifest.loader import load_manifest, parse_manifest
from svccheck.spec.errors import ManifestError, ManifestIssue

__all__ = ["ManifestError", "ManifestIssue", "load_manifest", "parse_manifest"]
