"""`svccheck watch`: the pure statistics, and the command driven as a subprocess against a flapping service."""

from __future__ import annotations

import os
import pty
import queue
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from support.cli import cli_env
from support.servers import Counting
from svccheck.demo.server import ServerThread
from svccheck.model import Check, CheckResult, HttpRequest, Report, Service, ServiceResult, Summary, Verdict
from svccheck.modes.watch import transition_line
from svccheck.modes.watch_state import Session, percentile, since, sparkline
from svccheck.redact import Redactor

# --- the pure part -----------------------------------------------------------------------


def _report(verdicts: dict[str, tuple[Verdict, float | None]], root_cause: str | None = None) -> Report:
    services = []
    for name, (verdict, latency) in verdicts.items():
        check = Check(name, "health", "health", "http://h/", HttpRequest(), None, 1.0, 0, 0.1, True)
        service = Service(name, "http://h", True, (), (), (check,))
        result = CheckResult(
            check, verdict, None if verdict is Verdict.PASS else "down", None, (), 200, latency, 1
        )
        services.append(
            ServiceResult(service, verdict, (result,), root_cause if verdict is Verdict.FAIL else None)
        )
    summary = Summary(len(services), 0, 0, 0, 0, len(services), 0, 0, 0, 0.1)
    return Report("m", tuple(services), Verdict.PASS, 0, summary, "now")


def test_session_records_first_states_changes_and_flaps() -> None:
    session = Session(started=0.0)
    first = session.record(_report({"a": (Verdict.PASS, 0.010), "b": (Verdict.FAIL, None)}), now=1.0)
    assert [(c.name, c.old, c.new) for c in first] == [("a/health", None, "pass"), ("b/health", None, "fail")]
    assert session.transitions == []  # first sightings are not changes
    assert session.record(_report({"a": (Verdict.PASS, 0.030), "b": (Verdict.FAIL, None)}), now=2.0) == []
    changes = session.record(
        _report({"a": (Verdict.FAIL, 0.020), "b": (Verdict.FAIL, None)}, root_cause="b"), now=3.0
    )
    assert [(c.name, c.old, c.new, c.root_cause) for c in changes] == [("a/health", "pass", "fail", "b")]
    session.record(_report({"a": (Verdict.PASS, 0.040), "b": (Verdict.PASS, 0.001)}), now=4.0)
    a = session.tracks[("a", "health")]
    assert a.flaps == 2 and a.changed_at == 4.0 and list(a.latencies) == [0.010, 0.030, 0.020, 0.040]
    assert session.tracks[("b", "health")].flaps == 1
    assert len(session.transitions) == 3 and session.rounds == 4
    line = transition_line(changes[0], Redactor())
    assert line.endswith("a/health pass -> fail: down (root cause: b)")


def test_one_change_is_a_move_two_are_flapping() -> None:
    # #16: flapping is changing back and forth; a single pass -> fail is not
    session = Session(started=0.0)
    for now, verdicts in enumerate(
        [
            {"moved": Verdict.PASS, "flapped": Verdict.PASS, "steady": Verdict.PASS},
            {"moved": Verdict.FAIL, "flapped": Verdict.FAIL, "steady": Verdict.PASS},
            {"moved": Verdict.FAIL, "flapped": Verdict.PASS, "steady": Verdict.PASS},
        ]
    ):
        session.record(_report({k: (v, 0.01) for k, v in verdicts.items()}), now=float(now))
    tracks = {t.service: t for t in session.tracks.values()}
    assert [(name, t.flaps, t.flapping) for name, t in tracks.items()] == [
        ("moved", 1, False),
        ("flapped", 2, True),
        ("steady", 0, False),
    ]
    assert [t.name for t in session.flapping()] == ["flapped/health"]


def test_percentiles_are_observed_values() -> None:
    values = [0.05, 0.01, 0.02, 0.04, 0.03]
    assert percentile(values, 50) == 0.03
    assert percentile(values, 95) == 0.05
    assert percentile([0.2], 95) == 0.2
    assert percentile([], 50) is None


def test_sparkline_scales_between_min_and_max() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([3, 3, 3]) == "▁▁▁"
    assert sparkline(list(range(100)), width=5) == "▁▃▅▆█"  # only the last five: 95..99
    assert sparkline([]) == ""


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.9, "59s"), (192, "3m12s"), (7500, "2h05m")])
def test_since(seconds: float, text: str) -> None:
    assert since(seconds) == text


# --- the command -------------------------------------------------------------------------


class Lines:
    """A subprocess's stdout, line by line; waiting is bounded so a bug fails instead of hanging."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout

        def pump() -> None:
            for line in stream:
                self._queue.put(line.rstrip("\n"))
            self._queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def until(self, needle: str, limit: float = 30.0) -> str:
        while True:
            line = self._queue.get(timeout=limit)
            if line is None:
                raise AssertionError(f"output ended before {needle!r}: {self.seen}")
            self.seen.append(line)
            if needle in line:
                return line

    def rest(self) -> list[str]:
        lines = []
        while (line := self._queue.get(timeout=30)) is not None:
            lines.append(line)
        return lines


def _watch(manifest: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "svccheck", "watch", "-f", str(manifest), "--interval", "0.05", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def test_watch_prints_each_transition_and_leaves_cleanly_on_sigint(
    servers: ServerThread, tmp_path: Path
) -> None:
    flappy = Counting([200, 200, 503, 503, 200])
    steady = Counting([200])
    manifest = tmp_path / "services.yaml"
    manifest.write_text(
        "defaults: {retries: 0}\n"
        "services:\n"
        f"  flappy: {{url: 'http://127.0.0.1:{servers.add(flappy)}', health: /h}}\n"
        f"  steady: {{url: 'http://127.0.0.1:{servers.add(steady)}', health: /h}}\n"
    )
    process = _watch(manifest)
    try:
        lines = Lines(process)
        assert lines.until("watching") == "watching 2 checks of 2 services every 50ms (Ctrl-C to stop)"
        assert lines.until("flappy/health").endswith("flappy/health start -> pass")
        down = lines.until("flappy/health pass -> fail")
        assert down.endswith("flappy/health pass -> fail: HTTP 503, health status DOWN")
        lines.until("flappy/health fail -> pass")
        process.send_signal(signal.SIGINT)
        rest = lines.rest()
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    stderr = process.stderr.read() if process.stderr else ""
    assert "Traceback" not in stderr, stderr
    summary = "\n".join(rest)
    assert "2 state changes" in summary, summary
    assert "flappy/health pass -> fail" in summary and "flappy/health fail -> pass" in summary
    assert "flapping: flappy/health (2)" in summary
    assert "now: 2/2 services healthy" in summary
    assert not any("steady/health" in line and "->" in line and "start" not in line for line in lines.seen)


def test_watch_rounds_ends_by_itself_with_the_last_rounds_exit_code(
    servers: ServerThread, tmp_path: Path
) -> None:
    down = Counting([503])
    manifest = tmp_path / "services.yaml"
    manifest.write_text(
        f"services:\n  down: {{url: 'http://127.0.0.1:{servers.add(down)}', health: /h, retries: 0}}\n"
    )
    process = _watch(manifest, "--rounds", "3")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "watched 3 rounds" in out and "0 state changes" in out
    assert down.calls == 3  # one request per round: rounds do not overlap or repeat


def test_watch_on_a_terminal_shows_the_live_table_and_leaves_with_the_summary(
    servers: ServerThread, tmp_path: Path
) -> None:
    manifest = tmp_path / "services.yaml"
    manifest.write_text(
        f"services:\n  web: {{url: 'http://127.0.0.1:{servers.add(Counting([200]))}', health: /h}}\n"
    )
    leader, follower = pty.openpty()
    env = cli_env({"COLUMNS": "150", "LINES": "40", "TERM": "xterm"})
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "svccheck", "watch", "-f", str(manifest), "--interval", "0.05"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""

    def read_until(needle: bytes) -> None:
        nonlocal seen
        while needle not in seen:
            ready, _, _ = select.select([leader], [], [], 30)
            assert ready, f"no {needle!r} in {seen[-2000:]!r}"
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is gone
                chunk = b""
            assert chunk, f"output ended before {needle!r}: {seen[-2000:]!r}"
            seen += chunk

    try:
        read_until(b"round 3")
        assert b"p95" in seen and b"flaps" in seen and b"web" in seen
        process.send_signal(signal.SIGINT)
        read_until(b"now: 1/1 services healthy")
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
        os.close(leader)
    assert b"Traceback" not in seen
    assert b"0 state changes" in seen


def test_watch_summary_names_only_what_flapped_and_says_what_it_left_out(
    servers: ServerThread, tmp_path: Path
) -> None:
    # #16: answers change by request count, one request per round: seven services go
    # pass -> fail -> pass over three rounds (flapping), one goes pass -> fail (not).
    flappers = [Counting([200, 503, 200]) for _ in range(7)]
    once = Counting([200, 503])
    lines = ["defaults: {retries: 0}", "services:"]
    lines += [
        f"  f{n}: {{url: 'http://127.0.0.1:{servers.add(handler)}', health: /h}}"
        for n, handler in enumerate(flappers, start=1)
    ]
    lines.append(f"  once: {{url: 'http://127.0.0.1:{servers.add(once)}', health: /h}}")
    manifest = tmp_path / "services.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    process = _watch(manifest, "--rounds", "3")
    out, err = process.communicate(timeout=60)
    assert "Traceback" not in out + err, err
    assert process.returncode == 1, out + err  # `once` still fails in the last round
    assert [h.calls for h in flappers] == [3] * 7 and once.calls == 3
    assert "watched 3 rounds" in out and "15 state changes" in out, out
    flapping = [line for line in out.splitlines() if line.startswith("flapping:")]
    shown = ", ".join(f"f{n}/health (2)" for n in range(1, 6))
    assert flapping == [f"flapping: {shown} and 2 more"], out
    assert "once/health pass -> fail" in out  # the change itself is still listed
