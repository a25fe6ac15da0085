"""The manifest's `auth:` (named credentials) and a check's `capture:`, declared once.

```yaml
auth:
  smoke:
    oauth2: {token_url: http://localhost:8081/oauth/token, client_id: smoke, client_secret: ${S}}
  ops:
    basic: {username: ops, password: "${OPS_PASSWORD}"}
defaults: {auth: smoke}        # a service or a check may name another, or `auth: none`
```

`grammar.schema` takes these kinds into the manifest's, service's and check's shapes;
which names exist and which captures are used where is checked by
`svccheck.manifest.captures`, on the whole file.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

from svccheck.grammar.shape import (
    BOOLEAN_SCHEMA,
    INTERPOLATED,
    Before,
    Field,
    Invalid,
    Json,
    MapOf,
    Nullable,
    Scalar,
    Shape,
    Spec,
    parse_bool,
    text,
)
from svccheck.grammar.tokens import CAPTURE_REFERENCE

NO_AUTH = "none"  # `auth: none`: this service or check sends no credential, whatever defaults say
CLIENT_AUTH = ("client_secret_basic", "client_secret_post")
# a capture is referred to as `${capture.NAME}`; a credential by its name in `auth:`
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def capture_names(text: str) -> list[str]:
    """The capture names `text` refers to, in order."""
    return CAPTURE_REFERENCE.findall(text) if "capture." in text else []


def _name_problem(kind: str) -> Any:
    def problem(name: str) -> str | None:
        if NAME.fullmatch(name):
            return None
        return f"bad {kind} name {name!r}: a letter or '_', then letters, digits, '_' or '-'"

    return problem


def _token_url(value: object) -> str:
    url = text(value).strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise Invalid(f"bad token_url: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("token_url: expected an http:// or https:// URL with a host")
    if not url.isprintable() or " " in url:
        raise Invalid("token_url: a space or control character cannot be written in a URL")
    return url


def _client_auth(value: object) -> str:
    if value not in CLIENT_AUTH:
        raise Invalid(f"client_auth: expected {' or '.join(CLIENT_AUTH)}, got {value!r}")
    return str(value)


_TEXT = Scalar(text, {"type": "string"})
_BOOL = Scalar(parse_bool, BOOLEAN_SCHEMA)


class OAuth2Spec(Spec):
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(
            "token_url",
            Scalar(_token_url, {"type": "string"}),
            required=True,
            description="the authorization server's token endpoint",
            examples=["http://localhost:8081/oauth/token"],
        ),
        Field("client_id", _TEXT, required=True, description="the client's id"),
        Field(
            "client_secret",
            _TEXT,
            required=True,
            description="the client's secret: give it as ${VAR}, ${VAR_FILE} or ${file:/run/secrets/x}",
        ),
        Field("scope", Nullable(_TEXT), description="space-separated scopes to ask for"),
        Field("audience", Nullable(_TEXT), description="the API the token is for (a common extension)"),
        Field(
            "client_auth",
            Scalar(_client_auth, {"enum": list(CLIENT_AUTH)}),
            default="client_secret_basic",
            description="how the client authenticates: HTTP Basic (default) or in the form",
        ),
        Field(
            "form",
            Nullable(MapOf(_TEXT)),
            description="extra form fields of the token request",
            examples=[{"resource": "https://api.example"}],
        ),
    )
    token_url: str
    client_id: str
    client_secret: str
    scope: str | None
    audience: str | None
    client_auth: str
    form: dict[str, str] | None


class BasicSpec(Spec):
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("username", _TEXT, required=True, description="the user name"),
        Field("password", _TEXT, required=True, description="the password: give it as ${VAR}"),
    )
    username: str
    password: str


class CredentialSpec(Spec):
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(
            "oauth2",
            Nullable(Shape(OAuth2Spec)),
            description="OAuth2 client credentials (RFC 6749 §4.4): a bearer token fetched once per run",
        ),
        Field("basic", Nullable(Shape(BasicSpec)), description="HTTP Basic authentication"),
    )
    oauth2: OAuth2Spec | None
    basic: BasicSpec | None


CREDENTIALS = MapOf(Shape(CredentialSpec), key_problem=_name_problem("credential"))

AUTH_CHOICE = Nullable(
    Scalar(
        lambda value: text(value).strip(),
        {"anyOf": [{"type": "string", "pattern": NAME.pattern}, INTERPOLATED]},
    )
)


def _json_path(value: object) -> str:
    from svccheck.judge.expect import json_query  # the JSONPath library, only for a manifest with one

    query = text(value)
    try:
        json_query(query)
    except Exception as exc:  # the library raises its own hierarchy; any failure is a bad path
        raise Invalid(f"bad JSONPath {query!r}: {exc}") from None
    return query


class CaptureSpec(Spec):
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("json", Nullable(Scalar(_json_path, {"type": "string"})), attr="json_", description="JSONPath"),
        Field("header", Nullable(_TEXT), description="a response header"),
        Field(
            "secret",
            _BOOL,
            default=True,
            description="masked in every output (the default); false for an id a person may read",
        ),
    )
    json_: str | None
    header: str | None
    secret: bool


def _capture_shorthand(value: object) -> object:
    return {"json": value} if isinstance(value, str) else value


def _capture_schema(schema: Json) -> Json:
    return {"anyOf": [{"type": "string", "description": "an RFC 9535 JSONPath on the body"}, schema]}


CAPTURES = Nullable(
    MapOf(
        Before(_capture_shorthand, Shape(CaptureSpec), _capture_schema),
        key_problem=_name_problem("capture"),
    )
)
