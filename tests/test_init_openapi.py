"""`svccheck init --openapi SPEC --url BASE`: only safe checks, the rest listed with why, and a file
that validates as written and passes against a server that keeps the contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Router, ServerThread, json_response
from svccheck.manifest import load_manifest
from svccheck.model import HttpRequest

SPECS = Path(__file__).parent / "fixtures" / "openapi"


def petstore(pets: list[dict[str, object]]) -> Router:
    router = Router("petstore")
    router.static("GET", "/v1/pets", json_response(pets))
    router.static("GET", "/v1/pets/{petId}", json_response(pets[:1]))
    return router


@pytest.mark.parametrize("spec", ["petstore-3.0.yaml", "petstore-3.1.yaml"])
def test_a_real_document_gives_safe_checks_that_pass_against_a_conforming_server(
    servers: ServerThread, tmp_path: Path, spec: str
) -> None:
    shutil.copy(SPECS / spec, tmp_path / spec)
    port = servers.add(petstore([{"id": 1, "name": "Rex"}]))
    target = tmp_path / "services.yaml"
    result = run_cli(
        "init", "--openapi", str(tmp_path / spec), "--url", f"http://127.0.0.1:{port}", "-f", str(target)
    )
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    text = target.read_text()
    # the document's server path (/v1) follows the base; the spec is named relative to the manifest
    assert f"url: http://127.0.0.1:{port}/v1\n" in text
    assert "#   POST /pets (createPets): POST creates or changes data\n" in text
    assert (
        "#   GET /pets/{petId} (showPetById): path parameter petId has no example in the document\n" in text
    )
    checks = yaml.safe_load(text)["services"]["swagger-petstore"]["checks"]
    assert checks == [{"name": "listPets", "path": "/pets", "expect": {"openapi": spec}}]

    passed = run_cli("all", "-f", str(target), "--format", "json")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert json.loads(passed.stdout)["verdict"] == "pass"

    # the same file against a server whose ids became text: the contract catches it
    drifted = servers.add(petstore([{"id": "1", "name": "Rex"}]))
    target.write_text(text.replace(f":{port}/", f":{drifted}/"))
    failed = run_cli("all", "-f", str(target), "--format", "json")
    assert failed.returncode == 1
    check = json.loads(failed.stdout)["services"][0]["checks"][0]
    assert check["reason"] == '$[0].id: expected integer, got "1"'


EXAMPLES = """\
openapi: 3.1.0
info: {title: Plans API, version: "1"}
security: [{}]
paths:
  /plans/{plan}:
    parameters:
      - {name: plan, in: path, required: true, schema: {type: string}, example: basic}
    get:
      operationId: getPlan
      parameters:
        - {name: currency, in: query, required: true, schema: {type: string, examples: [EUR]}}
        - {name: verbose, in: query, schema: {type: boolean}}
      responses: {"200": {description: a plan}}
    head:
      responses: {"200": {description: a plan}}
    delete:
      responses: {"204": {description: gone}}
  /plans/{plan}/invoices:
    get:
      parameters: [{name: plan, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: invoices}}
  /admin/plans:
    get:
      security: [{bearer: []}]
      responses: {"200": {description: every plan}}
  /search:
    get:
      parameters: [{$ref: "#/components/parameters/query"}]
      responses: {"200": {description: results}}
    options:
      responses: {"204": {description: allowed}}
components:
  parameters:
    query: {name: q, in: query, required: true, examples: {one: {value: "smoke test"}}}
"""


def test_examples_fill_parameters_and_nothing_unsafe_is_written(tmp_path: Path) -> None:
    spec = tmp_path / "specs" / "plans.yaml"
    spec.parent.mkdir()
    spec.write_text(EXAMPLES)
    target = tmp_path / "services.yaml"
    result = run_cli("init", "--openapi", str(spec), "--url", "http://127.0.0.1:9/api", "-f", str(target))
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    text = target.read_text()
    assert "#   DELETE /plans/{plan} (DELETE /plans/{plan}): DELETE removes data\n" in text
    assert "path parameter plan has no example in the document" in text
    assert "#   GET /admin/plans (GET /admin/plans): needs credentials (bearer)" in text
    assert "OPTIONS /search (OPTIONS /search): OPTIONS describes the endpoint" in text

    manifest = load_manifest(str(target), environ={})
    checks = manifest.services[0].checks
    assert [(c.name, c.url) for c in checks] == [
        ("getPlan", "http://127.0.0.1:9/api/plans/basic?currency=EUR"),
        ("HEAD /plans/{plan}", "http://127.0.0.1:9/api/plans/basic"),
        ("GET /search", "http://127.0.0.1:9/api/search?q=smoke+test"),
    ]
    assert {c.target.method for c in checks if isinstance(c.target, HttpRequest)} == {"GET", "HEAD"}
    assert all(c.expect is not None and c.expect.openapi is not None for c in checks)
    assert "skipped DELETE /plans/{plan}: DELETE removes data" in result.stdout


def test_openapi_needs_its_url_and_refuses_swagger_2(tmp_path: Path) -> None:
    result = run_cli("init", "--openapi", str(SPECS / "petstore-3.0.yaml"), "-f", str(tmp_path / "s.yaml"))
    assert result.returncode == 2 and "give both" in result.stderr
    swagger = tmp_path / "swagger.yaml"
    swagger.write_text('swagger: "2.0"\ninfo: {title: old, version: "1"}\npaths: {}\n')
    refused = run_cli(
        "init", "--openapi", str(swagger), "--url", "http://127.0.0.1:9", "-f", str(tmp_path / "s.yaml")
    )
    assert_no_traceback(refused)
    assert refused.returncode == 2
    assert "Swagger 2.0 is not read: convert it to OpenAPI 3" in refused.stderr
    assert not (tmp_path / "s.yaml").exists()
