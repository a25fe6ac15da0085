"""The README's figures and screens are the demo's (#15): counts from the outage demo's JSON report,
screens from tests/golden/screens (which the golden-screen tests hold to a real terminal)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from support.cli import run_cli
from svccheck.demo.ledger import NAME as LEDGER
from test_golden_screens import GOLDEN, normalised

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
_SCREEN = re.compile(r"<!-- screen: (\S+) [^>]*-->\n```text\n(.*?)\n```", re.DOTALL)


@pytest.fixture(scope="module")
def outage() -> dict[str, object]:
    """The outage demo's report as a plain install prints it: the HTTP fleet, without the gRPC row
    the `grpc` extra adds (the README says so where it shows the figures)."""
    result = run_cli("demo", "--scenario", "outage", "--format", "json", timeout=120)
    report: dict[str, object] = json.loads(result.stdout)
    services = [s for s in report["services"] if s["name"] != LEDGER]  # type: ignore[attr-defined]
    if len(services) != len(report["services"]):  # type: ignore[arg-type]
        report = {**report, "services": services, "summary": _summary(services, report["summary"])}
    return report


def _summary(services: list[dict[str, Any]], whole: object) -> dict[str, object]:
    """The summary's counts over `services` only (recovered and skipped: as in the whole report)."""
    assert isinstance(whole, dict)
    checks = [c for s in services for c in s["checks"]]
    # a credential's token request (`auth:NAME`) is a row with a check, not a service of the fleet
    verdicts = [s["verdict"] for s in services if not s["name"].startswith("auth:")]
    return {
        "services": len(verdicts),
        "healthy": verdicts.count("pass"),
        "degraded": verdicts.count("warn"),
        "failing": verdicts.count("fail"),
        "skipped": verdicts.count("skip"),
        "checks": len(checks),
        "checks_failed": sum(c["verdict"] == "fail" for c in checks),
        "checks_warned": sum(c["verdict"] == "warn" for c in checks),
        "recovered": whole["recovered"],
    }


def test_the_json_example_has_the_demo_outage_summary(outage: dict[str, object]) -> None:
    example = re.search(r'"summary": (\{.*?\}),\n', README, re.DOTALL)
    assert example is not None
    assert json.loads(example.group(1)) == outage["summary"]


def test_the_watch_example_counts_the_demo_checks(outage: dict[str, object]) -> None:
    summary = outage["summary"]
    assert isinstance(summary, dict)
    line = f"watching {summary['checks']} checks of {summary['services']} services every 5s"
    assert line in README
    for count in re.findall(r"(\d+) checks of (\d+) services", README):
        assert count == (str(summary["checks"]), str(summary["services"])), count


def test_the_demo_is_eleven_services(outage: dict[str, object]) -> None:
    services = outage["services"]
    assert isinstance(services, list)
    fleet = [s for s in services if not s["name"].startswith("auth:")]  # the token request's row
    assert len(fleet) == 11 and len(services) == 12
    assert "eleven services on loopback" in README and "starts eleven microservices" in README


def test_every_screen_in_the_readme_is_a_golden_screen() -> None:
    screens = _SCREEN.findall(README)
    assert {name for name, _ in screens} >= {"all-80x24", "watch-live-80x24"}
    for name, text in screens:
        width = int(name.rsplit("-", 1)[1].split("x")[0])
        lines = text.splitlines()
        assert all(len(line) <= width for line in lines), name
        golden = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").splitlines()
        shown = [re.sub(r":8084\b", ":41234", line) for line in lines]  # the README's port stands for any
        assert normalised(shown) == golden, name
