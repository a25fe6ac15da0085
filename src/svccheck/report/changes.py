"""Pure: the words every format uses for a run's changes since a baseline (`--baseline`, `diff`).

The comparison itself is made before any renderer (modes/compare.py) and held
in `Report.changes`; here it is only said: a summary line, what `--fail-on new`
did to the exit code, one line per change, and what could not be matched.
"""

from __future__ import annotations

from svccheck.listing import cut
from svccheck.model import Change, Changes, CheckChange, Report
from svccheck.redact import Redactor

_MAX_UNMATCHED = 5
# the order a summary counts them in: what breaks a deploy first
ORDER = (
    Change.NEW_FAILURE,
    Change.STILL_FAILING,
    Change.NEW_WARNING,
    Change.LATENCY_REGRESSED,
    Change.CERTIFICATE_DAYS_DROPPED,
    Change.RECOVERED,
    Change.ADDED,
    Change.REMOVED,
)


def summary_line(changes: Changes, redactor: Redactor) -> str:
    """`since last.json (2026-11-28T06:00:00+00:00, eu-west): 1 newly failing · 6 checks matched`."""
    where = ", ".join(p for p in (changes.baseline_started_at, changes.baseline_location or "") if p)
    counts = [f"{changes.count(c)} {c.words}" for c in ORDER if changes.count(c)]
    said = ", ".join(counts) if counts else "nothing changed"
    line = f"since {changes.baseline} ({where}): {said} · {changes.matched} checks matched"
    return redactor.text(line)


def fail_on_line(report: Report) -> str | None:
    """With `--fail-on new` (and in `diff`): how many failures were already there, and what gates."""
    changes = report.changes
    if changes is None or changes.fail_on != "new":
        return None
    old, new = changes.already_failing, len(changes.gating)
    were = "failure was" if old == 1 else "failures were"
    already = f"{old} {were} already failing in the baseline"
    if new:
        verb = "fails" if new == 1 else "fail"
        return f"{new} new critical failure{'s' if new != 1 else ''} {verb} the run; {already}"
    return f"no new critical failure: {already}"


def change_line(item: CheckChange, redactor: Redactor) -> str:
    """`newly failing: billing/health — expected status 2xx, got 503`."""
    text = f"{item.change.words}: {item.service}/{item.check}"
    if not item.critical and item.change in (Change.NEW_FAILURE, Change.STILL_FAILING):
        text += " (non-critical)"
    if item.detail:
        text += f" — {item.detail}"
    return redactor.text(text)


def unmatched_line(changes: Changes, redactor: Redactor) -> str | None:
    """What the baseline could not be matched with, by service and check name; None: everything matched."""
    added = [f"{i.service}/{i.check}" for i in changes.items if i.change is Change.ADDED]
    removed = [f"{i.service}/{i.check}" for i in changes.items if i.change is Change.REMOVED]
    parts = []
    if added:
        parts.append(f"not in the baseline: {cut(added, _MAX_UNMATCHED)}")
    if removed:
        parts.append(f"only in the baseline: {cut(removed, _MAX_UNMATCHED)}")
    if not parts:
        return None
    line = "could not match " + "; ".join(parts)
    return redactor.text(line)


def marks(report: Report) -> dict[tuple[str, str], str]:
    """Per check, the words of its changes (`newly failing, latency regressed`), for a cell or a title."""
    if report.changes is None:
        return {}
    out: dict[tuple[str, str], list[str]] = {}
    for item in report.changes.items:
        if item.change is not Change.REMOVED:
            out.setdefault(item.key, []).append(item.change.words)
    return {key: ", ".join(words) for key, words in out.items()}


__all__ = ["ORDER", "change_line", "fail_on_line", "marks", "summary_line", "unmatched_line"]
