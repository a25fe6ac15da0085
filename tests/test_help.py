"""Help that is right (#15): each command names only the exit codes it returns, its example stands
in a paragraph of its own, placeholders say what to type, and the top-level list reads whole."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import run_cli

# what each command can return (README "Exit codes"; tests/test_exit_codes.py drives the signals)
EXIT_CODES = {
    "all": {"0", "1", "2", "130", "143"},
    "check": {"0", "1", "2", "130", "143"},
    "demo": {"0", "1", "2", "130", "143"},
    "wait": {"0", "1", "2", "130", "143"},
    "validate": {"0", "2"},
    "list": {"0", "2"},
    "watch": {"0", "0/1", "2", "143"},
    "serve": {"0", "2"},
    "schema": {"0", "2"},
    "init": {"0", "2"},
    "diff": {"0", "1", "2"},
    "merge": {"0", "1", "2"},
}


def _help(*command: str) -> str:
    result = run_cli(*command, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", sorted(EXIT_CODES))
def test_each_command_names_only_its_exit_codes_and_ends_with_an_example(command: str) -> None:
    text = _help(command)
    section = text.split("Exit codes:", 1)[1]
    codes = set(re.findall(r"^\s+(\d+(?:/\d+)?)\s", section, re.MULTILINE))
    assert codes == EXIT_CODES[command], text
    lines = text.splitlines()
    example = next(i for i, line in enumerate(lines) if line.strip().startswith("Example: svccheck "))
    assert lines[example - 1].strip() == "", text  # a paragraph of its own
    assert "<str>" not in text and "<int range>" not in text


def test_serve_does_not_promise_an_exit_1_for_strict() -> None:
    text = " ".join(_help("serve").split())
    assert "--strict" in text and "(exit 1)" not in text


def test_placeholders_say_what_to_type() -> None:
    text = _help("all")
    for placeholder in ("--timeout <duration>", "--env <name>", "--var <KEY=VALUE>", "--tag <tag>"):
        assert placeholder in text, placeholder


def test_the_top_level_list_reads_whole() -> None:
    text = _help()
    commands = text.split("Commands:", 1)[1].strip().splitlines()
    assert len(commands) >= 10
    for line in commands:
        assert not line.rstrip().endswith("..."), line
        assert line.rstrip().endswith("."), line


# --- hints that fit the user ---------------------------------------------------------------


def test_a_missing_manifest_suggests_init(tmp_path: Path) -> None:
    result = run_cli("all", cwd=tmp_path)
    assert result.returncode == 2
    assert "services.yaml: no such file" in result.stderr
    assert "`svccheck init` writes a starter one" in result.stderr
    assert "problem in the manifest" not in result.stderr


def test_an_unknown_tag_lists_the_known_ones(manifest_file: Callable[..., Path]) -> None:
    path = manifest_file("""
        services:
          a: {url: "http://127.0.0.1:9", health: /h, tags: [edge, core]}
          b: {url: "http://127.0.0.1:9", health: /h, tags: [core]}
    """)
    result = run_cli("all", "-f", str(path), "--tag", "nope")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "svccheck: error: unknown tag 'nope' (--tag); the manifest's tags: edge, core"
    )


def test_an_unknown_environment_is_a_command_line_mistake(manifest_file: Callable[..., Path]) -> None:
    path = manifest_file("""
        environments: {staging: {vars: {}}}
        services:
          a: {url: "http://127.0.0.1:9", health: /h}
    """)
    result = run_cli("list", "-f", str(path), "--env", "prod")
    assert result.returncode == 2
    assert "unknown environment 'prod' (--env); known: staging" in result.stderr
    assert "problem in the manifest" not in result.stderr
    assert "a mistake on the command line (--env)" in result.stderr


def test_validate_counts_in_the_singular_and_the_plural(manifest_file: Callable[..., Path]) -> None:
    one = manifest_file('services: {a: {url: "http://127.0.0.1:9", health: /h}}', "one.yaml")
    assert run_cli("validate", "-f", str(one)).stdout.strip() == f"{one}: ok, 1 service, 1 check"
    two = manifest_file(
        'services: {a: {url: "http://127.0.0.1:9", health: /h, checks: [{path: /x}]}, b: {url: "http://127.0.0.1:9", health: /h}}',
        "two.yaml",
    )
    assert run_cli("validate", "-f", str(two)).stdout.strip() == f"{two}: ok, 2 services, 3 checks"


@pytest.mark.parametrize("command", sorted(EXIT_CODES))
def test_a_command_built_alone_says_what_the_whole_app_says(command: str) -> None:
    """`svccheck NAME …` builds only NAME's click command (cli/app.py `_app_for`): its help and its
    usage errors must read exactly as they do from the app with every command."""
    from typer.testing import CliRunner

    from svccheck.cli import app
    from svccheck.cli.app import _app_for

    alone = _app_for(["svccheck", command])
    assert [info.name for info in alone.registered_commands] == [command]
    runner = CliRunner()
    for extra in (["--help"], ["--no-such-option"], ["-f"], ["--format", "nope"], ["--timeout", "soon"]):
        argv = [command, *extra]
        whole = runner.invoke(app, argv, prog_name="svccheck", env={"COLUMNS": "100"})
        built = runner.invoke(alone, argv, prog_name="svccheck", env={"COLUMNS": "100"})
        assert (built.output, built.exit_code) == (whole.output, whole.exit_code), argv


@pytest.mark.parametrize("argv", [[], ["--help"], ["-V", "all"], ["alll"], ["all"]])
def test_anything_but_a_command_name_first_gets_the_whole_app(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from svccheck.cli import app
    from svccheck.cli.app import _app_for

    if argv == ["all"]:
        monkeypatch.setenv("_SVCCHECK_COMPLETE", "bash_complete")  # completion lists every command
    assert _app_for(["svccheck", *argv]) is app
