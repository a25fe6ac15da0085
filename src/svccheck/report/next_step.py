"""Pure: where to look first after a failing run, and the command that shows it in detail.

For each root cause: what inside it is broken (its failing health components,
or its first failure) and which services fail because of it. Without a root
cause, the first failing service. Each with a command to dig in. When no
check got a connection, the host is the suspect, not a service.
"""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

from svccheck.listing import cut
from svccheck.model import Report, ServiceResult, Verdict
from svccheck.redact import Redactor

DEFAULT_MANIFEST = "services.yaml"
_MAX_DEPENDENTS = 4
_MAX_COMPONENTS = 3
_MAX_HOSTS = 3
_MAX_STRICT = 4  # warnings named in the --strict line


def reproduce_command(report: Report) -> str:
    """`svccheck check {name} -v`, with `-f` when the manifest is not the default one."""
    path = report.manifest_path
    manifest = "" if path in ("", DEFAULT_MANIFEST) else f" -f {shlex.quote(path)}"
    return "svccheck check {name} -v" + manifest


def next_steps(report: Report, redactor: Redactor, reproduce: str | None = None) -> list[str]:
    """Lines for under the table; `reproduce` is a template with `{name}` ("" for none)."""
    if report.nothing_answered:
        return [nothing_answered_line(report, redactor)]
    template = reproduce_command(report) if reproduce is None else reproduce
    by_name = {r.service.name: r for r in report.services}
    lines: list[str] = []
    for cause in report.root_causes:
        result = by_name.get(cause)
        if result is None:
            continue
        dependents = [redactor.text(r.service.name) for r in report.services if r.root_cause == cause]
        line = f"root cause: {redactor.text(cause)}"
        broken = _what_is_broken(result, redactor)
        if broken:
            line += f" — {broken}"
        if dependents:
            shown = cut(dependents, _MAX_DEPENDENTS)
            # skipped for want of its token or capture, not failing (#16)
            skipped = all(r.verdict is Verdict.SKIP for r in report.services if r.root_cause == cause)
            verb = (
                ("is" if len(dependents) == 1 else "are") + " skipped"
                if skipped
                else ("fails" if len(dependents) == 1 else "fail")
            )
            line += f"; {shown} {verb} because of it"
        lines.append(line)
        # a token request (`auth:smoke`, a ':' no service name has) is told by the story of a
        # service that used it: `check` takes manifest services only
        closer = dependents[0] if ":" in cause and dependents else redactor.text(cause)
        if template and (":" not in closer):
            lines.append("  look closer: " + template.replace("{name}", closer))
    if not lines:
        failing = next((r for r in report.services if r.verdict is Verdict.FAIL), None)
        if failing is not None:
            broken = _what_is_broken(failing, redactor)
            name = redactor.text(failing.service.name)
            lines.append(f"look first: {name}" + (f" — {broken}" if broken else ""))
            if template:
                lines.append("  look closer: " + template.replace("{name}", name))
    return lines


def strict_line(report: Report, redactor: Redactor) -> str | None:
    """`2 warnings fail the run (--strict): a/health, b/health`: why a run of warnings exits 1 (#14)."""
    keys = report.strict_failures
    if not keys:
        return None
    shown = cut([f"{service}/{check}" for service, check in keys], _MAX_STRICT)
    also = " also" if report.verdict is Verdict.FAIL else ""
    verb = "fails" if len(keys) == 1 else "fail"
    noun = "warning" if len(keys) == 1 else "warnings"
    return redactor.text(f"{len(keys)} {noun}{also} {verb} the run (--strict): {shown}")


def nothing_answered_line(report: Report, redactor: Redactor) -> str:
    """`no service answered: is the host up, is it the right host (localhost)?`, for every format."""
    hosts = list(dict.fromkeys(_host(c.check.url) for r in report.services for c in r.checks))
    shown = cut(hosts, _MAX_HOSTS)
    question = "is the host up, is it the right host" if len(hosts) == 1 else "are the hosts up and right"
    return redactor.text(f"no service answered: {question} ({shown})?")


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:  # an unparseable URL never got this far, but the footer must not crash on one
        return url


def _what_is_broken(result: ServiceResult, redactor: Redactor) -> str:
    for check in result.checks:
        failing = [c for c in check.components if c.status == "fail"]
        if check.verdict is Verdict.FAIL and failing:
            parts = []
            for component in failing:
                text = f"component {component.name}: {component.raw_status}"
                if component.message:
                    text += f" ({component.message})"
                parts.append(text)
            return redactor.text(cut(parts, _MAX_COMPONENTS))  # says how many it left out (#16)
    first = next((c for c in result.checks if c.verdict is Verdict.FAIL and c.reason), None)
    return redactor.text(f"{first.check.name}: {first.reason}") if first is not None and first.reason else ""
