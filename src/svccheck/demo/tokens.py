"""The demo fleet's JWTs: auth-service signs them, the other demo services verify them.

PyJWT, HS256 with a key made once per process: every demo service runs in the one
process (`Fleet`, `svccheck demo --serve`), so they share it, and no key is ever
written anywhere. Imported by the demo only: a check of a manifest never loads PyJWT.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

ISSUER = "http://auth-service"
AUDIENCE = "svccheck-demo"
KEY_ID = "demo-hs256"
LIFETIME = 3600  # seconds: `expires_in` of every token
_ALGORITHM = "HS256"
_KEY = secrets.token_bytes(32)


def issue(subject: str, scope: str = "read") -> str:
    now = int(time.time())
    claims: dict[str, object] = {"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "scope": scope}
    claims |= {"iat": now, "exp": now + LIFETIME}
    return jwt.encode(claims, _KEY, algorithm=_ALGORITHM, headers={"kid": KEY_ID})


def verify(token: str) -> dict[str, Any] | None:
    """The token's claims when auth-service signed it, for this audience, and it has not expired."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, _KEY, algorithms=[_ALGORITHM], audience=AUDIENCE, issuer=ISSUER
        )
    except jwt.PyJWTError:
        return None
    return claims
