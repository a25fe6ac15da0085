"""The wheel and sdist `python -m build` makes install and run in a fresh virtualenv.

The one slow test of the suite (a build and an install, tens of seconds).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from support.cli import cli_env, run_cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=cli_env(),
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result


def test_wheel_and_sdist_build_install_and_run(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    (wheel,) = dist.glob("svccheck-*.whl")
    (sdist,) = dist.glob("svccheck-*.tar.gz")

    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("svccheck/demo/services.yaml", "svccheck/py.typed", "svccheck/manifest/json_schema.py"):
        assert data in names, data
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "svccheck = svccheck.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    for path in (
        "schema/services.schema.json",
        "README.md",
        "docs/kubernetes.md",
        "docs/prometheus/svccheck.rules.yml",
        "docs/prometheus/svccheck.rules.test.yml",
        "tests/conftest.py",
        "tests/support/__init__.py",
    ):
        assert path in members, path

    # A fresh virtualenv, pip pointed at it from outside: no ensurepip, same result.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel)
    svccheck = venv / "bin" / "svccheck"
    assert run(svccheck, "--version").stdout.startswith("svccheck ")
    # the schema is generated from the installed models, not read from a file
    assert run(svccheck, "schema").stdout == (ROOT / "schema" / "services.schema.json").read_text()
    run(svccheck, "init", cwd=tmp_path)
    assert "ok, 1 service, 1 check" in run(svccheck, "validate", cwd=tmp_path).stdout
    assert "/11 services healthy" in run(svccheck, "demo", "-q").stdout  # exit 0 checked by run()


def test_every_command_help_has_an_example_and_completion_is_offered() -> None:
    commands = ["all", "check", "list", "validate", "demo", "schema", "init", "serve"]
    for command in commands:
        result = run_cli(command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Example: svccheck " + command in " ".join(result.stdout.split()), command
    top = run_cli("--help").stdout
    assert "--install-completion" in top and "--show-completion" in top
    assert all(command in top for command in commands)
