"""svccheck: health checks and smoke tests for a fleet of HTTP services."""

from svccheck._version import __version__

__all__ = ["__version__"]
