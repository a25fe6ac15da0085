"""Every list the output cuts short says what it left out (#16), through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.cli import assert_no_traceback, run_cli
from support.servers import Counting
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.listing import cut

WriteManifest = Callable[..., Path]


def only_check(data: dict[str, Any]) -> dict[str, Any]:
    (service,) = data["services"]
    (check,) = service["checks"]
    assert isinstance(check, dict)
    return check


def test_a_reason_names_the_failures_it_does_not_show(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    # three attempts, three failures: the note must not read as "two more attempts"
    down = Counting([503])
    path = manifest_file(f"""
        defaults: {{retries: 2, backoff: 10ms}}
        services:
          pay:
            url: "http://127.0.0.1:{servers.add(down)}"
            checks:
              - path: /pay
                expect: {{status: 200, json: {{$.status: UP, $.mode: live}}}}
              - path: /two
                expect: {{status: 200, json: {{$.status: UP}}}}
    """)
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert_no_traceback(result)
    assert result.returncode == 1 and down.calls == 6
    reasons = [c["reason"] for c in json.loads(result.stdout)["services"][0]["checks"]]
    assert reasons == [
        "expected status 200, got 503 (3 attempts, +2 more failures)",
        "expected status 200, got 503 (3 attempts, +1 more failure)",
    ]
    table = run_cli("all", "-f", str(path))
    assert "(3 attempts, +2 more failures)" in table.stdout, table.stdout


def test_cut_component_lists_say_how_many_they_left_out(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    async def five_down(request: Request) -> Response:
        components = {name: {"status": "DOWN"} for name in ("a", "b", "c", "d", "e")}
        return json_response({"status": "DOWN", "components": components}, status=503)

    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          api: {{url: "http://127.0.0.1:{servers.add(five_down)}", health: /health}}
    """)
    listed = "component a: DOWN, component b: DOWN, component c: DOWN and 2 more"
    result = run_cli("all", "-f", str(path), "--json", str(path.parent / "r.json"))
    assert_no_traceback(result)
    assert result.returncode == 1
    assert only_check(json.loads((path.parent / "r.json").read_text()))["reason"] == f"HTTP 503, {listed}"
    # the hint under the table cuts the same list the same way
    assert f"look first: api — {listed}" in result.stdout, result.stdout


def test_cut_wording() -> None:
    assert cut(["a", "b"], 3) == "a, b"
    assert cut(["a", "b", "c"], 3) == "a, b, c"
    assert cut(["a", "b", "c", "d", "e"], 3) == "a, b, c and 2 more"
    assert cut([], 3) == ""
