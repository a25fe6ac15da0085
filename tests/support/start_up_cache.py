"""What the tests of svccheck's start-up caches (`startup_cache`) share: damaged files, the real command."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from support.cli import run_cli


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1 :]


def damaged(valid: bytes) -> list[object]:
    """The ways a file that is not ours looks, made from a `valid` one (pytest params with ids)."""
    return [
        pytest.param(b"", id="empty"),
        pytest.param(valid[:-3], id="truncated"),
        pytest.param(b"not marshal at all", id="garbage"),
        pytest.param(b"\x00\x00\r\n" + valid[4:], id="foreign-magic"),
        # a byte flipped inside the table, then near its end: the CRC, not marshal, sees it
        pytest.param(flipped(valid, 20), id="flipped-inside"),
        pytest.param(flipped(valid, len(valid) - 2), id="flipped-end"),
        pytest.param(valid[:8] + marshal.dumps(["a list, not the table"]), id="bad-crc-list"),
    ]


def written_once_by_the_command(tmp_path: Path, name: str) -> Path:
    """Run `svccheck validate` twice with bytecode written: the cache file `name`.*.marshal, which
    the first run wrote and the second only read; and none where bytecode is not written."""
    manifest = tmp_path / "services.yaml"
    manifest.write_text("version: 1\nservices:\n  api:\n    url: http://127.0.0.1:9\n    health: /health\n")
    prefix = tmp_path / "pycache"
    env = {"PYTHONPYCACHEPREFIX": str(prefix), "PYTHONDONTWRITEBYTECODE": ""}  # empty: bytecode is written
    assert run_cli("validate", "-f", str(manifest), env=env).returncode == 0
    written = list(prefix.rglob(f"{name}.*.marshal"))
    assert len(written) == 1, list(prefix.rglob("*"))
    before = written[0].stat()
    assert run_cli("validate", "-f", str(manifest), env=env).returncode == 0
    after = written[0].stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), (
        "rewritten: it compiled again"
    )

    off = tmp_path / "pycache-off"
    off_env = {"PYTHONPYCACHEPREFIX": str(off), "PYTHONDONTWRITEBYTECODE": "1"}
    assert run_cli("validate", "-f", str(manifest), env=off_env).returncode == 0
    assert not list(off.rglob("*.marshal"))
    return written[0]
