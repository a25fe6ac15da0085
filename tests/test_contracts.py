"""`expect: {schema: …}` and `openapi:`: real Petstore documents, served by a loopback server that
answers conforming and drifted bodies; every violation named by where in the body it is."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Response, Router, ServerThread, json_response
from svccheck.grammar.openapi import schema_30
from svccheck.judge.contract import json_path
from svccheck.report.formats import FORMATS

SPECS = Path(__file__).parent / "fixtures" / "openapi"

PETS: list[dict[str, Any]] = [{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom", "tag": "cat"}]
# a deploy that renamed `name` to `title` and sends an id as text
DRIFTED: list[dict[str, Any]] = [{"id": 1, "name": "Rex"}, {"id": "17", "title": "Tom"}]


def petstore(pets: list[dict[str, Any]], *, pet_status: int = 200) -> Router:
    router = Router("petstore")
    router.static("GET", "/v1/pets", json_response(pets))
    router.static("GET", "/v1/pets/{petId}", json_response(pets[:1], status=pet_status))
    router.static("GET", "/v1/page", Response(200, "<html>maintenance</html>", {}, "text/html"))
    router.static("GET", "/plans", json_response({"data": pets}))
    return router


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding the manifest, the Petstore documents and a schema in two files."""
    shutil.copytree(SPECS, tmp_path / "specs")
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "plans.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["data"],
                "properties": {"data": {"type": "array", "items": {"$ref": "defs.json#/$defs/pet"}}},
            }
        )
    )
    (tmp_path / "schemas" / "defs.json").write_text(
        json.dumps(
            {
                "$defs": {
                    "pet": {
                        "type": "object",
                        "required": ["id", "name"],
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                    }
                }
            }
        )
    )
    return tmp_path


def manifest(workdir: Path, port: int, checks: str, service: str = "") -> Path:
    path = workdir / "services.yaml"
    path.write_text(
        f"services:\n  api:\n    url: http://127.0.0.1:{port}\n{service}    checks:\n{checks}",
        encoding="utf-8",
    )
    return path


def run_json(path: Path, *args: str) -> dict[str, Any]:
    result = run_cli("all", "-f", str(path), "--format", "json", *args)
    assert_no_traceback(result)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def checks_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = report["services"]
    assert isinstance(services, list)
    return {check["name"]: check for service in services for check in service["checks"]}


SCHEMA_CHECKS = """\
      - path: /plans
        expect: {schema: schemas/plans.json}
      - name: inline draft 7
        path: /plans
        expect:
          schema:
            $schema: "http://json-schema.org/draft-07/schema#"
            properties: {data: {items: {properties: {id: {type: integer}}}}}
"""


def test_a_schema_in_two_files_passes_a_conforming_body_and_names_each_violation(
    servers: ServerThread, workdir: Path
) -> None:
    good = manifest(workdir, servers.add(petstore(PETS)), SCHEMA_CHECKS)
    report = run_json(good)
    assert report["verdict"] == "pass", report

    drifted = manifest(workdir, servers.add(petstore(DRIFTED)), SCHEMA_CHECKS)
    checks = checks_of(run_json(drifted))
    plans = checks["GET /plans"]
    assert plans["verdict"] == "fail"
    # the first few in the reason, every one in the report, each naming where it is
    assert (
        plans["reason"] == '$.data[1].id: expected integer, got "17"; $.data[1].name: required, got nothing'
    )
    assert [f["message"] for f in plans["failures"]] == [
        '$.data[1].id: expected integer, got "17"',
        "$.data[1].name: required, got nothing",
    ]
    assert checks["inline draft 7"]["reason"] == '$.data[1].id: expected integer, got "17"'


def test_check_verbose_lists_every_violation(servers: ServerThread, workdir: Path) -> None:
    path = manifest(workdir, servers.add(petstore(DRIFTED)), SCHEMA_CHECKS)
    result = run_cli("check", "api", "-v", "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == 1
    assert '✗ body matches schemas/plans.json: $.data[1].id: expected integer, got "17"' in result.stdout
    assert "✗ body matches schemas/plans.json: $.data[1].name: required, got nothing" in result.stdout


OPENAPI_CHECKS = """\
      - path: /v1/pets
      - path: /v1/pets/1
"""


@pytest.mark.parametrize(
    "spec", ["petstore-3.0.yaml", "petstore-3.1.yaml", "petstore-separate/spec/openapi.yaml"]
)
def test_a_real_openapi_document_passes_a_conforming_server_and_fails_a_drifted_one(
    servers: ServerThread, workdir: Path, spec: str
) -> None:
    service = f"    openapi: specs/{spec}\n"
    good = manifest(workdir, servers.add(petstore(PETS)), OPENAPI_CHECKS, service)
    report = run_json(good)
    assert report["verdict"] == "pass", report

    drifted = manifest(workdir, servers.add(petstore(DRIFTED)), OPENAPI_CHECKS, service)
    check = checks_of(run_json(drifted))["GET /v1/pets"]
    assert check["verdict"] == "fail"
    assert check["reason"] == '$[1].id: expected integer, got "17"; $[1].name: required, got nothing'


def test_the_service_url_path_and_the_documents_server_path_both_match(
    servers: ServerThread, workdir: Path
) -> None:
    # `servers: [{url: http://petstore.swagger.io/v1}]`: /v1 may be in the service URL or in the check
    port = servers.add(petstore(PETS))
    path = workdir / "services.yaml"
    path.write_text(
        f"""\
services:
  in-url:
    url: http://127.0.0.1:{port}/v1
    openapi: specs/petstore-3.0.yaml
    checks: [{{path: /pets}}, {{path: /pets/7}}]
  in-path:
    url: http://127.0.0.1:{port}
    checks: [{{path: /v1/pets, expect: {{openapi: specs/petstore-3.1.yaml}}}}]
"""
    )
    report = run_json(path)
    assert report["verdict"] == "pass", report


def undeclared_spec(workdir: Path) -> None:
    # a document whose operation declares 200 only, no `default`: a 201 is not in the contract
    (workdir / "specs" / "strict.yaml").write_text(
        """\
openapi: 3.1.0
info: {title: strict, version: "1"}
paths:
  /v1/pets/{petId}:
    get:
      responses:
        "200":
          description: one pet
          content:
            application/json:
              schema: {type: array}
  /v1/page:
    get:
      responses:
        "200":
          description: a page
          content:
            application/json:
              schema: {type: object}
"""
    )


def test_an_undeclared_status_and_an_undeclared_content_type_fail(
    servers: ServerThread, workdir: Path
) -> None:
    undeclared_spec(workdir)
    checks = """\
      - path: /v1/pets/1
      - path: /v1/page
"""
    path = manifest(
        workdir, servers.add(petstore(PETS, pet_status=201)), checks, "    openapi: specs/strict.yaml\n"
    )
    found = checks_of(run_json(path))
    assert found["GET /v1/pets/1"]["reason"] == (
        "specs/strict.yaml#/paths/~1v1~1pets~1{petId}/get/responses: status 201 is not declared "
        "for GET /v1/pets/{petId} (declared: 200)"
    )
    assert found["GET /v1/page"]["reason"] == (
        "content type text/html is not declared for GET /v1/page 200 (declared: application/json)"
    )


def test_a_body_that_is_not_json_fails_naming_its_content_type(servers: ServerThread, workdir: Path) -> None:
    checks = "      - path: /v1/page\n        expect: {schema: schemas/plans.json}\n"
    path = manifest(workdir, servers.add(petstore(PETS)), checks)
    reason = checks_of(run_json(path))["GET /v1/page"]["reason"]
    assert isinstance(reason, str)
    assert reason.startswith("schemas/plans.json: body is not JSON (text/html): ")


def test_a_body_over_the_read_cap_is_a_warning_not_a_pass(servers: ServerThread, workdir: Path) -> None:
    router = Router()
    router.static("GET", "/big", json_response({"data": [{"id": 1, "name": "x" * 1000}] * 1200}))
    checks = "      - path: /big\n        expect: {schema: schemas/plans.json}\n"
    path = manifest(workdir, servers.add(router), checks)
    check = checks_of(run_json(path))["GET /big"]
    assert check["verdict"] == "warn"
    assert check["reason"] == "schemas/plans.json: not validated (body truncated at 1 MiB)"


# how each format writes the drifted body's pointer and the undeclared status's (Markdown escapes its
# table syntax; Prometheus metrics carry no reasons, only the failing checks)
POINTERS = {
    "markdown": (
        "\\$\\[1\\].id: expected integer",
        "strict.yaml#/paths/\\~1v1\\~1pets\\~1{petId}/get/responses",
    ),
    "prometheus": ('check="GET /v1/pets"', 'check="GET /v1/pets/1"'),
}


@pytest.mark.parametrize("fmt", [f.name for f in FORMATS])
def test_every_report_format_carries_the_pointer(servers: ServerThread, workdir: Path, fmt: str) -> None:
    undeclared_spec(workdir)
    path = workdir / "services.yaml"
    path.write_text(
        f"""\
services:
  drifted:
    url: http://127.0.0.1:{servers.add(petstore(DRIFTED))}
    openapi: specs/petstore-3.0.yaml
    checks: [{{path: /v1/pets}}]
  undeclared:
    url: http://127.0.0.1:{servers.add(petstore(PETS, pet_status=201))}
    openapi: specs/strict.yaml
    checks: [{{path: /v1/pets/1}}]
"""
    )
    result = run_cli("all", "-f", str(path), "--format", fmt)
    assert_no_traceback(result)
    assert result.returncode == 1
    quote = {"json": '\\"', "html": "&quot;"}.get(fmt, '"')
    default = (
        f"$[1].id: expected integer, got {quote}17{quote}",
        "specs/strict.yaml#/paths/~1v1~1pets~1{petId}/get/responses: status 201 is not declared",
    )
    for pointer in POINTERS.get(fmt, default):
        assert pointer in result.stdout, result.stdout


@pytest.fixture
def blocked_jsonschema(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment in which `import jsonschema` fails, as in a partial install."""
    blocker = tmp_path / "blocked" / "jsonschema"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('not installed')\n")
    yield {"PYTHONPATH": str(blocker.parent)}


def test_without_jsonschema_a_contract_is_a_manifest_error_naming_it(
    workdir: Path, blocked_jsonschema: dict[str, str]
) -> None:
    path = manifest(workdir, 9, SCHEMA_CHECKS, "    openapi: specs/petstore-3.0.yaml\n")
    result = run_cli("validate", "-f", str(path), env=blocked_jsonschema)
    assert_no_traceback(result)
    assert result.returncode == 2
    assert (
        f"{path}:4:14: openapi: the jsonschema library is not installed: pip install 'jsonschema>=4.18'"
        in result.stderr
    )
    assert (
        "expect.schema: the jsonschema library is not installed: pip install 'jsonschema>=4.18'"
        in result.stderr
    )


def test_a_bad_schema_or_an_unmatched_path_is_a_manifest_error_at_its_line(workdir: Path) -> None:
    path = workdir / "services.yaml"
    path.write_text(
        """\
services:
  plans:
    url: http://127.0.0.1:9
    checks:
      - path: /plans
        expect: {schema: {type: integr}}
      - path: /gone
        expect:
          schema: schemas/missing.json
      - path: /remote
        expect: {schema: {$ref: "https://schemas.example/plan.json"}}
  pets:
    url: http://127.0.0.1:9/v1
    openapi: specs/petstore-3.0.yaml
    checks:
      - path: /petz
      - {path: /pets/1, method: DELETE}
      - {path: /elsewhere, expect: {openapi: false}}
  cache:
    url: tcp://127.0.0.1:9
    openapi: specs/petstore-3.0.yaml
"""
    )
    result = run_cli("validate", "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[:5] == [
        f"{path}:6:26: expect.schema: inline schema: not a valid JSON Schema at $.type: "
        "'integr' is not valid under any of the given schemas",
        f"{path}:9:19: expect.schema: schemas/missing.json: no such file",
        f"{path}:11:26: expect.schema: inline schema: $ref 'https://schemas.example/plan.json' is not a local "
        "file: svccheck reads no schema from the network; save it next to the schema and refer to it by a "
        "relative path",
        f"{path}:16:15: GET /v1/petz matches no path of specs/petstore-3.0.yaml (did you mean /pets?)",
        f"{path}:17:16: specs/petstore-3.0.yaml declares no DELETE for /pets/{{petId}} (only GET)",
    ]
    assert lines[5].startswith(f"{path}:21:5: 'openapi' is for http:// services")
    assert len(lines) == 7  # `openapi: false` turned the service's off for /elsewhere


def test_openapi_30_schemas_read_as_json_schema_2020_12() -> None:
    assert schema_30({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert schema_30({"type": "string", "enum": ["a"], "nullable": True}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert schema_30({"minimum": 1, "exclusiveMinimum": True}) == {"exclusiveMinimum": 1}
    assert schema_30({"maximum": 9, "exclusiveMaximum": False}) == {"maximum": 9}
    # 3.0 ignores what sits beside a $ref; a property named `$ref` is a property like any other
    assert schema_30({"$ref": "#/components/schemas/Pet", "nullable": True}) == {
        "$ref": "#/components/schemas/Pet"
    }
    assert schema_30({"properties": {"$ref": {"type": "string", "nullable": True}}}) == {
        "properties": {"$ref": {"type": ["string", "null"]}}
    }
    assert schema_30({"allOf": [{"$ref": "#/a"}], "nullable": True}) == {
        "anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/a"}]}]
    }


def test_a_pointer_reads_as_the_manifests_json_paths() -> None:
    assert json_path(["data", 3, "id"]) == "$.data[3].id"
    assert json_path([]) == "$"
    assert json_path(["a b", "it's"]) == "$['a b']['it\\'s']"


def test_a_hostile_key_in_the_body_is_shown_escaped_never_obeyed(
    servers: ServerThread, workdir: Path
) -> None:
    router = Router()
    router.static("GET", "/x", json_response({"\x1b[2J\x1b]0;pwned\x07": 1, "\u202eevil": 2}))
    checks = "      - path: /x\n        expect: {schema: {additionalProperties: false}}\n"
    path = manifest(workdir, servers.add(router), checks)
    for args in (("all",), ("check", "api", "-v"), ("all", "--format", "json")):
        result = run_cli(*args, "-f", str(path))
        assert_no_traceback(result)
        assert result.returncode == 1
        assert not {"\x1b", "\x07", "\u202e"} & set(result.stdout), args
        assert "not allowed (additionalProperties: false)" in result.stdout
