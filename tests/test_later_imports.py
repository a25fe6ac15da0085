"""What a run needs only after probing is imported while the probes are in flight (`modes.later_imports`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

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


def test_the_thread_imports_them() -> None:
    code = textwrap.dedent("""
        import sys, threading
        from svccheck.modes.later_imports import importer
        assert "svccheck.report.markdown" not in sys.modules
        importer(("svccheck.report.markdown", "no.such.module"))()
        for thread in threading.enumerate():
            if thread.name == "svccheck-later-imports":
                thread.join(30)
        print("svccheck.report.markdown" in sys.modules)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
