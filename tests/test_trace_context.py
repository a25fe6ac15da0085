"""W3C trace context: every attempt sends a `traceparent` (one trace per check, one span per attempt),
and the trace id is in every report, so the request behind a red row can be found in a tracing UI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, run_cli
from support.sample_reports import passing_report
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.modes import saved_report
from svccheck.redact import Redactor
from svccheck.report import json as json_report

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")


class Recording:
    """Answers each status in turn (then the last again), keeping the trace headers of each request."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = statuses
        self.seen: list[tuple[str | None, str | None]] = []

    async def __call__(self, request: Request) -> Response:
        self.seen.append((request.headers.get("traceparent"), request.headers.get("tracestate")))
        status = self.statuses[min(len(self.seen) - 1, len(self.statuses) - 1)]
        return json_response({"status": "UP" if status < 400 else "DOWN"}, status=status)


def test_each_attempt_sends_a_new_span_of_one_trace_per_check_and_every_report_names_it(
    servers: ServerThread, manifest_file: Callable[..., Path], tmp_path: Path
) -> None:
    flaky, steady = Recording(503, 503, 200), Recording(200)
    path = manifest_file(f"""
        defaults: {{retries: 2, backoff: 1ms}}
        services:
          flaky: {{url: "http://127.0.0.1:{servers.add(flaky)}", health: /health}}
          steady: {{url: "http://127.0.0.1:{servers.add(steady)}", health: /health}}
    """)
    files = {
        "json": tmp_path / "r.json",
        "junit": tmp_path / "r.xml",
        "markdown": tmp_path / "r.md",
        "html": tmp_path / "r.html",
    }
    result = run_cli(
        "check",
        "flaky",
        "steady",
        "-v",
        "-f",
        str(path),
        *(w for name, p in files.items() for w in (f"--{name}", str(p))),
    )
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr

    parsed = [TRACEPARENT.match(header or "") for header, _ in flaky.seen]
    assert len(parsed) == 3 and all(parsed), flaky.seen
    trace_ids = {m.group(1) for m in parsed if m}
    spans = [m.group(2) for m in parsed if m]
    assert len(trace_ids) == 1 and len(set(spans)) == 3  # one trace, a span per attempt
    assert [state for _, state in flaky.seen] == [
        "svccheck=attempt:1",
        "svccheck=attempt:2",
        "svccheck=attempt:3",
    ]
    (flaky_trace,) = trace_ids
    steady_match = TRACEPARENT.match(steady.seen[0][0] or "")
    assert steady_match and steady_match.group(1) != flaky_trace  # a new trace per check

    out = result.stdout
    assert f"trace {flaky_trace}" in out and f"(span {spans[0]})" in out
    # the curl line repeats the last attempt's traceparent
    assert f"-H 'traceparent: 00-{flaky_trace}-{spans[-1]}-01'" in out
    checks = {s["name"]: s["checks"][0] for s in json.loads(files["json"].read_text())["services"]}
    assert checks["flaky"]["trace_id"] == flaky_trace
    assert checks["steady"]["trace_id"] == steady_match.group(1)
    cases = {c.get("classname"): c for c in ET.parse(files["junit"]).getroot().iter("testcase")}
    flaky_properties = cases["flaky"].findall("properties/property")
    assert {(p.get("name"), p.get("value")) for p in flaky_properties} == {("trace_id", flaky_trace)}
    html = files["html"].read_text()
    assert (
        f"trace id <code>{flaky_trace}</code>" in html
        and f"traceparent: 00-{flaky_trace}-{spans[-1]}-01" in html
    )
    # a saved report read back (diff, merge) keeps the trace ids
    saved = saved_report.read(files["json"])
    assert {r.service.name: r.checks[0].trace_id for r in saved.services}["flaky"] == flaky_trace
    markdown = files["markdown"].read_text()
    assert "| reason | trace |" in markdown and f"| `{flaky_trace}` |" in markdown


def test_trace_false_and_a_traceparent_of_the_manifests_own_opt_out(
    servers: ServerThread, manifest_file: Callable[..., Path], tmp_path: Path
) -> None:
    quiet, own = Recording(200), Recording(200)
    mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    path = manifest_file(f"""
        services:
          quiet: {{url: "http://127.0.0.1:{servers.add(quiet)}", health: /health, trace: false}}
          own:
            url: "http://127.0.0.1:{servers.add(own)}"
            headers: {{traceparent: "{mine}"}}
            health: /health
    """)
    report = tmp_path / "r.json"
    result = run_cli("check", "quiet", "own", "-v", "-f", str(path), "--json", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert quiet.seen == [(None, None)]
    assert own.seen == [(mine, None)]  # sent as written, and no second one
    assert [s["checks"][0]["trace_id"] for s in json.loads(report.read_text())["services"]] == [None, None]
    assert "span " not in result.stdout and "\ntrace " not in result.stdout


def test_a_tcp_check_carries_no_trace_context_and_refuses_the_key(
    manifest_file: Callable[..., Path], banner_port: int
) -> None:
    path = manifest_file(f"""
        services:
          port: {{url: "tcp://127.0.0.1:{banner_port}", trace: false}}
    """)
    result = run_cli("validate", "-f", str(path))
    assert result.returncode == 2 and "'trace'" in result.stdout + result.stderr, (
        result.stdout + result.stderr
    )


def test_a_saved_report_with_a_malformed_trace_id_is_refused_saying_where(tmp_path: Path) -> None:
    data = json_report.to_dict(passing_report(), Redactor())
    data["services"][0]["checks"][0]["trace_id"] = "not-hex"
    with pytest.raises(saved_report.ReportProblem, match=r"trace_id: expected 32 lower-case hex digits"):
        saved_report.from_dict(data)
