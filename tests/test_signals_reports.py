"""SIGINT / SIGTERM to a running `all` or `wait`: every report file complete, the right exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from junitparser import JUnitXml, Skipped
from prometheus_client.parser import text_string_to_metric_families

from support.cli import cli_env, interrupt_when, start_cli
from support.servers import Counting, half_stuck_fleet
from svccheck.demo.server import Request, Response, ServerThread, json_response

WriteManifest = Callable[..., Path]


async def ok_handler(request: Request) -> Response:
    return json_response({"status": "UP"})


@pytest.mark.parametrize("command", ["all", "wait"])
@pytest.mark.parametrize(
    ("signum", "code", "label"),
    [(signal.SIGINT, 130, "interrupted (SIGINT)"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
)
def test_signal_leaves_every_report_complete(
    servers: ServerThread, manifest_file: WriteManifest, command: str, signum: int, code: int, label: str
) -> None:
    path, reached = half_stuck_fleet(servers, manifest_file)
    out = path.parent
    files = {
        "json": out / "r.json",
        "junit": out / "r.xml",
        "markdown": out / "r.md",
        "prometheus": out / "r.prom",
    }
    args = [arg for name, file in files.items() for arg in (f"--{name}", str(file))]
    process = start_cli(command, "-f", str(path), *args)
    stdout, stderr = interrupt_when(reached, process, signum)
    assert process.returncode == code, stdout + stderr
    assert f"{label}: partial results" in stdout

    data = json.loads(files["json"].read_text())
    assert data["interrupted"] == label and data["exit_code"] == code
    verdicts = {s["name"]: s["checks"][0]["verdict"] for s in data["services"]}
    assert verdicts == {"fast": "pass", "slow": "skip"}

    suites = {s.name: s for s in JUnitXml.fromfile(str(files["junit"]))}
    [slow_case] = list(suites["slow"])
    [skipped] = slow_case.result
    assert isinstance(skipped, Skipped) and skipped.message == "interrupted before it finished"
    [fast_case] = list(suites["fast"])
    assert fast_case.is_passed

    markdown = files["markdown"].read_text()
    assert f"**{label}: partial results**" in markdown and markdown.endswith("\n")

    families = {f.name: f for f in text_string_to_metric_families(files["prometheus"].read_text())}
    assert families["svccheck_run_exit_code"].samples[0].value == code
    assert not list(out.glob(".*.tmp"))


def test_signal_between_rounds_of_wait_ends_it_at_once(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    answered = threading.Event()

    async def down(request: Request) -> Response:
        answered.set()
        return json_response({"status": "DOWN"}, status=503)

    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          pay: {{url: "http://127.0.0.1:{servers.add(down)}", health: /health}}
    """)
    report_file = path.parent / "r.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "svccheck",
            "wait",
            "-f",
            str(path),
            "--interval",
            "10m",
            "--json",
            str(report_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert answered.wait(20), "the CLI never reached the server"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)  # not the 10 minute pause
    finally:
        process.kill()
    assert process.returncode == 143, stdout + stderr
    data = json.loads(report_file.read_text())
    assert data["interrupted"] == "terminated (SIGTERM)" and data["exit_code"] == 143
    # the signal may land while the answer is read (skip) or during the pause (fail)
    assert data["services"][0]["checks"][0]["verdict"] in ("fail", "skip")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_report_is_written_does_not_cut_it(
    servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path, signum: int
) -> None:
    port = servers.add(Counting([503]))
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          web: {{url: "http://127.0.0.1:{port}", health: /h}}
    """)
    # The step summary is a FIFO: the CLI's open() of it returns only once this test reads,
    # so when the reader is in, the CLI is writing its report, the run long over.
    summary = tmp_path / "summary"
    os.mkfifo(summary)
    opened, written = threading.Event(), []

    def read_summary() -> None:
        with summary.open() as fifo:
            opened.set()
            written.append(fifo.read())

    reader = threading.Thread(target=read_summary, daemon=True)
    reader.start()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    process = start_cli("all", "-f", str(path), env=env)
    try:
        if not opened.wait(30):
            with summary.open("w"):  # let the reader go: the CLI never got to its report
                pass
            pytest.fail("the CLI never wrote its step summary")
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    reader.join(10)
    assert process.returncode == 1, stdout + stderr  # the run's verdict, not the signal's
    assert "web" in written[0] and "fail" in written[0].lower()
    assert "0/1 services healthy" in stdout and "interrupted" not in stdout + stderr
