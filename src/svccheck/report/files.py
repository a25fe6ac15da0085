"""Report files are complete or absent: written to a temp file, then renamed.

The file gets the mode a plain `open()` would give it (0666 less the umask), not
mkstemp's 0600: node_exporter's textfile collector and CI artifact uploaders
often run as another user and must be able to read it.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, content: str) -> None:
    directory = path.parent if str(path.parent) else Path()
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask; reading it means setting it, so it is put back at once."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
