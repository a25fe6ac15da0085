"""An HTTPS server that requires a client certificate and refuses one as nginx does.

It reads what the client already sent before closing a connection whose
handshake failed (nginx's lingering close), so the client reads the TLS alert
(`certificate required`) instead of a reset that discards it. With a
certificate it answers every request `200 {"status": "UP"}`.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator

_ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{"status":"UP"}'


def _serve_one(raw: socket.socket, context: ssl.SSLContext) -> None:
    raw.settimeout(5)
    tls = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
    try:
        tls.do_handshake()
        tls.recv(65536)
        tls.sendall(_ANSWER)
    except (ssl.SSLError, OSError):
        with contextlib.suppress(OSError):
            # the alert is out; the plain socket's FIN, not a reset, follows it
            socket.socket.shutdown(tls, socket.SHUT_WR)
            while socket.socket.recv(tls, 65536):
                pass
    finally:
        tls.close()


@contextlib.contextmanager
def mtls_https_server(context: ssl.SSLContext) -> Iterator[int]:
    """Serve on 127.0.0.1 with `context` (which requires a client certificate); yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopped = threading.Event()

    def accept() -> None:
        while not stopped.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve_one, args=(raw, context), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        listener.close()
        thread.join(timeout=5)
