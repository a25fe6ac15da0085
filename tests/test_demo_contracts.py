"""The demo fleet publishes the OpenAPI documents of two services, and `svccheck demo` checks them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

import httpx
import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.fleet import Fleet
from svccheck.demo.run import bundled_manifest_path
from svccheck.manifest import load_manifest

PUBLISHED = ("api-gateway", "billing-service")


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    with Fleet(scenario="healthy") as running:
        yield running


@pytest.mark.parametrize("service", PUBLISHED)
def test_each_publishing_service_serves_the_document_the_manifest_checks_it_by(
    fleet: Fleet, service: str
) -> None:
    served = httpx.get(f"{fleet.urls[service]}/openapi.yaml", timeout=5)
    bundled = resources.files("svccheck.demo").joinpath(f"openapi/{service}.yaml").read_text()
    assert served.status_code == 200 and served.text == bundled
    manifest = load_manifest(str(bundled_manifest_path()), environ={})
    found = manifest.service(service)
    assert found is not None
    contracts = [c.expect.openapi for c in found.checks if c.expect is not None and c.expect.openapi]
    assert contracts and {c.spec for c in contracts} == {f"openapi/{service}.yaml"}


def test_the_demo_shows_a_contract_check() -> None:
    result = run_cli("demo", "--format", "json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    gateway = next(s for s in json.loads(result.stdout)["services"] if s["name"] == "api-gateway")
    one_plan = next(c for c in gateway["checks"] if c["name"] == "one plan")
    assert one_plan["verdict"] == "pass" and one_plan["status_code"] == 200
    # in the outage, billing's 502 and its error body are ones its contract declares: the check fails
    # by its own expectations (status 200, $.data), not by the contract
    outage = run_cli("demo", "--scenario", "outage", "--format", "json")
    billing = next(s for s in json.loads(outage.stdout)["services"] if s["name"] == "billing-service")
    invoices = next(c for c in billing["checks"] if c["name"] == "open invoices")
    messages = [f["message"] for f in invoices["failures"]]
    assert messages[0] == "expected status 200, got 502"
    assert not [m for m in messages if "declared" in m or "openapi" in m], messages
