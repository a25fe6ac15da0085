"""Typer commands: options in, one call of the core, an exit code out.

No probing or evaluation logic lives here. Heavy modules (httpx, rich tables,
the manifest loader) are imported inside the commands that need them so `--help` stays fast.

No `from __future__ import annotations` here: Typer reads every command's
annotations on each start, and as strings they are compiled and evaluated
twice over (~20 ms a run); names imported only for type checking are quoted.
"""

import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from svccheck._version import __version__

if TYPE_CHECKING:
    from svccheck.engine.prober import ProbeSettings
    from svccheck.engine.run import Stop
    from svccheck.model import Manifest, Report, Service
    from svccheck.redact import Redactor

T = TypeVar("T")

EXIT_CODES_HELP = """\b
Exit codes:
  0    every critical check passed (warnings allowed unless --strict)
  1    at least one critical check failed (or the deadline cut checks short),
       or wait timed out
  2    usage or manifest error: nothing was probed
  130  interrupted (Ctrl-C): partial results printed
  143  terminated (SIGTERM): partial results printed
"""

app = typer.Typer(
    name="svccheck",
    help="Health checks and smoke tests for a fleet of HTTP services.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"
    markdown = "markdown"
    prometheus = "prometheus"


class Scenario(StrEnum):
    healthy = "healthy"
    outage = "outage"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"svccheck {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    pass


ManifestOpt = Annotated[
    Path,
    typer.Option("--manifest", "-f", envvar="SVCCHECK_MANIFEST", help="Manifest file.", show_default=True),
]
EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment overlay from the manifest.")]
OnlyOpt = Annotated[list[str] | None, typer.Option("--only", help="Only this service (repeatable).")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="Only services with this tag (repeatable).")]
SkipOpt = Annotated[list[str] | None, typer.Option("--skip", help="Skip this service (repeatable).")]
VarOpt = Annotated[list[str] | None, typer.Option("--var", help="KEY=VALUE for ${KEY} (repeatable).")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="Output on stdout.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the JSON report to FILE.")]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="Also write a JUnit XML report to FILE.")]
MarkdownOpt = Annotated[
    Path | None, typer.Option("--markdown", help="Also write a Markdown summary to FILE.")
]
PrometheusOpt = Annotated[
    Path | None, typer.Option("--prometheus", help="Also write Prometheus text metrics to FILE.")
]
GithubOpt = Annotated[
    bool | None,
    typer.Option(
        "--github/--no-github",
        help="GitHub Actions annotations and job summary [default: on when GITHUB_ACTIONS=true].",
        show_default=False,
    ),
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", min=1, max=1000, help="Requests in flight at most.")
]
TimeoutOpt = Annotated[
    str | None,
    typer.Option("--timeout", help="Hard bound on the whole command, e.g. 30s; unfinished checks fail."),
]
RequestTimeoutOpt = Annotated[
    str | None, typer.Option("--request-timeout", help="Per-attempt timeout; overrides the manifest's.")
]
RetriesOpt = Annotated[int | None, typer.Option("--retries", min=0, max=20, help="Override extra attempts.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Warnings fail the run (exit 1).")]
InsecureOpt = Annotated[bool, typer.Option("--insecure", "-k", help="Do not verify TLS certificates.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show URLs, components, every failure.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary line.")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No colour (NO_COLOR is honoured too).")]


@dataclass
class RunOptions:
    manifest: Path
    env: str | None = None
    only: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    output: OutputFormat = OutputFormat.table
    json_file: Path | None = None
    junit_file: Path | None = None
    markdown_file: Path | None = None
    prometheus_file: Path | None = None
    github: bool | None = None
    interval: str = "2s"
    concurrency: int = 100
    timeout: str | None = None
    request_timeout: str | None = None
    retries: int | None = None
    strict: bool = False
    insecure: bool = False
    verbose: bool = False
    quiet: bool = False
    no_color: bool = False
    story: bool = False  # `check NAME -v`: the whole story of each check before the table
    reproduce: str | None = None  # command template with {name} suggested under a failing table


def _fail_usage(message: str) -> NoReturn:
    typer.echo(f"svccheck: error: {message}", err=True)
    raise typer.Exit(2)


def _duration_option(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    from svccheck.durations import parse_duration

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        _fail_usage(f"{name}: {exc}")
    if seconds <= 0:
        _fail_usage(f"{name}: must be greater than zero")
    return seconds


def _parse_vars(items: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail_usage(f"--var expects KEY=VALUE, got {item!r}")
        result[key.strip()] = value
    return result


def _load(options: RunOptions) -> "Manifest":
    from svccheck.manifest import ManifestError, load_manifest

    try:
        return load_manifest(str(options.manifest), env=options.env, cli_vars=_parse_vars(options.variables))
    except ManifestError as exc:
        typer.echo(exc.render(), err=True)
        count = len(exc.issues)
        typer.echo(
            f"svccheck: {count} problem{'s' if count != 1 else ''} in the manifest; nothing was probed",
            err=True,
        )
        raise typer.Exit(2) from None


def _select(
    manifest: "Manifest", options: RunOptions, names: list[str] | None = None
) -> tuple["Service", ...]:
    """The services a command runs: NAMEs and --only, --tag, --skip; a bad name is a usage error."""
    from svccheck.engine.run import Selection, SelectionError, select

    try:
        return select(
            manifest, Selection(names=[*(names or []), *options.only], tags=options.tags, skip=options.skip)
        )
    except SelectionError as exc:
        _fail_usage(str(exc))


def _probe_settings(options: RunOptions, request_timeout: float | None) -> "ProbeSettings":
    from svccheck.engine.prober import ProbeSettings

    return ProbeSettings(
        concurrency=options.concurrency,
        request_timeout=request_timeout,
        retries=options.retries,
        insecure=options.insecure,
    )


def _run(
    options: RunOptions, names: list[str], manifest: "Manifest | None" = None, *, waiting: bool = False
) -> NoReturn:
    import time

    deadline_seconds = _duration_option("--timeout", options.timeout)
    request_timeout = _duration_option("--request-timeout", options.request_timeout)
    started = time.monotonic()
    manifest = manifest or _load(options)
    services = _select(manifest, options, names)
    settings = _probe_settings(options, request_timeout)
    deadline = None if deadline_seconds is None else started + deadline_seconds
    from svccheck.redact import Redactor

    # one Redactor for the whole command: what `wait` learned in an earlier round stays secret
    redactor = Redactor.for_manifest(manifest)
    if waiting:
        report = _wait(manifest, services, settings, deadline, options, started, redactor)
    else:
        report = _execute(
            manifest, services, settings, deadline, options.strict, keep_answers=options.verbose
        )
    with _late_signals_ignored():
        _emit(report, manifest, options, redactor)
    raise typer.Exit(report.exit_code)


def _execute(
    manifest: "Manifest",
    services: tuple["Service", ...],
    settings: "ProbeSettings",
    deadline: float | None,
    strict: bool,
    *,
    keep_answers: bool,
) -> "Report":
    from svccheck.engine.run import execute

    return _with_signals(
        lambda stop: execute(
            services,
            settings,
            deadline=deadline,
            stop=stop,
            manifest_path=manifest.path,
            strict=strict,
            keep_answers=keep_answers,
        )
    )


def _with_signals(run: Callable[["Stop"], Awaitable[T]]) -> T:
    """Run `run(stop)` in an event loop where SIGINT and SIGTERM trigger `stop` instead of killing."""
    from svccheck.engine.run import run_with_signals

    return run_with_signals(run)


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


def _emit(report: "Report", manifest: "Manifest", options: RunOptions, redactor: "Redactor") -> None:
    redactor.learn_report(report)  # cookies and tokens the services handed out are secrets too
    _write_report_files(report, redactor, options)
    _github(report, redactor, options)
    if options.output is not OutputFormat.table:
        from svccheck.report import formats

        sys.stdout.write(formats.render(options.output.value, report, redactor))
        return
    from svccheck.report import table

    console = table.make_console(color=not options.no_color)
    if options.story and not options.quiet:
        from svccheck.report import story

        # soft wrap: the curl line stays one line, whatever the width, so it can be copied as it is
        console.print(story.render(report, manifest, redactor, insecure=options.insecure), soft_wrap=True)
        console.print(table.render(report, redactor, reproduce=""))  # the story is the closer look
        return
    if options.quiet:
        console.print(table.render_quiet(report, redactor))
    else:
        console.print(table.render(report, redactor, verbose=options.verbose, reproduce=options.reproduce))


def _write_report_files(report: "Report", redactor: "Redactor", options: RunOptions) -> None:
    from svccheck.report import formats
    from svccheck.report.files import write_atomically

    requested = {
        "json": options.json_file,
        "junit": options.junit_file,
        "markdown": options.markdown_file,
        "prometheus": options.prometheus_file,
    }
    for name, path in requested.items():
        if path is None:
            continue
        try:
            write_atomically(path, formats.render(name, report, redactor))
        except OSError as exc:
            typer.echo(f"svccheck: cannot write {path}: {exc.strerror or exc}", err=True)


def _github(report: "Report", redactor: "Redactor", options: RunOptions) -> None:
    from svccheck.report import github

    if not github.enabled(options.github):
        return
    from svccheck.neutral import raw_stream

    # Workflow commands go where the runner reads them; stderr when stdout carries a machine report.
    # They are svccheck's own `::` lines, so they are written past the guard on the CI log.
    stream = raw_stream(sys.stdout if options.output is OutputFormat.table else sys.stderr)
    for line in github.workflow_commands(report, redactor):
        stream.write(line + "\n")
    stream.flush()
    from svccheck.report import markdown

    try:
        github.append_step_summary(markdown.render(report, redactor))
    except OSError as exc:
        typer.echo(f"svccheck: cannot append to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}", err=True)


# Command parameters are named for the command line (`--tag`, `--var`); RunOptions for the code.
_RENAMED = {"tag": "tags", "var": "variables"}


def _options(**kwargs: object) -> RunOptions:
    """RunOptions from a command's parameters (pass `**locals()`); extra names are ignored."""
    known = RunOptions.__dataclass_fields__
    values = {_RENAMED.get(k, k): v for k, v in kwargs.items()}
    values = {k: v for k, v in values.items() if k in known}
    for key in ("only", "tags", "skip", "variables"):
        values[key] = list(values.get(key) or [])  # type: ignore[call-overload]
    return RunOptions(**values)  # type: ignore[arg-type]


DEFAULT_MANIFEST = Path("services.yaml")


@app.command("all", epilog=EXIT_CODES_HELP)
def all_command(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    only: OnlyOpt = None,
    tag: TagOpt = None,
    skip: SkipOpt = None,
    var: VarOpt = None,
    output: FormatOpt = OutputFormat.table,
    json_file: JsonOpt = None,
    junit_file: JunitOpt = None,
    markdown_file: MarkdownOpt = None,
    prometheus_file: PrometheusOpt = None,
    github: GithubOpt = None,
    concurrency: ConcurrencyOpt = 100,
    timeout: TimeoutOpt = None,
    request_timeout: RequestTimeoutOpt = None,
    retries: RetriesOpt = None,
    strict: StrictOpt = False,
    insecure: InsecureOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Check every service: health and sample checks, concurrently. Example: svccheck all -f services.yaml"""
    _run(_options(**locals()), [])


@app.command("check", epilog=EXIT_CODES_HELP)
def check_command(
    names: Annotated[list[str], typer.Argument(help="Service names.")],
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    var: VarOpt = None,
    output: FormatOpt = OutputFormat.table,
    json_file: JsonOpt = None,
    junit_file: JunitOpt = None,
    markdown_file: MarkdownOpt = None,
    prometheus_file: PrometheusOpt = None,
    github: GithubOpt = None,
    concurrency: ConcurrencyOpt = 100,
    timeout: TimeoutOpt = None,
    request_timeout: RequestTimeoutOpt = None,
    retries: RetriesOpt = None,
    strict: StrictOpt = False,
    insecure: InsecureOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Check the named services only; with -v, the whole story of each check and a curl line to reproduce it.

    Example: svccheck check payment-service -v
    """
    _run(_options(**locals(), story=verbose), names)


@app.command("validate", epilog=EXIT_CODES_HELP)
def validate_command(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    var: VarOpt = None,
) -> None:
    """Load and validate the manifest only (exit 0 or 2). Example: svccheck validate -f services.yaml"""
    loaded = _load(_options(manifest=manifest, env=env, variables=var))
    checks = sum(len(s.checks) for s in loaded.services)
    typer.echo(f"{loaded.path}: ok, {len(loaded.services)} services, {checks} checks")


@app.command("list", epilog=EXIT_CODES_HELP)
def list_command(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    var: VarOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """List the services in the manifest: url, tags, depends_on, checks. Example: svccheck list"""
    loaded = _load(_options(manifest=manifest, env=env, variables=var))
    from rich.table import Table
    from rich.text import Text

    from svccheck.redact import Redactor
    from svccheck.report.table import make_console

    redactor = Redactor.for_manifest(loaded)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("service", "url", "critical", "tags", "depends_on", "checks"):
        table.add_column(column, overflow="fold")
    for service in loaded.services:
        # cells are Text: a tag `[beta]` is shown as written, never read as markup
        table.add_row(
            Text(redactor.text(service.name)),
            Text(redactor.url(service.url)),
            "yes" if service.critical else "no",
            Text(", ".join(redactor.text(tag) for tag in service.tags)),
            Text(", ".join(redactor.text(name) for name in service.depends_on)),
            str(len(service.checks)),
        )
    make_console(color=not no_color).print(table)


@app.command("demo", epilog=EXIT_CODES_HELP)
def demo_command(
    scenario: Annotated[Scenario, typer.Option("--scenario", help="Fleet state to show.")] = Scenario.healthy,
    serve: Annotated[
        bool, typer.Option("--serve", help="Keep the fleet running on ports 8080-8090 until Ctrl-C.")
    ] = False,
    output: FormatOpt = OutputFormat.table,
    json_file: JsonOpt = None,
    junit_file: JunitOpt = None,
    markdown_file: MarkdownOpt = None,
    prometheus_file: PrometheusOpt = None,
    github: GithubOpt = None,
    timeout: TimeoutOpt = None,
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Start the built-in eleven-service demo fleet on loopback and check it.

    Example: svccheck demo --scenario outage
    """
    params = dict(locals())
    from svccheck.demo.fleet import Fleet
    from svccheck.demo.run import bundled_manifest_path, rebase, serve_until_interrupted

    if serve:
        raise typer.Exit(serve_until_interrupted(scenario.value))
    options = _options(
        **params,
        manifest=bundled_manifest_path(),
        # the demo's ports are gone when it exits: point at the fleet on its fixed ports
        reproduce=f"svccheck demo --serve --scenario {scenario.value}, then in another terminal "
        "(from this repository): svccheck check {name} -v -f services.yaml",
    )
    loaded = _load(options)
    try:
        fleet = Fleet(scenario=scenario.value)
        fleet.start()
    except OSError as exc:
        typer.echo(f"svccheck: cannot start the demo fleet: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        _run(options, [], manifest=rebase(loaded, fleet.urls))
    finally:
        fleet.stop()


IntervalOpt = Annotated[
    str, typer.Option("--interval", help="Pause between rounds of the checks that have not passed yet.")
]


@app.command("wait", epilog=EXIT_CODES_HELP)
def wait_command(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    only: OnlyOpt = None,
    tag: TagOpt = None,
    skip: SkipOpt = None,
    var: VarOpt = None,
    output: FormatOpt = OutputFormat.table,
    json_file: JsonOpt = None,
    junit_file: JunitOpt = None,
    markdown_file: MarkdownOpt = None,
    prometheus_file: PrometheusOpt = None,
    github: GithubOpt = None,
    concurrency: ConcurrencyOpt = 100,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up after this long (exit 1); bounds the whole wait.")
    ] = "5m",
    interval: IntervalOpt = "2s",
    request_timeout: RequestTimeoutOpt = None,
    retries: RetriesOpt = None,
    strict: StrictOpt = False,
    insecure: InsecureOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Re-check until every critical check passes (exit 0) or --timeout runs out (exit 1).

    A check that passed is not probed again; each service's time to ready is
    reported on stderr. The final table and reports are the same as `all`'s.
    Example: svccheck wait --timeout 5m --interval 2s
    """
    _run(_options(**locals()), [], waiting=True)


def _wait(
    manifest: "Manifest",
    services: tuple["Service", ...],
    settings: "ProbeSettings",
    deadline: float | None,
    options: RunOptions,
    started: float,
    redactor: "Redactor",
) -> "Report":
    from svccheck.modes.wait import Readiness, wait_until_ready
    from svccheck.modes.wait_progress import LiveProgress, PlainProgress
    from svccheck.report.table import make_console

    interval = _duration_option("--interval", options.interval) or 2.0
    console = make_console(color=not options.no_color, stderr=True)
    progress: LiveProgress | PlainProgress
    if console.is_terminal and not options.quiet:
        limit = None if deadline is None else deadline - started
        progress = LiveProgress(console, redactor, Readiness(services), limit)
    else:
        progress = PlainProgress(sys.stderr, redactor)
    with progress if isinstance(progress, LiveProgress) else contextlib.nullcontext():
        outcome = _with_signals(
            lambda stop: wait_until_ready(
                services,
                settings,
                deadline=deadline,
                interval=interval,
                stop=stop,
                manifest_path=manifest.path,
                strict=options.strict,
                on_changes=None if options.quiet else progress,
                started=started,
            )
        )
    if not options.quiet:
        progress.finish(outcome)
    return outcome.report


@app.command("schema")
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
        _fail_usage(f"cannot write {output}: {exc.strerror or exc}")


@app.command("init")
def init_command(
    urls: Annotated[
        list[str] | None, typer.Argument(help="Base URLs of services to discover (http:// or https://).")
    ] = None,
    manifest: Annotated[Path, typer.Option("--manifest", "-f", help="File to write.")] = DEFAULT_MANIFEST,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    insecure: InsecureOpt = False,
) -> None:
    """Write a starter manifest; with URLs, from the health endpoints they answer on.

    Each URL is probed at /health, /healthz, /readyz, /livez, /actuator/health,
    /status and /ping; the path that answered and its health format go into the
    file. Without URLs, a commented template is written. An existing file is
    never overwritten without --force (exit 2).

    Example: svccheck init http://localhost:8080 http://localhost:8081
    """
    from svccheck import starter

    if manifest.exists() and not force:
        _fail_usage(f"{manifest} exists; use --force to overwrite it")
    if not urls:
        text = starter.TEMPLATE
        found: list[starter.Found] = []
    else:
        try:
            checked = [starter.check_url(u) for u in urls]
        except starter.StarterError as exc:
            _fail_usage(str(exc))
        import asyncio

        found = asyncio.run(starter.discover(checked, insecure=insecure))
        text = starter.render(found, insecure=insecure)
    try:
        manifest.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail_usage(f"cannot write {manifest}: {exc.strerror or exc}")
    schema_file = manifest.parent / starter.SCHEMA_FILE
    if force or not schema_file.exists():
        from svccheck.manifest.json_schema import render_schema

        try:
            schema_file.write_text(render_schema(), encoding="utf-8")
        except OSError as exc:
            typer.echo(f"svccheck: cannot write {schema_file}: {exc.strerror or exc}", err=True)
    from svccheck.redact import Redactor

    redactor = Redactor()
    for item in found:
        if item.path is None:
            typer.echo(
                f"  {redactor.url(item.url)}: {redactor.text(item.problem or '')}; wrote /health as a guess"
            )
        else:
            fmt = starter.FORMAT_NAMES.get(item.health_format or "", "no known health format")
            typer.echo(f"  {redactor.url(item.url)}{item.path}: HTTP {item.status_code}, {fmt}")
    what = f"{len(found)} service{'s' if len(found) != 1 else ''}" if found else "a template"
    typer.echo(
        f"wrote {manifest} ({what}) and its schema {schema_file}; next: svccheck validate -f {manifest}"
    )


@app.command("serve")
def serve_command(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    only: OnlyOpt = None,
    tag: TagOpt = None,
    skip: SkipOpt = None,
    var: VarOpt = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to serve on; 0 picks a free one.")
    ] = 9115,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; 0.0.0.0 to serve beyond this machine.")
    ] = "127.0.0.1",
    interval: Annotated[str, typer.Option("--interval", help="Time between the starts of rounds.")] = "30s",
    timeout: Annotated[
        str | None,
        typer.Option("--timeout", help="Bound on each round; default: the interval, at least 1m."),
    ] = None,
    concurrency: ConcurrencyOpt = 100,
    request_timeout: RequestTimeoutOpt = None,
    retries: RetriesOpt = None,
    strict: StrictOpt = False,
    insecure: InsecureOpt = False,
) -> None:
    """Check the services every --interval and serve the latest results over HTTP.

    /metrics is Prometheus text, /report.json the JSON report, /healthz answers
    200 once a round has completed. Rounds never overlap. The first line on
    stdout says where it listens (useful with --port 0). Ctrl-C or SIGTERM
    stops it (exit 0).

    Example: svccheck serve -f services.yaml --port 9115 --interval 30s
    """
    options = _options(**locals())
    interval_seconds = _duration_option("--interval", interval) or 30.0
    # A round is bounded even when per-attempt timeouts and retries add up: by default the
    # interval, but never so short that a tight interval fails every check with `deadline`.
    round_timeout = _duration_option("--timeout", timeout) or max(interval_seconds, 60.0)
    request_timeout_seconds = _duration_option("--request-timeout", request_timeout)
    loaded = _load(options)
    services = _select(loaded, options)
    settings = _probe_settings(options, request_timeout_seconds)
    from svccheck.engine.run import run_with_signals
    from svccheck.modes import serve
    from svccheck.redact import Redactor

    latest = serve.Latest()
    try:
        server = serve.start_http(host, port, latest)
    except OSError as exc:
        _fail_usage(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    typer.echo(f"listening on http://{shown}:{bound_port} (/metrics, /report.json, /healthz)")
    sys.stdout.flush()

    try:
        # serving is ended by a signal: that is its normal way out, exit 0 (run.ON_SIGNAL)
        code = run_with_signals(
            lambda stop: serve.run_rounds(
                services,
                settings,
                latest,
                Redactor.for_manifest(loaded),
                manifest_path=loaded.path,
                interval=interval_seconds,
                round_timeout=round_timeout,
                strict=strict,
                stop=stop,
                log=serve.log_to_stderr,
            ),
            "serve",
        )
    finally:
        server.shutdown()
        server.server_close()
    raise typer.Exit(code)


@app.command("watch")
def watch_command(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    only: OnlyOpt = None,
    tag: TagOpt = None,
    skip: SkipOpt = None,
    var: VarOpt = None,
    interval: Annotated[str, typer.Option("--interval", help="Time between round starts, e.g. 5s.")] = "5s",
    rounds: Annotated[
        int | None, typer.Option("--rounds", min=1, help="Stop after N rounds (exit code of the last).")
    ] = None,
    concurrency: ConcurrencyOpt = 100,
    timeout: Annotated[
        str | None, typer.Option("--timeout", help="Bound on each round; unfinished checks fail.")
    ] = None,
    request_timeout: RequestTimeoutOpt = None,
    retries: RetriesOpt = None,
    insecure: InsecureOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Re-check every interval: a live table on a terminal, one line per state change otherwise.

    Ctrl-C leaves (exit 0) with a summary of what changed. Example: svccheck watch --interval 10s
    """
    options = _options(**locals())
    every = _duration_option("--interval", interval)
    round_timeout = _duration_option("--timeout", timeout)
    request = _duration_option("--request-timeout", request_timeout)
    loaded = _load(options)
    services = _select(loaded, options)
    settings = _probe_settings(options, request)
    from svccheck.modes.watch import run_watch
    from svccheck.redact import Redactor
    from svccheck.report.table import make_console

    code = run_watch(
        services,
        settings,
        console=make_console(color=not no_color),
        redactor=Redactor.for_manifest(loaded),
        interval=every or 5.0,
        rounds=rounds,
        round_timeout=round_timeout,
        manifest_path=loaded.path,
    )
    raise typer.Exit(code)


def _guard_ci_log() -> None:
    """Where output is not a terminal (a CI log), no line may start with `::` (a workflow command)."""
    logs = [name for name in ("stdout", "stderr") if (s := getattr(sys, name)) is not None and not s.isatty()]
    if not logs:
        return  # on a terminal the guard, and its import, are not needed (`--help`)
    from svccheck.neutral import CommandLineGuard

    for name in logs:
        setattr(sys, name, CommandLineGuard(getattr(sys, name)))


def run_app() -> None:
    _guard_ci_log()
    try:
        app()
    except KeyboardInterrupt:
        # Ctrl-C outside the probe loop (e.g. while loading): nothing was probed yet.
        sys.stderr.write("svccheck: interrupted\n")
        sys.exit(130)


__all__ = ["app", "run_app"]
