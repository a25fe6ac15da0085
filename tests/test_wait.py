"""`svccheck wait` against real loopback services, and its pure bookkeeping."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.cli import assert_no_traceback, run_cli
from support.sample_reports import make_check, result
from support.servers import Counting
from svccheck.demo.server import Raw, Request, ServerThread, hang
from svccheck.model import Failure, FailureClass, Service, Verdict
from svccheck.modes.wait import Readiness

WriteManifest = Callable[..., Path]


def check_of(data: dict[str, Any], service: str, check: str = "health") -> dict[str, Any]:
    svc = next(s for s in data["services"] if s["name"] == service)
    found = next(c for c in svc["checks"] if c["name"] == check)
    assert isinstance(found, dict)
    return found


def test_wait_passes_once_the_service_turns_healthy(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    booting, steady = Counting([503, 503, 503, 200]), Counting([200])
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          payment-service: {{url: "http://127.0.0.1:{servers.add(booting)}", health: /health}}
          user-service: {{url: "http://127.0.0.1:{servers.add(steady)}", health: /health}}
    """)
    result_ = run_cli("wait", "-f", str(path), "--interval", "50ms", "--timeout", "30s", "--format", "json")
    assert_no_traceback(result_)
    assert result_.returncode == 0, result_.stdout + result_.stderr
    assert booting.calls == 4  # re-probed until it passed, then left alone
    assert steady.calls == 1  # a passing check is not probed again
    data = json.loads(result_.stdout)
    assert data["verdict"] == "pass" and check_of(data, "payment-service")["status_code"] == 200
    lines = result_.stderr.splitlines()
    assert any(line.startswith("payment-service ready after ") and line.endswith("s") for line in lines)
    assert any(line.startswith("user-service ready after ") for line in lines)
    # no TTY: one line per state change, not one per round
    payment = [line for line in lines if "payment-service/health" in line]
    assert len(payment) == 2 and payment[0].endswith("fail (HTTP 503, health status DOWN)")
    assert payment[1].endswith("payment-service/health: pass")
    assert lines[-1].startswith("ready after ") and lines[-1].endswith("2/2 services")


def test_wait_gives_up_at_the_timeout_with_exit_1(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    never = Counting([503])
    path = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          payment-service: {{url: "http://127.0.0.1:{servers.add(never)}", health: /health}}
    """)
    report_file = path.parent / "r.json"
    started = time.monotonic()
    result_ = run_cli("wait", "-f", str(path), "--interval", "100ms", "--timeout", "1500ms",
                      "--json", str(report_file), timeout=30)  # fmt: skip
    elapsed = time.monotonic() - started
    assert_no_traceback(result_)
    assert result_.returncode == 1
    assert elapsed < 15  # generous: bounded by --timeout, not by the service
    assert never.calls >= 2  # it really re-checked
    check = check_of(json.loads(report_file.read_text()), "payment-service")
    assert check["verdict"] == "fail" and check["reason"] == "HTTP 503, health status DOWN"
    assert "payment-service not ready after" in result_.stderr
    assert "timed out after" in result_.stderr and "1 of 1 services not ready" in result_.stderr
    assert "FAIL" in result_.stdout  # the same final table as `all`


def test_wait_deadline_bounds_a_check_in_flight(servers: ServerThread, manifest_file: WriteManifest) -> None:
    async def stuck(request: Request) -> Raw:
        return hang()

    path = manifest_file(f"""
        defaults: {{retries: 0, timeout: 60s}}
        services:
          slow: {{url: "http://127.0.0.1:{servers.add(stuck)}", health: /health}}
    """)
    started = time.monotonic()
    result_ = run_cli("wait", "-f", str(path), "--timeout", "1s", "--format", "json", timeout=30)
    assert time.monotonic() - started < 15
    assert result_.returncode == 1
    check = check_of(json.loads(result_.stdout), "slow")
    assert check["failure_class"] == "deadline" and check["reason"] == "deadline exceeded"


def test_a_service_that_comes_up_during_wait_is_ready_not_recovered(
    servers: ServerThread, manifest_file: WriteManifest
) -> None:
    # #13: a fleet that starts late passes on a retry; in `wait` that is the
    # service becoming ready, not flakiness. `early` comes up on a retry of the
    # first round, `late` on a retry of the second (3 failures fill round 1).
    early, late = Counting([503, 503, 200]), Counting([503, 503, 503, 503, 200])
    path = manifest_file(f"""
        defaults: {{retries: 2, backoff: 10ms}}
        services:
          early: {{url: "http://127.0.0.1:{servers.add(early)}", health: /health}}
          late: {{url: "http://127.0.0.1:{servers.add(late)}", health: /health}}
    """)
    files = {name: path.parent / name for name in ("r.json", "r.md", "r.xml")}
    result_ = run_cli("wait", "-f", str(path), "--interval", "50ms", "--timeout", "30s",
                      "--json", str(files["r.json"]), "--markdown", str(files["r.md"]),
                      "--junit", str(files["r.xml"]))  # fmt: skip
    assert_no_traceback(result_)
    assert result_.returncode == 0, result_.stdout + result_.stderr
    assert (early.calls, late.calls) == (3, 5)  # both really passed on a retry
    data = json.loads(files["r.json"].read_text())
    assert data["summary"]["recovered"] == 0
    for name, attempts in (("early", 3), ("late", 2)):
        check = check_of(data, name)
        assert (check["verdict"], check["attempts"], check["recovered"]) == ("pass", attempts, False)
    rows = {line.split()[1]: line for line in result_.stdout.splitlines() if line.startswith("PASS")}
    assert set(rows) == {"early", "late"}, result_.stdout
    for row in rows.values():
        assert "↻" not in row and re.search(r"ready after \d+\.\ds$", row.rstrip()), row
    assert len(re.findall(r"\| ready after \d+\.\ds \|", files["r.md"].read_text())) == 2
    for output in (result_.stdout, files["r.md"].read_text(), files["r.xml"].read_text()):
        assert "recovered" not in output and "↻" not in output, output
    # the same kind of service under `all` is flaky: there it is recovered
    flaky = Counting([503, 503, 200])
    path = manifest_file(f"""
        defaults: {{retries: 2, backoff: 10ms}}
        services:
          flaky: {{url: "http://127.0.0.1:{servers.add(flaky)}", health: /health}}
    """)
    all_ = run_cli("all", "-f", str(path), "--json", str(files["r.json"]))
    assert all_.returncode == 0, all_.stdout
    assert "1 recovered after retries" in all_.stdout and "ready after" not in all_.stdout
    check = check_of(json.loads(files["r.json"].read_text()), "flaky")
    assert (check["attempts"], check["recovered"]) == (3, True)


def test_wait_rejects_a_bad_interval(manifest_file: WriteManifest) -> None:
    path = manifest_file("services:\n  api: {url: 'http://127.0.0.1:1', health: /h}\n")
    bad = run_cli("wait", "-f", str(path), "--interval", "soon")
    assert bad.returncode == 2 and "--interval" in bad.stderr
    assert_no_traceback(bad)


# --- the pure bookkeeping ---------------------------------------------------------------


def _services() -> tuple[Service, ...]:
    health, extra = make_check("api", "health", "health"), make_check("api", "extra")
    side = make_check("side", "health", "health")
    return (
        Service("api", "http://127.0.0.1:1", True, (), (), (health, extra)),
        Service("side", "http://127.0.0.1:2", False, (), (), (side,)),
    )


def test_readiness_tracks_pending_checks_and_ready_times() -> None:
    api, side = _services()
    readiness = Readiness((api, side))
    assert [len(s.checks) for s in readiness.pending()] == [2, 1]
    down = Failure(FailureClass.STATUS, "expected status 2xx, got 503")
    changes = readiness.record(
        [
            result(api.checks[0], Verdict.PASS),
            result(api.checks[1], Verdict.FAIL, reason="expected status 2xx, got 503", failures=(down,)),
            # a non-critical failure warns: it does not hold the run, but is probed again
            result(side.checks[0], Verdict.WARN, reason="expected status 2xx, got 503", failures=(down,)),
        ],
        at=1.0,
    )
    assert len(changes) == 3 and not readiness.ready()
    assert [(s.name, [c.name for c in s.checks]) for s in readiness.pending()] == [
        ("api", ["extra"]),
        ("side", ["health"]),
    ]
    changes = readiness.record([result(api.checks[1], Verdict.PASS)], at=2.5)
    assert [(c.service, c.check) for c in changes] == [("api", "extra"), ("api", None)]
    assert readiness.ready_after == {"api": 2.5} and readiness.ready()


def test_readiness_keeps_the_last_real_result_over_a_cut_short_one() -> None:
    api, _ = _services()
    readiness = Readiness((api,))
    down = Failure(FailureClass.STATUS, "expected status 2xx, got 503")
    first = result(api.checks[0], Verdict.FAIL, reason="expected status 2xx, got 503", failures=(down,))
    readiness.record([first], at=1.0)
    cut = result(api.checks[0], Verdict.FAIL, reason="deadline exceeded", failure_class=FailureClass.DEADLINE)
    assert readiness.record([cut], at=2.0) == []
    assert readiness.results[api.checks[0].key] is first


def test_readiness_under_strict_waits_for_warnings_too() -> None:
    api, _ = _services()
    slow = Failure(FailureClass.ASSERTION, "latency 400ms > warn 300ms", warn_only=True)
    warned = result(api.checks[0], Verdict.WARN, reason="latency", failures=(slow,))
    assert Readiness((api,)).settled(warned)
    assert not Readiness((api,), strict=True).settled(warned)


def test_readiness_marks_a_pass_after_a_failure_as_ready_not_recovered() -> None:
    # #13: what `wait` records for a check that failed first (a retry, or an earlier round)
    api, side = _services()
    readiness = Readiness((api, side))
    down = Failure(FailureClass.STATUS, "expected status 2xx, got 503")
    readiness.record(
        [
            result(api.checks[0], Verdict.PASS),  # up at once
            result(api.checks[1], Verdict.PASS, attempts=3),  # up on a retry
            result(side.checks[0], Verdict.WARN, reason="expected status 2xx, got 503", failures=(down,)),
        ],
        at=1.0,
    )
    readiness.record([result(side.checks[0], Verdict.PASS)], at=2.5)  # up in a later round
    ready = {key: r.ready_after for key, r in readiness.results.items()}
    assert ready == {("api", "health"): None, ("api", "extra"): 1.0, ("side", "health"): 2.5}
    assert not any(r.recovered for r in readiness.results.values())
    report = readiness.report(duration=2.5, started_at="", manifest_path="")
    assert report.summary.recovered == 0
