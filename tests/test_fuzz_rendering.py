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

from support.hostile import FORBIDDEN, PIECES, hostile_report, runner_commands, through_guard
from svccheck.model import Manifest
from svccheck.modes.watch import live_table, summary
from svccheck.modes.watch_state import Session
from svccheck.neutral import break_commands, neutralise, neutralise_block
from svccheck.redact import Redactor
from svccheck.report import formats, story, table

hostile = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=8).map("".join)

_OWN_SGR = re.compile("\x1b\\[[0-9;]*m")


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(
        file=out, force_terminal=True, color_system="truecolor", width=100, markup=False, emoji=False
    )
    return console, out


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
    assert not FORBIDDEN.search(shown), repr(shown)
    for fmt in ("json", "junit", "markdown", "prometheus"):
        text = formats.render(fmt, report, redactor)
        assert not FORBIDDEN.search(text.replace("\n", "")), (fmt, text)


@given(hostile)
def test_neutralised_text_is_one_inert_line_and_stable(text: str) -> None:
    once = neutralise(text)
    assert "\n" not in once and "\r" not in once and not FORBIDDEN.search(once)
    assert neutralise(once) == once
    block = neutralise_block(text)
    assert "\r" not in block and not FORBIDDEN.search(block)


@given(st.lists(hostile, max_size=6))
def test_no_line_through_the_guard_starts_a_workflow_command(writes: list[str]) -> None:
    logged = through_guard(writes)
    assert not runner_commands(logged), logged
    # nothing lost, only marked
    assert logged.replace("›::", "::").replace("##›[", "##[") == "".join(writes)
    assert break_commands("a\n  ::x") == "a\n  ›::x"
