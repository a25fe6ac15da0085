"""`svccheck list`: the manifest's services as a table (url, critical, tags, depends_on, checks)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from svccheck.model import Manifest
from svccheck.redact import Redactor

COLUMNS = ("service", "url", "critical", "tags", "depends_on", "checks")


def render(manifest: Manifest, redactor: Redactor) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for service in manifest.services:
        # cells are Text: a tag `[beta]` is shown as written, never read as markup
        table.add_row(
            Text(redactor.text(service.name)),
            Text(redactor.url(service.url)),
            "yes" if service.critical else "no",
            Text(", ".join(redactor.text(tag) for tag in service.tags)),
            Text(", ".join(redactor.text(name) for name in service.depends_on)),
            str(len(service.checks)),
        )
    return table


__all__ = ["render"]
