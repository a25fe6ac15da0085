"""The core the checking commands call: load, select, run (once or until ready), deliver the report.

`all`, `check`, `demo` and `wait` differ only in the settings they pass; each
returns the exit code the Report decided. Heavy modules (httpx through
svccheck.engine.run, the manifest loader, rich) are imported here, on first use,
never by `--help`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import TYPE_CHECKING

from svccheck.modes.settings import Baseline, Display, Outputs, Probing, Run, Selection

NO_BASELINE = Baseline()

if TYPE_CHECKING:
    from rich.console import Console

    from svccheck.model import Manifest, Service


def load(selection: Selection) -> Manifest:
    """The manifest; a ManifestError goes up to the one handler (`svccheck.cli.app`)."""
    from svccheck.manifest import load_manifest

    return load_manifest(str(selection.manifest), env=selection.env, cli_vars=dict(selection.variables))


def select(manifest: Manifest, selection: Selection) -> tuple[Service, ...]:
    """The services a command runs; a name the manifest does not have is a usage error."""
    from svccheck.engine import run

    try:
        return run.select(manifest, selection.services())
    except run.SelectionError as exc:  # run's own class until it is errors.SelectionError
        from svccheck.errors import SelectionError

        raise SelectionError(str(exc)) from None


def check(
    selection: Selection,
    probing: Probing,
    outputs: Outputs,
    display: Display,
    run: Run,
    *,
    manifest: Manifest | None = None,
    baseline: Baseline = NO_BASELINE,
) -> int:
    """`all` and `check`: every selected check once, then the report; `manifest` if already loaded."""
    started = time.monotonic()
    from svccheck.engine.board import Board
    from svccheck.modes.progress_line import progress_line

    board = Board()
    deadline = run.deadline_from(started)
    # the line shows from the start, before the manifest is read and httpx imported (#15);
    # under the parallel start the child has read the manifest already (parallel_start.py)
    with progress_line(board, deadline, _progress_console(display)) as line:
        manifest = manifest or load(selection)
        services = select(manifest, selection)
        from svccheck.engine.run import execute, run_with_signals
        from svccheck.modes import later_imports
        from svccheck.modes.compare import compared, read_baseline

        saved = read_baseline(baseline)  # before anything is probed: a bad file ends the command at once
        from svccheck.redact import Redactor

        redactor = line.redactor = Redactor.for_manifest(manifest)
        report = run_with_signals(
            lambda stop: execute(
                services,
                probing.probe_settings(),
                deadline=deadline,
                stop=stop,
                manifest_path=manifest.path,
                strict=run.strict,
                keep_answers=display.verbose,
                board=board,
                while_probing=later_imports.importer(outputs, display, run),
            )
        )
    report = compared(report, saved, baseline)
    from svccheck.modes.deliver import deliver

    return deliver(
        report,
        manifest,
        redactor,
        outputs,
        display,
        run,
        insecure=probing.insecure,
        request_timeout=probing.request_timeout,
    )


def _progress_console(display: Display) -> Console | None:
    """stderr's console when it is a terminal (the progress line's place), else None (#15)."""
    if display.quiet or not sys.stderr.isatty():
        return None
    from svccheck.report.console import make_console  # not report.table: it imports the model

    return make_console(color=not display.no_color, stderr=True)


def check_demo(outputs: Outputs, display: Display, run: Run, *, scenario: str) -> int:
    """`demo`: the bundled manifest, pointed at the demo fleet for as long as the check takes."""
    from svccheck.demo.run import bundled_manifest_path, with_fleet

    selection = Selection(manifest=bundled_manifest_path())
    loaded = load(selection)
    return with_fleet(
        scenario, loaded, lambda rebased: check(selection, Probing(), outputs, display, run, manifest=rebased)
    )


def wait(
    selection: Selection,
    probing: Probing,
    outputs: Outputs,
    display: Display,
    run: Run,
    *,
    interval: float,
    manifest: Manifest | None = None,
    baseline: Baseline = NO_BASELINE,
) -> int:
    """`wait`: rounds of the checks not yet passed until all pass or `run.deadline` runs out;
    `manifest` if already loaded."""
    started = time.monotonic()
    manifest = manifest or load(selection)
    services = select(manifest, selection)
    from svccheck.engine.run import run_with_signals
    from svccheck.modes.compare import compared, read_baseline
    from svccheck.modes.deliver import deliver
    from svccheck.modes.wait import Readiness, wait_until_ready
    from svccheck.modes.wait_progress import LiveProgress, PlainProgress
    from svccheck.redact import Redactor
    from svccheck.report.table import make_console

    saved = read_baseline(baseline)
    # one Redactor for the whole command: what an earlier round learned stays secret
    redactor = Redactor.for_manifest(manifest)
    console = make_console(color=not display.no_color, stderr=True)
    progress: LiveProgress | PlainProgress
    if console.is_terminal and not display.quiet:
        progress = LiveProgress(console, redactor, Readiness(services), run.deadline)
    else:
        progress = PlainProgress(sys.stderr, redactor)
    with progress if isinstance(progress, LiveProgress) else contextlib.nullcontext():
        outcome = run_with_signals(
            lambda stop: wait_until_ready(
                services,
                probing.probe_settings(),
                deadline=run.deadline_from(started),
                interval=interval,
                stop=stop,
                manifest_path=manifest.path,
                strict=run.strict,
                on_changes=None if display.quiet else progress,
                started=started,
            )
        )
    if not display.quiet:
        progress.finish(outcome)
    report = compared(outcome.report, saved, baseline)
    return deliver(
        report,
        manifest,
        redactor,
        outputs,
        display,
        run,
        insecure=probing.insecure,
        request_timeout=probing.request_timeout,
    )


__all__ = ["check", "check_demo", "load", "select", "wait"]
