"""Root cause across depends_on on real loopback fleets: a chain, a diamond, independent failures;
a failure to connect is the service's own, never its dependency's (#12)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest
from svccheck.model import Report


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


# --- a failure to connect is the service's own (#12), through the real CLI -------------------


def closed_port() -> int:
    """A loopback port nothing listens on: bound to learn it, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def connect_stalls() -> Iterator[int]:
    """A loopback port whose accept queue is full: a connection attempt there times out connecting."""
    with socket.socket() as server, socket.socket() as filler:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = int(server.getsockname()[1])
        filler.connect(("127.0.0.1", port))  # takes the only place in the queue; never accepted
        yield port


@contextlib.contextmanager
def silent() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel does) and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield int(server.getsockname()[1])


def test_a_timeout_while_connecting_is_the_services_own_one_after_connecting_is_not(
    servers: ServerThread,
) -> None:
    with connect_stalls() as stalled, silent() as mute:
        manifest = parse_manifest(
            f"""
defaults: {{retries: 0, timeout: 300ms}}
services:
  db: {{url: "http://127.0.0.1:{servers.add(down)}", health: /h}}
  stalled-http: {{url: "http://127.0.0.1:{stalled}", health: /h, depends_on: [db]}}
  stalled-tcp: {{url: "tcp://127.0.0.1:{stalled}", depends_on: [db]}}
  mute-http: {{url: "http://127.0.0.1:{mute}", health: /h, depends_on: [db]}}
  mute-tcp: {{url: "tcp://127.0.0.1:{mute}", protocol: redis, depends_on: [db]}}
""",
            "services.yaml",
            environ={},
        )
        report = asyncio.run(execute(manifest.services, ProbeSettings()))
    checks = {r.service.name: r.checks[0] for r in report.services}
    assert {name: (c.failure_class, c.connect_failed) for name, c in checks.items()} == {
        "db": ("health", False),
        "stalled-http": ("timeout", True),
        "stalled-tcp": ("timeout", True),
        "mute-http": ("timeout", False),
        "mute-tcp": ("timeout", False),
    }
    # a service that took the connection and then hung may be waiting on its dependency
    assert causes(report) == {
        "db": None,
        "stalled-http": None,
        "stalled-tcp": None,
        "mute-http": "db",
        "mute-tcp": "db",
    }


def run_all(path: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """The table run with every report file and the GitHub annotations; the JSON report."""
    table = run_cli(
        "all",
        "-f",
        str(path),
        "--json",
        str(tmp_path / "r.json"),
        "--junit",
        str(tmp_path / "r.xml"),
        "--markdown",
        str(tmp_path / "r.md"),
        "--github",
    )
    assert_no_traceback(table)
    data = json.loads((tmp_path / "r.json").read_text())
    assert isinstance(data, dict)
    return table, data


def junit_root_causes(tmp_path: Path) -> dict[str, str]:
    root = ET.parse(tmp_path / "r.xml").getroot()
    return {
        suite.get("name", ""): next(
            p.get("value", "") for p in suite.iter("property") if p.get("name") == "root_cause"
        )
        for suite in root.iter("testsuite")
    }


def test_when_nothing_answers_no_service_is_blamed_for_the_rest(
    manifest_file: Callable[..., Path], tmp_path: Path
) -> None:
    with connect_stalls() as stalled:
        ports = {"gateway": closed_port(), "users": closed_port(), "tenants": stalled}
        path = manifest_file(f"""
            defaults: {{retries: 0, timeout: 300ms}}
            services:
              gateway: {{url: "http://127.0.0.1:{ports["gateway"]}", health: /h, depends_on: [users, tenants]}}
              users: {{url: "http://127.0.0.1:{ports["users"]}", health: /h, depends_on: [tenants]}}
              tenants: {{url: "http://127.0.0.1:{ports["tenants"]}", health: /h}}
        """)
        table, data = run_all(path, tmp_path)
        watched = run_cli("watch", "--rounds", "1", "-f", str(path))
    assert table.returncode == 1
    assert "no service answered" in watched.stdout and "root cause" not in watched.stdout
    reasons = {s["name"]: s["checks"][0]["reason"] for s in data["services"]}
    assert reasons == {
        "gateway": "connection refused",
        "users": "connection refused",
        "tenants": "timed out after 300ms connecting",
    }
    assert "caused by" not in table.stdout and "root cause" not in table.stdout
    assert "no service answered: is the host up, is it the right host (127.0.0.1)?" in table.stdout
    assert data["root_causes"] == [] and all(s["root_cause"] is None for s in data["services"])
    assert junit_root_causes(tmp_path) == {"gateway": "", "users": "", "tenants": ""}
    markdown = (tmp_path / "r.md").read_text()
    assert "caused by" not in markdown and "root cause" not in markdown.lower()
    assert "no service answered" in markdown
    annotations = [line for line in table.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == 3 and not any("root cause" in line for line in annotations)


def test_a_dependent_that_fails_to_connect_is_not_blamed_on_its_broken_dependency(
    servers: ServerThread, manifest_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          web: {{url: "http://127.0.0.1:{closed_port()}", health: /h, depends_on: [db]}}
          db: {{url: "http://127.0.0.1:{servers.add(down)}", health: /h}}
    """)
    table, data = run_all(path, tmp_path)
    assert table.returncode == 1
    assert {s["name"]: s["root_cause"] for s in data["services"]} == {"web": None, "db": None}
    assert data["root_causes"] == []
    assert "caused by" not in table.stdout and "no service answered" not in table.stdout
    assert "look first: web — health: connection refused" in table.stdout
    assert junit_root_causes(tmp_path) == {"web": "", "db": ""}
    assert "caused by" not in (tmp_path / "r.md").read_text()


def test_a_dependent_that_answers_503_keeps_its_root_cause_even_an_unreachable_one(
    servers: ServerThread, manifest_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          billing: {{url: "http://127.0.0.1:{servers.add(down)}", health: /h, depends_on: [payments]}}
          payments: {{url: "http://127.0.0.1:{closed_port()}", health: /h}}
    """)
    table, data = run_all(path, tmp_path)
    assert table.returncode == 1
    assert {s["name"]: s["root_cause"] for s in data["services"]} == {"payments": None, "billing": "payments"}
    assert data["root_causes"] == ["payments"]
    assert "↳ caused by payments" in table.stdout and "no service answered" not in table.stdout
    assert "root cause: payments — health: connection refused; billing fails because of it" in table.stdout
    assert junit_root_causes(tmp_path) == {"payments": "", "billing": "payments"}
    markdown = (tmp_path / "r.md").read_text()
    assert "Root cause: **payments**" in markdown and "(caused by **payments**)" in markdown
    assert any(
        line.startswith("::error title=billing") and "(likely root cause: payments)" in line
        for line in table.stdout.splitlines()
    )
