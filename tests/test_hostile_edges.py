"""Hostile input at the edges the first trust pass missed (an adversarial review).

Each test is a hole found by attacking the neutraliser, the CI-log guard and the
Redactor through the real CLI against real loopback services: a lone surrogate
that crashed every output, GitHub's legacy `##[command]` form and the whitespace
the runner trims, secrets in their percent-encoded form, and secrets cut in half
by an ellipsis.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, run_cli
from support.hostile import runner_commands, through_guard
from support.servers import serving
from svccheck.demo.server import Request, Response, ServerThread, json_response

# A JSON string may escape half a surrogate pair; json.loads gives a str no codec can encode.
LONE_SURROGATES = (
    b'{"status":"DOWN","components":{"\\ud800db":{"status":"DOWN","details":{"error":"x\\udfff"}}}}'
)


async def surrogate_health(request: Request) -> Response:
    return Response(503, LONE_SURROGATES, {}, "application/json")


@pytest.fixture(scope="module")
def surrogates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    def manifest(port: int) -> str:
        return f"""
defaults: {{retries: 0, timeout: 2s}}
services:
  halves: {{url: "http://127.0.0.1:{port}", health: /health}}
"""

    with serving(tmp_path_factory.mktemp("surrogates"), manifest, surrogate_health) as path:
        yield path


# the services here never get ready, so wait runs to its bound: 2 s lets its first round answer
# on a loaded 2-core CI machine (1 s sometimes ended it first, and the test saw no body at all)
WAIT_BOUND = "2s"

SURROGATE_VIEWS = [
    ("all",),
    ("all", "-v"),
    ("check", "halves", "-v"),
    ("all", "--format", "json"),
    ("all", "--format", "junit"),
    ("all", "--format", "markdown"),
    ("all", "--github"),
    ("watch", "--rounds", "1"),
    ("wait", "--timeout", WAIT_BOUND, "--interval", "100ms"),
]


@pytest.mark.parametrize("args", SURROGATE_VIEWS, ids=[" ".join(a) for a in SURROGATE_VIEWS])
def test_a_lone_surrogate_from_a_service_is_shown_escaped_never_a_crash(
    args: tuple[str, ...], surrogates: Path
) -> None:
    result = run_cli(*args, "-f", str(surrogates))
    assert_no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "\\ud800db" in result.stdout + result.stderr


def test_report_files_with_a_lone_surrogate_are_written(surrogates: Path, tmp_path: Path) -> None:
    files = {name: tmp_path / f"report.{name}" for name in ("json", "junit", "markdown", "prometheus")}
    flags = [arg for name, path in files.items() for arg in (f"--{name}", str(path))]
    result = run_cli("all", "-f", str(surrogates), *flags)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert not result.stderr, result.stderr
    report = json.loads(files["json"].read_text(encoding="utf-8"))
    assert report["services"][0]["checks"][0]["components"][0]["name"] == "\\ud800db"
    assert "\\ud800db" in files["junit"].read_text(encoding="utf-8")


LEGACY = "##[error]forged by a component name"
NBSP_LINE = "\u00a0::error title=FAKE::forged after a no-break space"
IDEOGRAPHIC_LINE = "\u3000::add-mask::forged after an ideographic space"


async def legacy_health(request: Request) -> Response:
    components = {LEGACY: {"status": "DOWN"}, "db": {"status": "DOWN", "details": {"error": f"x {LEGACY}"}}}
    return json_response({"status": "DOWN", "components": components}, status=503)


async def nbsp_text(request: Request) -> Response:
    return Response(500, f"oops\n{NBSP_LINE}\n{IDEOGRAPHIC_LINE}\nx ##[warning]legacy\n", {}, "text/plain")


async def commanding_service(request: Request) -> Response:
    return await (legacy_health(request) if request.path == "/health" else nbsp_text(request))


@pytest.fixture(scope="module")
def commanding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    def manifest(port: int) -> str:
        return f"""
defaults: {{retries: 0, timeout: 2s}}
services:
  legacy:
    url: http://127.0.0.1:{port}
    health: /health
    checks: [{{name: spaced, path: /text}}]
"""

    with serving(tmp_path_factory.mktemp("commanding"), manifest, commanding_service) as path:
        yield path


COMMAND_VIEWS = [
    ("all",),
    ("all", "-v"),
    ("check", "legacy", "-v"),
    ("all", "--format", "junit"),
    ("all", "--format", "markdown"),
    ("watch", "--rounds", "1"),
    ("wait", "--timeout", WAIT_BOUND, "--interval", "100ms"),
]


@pytest.mark.parametrize("args", COMMAND_VIEWS, ids=[" ".join(a) for a in COMMAND_VIEWS])
def test_no_line_of_a_ci_log_is_a_command_the_runner_would_run(
    args: tuple[str, ...], commanding: Path
) -> None:
    result = run_cli(*args, "-f", str(commanding), env={"GITHUB_ACTIONS": ""})
    assert_no_traceback(result)
    output = result.stdout + result.stderr
    assert "forged by a component name" in output, "the forged text is not shown at all"
    assert not runner_commands(output), runner_commands(output)


def test_check_v_shows_a_body_line_after_a_no_break_space_as_no_command(commanding: Path) -> None:
    result = run_cli("check", "legacy", "-v", "-f", str(commanding))
    assert "forged after a no-break space" in result.stdout
    assert "forged after an ideographic space" in result.stdout
    assert not runner_commands(result.stdout), runner_commands(result.stdout)


@pytest.mark.parametrize(
    "writes",
    [
        ["\u00a0::error::x\n"],
        ["\u3000", ":", ":x\n"],
        ["\u2028::error::x\n"],
        ["x ##[error]y\n"],
        ["x #", "#[error]y\n"],
        ["x ##", "[error]y\n"],
        ["#", "#", "[error]y"],
    ],
)
def test_the_guard_breaks_what_the_runner_would_run_across_any_writes(writes: list[str]) -> None:
    logged = through_guard(writes)
    assert not runner_commands(logged), logged
    assert logged.replace("›", "") == "".join(writes)  # nothing lost, only marked


# A secret in a manifest URL is written percent-encoded (or with `+` for a space); the
# Redactor once knew only the decoded value, so the URL's own form went through.
ENCODED_TOKEN = "s3cr%2Ft0ken%2Bxyz"
PLUS_KEY = "two+words+key"
ENCODED_PASSWORD = "p%40ss%3Aword"


async def echo_query(request: Request) -> Response:
    said = f"you sent {request.query} as {request.headers.get('authorization', '')}"
    components = {"db": {"status": "DOWN", "details": {"error": said}}}
    return json_response({"status": "DOWN", "components": components}, status=503)


def test_a_secret_in_a_manifest_url_is_masked_in_its_encoded_form(
    servers: ServerThread, manifest_file: object, tmp_path: Path
) -> None:
    port = servers.add(echo_query)
    manifest = manifest_file(  # type: ignore[operator]
        f"""
        defaults: {{retries: 0, timeout: 2s}}
        services:
          echo:
            url: "http://user:{ENCODED_PASSWORD}@127.0.0.1:{port}"
            health: "/health?token={ENCODED_TOKEN}&api_key={PLUS_KEY}&page=2"
        """
    )
    report = tmp_path / "report.json"
    outputs = []
    for args in (("all", "-v", "--json", str(report)), ("check", "echo", "-v")):
        result = run_cli(*args, "-f", str(manifest))
        assert_no_traceback(result)
        assert "you sent" in result.stdout, result.stdout
        outputs.append(result.stdout + result.stderr)
    outputs.append(report.read_text(encoding="utf-8"))
    for shown in outputs:
        for secret in (ENCODED_TOKEN, "s3cr/t0ken+xyz", PLUS_KEY, "two words key", "p%40ss", "p@ss:word"):
            assert secret not in shown, (secret, shown)
    assert "page=2" in outputs[1]  # what is not secret is still shown


# A reason is cut to a length (a component message to 200 characters) before it is shown; a
# secret straddling the cut was once shown up to the ellipsis: "Zsecrett…".
CUT_TOKEN = "Zsecrettoken0123456789abcdef"
CUT_COOKIE = "Qcookievalue9876543210zyxwvu"


async def cut_secrets(request: Request) -> Response:
    components = {
        "db": {"status": "DOWN", "details": {"error": "a" * 190 + " " + CUT_TOKEN}},
        "cache": {"status": "DOWN", "details": {"error": "b" * 185 + " " + CUT_COOKIE}},
    }
    response = json_response({"status": "DOWN", "components": components}, status=503)
    response.headers = {"Set-Cookie": f"sid={CUT_COOKIE}; Path=/"}
    return response


def test_a_secret_cut_by_an_ellipsis_shows_no_part_of_itself(
    servers: ServerThread, manifest_file: object, tmp_path: Path
) -> None:
    port = servers.add(cut_secrets)
    manifest = manifest_file(  # type: ignore[operator]
        f"""
        defaults: {{retries: 0, timeout: 2s}}
        services:
          cut:
            url: "http://127.0.0.1:{port}"
            health: /health
            headers: {{Authorization: "Bearer {CUT_TOKEN}"}}
        """
    )
    report = tmp_path / "report.json"
    shown = ""
    for args in (
        ("all", "-v", "--json", str(report)),
        ("check", "cut", "-v"),
        ("all", "--format", "markdown"),
    ):
        result = run_cli(*args, "-f", str(manifest))
        assert_no_traceback(result)
        shown += result.stdout + result.stderr
    shown += report.read_text(encoding="utf-8")
    assert "aaaa" in shown and "bbbb" in shown and "…" in shown  # the cut messages are shown
    for secret in (CUT_TOKEN, CUT_COOKIE):
        assert secret[:4] not in shown, (secret, shown)
