"""`svccheck list`: the manifest's services as a table (url, critical, tags, depends_on, checks)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from svccheck.model import Manifest
from svccheck.redact import Redactor
from svccheck.report.layout import Column, Fitted, Row, build

COLUMNS = ("service", "url", "critical", "tags", "depends_on", "checks")

# as the terminal narrows, the number of checks goes first, then the tags (#15); a name or a
# URL is never broken, and depends_on wraps between names
LAYOUT = (
    Column("service", "service"),
    Column("url", "url"),
    Column("critical", "critical", drop=3),
    Column("tags", "tags", wraps=True, drop=2),
    Column("depends_on", "depends_on", wraps=True, flex=True, flex_min=1),
    Column("checks", "checks", justify="right", drop=1),
)


def render(manifest: Manifest, redactor: Redactor) -> RenderableType:
    rows: list[Row] = [
        {
            # cells are Text: a tag `[beta]` is shown as written, never read as markup
            "service": Text(redactor.text(service.name)),
            "url": Text(redactor.url(service.url)),
            "critical": "yes" if service.critical else "no",
            "tags": Text(", ".join(redactor.text(tag) for tag in service.tags)),
            "depends_on": Text(", ".join(redactor.text(name) for name in service.depends_on)),
            "checks": str(len(service.checks)),
        }
        for service in manifest.services
    ]
    return Fitted(lambda width: build(LAYOUT, rows, width, header_style="bold"))


__all__ = ["COLUMNS", "LAYOUT", "render"]
