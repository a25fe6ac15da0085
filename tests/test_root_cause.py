"""Root cause across depends_on on real loopback fleets: a chain, a diamond, independent failures."""

from __future__ import annotations

import asyncio

from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.manifest import parse_manifest
from svccheck.model import Report
from svccheck.probe import ProbeSettings
from svccheck.run import execute


async def up(request: Request) -> Response:
    return json_response({"status": "UP"})


async def down(request: Request) -> Response:
    return json_response({"status": "DOWN"}, status=503)


def run_fleet(servers: ServerThread, fleet: dict[str, tuple[bool, list[str]]]) -> Report:
    """`fleet`: service -> (healthy, depends_on)."""
    lines = ["defaults: {retries: 0}", "services:"]
    for name, (healthy, deps) in fleet.items():
        port = servers.add(up if healthy else down)
        lines.append(f"  {name}: {{url: 'http://127.0.0.1:{port}', health: /h, depends_on: {deps}}}")
    manifest = parse_manifest("\n".join(lines) + "\n", "services.yaml", environ={})
    return asyncio.run(execute(manifest.services, ProbeSettings()))


def causes(report: Report) -> dict[str, str | None]:
    return {r.service.name: r.root_cause for r in report.services}


def test_chain_blames_the_deepest_failure(servers: ServerThread) -> None:
    report = run_fleet(
        servers,
        {"web": (False, ["api"]), "api": (False, ["db"]), "db": (False, []), "cache": (True, [])},
    )
    assert causes(report) == {"db": None, "web": "db", "api": "db", "cache": None}
    assert report.root_causes == ("db",)
    assert report.services[0].service.name == "db"  # root causes first


def test_diamond_blames_the_shared_dependency(servers: ServerThread) -> None:
    report = run_fleet(
        servers,
        {
            "top": (False, ["left", "right"]),
            "left": (False, ["bottom"]),
            "right": (True, ["bottom"]),
            "bottom": (False, []),
        },
    )
    assert causes(report) == {"bottom": None, "top": "bottom", "left": "bottom", "right": None}
    assert report.root_causes == ("bottom",)


def test_independent_failures_have_no_root_cause(servers: ServerThread) -> None:
    report = run_fleet(
        servers,
        {"x": (False, []), "y": (False, ["w"]), "w": (True, []), "z": (True, ["x"])},
    )
    assert causes(report) == {"x": None, "y": None, "w": None, "z": None}
    assert report.root_causes == ()
    assert {r.service.name: str(r.verdict) for r in report.services}["z"] == "pass"
