"""What the command line asked for, one frozen dataclass per option group, for the core.

Each group is declared once as options (`svccheck.cli.options`) and built once
per run; the core (`modes/checking.py` and the other modes) reads these typed
values, never the command line. Durations are already seconds here: a bad one was a usage error
before anything was loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svccheck.engine.prober import ProbeSettings
    from svccheck.engine.run import Selection as ServiceSelection
    from svccheck.model import FailOn


@dataclass(frozen=True)
class Selection:
    """The manifest and which of its services: -f, --env, --var, NAMEs, --only, --tag, --skip."""

    manifest: Path
    env: str | None = None
    variables: tuple[tuple[str, str], ...] = ()  # --var KEY=VALUE, in order (a later one wins)
    names: tuple[str, ...] = ()  # `check NAME...`
    only: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()

    def services(self) -> ServiceSelection:
        from svccheck.engine.run import Selection as ServiceSelection

        return ServiceSelection(names=[*self.names, *self.only], tags=self.tags, skip=self.skip)


@dataclass(frozen=True)
class Probing:
    """How each check is probed: --concurrency, --request-timeout, --retries, --insecure."""

    concurrency: int = 100
    request_timeout: float | None = None  # seconds; None: the manifest's
    retries: int | None = None  # None: the manifest's
    insecure: bool = False

    def probe_settings(self) -> ProbeSettings:
        from svccheck.engine.prober import ProbeSettings

        return ProbeSettings(
            concurrency=self.concurrency,
            request_timeout=self.request_timeout,
            retries=self.retries,
            insecure=self.insecure,
        )


@dataclass(frozen=True)
class Outputs:
    """Where the report goes: --format on stdout, --NAME FILE for each format, --github; and
    --location, the name of where the run probed from, recorded in every report."""

    format: str = "table"  # "table" or a name in report.formats.FORMATS
    files: tuple[tuple[str, Path], ...] = ()  # (format name, FILE), in the registry's order
    github: bool | None = None  # None: on when GITHUB_ACTIONS=true
    location: str | None = None  # --location NAME: the report's `location`, Prometheus's label
    otlp: str | None = None  # --otlp URL: a span per check to this OTLP/HTTP collector

    @property
    def table(self) -> bool:
        return self.format == "table"


@dataclass(frozen=True)
class Baseline:
    """--baseline FILE and --fail-on: the saved report this run is compared with, and what then fails it."""

    path: Path | None = None  # a JSON report of an earlier run, from any command
    fail_on: FailOn = "any"  # "new": exit 1 only for critical checks that did not fail in the baseline


@dataclass(frozen=True)
class Display:
    """How the table looks: --verbose, --quiet, --no-color."""

    verbose: bool = False
    quiet: bool = False
    no_color: bool = False


@dataclass(frozen=True)
class Run:
    """One run of the checks (`all`, `check`, `demo`): its bound, its judging, what the table adds."""

    deadline: float | None = None  # --timeout: seconds for the whole command
    strict: bool = False
    story: bool = False  # `check NAME -v`: the whole story of each check before the table
    reproduce: str | None = None  # command template with {name} suggested under a failing table

    def deadline_from(self, started: float) -> float | None:
        """The monotonic time the whole command must end by, counted from `started`."""
        return None if self.deadline is None else started + self.deadline


__all__ = ["Baseline", "Display", "Outputs", "Probing", "Run", "Selection"]
