"""Loopback servers in this process: HTTP handlers on `svccheck.demo.server`, and a plain TCP listener."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from svccheck.demo.server import Handler, Raw, Request, Response, ServerThread, hang, json_response


@contextlib.contextmanager
def serving(directory: Path, manifest: Callable[..., str], *handlers: Handler) -> Iterator[Path]:
    """Loopback servers answering with `handlers`, and `directory/services.yaml` as
    `manifest(*ports)` writes it (for module-scoped fixtures, which cannot use `servers`)."""
    thread = ServerThread().start()
    try:
        ports = [thread.add(handler) for handler in handlers]
        path = directory / "services.yaml"
        path.write_text(manifest(*ports))
        yield path
    finally:
        thread.stop()


class Counting:
    """A handler answering with each status in turn, then the last one again; counts requests.

    The body is a health document saying UP below 400 and DOWN from 400 on.
    """

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.calls = 0

    async def __call__(self, request: Request) -> Response:
        status = self.statuses[min(self.calls, len(self.statuses) - 1)]
        self.calls += 1
        return json_response({"status": "UP" if status < 400 else "DOWN"}, status=status)


def half_stuck_fleet(
    servers: ServerThread, write_manifest: Callable[[str], Path]
) -> tuple[Path, threading.Event]:
    """A manifest of two services: `fast` answers, `slow` never does.

    The event is set once slow's request is in flight: the moment to signal a
    run that has results to show and a check still open.
    """
    reached = threading.Event()

    async def stuck(request: Request) -> Raw:
        reached.set()
        return hang()

    async def up(request: Request) -> Response:
        return json_response({"status": "UP"})

    slow, fast = servers.add(stuck), servers.add(up)
    path = write_manifest(f"""
        defaults: {{timeout: 60s, retries: 0}}
        services:
          fast: {{url: "http://127.0.0.1:{fast}", health: /health}}
          slow: {{url: "http://127.0.0.1:{slow}", health: /health}}
    """)
    return path, reached


class Banner(socketserver.BaseRequestHandler):
    """Greets every connection with a line, as SMTP does."""

    def handle(self) -> None:
        self.request.sendall(b"220 mail.example ESMTP ready\r\n")


@contextlib.contextmanager
def tcp_listener(handler: type[socketserver.BaseRequestHandler]) -> Iterator[int]:
    """A plain TCP server on a loopback port, `handler` serving each connection; the port."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
