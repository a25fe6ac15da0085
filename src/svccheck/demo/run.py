"""Glue between the demo fleet and the CLI: the bundled manifest, pointed at the fleet."""

from __future__ import annotations

import dataclasses
import signal
import threading
from importlib import resources
from pathlib import Path

from svccheck.model import Manifest


def bundled_manifest_path() -> Path:
    return Path(str(resources.files("svccheck.demo").joinpath("services.yaml")))


def rebase(manifest: Manifest, urls: dict[str, str]) -> Manifest:
    """The same manifest with each service's base URL replaced (the fleet's ephemeral ports)."""
    services = []
    for service in manifest.services:
        new_base = urls.get(service.name)
        if new_base is None:
            services.append(service)
            continue
        old_base = service.url.rstrip("/")
        checks = tuple(
            dataclasses.replace(c, url=new_base.rstrip("/") + c.url[len(old_base) :])
            if c.url.startswith(old_base)
            else c
            for c in service.checks
        )
        services.append(dataclasses.replace(service, url=new_base, checks=checks))
    return dataclasses.replace(manifest, services=tuple(services))


def serve_until_interrupted(scenario: str) -> int:
    """Run the fleet on the root manifest's ports (8080-8090) until Ctrl-C or SIGTERM."""
    from svccheck.demo.fleet import DEFAULT_PORTS, Fleet

    fleet = Fleet(scenario=scenario, ports=dict(DEFAULT_PORTS))
    try:
        fleet.start()
    except OSError as exc:
        print(f"svccheck: cannot start the demo fleet on ports 8080-8090: {exc}")
        return 2
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"demo fleet ({scenario}) serving; try: svccheck all -f services.yaml   (Ctrl-C stops)")
    for name, url in fleet.urls.items():
        print(f"  {name:<22} {url}")
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
    print("demo fleet stopped")
    return 0
