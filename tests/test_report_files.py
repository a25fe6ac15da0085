"""Report files get the mode a plain `open()` would give them: readable by the collector that reads them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import cli_env
from support.servers import Counting
from svccheck.demo.server import ServerThread


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_report_files_follow_the_umask(
    umask: int, mode: int, servers: ServerThread, manifest_file: object, tmp_path: Path
) -> None:
    port = servers.add(Counting([200]))
    path = manifest_file(f"services:\n  web: {{url: 'http://127.0.0.1:{port}', health: /health}}\n")  # type: ignore[operator]
    reports = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "junit", "markdown", "prometheus")}
    options = [arg for fmt, file in reports.items() for arg in (f"--{fmt}", str(file))]
    # node_exporter's textfile collector and artifact uploaders often run as another user
    result = subprocess.run(
        [sys.executable, "-m", "svccheck", "all", "-f", str(path), *options],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.umask(umask),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    modes = {fmt: stat.S_IMODE(file.stat().st_mode) for fmt, file in reports.items()}
    assert modes == dict.fromkeys(reports, mode)
