"""The machine formats: one registry, from which the CLI builds `--format` and the `--NAME FILE` options.

Adding a format is one module with `render(report, redactor) -> str` and one
entry below; the CLI's choices and options, and the contract tests
(tests/test_report_formats.py), follow from the entry. Each renderer is
imported by module name on first use, so a JSON run never imports another
format's renderer nor, through it, rich's tables.

The table is not here: it is written to a console, not rendered to text, and
is `--format`'s default, not a file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the CLI reads the registry at start-up, before any report exists
    from svccheck.model import Report
    from svccheck.redact import Redactor

Renderer = Callable[["Report", "Redactor"], str]


class Format(NamedTuple):  # immutable like a frozen dataclass, at a fifth of its start-up cost (~0.3 ms)
    name: str  # `--format NAME` and `--NAME FILE`
    module: str  # holds `render(report, redactor) -> str`; imported on first use
    file_help: str  # the help of `--NAME FILE`

    def render(self, report: Report, redactor: Redactor) -> str:
        renderer: Renderer = importlib.import_module(self.module).render
        return renderer(report, redactor)


FORMATS: tuple[Format, ...] = (
    Format("json", "svccheck.report.json", "Also write the JSON report to FILE."),
    Format("junit", "svccheck.report.junit", "Also write a JUnit XML report to FILE."),
    Format("markdown", "svccheck.report.markdown", "Also write a Markdown summary to FILE."),
    Format("prometheus", "svccheck.report.prometheus", "Also write Prometheus text metrics to FILE."),
    Format("html", "svccheck.report.html", "Also write a self-contained HTML report to FILE."),
)
MACHINE_FORMATS = tuple(f.name for f in FORMATS)


def named(name: str) -> Format:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise ValueError(f"unknown report format {name!r}")


def render(name: str, report: Report, redactor: Redactor) -> str:
    return named(name).render(report, redactor)


__all__ = ["FORMATS", "MACHINE_FORMATS", "Format", "Renderer", "named", "render"]
