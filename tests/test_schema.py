"""The manifest's JSON Schema: generated from the models, committed, and true to the loader."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import assert_no_traceback, run_cli
from svccheck.manifest.json_schema import manifest_schema, render_schema
from svccheck.manifest.loader import parse_manifest

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schema" / "services.schema.json"
REGENERATE = "svccheck schema -o schema/services.schema.json"
SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = manifest_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def test_committed_schema_is_in_sync_with_the_models() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_schema(), (
        f"schema/services.schema.json is stale: regenerate it with `{REGENERATE}`"
    )


def test_schema_command_prints_and_writes_the_schema(tmp_path: Path) -> None:
    printed = run_cli("schema")
    assert_no_traceback(printed)
    assert printed.returncode == 0
    assert json.loads(printed.stdout) == json.loads(COMMITTED.read_text())
    target = tmp_path / "services.schema.json"
    written = run_cli("schema", "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert target.read_text() == COMMITTED.read_text()
    refused = run_cli("schema", "-o", str(tmp_path / "missing" / "dir" / "x.json"))
    assert refused.returncode == 2
    assert "cannot write" in refused.stderr
    assert_no_traceback(refused)


def test_schema_has_descriptions_and_examples() -> None:
    schema = manifest_schema()
    service = schema["$defs"]["ServiceSpec"]["properties"]
    for key in ("url", "critical", "tags", "depends_on", "health", "checks", "timeout", "verify_tls"):
        assert service[key].get("description"), key
    assert "examples" in service["url"]
    assert "examples" in service["health"]
    assert "/health" in json.dumps(service["health"])


@pytest.mark.parametrize("manifest", [ROOT / "services.yaml", ROOT / "src/svccheck/demo/services.yaml"])
def test_manifests_start_with_the_schema_comment(manifest: Path) -> None:
    match = SCHEMA_COMMENT.match(manifest.read_text())
    assert match, f"{manifest} must start with the yaml-language-server comment"
    assert match.group(1) == "schema/services.schema.json"
    # relative to the file, as the YAML language server resolves it
    assert (ROOT / match.group(1)).is_file()


def test_root_services_yaml_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    assert errors(validator, yaml.safe_load((ROOT / "services.yaml").read_text())) == []


def is_manifest(block: str) -> bool:
    """A whole manifest: `services` maps names to mappings with a `url` (not, say, GitLab CI's `services:`)."""
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        return False
    services = data.get("services") if isinstance(data, dict) else None
    return isinstance(services, dict) and all(isinstance(s, dict) and "url" in s for s in services.values())


def documented_manifests() -> list[tuple[str, str]]:
    """Every ```yaml block in the README and docs/ that is a whole manifest."""
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(), flags=re.DOTALL)
        for index, block in enumerate(blocks):
            if is_manifest(block):
                found.append((f"{doc.name}#{index}", block))
    return found


def test_documentation_has_manifest_examples() -> None:
    assert len(documented_manifests()) >= 4


@pytest.mark.parametrize(("where", "text"), documented_manifests())
def test_documented_manifests_are_valid(
    validator: jsonschema.Draft202012Validator, where: str, text: str
) -> None:
    assert errors(validator, yaml.safe_load(text)) == [], where
    parse_manifest(text, where, environ={})  # and the loader agrees: documented examples load


# Manifests the loader accepts: the schema must accept them too, or an editor would flag good files.
LOADER_ACCEPTS = [
    """
    services:
      api:
        url: ${API_URL}
        retries: ${RETRIES}
        timeout: ${TIMEOUT}
        critical: ${CRITICAL}
        verify_tls: ${VERIFY}
        health: {path: /health, expect: {status: "${STATUS}", max_latency: "${SLOW}"}}
    """,
    """
    version: "1"
    defaults: {retries: "3", timeout: 2.5, backoff: "1m30s"}
    services:
      api:
        url: http://localhost:8080
        critical: "yes"
        health: /health
        checks:
          - {path: /a, method: post, idempotent: true, expect: {status: [200, "2xx"], body: {contains: ok}}}
          - {path: /b, expect: {status: "201", json: {$.n: {gte: 1, lt: 10}}}}
    """,
]


@pytest.mark.parametrize("text", LOADER_ACCEPTS)
def test_schema_accepts_what_the_loader_accepts(
    validator: jsonschema.Draft202012Validator, text: str
) -> None:
    import textwrap

    text = textwrap.dedent(text)
    environ = {
        "API_URL": "http://localhost:1",
        "RETRIES": "2",
        "TIMEOUT": "3s",
        "CRITICAL": "false",
        "VERIFY": "true",
        "STATUS": "200",
        "SLOW": "1s",
    }
    parse_manifest(text, "services.yaml", environ=environ)  # the loader takes it...
    assert errors(validator, yaml.safe_load(text)) == []  # ...and so does the schema


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"services": {"a": {"url": "http://x", "helth": "/h"}}}, "'helth' was unexpected"),
        ({"services": {"a": {"url": "http://x", "timeout": "5 parsecs"}}}, "5 parsecs"),
        ({"services": {"a": {"url": "http://x", "retries": "many"}}}, "many"),
        ({"services": {"a b": {"url": "http://x"}}}, "a b"),
        ({"services": {}}, "services"),
        ({"version": 1}, "'services' is a required property"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator, data: dict[str, Any], fragment: str
) -> None:
    found = errors(validator, data)
    assert found, data
    assert any(fragment in e for e in found), found
