"""The verified peer certificate of an HTTPS answer: when it expires, who it names."""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime
from typing import Any

from svccheck.model import Certificate

_DAY = 86400.0


def peer_certificate(extensions: Any, now: float | None = None) -> Certificate | None:
    """From a response's `network_stream` extension; `None` when not verified or not TLS.

    An unverified connection (``verify_tls: false``) exposes no parsed
    certificate, so nothing is read rather than something unchecked.
    """
    stream = extensions.get("network_stream") if extensions else None
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    try:
        cert = ssl_object.getpeercert()
    except (ValueError, ssl.SSLError):
        return None
    return certificate_from_dict(cert, time.time() if now is None else now) if cert else None


def certificate_from_dict(cert: dict[str, Any], now: float) -> Certificate | None:
    """`ssl.SSLSocket.getpeercert()` → Certificate; `None` without a readable `notAfter`."""
    not_after = cert.get("notAfter")
    if not isinstance(not_after, str):
        return None
    try:
        expires = ssl.cert_time_to_seconds(not_after)
    except ValueError:
        return None
    return Certificate(
        not_after=datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds"),
        days_left=(expires - now) / _DAY,
        subject=_name(cert.get("subject")),
        issuer=_name(cert.get("issuer")),
    )


def _name(rdns: Any) -> str | None:
    """``((('commonName', 'x'),), ...)`` → ``CN=x, O=…``, the parts people read."""
    short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU"}
    parts: list[str] = []
    try:
        for rdn in rdns or ():
            for key, value in rdn:
                if key in short:
                    parts.append(f"{short[key]}={value}")
    except (TypeError, ValueError):
        return None
    return ", ".join(parts) or None
