"""Hostile manifests through the real CLI: a manifest error at its place, exit 2, never a traceback.

Each case runs `svccheck validate` (or `all`) as a process with a subprocess timeout as the bound
on time; the committed bad-manifest corpus (test_bad_manifests.py) covers the smaller files.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.grammar.source import MAX_DEPTH

WriteManifest = Callable[..., Path]
# Refusing any of these takes well under a second; the bound leaves room for a loaded CI machine.
BOUND = 20.0


def refused(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`svccheck validate -f PATH`: asserted to exit 2 with no traceback, within BOUND seconds."""
    result = run_cli(*(args or ("validate",)), "-f", str(path), timeout=BOUND)
    assert result.returncode == 2, result.stdout + result.stderr
    assert_no_traceback(result)
    assert "nothing was probed" in result.stderr.splitlines()[-1]
    return result


# --- nesting depth (#8) -----------------------------------------------------------------------


def _flow_lists(levels: int) -> str:
    return "services: " + "[" * levels + "]" * levels + "\n"


def _flow_mappings(levels: int) -> str:
    return "services: " + "{a: " * levels + "1" + "}" * levels + "\n"


def _block_lists(levels: int) -> str:
    return "services:\n  api:\n    url: http://127.0.0.1:1\n    tags:\n      " + "- " * levels + "x\n"


# (text, LINE:COL of the first mapping or list past the limit). The top-level mapping is level 1,
# so the 65th level of `services: [[[...` is the 64th bracket: column 11 + 63.
DEEP = {
    "flow lists, 2,000": (_flow_lists(2_000), "1:74"),
    "flow lists, 100,000": (_flow_lists(100_000), "1:74"),
    "flow lists, 100,000, never closed": ("services: " + "[" * 100_000 + "\n", "1:74"),
    "flow mappings, 2,000": (_flow_mappings(2_000), f"1:{11 + 4 * 63}"),
    "flow mappings, 100,000": (_flow_mappings(100_000), f"1:{11 + 4 * 63}"),
    # the tags list is level 4, at column 7; each `- ` is a level deeper
    "block lists, 2,000": (_block_lists(2_000), f"5:{7 + 2 * 61}"),
    "block lists, 100,000": (_block_lists(100_000), f"5:{7 + 2 * 61}"),
    "just past the limit": (_flow_lists(MAX_DEPTH), "1:74"),
}


@pytest.mark.parametrize("name", list(DEEP))
def test_deep_nesting_is_a_manifest_error_at_its_place(name: str, manifest_file: WriteManifest) -> None:
    text, where = DEEP[name]
    path = manifest_file(text, name="deep.yaml")
    result = refused(path)
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{where}: "), first
    assert f"more than {MAX_DEPTH} levels" in first, first


def test_deep_block_mappings_are_refused_at_the_first_level_too_many(manifest_file: WriteManifest) -> None:
    # two spaces a level: the body's first `a:` (line 6, column 11) is level 6, so level 65 is
    # the 60th `a:`
    lines = ["services:", "  api:", "    url: http://127.0.0.1:1", "    checks:", "      - json:"]
    lines += ["  " * (5 + i) + "a:" for i in range(200)]
    path = manifest_file("\n".join(lines) + " 1\n", name="deep.yaml")
    first = refused(path).stderr.splitlines()[0]
    assert first.startswith(f"{path}:{6 + 59}:{11 + 2 * 59}: "), first


def test_nesting_through_aliases_counts_once_expanded(manifest_file: WriteManifest) -> None:
    # each list is 40 deep, well within the limit; the alias puts one inside the other
    inner = "[" * 40 + "x" + "]" * 40
    path = manifest_file(
        f"""\
        services:
          api:
            url: http://127.0.0.1:1
            checks:
              - {{path: /a, json: &deep {inner}}}
              - {{path: /b, json: {"[" * 40}*deep{"]" * 40}}}
        """,
        name="deep.yaml",
    )
    first = refused(path).stderr.splitlines()[0]
    # level 65 is inside the anchored list (levels 6 to 45 there, 46 on through the alias)
    assert first.startswith(f"{path}:5:"), first
    assert f"more than {MAX_DEPTH} levels" in first, first


def test_the_deepest_manifest_allowed_loads_and_runs(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    # A request body and an `eq:` literal as deep as the limit allows go through every phase:
    # interpolation, validation, building, sending, and comparing with the answer.
    # levels: top mapping 1, services 2, api 3, checks 4, the check 5, so the body has 59 levels;
    # expect 6, json 7, the matcher 8, so the literal has 56.
    body_levels, literal_levels = MAX_DEPTH - 5, MAX_DEPTH - 8
    received: list[Any] = []
    answer = _nested_json(literal_levels)

    async def echo(request: Request) -> Response:
        received.append(request.json())
        return json_response({"deep": answer})

    port = servers.add(echo)
    body = "[" * body_levels + '"${HOST_NAME}"' + "]" * body_levels
    literal = "[" * literal_levels + '"leaf"' + "]" * literal_levels
    path = manifest_file(
        f"""\
        vars: {{HOST_NAME: loopback}}
        services:
          api:
            url: http://127.0.0.1:{port}
            checks:
              - {{method: POST, path: /deep, json: {body}, expect: {{json: {{$.deep: {{eq: {literal}}}}}}}}}
        """
    )
    valid = run_cli("validate", "-f", str(path), timeout=BOUND)
    assert valid.returncode == 0, valid.stderr
    ran = run_cli("all", "-f", str(path), "--format", "json", timeout=BOUND)
    assert_no_traceback(ran)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["verdict"] == "pass"
    assert received == [_nested_json(body_levels, "loopback")]


def _nested_json(levels: int, leaf: str = "leaf") -> Any:
    value: Any = leaf
    for _ in range(levels):
        value = [value]
    return value


# --- characters that cannot go into a request URL (#9) ---------------------------------------


def assert_no_raw_control_characters(result: subprocess.CompletedProcess[str]) -> None:
    """Nothing a terminal would act on or hide: control characters, bidi overrides, NUL."""
    output = result.stdout + result.stderr
    raw = sorted({c for c in output if not c.isprintable() and c != "\n"})
    assert not raw, (raw, output)


# (the URL as written in double quotes in YAML, the character as the message shows it)
BAD_URLS = {
    "ESC (clear screen)": (r"http://127.0.0.1:8080/\e[2J", r"\x1b"),
    "NUL": (r"http://127.0.0.1:8080/a\0b", r"\x00"),
    "DEL": (r"http://127.0.0.1:8080/a\x7fb", r"\x7f"),
    "C1 CSI": (r"http://127.0.0.1:8080/\x9b2J", r"\x9b"),
    "C1 NEL": (r"http://127.0.0.1:8080/a\Nb", r"\x85"),
    "space inside": (r"http://127.0.0.1:8080/a b", "a space"),
    "newline inside": (r"http://127.0.0.1:8080/a\nb", r"\n"),
    "tab in the host": (r"http://127.0.0.1\t:8080/", r"\t"),
    "line separator": (r"http://127.0.0.1:8080/a\Lb", r"\u2028"),
    "right-to-left override": (r"http://127.0.0.1:8080/\u202Eevil", r"\u202e"),
    "left-to-right embedding": (r"http://127.0.0.1:8080/\u202Aa", r"\u202a"),
    "first strong isolate": (r"http://127.0.0.1:8080/\u2068a", r"\u2068"),
    "pop directional isolate in the host": (r"http://127.0.0.1\u2069:8080/", r"\u2069"),
    "zero-width space": (r"http://127.0.0.1:8080/a\u200Bb", r"\u200b"),
}


@pytest.mark.parametrize("name", list(BAD_URLS))
def test_a_url_with_a_control_character_is_a_manifest_error_at_the_url(
    name: str, manifest_file: WriteManifest
) -> None:
    url, shown = BAD_URLS[name]
    path = manifest_file(f'services:\n  api:\n    url: "{url}"\n    health: /health\n')
    for command in ("validate", "all"):  # `all` used to fail at run time: "internal error: InvalidURL"
        result = refused(path, command)
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"{path}:3:10: services.api.url: bad URL "), first
        assert shown in first, first
        assert_no_raw_control_characters(result)


@pytest.mark.parametrize(
    ("text", "where", "field"),
    [
        ('    health: "/h\\e[2J"\n', "4:13", "services.api.health.path"),
        ('    health: {path: "/h\\x00"}\n', "4:20", "services.api.health.path"),
        ('    checks:\n      - path: "/a\\u202Eb"\n', "5:15", "services.api.checks[0].path"),
        ('    checks:\n      - path: "/search?q=a b"\n', "5:15", "services.api.checks[0].path"),
        ('    checks:\n      - path: "/a\\x85"\n', "5:15", "services.api.checks[0].path"),
    ],
)
def test_a_check_path_with_a_control_character_is_a_manifest_error_at_the_path(
    text: str, where: str, field: str, manifest_file: WriteManifest
) -> None:
    path = manifest_file("services:\n  api:\n    url: http://127.0.0.1:8080\n" + text)
    for command in ("validate", "all"):
        result = refused(path, command)
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"{path}:{where}: {field}: bad path "), first
        assert_no_raw_control_characters(result)


def test_a_control_character_from_a_variable_is_a_manifest_error_at_the_url(
    manifest_file: WriteManifest,
) -> None:
    path = manifest_file("""\
        services:
          api:
            url: "http://127.0.0.1:8080/${SUFFIX}"
            checks:
              - path: "/v1/${ITEM}"
        """)
    from_environment = refused_with(path, env={"SUFFIX": "\x1b[2J", "ITEM": "a"})
    assert from_environment[0].startswith(f"{path}:3:10: services.api.url: bad URL "), from_environment
    assert r"\x1b[2J" in from_environment[0]
    from_var = refused_with(path, "--var", "SUFFIX=ok", "--var", "ITEM=\u202egnp.exe")
    assert from_var[0].startswith(f"{path}:5:15: services.api.checks[0].path: bad path "), from_var
    assert r"\u202e" in from_var[0]


def refused_with(path: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    result = run_cli("validate", "-f", str(path), *args, env=env, timeout=BOUND)
    assert result.returncode == 2, result.stdout + result.stderr
    assert_no_traceback(result)
    assert_no_raw_control_characters(result)
    return result.stderr.splitlines()


def test_a_bad_url_keeps_its_password_and_secret_masked(manifest_file: WriteManifest) -> None:
    path = manifest_file("""\
        services:
          api: {url: "http://robot:hunter2-pw@127.0.0.1:8080/\\e[2J", health: /h}
          web: {url: "http://127.0.0.1:8080/${API_TOKEN}", health: /h}
        """)
    lines = refused_with(path, env={"API_TOKEN": "tok-\x1b[31m-secret"})
    output = "\n".join(lines)
    assert "hunter2" not in output and "robot:***@" in output, output
    assert "secret" not in output, output  # not even with its control character escaped
    assert len(lines) == 3, lines


def test_a_host_the_request_would_refuse_is_a_manifest_error(manifest_file: WriteManifest) -> None:
    # httpx refused these only at run time: an international name must encode (IDNA) to be looked
    # up, and four numbers are an IPv4 address
    path = manifest_file("""\
        services:
          web: {url: "http://\u2603.example:8080", health: /h}
          db: {url: "tcp://\u2603.example:5432"}
          ip: {url: "http://300.1.1.1:8080", health: /h}
          ok: {url: "http://b\u00fccher.example:8080", health: /h}
          v6: {url: "http://[::1]:8080", health: /h}
        """)
    lines = refused(path, "all").stderr.splitlines()
    assert lines[0].startswith(f"{path}:2:14: services.web.url: bad URL "), lines
    assert "IDNA" in lines[0]
    assert lines[1].startswith(f"{path}:3:13: services.db.url: bad URL "), lines
    assert lines[2].startswith(f"{path}:4:13: services.ip.url: bad URL "), lines
    assert "invalid IPv4 address" in lines[2]
    assert len(lines) == 4, lines  # bücher.example and [::1] are good


# --- a mapping in matcher position is a mapping of operators (#10) ---------------------------

# (the expect block, the unknown operator, its dotted place, a fragment of the hint)
UNKNOWN_OPERATORS = {
    "json": ("json:\n  $.version: {approx: 2}", "approx", "expect.json.$.version", "{eq: {...}}"),
    "json, beside a known one": (
        "json:\n  $.version: {gte: 1, approx: 2}",
        "approx",
        "expect.json.$.version",
        "{eq: {...}}",
    ),
    "json, misspelt": ("json:\n  $.status: {exist: true}", "exist", "expect.json.$.status", "'exists'"),
    "headers": ("headers:\n  x-version: {aprox: 2}", "aprox", "expect.headers.x-version", "{eq: {...}}"),
    "body": ("body: {containz: ok}", "containz", "expect.body", "did you mean 'contains'?"),
    "len": ("json:\n  $.items: {len: {atleast: 1}}", "atleast", "expect.json.$.items.len", "operators are"),
}


@pytest.mark.parametrize("name", list(UNKNOWN_OPERATORS))
@pytest.mark.parametrize("where", ["checks", "health"])
def test_an_unknown_operator_is_an_error_at_the_key_in_every_matcher_position(
    name: str, where: str, manifest_file: WriteManifest
) -> None:
    block, operator, place, hint = UNKNOWN_OPERATORS[name]
    check = "checks[0]" if where == "checks" else "health"
    head = "    checks:\n      - path: /v\n" if where == "checks" else "    health:\n        path: /v\n"
    expect = "".join(f"          {line}\n" for line in block.splitlines())
    text = f"services:\n  api:\n    url: http://127.0.0.1:1\n{head}        expect:\n{expect}"
    path = manifest_file(text)
    line_no, line = next((n, t) for n, t in enumerate(text.splitlines(), 1) if f"{operator}:" in t)
    first = refused(path).stderr.splitlines()[0]
    prefix = f"{path}:{line_no}:{line.index(operator) + 1}: services.api.{check}.{place}: "
    assert first.startswith(f"{prefix}unknown operator {operator!r}"), (first, prefix)
    assert hint in first, first


def test_an_object_literal_is_written_with_eq(servers: ServerThread, manifest_file: WriteManifest) -> None:
    async def version(request: Request) -> Response:
        return json_response({"version": {"approx": 2}, "tags": {"a": 1}})

    port = servers.add(version)
    path = manifest_file(f"""\
        services:
          api:
            url: http://127.0.0.1:{port}
            checks:
              - path: /v
                expect:
                  json:
                    $.version: {{eq: {{approx: 2}}}}
                    $.tags: {{ne: {{a: 2}}, contains: a}}
        """)
    ran = run_cli("all", "-f", str(path), "--format", "json", timeout=BOUND)
    assert_no_traceback(ran)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["verdict"] == "pass"
