"""The README's figures and screens are the demo's (#15): counts from the outage demo's JSON report,
screens from tests/golden/screens (which the golden-screen tests hold to a real terminal)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support.cli import run_cli
from test_golden_screens import GOLDEN, normalised

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
_SCREEN = re.compile(r"<!-- screen: (\S+) [^>]*-->\n```text\n(.*?)\n```", re.DOTALL)


@pytest.fixture(scope="module")
def outage() -> dict[str, object]:
    result = run_cli("demo", "--scenario", "outage", "--format", "json", timeout=120)
    report: dict[str, object] = json.loads(result.stdout)
    return report


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
    assert isinstance(services, list) and len(services) == 11
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
