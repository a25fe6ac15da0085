"""The pytest fixtures every test module may ask for: loopback HTTP servers, a manifest writer, and a
real Redis, PostgreSQL and plain TCP listener. Helpers (the CLI as a subprocess, handlers, reports
built in memory, hostile text) live in `support/`."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.real_services import postgres_server, redis_server
from support.servers import Banner, tcp_listener
from svccheck.demo.server import ServerThread


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    thread = ServerThread().start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def manifest_file(tmp_path: Path) -> Iterator[object]:
    def write(text: str, name: str = "services.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    yield write


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    """A real Redis (skips when redis-server is not installed), one per test module."""
    with redis_server() as port:
        yield port


@pytest.fixture(scope="module")
def postgres_port() -> Iterator[int]:
    """A real PostgreSQL (skips when it is not installed), one per test module."""
    with postgres_server() as port:
        yield port


@pytest.fixture
def banner_port() -> Iterator[int]:
    """A plain TCP listener that greets every connection with an SMTP-like line."""
    with tcp_listener(Banner) as port:
        yield port
