"""Hostile text is shown literally in every view: nothing a service or a manifest sends is obeyed.

A real loopback service answers with escape sequences, C1 controls, bidi
overrides and rich markup in its component names, messages, headers and body;
the manifest puts markup in check names and tags. Every view runs as the real
CLI on a real pseudo-terminal (colour on, the live views live), and the test
reads the bytes the terminal received: none of the hostile sequences may be
among them, and the hostile text must be there, visibly.

A CI log is the other terminal: there, no line may start with `::`, which the
GitHub Actions runner would execute as a workflow command.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.browser import opened
from support.cli import assert_no_traceback, run_cli
from support.hostile import FORBIDDEN as TERMINAL_FORBIDDEN
from support.servers import serving
from support.terminal import Screen, run_on_terminal
from svccheck.demo.server import Request, Response, json_response

TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title
CLEAR = "\x1b[2J\x1b[H"  # clears the screen mid-output
UP = "\x1b[5A"  # moves the cursor up: text overwrites earlier lines
C1_CSI = "\x9b2J"  # the one-byte C1 form of CSI
RLO = "\u202e"  # right-to-left override: "exe.gnp" reads as "png.exe"
LINK = "[link=http://evil.example/]db[/link]"
STYLED = "[bold red]x[/]"
EMOJI = ":x:"
CLOSE = "[/]"
HOSTILE = f"boom{TITLE}{CLEAR}{UP}\x00{C1_CSI}{RLO}gnp.exe"
# HTML that would run in the HTML report if it were not escaped
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</td><script>alert(2)</script>"


def as_latin1(text: str) -> str:
    """How the test server (which encodes headers as Latin-1) sends `text` as UTF-8 bytes."""
    return text.encode("utf-8").decode("latin-1")


async def hostile_health(request: Request) -> Response:
    components = {
        LINK: {"status": "DOWN", "details": {"error": HOSTILE}},
        CLOSE: {"status": "DOWN"},
        STYLED: {"status": "UP"},
        EMOJI: {"status": "UP"},
        f"ev{RLO}gnp.exe": {"status": "DOWN"},
        IMG: {"status": "DOWN", "details": {"error": f'{SCRIPT}"><b>'}},
    }
    response = json_response({"status": "DOWN", "components": components}, status=503)
    response.headers = {"X-Rtl": as_latin1(f"{RLO}gnp.exe"), "X-C1": as_latin1(C1_CSI), "X-Markup": LINK}
    return response


async def hostile_text(request: Request) -> Response:
    return Response(200, f"ok {HOSTILE}\nsecond line", {}, "text/plain; charset=utf-8")


async def healthy(request: Request) -> Response:
    return json_response({"status": "UP"})


@dataclass(frozen=True)
class Fleet:
    manifest: Path
    scratch: Path


def fleet_manifest(port: int, fine: int) -> str:
    return f"""
defaults: {{retries: 0, timeout: 2s}}
services:
  hostile:
    url: http://127.0.0.1:{port}
    tags: ["[beta]", "{EMOJI}"]
    health: /health
    checks:
      - {{name: "path a[/]b", path: /text}}
      - {{name: "list users [admin]", path: /text}}
      - {{name: "{SCRIPT}", path: /text}}
  fine:
    url: http://127.0.0.1:{fine}
    health: /health
  marked:
    url: http://127.0.0.1:{fine}
    tags: ["[beta]"]
    checks: [{{name: "path a[/]b", path: /health}}]
"""


async def hostile(request: Request) -> Response:
    return await (hostile_health(request) if request.path == "/health" else hostile_text(request))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    scratch = tmp_path_factory.mktemp("hostile")
    with serving(scratch, fleet_manifest, hostile, healthy) as manifest:
        yield Fleet(manifest, scratch)


@dataclass(frozen=True)
class Hostile:
    what: str
    sent: str
    shown: str  # what every view shows instead (the neutraliser's output; markup is shown as written)


# The table docs/reliability.md lists; each row is also checked against the neutraliser below.
HOSTILE_CASES = [
    Hostile("OSC: set the terminal's title", TITLE, "\\x1b]0;pwned\\x07"),
    Hostile("CSI: clear the screen, home the cursor", CLEAR, "\\x1b[2J\\x1b[H"),
    Hostile("CSI: move the cursor up 5 lines", UP, "\\x1b[5A"),
    Hostile("NUL, BEL, CR", "\x00\x07\r", "\\x00\\x07\\r"),
    Hostile("newline inside a one-line field", "a\nb", "a\\nb"),
    Hostile("C1 control (one-byte CSI)", C1_CSI, "\\x9b2J"),
    Hostile("bidi override (`exe.gnp` read as `png.exe`)", f"{RLO}gnp.exe", "\\u202egnp.exe"),
    Hostile("bidi isolate, zero-width space, line separator", "\u2066\u200b\u2028", "\\u2066\\u200b\\u2028"),
    Hostile("half a surrogate pair (JSON `\\ud800`; once a crash in every view)", "\ud800", "\\ud800"),
    Hostile("rich markup: a hyperlink", LINK, LINK),
    Hostile("rich markup: a style that hides its text", STYLED, STYLED),
    Hostile("rich markup: a closing tag alone (once a crash)", CLOSE, CLOSE),
    Hostile("an emoji code", EMOJI, EMOJI),
    Hostile("a header value in UTF-8 (once read as Latin-1)", as_latin1(f"{RLO}x"), "\\u202ex"),
]


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=[c.what for c in HOSTILE_CASES])
def test_the_neutraliser_shows_each_case_as_the_table_says(case: Hostile) -> None:
    from svccheck.neutral import neutralise

    sent = case.sent.encode("latin-1").decode("utf-8") if case.what.startswith("a header") else case.sent
    assert neutralise(sent) == case.shown


# Byte sequences that must never reach the terminal from a service or a manifest.
FORBIDDEN: dict[str, re.Pattern[bytes]] = {
    "a title-setting OSC": re.compile(re.escape(b"\x1b]0;pwned")),
    "a hyperlink (OSC 8)": re.compile(re.escape(b"\x1b]8;")),
    "clear screen": re.compile(re.escape(b"\x1b[2J")),
    "cursor up 5": re.compile(re.escape(b"\x1b[5A")),
    "NUL": re.compile(b"\x00"),
    "a C1 control": re.compile(b"\xc2[\x80-\x9f]"),
    "a bidi override": re.compile(b"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]"),
}


def assert_inert(screen: Screen) -> None:
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(screen.output)]
    assert not found, f"the terminal received {found}: {screen.output[-3000:]!r}"
    assert "Traceback" not in screen.text and "MarkupError" not in screen.text, screen.text


@dataclass(frozen=True)
class View:
    name: str
    args: tuple[str, ...]
    shows: tuple[str, ...]  # hostile text that must be visible, exactly as sent
    exit_code: int


VIEWS = [
    View(
        "check -v",
        ("check", "hostile", "-v"),
        (
            LINK,
            CLOSE,
            STYLED,
            EMOJI,
            "boom\\x1b]0;pwned\\x07",
            "\\u202egnp.exe",
            "path a[/]b",
            "x-markup: " + LINK,
        ),
        1,
    ),
    View("all", ("all",), ("path a[/]b", "list users [admin]", f"component {LINK}: DOWN"), 1),
    View("all -v", ("all", "-v"), (LINK, STYLED, EMOJI, "boom\\x1b]0;pwned", "path a[/]b"), 1),
    View("list", ("list",), ("[beta]", EMOJI), 0),
    View(
        "watch (live)",
        ("watch", "--rounds", "2", "--interval", "10ms"),
        (f"component {LINK}: DOWN", "path a[/]b"),
        1,
    ),
    View("wait (live)", ("wait", "--timeout", "2s", "--interval", "100ms"), (f"component {LINK}: DOWN",), 1),
]


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_every_view_shows_hostile_text_literally_on_a_terminal(view: View, fleet: Fleet) -> None:
    screen = run_on_terminal(*view.args, "-f", str(fleet.manifest))
    assert_inert(screen)
    missing = [text for text in view.shows if text not in screen.text]
    assert not missing, f"{view.name} does not show {missing}: {screen.text[-3000:]}"
    assert screen.returncode == view.exit_code, screen.text[-3000:]


def test_the_html_report_shows_hostile_text_as_text_in_a_browser(fleet: Fleet) -> None:
    page_file = fleet.scratch / "hostile.html"
    result = run_cli("all", "-f", str(fleet.manifest), "--html", str(page_file))
    assert_no_traceback(result)
    raw = page_file.read_text(encoding="utf-8")
    assert "<img" not in raw and "<script>alert" not in raw and "<b>" not in raw
    assert not TERMINAL_FORBIDDEN.search(raw.replace("\n", ""))
    with opened(page_file) as visit:
        shown = visit.page.inner_text("body")
    assert visit.dialogs == [] and visit.console_errors == [] and visit.requests == []
    for text in (IMG, SCRIPT, LINK, STYLED, "boom\\x1b]0;pwned\\x07", "\\u202egnp.exe"):
        assert text in shown, f"the page does not show {text!r}"


def test_a_header_is_decoded_as_utf8_and_shown_escaped(fleet: Fleet) -> None:
    screen = run_on_terminal("check", "hostile", "-v", "-f", str(fleet.manifest))
    assert "x-rtl: \\u202egnp.exe" in screen.text
    assert "x-c1: \\x9b2J" in screen.text
    assert "â" not in screen.text  # the Latin-1 reading of a UTF-8 value


def test_a_display_never_fails_the_gate(fleet: Fleet) -> None:
    """Markup in names once crashed `all` (exit 1) while its JSON report said exit 0,
    and crashed `wait`, which then wrote no final table and no report."""
    passing = fleet.scratch / "all.json"
    screen = run_on_terminal("all", "--only", "marked", "--json", str(passing), "-f", str(fleet.manifest))
    assert_inert(screen)
    assert "path a[/]b" in screen.text and "1/1 services healthy" in screen.text, screen.text
    assert screen.returncode == json.loads(passing.read_text())["exit_code"] == 0, screen.text
    failing = fleet.scratch / "wait.json"
    screen = run_on_terminal(
        "wait",
        "--timeout",
        "1s",
        "--interval",
        "100ms",
        "--only",
        "hostile",
        "--json",
        str(failing),
        "-f",
        str(fleet.manifest),
    )
    assert_inert(screen)
    assert "0/1 services healthy" in screen.text, screen.text  # the final table
    assert screen.returncode == json.loads(failing.read_text())["exit_code"] == 1, screen.text


# --- the CI log -------------------------------------------------------------------------

# 20 letters fill the 32-column check cell after "  component ", so the table wraps the
# name there and the next line of the log starts with the service's `::error`.
FORGED = "x" * 20 + " ::error title=FAKE::forged ::add-mask::x ::stop-commands::t"


async def forging_health(request: Request) -> Response:
    padding = " ".join(["word"] * 40)
    components = {FORGED: {"status": "DOWN"}, f"{padding} ::error title=FAKE2::forged": {"status": "DOWN"}}
    return json_response({"status": "DOWN", "components": components}, status=503)


def forging_manifest(port: int) -> str:
    return f"""
defaults: {{retries: 0, timeout: 2s}}
services:
  forger:
    url: http://127.0.0.1:{port}
    health: /health
    checks: [{{name: "{FORGED}", path: /health}}]
"""


@pytest.fixture(scope="module")
def forging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with serving(tmp_path_factory.mktemp("forging"), forging_manifest, forging_health) as manifest:
        yield manifest


LOGGED = [
    ("all",),
    ("all", "-v"),
    ("check", "forger", "-v"),
    ("all", "--format", "markdown"),
    ("wait", "--timeout", "1s", "--interval", "100ms"),
    ("watch", "--rounds", "1"),
    ("list",),
]


@pytest.mark.parametrize("args", LOGGED, ids=[" ".join(a) for a in LOGGED])
def test_no_line_of_a_ci_log_starts_a_workflow_command(args: tuple[str, ...], forging: Path) -> None:
    result = run_cli(*args, "-f", str(forging), env={"GITHUB_ACTIONS": ""})
    assert_no_traceback(result)
    lines = (result.stdout + result.stderr).splitlines()
    commands = [line for line in lines if line.strip().startswith("::")]
    assert not commands, commands
    assert any("::error" in line for line in lines) or args == ("list",), (
        "the forged text is not shown at all"
    )


def test_github_annotations_are_the_only_workflow_commands(forging: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = run_cli(
        "all", "-v", "-f", str(forging), env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert_no_traceback(result)
    commands = [line for line in result.stdout.splitlines() if line.strip().startswith("::")]
    assert commands and all(line.startswith("::error title=forger / ") for line in commands), commands
    assert len(commands) == 2  # the health check and the one sample check, nothing forged
