"""Whole-process A/B of two svccheck source trees on the same loopback fleet, alternating.

    git worktree add /tmp/before HEAD~3
    .venv/bin/python bench/ab.py /tmp/before/src src

`svccheck all --format json` on 1,000 checks (10 servers x 100 paths) that each answer
a 20-component health body (~1 KiB, what real health endpoints send; `bench.py`'s
fleets answer 16 bytes), N runs of each tree in alternating order, with each tree put
first on `PYTHONPATH` so both pay the same import path. Prints the medians and the
median of the paired differences (B - A), the steadiest figure on a busy machine.
Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from svccheck.demo.server import Request, Response, ServerThread, json_response

BODY = {
    "status": "UP",
    "components": {f"c{i}": {"status": "UP", "details": {"version": "1.2.3"}} for i in range(20)},
}


async def healthy(request: Request) -> Response:
    return json_response(BODY)


def manifest(ports: list[int], paths: int) -> str:
    lines = ["services:"]
    for index, port in enumerate(ports):
        lines += [f"  s{index}:", f"    url: 'http://127.0.0.1:{port}'", "    checks:"]
        lines += [f"      - {{name: c{j}, path: /p{j}}}" for j in range(paths)]
    return "\n".join(lines) + "\n"


def run(src: str, path: Path) -> float:
    env = dict(os.environ, PYTHONPATH=src)  # svccheck ignores proxy variables (trust_env=False)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as an installed svccheck has
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "svccheck", "all", "-f", str(path), "--format", "json"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{src}: exit {result.returncode}: {result.stderr[-500:]!r}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="source tree A (the one holding the svccheck package)")
    parser.add_argument("b", help="source tree B")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    servers = ServerThread().start()
    try:
        ports = [servers.add(healthy) for _ in range(10)]
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "services.yaml"
            path.write_text(manifest(ports, 100))
            times: dict[str, list[float]] = {args.a: [], args.b: []}
            for round_ in range(args.runs):
                for src in (args.a, args.b) if round_ % 2 else (args.b, args.a):
                    times[src].append(run(src, path))
    finally:
        servers.stop()
    a, b = (statistics.median(times[src]) for src in (args.a, args.b))
    paired = statistics.median(y - x for x, y in zip(times[args.a], times[args.b], strict=True))
    print(
        f"A {args.a}: {a * 1000:.0f} ms · B {args.b}: {b * 1000:.0f} ms "
        f"(medians of {args.runs}, alternating) · B - A paired: {paired * 1000:+.0f} ms"
    )


if __name__ == "__main__":
    main()
