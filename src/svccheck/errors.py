"""Exit codes and the errors that carry one: the one place that says how a run ends.

The hierarchy (caught once, at the top of the CLI, which prints the message and
exits with the error's code; no command decides an exit code of its own):

    SvccheckError            exit_code
    ├── UsageError           2  a bad option or name on the command line: nothing was probed
    │   ├── SelectionError   2  NAMEs / --only / --skip the manifest does not have
    │   └── ReportFileError  2  a saved JSON report (--baseline, diff, merge) that cannot be read
    └── ManifestError        2  every problem in the manifest, each at FILE:LINE:COL
                                (svccheck.grammar.errors)

A run that probed ends with the `Report`'s own exit code (`ExitCode.OK`,
`FAILED`, or the signal's), decided in one place: `run.build_report`.
"""

from __future__ import annotations

import sys
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # every critical check passed (warnings too, unless --strict)
    FAILED = 1  # a critical check failed, the deadline cut checks short, or wait timed out
    USAGE = 2  # usage or manifest error: nothing was probed
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2, as a shell reports it
    TERMINATED = 143  # SIGTERM: 128 + 15


class SvccheckError(Exception):
    """An error a person fixes: `report()` is shown on stderr, and the run exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.USAGE

    def report(self) -> str:
        """What stderr says: one line unless the error has more to tell (every manifest problem)."""
        return f"svccheck: error: {self}"


class UsageError(SvccheckError):
    """A bad option value or name on the command line."""


class SelectionError(UsageError):
    """Names on the command line that the manifest does not have."""


class ReportFileError(UsageError):
    """A saved JSON report (`--baseline`, `diff`, `merge`) that is missing, not JSON, or not a report."""


def report_error(error: Exception) -> int:
    """Write an error a person fixes on stderr and give its exit code; re-raise any other."""
    if not isinstance(error, SvccheckError):
        raise error
    sys.stderr.write(f"{error.report()}\n")
    sys.stderr.flush()
    return int(error.exit_code)


def report_interrupted() -> int:
    """Ctrl-C before the probe loop (loading, reading argv): nothing was probed yet; said once, on stderr."""
    sys.stderr.write("svccheck: interrupted\n")
    return int(ExitCode.INTERRUPTED)
