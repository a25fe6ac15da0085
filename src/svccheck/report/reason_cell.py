"""A check's reason as a cell of a marked-up report (Markdown, HTML): one wording, each format's markup.

The wording is the table's (`report.table`): recovered, ready after, a merged pass's
disagreement, the failure class, "non-critical:", and the root cause it fails because of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from svccheck.model import CheckResult, ServiceResult, Verdict
from svccheck.redact import Redactor


@dataclass(frozen=True, slots=True)
class Markup:
    escape: Callable[[str], str]  # plain text made safe in the format
    code: Callable[[str], str]  # a failure class
    strong: Callable[[str], str]  # a root cause's name


def reason_cell(
    service: ServiceResult,
    result: CheckResult,
    redactor: Redactor,
    markup: Markup,
    *,
    causes: tuple[str, ...] = (),
) -> str:
    """The reason, redacted then escaped; a service among `causes` is marked as a root cause."""
    if result.recovered:
        return "recovered after retries"
    if result.ready_after is not None:
        return f"ready after {result.ready_after:.1f}s"
    text = markup.escape(redactor.text(result.reason or ""))
    if result.verdict is Verdict.PASS:  # a pass has no reason, but a merged one names who disagreed
        return text
    if result.failure_class is not None:
        text = f"{markup.code(str(result.failure_class))} {text}"
    if not service.service.critical and any(not f.warn_only for f in result.failures):
        text = f"non-critical: {text}"
    if service.root_cause:
        text += f" (caused by {markup.strong(markup.escape(redactor.text(service.root_cause)))})"
    elif service.service.name in causes:
        text += f" {markup.strong('(root cause)')}"
    return text


__all__ = ["Markup", "reason_cell"]
