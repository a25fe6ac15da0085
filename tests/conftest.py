"""The pytest fixtures every test module may ask for: loopback HTTP servers and a manifest writer.
Helpers (the CLI as a subprocess, handlers, real services, reports built in memory) live in
`support/`."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

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
