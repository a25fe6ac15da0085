"""What a checking command needs only once the probes have answered, imported while they are in flight.

Before the first request leaves, a run imports what probing needs (the engine,
httpx). What comes after — the table (rich's console and tables: ~60 modules,
the largest import left in a run), the report formats asked for — is imported
in the event loop's idle moments once the first probes are on their way
(`execute(while_probing=...)`, `engine.idle`): the loop waits on the network
then, so the imports fill that wait instead of adding to the run. A module the
run needs before the loop got to it is imported by the run as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from svccheck.engine.idle import import_when_idle
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


def importer(outputs: Outputs, display: Display, run: Run) -> Callable[[], None]:
    """The engine's `while_probing` (called when its loop is idle): `modules_for` these settings,
    imported one per idle moment. Even the list is made then: it imports the registry of formats."""

    def start() -> None:
        import_when_idle(modules_for(outputs, display, run))

    return start
