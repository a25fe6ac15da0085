"""Report files are complete or absent: written to a temp file, then renamed."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, content: str) -> None:
    directory = path.parent if str(path.parent) else Path()
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
