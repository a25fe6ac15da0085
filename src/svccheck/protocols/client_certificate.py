"""A client certificate from the manifest (`client_cert`, `client_key`, `client_key_password`).

https://, tcp:// with `tls` and grpcs:// services take the same three keys;
this module builds them into the check's `ClientCertificate` (paths made
absolute, relative to the manifest) and says, at load, whether the files exist
and belong together, so a wrong path is a manifest error at its line and
column rather than a TLS failure on every run. It never reads a file's
contents into anything that is shown.
"""

from __future__ import annotations

from svccheck.grammar import schema
from svccheck.grammar.issues import Reporter
from svccheck.grammar.positions import Path
from svccheck.grammar.settings import ca_bundle_path
from svccheck.grammar.shape import INVALID
from svccheck.model import ClientCertificate


def client_certificate(svc: schema.ServiceSpec, manifest_path: str) -> ClientCertificate | None:
    """The service's client certificate, if it has one (built only from a manifest without problems)."""
    if not svc.client_cert or not svc.client_key:
        return None
    return ClientCertificate(
        cert=str(ca_bundle_path(svc.client_cert, manifest_path)),
        key=str(ca_bundle_path(svc.client_key, manifest_path)),
        password=svc.client_key_password or None,
    )


def check_client_certificate(
    svc: schema.ServiceSpec, where: Path, manifest_path: str, report: Reporter
) -> None:
    """Both files given, readable, and the key the certificate's: one error at the key that is wrong."""
    cert, key, password = svc.client_cert, svc.client_key, svc.client_key_password
    if INVALID in (cert, key, password) or (cert is None and key is None and password is None):
        return
    if cert is None or key is None:
        given, missing = ("client_cert", "client_key") if cert is not None else ("client_key", "client_cert")
        report.error((*where, given), f"{given} needs {missing} as well", key=True)
        return
    cert_path, key_path = ca_bundle_path(cert, manifest_path), ca_bundle_path(key, manifest_path)
    missing_files = [
        (k, v)
        for k, v, p in (("client_cert", cert, cert_path), ("client_key", key, key_path))
        if not p.is_file()
    ]
    for name, value in missing_files:
        report.error((*where, name), f"{name}: file {value!r} not found")
    if missing_files:
        return
    import ssl  # only for a manifest with a client certificate

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        # what every TLS client of svccheck does with it: the same check, once, at load
        context.load_cert_chain(str(cert_path), str(key_path), password=password or _no_password)
    except (ssl.SSLError, ValueError) as exc:
        report.error((*where, "client_key"), _why(exc, password is not None))
    except OSError as exc:
        report.error((*where, "client_cert"), f"client_cert: cannot read: {exc.strerror or exc}")


def _no_password() -> str:
    # an encrypted key and no passphrase: fail at once instead of OpenSSL asking on the terminal
    raise ValueError("no passphrase")


def _why(exc: Exception, has_password: bool) -> str:
    reason = str(getattr(exc, "reason", "") or "").lower()
    if "mismatch" in reason:
        return "client_key does not belong to client_cert (the key and the certificate do not match)"
    text = str(exc).lower()
    if any(
        word in reason or word in text for word in ("bad decrypt", "bad password", "no passphrase", "pem lib")
    ):
        if has_password:
            return "client_key cannot be decrypted with client_key_password"
        return "client_key is encrypted: give its passphrase as client_key_password (a secret variable)"
    return (
        f"client_cert/client_key: not a PEM certificate and its key ({getattr(exc, 'reason', None) or exc})"
    )
