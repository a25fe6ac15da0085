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

from conftest import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.manifest.source import MAX_DEPTH

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
