"""`svccheck all | check | wait`: argv and the manifest read by a forked child while the parent
loads the prober.

Before its first request leaves, a checking run does two things that need
nothing from each other: reading the command line and the manifest (typer and
click, every option, the settings; PyYAML, the grammar) and importing what
probing needs (asyncio, httpx, the engine, the model). One interpreter does them
one after the other; with two CPUs, a child forked at start does the reading
while the parent imports, and hands the parent the call of the core it arrived
at (`svccheck.modes.checking`, its settings and the loaded `Manifest` pickled,
through a pipe). The parent makes that call as the command would have, with the
same error handling, and never imports typer or PyYAML. Measured on fleet b of
bench/ (audit hooks, 12 runs, medians): the fork at 14.9 ms into the script, the
child done ~46 ms after it, the parent's imports ~51 ms after it, the first
connection at 71.9 ms: the parent is the longer half, by ~5 ms.

Whatever the child does not hand over (help, a usage error, a command this
does not cover) it prints itself, and the parent ends with its exit code. The
parent stops importing as soon as the child has ended without a call.

Only where it can help and fork is safe: POSIX, more than one CPU, at the very
start (no thread exists yet), one of the checking commands named first and no
`-h` / `--help` (help would wait for the parent's imports).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys

TYPE_CHECKING = False  # `typing` costs 10 ms; this module runs before anything else is imported
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    ExitNow = Callable[[object], NoReturn]

# the calls the checking commands end in (cli/commands.py), by the command that makes them
# (not `demo`: `demo --serve` runs the fleet in the command itself, until Ctrl-C)
HANDED_OVER = {"all": "check", "check": "check", "wait": "wait"}

# what every checking command imports before its first request, in the order it needs them;
# the parent imports them while the child reads the command line and the manifest (the HTTP
# stack too: nearly every manifest has an HTTP check, and it is the largest import left)
PROBING_MODULES = (
    "svccheck.modes.checking",
    "svccheck.modes.progress_line",
    "svccheck.model",
    "svccheck.engine.run",
    "svccheck.modes.compare",
    "svccheck.modes.later_imports",
    "svccheck.redact",
    "svccheck.protocols.http_transport",
)


def worth_it(argv: list[str]) -> bool:
    if len(argv) < 2 or argv[1] not in HANDED_OVER or not hasattr(os, "fork"):
        return False
    if any(arg in ("-h", "--help") for arg in argv[2:]) or "_SVCCHECK_COMPLETE" in os.environ:
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False  # a thread started before svccheck did (sitecustomize, an agent): forking could deadlock
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(cpus) > 1


def run(exit_now: ExitNow) -> None:
    """Fork: the parent imports, then makes the child's call or ends as the child did; it never returns.

    In the child it returns, the core's calls handed over (`_hand_over`), and the
    caller reads argv as it always does.
    """
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        _hand_over(write_end)
        return
    os.close(write_end)
    from svccheck.errors import report_error, report_interrupted

    # a SIGTERM for this process alone (a supervisor's `kill PID`) ends the child too, never orphaned
    signal.signal(signal.SIGTERM, lambda signum, _frame: _end_both(child, signum))
    status: int | None = None
    try:
        handed = _import_while_waiting(read_end)
        if handed is None:  # the child printed help or an error, and ends with its exit code
            status = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
        else:
            import pickle

            from svccheck.modes import checking
            from svccheck.neutral import guard_ci_logs

            guard_ci_logs()  # as run_app does: the report may go to a CI log
            name, args, kwargs = pickle.loads(handed)  # our own child's, through our own pipe
    except KeyboardInterrupt:  # the child ignores Ctrl-C, so that it is reported once, here
        if status is None:
            _end_child(child)
        exit_now(report_interrupted())
    if status is not None:
        exit_now(status if status >= 0 else 128 - status)
    os.waitpid(child, 0)  # it has closed the pipe: it is ending, and will have no more to say
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the engine installs its own around the probes
    import gc

    gc.freeze()  # what start-up made lives until exit: later collections need not walk it
    gc.enable()  # off since __main__ began: the run's own garbage is collected as usual
    try:
        code = getattr(checking, name)(*args, **kwargs) or 0
    except KeyboardInterrupt:  # as cli/app.py's run_app: outside the probe loop, nothing was probed
        exit_now(report_interrupted())
    except OSError as error:
        if error.errno != errno.EPIPE:
            raise
        code = 1  # stdout closed by its reader (`| head`): as typer ends such a run, quietly
    except Exception as error:  # as cli/options.py's `command`: a person's error, reported once
        code = report_error(error)
    exit_now(code)


def _end_child(child: int) -> None:
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def _end_both(child: int, signum: int) -> None:
    _end_child(child)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # ended by the signal, as without the parallel start


def _import_while_waiting(read_end: int) -> bytes | None:
    """Import PROBING_MODULES until the child has spoken; its call (pickled), or None if it had none."""
    import importlib
    import select

    received = bytearray()
    pending = list(PROBING_MODULES)
    while True:
        ready = select.select([read_end], [], [], 0 if pending else None)[0]
        if ready:
            chunk = os.read(read_end, 65536)
            if not chunk:
                os.close(read_end)
                return bytes(received) or None
            received += chunk
        elif pending:
            importlib.import_module(pending.pop(0))


def _hand_over(write_end: int) -> None:
    """In the child: the core's calls are sent to the parent (pickled), not made here."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report, once
    from svccheck.modes import checking

    def hand_over(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> int:
            import pickle

            # the manifest is read here too: with it the parent's imports took ~30 ms longer than
            # typer's reading of argv, PyYAML and the grammar being a third of them. A bad manifest
            # is then this process's error, reported by the command as it always is (exit 2).
            kwargs["manifest"] = kwargs.get("manifest") or checking.load(args[0])
            # every setting pickles (tests/test_parallel_start.py): a failure here is a bug, shown as one
            data = pickle.dumps((name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(write_end, view) :]
                os.close(write_end)  # the parent goes on now, not once this process has ended
            except OSError:  # the parent is gone (a signal): nobody is left to tell
                os._exit(1)
            return 0

        return call

    for function in set(HANDED_OVER.values()):
        setattr(checking, function, hand_over(function))
