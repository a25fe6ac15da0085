"""The command line: argv in, settings to the core, an exit code out.

app.py       the Typer app, --version, the one place an error becomes an exit code
options.py   every shared option, declared once per group; the `command` decorator
settings.py  the frozen settings each group builds, which the core reads
commands.py  the commands: their own options, one call of the core, the exit code
checking.py  the core of all / check / demo / wait: load, select, run, report
emit.py      a report to stdout, to its files, to GitHub Actions
"""

from svccheck.cli import commands as _commands  # noqa: F401 - registers every command on `app`
from svccheck.cli.app import app, run_app

__all__ = ["app", "run_app"]
