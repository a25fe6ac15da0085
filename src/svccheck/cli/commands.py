"""The commands: their own options, one call of the core, the exit code it returns.

The shared options come in groups (cli/options.py), each declared once; an
error a command raises is reported once, in `options.command`. Heavy modules
are imported inside the commands that need them so `--help` stays fast.

No `from __future__ import annotations` here: Typer reads every command's
annotations on each start (see app.py).
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from svccheck.cli.app import (
    COMPARE_EXIT_CODES_HELP,
    MANIFEST_EXIT_CODES_HELP,
    MERGE_EXIT_CODES_HELP,
    SERVE_EXIT_CODES_HELP,
    WAIT_EXIT_CODES_HELP,
    WATCH_EXIT_CODES_HELP,
    WRITE_EXIT_CODES_HELP,
)
from svccheck.cli.options import (
    BASELINE,
    COLOR,
    DEFAULT_MANIFEST,
    DISPLAY,
    MANIFEST,
    OUTPUTS,
    PROBING,
    SELECTION,
    DeadlineOpt,
    InsecureOpt,
    LocationOpt,
    MaxConcurrentProbesOpt,
    OtlpOpt,
    ProbeOnlyOpt,
    RoundTimeoutOpt,
    ServeRoundTimeoutOpt,
    ServeStrictOpt,
    ShardOpt,
    StrictOpt,
    WaitDeadlineOpt,
    command,
    duration,
    location_name,
    shard_of,
)

if TYPE_CHECKING:  # the settings are imported when a command runs, not by `--help` (options.py)
    from svccheck.modes.settings import Baseline, Display, Outputs, Probing, Selection


class Scenario(StrEnum):
    healthy = "healthy"
    outage = "outage"
    auth_down = "auth-down"  # auth-service cannot sign tokens: the login is the root cause


@command(
    "all",
    short_help="Check every service, concurrently.",
    selection=SELECTION,
    outputs=OUTPUTS,
    probing=PROBING,
    display=DISPLAY,
    baseline=BASELINE,
)
def all_command(
    *,
    selection: "Selection",
    outputs: "Outputs",
    probing: "Probing",
    timeout: DeadlineOpt = None,
    strict: StrictOpt = False,
    baseline: "Baseline",
    display: "Display",
) -> int:
    """Check every service: health and sample checks, concurrently.

    Example: svccheck all -f services.yaml
    """
    from svccheck.modes import checking
    from svccheck.modes.settings import Run

    run = Run(deadline=duration("--timeout", timeout), strict=strict)
    return checking.check(selection, probing, outputs, display, run, baseline=baseline)


@command(
    "check",
    short_help="Check the named services only.",
    selection=MANIFEST,
    outputs=OUTPUTS,
    probing=PROBING,
    display=DISPLAY,
    baseline=BASELINE,
)
def check_command(
    names: Annotated[list[str], typer.Argument(help="Service names.")],
    *,
    selection: "Selection",
    outputs: "Outputs",
    probing: "Probing",
    timeout: DeadlineOpt = None,
    strict: StrictOpt = False,
    baseline: "Baseline",
    display: "Display",
) -> int:
    """Check the named services only; with -v, the whole story of each check and a curl line to reproduce it.

    Example: svccheck check payment-service -v
    """
    from dataclasses import replace

    from svccheck.modes import checking
    from svccheck.modes.settings import Run

    run = Run(deadline=duration("--timeout", timeout), strict=strict, story=display.verbose)
    chosen = replace(selection, names=tuple(names))
    return checking.check(chosen, probing, outputs, display, run, baseline=baseline)


@command(
    "validate",
    exit_codes=MANIFEST_EXIT_CODES_HELP,
    short_help="Load and validate the manifest only.",
    selection=MANIFEST,
)
def validate_command(*, selection: "Selection") -> None:
    """Load and validate the manifest only: nothing is probed.

    Example: svccheck validate -f services.yaml
    """
    from svccheck.modes.checking import load

    loaded = load(selection)
    checks = sum(len(s.checks) for s in loaded.services)
    typer.echo(f"{loaded.path}: ok, {_count(len(loaded.services), 'service')}, {_count(checks, 'check')}")


@command(
    "list",
    exit_codes=MANIFEST_EXIT_CODES_HELP,
    short_help="List the services in the manifest.",
    selection=MANIFEST,
    display=COLOR,
)
def list_command(*, selection: "Selection", display: "Display") -> None:
    """List the services in the manifest: url, critical, tags, depends_on, number of checks.

    Example: svccheck list -f services.yaml
    """
    from svccheck.modes.checking import load
    from svccheck.redact import Redactor
    from svccheck.report import manifest_table
    from svccheck.report.table import make_console

    loaded = load(selection)
    make_console(color=not display.no_color).print(
        manifest_table.render(loaded, Redactor.for_manifest(loaded))
    )


@command(
    "demo",
    short_help="Start the built-in demo fleet on loopback and check it.",
    outputs=OUTPUTS,
    display=DISPLAY,
)
def demo_command(
    *,
    scenario: Annotated[Scenario, typer.Option("--scenario", help="Fleet state to show.")] = Scenario.healthy,
    serve: Annotated[
        bool, typer.Option("--serve", help="Keep the fleet running on ports 8080-8090 until Ctrl-C.")
    ] = False,
    outputs: "Outputs",
    timeout: DeadlineOpt = None,
    strict: StrictOpt = False,
    display: "Display",
) -> int:
    """Start the built-in eleven-service demo fleet on loopback and check it.

    Example: svccheck demo --scenario outage
    """
    from svccheck.demo.run import reproduce_line, serve_until_interrupted
    from svccheck.modes import checking
    from svccheck.modes.settings import Run

    if serve:
        return serve_until_interrupted(scenario.value)
    reproduce = reproduce_line(scenario.value)
    run = Run(deadline=duration("--timeout", timeout), strict=strict, reproduce=reproduce)
    return checking.check_demo(outputs, display, run, scenario=scenario.value)


IntervalOpt = Annotated[
    str,
    typer.Option(
        "--interval",
        metavar="<duration>",
        help="Pause between rounds of the checks that have not passed yet.",
    ),
]


@command(
    "wait",
    exit_codes=WAIT_EXIT_CODES_HELP,
    short_help="Re-check until every critical check passes, or --timeout.",
    selection=SELECTION,
    outputs=OUTPUTS,
    probing=PROBING,
    display=DISPLAY,
    baseline=BASELINE,
)
def wait_command(
    *,
    selection: "Selection",
    outputs: "Outputs",
    probing: "Probing",
    timeout: WaitDeadlineOpt = "5m",
    interval: IntervalOpt = "2s",
    strict: StrictOpt = False,
    baseline: "Baseline",
    display: "Display",
) -> int:
    """Re-check until every critical check passes (exit 0) or --timeout runs out (exit 1).

    A check that passed is not probed again; each service's time to ready is
    reported on stderr. The final table and reports are the same as `all`'s.

    Example: svccheck wait --timeout 5m --interval 2s
    """
    from svccheck.modes import checking
    from svccheck.modes.settings import Run

    run = Run(deadline=duration("--timeout", timeout), strict=strict)
    every = duration("--interval", interval) or 2.0
    return checking.wait(selection, probing, outputs, display, run, interval=every, baseline=baseline)


@command(
    "diff",
    exit_codes=COMPARE_EXIT_CODES_HELP,
    short_help="Compare two saved JSON reports, check by check.",
    outputs=OUTPUTS.without("location"),
    display=DISPLAY,
)
def diff_command(
    old: Annotated[Path, typer.Argument(help="The earlier JSON report.")],
    new: Annotated[Path, typer.Argument(help="The later JSON report.")],
    *,
    outputs: "Outputs",
    display: "Display",
) -> int:
    """Compare two saved JSON reports: what changed in NEW since OLD, check by check.

    Shown as the table or any report format; exit 1 when NEW has a critical
    failure OLD did not have.

    Example: svccheck diff last.json now.json
    """
    from svccheck.modes.compare import diff

    return diff(old, new, outputs, display)


@command(
    "merge",
    exit_codes=MERGE_EXIT_CODES_HELP,
    short_help="Merge the JSON reports of several locations.",
    outputs=OUTPUTS.without("location"),
    display=DISPLAY,
)
def merge_command(
    reports: Annotated[list[Path], typer.Argument(help="JSON reports, one per location.")],
    *,
    quorum: Annotated[
        str | None,
        typer.Option(
            "--quorum",
            metavar="<N|N%>",
            help="Locations that must see a check pass: N or N% [default: a majority].",
        ),
    ] = None,
    outputs: "Outputs",
    display: "Display",
) -> int:
    """Merge the JSON reports of one manifest run from several locations (each with --location NAME).

    A check passes when at least --quorum locations saw it pass; its reason
    names the locations that disagreed. Shown as the table or any report
    format, exit code like `all`.

    Example: svccheck merge eu.json us.json office.json --quorum 2
    """
    from svccheck.modes import merge

    return merge.run(reports, quorum, outputs, display)


@command("schema", exit_codes=WRITE_EXIT_CODES_HELP, short_help="Print the manifest's JSON Schema.")
def schema_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to FILE instead of stdout.")
    ] = None,
) -> None:
    """Print the manifest's JSON Schema, for editors' YAML language servers.

    Example: svccheck schema -o services.schema.json, then start services.yaml with
    the line: # yaml-language-server: $schema=services.schema.json
    """
    from svccheck.manifest.json_schema import render_schema

    text = render_schema()
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        from svccheck.errors import UsageError

        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


@command("init", exit_codes=WRITE_EXIT_CODES_HELP, short_help="Write a starter manifest.")
def init_command(
    urls: Annotated[
        list[str] | None, typer.Argument(help="Base URLs of services to discover (http:// or https://).")
    ] = None,
    manifest: Annotated[Path, typer.Option("--manifest", "-f", help="File to write.")] = DEFAULT_MANIFEST,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    insecure: InsecureOpt = False,
    openapi: Annotated[
        Path | None,
        typer.Option(
            "--openapi",
            metavar="<file>",
            help="Write the safe checks of this OpenAPI 3 document (with --url).",
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", metavar="<url>", help="Base URL of the API --openapi describes.")
    ] = None,
) -> None:
    """Write a starter manifest; with URLs, from the health endpoints they answer on.

    Each URL is probed at /health, /healthz, /readyz, /livez, /actuator/health,
    /status and /ping; the path that answered and its health format go into the
    file. Without URLs, a commented template is written. With --openapi SPEC
    --url BASE, the file holds a check for every GET and HEAD operation of the
    document that can be made as it is, judged by the document; the operations
    left out are listed in it with why. An existing file is never overwritten
    without --force (exit 2).

    Example: svccheck init http://localhost:8080 http://localhost:8081
    """
    if openapi is not None or url is not None:
        from svccheck.modes import init_openapi

        if openapi is None or url is None or urls:
            from svccheck.errors import UsageError

            raise UsageError("init --openapi SPEC --url BASE: give both, and no other URL")
        from_spec = init_openapi.write(manifest, openapi, url, force=force)
        for line in init_openapi.written_lines(from_spec):
            typer.echo(line)
        return
    from svccheck.modes import init as starter

    written = starter.write(manifest, urls or [], force=force, insecure=insecure)
    for line in starter.written_lines(written):
        typer.echo(line)


@command(
    "serve",
    exit_codes=SERVE_EXIT_CODES_HELP,
    short_help="Check every --interval and serve the results over HTTP.",
    selection=SELECTION,
    probing=PROBING,
)
def serve_command(
    *,
    selection: "Selection",
    port: Annotated[
        int,
        typer.Option(
            "--port", min=0, max=65535, metavar="<port>", help="Port to serve on; 0 picks a free one."
        ),
    ] = 9115,
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="<address>", help="Address to bind; 0.0.0.0 to serve beyond this machine."
        ),
    ] = "127.0.0.1",
    interval: Annotated[
        str, typer.Option("--interval", metavar="<duration>", help="Time between the starts of rounds.")
    ] = "30s",
    timeout: ServeRoundTimeoutOpt = None,
    probing: "Probing",
    strict: ServeStrictOpt = False,
    shard: ShardOpt = None,
    probe_only: ProbeOnlyOpt = False,
    max_concurrent_probes: MaxConcurrentProbesOpt = 10,
    location: LocationOpt = None,
    otlp: OtlpOpt = None,
) -> int:
    """Check the services every --interval and serve the latest results over HTTP.

    /metrics is Prometheus text, /report.json the JSON report, /healthz answers
    200 once a round has completed. Rounds never overlap. The first line on
    stdout says where it listens (useful with --port 0). Ctrl-C or SIGTERM
    stops it (exit 0). /probe?service=NAME probes on demand within the scrape's
    timeout, /targets lists the services for Prometheus's http_sd_configs.

    Example: svccheck serve -f services.yaml --port 9115 --interval 30s
    """
    every = duration("--interval", interval) or 30.0
    chosen_shard, where = shard_of(shard), location_name(location)  # usage errors before loading
    # A round is bounded even when per-attempt timeouts and retries add up: by default the
    # interval, but never so short that a tight interval fails every check with `deadline`.
    round_timeout = duration("--timeout", timeout) or max(every, 60.0)
    from svccheck.modes import serve
    from svccheck.modes.checking import load, select
    from svccheck.redact import Redactor

    loaded = load(selection)
    return serve.serve_until_stopped(
        host,
        port,
        select(loaded, selection),
        probing.probe_settings(),
        Redactor.for_manifest(loaded),
        manifest_path=loaded.path,
        interval=every,
        round_timeout=round_timeout,
        strict=strict,
        shard=chosen_shard,
        probe_only=probe_only,
        max_concurrent_probes=max_concurrent_probes,
        location=where,
        otlp=otlp,
    )


@command(
    "watch",
    exit_codes=WATCH_EXIT_CODES_HELP,
    short_help="Re-check every --interval: a live table, or a line per change.",
    selection=SELECTION,
    probing=PROBING,
    display=COLOR,
)
def watch_command(
    *,
    selection: "Selection",
    interval: Annotated[
        str, typer.Option("--interval", metavar="<duration>", help="Time between round starts, e.g. 5s.")
    ] = "5s",
    rounds: Annotated[
        int | None,
        typer.Option("--rounds", min=1, metavar="<n>", help="Stop after N rounds (exit code of the last)."),
    ] = None,
    probing: "Probing",
    timeout: RoundTimeoutOpt = None,
    display: "Display",
) -> int:
    """Re-check every interval: a live table on a terminal, one line per state change otherwise.

    Ctrl-C leaves (exit 0) with a summary of what changed.

    Example: svccheck watch --interval 10s
    """
    every = duration("--interval", interval) or 5.0
    round_timeout = duration("--timeout", timeout)
    from svccheck.modes.checking import load, select
    from svccheck.modes.watch import run_watch
    from svccheck.redact import Redactor
    from svccheck.report.table import make_console

    loaded = load(selection)
    return run_watch(
        select(loaded, selection),
        probing.probe_settings(),
        console=make_console(color=not display.no_color),
        redactor=Redactor.for_manifest(loaded),
        interval=every,
        rounds=rounds,
        round_timeout=round_timeout,
        manifest_path=loaded.path,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


__all__ = ["Scenario"]
