"""What a run needs only after probing is imported while the probes are in flight (`modes.later_imports`)."""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

from support.cli_scripts import at_first_connect, needs_two_cpus, run_passing
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest
from svccheck.modes.later_imports import modules_for
from svccheck.modes.settings import Display, Outputs, Run


def test_while_probing_runs_while_the_requests_are_in_flight(servers: ServerThread) -> None:
    # the server answers only once `while_probing` was called: the check passes only if the engine
    # called it during probing, not before the first request nor after the answers
    called = threading.Event()
    calls: list[int] = []

    async def answer_after_the_call(request: Request) -> Response:
        assert await asyncio.to_thread(called.wait, 10)
        return json_response({"status": "UP"})

    port = servers.add(answer_after_the_call)
    manifest = parse_manifest(
        textwrap.dedent(f"""
            services:
              api: {{url: "http://127.0.0.1:{port}", health: /health, checks: [{{path: /a}}, {{path: /b}}]}}
        """),
        "services.yaml",
        environ={},
    )

    def while_probing() -> None:
        calls.append(1)
        called.set()

    report = asyncio.run(execute(manifest.services, ProbeSettings(), while_probing=while_probing))
    assert report.verdict.value == "pass", report
    assert calls == [1]


def test_the_modules_follow_the_outputs() -> None:
    table = modules_for(Outputs(), Display(), Run())
    assert "svccheck.report.table" in table and "svccheck.report.json" not in table
    as_json = modules_for(Outputs(format="json", files=(("junit", Path("r.xml")),)), Display(), Run())
    assert "svccheck.report.json" in as_json and "svccheck.report.junit" in as_json
    assert "svccheck.report.table" not in as_json  # a JSON run never imports rich's tables


# the modules loaded when the CLI's process opens its first connection (the parallel start's
# parent: its child opens none)
MODULES_AT_FIRST_CONNECT = at_first_connect('"\\n".join(sorted(sys.modules))')


@needs_two_cpus
def test_the_first_request_waits_for_nothing_judging_or_the_manifest_grammar_needs(
    servers: ServerThread, manifest_file: Callable[..., Path], tmp_path: Path
) -> None:
    """The parallel start's child read the manifest (HTTP's shape, the grammar); the parent judges
    the answers (the health readers) and reports them (the formats) once the requests are out.
    (In one process, reading the manifest and the options loads all of these anyway.)"""

    async def spring_style(request: Request) -> Response:
        return json_response({"status": "UP", "components": {"db": {"status": "UP"}}})

    port = servers.add(spring_style)
    path = manifest_file(f'services:\n  api: {{url: "http://127.0.0.1:{port}", health: /health}}\n')
    out, report = tmp_path / "modules", tmp_path / "report.json"
    run_passing(MODULES_AT_FIRST_CONNECT, str(out), "2", "all", "-f", str(path), "--json", str(report))
    (check,) = json.loads(report.read_text())["services"][0]["checks"]
    assert [c["name"] for c in check["components"]] == ["db"]  # the health readers did load, later
    loaded = set(out.read_text().split())
    assert {"svccheck.protocols.http", "svccheck.engine.prober"} <= loaded  # not vacuous
    late = {"svccheck.judge.health", "svccheck.report.formats"}
    late |= {"svccheck.protocols.http_shape", "svccheck.grammar.schema"}
    assert not late & loaded
