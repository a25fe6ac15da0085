"""GitHub Actions: workflow-command annotations and the job summary.

``::error title=SERVICE / CHECK::REASON`` for each failing check and
``::warning ...`` for each warning (an error under ``--strict``), escaped as
the runner expects: ``%``, CR and LF in the message; those and ``:`` and ``,``
in properties. The Markdown report is appended to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from svccheck.model import Report, Verdict
from svccheck.redact import Redactor


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(report: Report, redactor: Redactor) -> list[str]:
    lines = []
    strict = frozenset(report.strict_failures)  # warnings that fail the run (--strict)
    for service in report.services:
        for result in service.checks:
            if result.verdict is Verdict.FAIL or result.check.key in strict:
                command = "error"
            elif result.verdict is Verdict.WARN:
                command = "warning"
            else:
                continue
            title = f"{service.service.name} / {result.check.name}"
            message = result.reason or str(result.verdict)
            if result.failure_class is not None:
                message = f"[{result.failure_class}] {message}"
            if service.root_cause:
                message += f" (likely root cause: {service.root_cause})"
            elif service.service.name in report.root_causes:
                message += " (root cause)"
            title, message = redactor.text(title), redactor.text(message)
            lines.append(f"::{command} title={escape_property(title)}::{escape_data(message)}")
    return lines


def enabled(flag: bool | None, environ: Mapping[str, str] | None = None) -> bool:
    """`--github` / `--no-github` win; otherwise on when running in GitHub Actions."""
    if flag is not None:
        return flag
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


def append_step_summary(markdown: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append to the file `$GITHUB_STEP_SUMMARY` names; None when it is not set."""
    env = os.environ if environ is None else environ
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return path


__all__ = ["append_step_summary", "enabled", "escape_data", "escape_property", "workflow_commands"]
