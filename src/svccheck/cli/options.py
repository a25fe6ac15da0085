"""Every option declared once, in groups; a command names the groups it takes and gets their settings.

A group is the keyword parameters of one builder function (selection,
probing, outputs, display): those parameters are the options Typer shows, and
the builder turns their values into the frozen dataclass of modes/settings.py,
type-checked like any function. `command` splices each group's options into
the command's signature where the command has a parameter of that name, and
calls the command with the built settings instead; it is also the one place
an error ends a command (app.exit_code_of).

No `from __future__ import annotations` here: Typer reads these annotations on
every start (see app.py).
"""

import functools
import inspect
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import typer

from svccheck.cli.app import EXIT_CODES_HELP, app, exit_code_of
from svccheck.report.formats import FORMATS

if TYPE_CHECKING:
    # imported by the builders, when a command runs: a frozen dataclass costs ~0.5 ms to
    # create, and `--help` needs none of them
    from svccheck.engine.shard import Shard
    from svccheck.modes.settings import Baseline, Display, Outputs, Probing, Selection

T = TypeVar("T")
Command = Callable[..., int | None]
_KEYWORD = inspect.Parameter.KEYWORD_ONLY

DEFAULT_MANIFEST = Path("services.yaml")


class OptionGroup(Generic[T]):
    """Options declared once, as the parameters of `build`, which makes the settings a command gets."""

    def __init__(
        self, build: Callable[..., T], parameters: Sequence[inspect.Parameter] | None = None
    ) -> None:
        self.build = build
        self.parameters = tuple(
            inspect.signature(build).parameters.values() if parameters is None else parameters
        )

    def without(self, *names: str) -> "OptionGroup[T]":
        """The group less some options, for a command they make no sense in; their defaults apply."""
        unknown = set(names) - {p.name for p in self.parameters}
        assert not unknown, unknown
        return OptionGroup(self.build, [p for p in self.parameters if p.name not in names])

    def take(self, values: dict[str, Any]) -> T:
        return self.build(**{p.name: values.pop(p.name) for p in self.parameters})


def command(
    name: str, *, exit_codes: bool | str = True, short_help: str | None = None, **groups: OptionGroup[Any]
) -> Callable[[Command], Command]:
    """Register `function` as command `name`, its group parameters replaced by the groups' options.

    `exit_codes`: the help's exit-code section (True: the checking commands'; False: none);
    `short_help`: the command's line in the top-level list, a whole sentence (#15).

    The command returns its exit code (None: 0); an error it raises is reported
    and becomes the exit code here, once for every command.
    """

    def register(function: Command) -> Command:
        parameters: list[inspect.Parameter] = []
        for parameter in inspect.signature(function).parameters.values():
            group = groups.get(parameter.name)
            own = [parameter] if group is None else list(group.parameters)
            parameters += [p.replace(kind=_KEYWORD) for p in own]  # Typer passes every value by name
        names = [p.name for p in parameters]
        assert len(names) == len(set(names)), f"{name}: an option declared twice"

        @functools.wraps(function)
        def run(**values: Any) -> None:
            try:
                for key, group in groups.items():
                    values[key] = group.take(values)
                code = function(**values) or 0
            except Exception as error:  # exit_code_of re-raises what is not a user's error
                code = exit_code_of(error)
            raise typer.Exit(int(code))

        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        epilog = EXIT_CODES_HELP if exit_codes is True else exit_codes or None
        app.command(name, epilog=epilog, short_help=short_help)(run)
        return function

    return register


def duration(option: str, value: str | None) -> float | None:
    """Seconds, for a duration option; a bad or non-positive one is a usage error."""
    if value is None:
        return None
    from svccheck.durations import parse_duration
    from svccheck.errors import UsageError

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if seconds <= 0:
        raise UsageError(f"{option}: must be greater than zero")
    return seconds


def _variables(items: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            from svccheck.errors import UsageError

            raise UsageError(f"--var expects KEY=VALUE, got {item!r}")
        pairs.append((key.strip(), value))
    return tuple(pairs)


# selection: the manifest and which of its services

ManifestOpt = Annotated[
    Path,
    typer.Option("--manifest", "-f", envvar="SVCCHECK_MANIFEST", help="Manifest file.", show_default=True),
]
EnvOpt = Annotated[
    str | None, typer.Option("--env", metavar="<name>", help="Environment overlay from the manifest.")
]
OnlyOpt = Annotated[
    list[str] | None, typer.Option("--only", metavar="<name>", help="Only this service (repeatable).")
]
TagOpt = Annotated[
    list[str] | None, typer.Option("--tag", metavar="<tag>", help="Only services with this tag (repeatable).")
]
SkipOpt = Annotated[
    list[str] | None, typer.Option("--skip", metavar="<name>", help="Skip this service (repeatable).")
]
VarOpt = Annotated[
    list[str] | None, typer.Option("--var", metavar="<KEY=VALUE>", help="KEY=VALUE for ${KEY} (repeatable).")
]


def _selection(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    env: EnvOpt = None,
    only: OnlyOpt = None,
    tag: TagOpt = None,
    skip: SkipOpt = None,
    var: VarOpt = None,
) -> "Selection":
    from svccheck.modes.settings import Selection

    return Selection(
        manifest=manifest,
        env=env,
        variables=_variables(var or []),
        only=tuple(only or ()),
        tags=tuple(tag or ()),
        skip=tuple(skip or ()),
    )


SELECTION = OptionGroup(_selection)
MANIFEST = SELECTION.without("only", "tag", "skip")  # commands that name services, or read them all


# probing: how each check is probed

ConcurrencyOpt = Annotated[
    int,
    typer.Option("--concurrency", min=1, max=1000, metavar="<n>", help="Requests in flight at most."),
]
RequestTimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--request-timeout", metavar="<duration>", help="Per-attempt timeout; overrides the manifest's."
    ),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option("--retries", min=0, max=20, metavar="<n>", help="Override extra attempts."),
]
InsecureOpt = Annotated[bool, typer.Option("--insecure", "-k", help="Do not verify TLS certificates.")]


def _probing(
    concurrency: ConcurrencyOpt = 100,
    request_timeout: RequestTimeoutOpt = None,
    retries: RetriesOpt = None,
    insecure: InsecureOpt = False,
) -> "Probing":
    from svccheck.modes.settings import Probing

    return Probing(concurrency, duration("--request-timeout", request_timeout), retries, insecure)


PROBING = OptionGroup(_probing)


# outputs: --format and one --NAME FILE option per entry of the formats registry

OutputFormat = StrEnum(  # type: ignore[misc]  # the registry's names, known at start-up only
    "OutputFormat", [("table", "table"), *((f.name, f.name) for f in FORMATS)]
)
GithubOpt = Annotated[
    bool | None,
    typer.Option(
        "--github/--no-github",
        help="GitHub Actions annotations and job summary [default: on when GITHUB_ACTIONS=true].",
        show_default=False,
    ),
]


LocationOpt = Annotated[
    str | None,
    typer.Option(
        "--location",
        metavar="<name>",
        help="Where this run probes from (a region, a cluster, an office): recorded in every report.",
    ),
]


OtlpOpt = Annotated[
    str | None,
    typer.Option(
        "--otlp",
        metavar="<url>",
        help="Send a span per check to this OTLP/HTTP collector (e.g. http://localhost:4318); "
        "needs the otlp extra: pip install 'svccheck[otlp]'.",
    ),
]


def _outputs(
    output: StrEnum,
    github: bool | None,
    location: str | None = None,
    otlp: str | None = None,
    **files: Path | None,
) -> "Outputs":
    from svccheck.modes.settings import Outputs

    chosen = ((f.name, files[f"{f.name}_file"]) for f in FORMATS)
    return Outputs(
        format=str(output),
        files=tuple((n, p) for n, p in chosen if p is not None),
        github=github,
        location=_location(location),
        otlp=otlp,
    )


def _location(name: str | None) -> str | None:
    """A location is a label: one line of printable text, not empty."""
    if name is None:
        return None
    if not name.strip() or not name.isprintable():
        from svccheck.errors import UsageError

        raise UsageError(f"--location expects a name of printable characters, got {name!r}")
    return name.strip()


OUTPUTS = OptionGroup(
    _outputs,
    [
        inspect.Parameter(
            "output",
            _KEYWORD,
            default=OutputFormat("table"),
            annotation=Annotated[OutputFormat, typer.Option("--format", help="Output on stdout.")],
        ),
        *(
            inspect.Parameter(
                f"{f.name}_file",
                _KEYWORD,
                default=None,
                annotation=Annotated[Path | None, typer.Option(f"--{f.name}", help=f.file_help)],
            )
            for f in FORMATS
        ),
        inspect.Parameter("github", _KEYWORD, default=None, annotation=GithubOpt),
        inspect.Parameter("location", _KEYWORD, default=None, annotation=LocationOpt),
        inspect.Parameter("otlp", _KEYWORD, default=None, annotation=OtlpOpt),
    ],
)


# baseline: what this run is compared with, and what then fails it


class FailOnChoice(StrEnum):
    any = "any"
    new = "new"


BaselineOpt = Annotated[
    Path | None,
    typer.Option(
        "--baseline",
        metavar="<report.json>",
        help="A JSON report of an earlier run: every format says what changed since, check by check.",
    ),
]
FailOnOpt = Annotated[
    FailOnChoice,
    typer.Option(
        "--fail-on",
        help="any: every critical failure fails the run; new: only those that did not fail in --baseline.",
    ),
]


def _baseline(baseline: BaselineOpt = None, fail_on: FailOnOpt = FailOnChoice.any) -> "Baseline":
    from svccheck.modes.settings import Baseline

    if fail_on is FailOnChoice.new and baseline is None:
        from svccheck.errors import UsageError

        raise UsageError("--fail-on new needs --baseline FILE: the report whose failures are not new")
    return Baseline(path=baseline, fail_on="new" if fail_on is FailOnChoice.new else "any")


BASELINE = OptionGroup(_baseline)


# display: how the table looks

VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show URLs, components, every failure.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary line.")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No colour (NO_COLOR is honoured too).")]


def _display(verbose: VerboseOpt = False, quiet: QuietOpt = False, no_color: NoColorOpt = False) -> "Display":
    from svccheck.modes.settings import Display

    return Display(verbose=verbose, quiet=quiet, no_color=no_color)


DISPLAY = OptionGroup(_display)
COLOR = DISPLAY.without("verbose", "quiet")


# one meaning per flag (#13): --timeout bounds the whole command for all, check, demo and wait,
# and each round for serve and watch; each help text starts by saying which

StrictOpt = Annotated[bool, typer.Option("--strict", help="Warnings fail the run (exit 1).")]
ServeStrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Warnings count as failing in /metrics and /report.json; serve exits 0."),
]
DeadlineOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout",
        metavar="<duration>",
        help="Whole command: a hard bound, e.g. 30s; unfinished checks fail.",
    ),
]
WaitDeadlineOpt = Annotated[
    str,
    typer.Option(
        "--timeout", metavar="<duration>", help="Whole command: give up after this long (exit 1), e.g. 5m."
    ),
]
RoundTimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout", metavar="<duration>", help="Each round: a bound, e.g. 10s; unfinished checks fail."
    ),
]
ServeRoundTimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout", metavar="<duration>", help="Each round: a bound; default: the interval, at least 1m."
    ),
]

# serve's scaling options (the multi-target pattern: docs/kubernetes.md)
ShardOpt = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="<i/N>",
        help="i/N: the rounds probe only the services whose name hashes to shard i of N "
        "(0 <= i < N; Prometheus's hashmod of the name).",
    ),
]
ProbeOnlyOpt = Annotated[
    bool, typer.Option("--probe-only", help="Run no rounds: answer /probe and /targets only.")
]
MaxConcurrentProbesOpt = Annotated[
    int,
    typer.Option(
        "--max-concurrent-probes", min=1, metavar="<n>", help="At most this many /probe requests at once."
    ),
]


def location_name(name: str | None) -> str | None:
    """--location as serve takes it: the same rule as every command's."""
    return _location(name)


def shard_of(text: str | None) -> "Shard | None":
    """--shard i/N, or a usage error saying what is wrong."""
    if text is None:
        return None
    from svccheck.engine.shard import Shard
    from svccheck.errors import UsageError

    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise UsageError(f"--shard: {exc}") from None


__all__ = [
    "BASELINE",
    "COLOR",
    "DEFAULT_MANIFEST",
    "DISPLAY",
    "MANIFEST",
    "OUTPUTS",
    "PROBING",
    "SELECTION",
    "OptionGroup",
    "ServeStrictOpt",
    "command",
    "duration",
]
