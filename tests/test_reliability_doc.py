"""docs/reliability.md is rendered from the test tables, so it says what the tests prove.

Regenerate after changing a table: `.venv/bin/python tests/test_reliability_doc.py`
"""

from __future__ import annotations

import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
REGENERATE = "`.venv/bin/python tests/test_reliability_doc.py`"


def _cell(text: str | None) -> str:
    return (text or "—").replace("|", "\\|").replace("\n", " ")


def _seconds(value: float) -> str:
    return f"{value:g} s"


def render() -> str:
    from test_bad_manifests import CASES, PEAK_MIB, SECONDS
    from test_faults import FAULTS
    from test_hostile_text import HOSTILE_CASES, LOGGED, VIEWS
    from test_resources import PEAK_RSS_MIB
    from test_secrets_audit import OUTPUTS

    out = [
        "# Reliability: what svccheck does when things go wrong",
        "",
        "A tool that gates deploys must never lie, never hang and never leak. Every row below is a",
        "test case; this page is rendered from the tests' own tables (`FAULTS` in",
        "`tests/test_faults.py`, `tests/manifests/bad/index.toml`, `OUTPUTS` in",
        "`tests/test_secrets_audit.py`) and a test fails when it differs from them.",
        f"Regenerate it with {REGENERATE}.",
        "",
        "To add a case: a row in `FAULTS`; a file under `tests/manifests/bad/` with its entry in",
        "`index.toml`; a line in `OUTPUTS` for each new output (report format, command, view);",
        "then regenerate this page.",
        "",
        "## Misbehaving services",
        "",
        "Real sockets on loopback. Unless the row says otherwise, the check runs with",
        "`timeout: 400ms, retries: 0`. *Within* is the bound on the check's whole run, retries",
        "and `Retry-After` waits included; *memory* is the peak traced by `tracemalloc`;",
        "*attempts* counts finished attempts (one cut short by the deadline is not counted).",
        "",
        "| fault | verdict | class | reason contains | attempts | within | memory | settings |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    default = "{timeout: 400ms, retries: 0, backoff: 10ms}"
    for f in FAULTS:
        settings = "" if f.defaults == default else f"`{f.defaults}`"
        memory = f"< {f.max_peak_mib:g} MiB" if f.max_peak_mib is not None else ""
        reason = f"`{f.reason}`" if f.reason else ""
        out.append(
            f"| {_cell(f.fault)} | {f.verdict} | {f.failure_class or ''} | {reason} | {f.attempts} "
            f"| < {_seconds(f.bound)} | {memory} | {settings} |"
        )
    out += [
        "",
        "Redirects to another origin drop `Authorization`, `Cookie`, API-key and token headers and",
        "the URL's user:password (the test checks what the second server received). Bodies are read",
        "up to 1 MiB; gzip and deflate bodies are inflated incrementally and never past that cap, so",
        "a gzip bomb costs a few MiB, not its inflated size. (`br` and `zstd` are decoded by httpx",
        "when their optional packages are installed; svccheck does not install them.)",
        "",
        "## Bad manifests",
        "",
        "Each runs through `svccheck validate -f FILE` as a real process: exit code **2**, the first",
        "line of stderr is `FILE:LINE:COL: message` (`FILE: message` when there is no line), the",
        "last says `nothing was probed`, and there is no traceback. In-process, each is refused",
        f"within {_seconds(SECONDS)} using less than {PEAK_MIB:g} MiB of traced memory, and the",
        "`!!python/...` tags must not run (a canary file must not appear).",
        "",
        "| file | what is wrong | LINE:COL | message |",
        "| --- | --- | --- | --- |",
    ]
    for c in CASES:
        out.append(f"| `{c.name}` | {_cell(c.what)} | {c.where or '—'} | {_cell(f'`{c.message}`')} |")
    out += [
        "",
        "Manifests larger than 1 MiB are refused before parsing; parsing stops after 100,000 YAML",
        "nodes (aliases expanded) and at the first mapping or list nested more than 64 levels deep",
        "(aliases expanded), whatever the depth of the rest. The slowest input under those caps is",
        "a 1 MiB file of tiny keys,",
        "refused in about 3–4 s (measured, not a test: `tests/test_bad_manifests.py` bounds the corpus).",
        "",
        "## Interruption and resources",
        "",
        "| event | exit code | what is left |",
        "| --- | --- | --- |",
        "| SIGINT (Ctrl-C) during a run | 130 | partial results printed (`interrupted (SIGINT): partial results`, "
        'or a whole JSON report with `"interrupted"` set), unfinished checks `skip`, `--json` file complete |',
        "| SIGTERM (CI cancel) during a run | 143 | the same, `terminated (SIGTERM)` |",
        "| SIGINT or SIGTERM while the final report is written | the run's (0 or 1) | the whole report, "
        "on the terminal and in every file: the signal waits until it is out |",
        f"| 1,000 checks against one loopback server | 0 | no client socket open after the run, the "
        f"same descriptors after as before, peak RSS < {PEAK_RSS_MIB} MB |",
        "",
        "Report files are written beside their target and renamed into place: complete or absent,",
        "never half-written, and no temporary file is left behind.",
        "",
        "## Secrets",
        "",
        "The audit plants a bearer token and an API key from environment variables, a URL",
        "password (and the `Basic` credential httpx makes of it), a query-string token, a cookie in",
        "the manifest, the default of an unset secret-named variable (`${SMOKE_CLIENT_SECRET:-…}`),",
        "credentials the server echoes in its body and headers, a session the server sets",
        "(`Set-Cookie`, `X-Auth-Token`) and tokens in its JSON body (`access_token`, a nested",
        "`client_secret`). None may appear in any of these outputs:",
        "",
        *(f"- {o.name}" for o in OUTPUTS),
        "",
        "Every check starts with no cookies: a `Set-Cookie` lives only within the check's own",
        "redirect chain (`tests/test_cookies.py` checks what the server received), and its value is",
        "a secret for the rest of the run, masked wherever it shows up again.",
        "",
        "## Hostile text",
        "",
        "Everything a service sends (bodies, headers, component names, status words) and everything",
        "a manifest says (check names, tags) passes one neutraliser before any renderer, and every",
        "rich renderable is built from `Text` with markup and emoji off. `tests/test_hostile_text.py`",
        "runs a service that sends all of these in its component names, messages, headers and body,",
        "and a manifest with markup in its names and tags:",
        "",
        "| sent | the characters, written as escapes | what every view shows, literally |",
        "| --- | --- | --- |",
        *(
            f"| {_cell(c.what)} | `{c.sent.encode('unicode_escape').decode()}` | `{_cell(c.shown)}` |"
            for c in HOSTILE_CASES
        ),
        "",
        "Each view runs as the real CLI on a real pseudo-terminal, colour on, the live views live;",
        "none of the sequences above may be among the bytes the terminal receives, the hostile text",
        "must be visible, and the exit code is the run's (a display never fails a gate):",
        "",
        *(f"- `svccheck {' '.join(v.args)}`" for v in VIEWS),
        "",
        "In a CI log (output that is not a terminal) no line may start with `::`, which the GitHub",
        "Actions runner would execute as a workflow command (`::error`, `::add-mask::`,",
        "`::stop-commands::`): such a line gets a `›` in front of its colons. Leading whitespace is",
        "whatever the runner trims (.NET's `TrimStart()`: a no-break space or U+3000 too), and the",
        "runner's legacy form `##[error]`, read anywhere in a line, is shown as `##›[error]`",
        "(`tests/test_hostile_edges.py`). A service whose component name wraps so that",
        "`::error title=FAKE::` starts a line is run through:",
        "",
        *(f"- `svccheck {' '.join(a)}`" for a in LOGGED),
        "",
        "With `--github`, svccheck's own annotations are the only lines that start with `::`.",
        "",
        "## Fuzzing",
        "",
        "`tests/test_fuzz.py` (hypothesis, explicit example counts, well under a minute) feeds random",
        "text, bytes, service shapes and edits of a good manifest to the loader (only `ManifestError`",
        "with positions may come out, every line printable), control characters, bidi controls and",
        "console markup in every string of a manifest (names, URLs, paths, headers, tags, matcher",
        "keys and operands), nesting from 1 to 30,000 levels deep anywhere a value goes (from 64 on,",
        "the error is the depth one), and the same to `svccheck validate` (exit 0 or 2, no traceback);",
        "random expectations and responses to the evaluator (only failures), and random statuses,",
        "headers and health bodies to the health verdict (a verdict,",
        "with a reason unless it passes). `tests/test_health.py` fuzzes the health-body parser itself",
        "with random bytes, JSON and health-shaped documents. `tests/test_fuzz_rendering.py` builds",
        "reports out of escape sequences, controls, bidi characters, markup and emoji codes in every",
        "name, reason, component, header and body, and renders every view and format: none may raise",
        "or let a control through; and writes random text through the CI-log guard: no line may",
        "start with `::` and nothing may be lost.",
        "",
    ]
    return "\n".join(out)


def test_the_reliability_doc_matches_the_tests() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), f"docs/reliability.md is stale: run {REGENERATE}"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
