"""The one place that decides what is secret. Every renderer goes through it.

Secrets are masked by place (sensitive header names, URL passwords, query
parameters named like tokens, secret-named keys of a JSON body) and by value:
every secret value known from the manifest, and every one a service handed out
during the run (a `Set-Cookie` value, a token in a JSON body), is masked
wherever it shows up again, e.g. echoed in a response body.

Whatever the Redactor returns has also passed the text neutraliser
(`svccheck.neutral`): masking and neutralising are one step, so a renderer that
goes through the Redactor can never show a control sequence.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

from svccheck.model import CheckResult, HttpRequest, Manifest, Report
from svccheck.neutral import neutralise, neutralise_block

MASK = "***"
# What makes a header name (or a JSON key) secret wherever it appears in the name.
_SECRET_NAME_PARTS = (
    "apikey",
    "api-key",
    "api_key",
    "token",
    "secret",
    "password",
    "passwd",
    "auth",
    "session",
    "credential",
)
_SENSITIVE_HEADER = re.compile(
    "^(authorization|proxy-authorization|cookie|set-cookie)$|" + "|".join(_SECRET_NAME_PARTS),
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
# Learned values kept at once: far more than one run's cookies and tokens (a fleet of 1,000
# checks), few enough that a mask pattern of them compiles in ~0.1 s (2,000 new values a
# round once made round 40 of `serve` take 5 s, 2 s more every 10 rounds).
_MAX_LEARNED = 5_000


# What marks a shortened text (health, expect, next_step cut with it).
ELLIPSIS = "…"


def _first_known_start(candidates: Iterable[str], known: list[str]) -> int:
    """The length of the first candidate some string of `known` (sorted) starts with, else 0.

    With the text's endings before an ellipsis and the secrets, it finds a secret's
    head; with the text's beginnings after one, reversed, and the secrets reversed,
    a secret's tail. Bisection keeps it cheap however many secrets a run learned.
    """
    for candidate in candidates:
        at = bisect.bisect_left(known, candidate)
        if at < len(known) and known[at].startswith(candidate):
            return len(candidate)
    return 0


def is_sensitive_header(name: str) -> bool:
    return bool(_SENSITIVE_HEADER.search(name))


def is_sensitive_param(name: str) -> bool:
    return bool(_SENSITIVE_PARAM.search(name))


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._fixed = {s for s in secrets if len(s) >= _MIN_VALUE_LENGTH}  # the manifest's: kept for good
        self._learned: dict[str, None] = {}  # what services handed out, oldest first
        self._values: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        # for secrets cut by an ellipsis: tails (sorted) and heads (reversed, sorted)
        self._sorted: list[str] = []
        self._reversed: list[str] = []
        self._longest = 0
        self._compile()

    @classmethod
    def for_manifest(cls, manifest: Manifest) -> Redactor:
        return cls(secret_values(manifest))

    def learn(self, secrets: Iterable[str]) -> None:
        """Mask these values too from now on (what services handed out during the run).

        Only the `_MAX_LEARNED` most recently seen are kept: a long `serve` or `watch`
        against a service that hands out a fresh session every round would otherwise
        grow the pattern, and the time every round takes, without end.
        """
        changed = False
        for value in secrets:
            if len(value) < _MIN_VALUE_LENGTH or value in self._fixed:
                continue
            changed = changed or value not in self._learned
            self._learned.pop(value, None)
            self._learned[value] = None  # the most recent last
        if not changed:
            return
        for oldest in list(self._learned)[: max(0, len(self._learned) - _MAX_LEARNED)]:
            del self._learned[oldest]
        self._compile()

    def _compile(self) -> None:
        known = self._fixed | self._learned.keys()
        if not known:
            return
        self._values = sorted(known, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in self._values))
        self._sorted = sorted(known)
        self._reversed = sorted(v[::-1] for v in known)
        self._longest = len(self._values[0])

    def learn_report(self, report: Report) -> None:
        """Every secret a service handed out in `report`'s answers."""
        self.learn_results(check for service in report.services for check in service.checks)

    def learn_results(self, results: Iterable[CheckResult]) -> None:
        """Every secret a service handed out in these answers (a round still going on, for `wait`)."""
        self.learn(value for result in results for value in result.secrets)

    def mask(self, text: str) -> str:
        """Secrets masked, nothing else: for parts of a document neutralised as a whole afterwards."""
        return self._mask(text) if text else text

    def _mask(self, text: str) -> str:
        if "@" in text:
            text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
        if self._pattern is None:
            return text
        text = self._pattern.sub(MASK, text)
        return self._mask_cut(text) if ELLIPSIS in text else text

    def _mask_cut(self, text: str) -> str:
        """A secret cut in half by a shortened text: its head before an ellipsis, its tail after one.

        Reasons and component messages are cut to a length before they are shown
        (``…``), so a secret straddling the cut is no longer there whole to match.
        """
        parts = text.split(ELLIPSIS)
        for index in range(len(parts) - 1):
            before, after = parts[index], parts[index + 1]
            sizes = range(min(self._longest, len(before)), _MIN_VALUE_LENGTH - 1, -1)
            head = _first_known_start((before[-n:] for n in sizes), self._sorted)
            sizes = range(min(self._longest, len(after)), _MIN_VALUE_LENGTH - 1, -1)
            tail = _first_known_start((after[:n][::-1] for n in sizes), self._reversed)
            parts[index] = before[: len(before) - head] + MASK if head else before
            parts[index + 1] = MASK + after[tail:] if tail else after
        return ELLIPSIS.join(parts)

    def text(self, text: str) -> str:
        """One line, secrets masked, controls shown as escapes: safe for any renderer."""
        if not text:
            return text
        return neutralise(self._mask(text))

    def block(self, text: str) -> str:
        """Like `text`, for several lines (a body): newlines and tabs kept."""
        if not text:
            return text
        return neutralise_block(self._mask(text))

    def header(self, name: str, value: str) -> str:
        return MASK if is_sensitive_header(name) else self.text(value)

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """(name, value) pairs fit to show: both neutralised, the value masked where it is secret."""
        return [(neutralise(name), self.header(name, value)) for name, value in pairs]

    def form(self, text: str) -> str:
        """An `application/x-www-form-urlencoded` body: secret-named fields masked, like a query string."""
        pairs = parse_qsl(text, keep_blank_values=True)
        if any(is_sensitive_param(k) for k, _ in pairs):
            text = urlencode([(k, MASK if is_sensitive_param(k) else v) for k, v in pairs], safe="*")
        return self.text(text)

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


# A JSON body is parsed for secret-named keys only when its bytes hold a part of such a name
# at all: most health bodies do not. Substring searches of the lower-cased bytes, ~8 µs for a
# 1 KiB body; a regex over every position (`"…token…":`) took ~70 µs on every answer.
_SECRET_NAME_BYTES = tuple(part.encode() for part in (*_SECRET_NAME_PARTS, "cookie"))
# A value a service hands out is learned only from this length on: tokens and session ids are
# long, while a hostile `{"token": "DOWN"}` would otherwise mask every "DOWN" of every service.
# Shorter ones are still masked where they stand (the secret-named key, the Set-Cookie header).
_MIN_LEARNED_LENGTH = 8
# Bounds the walk of a hostile body: a JSON document of this many nodes is far beyond any answer.
_MAX_JSON_NODES = 100_000


def answer_secrets(
    headers: Iterable[tuple[str, str]], body: bytes, hop_cookies: Iterable[str] = (), url: str = ""
) -> frozenset[str]:
    """What a service handed out in an answer: `Set-Cookie` values, secret-named JSON values and
    the secrets of the URL it redirected to (`Location: /next?access_token=…`).

    They are secrets for the rest of the run, masked by value wherever they show up
    again (an echo of the request's cookie, a token in a later body).
    """
    found: set[str] = set()
    for cookie in (*hop_cookies, *(v for k, v in headers if k.lower() == "set-cookie")):
        found.update(_cookie_values(cookie))
    if body and _may_name_a_secret(body):
        found.update(_json_secrets(body))
    if url:
        found.update(url_secrets(url))
    return frozenset(v for v in found if len(v) >= _MIN_LEARNED_LENGTH)


def _may_name_a_secret(body: bytes) -> bool:
    lowered = body.lower()
    return any(part in lowered for part in _SECRET_NAME_BYTES)


def _cookie_values(set_cookie: str) -> set[str]:
    pair = set_cookie.split(";", 1)[0]
    _, has_value, value = pair.partition("=")
    value = value.strip().strip('"')
    return {value} if has_value and value else set()


def _json_secrets(body: bytes) -> set[str]:
    import json

    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return set()
    found: set[str] = set()
    stack: list[object] = [document]
    visited = 0
    while stack and visited < _MAX_JSON_NODES:
        node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    if is_secret_key(str(key)):
                        found.add(str(value))
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


# Keys named like a secret that describe one instead (OAuth's `token_type: bearer`,
# `expires_in`, `token_endpoint`...): masking them would hide what a person needs to read,
# and would make ordinary words ("bearer") secret values for the rest of the run.
_DESCRIBES_A_SECRET = re.compile(
    r"(^|[_\-.])(type|types|expires(_in|_at)?|expiry|ttl|url|uri|endpoint|method|methods|scheme|"
    r"status|enabled|required|mode|format|version|count|length)$|^author",
    re.IGNORECASE,
)


def is_secret_key(name: str) -> bool:
    """A JSON key whose value is masked wherever a body is shown: named like a secret header."""
    return is_sensitive_header(name) and not _DESCRIBES_A_SECRET.search(name)


def secret_values(manifest: Manifest) -> set[str]:
    """Every value in the manifest that sits in a secret place, plus interpolated secrets."""
    values = set(manifest.secrets)
    for service in manifest.services:
        for check in service.checks:
            headers = check.target.headers if isinstance(check.target, HttpRequest) else ()
            for name, value in headers:
                if is_sensitive_header(name):
                    values.add(value)
                    _, _, credential = value.partition(" ")
                    if credential:
                        values.add(credential.strip())
            values.update(url_secrets(check.url))
    return {v for v in values if v}


def _basic_credential(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def url_secrets(url: str) -> set[str]:
    """A URL's password and secret-named query values, each as written and as decoded.

    The URL's own form (``s3cr%2Ft0ken``, ``two+words``) is what an echo of the URL
    and the curl line show; the decoded one is what a server that read it echoes.
    """
    found: set[str] = set()
    if "@" not in url and "?" not in url:  # no password, no query: the common case on every answer
        return found
    try:
        parts = urlsplit(url)
        if parts.password:
            found.update((parts.password, unquote(parts.password)))
            # httpx sends URL credentials as `Authorization: Basic base64(user:password)`:
            # a server that echoes that header shows the password in this form
            found.add(_basic_credential(unquote(parts.username or ""), unquote(parts.password)))
        for field in parts.query.split("&") if parts.query else ():
            name, _, value = field.partition("=")
            if value and is_sensitive_param(unquote_plus(name)):
                found.update((value, unquote_plus(value)))
    except ValueError:
        pass
    return found
