"""Prometheus text exposition (format 0.0.4) of one run.

Fit for the node-exporter textfile collector or a Pushgateway push. Every
metric is a gauge: a run is a snapshot, not a counter that grows.

Per check (labels ``service`` and ``check``):

- ``svccheck_check_up``: 1 for pass/warn, 0 for fail; a failing check also
  carries ``class`` (the failure class). A skipped check (cut short by a
  signal) has no ``up`` sample: nothing is known about it.
- ``svccheck_check_verdict{verdict=...}``: 1 for the check's verdict, 0 for the others.
- ``svccheck_check_latency_seconds``: latency of the last attempt, when there was an answer.
- ``svccheck_check_attempts``: attempts made.

Per run: ``svccheck_run_timestamp_seconds``, ``svccheck_run_duration_seconds``
and ``svccheck_run_exit_code``.

With ``--location NAME`` every series, per check and per run, also carries ``location``.

The text format is small enough to write directly (the tests read it back with
``prometheus_client``'s parser); doing so keeps a client library out of every install.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from svccheck.model import CheckResult, Report, Verdict
from svccheck.redact import Redactor

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Sample:
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    help: str
    samples: tuple[Sample, ...]


def render_prometheus(report: Report, redactor: Redactor | None = None) -> str:
    """The whole exposition, HELP and TYPE lines included, ending with a newline.

    Label values (service and check names) go through `redactor`; without one,
    only what is secret by its place (URL passwords) is masked.
    """
    return "".join(render_family(f) for f in families(report, redactor or Redactor()))


def render(report: Report, redactor: Redactor) -> str:
    """The registry's one renderer signature (report/formats.py)."""
    return render_prometheus(report, redactor)


def families(report: Report, redactor: Redactor) -> list[Family]:
    """Every family; with the report's `location` (`--location`), a `location` label on every series,
    so runs from several places can share one Prometheus without their series colliding."""
    built = _families(report, redactor)
    if report.location is None:
        return built
    where = ("location", redactor.text(report.location))
    return [
        Family(f.name, f.help, tuple(Sample((where, *s.labels), s.value) for s in f.samples)) for f in built
    ]


def _families(report: Report, redactor: Redactor) -> list[Family]:
    checks = [(r.service.name, c) for r in report.services for c in r.checks]
    return [
        Family(
            "svccheck_check_up",
            "1 when the check passed or only warned, 0 when it failed; failures carry their class.",
            tuple(_up(service, c, redactor) for service, c in checks if c.verdict is not Verdict.SKIP),
        ),
        Family(
            "svccheck_check_verdict",
            "1 for the check's verdict (pass, warn, fail, skip), 0 for the others.",
            tuple(
                Sample((*_labels(service, c, redactor), ("verdict", str(v))), 1.0 if c.verdict is v else 0.0)
                for service, c in checks
                for v in Verdict
            ),
        ),
        Family(
            "svccheck_check_latency_seconds",
            "Latency of the check's last attempt, in seconds.",
            tuple(
                Sample(_labels(service, c, redactor), c.latency)
                for service, c in checks
                if c.latency is not None
            ),
        ),
        Family(
            "svccheck_check_attempts",
            "Attempts the check took (more than 1: retried).",
            tuple(Sample(_labels(service, c, redactor), float(c.attempts)) for service, c in checks),
        ),
        Family(
            "svccheck_run_timestamp_seconds",
            "When the run started, in seconds since the Unix epoch.",
            (Sample((), _epoch(report.started_at)),),
        ),
        Family(
            "svccheck_run_duration_seconds",
            "How long the run took, in seconds.",
            (Sample((), report.summary.duration),),
        ),
        Family(
            "svccheck_run_exit_code",
            "The run's exit code: 0 ok, 1 failed, 130 interrupted, 143 terminated.",
            (Sample((), float(report.exit_code)),),
        ),
    ]


def _labels(service: str, result: CheckResult, redactor: Redactor) -> tuple[tuple[str, str], ...]:
    return (("service", redactor.text(service)), ("check", redactor.text(result.check.name)))


def _up(service: str, result: CheckResult, redactor: Redactor) -> Sample:
    labels = _labels(service, result, redactor)
    if result.verdict is Verdict.FAIL:
        if result.failure_class is not None:
            labels = (*labels, ("class", str(result.failure_class)))
        return Sample(labels, 0.0)
    return Sample(labels, 1.0)


def _epoch(started_at: str) -> float:
    try:
        return datetime.fromisoformat(started_at).timestamp()
    except ValueError:
        return 0.0


def render_family(family: Family) -> str:
    lines = [f"# HELP {family.name} {escape_help(family.help)}", f"# TYPE {family.name} gauge"]
    lines.extend(f"{family.name}{_label_set(s.labels)} {format_value(s.value)}" for s in family.samples)
    return "\n".join(lines) + "\n"


def _label_set(labels: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in labels)
    return f"{{{inner}}}" if inner else ""


def escape_label_value(value: str) -> str:
    """Backslash, double quote and line feed are the three characters the format escapes."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(round(value, 6))


__all__ = [
    "CONTENT_TYPE",
    "Family",
    "Sample",
    "escape_label_value",
    "families",
    "render",
    "render_family",
    "render_prometheus",
]
