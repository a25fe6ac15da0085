"""What `GET /probe` on `serve` answers: the probed services' Prometheus text, blackbox-style.

The same families, names and labels as `/metrics` (`report.prometheus`), plus:

- ``svccheck_probe_success{service}``: 1 when every check of the service
  passed or only warned, 0 when one failed; a 0 carries the failing check's
  ``class`` (`timeout`, `status`, `deadline`…), the reason blackbox's
  ``probe_success`` never gives. A non-critical service that fails is 0 too:
  the scrape config's `critical` label decides what pages.
- ``svccheck_probe_duration_seconds``: how long the probe took, as a whole;
- ``svccheck_probe_component_up{service,check,component}``: each component a
  health check read (1 pass or warn, 0 fail), so a red `db` inside a 503 is a
  series of its own (the health readers cap how many a body may name).
"""

from __future__ import annotations

from svccheck.model import CheckResult, Report, ServiceResult, Verdict
from svccheck.redact import Redactor
from svccheck.report.prometheus import Family, Sample, families, render_family


def render_probe(report: Report, redactor: Redactor) -> str:
    extra = [
        Family(
            "svccheck_probe_success",
            "1 when every check of the service passed or only warned, 0 when one failed (with its class).",
            tuple(_success(r, redactor) for r in report.services),
        ),
        Family(
            "svccheck_probe_duration_seconds",
            "How long the probe took, in seconds.",
            (Sample((), report.summary.duration),),
        ),
        Family(
            "svccheck_probe_component_up",
            "1 when the component the health check read passed or warned, 0 when it failed.",
            tuple(
                Sample(
                    (
                        ("service", redactor.text(r.service.name)),
                        ("check", redactor.text(c.check.name)),
                        ("component", redactor.text(component.name)),
                    ),
                    0.0 if component.status == "fail" else 1.0,
                )
                for r in report.services
                for c in r.checks
                for component in c.components
            ),
        ),
    ]
    return "".join(
        render_family(f) for f in [*families(report, redactor), *_located(extra, report, redactor)]
    )


def _success(result: ServiceResult, redactor: Redactor) -> Sample:
    labels: tuple[tuple[str, str], ...] = (("service", redactor.text(result.service.name)),)
    failed = next((c for c in result.checks if _failed(c)), None)
    if failed is None:
        return Sample(labels, 1.0)
    if failed.failure_class is not None:
        labels = (*labels, ("class", str(failed.failure_class)))
    return Sample(labels, 0.0)


def _located(built: list[Family], report: Report, redactor: Redactor) -> list[Family]:
    """With `--location`, a `location` label first on every series, as `report.prometheus` puts it."""
    if report.location is None:
        return built
    where = ("location", redactor.text(report.location))
    return [
        Family(f.name, f.help, tuple(Sample((where, *s.labels), s.value) for s in f.samples)) for f in built
    ]


def _failed(result: CheckResult) -> bool:
    """Failed as a probe: any failure that is not a warning, critical service or not."""
    return result.verdict is not Verdict.SKIP and any(not f.warn_only for f in result.failures)


__all__ = ["render_probe"]
