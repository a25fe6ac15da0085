"""The command line: argv in, settings to the core, an exit code out.

app.py       the Typer app, --version, the one place an error becomes an exit code
options.py   every shared option, declared once per group; the `command` decorator
commands.py  the commands: their own options, one call of the core, the exit code

The settings each option group builds are `svccheck.modes.settings`; the core the
commands call is `svccheck.modes` (`checking` for all / check / demo / wait).
"""

from svccheck.cli import commands as _commands  # noqa: F401 - registers every command on `app`
from svccheck.cli.app import app, run_app

__all__ = ["app", "run_app"]
