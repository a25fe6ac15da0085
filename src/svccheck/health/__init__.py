"""Pure: a health endpoint's body → what it says about the service's health (see `reading`)."""

from svccheck.health.reading import (
    MAX_COMPONENTS,
    MAX_DEPTH,
    MAX_TEXT,
    Component,
    HealthReading,
    HealthStatus,
    parse_health,
    status_word,
)

__all__ = [
    "MAX_COMPONENTS",
    "MAX_DEPTH",
    "MAX_TEXT",
    "Component",
    "HealthReading",
    "HealthStatus",
    "parse_health",
    "status_word",
]
