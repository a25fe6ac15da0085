"""Read a manifest file: YAML → interpolation → validation → runtime model.

Every problem is collected with its position and raised together as one
`ManifestError`, so a user fixes a broken file in one pass.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

from svccheck.grammar import schema, tokens
from svccheck.grammar.errors import ManifestError, ManifestIssue
from svccheck.grammar.issues import Reporter
from svccheck.grammar.positions import Path, Positions
from svccheck.grammar.shape import Problem, describe, dotted, read_document
from svccheck.grammar.source import load_source
from svccheck.manifest.build import build_manifest
from svccheck.manifest.captures import check_auth_and_captures
from svccheck.manifest.dependencies import check_dependencies, dependency_graph
from svccheck.manifest.interpolate import Resolver, interpolate_tree
from svccheck.manifest.rules import check_manifest
from svccheck.model import Manifest
from svccheck.protocols import own_fields, shapes, url_schemes

# Real manifests are a few KiB; parsing YAML costs about a second per dense MiB.
MAX_MANIFEST_BYTES = 1024 * 1024


def load_manifest(
    path: str,
    *,
    env: str | None = None,
    cli_vars: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Manifest:
    text = _read_text(path)
    return parse_manifest(text, path, env=env, cli_vars=cli_vars, environ=environ)


def parse_manifest(
    text: str,
    path: str,
    *,
    env: str | None = None,
    cli_vars: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Manifest:
    source = load_source(text)
    issues = list(source.issues)
    data = source.data
    if data is None and not issues:
        raise ManifestError(
            path, [ManifestIssue("manifest is empty: expected a mapping with 'services'", 1, 1)]
        )
    if issues and not isinstance(data, dict):
        raise ManifestError(path, issues)
    if not isinstance(data, dict):
        raise ManifestError(
            path,
            [
                ManifestIssue(
                    f"expected a mapping with 'services' at the top level, got {describe(data)}", 1, 1
                )
            ],
        )
    positions = source.positions
    report = Reporter(positions)
    report.issues = issues

    if "services" not in data:
        issues.append(ManifestIssue("missing required key 'services'", 1, 1))
    elif ("services",) in source.rejected:
        pass  # already reported as an unsupported tag
    elif not data["services"]:
        report.error(("services",), "'services' is empty: list at least one service", key=True)

    resolver = _resolver(data, env, cli_vars or {}, os.environ if environ is None else environ)
    resolver.base_dir = FsPath(path).resolve().parent
    if env is not None and env not in (data.get("environments") or {}):
        known = (
            sorted((data.get("environments") or {}).keys())
            if isinstance(data.get("environments"), dict)
            else []
        )
        hint = f"; known: {', '.join(known)}" if known else "; the manifest defines no environments"
        issues.append(ManifestIssue(f"unknown environment {env!r} (--env){hint}", None))
        summary = "a mistake on the command line (--env); nothing was probed" if len(issues) == 1 else None
        raise ManifestError(path, issues, secrets=resolver.secrets, summary=summary)

    errors: list[tuple[Path, str]] = []
    expanded = dict(data)
    for section in ("defaults", "auth", "services", "environments"):
        if section in data:
            expanded[section] = _interpolate_section(data, section, resolver, errors)
    for where, message in errors:
        report.error(where, message)
    if isinstance(data.get("services"), dict):
        for name in data["services"]:
            if not isinstance(name, str) or tokens.SERVICE_NAME.read(name) is None:
                report.error(
                    ("services", name),
                    f"bad service name {name!r}: use letters, digits, '-', '_' and '.' (at most 100)",
                    key=True,
                )
    check_dependencies(
        dependency_graph(data.get("services")), lambda p, msg, key: report.error(p, msg, key=key)
    )
    check_auth_and_captures(expanded, lambda p, msg, key: report.error(p, msg, key=key))

    # One pass: the shape, then the rules on what it read (skipping what it refused), then the verdict.
    spec, problems = read_document(schema.manifest_shape(own_fields(), url_schemes()), expanded)
    issues.extend(_shape_issues(problems, positions, source.rejected))
    if spec is not None:
        check_manifest(spec, shapes(), env=env, manifest_path=path, report=report)
    if issues or spec is None:
        raise ManifestError(path, issues, secrets=resolver.secrets)

    return build_manifest(
        spec,
        path=path,
        env=env,
        secrets=frozenset(resolver.secrets),
        secret_vars=tuple(resolver.secret_names.items()),
    )


def _interpolate_section(
    data: dict[str, Any], section: str, resolver: Resolver, errors: list[tuple[Path, str]]
) -> Any:
    if section != "environments" or not isinstance(data[section], dict):
        return interpolate_tree(data[section], resolver, (section,), errors)
    # Environment `vars` feed the resolver themselves; only their defaults expand here.
    result: dict[str, Any] = {}
    for name, overlay in data[section].items():
        if isinstance(overlay, dict) and "defaults" in overlay:
            overlay = dict(overlay)
            overlay["defaults"] = interpolate_tree(
                overlay["defaults"], resolver, (section, name, "defaults"), errors
            )
        result[name] = overlay
    return result


def _resolver(
    data: dict[str, Any], env: str | None, cli_vars: Mapping[str, str], environ: Mapping[str, str]
) -> Resolver:
    top = data.get("vars")
    envs = data.get("environments")
    env_vars: Any = {}
    if env and isinstance(envs, dict) and isinstance(envs.get(env), dict):
        env_vars = envs[env].get("vars") or {}
    return Resolver(
        cli_vars=cli_vars,
        environ=environ,
        env_vars=env_vars if isinstance(env_vars, dict) else {},
        top_vars=top if isinstance(top, dict) else {},
    )


def _read_text(path: str) -> str:
    fs_path = FsPath(path)
    try:
        if fs_path.is_dir():
            raise ManifestError(path, [ManifestIssue("is a directory, not a manifest file")])
        with fs_path.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise ManifestError(
            path,
            [ManifestIssue("no such file (give one with -f/--manifest or $SVCCHECK_MANIFEST)")],
            summary="no manifest, nothing was probed; `svccheck init` writes a starter one",
        ) from None
    except OSError as exc:
        raise ManifestError(path, [ManifestIssue(f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            path, [ManifestIssue(f"manifest is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB", 1, 1)]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(
            path,
            [ManifestIssue(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded", line, column)],
        ) from None


def _shape_issues(
    problems: list[Problem], positions: Positions, rejected: frozenset[Path] = frozenset()
) -> list[ManifestIssue]:
    issues: list[ManifestIssue] = []
    for problem in problems:
        loc = problem.loc
        if any(loc[: len(r)] == r for r in rejected):
            continue  # a value dropped for its tag, reported once already
        if loc == ("services",) and problem.point is not None:
            continue  # a missing 'services': reported by the loader with a plainer message
        if problem.on_key:
            message, pos = problem.message, positions.of_key(loc)
        else:
            message = f"{dotted(loc)}: {problem.message}"
            point = loc if problem.point is None else problem.point
            pos = positions.of_value(point)
        issues.append(ManifestIssue(message, *(pos or (1, 1))))
    return issues
