"""The parallel start (svccheck/parallel_start.py): argv read by a forked child, the run made by the parent.

The whole suite's subprocess runs of `all`, `check`, `wait` and `demo` go this way;
these tests pin what is particular to it: the parent probes without ever importing
typer while the child does the reading, every way the child can end reaches the
person once, and the commands it must not take (help, completion) stay in one
process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, cli_env, run_cli
from support.cli_scripts import FORKS, at_first_connect, needs_two_cpus, run_passing
from support.servers import Counting
from svccheck import parallel_start
from svccheck.demo.server import ServerThread

WriteManifest = Callable[..., Path]

# the CLI as `svccheck` runs it, an audit hook writing "pid module" for every import statement
# (importlib.import_module raises no audit event, what such a module imports in turn does)
TRACED = """
import os, sys
log = open(sys.argv.pop(1), "a", buffering=1)
def hook(event, args):
    if event == "import":
        log.write(f"{os.getpid()} {args[0]}\\n")
sys.addaudithook(hook)
sys.argv[0] = "svccheck"
from svccheck.__main__ import main
main()
"""


def one_healthy_service(servers: ServerThread, manifest_file: WriteManifest, extra: str = "") -> Path:
    port = servers.add(Counting([200]))
    return manifest_file(f'services:\n  api: {{url: "http://127.0.0.1:{port}", health: /health{extra}}}\n')


@needs_two_cpus
def test_the_parent_probes_without_typer_while_the_child_reads_argv(
    servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path
) -> None:
    path = one_healthy_service(servers, manifest_file)
    log = tmp_path / "imports.log"
    report = tmp_path / "report.json"
    run_passing(TRACED, str(log), "all", "-f", str(path), "--json", str(report))
    assert json.loads(report.read_text())["verdict"] == "pass"
    imports: dict[int, set[str]] = {}
    for line in log.read_text().splitlines():
        pid, module = line.split(" ", 1)
        imports.setdefault(int(pid), set()).add(module)
    assert len(imports) == 2, sorted(imports)
    parent = next(pid for pid, modules in imports.items() if "svccheck.engine.prober" in modules)
    (child,) = set(imports) - {parent}
    assert "typer" in imports[child] and "svccheck.cli" in imports[child]
    assert (
        not {"typer", "svccheck.cli"} & imports[parent]
    )  # (httpx only tries `import click`, for its own CLI)
    assert "httpx" not in imports[child], "the child read argv and the manifest; probing is the parent's"
    assert "yaml" in imports[child] and "yaml" not in imports[parent], "the manifest is read by the child"


@needs_two_cpus
@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["all", "--no-such-option"], 2, "No such option: --no-such-option"),  # the child's usage error
        (["all", "--timeout", "soon"], 2, "--timeout"),  # the child's own error, from a command's body
        (["check", "nosuch"], 2, "unknown service 'nosuch'"),  # the parent's error, from the core
        (["wait", "--timeout", "0"], 2, "must be greater than zero"),
    ],
)
def test_an_error_on_either_side_is_said_once_with_its_exit_code(
    servers: ServerThread, manifest_file: WriteManifest, argv: list[str], code: int, says: str
) -> None:
    path = one_healthy_service(servers, manifest_file)
    result = run_cli(*argv, "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == code, result.stdout + result.stderr
    assert (result.stdout + result.stderr).count(says) == 1, result.stdout + result.stderr


@needs_two_cpus
@pytest.mark.parametrize("command", ["all", "wait"])
def test_a_broken_manifest_read_by_the_child_is_said_once_with_exit_2(
    manifest_file: WriteManifest, command: str
) -> None:
    path = manifest_file("services:\n  api: {url: 'http://127.0.0.1:9', health: /h, retries: lots}\n")
    result = run_cli(command, "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count(f"{path.name}:2:") == 1, result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["svccheck"],
        ["svccheck", "--help"],
        ["svccheck", "all", "--help"],
        ["svccheck", "check", "api", "-h"],
        ["svccheck", "validate"],
        ["svccheck", "watch"],
        ["svccheck", "-V", "all"],
    ],
)
def test_help_and_the_other_commands_stay_in_one_process(argv: list[str]) -> None:
    assert not parallel_start.worth_it(argv)


def test_completion_and_a_single_cpu_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_SVCCHECK_COMPLETE", "bash_complete")
    assert not parallel_start.worth_it(["svccheck", "all"])
    monkeypatch.delenv("_SVCCHECK_COMPLETE")
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    else:
        monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not parallel_start.worth_it(["svccheck", "all"])


# the CLI as `svccheck` runs it, on `cpus` CPUs, writing whether the garbage collector is on when
# the first connection is opened
COLLECTOR_AT_FIRST_CONNECT = at_first_connect("str(gc.isenabled())")


@pytest.mark.parametrize("cpus", [1, 2])
def test_the_collector_is_off_during_start_up_only(
    servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path, cpus: int
) -> None:
    """__main__ turns it off while the modules load; the run itself (watch, serve: hours) has it on."""
    if cpus > 1 and not FORKS:
        pytest.skip("the parallel start needs fork and two CPUs")
    path = one_healthy_service(servers, manifest_file)
    out = tmp_path / "collector"
    run_passing(COLLECTOR_AT_FIRST_CONNECT, str(out), str(cpus), "all", "-f", str(path))
    assert out.read_text() == "True"


@needs_two_cpus
def test_a_report_to_a_closed_pipe_ends_quietly_with_exit_1(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    """As typer ends such a run (`svccheck all --format json | true`): no traceback from the parent."""
    path = one_healthy_service(servers, manifest_file)
    process = subprocess.Popen(
        [sys.executable, "-m", "svccheck", "all", "-f", str(path), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env({"PYTHONUNBUFFERED": "1"}),
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the report is written
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    assert process.returncode == 1


def test_a_thread_already_running_keeps_it_in_one_process() -> None:
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    try:
        assert not parallel_start.worth_it(["svccheck", "all"])
    finally:
        release.set()
        thread.join(5)


@needs_two_cpus
def test_every_option_travels_to_the_parent(
    servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path
) -> None:
    """The child hands the settings over pickled; with every option of `all` set, they still arrive whole."""
    path = one_healthy_service(servers, manifest_file, extra=", tags: [edge]")
    files = {
        kind: tmp_path / f"report.{kind}" for kind in ("json", "junit", "markdown", "prometheus", "html")
    }
    options = [f"--{kind}={file}" for kind, file in files.items()]
    result = run_cli(
        "all", "-f", str(path), "--tag", "edge", "--only", "api", "--var", "who=\udcff", "--location", "lab",
        "--concurrency", "3", "--request-timeout", "5s", "--retries", "1", "--timeout", "30s", "--strict",
        "--format", "json", "-v", "--no-color", *options,
    )  # fmt: skip
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["location"] == "lab" and [service["name"] for service in report["services"]] == ["api"]
    assert all(file.stat().st_size > 0 for file in files.values())
