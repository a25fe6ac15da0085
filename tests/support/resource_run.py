"""1,000 checks against one loopback server, in this process: what it costs in descriptors and memory.

Run by test_resources.py in a fresh interpreter, so that the
peak RSS is this run's and nobody else's; prints one JSON object. By hand:
`.venv/bin/python tests/support/resource_run.py 1000`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.prober import ProbeSettings
from svccheck.engine.run import execute
from svccheck.manifest import parse_manifest


def open_fds() -> list[str]:
    """Descriptors open in this process, with what they point at (sockets show as socket:[inode])."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            found.append(str(fd.readlink()))
        except OSError:
            continue  # the descriptor listdir itself used, closed by now
    return sorted(found)


def client_sockets(port: int) -> int:
    """Our open TCP sockets whose peer is `port`: the client ends of connections to the server."""
    inodes = {t[len("socket:[") : -1] for t in open_fds() if t.startswith("socket:[")}
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in inodes:
                count += 1
    return count


def peak_rss_mib() -> float:
    """VmHWM: this process image's peak RSS (ru_maxrss would carry the parent's over fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def ok(request: Request) -> Response:
    return json_response({"status": "UP", "path": request.path})


def main(checks: int) -> dict[str, object]:
    before = open_fds()
    rss_before = peak_rss_mib()
    servers = ServerThread().start()
    try:
        port = servers.add(ok)
        per_service = 100
        # generous: on a loaded machine a few of 1,000 loopback requests wait seconds for a CPU
        lines = ["defaults: {timeout: 30s, retries: 0}", "services:"]
        for s in range(max(1, checks // per_service)):
            lines.append(f"  s{s}:\n    url: http://127.0.0.1:{port}\n    checks:")
            lines.extend(f"      - {{name: c{i}, path: /s{s}/c{i}}}" for i in range(per_service))
        manifest = parse_manifest("\n".join(lines) + "\n", "services.yaml", environ={})
        started = time.perf_counter()
        report = asyncio.run(execute(manifest.services, ProbeSettings()))
        elapsed = time.perf_counter() - started
        during = open_fds()
        clients_left = client_sockets(port)
    finally:
        servers.stop()
    after = open_fds()
    return {
        "checks": report.summary.checks,
        "passed": sum(c.verdict == "pass" for s in report.services for c in s.checks),
        "seconds": round(elapsed, 3),
        "fds_before": before,
        "fds_after_run": during,
        "client_sockets_after_run": clients_left,
        "fds_after_stop": after,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "rss_before_mib": round(rss_before, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
