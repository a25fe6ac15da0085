"""Glue between the demo fleet and the CLI: the bundled manifest, pointed at the fleet."""

from __future__ import annotations

import dataclasses
import shlex
import signal
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from svccheck.errors import UsageError
from svccheck.model import Check, Manifest, OAuth2Credential

# the demo's ports are gone when it exits: the table's reproduce line points at the fleet on its fixed
# ports, with the manifest installed with svccheck (pip users have no repository's services.yaml, #15)
REPRODUCE = (
    "svccheck demo --serve --scenario {scenario}, then in another terminal: "
    "svccheck check {{name}} -v -f {manifest}"
)


def reproduce_line(scenario: str) -> str:
    """`REPRODUCE` for `scenario`, naming the bundled manifest where it is installed."""
    return REPRODUCE.format(scenario=scenario, manifest=shlex.quote(str(bundled_manifest_path())))


class FleetError(UsageError):
    """The demo fleet could not start (a port taken): nothing was probed."""


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
    # a credential's token endpoint is one of the fleet's services too (auth-service's)
    bases = [(s.url.rstrip("/"), urls[s.name].rstrip("/")) for s in manifest.services if s.name in urls]
    services = [
        dataclasses.replace(s, checks=tuple(_rebase_auth(c, bases) for c in s.checks)) for s in services
    ]
    return dataclasses.replace(manifest, services=tuple(services))


def _rebase_auth(check: Check, bases: list[tuple[str, str]]) -> Check:
    credential = check.auth
    if not isinstance(credential, OAuth2Credential):
        return check
    for old_base, new_base in bases:
        if credential.token_url.startswith(old_base + "/"):
            token_url = new_base + credential.token_url[len(old_base) :]
            return dataclasses.replace(check, auth=dataclasses.replace(credential, token_url=token_url))
    return check


def serve_until_interrupted(scenario: str) -> int:
    """Run the fleet on the root manifest's ports (8080-8090) until Ctrl-C or SIGTERM."""
    from svccheck.demo.fleet import DEFAULT_PORTS, Fleet

    fleet = Fleet(scenario=scenario, ports=dict(DEFAULT_PORTS))
    try:
        fleet.start()
    except OSError as exc:
        raise FleetError(f"cannot start the demo fleet on ports 8080-8090: {exc}") from None
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    manifest = shlex.quote(str(bundled_manifest_path()))
    print(f"demo fleet ({scenario}) serving; try: svccheck all -f {manifest}   (Ctrl-C stops)")
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


def with_fleet(scenario: str, manifest: Manifest, check: Callable[[Manifest], int]) -> int:
    """`check(manifest rebased onto the fleet)` while the fleet runs on ephemeral ports; its exit code."""
    from svccheck.demo.fleet import Fleet

    try:
        fleet = Fleet(scenario=scenario)
        fleet.start()
    except OSError as exc:
        raise FleetError(f"cannot start the demo fleet: {exc}") from None
    try:
        return _with_ledger(rebase(manifest, fleet.urls), check)
    finally:
        fleet.stop()


def _with_ledger(manifest: Manifest, check: Callable[[Manifest], int]) -> int:
    """The gRPC row (`ledger-service`) beside the HTTP fleet when grpcio is installed; else how to add it."""
    from svccheck.demo.ledger import HINT, ledger_available, ledger_server, with_ledger

    if not ledger_available():
        import sys

        print(HINT, file=sys.stderr)
        return check(manifest)
    with ledger_server() as port:
        return check(with_ledger(manifest, port))
