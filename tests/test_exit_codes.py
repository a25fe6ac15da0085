"""The one signal wiring (`run.signals_stop`, `run.ON_SIGNAL`) and the one exit-code type
(`errors.ExitCode`), as every command and report sees them."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, run_cli
from support.servers import Counting
from svccheck.demo.server import ServerThread
from svccheck.engine.run import ON_SIGNAL, Command, Stop, run_with_signals
from svccheck.errors import ExitCode

WriteManifest = Callable[..., Path]

EXPECTED: dict[Command, tuple[int, int]] = {  # (SIGINT, SIGTERM), as README "Exit codes" says
    "all": (130, 143),
    "check": (130, 143),
    "wait": (130, 143),
    "watch": (0, 143),
    "serve": (0, 0),
}


def test_every_command_has_its_exit_codes_on_a_signal() -> None:
    assert {command: (o.sigint, o.sigterm) for command, o in ON_SIGNAL.items()} == EXPECTED


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("command", list(EXPECTED))
def test_a_real_signal_sets_the_stop_with_the_commands_code(command: Command, signum: int) -> None:
    async def signalled(stop: Stop) -> Stop:
        os.kill(os.getpid(), signum)
        await stop.event.wait()
        return stop

    stop = run_with_signals(signalled, command)
    wanted = EXPECTED[command][0 if signum == signal.SIGINT else 1]
    assert stop.exit_code == wanted and isinstance(stop.exit_code, ExitCode)
    assert stop.reason == ("interrupted (SIGINT)" if signum == signal.SIGINT else "terminated (SIGTERM)")
    # the wiring is undone: outside a run a signal is Python's again
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_the_json_report_writes_the_exit_code_as_a_plain_integer(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          api: {{url: "http://127.0.0.1:{servers.add(Counting([503]))}", health: /health}}
    """)
    report = path.parent / "r.json"
    result = run_cli(
        "all", "-f", str(path), "--json", str(report), "--prometheus", str(path.parent / "r.prom")
    )
    assert_no_traceback(result)
    assert result.returncode == 1
    text = report.read_text()
    assert re.search(r'"exit_code": 1[,\n]', text), text  # a number, never "ExitCode.FAILED"
    assert type(json.loads(text)["exit_code"]) is int
    assert "\nsvccheck_run_exit_code 1\n" in (path.parent / "r.prom").read_text()
