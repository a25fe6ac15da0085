"""Fuzzing the renderers with hostile text: whatever a service or a manifest sends, no view obeys it.

Hypothesis builds reports whose check names, reasons, component names and
messages, response headers and bodies are made of escape sequences, C0/C1
controls, bidi overrides, rich markup and emoji codes, then renders every
view on a colour terminal console (the live `watch` and `wait` tables included)
and every machine format: none may raise, and no hostile control may come out.
"""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from support.sample_reports import make_check, result
from svccheck.engine.run import build_report
from svccheck.judge.health import Component
from svccheck.model import Answer, Manifest, Report, Service, Verdict
from svccheck.modes.watch import live_table, summary
from svccheck.modes.watch_state import Session
from svccheck.neutral import break_commands, neutralise, neutralise_block
from svccheck.redact import Redactor
from svccheck.report import formats, story, table
from test_hostile_edges import runner_commands, through_guard

PIECES = [
    "\x1b]0;pwned\x07",
    "\x1b]8;;http://evil.example/\x1b\\",
    "\x1b[2J",
    "\x1b[5A",
    "\x1b[31m",
    "\x00",
    "\x07",
    "\r",
    "\n",
    "\t",
    "\x9b",
    "\x85",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u2028",
    "[/]",
    "[link=http://evil.example/]x[/link]",
    "[bold red]",
    ":x:",
    "::error title=FAKE::",
    "\xa0",  # .NET's TrimStart() trims a no-break space and U+3000 before looking for `::`
    "\u3000",
    "#",
    "##[error]",  # the runner's legacy command form, read anywhere in a line
    "%0A",
    "\\",
    "é",
    "名",
]
hostile = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=8).map("".join)

# What may never reach a terminal from foreign text (rich's own SGR codes are allowed).
_FORBIDDEN = re.compile(
    "\x1b\\]|\x1b\\[2J|\x1b\\[5A|\x00|\x07|[\x80-\x9f]|[\u202a-\u202e\u2066-\u2069\u200b\u2028\ufeff]"
)
_OWN_SGR = re.compile("\x1b\\[[0-9;]*m")


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(
        file=out, force_terminal=True, color_system="truecolor", width=100, markup=False, emoji=False
    )
    return console, out


def hostile_report(name: str, reason: str, component: str, message: str, header: str, body: str) -> Report:
    check = make_check("api", name, kind="health")
    answer = Answer(
        status_text="HTTP 503",
        status_code=503,
        headers=(("x-hostile", header), (header or "x", "v")),
        body=body.encode("utf-8", "surrogatepass"),
        truncated=False,
        latency=0.01,
        version="HTTP/1.1",
        url="http://127.0.0.1:1/x",
    )
    failing = result(check, Verdict.FAIL, reason=reason, status=503)
    from dataclasses import replace

    failing = replace(
        failing, components=(Component(component, "fail", component, message),), response=answer
    )
    service = Service("api", "http://127.0.0.1:1", True, (), (), (check,))
    return build_report(
        [service],
        {check.key: failing},
        duration=0.1,
        started_at="2026-12-01T00:00:00+00:00",
        manifest_path="services.yaml",
        strict=False,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile, hostile, hostile, hostile, hostile, hostile)
def test_no_view_obeys_hostile_text(
    name: str, reason: str, component: str, message: str, header: str, body: str
) -> None:
    report = hostile_report(name, reason, component, message, header, body)
    redactor = Redactor()
    manifest = Manifest("services.yaml", tuple(s.service for s in report.services))
    console, out = terminal()
    console.print(table.render(report, redactor, verbose=True))
    console.print(story.render(report, manifest, redactor), soft_wrap=True)
    session = Session(started=0.0)
    session.record(report, now=1.0)
    console.print(live_table(session, redactor, 1.0, 2.0))
    console.print(summary(session, redactor, interval=1.0, now=2.0))
    shown = _OWN_SGR.sub("", out.getvalue())
    assert not _FORBIDDEN.search(shown), repr(shown)
    for fmt in ("json", "junit", "markdown", "prometheus"):
        text = formats.render(fmt, report, redactor)
        assert not _FORBIDDEN.search(text.replace("\n", "")), (fmt, text)


@given(hostile)
def test_neutralised_text_is_one_inert_line_and_stable(text: str) -> None:
    once = neutralise(text)
    assert "\n" not in once and "\r" not in once and not _FORBIDDEN.search(once)
    assert neutralise(once) == once
    block = neutralise_block(text)
    assert "\r" not in block and not _FORBIDDEN.search(block)


@given(st.lists(hostile, max_size=6))
def test_no_line_through_the_guard_starts_a_workflow_command(writes: list[str]) -> None:
    logged = through_guard(writes)
    assert not runner_commands(logged), logged
    # nothing lost, only marked
    assert logged.replace("›::", "::").replace("##›[", "##[") == "".join(writes)
    assert break_commands("a\n  ::x") == "a\n  ›::x"
