"""svccheck's benchmark: whole-process wall clock against loopback fleets, checked against product budgets.

Run it with the project's venv (nothing leaves 127.0.0.1):

    .venv/bin/python bench/bench.py [--runs N] [--quick] [--write-readme]

It serves four fleets from a `ServerThread` in this process, writes a manifest
and a target list for each to a temp dir, then times, alternating within each
round, `svccheck all -f M --format json` (the venv console script), a bare
`httpx.AsyncClient` + `asyncio.gather` script and a sequential `httpx.Client`
script (the shape of the Node script svccheck replaces). Every run's exit code
and output are verified: a benchmark of a broken run is worthless, so any
mismatch is printed loudly and the command exits 1.

Nothing is written into the repository unless `--write-readme` is given; then
the "Latest figures" section of bench/README.md is rewritten.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from svccheck.demo.server import Raw, Request, Response, Router, ServerThread, hang, json_response

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
VENV_BIN = REPO / ".venv" / "bin"
NODE_BINARY = shutil.which("node")  # the Node reference runs when node (>= 18, for fetch) is found
PYTHON = VENV_BIN / "python"
SVCCHECK_BIN = VENV_BIN / "svccheck"
README = BENCH_DIR / "README.md"
FIGURES_HEADING = "## Latest figures"

HOST = "127.0.0.1"
SLOW_LATENCIES = [0.02 * i for i in range(1, 12)]  # 20, 40, ... 220 ms
BIG_PORTS, BIG_PATHS = 10, 100  # 1,000 checks
SMALL_PORTS, SMALL_PATHS = 10, 10  # 100 checks: the curve's first point
HUGE_PORTS, HUGE_PATHS = 100, 100  # 10,000 checks: the curve's last point
HUGE_RUNS = 3  # 10,000-check runs take ~10 s each: at most this many timed runs
HANG_TIMEOUT = 2.0  # the hanging service's per-attempt timeout (retries 0)
DEFAULT_TIMEOUT = 5.0  # svccheck's default per-attempt timeout, used by the plain scripts too
CONCURRENCY = 100  # svccheck's default --concurrency, which is also its pool size
RUN_TIMEOUT = 120.0  # no single process may run longer than this
RSS_RUNS = 3
HANG_SLACK = 0.1  # scheduling slack allowed over the hang bound, seconds
STARTUP_FACTOR = 3  # start-up commands are cheap and noisy: run them this many times N

# --- the comparison scripts (written to the temp dir, run with the venv's python) ----------

BARE_SCRIPT = '''\
"""Bare httpx: one AsyncClient, asyncio.gather bounded by a semaphore no larger than the pool."""
import asyncio
import json
import sys
import time

import httpx


async def main(spec):
    limit = spec["concurrency"]
    slots = asyncio.Semaphore(limit)
    limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def one(url, timeout):
            async with slots:
                try:
                    response = await client.get(url, timeout=timeout)
                except httpx.HTTPError:
                    return False
                return response.is_success

        start = time.perf_counter()
        results = await asyncio.gather(*(one(url, timeout) for url, timeout in spec["targets"]))
        seconds = time.perf_counter() - start
    ok = sum(results)
    print(json.dumps({"ok": ok, "failed": len(results) - ok, "seconds": seconds}))


with open(sys.argv[1]) as f:
    asyncio.run(main(json.load(f)))
'''

SEQUENTIAL_SCRIPT = '''\
"""Sequential: one httpx.Client, one request after another (like the Node script svccheck replaces)."""
import json
import sys
import time

import httpx

with open(sys.argv[1]) as f:
    spec = json.load(f)
ok = failed = 0
start = time.perf_counter()
with httpx.Client(trust_env=False) as client:
    for url, timeout in spec["targets"]:
        try:
            success = client.get(url, timeout=timeout).is_success
        except httpx.HTTPError:
            success = False
        ok += success
        failed += not success
print(json.dumps({"ok": ok, "failed": failed, "seconds": time.perf_counter() - start}))
'''


AIOHTTP_SCRIPT = '''\
"""aiohttp: one ClientSession and asyncio.gather bounded by a semaphore of svccheck's default concurrency."""
import asyncio
import json
import sys
import time

import aiohttp


async def main(spec):
    limit = spec["concurrency"]
    slots = asyncio.Semaphore(limit)  # as the bare script: a check's timeout starts when it is sent
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:

        async def one(url, timeout):
            async with slots:
                return await send(url, timeout)

        async def send(url, timeout):
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                    await response.read()
                    return 200 <= response.status < 300
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return False

        start = time.perf_counter()
        results = await asyncio.gather(*(one(url, timeout) for url, timeout in spec["targets"]))
        seconds = time.perf_counter() - start
    ok = sum(results)
    print(json.dumps({"ok": ok, "failed": len(results) - ok, "seconds": seconds}))


with open(sys.argv[1]) as f:
    asyncio.run(main(json.load(f)))
'''

NODE_SCRIPT = """\
// Node Promise.all: every check at once with fetch (undici), each bounded by its own timeout.
const fs = require("fs");
const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

async function one([url, timeout]) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeout * 1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

(async () => {
  const start = performance.now();
  const results = await Promise.all(spec.targets.map(one));
  const seconds = (performance.now() - start) / 1000;
  const ok = results.filter(Boolean).length;
  // idle keep-alive sockets would hold the process open for seconds: end once the line is out
  process.stdout.write(JSON.stringify({ ok, failed: results.length - ok, seconds }) + "\\n", () =>
    process.exit(0),
  );
})();
"""

FD_ENTRY = '''\
"""`svccheck ARGS` in-process, then the descriptors it left open, as one JSON line on stderr."""
import contextlib
import json
import os
import sys


def descriptors():
    found = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found[name] = os.readlink(f"/proc/self/fd/{name}")
    return found


before = descriptors()
from svccheck.cli import run_app  # noqa: E402

with contextlib.suppress(SystemExit):
    run_app()
after = descriptors()
left = sorted(target for fd, target in after.items() if fd not in before)
sys.stdout.flush()
print(json.dumps({"left_open": left}), file=sys.stderr)
'''


PROFILE_ENTRY = '''\
"""`svccheck ARGS` in-process, returning instead of ending the process (for cProfile)."""
import contextlib

from svccheck.cli import run_app

with contextlib.suppress(SystemExit):
    run_app()
'''


# --- data ---------------------------------------------------------------------------------


SVCCHECK, BARE, SEQUENTIAL, NODE, AIOHTTP = "svccheck", "bare httpx", "sequential", "node", "aiohttp"
ALL_TOOLS = (SVCCHECK, BARE, SEQUENTIAL, NODE, AIOHTTP)
CURVE_TOOLS = (SVCCHECK, AIOHTTP)


@dataclass(frozen=True)
class Fleet:
    key: str
    title: str
    manifest: Path
    targets: Path  # JSON for the plain scripts: {"concurrency": n, "targets": [[url, timeout], ...]}
    checks: int
    expect_exit: int  # svccheck's exit code; the plain scripts must see `checks - failing` successes
    failing: tuple[str, ...] = ()  # services expected to fail (class timeout, one attempt)
    tools: tuple[str, ...] = ALL_TOOLS  # which tools run on it (the curve's fleets: fewer)


@dataclass
class Sample:
    seconds: float
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Series:
    """The timed runs of one tool on one fleet."""

    fleet: str
    tool: str
    seconds: list[float] = field(default_factory=list)
    # What the tool reports of itself: "own" = its probing time (svccheck's duration_ms, the
    # scripts' gather/loop time).
    metrics: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    failed_runs: int = 0  # timed runs with at least one problem

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def inner(self) -> list[float]:
        return self.metrics.get("own", [])

    @property
    def inner_median(self) -> float:
        return statistics.median(self.inner) if self.inner else float("nan")


Metrics = dict[str, float]
Verifier = Callable[[Sample], tuple[list[str], Metrics]]  # -> (problems, metrics)


@dataclass(frozen=True)
class Tool:
    name: str
    command: list[str]
    verify: Verifier


@dataclass
class Results:
    runs: int
    series: dict[tuple[str, str], Series] = field(default_factory=dict)
    rss_kib: dict[str, list[int]] = field(default_factory=dict)
    rss_method: str = ""
    descriptors: dict[str, list[str]] = field(default_factory=dict)  # fleet -> what a run left open
    profile: list[ProfileLine] = field(default_factory=list)

    def get(self, fleet: str, tool: str) -> Series:
        return self.series[(fleet, tool)]

    @property
    def problems(self) -> list[str]:
        return [p for s in self.series.values() for p in s.problems]


# --- fleets -------------------------------------------------------------------------------


async def health_up(request: Request) -> Response | Raw:
    return json_response({"status": "UP"})


async def health_hangs(request: Request) -> Response | Raw:
    return hang()


def checks_router() -> Router:
    router = Router("bench")
    for i in range(BIG_PATHS):
        router.static("GET", f"/check/{i:03d}", json_response({"status": "UP", "n": i}))
    return router


def yaml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML scalar


def service_yaml(name: str, port: int, *, health: bool = True, extra: Sequence[str] = ()) -> list[str]:
    lines = [f"  {name}:", f"    url: {yaml_str(f'http://{HOST}:{port}')}"]
    lines += [f"    {line}" for line in extra]
    if health:
        lines.append("    health: /health")
    return lines


def write_fleet(
    workdir: Path,
    key: str,
    title: str,
    services: list[list[str]],
    targets: list[tuple[str, float]],
    *,
    defaults: str | None = None,
    failing: tuple[str, ...] = (),
    tools: tuple[str, ...] = ALL_TOOLS,
) -> Fleet:
    head = ["version: 1", f"# svccheck bench, fleet {key}: {title}"]
    if defaults:
        head.append(f"defaults: {defaults}")
    text = "\n".join([*head, "services:", *(line for s in services for line in s)]) + "\n"
    manifest = workdir / f"fleet-{key}.yaml"
    manifest.write_text(text)
    spec = workdir / f"fleet-{key}.targets.json"
    spec.write_text(json.dumps({"concurrency": CONCURRENCY, "targets": targets}))
    return Fleet(key, title, manifest, spec, len(targets), 1 if failing else 0, failing, tools)


def fleet_latency(servers: ServerThread, workdir: Path, key: str, title: str, slow: bool) -> Fleet:
    services, targets = [], []
    for i, latency in enumerate(SLOW_LATENCIES, start=1):
        port = servers.add(health_up, HOST, latency=latency if slow else 0.0)
        services.append(service_yaml(f"svc-{i:02d}", port))
        targets.append((f"http://{HOST}:{port}/health", DEFAULT_TIMEOUT))
    return write_fleet(workdir, key, title, services, targets)


def fleet_checks(
    servers: ServerThread,
    workdir: Path,
    key: str,
    ports: int,
    paths_each: int,
    tools: tuple[str, ...] = ALL_TOOLS,
    listening: list[int] | None = None,
) -> Fleet:
    """`ports` services with `paths_each` checks each, all at 0 ms (servers shared between fleets)."""
    services, targets = [], []
    listening = listening if listening is not None else []
    while len(listening) < ports:
        listening.append(servers.add(checks_router(), HOST))
    for i, port in enumerate(listening[:ports]):
        paths = [f"/check/{j:03d}" for j in range(paths_each)]
        checks = ["checks:", *(f"  - path: {p}" for p in paths)]
        services.append(service_yaml(f"svc-{i:02d}", port, health=False, extra=checks))
        targets += [(f"http://{HOST}:{port}{p}", DEFAULT_TIMEOUT) for p in paths]
    title = f"{ports * paths_each:,} checks at 0 ms ({ports} services x {paths_each} checks)"
    return write_fleet(workdir, key, title, services, targets, tools=tools)


def fleet_hang(servers: ServerThread, workdir: Path) -> Fleet:
    services, targets = [], []
    for i in range(1, 11):
        port = servers.add(health_up, HOST)
        services.append(service_yaml(f"svc-{i:02d}", port))
        targets.append((f"http://{HOST}:{port}/health", DEFAULT_TIMEOUT))
    port = servers.add(health_hangs, HOST)
    bounds = [f"timeout: {HANG_TIMEOUT:g}s", "retries: 0"]
    services.append(service_yaml("hangs", port, extra=bounds))
    targets.append((f"http://{HOST}:{port}/health", HANG_TIMEOUT))
    title = f"10 services at 0 ms + 1 that never answers (timeout {HANG_TIMEOUT:g}s, retries 0)"
    return write_fleet(workdir, "d", title, services, targets, defaults="{retries: 0}", failing=("hangs",))


def build_fleets(servers: ServerThread, workdir: Path) -> list[Fleet]:
    listening: list[int] = []  # the curve's fleets share their servers
    return [
        fleet_latency(servers, workdir, "a", "11 services, health at 20, 40 ... 220 ms", slow=True),
        fleet_latency(servers, workdir, "b", "the same 11 services at 0 ms", slow=False),
        fleet_checks(servers, workdir, "c", BIG_PORTS, BIG_PATHS, listening=listening),
        fleet_hang(servers, workdir),
        fleet_checks(servers, workdir, "e", SMALL_PORTS, SMALL_PATHS, CURVE_TOOLS, listening),
        fleet_checks(servers, workdir, "f", HUGE_PORTS, HUGE_PATHS, CURVE_TOOLS, listening),
    ]


# --- running and verifying ----------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The caller's environment without proxies or a default manifest, colour off."""
    drop = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "svccheck_manifest"}
    env = {k: v for k, v in os.environ.items() if k.lower() not in drop}
    env["NO_COLOR"] = "1"
    return env


def run(command: Sequence[str], timeout: float = RUN_TIMEOUT) -> Sample:
    start = perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=child_env(), check=False
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return Sample(perf_counter() - start, -9, out, f"killed after {timeout:g}s")
    return Sample(perf_counter() - start, done.returncode, done.stdout, done.stderr)


def describe(sample: Sample) -> str:
    tail = (sample.stderr.strip() or sample.stdout.strip())[-600:]
    return f"exit {sample.returncode}; output tail: {tail!r}"


def verify_svccheck(fleet: Fleet) -> Verifier:
    def verify(sample: Sample) -> tuple[list[str], Metrics]:
        try:
            report = json.loads(sample.stdout)
        except ValueError:
            return [f"stdout is not a JSON report ({describe(sample)})"], {}
        problems = report_problems(fleet, report, sample.returncode)
        if problems:
            context = (
                f"exit {sample.returncode}; summary {report.get('summary')}; stderr {sample.stderr[-300:]!r}"
            )
            problems = [f"{p} ({context})" for p in problems]
        return problems, report_metrics(report)

    return verify


def report_metrics(report: dict[str, Any]) -> Metrics:
    # A check that timed out has latency_ms null (no response), so only the run's duration is kept.
    duration = report.get("duration_ms")
    return {"own": duration / 1000} if isinstance(duration, int | float) else {}


def report_problems(fleet: Fleet, report: dict[str, Any], returncode: int) -> list[str]:
    expected_verdict = "fail" if fleet.failing else "pass"
    summary = report.get("summary", {})
    expected = {
        "exit code": (returncode, fleet.expect_exit),
        "exit_code in JSON": (report.get("exit_code"), fleet.expect_exit),
        "verdict": (report.get("verdict"), expected_verdict),
        "schema": (report.get("schema"), "svccheck/report-v1"),
        "summary.checks": (summary.get("checks"), fleet.checks),
        "summary.checks_failed": (summary.get("checks_failed"), len(fleet.failing)),
        "summary.checks_warned": (summary.get("checks_warned"), 0),
    }
    problems = [
        f"{what}: got {got!r}, expected {want!r}" for what, (got, want) in expected.items() if got != want
    ]
    return problems + failing_check_problems(fleet, report)


def failing_check_problems(fleet: Fleet, report: dict[str, Any]) -> list[str]:
    problems = []
    for service in report.get("services", []):
        if service.get("name") not in fleet.failing:
            continue
        for check in service.get("checks", []):
            got = (check.get("verdict"), check.get("failure_class"), check.get("attempts"))
            if got != ("fail", "timeout", 1):
                problems.append(f"{service['name']}/{check.get('name')}: (verdict, class, attempts) = {got}")
    return problems


def verify_script(fleet: Fleet) -> Verifier:
    def verify(sample: Sample) -> tuple[list[str], Metrics]:
        try:
            result = json.loads(sample.stdout)
        except ValueError:
            return [f"no result line ({describe(sample)})"], {}
        want = (fleet.checks - len(fleet.failing), len(fleet.failing))
        got = (result.get("ok"), result.get("failed"))
        problems = [] if sample.returncode == 0 and got == want else [f"(ok, failed) = {got}, want {want}"]
        seconds = result.get("seconds")
        return problems, ({"own": float(seconds)} if isinstance(seconds, int | float) else {})

    return verify


def verify_exit_zero(sample: Sample) -> tuple[list[str], Metrics]:
    return ([] if sample.returncode == 0 else [describe(sample)]), {}


def fleet_tools(fleet: Fleet, workdir: Path) -> list[Tool]:
    spec = str(fleet.targets)
    every = [
        Tool(
            SVCCHECK,
            [str(SVCCHECK_BIN), "all", "-f", str(fleet.manifest), "--format", "json"],
            verify_svccheck(fleet),
        ),
        Tool(BARE, [str(PYTHON), str(workdir / "bare_httpx.py"), spec], verify_script(fleet)),
        Tool(SEQUENTIAL, [str(PYTHON), str(workdir / "sequential.py"), spec], verify_script(fleet)),
        Tool(NODE, [NODE_BINARY or "node", str(workdir / "promise_all.js"), spec], verify_script(fleet)),
        Tool(AIOHTTP, [str(PYTHON), str(workdir / "aiohttp_gather.py"), spec], verify_script(fleet)),
    ]
    present = (
        {SVCCHECK, BARE, SEQUENTIAL}
        | ({NODE} if NODE_BINARY else set())
        | ({AIOHTTP} if has_aiohttp() else set())
    )
    return [tool for tool in every if tool.name in fleet.tools and tool.name in present]


@functools.cache
def has_aiohttp() -> bool:
    """The aiohttp reference runs when the venv has aiohttp (`pip install -e '.[bench]'`)."""
    done = subprocess.run([str(PYTHON), "-c", "import aiohttp"], capture_output=True, check=False)
    return done.returncode == 0


def startup_tools() -> list[Tool]:
    return [
        Tool("svccheck --version", [str(SVCCHECK_BIN), "--version"], verify_exit_zero),
        Tool("svccheck --help", [str(SVCCHECK_BIN), "--help"], verify_exit_zero),
        Tool('python -c "import httpx"', [str(PYTHON), "-c", "import httpx"], verify_exit_zero),
        Tool('python -c "pass"', [str(PYTHON), "-c", "pass"], verify_exit_zero),
    ]


def rotated(tools: list[Tool], shift: int) -> list[Tool]:
    shift %= len(tools)
    return tools[shift:] + tools[:shift]


def measure(results: Results, group: str, tools: list[Tool], runs: int) -> None:
    """One untimed warm-up each, then `runs` rounds, alternating tools (order rotates each round)."""
    for tool in tools:
        series = results.series.setdefault((group, tool.name), Series(group, tool.name))
        problems, _ = tool.verify(run(tool.command))
        record(series, "warm-up", problems)
    for round_no in range(runs):
        for tool in rotated(tools, round_no):
            series = results.series[(group, tool.name)]
            sample = run(tool.command)
            problems, metrics = tool.verify(sample)
            series.seconds.append(sample.seconds)
            for name, value in metrics.items():
                series.metrics.setdefault(name, []).append(value)
            record(series, f"run {round_no + 1}", problems)
    print(f"  {group}: done", file=sys.stderr, flush=True)


def record(series: Series, label: str, problems: list[str]) -> None:
    """Keep a run's problems and shout them at once: a benchmark of a broken run is worthless."""
    if problems and label != "warm-up":
        series.failed_runs += 1
    for problem in problems:
        line = f"[{series.fleet}] {series.tool} {label}: {problem}"
        series.problems.append(line)
        print(f"!!! MISMATCH {line}", file=sys.stderr, flush=True)


# --- peak memory --------------------------------------------------------------------------

RUSAGE_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL);"
    " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss_kib(command: list[str], workdir: Path) -> tuple[int | None, str]:
    """Peak RSS of one run of `command`, in KiB, and how it was measured."""
    gnu_time = shutil.which("time", path="/usr/bin")
    if gnu_time:
        out = workdir / "time.out"
        run([gnu_time, "-f", "%M", "-o", str(out), *command])
        text = out.read_text().strip().splitlines() if out.exists() else []
        return (int(text[-1]) if text and text[-1].isdigit() else None), "/usr/bin/time -f %M"
    # A fresh wrapper process has no other children, so its RUSAGE_CHILDREN maximum is this run's.
    sample = run([str(PYTHON), "-c", RUSAGE_WRAPPER, *command])
    value = sample.stdout.strip()
    return (int(value) if value.isdigit() else None), "getrusage(RUSAGE_CHILDREN) in a fresh wrapper process"


def measure_rss(results: Results, fleet: Fleet, workdir: Path, tools: Sequence[str]) -> None:
    for tool in fleet_tools(fleet, workdir):
        if tool.name not in tools:
            continue
        for _ in range(RSS_RUNS):
            kib, results.rss_method = peak_rss_kib(tool.command, workdir)
            if kib is None:
                results.series[(fleet.key, tool.name)].problems.append(f"peak RSS of {tool.name}: unreadable")
            else:
                results.rss_kib.setdefault(f"{fleet.key}/{tool.name}", []).append(kib)


def measure_descriptors(results: Results, fleet: Fleet, workdir: Path) -> None:
    """One in-process `svccheck all` run, then what it left open (`FD_ENTRY`)."""
    entry = workdir / "fd_entry.py"
    entry.write_text(FD_ENTRY)
    sample = run([str(PYTHON), str(entry), "all", "-f", str(fleet.manifest), "--format", "json"])
    try:
        left = json.loads(sample.stderr.strip().splitlines()[-1])["left_open"]
    except (ValueError, IndexError, KeyError, TypeError):
        results.series[(fleet.key, SVCCHECK)].problems.append(f"descriptor check: {describe(sample)}")
        return
    results.descriptors[fleet.key] = [str(target) for target in left]


# --- the report ---------------------------------------------------------------------------


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


def verdict(ok: bool) -> str:
    return "within" if ok else "**OVER**"


def timing_table(results: Results, fleets: list[Fleet]) -> list[str]:
    titles = {f.key: f"{f.key}: {f.title}" for f in fleets} | {"startup": "start-up"}
    lines = [
        "| fleet | tool | median | min–max | own time (median) | runs ok |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for s in results.series.values():
        spread = f"{ms(min(s.seconds))}–{ms(max(s.seconds))}" if s.seconds else "–"
        inner = ms(s.inner_median) if s.inner else ""
        ok = f"{len(s.seconds) - s.failed_runs}/{len(s.seconds)}"
        lines.append(f"| {titles[s.fleet]} | {s.tool} | {ms(s.median)} | {spread} | {inner} | {ok} |")
    return lines


def ratio_table(results: Results, fleets: list[Fleet]) -> list[str]:
    lines = [
        "| fleet | svccheck / bare httpx | svccheck − bare httpx, paired | svccheck / sequential"
        " | svccheck / node | svccheck / aiohttp |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in fleets:
        svc = results.get(f.key, SVCCHECK)
        cells = [f.key]
        for other in (BARE, "paired", SEQUENTIAL, NODE, AIOHTTP):
            if other == "paired":
                bare = results.series.get((f.key, BARE))
                cells.append(signed_ms(paired_difference(svc, bare)) if bare else "–")
                continue
            series = results.series.get((f.key, other))
            cells.append(ratio(svc.median, series.median) if series else "–")
        lines.append(row(*cells))
    return lines


def curve_table(results: Results, fleets: list[Fleet]) -> list[str]:
    """How the cost grows with the fleet: 100, 1,000 and 10,000 checks at 0 ms."""
    lines = [
        "| checks | svccheck median | checks/s, whole process | checks/s, in-process | aiohttp checks/s"
        " | peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in ("e", "c", "f"):
        fleet = next((f for f in fleets if f.key == key), None)
        if fleet is None or (key, SVCCHECK) not in results.series:
            continue
        svc = results.get(key, SVCCHECK)
        aio = results.series.get((key, AIOHTTP))
        peaks = results.rss_kib.get(f"{key}/{SVCCHECK}", [])
        lines.append(
            row(
                f"{fleet.checks:,}",
                ms(svc.median),
                f"{fleet.checks / svc.median:,.0f}",
                f"{fleet.checks / svc.inner_median:,.0f}" if svc.inner else "–",
                f"{fleet.checks / aio.median:,.0f}" if aio else "–",
                f"{max(peaks) / 1024:.1f} MiB" if peaks else "–",
            )
        )
    return lines


def paired_difference(a: Series, b: Series) -> float:
    """Median of a − b over the rounds: each round runs both, one shortly after the other, so
    machine noise that lasts longer than a round cancels out."""
    differences = [x - y for x, y in zip(a.seconds, b.seconds, strict=False)]
    return statistics.median(differences) if differences else float("nan")


def signed_ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:+,.0f} ms"


HANG_SLACK_OVER_BARE = 0.1  # the hanging fleet: svccheck's median ≤ the bare script's + this, seconds
RSS_LIMIT_MIB = 50.0
HUGE_RSS_LIMIT_MIB = 120.0
STARTUP_LIMIT = 1.5
FLOOR_FACTOR = 1.2
SLOWEST = max(SLOW_LATENCIES)


def target_rows(results: Results, fleets: dict[str, Fleet]) -> list[str]:
    """Every target whose fleets ran (`--fleets` may leave some out)."""
    return [line for line in _target_rows(results, fleets) if line]


def _target(make: Callable[[], str]) -> str:
    try:
        return make()
    except KeyError:  # a fleet or tool it reads did not run
        return ""


def _target_rows(results: Results, fleets: dict[str, Fleet]) -> list[str]:
    rows = [
        _target(lambda: target_vs(results, "a", NODE, "eleven at 20 … 220 ms, svccheck / node", 1.0)),
        _target(lambda: target_floor(results)),
        _target(lambda: target_vs(results, "b", NODE, "eleven services at 0 ms, svccheck / node", 1.0)),
        _target(lambda: target_startup(results, "svccheck --version")),
        _target(lambda: target_startup(results, "svccheck --help")),
        _target(lambda: target_thousand(results, fleets["c"])),
        _target(lambda: target_memory(results, "c", RSS_LIMIT_MIB)),
        _target(lambda: target_hang(results)),
        _target(lambda: target_huge_rate(results, fleets["c"], fleets["f"])),
        _target(lambda: target_memory(results, "f", HUGE_RSS_LIMIT_MIB)),
        _target(lambda: target_descriptors(results)),
    ]
    return rows


def target_vs(results: Results, fleet: str, other: str, what: str, limit: float) -> str:
    series = results.series.get((fleet, other))
    if series is None:
        return row(what, f"{other} not run", f"≤ {limit:.2f}×", "**UNKNOWN**")
    svc, them = results.get(fleet, SVCCHECK).median, series.median
    measured = f"{ms(svc)} vs {ms(them)} = {ratio(svc, them)}"
    return row(what, measured, f"≤ {limit:.2f}×", verdict(svc <= limit * them))


def target_floor(results: Results) -> str:
    """The floor: the slowest service, plus starting Python with httpx imported (medians, this run)."""
    svc = results.get("a", SVCCHECK).median
    floor = SLOWEST + results.get("startup", 'python -c "import httpx"').median
    measured = f"{ms(svc)} vs floor {ms(floor)} (220 ms + `import httpx`) = {ratio(svc, floor)}"
    what = "eleven services at 20 … 220 ms, svccheck / floor"
    return row(what, measured, f"≤ {FLOOR_FACTOR:.2f}×", verdict(svc <= FLOOR_FACTOR * floor))


def target_startup(results: Results, tool: str) -> str:
    own = results.get("startup", tool).median
    base = results.get("startup", 'python -c "import httpx"').median
    measured = f"{ms(own)} vs {ms(base)} = {ratio(own, base)}"
    what = f'`{tool}` / `python -c "import httpx"`'
    return row(what, measured, f"≤ {STARTUP_LIMIT}×", verdict(own <= STARTUP_LIMIT * base))


def target_thousand(results: Results, fleet: Fleet) -> str:
    svc = results.get("c", SVCCHECK)
    aio = results.series.get(("c", AIOHTTP))
    what = f"{fleet.checks:,} checks at 0 ms, rate / aiohttp rate"
    if aio is None:
        return row(what, "aiohttp not run", "≥ 1.00×", "**UNKNOWN**")
    rate_svc, rate_aio = fleet.checks / svc.median, fleet.checks / aio.median
    inner = ""
    if svc.inner and aio.inner:
        inner_svc, inner_aio = fleet.checks / svc.inner_median, fleet.checks / aio.inner_median
        inner = f"; in-process {inner_svc:,.0f} vs {inner_aio:,.0f} checks/s"
    rates = f"{rate_svc:,.0f} vs {rate_aio:,.0f} checks/s"
    measured = f"whole process {rates} = {ratio(rate_svc, rate_aio)}{inner}"
    return row(what, measured, "≥ 1.00×", verdict(rate_svc >= rate_aio))


def target_huge_rate(results: Results, thousand: Fleet, huge: Fleet) -> str:
    svc_c, svc_f = results.get("c", SVCCHECK), results.get("f", SVCCHECK)
    rate_c, rate_f = thousand.checks / svc_c.median, huge.checks / svc_f.median
    finished = f"{len(svc_f.seconds) - svc_f.failed_runs}/{len(svc_f.seconds)} runs verified"
    measured = f"{rate_f:,.0f} vs {rate_c:,.0f} checks/s = {rate_f / rate_c:.2f}× ({finished})"
    met = rate_f >= rate_c and svc_f.failed_runs == 0 and bool(svc_f.seconds)
    what = f"{huge.checks:,} checks: rate / rate at {thousand.checks:,}"
    return row(what, measured, "≥ 1.00×", verdict(met))


def target_descriptors(results: Results) -> str:
    left = results.descriptors
    if not left:
        return row("descriptors left open after a run", "not measured", "none", "**UNKNOWN**")
    parts = [
        f"{key}: {len(found)}" + (f" ({', '.join(found[:3])})" if found else "")
        for key, found in left.items()
    ]
    met = all(not found for found in left.values())
    what = "descriptors left open after a run (1,000 and 10,000 checks)"
    return row(what, "; ".join(parts), "none", verdict(met))


def target_hang(results: Results) -> str:
    """svccheck's median on fleet d against the bare script's, which meets the same hang."""
    svc = results.get("d", SVCCHECK)
    bare = results.get("d", BARE)
    limit = bare.median + HANG_SLACK_OVER_BARE
    measured = (
        f"{ms(svc.median)} (worst {ms(max(svc.seconds, default=float('nan')))}; own time worst"
        f" {ms(max(svc.inner, default=float('nan')))}) vs bare httpx {ms(bare.median)}, paired difference"
        f" {signed_ms(paired_difference(svc, bare))}"
    )
    what = "a service that hangs (2 s, retries 0): svccheck median ≤ bare httpx median + 0.1 s"
    return row(what, measured, f"≤ {ms(limit)}", verdict(svc.median <= limit))


def target_memory(results: Results, fleet: str, limit: float) -> str:
    peaks = results.rss_kib.get(f"{fleet}/{SVCCHECK}", [])
    what = f"peak RSS, fleet {fleet}"
    if not peaks:
        return row(what, "not measured", f"≤ {limit:.0f} MiB", "**UNKNOWN**")
    peak = max(peaks) / 1024
    others = [
        f"{tool} {max(results.rss_kib[f'{fleet}/{tool}']) / 1024:.1f} MiB"
        for tool in (BARE, NODE, AIOHTTP)
        if results.rss_kib.get(f"{fleet}/{tool}")
    ]
    versus = f" ({', '.join(others)})" if others else ""
    how = f"max of {len(peaks)} runs, {results.rss_method}"
    return row(what, f"{peak:.1f} MiB{versus}; {how}", f"≤ {limit:.0f} MiB", verdict(peak <= limit))


# --- where the time goes on fleet c ---------------------------------------------------------

HTTP_STACK = ("httpx", "httpcore", "h11", "anyio", "asyncio", "ssl", "socket", "selectors")


@dataclass
class ProfileLine:
    tottime: float
    calls: str
    where: str  # "package/module.py:line(function)" or a built-in's name

    @property
    def ours(self) -> bool:
        return self.where.startswith("svccheck/")

    @property
    def http_stack(self) -> bool:
        package = self.where.split("/", 1)[0].split(".", 1)[0]
        return package in HTTP_STACK or "_socket.socket" in self.where


def profile_thousand(fleet: Fleet, workdir: Path) -> list[ProfileLine]:
    """One cProfile'd svccheck run on fleet c, its functions by self time (most first)."""
    import pstats

    out = workdir / "thousand.prof"
    # The console script ends with os._exit, which would end cProfile before it writes
    # its file; this entry runs the same command and returns.
    entry = workdir / "profile_entry.py"
    entry.write_text(PROFILE_ENTRY)
    command = [str(PYTHON), "-m", "cProfile", "-o", str(out), str(entry), "all", "-f", str(fleet.manifest)]
    run([*command, "--format", "json"])
    if not out.exists():
        return []
    stats = pstats.Stats(str(out))
    lines = []
    for (filename, lineno, name), (cc, nc, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        site = filename.split("site-packages/")[-1].split("/src/")[-1].split("python3.11/")[-1]
        where = f"{site}:{lineno}({name})" if lineno else name
        calls = f"{nc}" if nc == cc else f"{nc}/{cc}"
        lines.append(ProfileLine(tottime, calls, where))
    lines.sort(key=lambda line: line.tottime, reverse=True)
    return lines


def profile_rows(lines: list[ProfileLine], top: int = 15) -> list[str]:
    if not lines:
        return ["(the profiled run failed)"]
    rows = ["| rank | self time | calls | function | |", "| ---: | ---: | ---: | --- | --- |"]
    for rank, line in enumerate(lines[:top], 1):
        tag = "svccheck" if line.ours else ("HTTP stack" if line.http_stack else "")
        rows.append(f"| {rank} | {line.tottime * 1000:,.0f} ms | {line.calls} | `{line.where}` | {tag} |")
    first_ours = next(((i, line) for i, line in enumerate(lines, 1) if line.ours), None)
    if first_ours is not None:
        rank, line = first_ours
        rows += [
            "",
            f"The first svccheck function is at rank {rank}: `{line.where}`,"
            f" {line.tottime * 1000:,.0f} ms of self time.",
        ]
    return rows


def render(results: Results, fleets: list[Fleet]) -> str:
    by_key = {f.key: f for f in fleets}
    parts = [
        f"{results.runs} timed runs per tool and fleet ({results.runs * STARTUP_FACTOR} for start-up),"
        " after one untimed warm-up each; whole-process wall clock. *Own time* is the tool's own"
        " measure of its probing (svccheck's `duration_ms`, the scripts' `gather`/loop time).",
        "",
        *timing_table(results, fleets),
        "",
        *ratio_table(results, fleets),
        "",
        "How the cost grows with the fleet (0 ms, 10 or 100 services of 10 or 100 checks):",
        "",
        *curve_table(results, fleets),
        "",
        "| target | measured (medians unless said) | limit | |",
        "| --- | --- | --- | --- |",
        *target_rows(results, by_key),
        "",
        "Self time by function in one cProfile'd svccheck run on fleet c"
        " (`svccheck all -f c.yaml --format json` in-process under `python -m cProfile`;"
        " cProfile slows every call, so read ranks, not totals):",
        "",
        *profile_rows(results.profile),
    ]
    problems = results.problems
    if problems:
        parts += ["", f"**{len(problems)} VERIFICATION MISMATCHES — these figures are not trustworthy:**", ""]
        parts += [f"- {p}" for p in problems[:20]]
    return "\n".join(parts)


# --- the machine, and the README ----------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_line() -> str:
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    py = f"Python {platform.python_version()} ({sys.implementation.name})"
    load = f"load avg {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    system = f"{platform.system()} {platform.release()}"
    return f"{date} · nproc {nproc} · {cpu_model()} · {py} · {system} · {load} at the end"


def write_readme(table: str, command: str) -> None:
    section = f"{FIGURES_HEADING}\n\n{machine_line()} · `{command}`\n\n{table}\n"
    text = README.read_text() if README.exists() else "# svccheck benchmark\n\n"
    pattern = re.compile(rf"^{re.escape(FIGURES_HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    README.write_text(text)


# --- main ---------------------------------------------------------------------------------


@contextlib.contextmanager
def loopback_servers() -> Iterator[ServerThread]:
    servers = ServerThread("svccheck-bench").start()
    try:
        yield servers
    finally:
        servers.stop()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=None, help="timed runs per tool and fleet (default 7)")
    parser.add_argument("--quick", action="store_true", help="3 runs (unless --runs is given)")
    parser.add_argument(
        "--write-readme", action="store_true", help="rewrite bench/README.md's latest figures"
    )
    parser.add_argument(
        "--fleets",
        default="startup,a,b,c,d,e,f",
        help="which to run, comma-separated (default all: startup,a,b,c,d,e,f)",
    )
    args = parser.parse_args(argv)
    args.fleets = {key.strip() for key in args.fleets.split(",") if key.strip()}
    args.runs = args.runs or (3 if args.quick else 7)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def check_environment() -> None:
    for path in (PYTHON, SVCCHECK_BIN):
        if not path.exists():
            sys.exit(f"bench: {path} not found; create the venv first (see the README)")


def compile_bytecode() -> None:
    """Write svccheck's .pyc files, as `pip install` does for a regular install.

    An editable install under PYTHONDONTWRITEBYTECODE would otherwise compile
    every module on every start, and start-up would be measured on code no
    user runs.
    """
    where = subprocess.run(
        [str(PYTHON), "-c", "import os, svccheck; print(os.path.dirname(svccheck.__file__))"],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
    ).stdout.strip()
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", where], check=True, env=child_env())


def benchmark(runs: int, workdir: Path, chosen: set[str]) -> tuple[Results, list[Fleet]]:
    (workdir / "bare_httpx.py").write_text(BARE_SCRIPT)
    (workdir / "sequential.py").write_text(SEQUENTIAL_SCRIPT)
    (workdir / "aiohttp_gather.py").write_text(AIOHTTP_SCRIPT)
    (workdir / "promise_all.js").write_text(NODE_SCRIPT)
    results = Results(runs)
    with loopback_servers() as servers:
        fleets = [fleet for fleet in build_fleets(servers, workdir) if fleet.key in chosen]
        print(f"bench: {runs} runs; manifests in {workdir}", file=sys.stderr, flush=True)
        if "startup" in chosen:
            measure(results, "startup", startup_tools(), runs * STARTUP_FACTOR)
        by_key = {fleet.key: fleet for fleet in fleets}
        for fleet in fleets:
            fleet_runs = min(runs, HUGE_RUNS) if fleet.key == "f" else runs
            measure(results, fleet.key, fleet_tools(fleet, workdir), fleet_runs)
        if "c" in by_key:
            measure_rss(results, by_key["c"], workdir, (SVCCHECK, BARE, NODE, AIOHTTP))
            measure_descriptors(results, by_key["c"], workdir)
            results.profile = profile_thousand(by_key["c"], workdir)
        if "f" in by_key:
            measure_rss(results, by_key["f"], workdir, (SVCCHECK,))
            measure_descriptors(results, by_key["f"], workdir)
        if servers.errors and fleets:
            results.series[(fleets[0].key, SVCCHECK)].problems.append(
                f"loopback server errors: {list(servers.errors)}"
            )
    return results, fleets


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    check_environment()
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="svccheck-bench-") as tmp:
        results, fleets = benchmark(args.runs, Path(tmp), args.fleets)
    table = render(results, fleets)
    print(f"\n{machine_line()}\n\n{table}")
    if args.write_readme:
        words = ["env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/bench.py", *(argv or sys.argv[1:])]
        command = " ".join(words)
        write_readme(table, command)
        print(f"\nbench: wrote {README.relative_to(REPO)}", file=sys.stderr)
    if results.problems:
        print(f"\nbench: {len(results.problems)} verification mismatches (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
