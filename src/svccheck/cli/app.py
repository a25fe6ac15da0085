"""The Typer application, its root options, and the one place a command's error becomes an exit code.

No `from __future__ import annotations` in the cli modules Typer reads
(this one, options.py, commands.py): Typer reads every command's annotations
on each start, and as strings they are compiled and evaluated twice over
(~20 ms a run).
"""

import copy
import os
import sys
from typing import Annotated

import typer

from svccheck._version import __version__


def _exit_codes(*codes: tuple[str, str]) -> str:
    """An "Exit codes:" paragraph of --help, kept as written (click's \\b)."""
    lines = "".join(f"  {code:<5}{meaning}\n" for code, meaning in codes)
    return f"\b\nExit codes:\n{lines}"


_PASSED = ("0", "every critical check passed (warnings allowed unless --strict)")
_NOTHING_PROBED = ("2", "usage or manifest error: nothing was probed")
_INTERRUPTED = ("130", "interrupted (Ctrl-C): partial results printed")
_TERMINATED = ("143", "terminated (SIGTERM): partial results printed")
_UNREADABLE_REPORT = ("2", "usage error, or a report that cannot be read")

# Each command's --help names only the codes it can return (#15).
EXIT_CODES_HELP = _exit_codes(  # all, check, demo
    _PASSED,
    ("1", "at least one critical check failed (or --timeout cut checks short)"),
    _NOTHING_PROBED,
    _INTERRUPTED,
    _TERMINATED,
)
WAIT_EXIT_CODES_HELP = _exit_codes(
    _PASSED,
    ("1", "--timeout ran out first: some critical check never passed"),
    _NOTHING_PROBED,
    _INTERRUPTED,
    _TERMINATED,
)
MANIFEST_EXIT_CODES_HELP = _exit_codes(
    ("0", "the manifest is valid"),
    ("2", "usage or manifest error (every problem named, FILE:LINE:COL)"),
)
WATCH_EXIT_CODES_HELP = _exit_codes(
    ("0", "left with Ctrl-C (its normal way out)"),
    ("0/1", "with --rounds N: the exit code of the last round, as for `all`"),
    _NOTHING_PROBED,
    ("143", "terminated (SIGTERM)"),
)
SERVE_EXIT_CODES_HELP = _exit_codes(
    ("0", "stopped with Ctrl-C or SIGTERM (its normal way out)"),
    ("2", "usage or manifest error, or the port cannot be bound: nothing was served"),
)
WRITE_EXIT_CODES_HELP = _exit_codes(
    ("0", "written"),
    ("2", "usage error, or the file cannot be written (or exists, without --force)"),
)
COMPARE_EXIT_CODES_HELP = _exit_codes(
    ("0", "NEW has no critical failure that OLD did not have"),
    ("1", "NEW has a critical failure OLD did not have"),
    _UNREADABLE_REPORT,
)
MERGE_EXIT_CODES_HELP = _exit_codes(
    ("0", "every critical check passed in at least --quorum locations"),
    ("1", "a critical check did not"),
    _UNREADABLE_REPORT,
)

app = typer.Typer(
    name="svccheck",
    help=(
        "Health checks and smoke tests for a fleet of HTTP services.\n\n"
        "Each command's --help lists the exit codes it returns; the checking commands (all,"
        " check, demo, wait) exit 0 when every critical check passed, 1 when one failed, 2 on a"
        " usage or manifest error, 130 on Ctrl-C and 143 on SIGTERM."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"svccheck {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    pass


def exit_code_of(error: Exception) -> int:
    """Report an error a person fixes (the message, on stderr) and give its exit code; re-raise any other.

    Every command goes through here (cli/options.py's `command`), so no command
    prints an error or picks an exit code of its own; svccheck/parallel_start.py,
    which runs a command's core without typer, calls the same `report_error`.
    """
    from svccheck.errors import report_error  # the enum costs `--help` 0.3 ms otherwise

    return report_error(error)


def _app_for(argv: list[str]) -> typer.Typer:
    """The app with only the command argv names, when it names one: the same command, built alone.

    Typer makes a click command of every registered command on each start, reading
    its signature and annotations (12 commands, ~10 ms); a run needs one. Anything
    else (no command, a root option first, an unknown name, shell completion) gets
    the whole app, whose messages list or suggest the others.
    """
    named = argv[1] if len(argv) > 1 else None
    if named is None or "_SVCCHECK_COMPLETE" in os.environ:
        return app
    only = [info for info in app.registered_commands if info.name == named]
    if len(only) != 1:
        return app
    alone = copy.copy(app)  # with the root callback kept, `NAME` is still a command, not the root
    alone.registered_commands = only
    return alone


def run_app() -> None:
    from svccheck.neutral import guard_ci_logs

    guard_ci_logs()
    try:
        _app_for(sys.argv)()
    except KeyboardInterrupt:  # outside the probe loop (e.g. while loading)
        from svccheck.errors import report_interrupted

        sys.exit(report_interrupted())


__all__ = [
    "COMPARE_EXIT_CODES_HELP",
    "EXIT_CODES_HELP",
    "MANIFEST_EXIT_CODES_HELP",
    "MERGE_EXIT_CODES_HELP",
    "SERVE_EXIT_CODES_HELP",
    "WAIT_EXIT_CODES_HELP",
    "WATCH_EXIT_CODES_HELP",
    "WRITE_EXIT_CODES_HELP",
    "app",
    "exit_code_of",
    "run_app",
]
