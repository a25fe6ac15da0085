"""Where to look first: the root cause, what inside it is broken, who fails because of it, what to run."""

from __future__ import annotations

from pathlib import Path

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.run import bundled_manifest_path
from svccheck.demo.server import Request, Response, ServerThread, json_response


def test_demo_outage_names_the_cause_its_broken_component_and_the_command(tmp_path: Path) -> None:
    result = run_cli("demo", "--scenario", "outage")
    assert_no_traceback(result)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    cause = next(i for i, line in enumerate(lines) if line.startswith("root cause:"))
    assert lines[cause] == (
        "root cause: payment-service — component db: DOWN (Connection refused); "
        "billing-service fails because of it"
    )
    manifest = bundled_manifest_path()
    assert lines[cause + 1] == (
        "  look closer: svccheck demo --serve --scenario outage, then in another terminal: "
        f"svccheck check payment-service -v -f {manifest}"
    )
    assert manifest.is_file()  # a manifest the user has, whether installed from a clone or with pip
    assert "↳ caused by payment-service" in result.stdout


def test_without_a_root_cause_the_first_failure_is_named_with_its_manifest(
    servers: ServerThread, tmp_path: Path
) -> None:
    async def down(request: Request) -> Response:
        return json_response({"status": "DOWN", "components": {"disk": {"status": "DOWN"}}}, status=503)

    manifest = tmp_path / "my services.yaml"
    manifest.write_text(
        f"services:\n  store: {{url: 'http://127.0.0.1:{servers.add(down)}', health: /h, retries: 0}}\n"
    )
    result = run_cli("all", "-f", str(manifest))
    assert_no_traceback(result)
    assert "look first: store — component disk: DOWN" in result.stdout
    assert f"  look closer: svccheck check store -v -f '{manifest}'" in result.stdout
    story = run_cli("check", "store", "-v", "-f", str(manifest))
    assert "look first: store" in story.stdout and "look closer" not in story.stdout
