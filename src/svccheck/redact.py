"""The one place that decides what is secret. Every renderer goes through it.

Secrets are masked by place (sensitive header names, URL passwords, query
parameters named like tokens) and by value: every secret value known from the
manifest is masked wherever it shows up again, e.g. echoed in a response body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from svccheck.model import Manifest

MASK = "***"
_SENSITIVE_HEADER = re.compile(
    r"^(authorization|proxy-authorization|cookie|set-cookie)$|api[-_]?key|token|secret|password|passwd|auth|session|credential",
    re.IGNORECASE,
)
_SENSITIVE_PARAM = re.compile(
    r"token|key|secret|password|passwd|pwd|auth|signature|^sig$|session|credential", re.IGNORECASE
)
# scheme://user:password@ anywhere in free text (a reason, an error, an echoed body)
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]*@")
# Shorter values would mask ordinary words all over the output; they are still
# masked where they stand in a sensitive place.
_MIN_VALUE_LENGTH = 4


def is_sensitive_header(name: str) -> bool:
    return bool(_SENSITIVE_HEADER.search(name))


def is_sensitive_param(name: str) -> bool:
    return bool(_SENSITIVE_PARAM.search(name))


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if len(s) >= _MIN_VALUE_LENGTH}
        self._values = sorted(values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in self._values)) if self._values else None

    @classmethod
    def for_manifest(cls, manifest: Manifest) -> Redactor:
        return cls(secret_values(manifest))

    def text(self, text: str) -> str:
        if not text:
            return text
        if "@" in text:
            text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def header(self, name: str, value: str) -> str:
        return MASK if is_sensitive_header(name) else self.text(value)

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.header(name, value)) for name, value in pairs]

    def url(self, url: str) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user, has_password, _ = userinfo.partition(":")
            netloc = f"{user}:{MASK}@{hostport}" if has_password else f"{user}@{hostport}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(is_sensitive_param(k) for k, _ in pairs):
                query = urlencode([(k, MASK if is_sensitive_param(k) else v) for k, v in pairs], safe="*")
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def secret_values(manifest: Manifest) -> set[str]:
    """Every value in the manifest that sits in a secret place, plus interpolated secrets."""
    values = set(manifest.secrets)
    for service in manifest.services:
        for check in service.checks:
            for name, value in check.headers:
                if is_sensitive_header(name):
                    values.add(value)
                    _, _, credential = value.partition(" ")
                    if credential:
                        values.add(credential.strip())
            values.update(_url_secrets(check.url))
    return {v for v in values if v}


def _url_secrets(url: str) -> set[str]:
    found: set[str] = set()
    try:
        parts = urlsplit(url)
        if parts.password:
            found.add(parts.password)
        found.update(v for k, v in parse_qsl(parts.query) if is_sensitive_param(k))
    except ValueError:
        pass
    return found
