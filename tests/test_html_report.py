"""The HTML report in a real headless browser: it renders, asks for nothing, fails first, says it all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.browser import opened
from support.cli import assert_no_traceback, run_cli
from support.sample_reports import SECRET, mixed_report
from support.servers import Counting
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.redact import Redactor
from svccheck.report import html

WriteManifest = Callable[..., Path]


async def up(request: Request) -> Response:
    return json_response({"status": "UP"})


async def down(request: Request) -> Response:
    body = {"status": "DOWN", "components": {"db": {"status": "DOWN", "details": {"error": "refused"}}}}
    return json_response(body, status=503)


def fleet(servers: ServerThread, manifest_file: WriteManifest) -> Path:
    ok, broken, flaky = servers.add(up), servers.add(down), servers.add(Counting([503, 200]))
    return manifest_file(f"""
        defaults: {{retries: 0, backoff: 10ms}}
        services:
          api:
            url: "http://127.0.0.1:{ok}"
            health: /health
            checks: [{{name: items, path: /items}}]
          billing: {{url: "http://127.0.0.1:{broken}", health: /health, depends_on: [payments]}}
          payments: {{url: "http://127.0.0.1:{broken}", health: /health}}
          flaky: {{url: "http://127.0.0.1:{flaky}", health: /health, retries: 1}}
    """)


def test_the_html_report_renders_offline_with_failing_checks_first(
    servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path
) -> None:
    path = fleet(servers, manifest_file)
    page_file = tmp_path / "report.html"
    result = run_cli("all", "-f", str(path), "--html", str(page_file), "--location", "office")
    assert_no_traceback(result)
    assert result.returncode == 1
    with opened(page_file) as visit:
        page = visit.page
        assert page.title().startswith("svccheck failed")
        rows = visit.rows()
        assert [v for v, _, _ in rows] == ["fail", "fail", "pass", "pass", "pass"], rows
        assert rows[0][1:] == ("payments", "health")  # the root cause before what it caused
        assert page.inner_text("#root-causes").startswith("Root causes")
        assert "root cause: payments — component db: DOWN" in page.inner_text("#root-causes")
        assert "flaky/health: passed on attempt 2" in page.inner_text("#flaky")
        assert "(recovered)" in page.inner_text("#flaky")
        assert "location office" in page.inner_text("body")
        failing = page.inner_text("tr.detail >> nth=0")  # a failing check's details are open
        assert "component" in failing and "db: DOWN (refused)" in failing and "curl " in failing
        # the one script: the switch hides the passing checks
        page.check("#only-problems")
        assert page.locator("tr.check[data-verdict=pass]").first.is_hidden()
        assert page.locator("tr.check[data-verdict=fail]").first.is_visible()
    assert visit.console_errors == [] and visit.dialogs == []
    assert visit.requests == []


def test_the_page_holds_everything_it_needs() -> None:
    text = html.render(mixed_report(), Redactor([SECRET]))
    assert text.startswith("<!DOCTYPE html>") and "default-src &#x27;none&#x27;" in text
    for outside in ('http-equiv="refresh"', "<link", "<img", "src=", "@import", "url("):
        assert outside not in text
    assert text.count("<script>") == 1
    assert SECRET not in text and "***" in text


def test_the_html_report_shows_the_changes_against_a_baseline(
    servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path
) -> None:
    path = fleet(servers, manifest_file)
    last, page_file = tmp_path / "last.json", tmp_path / "report.html"
    assert run_cli("all", "-f", str(path), "--json", str(last)).returncode == 1
    args = ("--baseline", str(last), "--fail-on", "new", "--html", str(page_file))
    result = run_cli("all", "-f", str(path), *args)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout  # the same two failures as in the baseline
    with opened(page_file) as visit:
        changes = visit.page.inner_text("#changes")
        marked = visit.page.inner_text("tr.check >> nth=0")
    assert "no new critical failure: 2 failures were already failing in the baseline" in changes
    assert "still failing: payments/health" in changes and "still failing: billing/health" in changes
    assert "still failing" in marked
    assert visit.console_errors == [] and visit.dialogs == [] and visit.requests == []
