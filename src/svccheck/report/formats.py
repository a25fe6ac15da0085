"""The machine formats by name: one call for stdout and for every report file."""

from __future__ import annotations

from svccheck.model import Report
from svccheck.redact import Redactor

MACHINE_FORMATS = ("json", "junit", "markdown", "prometheus")


def render(name: str, report: Report, redactor: Redactor) -> str:
    if name == "json":
        from svccheck.report import json

        return json.render(report, redactor)
    if name == "junit":
        from svccheck.report import junit

        return junit.render(report, redactor)
    if name == "markdown":
        from svccheck.report import markdown

        return markdown.render(report, redactor)
    if name == "prometheus":
        from svccheck.report.prometheus import render_prometheus

        return render_prometheus(report, redactor)
    raise ValueError(f"unknown report format {name!r}")


__all__ = ["MACHINE_FORMATS", "render"]
