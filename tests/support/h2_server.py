"""A real HTTP/2 server (hypercorn) over TLS on loopback, answering the HTTP version it spoke.

Every request gets `200 {"status": "UP", "http_version": "2"}` (or `"1.1"`): what the
server saw, not what the client claims. Skips without hypercorn (the `test` extra has it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from support.real_services import free_port

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = json.dumps({"status": "UP", "http_version": scope["http_version"]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def h2_server(ca: trustme.CA, folder: Path) -> Iterator[int]:
    """hypercorn on 127.0.0.1 with a certificate from `ca`, offering h2 and http/1.1; yields its port."""
    hypercorn_asyncio = pytest.importorskip(
        "hypercorn.asyncio", reason="pip install hypercorn (the test extra)"
    )
    from hypercorn.config import Config

    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(folder / "h2-cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "h2-key.pem"))
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = str(folder / "h2-cert.pem"), str(folder / "h2-key.pem")
    config.accesslog = config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        await hypercorn_asyncio.serve(_app, config, shutdown_trigger=stop.wait)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    _wait_listening(port)
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


def _wait_listening(port: int, deadline: float = 10.0) -> None:
    """Until the port accepts a connection: hypercorn binds after its start-up, in its own thread."""
    end = time.monotonic() + deadline
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.01)
