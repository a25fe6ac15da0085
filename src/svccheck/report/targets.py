"""The manifest's services as Prometheus HTTP service discovery (`http_sd_configs`).

`GET /targets` on `serve` (and `svccheck targets --format prometheus-sd`)
answers `[{"targets": ["NAME"], "labels": {...}}, ...]`, one group per service,
so Prometheus discovers what to probe from the manifest itself. A target is the
service's name: the scrape config's relabelling makes it `__param_service` and
sends the scrape to a replica's `/probe`.

Labels: `critical` ("true"/"false") and `tags` in Consul's form (",a,b,", so
`tags=~".*,db,.*"` matches a tag). No `service` label (each answer's series
carry their own) and no `location` (the replica that probes adds it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from svccheck.model import Service
from svccheck.redact import Redactor

CONTENT_TYPE = "application/json; charset=utf-8"  # Prometheus refuses any other type


def groups(services: Sequence[Service], redactor: Redactor) -> list[dict[str, Any]]:
    return [
        {
            "targets": [redactor.text(service.name)],
            "labels": {
                "critical": "true" if service.critical else "false",
                "tags": "," + "".join(f"{redactor.text(t)}," for t in service.tags) if service.tags else "",
            },
        }
        for service in services
    ]


def render(services: Sequence[Service], redactor: Redactor) -> str:
    return json.dumps(groups(services, redactor), indent=2, ensure_ascii=False) + "\n"


__all__ = ["CONTENT_TYPE", "groups", "render"]
