"""1,000 checks against one loopback server leave no descriptor behind and stay under 100 MB.

The run happens in a fresh interpreter (tests/support/resource_run.py) so that its
peak RSS is its own; descriptors are counted there, in-process, from
/proc/self/fd before the server starts, after the run and after the server stops.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from support.cli import cli_env

PEAK_RSS_MIB = 100


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors through /proc")
def test_thousand_checks_leak_nothing_and_stay_under_100_mb() -> None:
    script = Path(__file__).parent / "support" / "resource_run.py"
    result = subprocess.run(
        [sys.executable, str(script), "1000"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["checks"] == 1000 and data["passed"] == 1000, data
    # the prober closed every connection it opened before execute() returned
    assert data["client_sockets_after_run"] == 0, data["fds_after_run"]
    # and once the server is gone, the process holds exactly what it held before
    assert Counter(data["fds_after_stop"]) == Counter(data["fds_before"])
    assert data["peak_rss_mib"] < PEAK_RSS_MIB, data
