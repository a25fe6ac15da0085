"""The demo fleet on ephemeral loopback ports, and the bundled manifest pointed at it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from svccheck.demo.fleet import DEFAULT_PORTS, Fleet
from svccheck.demo.run import bundled_manifest_path


@contextmanager
def fleet_manifest(scenario: str, directory: Path) -> Iterator[Path]:
    """`services.yaml` in `directory`, the demo's manifest with each fixed port replaced by the fleet's."""
    with Fleet(scenario) as fleet:
        by_port = {str(port): str(fleet.ports[name]) for name, port in DEFAULT_PORTS.items()}
        bundled = bundled_manifest_path()
        text = bundled.read_text(encoding="utf-8")
        # the contracts the bundled manifest refers to (`openapi: openapi/….yaml`) sit beside it
        for folder in (entry for entry in bundled.parent.iterdir() if entry.is_dir()):
            if folder.name != "__pycache__":
                shutil.copytree(folder, directory / folder.name, dirs_exist_ok=True)
        text = re.sub(r"(?<=:)(80[89]\d)\b", lambda m: by_port.get(m.group(1), m.group(1)), text)
        path = directory / "services.yaml"
        path.write_text(text, encoding="utf-8")
        yield path


__all__ = ["fleet_manifest"]
