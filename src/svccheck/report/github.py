"""GitHub Actions: workflow-command annotations and the job summary.

``::error title=SERVICE / CHECK::REASON`` for each failing check and
``::warning ...`` for each warning (an error under ``--strict``), escaped as
the runner expects: ``%``, CR and LF in the message; those and ``:`` and ``,``
in properties. The Markdown report is appended to ``$GITHUB_STEP_SUMMARY``.

With ``--baseline`` each title ends with what changed (``(newly failing)``), a
passing check that changed (recovered, slower) gets a ``::notice``, and under
``--fail-on new`` a failure already in the baseline is a ``::warning``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from svccheck.model import Change, Report, Verdict
from svccheck.redact import Redactor
from svccheck.report import changes as words


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(report: Report, redactor: Redactor) -> list[str]:
    lines = []
    strict = frozenset(report.strict_failures)  # warnings that fail the run (--strict)
    marks = words.marks(report)
    tolerated = _tolerated(report)
    for service in report.services:
        for result in service.checks:
            key = result.check.key
            if key in tolerated:  # --fail-on new: an old failure is shown, but does not fail the run
                command = "warning"
            elif result.verdict is Verdict.FAIL or key in strict:
                command = "error"
            elif result.verdict is Verdict.WARN:
                command = "warning"
            # recovered, slower, a certificate nearer its end; a merged pass some locations failed
            elif _noted(report, key) or result.reason:
                command = "notice"
            else:
                continue
            title = f"{service.service.name} / {result.check.name}"
            if key in marks:
                title += f" ({marks[key]})"
            message = result.reason or _details(report, key) or str(result.verdict)
            if result.failure_class is not None:
                message = f"[{result.failure_class}] {message}"
            if service.root_cause:
                message += f" (likely root cause: {service.root_cause})"
            elif service.service.name in report.root_causes:
                message += " (root cause)"
            title, message = redactor.text(title), redactor.text(message)
            lines.append(f"::{command} title={escape_property(title)}::{escape_data(message)}")
    return lines


def _tolerated(report: Report) -> frozenset[tuple[str, str]]:
    changes = report.changes
    if changes is None or changes.fail_on != "new":
        return frozenset()
    return frozenset(
        i.key for i in changes.items if i.change is Change.STILL_FAILING and i.now is Verdict.FAIL
    )


def _noted(report: Report, key: tuple[str, str]) -> bool:
    return report.changes is not None and any(i.change is not Change.ADDED for i in report.changes.of(key))


def _details(report: Report, key: tuple[str, str]) -> str:
    """What changed in a passing check (`12ms → 480ms (×40.0)`), for its notice."""
    if report.changes is None:
        return ""
    return "; ".join(f"{i.change.words}: {i.detail}" for i in report.changes.of(key) if i.detail)


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
