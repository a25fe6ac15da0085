"""TLS contexts: the operating system's trust store plus certifi's, or exactly a given CA bundle.

One context per verification setting for the whole run, shared by every protocol.
"""

from __future__ import annotations

import ssl

_context_cache: dict[object, ssl.SSLContext] = {}


def ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The operating system's trust store plus certifi's roots, or exactly a given CA bundle.

    `truststore` verifies against the platform's own store (Keychain, Windows'
    store, OpenSSL's system paths honouring SSL_CERT_FILE/SSL_CERT_DIR), so a
    corporate CA installed there passes without flags; certifi's roots are
    loaded on top so a thin container without CA certificates still verifies
    public services.
    """
    cached = _context_cache.get(verify)
    if cached is not None:
        return cached
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        context = ssl.create_default_context(cafile=verify)
    else:
        import certifi
        import truststore

        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=certifi.where())
    _context_cache[verify] = context
    return context
