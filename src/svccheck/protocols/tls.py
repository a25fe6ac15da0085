"""TLS contexts: the operating system's trust store plus certifi's, or exactly a given CA bundle.

One context per verification setting for the whole run, shared by every protocol.
"""

from __future__ import annotations

import ssl

from svccheck.model import ClientCertificate

_context_cache: dict[object, ssl.SSLContext] = {}


def ssl_context(
    verify: bool | str, client: ClientCertificate | None = None, *, http2: bool = False
) -> ssl.SSLContext:
    """The operating system's trust store plus certifi's roots, or exactly a given CA bundle.

    `truststore` verifies against the platform's own store (Keychain, Windows'
    store, OpenSSL's system paths honouring SSL_CERT_FILE/SSL_CERT_DIR), so a
    corporate CA installed there passes without flags; certifi's roots are
    loaded on top so a thin container without CA certificates still verifies
    public services. A client certificate, when given, is presented to a server that asks.
    """
    # httpcore sets a context's ALPN protocols on every connection: HTTP/2 lanes get contexts of their own
    key = verify if client is None and not http2 else (verify, client, http2)
    cached = _context_cache.get(key)
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
    if client is not None:  # checked at load: the files exist and belong together
        context.load_cert_chain(client.cert, client.key, password=client.password)
    _context_cache[key] = context
    return context
