"""Every view readable at 80×24 (#15): columns drop as the terminal narrows, words never do."""

from __future__ import annotations

import json

import pytest
from rich.text import Text

from support.cli import run_cli
from support.emulator import seen
from support.terminal import run_on_terminal
from svccheck.report.layout import Column, fit
from svccheck.report.table import COLUMNS


@pytest.fixture(scope="module")
def outage_reasons() -> list[tuple[str, str, str]]:
    """(verdict, check, reason) of every check that did not pass in the outage demo."""
    result = run_cli("demo", "--scenario", "outage", "--format", "json", timeout=120)
    report = json.loads(result.stdout)
    return [
        (check["verdict"].upper(), check["name"], check["reason"])
        for service in report["services"]
        for check in service["checks"]
        if check["verdict"] != "pass"
    ]


@pytest.mark.parametrize(("columns", "lines"), [(80, 24), (100, 30), (120, 40), (200, 50)])
def test_every_word_of_every_reason_is_on_the_screen(
    outage_reasons: list[tuple[str, str, str]], columns: int, lines: int
) -> None:
    screen = seen(
        run_on_terminal("demo", "--scenario", "outage", columns=columns, lines=lines), columns, lines
    )
    assert all(len(line) <= columns for line in screen)
    words = {word for line in screen for word in line.split()}
    # a word wider than any reason column this width allows (a URL in a component's message, with the
    # service names kept whole) folds; every character of it is still there, in order
    unbroken = "".join("".join(screen).split())
    reason_room = columns - len("FAIL  notification-service  templates  ")
    assert outage_reasons
    for verdict, _check, reason in outage_reasons:
        missing = [word for word in reason.split() if word not in words]
        folded = [word for word in missing if len(word) > reason_room and word in unbroken]
        assert missing == folded, (reason, missing, "\n".join(screen))
        assert any(line.startswith(verdict) for line in screen), verdict
    # a name is never broken in two
    assert any(line.strip() == "↳ caused by payment-service" for line in screen), "\n".join(screen)


def test_a_piped_table_has_no_trailing_spaces() -> None:
    result = run_cli("demo", "--scenario", "outage", "-v", timeout=120)
    lines = result.stdout.splitlines()
    assert len(lines) > 20
    assert [line for line in lines if line != line.rstrip()] == []


def _row(reason: str) -> dict[str, Text | str]:
    return {
        "verdict": "FAIL",
        "service": "payment-service",
        "check": "payment methods",
        "status": "503",
        "latency": "25ms",
        "tries": "3",
        "reason": reason,
    }


REASON = "[status] expected status 200, got 503 (3 attempts, +2 more failures)"


def test_wide_terminal_keeps_every_column() -> None:
    widths = fit(COLUMNS, [_row(REASON)], 200)
    assert list(widths) == [c.key for c in COLUMNS]
    assert widths["reason"] == len(REASON)


def test_columns_go_in_their_drop_order_as_the_terminal_narrows() -> None:
    kept = [list(fit(COLUMNS, [_row(REASON)], width)) for width in (120, 85, 75, 60)]
    assert kept[0] == [c.key for c in COLUMNS]
    dropped = [sorted(set(kept[0]) - set(k)) for k in kept]
    assert dropped[1] == ["tries"]
    assert dropped[2] == ["status", "tries"]
    assert dropped[-1] == ["latency", "status", "tries"]
    for k in kept:  # the verdict, the names and the reason always stay
        assert {"verdict", "service", "check", "reason"} <= set(k)


def test_a_column_never_dropped_and_never_wrapped_keeps_its_width() -> None:
    columns = (Column("a", "a"), Column("b", "b", flex=True, wraps=True))
    widths = fit(columns, [{"a": "x" * 30, "b": "word " * 20}], 40)
    assert widths["a"] == 30


def test_list_at_80_columns_breaks_no_name_and_no_url() -> None:
    from pathlib import Path

    manifest = str(Path(__file__).parents[1] / "src" / "svccheck" / "demo" / "services.yaml")
    screen = seen(run_on_terminal("list", "-f", manifest, columns=80, lines=24), 80, 24)
    text = "\n".join(screen)
    for name in ("api-gateway", "notification-service", "scheduler-service"):
        assert any(line.split()[:1] == [name] for line in screen), text
    for port in range(8080, 8091):
        assert f"http://localhost:{port}" in text, text
    assert all(len(line) <= 80 for line in screen)
