"""What a checking command needs only once the probes have answered, imported while they are in flight.

Before the first request leaves, a run imports what probing needs (the manifest
reader, the engine, httpx). What comes after — the table (rich's console and
tables: ~60 modules, the largest import left in a run), the report formats asked
for — is imported here, by a daemon thread the engine
starts once the first probes are on their way (`execute(while_probing=...)`):
the event loop waits on the network then, and an import holds the interpreter
only between its own file reads, so the two overlap instead of adding up. A
module the run needs before the thread got to it is imported by the run as
usual (the import lock makes the two wait for each other, never import twice).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable

from svccheck.modes.settings import Display, Outputs, Run


def modules_for(outputs: Outputs, display: Display, run: Run) -> tuple[str, ...]:
    """The modules the delivery of this run's report will import, most needed first."""
    from svccheck.report import formats

    names = ["svccheck.modes.deliver"]
    if outputs.table:
        names += ["svccheck.report.table"]
        if run.story and not display.quiet:
            names += ["svccheck.report.story"]
    else:
        names.append(formats.named(outputs.format).module)
    names += [formats.named(name).module for name, _ in outputs.files]
    if outputs.files:
        names.append("svccheck.report.files")
    return tuple(dict.fromkeys(names))


def importer(names: tuple[str, ...]) -> Callable[[], None]:
    """Start importing `names` in a daemon thread; returns at once (the engine's `while_probing`)."""

    def start() -> None:
        name = "svccheck-later-imports"
        threading.Thread(target=_import_all, args=(names,), name=name, daemon=True).start()

    return start


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        # best effort: the run imports the module itself when it needs it, and says what failed then
        with contextlib.suppress(Exception):
            importlib.import_module(name)
