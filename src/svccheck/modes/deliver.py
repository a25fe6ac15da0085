"""A finished run's report, where the command line asked: stdout, report files, GitHub Actions."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from svccheck.modes.settings import Display, Outputs, Run

if TYPE_CHECKING:
    from svccheck.model import Manifest, Report
    from svccheck.redact import Redactor


def deliver(
    report: Report,
    manifest: Manifest,
    redactor: Redactor,
    outputs: Outputs,
    display: Display,
    run: Run,
    *,
    insecure: bool,
    request_timeout: float | None = None,
) -> int:
    """Write the report where asked, with Ctrl-C and SIGTERM held off until it is whole; its exit
    code. `insecure`: --insecure was given (the story's curl line then says -k);
    `request_timeout`: --request-timeout's, which the story's reproduce line then uses."""
    if outputs.location is not None:
        from dataclasses import replace

        report = replace(report, location=outputs.location)
    with _late_signals_ignored():
        redactor.learn_report(report)  # cookies and tokens the services handed out are secrets too
        write_report_files(report, redactor, outputs)
        github(report, redactor, outputs)
        export_spans(report, redactor, outputs.otlp)
        if outputs.table:
            _print_table(report, manifest, redactor, display, run, insecure, request_timeout)
        else:
            from svccheck.report import formats

            sys.stdout.write(formats.named(outputs.format).render(report, redactor))
    return report.exit_code


@contextlib.contextmanager
def _late_signals_ignored() -> Iterator[None]:
    """While the report is written, Ctrl-C and SIGTERM wait: the run is over and what it found is shown.

    A signal during the run stops it and still gets its report; a second one
    while that report is printed would otherwise cut it short. Writing it is
    quick, so nothing waits long.
    """
    import signal

    held = [signal.SIGINT, signal.SIGTERM]
    previous = [signal.signal(signum, signal.SIG_IGN) for signum in held]
    try:
        yield
    finally:
        for signum, handler in zip(held, previous, strict=True):
            signal.signal(signum, handler)


def _print_table(
    report: Report,
    manifest: Manifest,
    redactor: Redactor,
    display: Display,
    run: Run,
    insecure: bool,
    request_timeout: float | None,
) -> None:
    from svccheck.report import table

    console = table.make_console(color=not display.no_color)
    if run.story and not display.quiet:
        from svccheck.report import story

        # soft wrap: the curl line stays one line, whatever the width, so it can be copied as it is
        told = story.render(report, manifest, redactor, insecure=insecure, request_timeout=request_timeout)
        console.print(told, soft_wrap=True)
        console.print(table.render(report, redactor, reproduce=""))  # the story is the closer look
    elif display.quiet:
        console.print(table.render_quiet(report, redactor))
    else:
        # crop off: in a pipe, the lines under the table are whole however long (report.layout.Lines)
        console.print(
            table.render(report, redactor, verbose=display.verbose, reproduce=run.reproduce), crop=False
        )


def write_report_files(report: Report, redactor: Redactor, outputs: Outputs) -> None:
    """Each --NAME FILE, whole or not at all; one that cannot be written is said, the others still are."""
    if not outputs.files:
        return
    from svccheck.report import formats
    from svccheck.report.files import write_atomically

    for name, path in outputs.files:
        try:
            write_atomically(path, formats.named(name).render(report, redactor))
        except OSError as exc:
            print(f"svccheck: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)


def export_spans(report: Report, redactor: Redactor, otlp: str | None) -> None:
    """--otlp URL: a span per check to a collector; one that cannot be reached is said, not fatal."""
    if otlp is None:
        return
    try:
        from svccheck.report import otlp as spans  # opentelemetry, only when asked
    except ImportError:
        print("svccheck: --otlp needs the otlp extra: pip install 'svccheck[otlp]'", file=sys.stderr)
        return
    problem = spans.export(report, redactor, otlp)
    if problem is not None:
        print(
            f"svccheck: cannot send spans to {redactor.url(otlp)}: {redactor.text(problem)}", file=sys.stderr
        )


def github(report: Report, redactor: Redactor, outputs: Outputs) -> None:
    from svccheck.report import github

    if not github.enabled(outputs.github):
        return
    from svccheck.neutral import raw_stream

    # Workflow commands go where the runner reads them; stderr when stdout carries a machine report.
    # They are svccheck's own `::` lines, so they are written past the guard on the CI log.
    stream = raw_stream(sys.stdout if outputs.table else sys.stderr)
    for line in github.workflow_commands(report, redactor):
        stream.write(line + "\n")
    stream.flush()
    from svccheck.report import markdown

    try:
        github.append_step_summary(markdown.render(report, redactor))
    except OSError as exc:
        print(f"svccheck: cannot append to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}", file=sys.stderr)


__all__ = ["deliver", "export_spans", "github", "write_report_files"]
