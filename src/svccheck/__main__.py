"""`python -m svccheck` and the `svccheck` console script."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # `typing` costs 10 ms, as much as the rest of `--version`
if TYPE_CHECKING:
    from typing import NoReturn


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        # The most common scripted call answers without loading the CLI framework.
        from svccheck._version import __version__

        print(f"svccheck {__version__}")
        return
    import gc

    # Start-up makes objects that live until exit (modules, classes, functions) and almost no
    # garbage: before its first request a checking run's collector ran 43 times over them, 7 ms
    # (fleet b of bench/; its first request now leaves 6-9 ms sooner).
    gc.disable()
    from svccheck import dataclass_methods, regex_programs

    regex_programs.install()  # before `dataclasses` compiles its first pattern: ~6 ms less per process
    dataclass_methods.install()  # before the first class is defined: 35 ms less CPU at every start
    from svccheck import parallel_start

    if parallel_start.worth_it(sys.argv):
        # a checking command: argv and the manifest are read in a child, on the other CPU, which
        # ends once it has handed them over (its collector stays off); only the child comes back here
        parallel_start.run(exit_now)
    else:
        gc.enable()  # one process: the command may run for hours (watch, serve)
    from svccheck.cli import run_app

    try:
        run_app()
    except SystemExit as stop:
        exit_now(stop.code)
    exit_now(0)


def exit_now(code: object) -> NoReturn:
    """End the process once the command's output is flushed, skipping interpreter teardown.

    Every report file is already closed (written atomically) and every thread the
    command started has been joined or was a daemon, so all that teardown would do is
    free the ~400 modules and their objects one by one: 80-90 ms on every run, a
    quarter of a small fleet's wall time. `os._exit` skips it, and also skips atexit
    handlers, which svccheck does not use.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): Python prints it and exits 1
        sys.stderr.write(f"{code}\n")
        status = 1
    import contextlib  # already loaded by the command; not by `--version`

    from svccheck import startup_cache

    startup_cache.save_all()  # what this run compiled (dataclasses' methods, patterns), for the next start

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`) or a closed stream
            getattr(stream, "finish", stream.flush)()
    os._exit(status)


if __name__ == "__main__":
    main()
