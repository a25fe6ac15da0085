"""The CLI run as `svccheck` runs it, under a small script of a test's (an audit hook, a CPU limit)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from support.cli import assert_no_traceback, cli_env
from svccheck import parallel_start

FORKS = parallel_start.worth_it(["svccheck", "all"])  # asked at import, before any test has started a thread
needs_two_cpus = pytest.mark.skipif(not FORKS, reason="the parallel start needs fork and two CPUs")


def at_first_connect(text: str) -> str:
    """A script that runs the CLI and, when its process opens its first connection, writes `text`
    (a Python expression) to the file its first argument names; its second is how many CPUs it may use."""
    return f"""
import gc, os, sys
out, cpus = sys.argv.pop(1), int(sys.argv.pop(1))
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cpus])
def hook(event, args):
    if event == "socket.connect" and not os.path.exists(out):
        with open(out, "w") as file:
            file.write({text})
sys.addaudithook(hook)
sys.argv[0] = "svccheck"
from svccheck.__main__ import main
main()
"""


def run_passing(script: str, *args: str) -> None:
    """`python -c script args...` (a script that ends in svccheck's main), which must pass cleanly."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
