"""`--baseline FILE`, `--fail-on new` and `svccheck diff`: what a deploy changed, from real runs.

Three runs against real loopback services whose answers change between runs:
the first is the baseline (one service long broken); the second changes
nothing; the third breaks a service and slows another. Every format is read
back and must say which failure is new and which was already there.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response

WriteManifest = Callable[..., Path]


@dataclass
class Fleet:
    """Services whose answers a test changes between runs."""

    manifest: Path
    broken: set[str] = field(default_factory=set)
    slow: set[str] = field(default_factory=set)

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        return saved(*args, "-f", str(self.manifest), env=env)


def saved(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The CLI on saved reports (`diff`, `merge`), or with the manifest given in `args`."""
    result = run_cli(*args, env=env)
    assert_no_traceback(result)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def fleet(servers: ServerThread, manifest_file: WriteManifest) -> Iterator[Fleet]:
    state = Fleet(Path())

    def service(name: str) -> Callable[[Request], object]:
        async def answer(request: Request) -> Response:
            if name in state.slow:
                await asyncio.sleep(0.35)
            if name in state.broken:
                return json_response({"status": "DOWN"}, status=503)
            return json_response({"status": "UP"})

        return answer

    ports = {name: servers.add(service(name)) for name in ("api", "legacy", "payments", "search")}  # type: ignore[arg-type]
    state.broken.add("legacy")
    state.manifest = manifest_file(f"""
        defaults: {{retries: 0, timeout: 3s}}
        services:
          api: {{url: "http://127.0.0.1:{ports["api"]}", health: /health}}
          legacy: {{url: "http://127.0.0.1:{ports["legacy"]}", health: /health}}
          payments: {{url: "http://127.0.0.1:{ports["payments"]}", health: /health}}
          search: {{url: "http://127.0.0.1:{ports["search"]}", health: /health, critical: false}}
    """)
    yield state


def changes_of(path: Path) -> dict[str, list[str]]:
    data = json.loads(path.read_text())["changes"]
    out: dict[str, list[str]] = {}
    for item in data["checks"]:
        out.setdefault(item["change"], []).append(f"{item['service']}/{item['check']}")
    return out


def test_fail_on_new_passes_old_failures_and_fails_what_the_deploy_broke(
    fleet: Fleet, tmp_path: Path
) -> None:
    last = tmp_path / "last.json"
    code, _ = fleet.run("all", "--json", str(last))
    assert code == 1  # legacy has been broken for a while

    same = tmp_path / "same.json"
    code, out = fleet.run("all", "--baseline", str(last), "--fail-on", "new", "--json", str(same))
    assert code == 0, out
    assert "no new critical failure: 1 failure was already failing in the baseline" in out
    assert "still failing: legacy/health" in out
    data = json.loads(same.read_text())
    assert data["exit_code"] == 0 and data["verdict"] == "fail"  # still failing, not gating
    assert data["changes"]["already_failing"] == 1 and data["changes"]["new_critical_failures"] == []
    code, out = fleet.run("all", "--baseline", str(last))  # --fail-on any, the default: as before
    assert code == 1 and "still failing: legacy/health" in out

    fleet.broken |= {"payments", "search"}
    fleet.slow.add("api")
    now = tmp_path / "now.json"
    files = {fmt: tmp_path / f"now.{fmt}" for fmt in ("junit", "markdown", "html")}
    summary = tmp_path / "summary.md"
    code, out = fleet.run(
        "all", "--baseline", str(last), "--fail-on", "new", "--json", str(now),
        *(arg for fmt, path in files.items() for arg in (f"--{fmt}", str(path))),
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert code == 1, out
    assert "1 new critical failure fails the run; 1 failure was already failing in the baseline" in out
    assert "newly failing: payments/health — HTTP 503" in out
    assert "newly failing: search/health (non-critical)" in out
    changes = changes_of(now)
    assert changes["new_failure"] == ["payments/health", "search/health"]
    assert changes["still_failing"] == ["legacy/health"] and changes["latency_regressed"] == ["api/health"]
    assert json.loads(now.read_text())["changes"]["new_critical_failures"] == ["payments/health"]

    # the table says it above; each other format says it too
    assert "::error title=payments / health (newly failing)::" in out
    assert "::warning title=legacy / health (still failing)::" in out
    assert "::notice title=api / health (latency regressed)::latency regressed: " in out
    cases = {(s.name, c.name): c for s in JUnitXml.fromfile(str(files["junit"])) for c in s}
    [new] = cases[("payments", "health")].result
    assert isinstance(new, Failure) and new.message.startswith("newly failing: ")
    [old] = cases[("legacy", "health")].result
    assert isinstance(old, Skipped) and old.message.startswith(
        "already failing in the baseline: still failing"
    )
    markdown = files["markdown"].read_text()
    assert "#### Since the baseline" in markdown and "| newly failing | payments | health |" in markdown
    assert (
        "| still failing | legacy | health |" in markdown
        and "| latency regressed | api | health |" in markdown
    )
    assert markdown in summary.read_text()
    page = files["html"].read_text()
    assert 'data-change="new_failure">newly failing: payments/health' in page
    assert 'data-change="still_failing">still failing: legacy/health' in page

    # diff: the same comparison from the saved files; exit 1 for a new critical failure only
    code, out = saved("diff", str(last), str(now))
    assert code == 1 and "newly failing: payments/health" in out and "still failing: legacy/health" in out
    code, out = saved("diff", str(last), str(same), "--format", "json")
    assert code == 0 and json.loads(out)["changes"]["counts"]["still_failing"] == 1
    code, out = saved("diff", str(now), str(last), "--format", "markdown")
    assert code == 0 and "| recovered | payments | health |" in out


def test_wait_takes_a_baseline_too(fleet: Fleet, tmp_path: Path) -> None:
    last = tmp_path / "last.json"
    fleet.run("all", "--json", str(last))
    wait = ("wait", "--timeout", "3s", "--interval", "100ms", "--baseline", str(last))
    code, out = fleet.run(*wait, "--fail-on", "new")
    assert code == 0 and "no new critical failure: 1 failure was already failing in the baseline" in out
    code, _ = fleet.run(*wait)
    assert code == 1


def test_fail_on_new_needs_a_baseline(fleet: Fleet) -> None:
    code, out = fleet.run("all", "--fail-on", "new")
    assert code == 2 and "--fail-on new needs --baseline FILE" in out


def test_a_baseline_from_another_manifest_says_what_it_could_not_match(fleet: Fleet, tmp_path: Path) -> None:
    last = tmp_path / "last.json"
    fleet.run("all", "--json", str(last))
    data = json.loads(last.read_text())
    [api] = [s for s in data["services"] if s["name"] == "api"]
    api["name"] = "api-old"  # renamed since
    api["checks"].append({**api["checks"][0], "name": "gone"})
    last.write_text(json.dumps(data))
    _, out = fleet.run("all", "--baseline", str(last), "--format", "json")
    changes = json.loads(out)["changes"]
    assert changes["matched"] == 3
    assert changes["not_in_baseline"] == ["api/health"]
    assert sorted(changes["only_in_baseline"]) == ["api-old/gone", "api-old/health"]
    _, out = fleet.run("all", "--baseline", str(last))
    assert "could not match not in the baseline: api/health; only in the baseline: api-old/health" in out


BAD_REPORTS = [
    ("missing", None, "no such file"),
    ("not json", "{", "not JSON: line 1 column 2"),
    ("another schema", '{"schema": "other/v9"}', "schema: expected 'svccheck/report-v1', got 'other/v9'"),
    ("a list", "[]", "the document: expected an object"),
    ("a wrong verdict", "VERDICT", "services[0].checks[0].verdict: expected one of pass, warn, fail, skip"),
    ("a huge number", "HUGE", "duration_ms: expected a number"),
    ("a deep document", "[" * 100_000 + "]" * 100_000, "not JSON"),
]


@pytest.mark.parametrize(("what", "text", "said"), BAD_REPORTS, ids=[b[0] for b in BAD_REPORTS])
def test_a_bad_saved_report_is_a_clear_error_before_anything_is_probed(
    what: str, text: str | None, said: str, fleet: Fleet, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    fleet.run("all", "--json", str(good))
    bad = tmp_path / "bad.json"
    if text == "VERDICT":
        data = json.loads(good.read_text())
        data["services"][0]["checks"][0]["verdict"] = "great"
        text = json.dumps(data)
    elif text == "HUGE":  # a float beyond any double: read as infinity
        text = re.sub(r'"duration_ms": [0-9.]+', '"duration_ms": 1e400', good.read_text(), count=1)
    if text is not None:
        bad.write_text(text)
    runs = (
        ("all", "--baseline", str(bad), "-f", str(fleet.manifest)),
        ("diff", str(bad), str(good)),
        ("diff", str(good), str(bad)),
    )
    for args in runs:
        code, out = saved(*args)
        assert code == 2, out
        assert f"{bad}: " in out and said in out, out
        assert "FAIL" not in out  # nothing was probed
