"""Hostile text: the pieces the fuzzers build it from, what may never come out, and the CI runner's reading.

`PIECES` are escape sequences, C0/C1 controls, bidi overrides, rich markup,
emoji codes and GitHub workflow commands; `FORBIDDEN` is what may never reach
a terminal from foreign text (rich's own SGR codes are allowed);
`hostile_report` puts hostile text in every field a renderer shows;
`through_guard` and `runner_commands` are the CI log a guarded write gives and
the lines of it the GitHub Actions runner would execute.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

from support.sample_reports import make_check, result
from svccheck.engine.run import build_report
from svccheck.judge.health import Component
from svccheck.model import Answer, Report, Service, Verdict
from svccheck.neutral import CommandLineGuard

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

# What may never reach a terminal from foreign text (rich's own SGR codes are allowed).
FORBIDDEN = re.compile(
    "\x1b\\]|\x1b\\[2J|\x1b\\[5A|\x00|\x07|[\x80-\x9f]|[\u202a-\u202e\u2066-\u2069\u200b\u2028\ufeff]"
)


def hostile_report(name: str, reason: str, component: str, message: str, header: str, body: str) -> Report:
    """One failing health check of service `api` carrying the given text in every field a view shows."""
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


# What the GitHub Actions runner executes (actions/runner ActionCommand.cs): a line (ended by
# \n, \r or \r\n) that starts with `::` once .NET's TrimStart() has removed every
# Char.IsWhiteSpace, or a line with the legacy `##[` anywhere in it.
RUNNER_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


def through_guard(writes: list[str]) -> str:
    """What a CI log receives when svccheck writes `writes` one after another, then exits."""
    raw = io.StringIO()
    guard = CommandLineGuard(raw)
    for text in writes:
        guard.write(text)
    guard.finish()
    return raw.getvalue()


def runner_commands(output: str) -> list[str]:
    """The lines of `output` the GitHub Actions runner would execute as workflow commands."""
    lines = re.split("\r\n|\r|\n", output)
    return [line for line in lines if line.lstrip(RUNNER_WHITESPACE).startswith("::") or "##[" in line]
