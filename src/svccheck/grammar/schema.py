"""The manifest's shape: validation and JSON Schema from one declaration.

These specs describe the file as written (after `${VAR}` interpolation);
each protocol's shape (`svccheck.protocols`) turns them into the immutable runtime model.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from svccheck.durations import parse_duration
from svccheck.grammar import tokens
from svccheck.grammar.auth import AUTH_CHOICE, CAPTURES, CREDENTIALS
from svccheck.grammar.shape import (
    BOOLEAN_SCHEMA,
    INTERPOLATED,
    INVALID,
    Before,
    Field,
    Invalid,
    Json,
    Kind,
    ListOf,
    Loc,
    MapOf,
    Nullable,
    Problem,
    Scalar,
    Shape,
    Spec,
    anything,
    describe,
    dotted,
    integer,
    integer_kind,
    integer_schema,
    parse_bool,
    text,
    whole_number,
)
from svccheck.judge.operators import OPERATORS, matcher_schema
from svccheck.model import Matcher, StatusExpect
from svccheck.neutral import neutralise

MATCHER_OPS = tuple(OPERATORS)  # svccheck.judge.operators: each operator's operand, evaluation and words
HTTP_METHODS = tokens.HTTP_METHODS


def _duration_reader(form: tokens.Token, positive: bool) -> Callable[[object], float]:
    def parse(value: object) -> float:
        if isinstance(value, str) and tokens.DURATION.read(value) is None:
            raise Invalid(f"bad duration {value!r}: use a number with ms, s, m or h, like 250ms or 5s")
        try:
            seconds = parse_duration(tokens.strip(value) if isinstance(value, str) else value)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        # the text form decides for text ("0s" has no digit above 0), the number for a number
        zero = form.read(value) is None if isinstance(value, str) else seconds <= 0
        if positive and zero:
            raise Invalid(f"expected a duration above 0, got {value!r}")
        return seconds

    return parse


def _duration_schema(form: tokens.Token, positive: bool) -> Json:
    bound = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    return {
        "anyOf": [
            {"type": "string", "pattern": form.pattern},
            # below the largest float: YAML's `.inf` is no duration
            {"type": "number", **bound, "maximum": sys.float_info.max},
            INTERPOLATED,
        ],
        "description": "a duration: 250ms, 5s, 1m, or plain seconds",
        "examples": ["250ms", "5s", "1m"],
    }


DURATION = Nullable(
    Scalar(_duration_reader(tokens.DURATION, False), _duration_schema(tokens.DURATION, False))
)
POSITIVE_DURATION = Nullable(
    Scalar(_duration_reader(tokens.POSITIVE_DURATION, True), _duration_schema(tokens.POSITIVE_DURATION, True))
)
TEXT = Scalar(text, {"type": "string"})
BOOL = Scalar(parse_bool, BOOLEAN_SCHEMA)
ANY = Scalar(anything, {})


def _status(value: object) -> StatusExpect:
    """An int, a list of them, or a class like "2xx" (any case), read into the runtime value."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise Invalid("expected at least one status code")
    codes: set[int] = set()
    classes: set[int] = set()
    for item in items:
        if isinstance(item, str) and (written := tokens.STATUS_CLASS.read(item)) is not None:
            classes.add(int(written[0]))
            continue
        code = None if isinstance(item, list | dict) else whole_number(item)
        if code is None:
            raise Invalid(f"expected a status code like 200 or '2xx', got {item!r}")
        if not 100 <= code <= 599 or (isinstance(item, str) and tokens.STATUS_CODE.read(item) is None):
            raise Invalid(f"status code {item} is not between 100 and 599")
        codes.add(code)
    label = ", ".join(str(i) for i in items) if isinstance(value, list) else str(value)
    return StatusExpect(codes=frozenset(codes), classes=frozenset(classes), text=label)


_STATUS_ITEM: list[Json] = [
    {"type": "integer", "minimum": 100, "maximum": 599},
    {"type": "string", "pattern": tokens.STATUS_CODE.pattern},
    {"type": "string", "pattern": tokens.STATUS_CLASS.pattern},
    INTERPOLATED,
]
STATUS = Nullable(
    Scalar(
        _status,
        {
            "description": "an HTTP status (200), a list ([200, 204]) or a class ('2xx')",
            "anyOf": [*_STATUS_ITEM, {"type": "array", "minItems": 1, "items": {"anyOf": _STATUS_ITEM}}],
            "examples": [200, [200, 204], "2xx"],
        },
    )
)


def is_matcher_mapping(value: object) -> bool:
    """A non-empty mapping whose keys are all operators (as every mapping in a valid matcher is)."""
    return isinstance(value, dict) and bool(value) and all(k in MATCHER_OPS for k in value)


class _Matcher(Kind):
    """A bare value means equality; a mapping is always a mapping of operators that must all hold.

    `$.version: {approx: 2}` was once taken for an object to compare with, silently (#10): now
    an unknown key is an error at the key, and an object to compare with is `{eq: {...}}`.
    """

    def __init__(self, schema: Json) -> None:
        self._schema = schema

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            return to_matcher(value)
        if not value:
            problems.append(Problem(loc, "empty matcher: give an operator like {contains: ok} (or {eq: {}})"))
            return INVALID
        known = _known_operators(value, loc, problems)
        length = value.get("len")
        if isinstance(length, dict):
            if not length:
                problems.append(Problem((*loc, "len"), "empty matcher: give a comparison like {gte: 1}"))
                known = False
            known = _known_operators(length, (*loc, "len"), problems) and known
        if not known:
            return INVALID
        try:
            for op, operand in value.items():
                _check_operand(op, operand)
        except Invalid as exc:
            problems.append(Problem(loc, str(exc)))
            return INVALID
        return to_matcher(value)

    def schema(self, defs: dict[str, Json]) -> Json:
        return dict(self._schema)


def to_matcher(value: object) -> Matcher:
    """The runtime matcher: a mapping of operators as it is, any other value as equality."""
    if is_matcher_mapping(value):
        assert isinstance(value, dict)
        return Matcher(tuple(value.items()))
    return Matcher((("eq", value),))


def _known_operators(mapping: dict[Any, Any], loc: Loc, problems: list[Problem]) -> bool:
    """Whether every key is an operator; each one that is not is a problem at the key."""
    unknown = [key for key in mapping if key not in MATCHER_OPS]
    for key in unknown:
        problems.append(Problem((*loc, key), f"{dotted(loc)}: {_unknown_op_message(key)}", on_key=True))
    return not unknown


def _unknown_op_message(op: object) -> str:
    import difflib

    hint = difflib.get_close_matches(str(op), MATCHER_OPS, n=1)
    if hint:
        return f"unknown operator {op!r} (did you mean {hint[0]!r}?)"
    return (
        f"unknown operator {op!r}; operators are: {', '.join(MATCHER_OPS)} "
        "(a mapping here is a matcher: to compare with an object, write {eq: {...}})"
    )


def _check_operand(op: str, operand: object) -> None:
    problem = OPERATORS[op].operand_problem(operand, op)
    if problem is not None:
        raise Invalid(problem)


MATCHER = _Matcher(
    {
        "description": (
            "a literal (equality) or a mapping of operators that must all hold: "
            + ", ".join(MATCHER_OPS)
            + ". A mapping is always operators: to compare with an object, write {eq: {...}}"
        ),
        "anyOf": [matcher_schema(), {"type": ["string", "number", "boolean", "null", "array"]}],
        "examples": [{"contains": "ok"}, {"len": {"gte": 1}}, "UP", {"eq": {"major": 2}}],
    },
)


def _verify_tls(value: object) -> bool | str:
    # `verify_tls: ${VERIFY}` arrives as text: the boolean words are the booleans, not file names
    try:
        return parse_bool(value)
    except Invalid:
        pass
    if isinstance(value, str) and tokens.NOT_BLANK.read(value) is not None:
        return value
    raise Invalid(f"expected true, false or a CA bundle path, got {value!r}")


VERIFY_TLS = Nullable(
    Scalar(
        _verify_tls,
        {
            "description": (
                "verify certificates against the system trust store and certifi (true), "
                "not at all (false), or against a CA bundle file (a path, relative to the manifest)"
            ),
            "anyOf": [*BOOLEAN_SCHEMA["anyOf"][:2], {"type": "string", "pattern": tokens.NOT_BLANK.pattern}],
            "examples": [True, False, "certs/internal-ca.pem"],
        },
    )
)


# URL scheme → whether its URL is scheme://host:port and nothing more (tcp://, grpc://): the
# manifest reader passes the registry's (`svccheck.protocols.url_schemes`) to `manifest_shape`
UrlSchemes = Mapping[str, bool]


def _url(value: str, schemes: UrlSchemes | None = None) -> str:
    from urllib.parse import urlsplit

    url = value.strip()
    unsafe = _unsafe_character(url)
    if unsafe:
        raise _bad_url(url, unsafe)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _bad_url(value, str(exc)) from None
    if schemes is not None and parts.scheme not in schemes:
        raise _bad_url(value, f"expected {_scheme_list(schemes)}")
    if not parts.hostname:
        raise _bad_url(value, "no host")
    if port == 0:
        raise _bad_url(value, "port 0")
    address_only = schemes is not None and schemes[parts.scheme]
    if address_only and (port is None or parts.path not in ("", "/") or parts.query):
        scheme = parts.scheme
        raise _bad_url(value, f"a {scheme.upper()} check is {scheme}://host:port, nothing more")
    if not _plain_authority(parts.netloc, parts.hostname):
        _check_with_httpx(url, parts.hostname)
    return url


def _scheme_list(schemes: UrlSchemes) -> str:
    """`http://, https:// or tcp://host:port`, in the registry's order."""
    forms = [
        f"{scheme}://" + ("host:port" if address_only else "") for scheme, address_only in schemes.items()
    ]
    return ", ".join(forms[:-1]) + f" or {forms[-1]}" if len(forms) > 1 else "".join(forms)


def url_field(schemes: UrlSchemes | None = None) -> Field:
    """A service's `url`: any scheme://host, or (from the manifest reader) one of `schemes`."""
    return Field(
        "url",
        Scalar(lambda value: _url(text(value), schemes), {"type": "string"}),
        required=True,
        description="base URL; check paths are appended. tcp://host:port checks a TCP service instead",
        examples=["http://localhost:8080", "tcp://localhost:6379"],
    )


# user:password@, a host name or an IPv4 address, a port: what a request takes as it is
_PLAIN_AUTHORITY = re.compile(
    r"(?:[A-Za-z0-9._~!$&'()*+,;=%:-]*@)?(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?)(?::[0-9]*)?"
)


def _plain_authority(netloc: str, host: str) -> bool:
    if _PLAIN_AUTHORITY.fullmatch(netloc) is None:
        return False
    if all(c.isdigit() or c == "." for c in host):  # httpx reads #.#.#.# as an IPv4 address
        import ipaddress  # imported by urllib.parse already

        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
    return True


def _unsafe_character(text: str) -> str | None:
    """Why `text` cannot be written into a request URL as it is: its first control character
    (C0, DEL, C1), space, line break, or invisible character (bidi controls U+202A-U+202E and
    U+2066-U+2069, zero-width characters). httpx refused the control characters only at run
    time ("svccheck internal error: InvalidURL") and percent-encoded the rest silently (#9)."""
    if text.isprintable() and " " not in text:
        return None
    char = next(c for c in text if c == " " or not c.isprintable())
    if char.isspace():
        what = "a space" if char == " " else f"a space or line break ({neutralise(char)})"
    elif ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
        what = f"a control character ({neutralise(char)})"
    elif 0xD800 <= ord(char) <= 0xDFFF:
        what = f"an undecodable character ({neutralise(char)})"
    else:
        import unicodedata

        name = unicodedata.name(char, "")
        what = f"an invisible character ({neutralise(char)}{' ' + name if name else ''})"
    try:
        encoded = "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, from an environment variable that is not UTF-8
        return f"{what} cannot be written in a URL"
    return f"{what} cannot be written in a URL; percent-encode it ({encoded}) if it is meant"


def _check_with_httpx(url: str, host: str) -> None:
    """A host that is not plain (an international name, an IPv6 literal, stray brackets) is
    parsed as the request will parse it, so it fails here rather than at run time with
    "svccheck internal error: InvalidURL" (#9); httpx is imported only for such a URL."""
    import httpx

    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        if not host.isascii() and "IDNA" in str(exc):
            why = f"host {host!r} is not a valid international domain name (IDNA)"
        else:
            why = str(exc)[:1].lower() + str(exc)[1:]
        raise _bad_url(url, why) from None


# RFC 9110 §5.6.2: a field name is a token
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _header_name_problem(name: str) -> str | None:
    if _HEADER_NAME.fullmatch(name):
        return None
    bad = next((c for c in name if not _HEADER_NAME.fullmatch(c)), "")
    shown = "a space" if bad == " " else f"'{neutralise(bad)}'"
    return f"bad header name '{neutralise(name)}': {shown} cannot be in a header name (RFC 9110 token)"


def _header_value(value: Any) -> str:
    """A value the request can carry: printable ASCII and tabs. httpx refused anything else only
    at run time, after every retry (`Illegal header value`, `UnicodeEncodeError`). The value is
    never quoted: it may be a credential."""
    out = text(value)
    if out.isascii() and out.isprintable():
        return out
    bad = next((c for c in out if not (c.isascii() and (c.isprintable() or c == "\t"))), None)
    if bad is None:
        return out
    if bad.isascii():
        raise Invalid(f"a header value cannot hold a control character ({neutralise(bad)})")
    raise Invalid(f"a header value must be ASCII: {neutralise(bad)!s} (U+{ord(bad):04X}) is not")


HEADER_VALUE = Scalar(_header_value, {"type": "string"})


def _bad_url(value: str, why: str) -> Invalid:
    from svccheck.redact import Redactor

    # an error message may not quote a password or a token; escaped first, as urlsplit drops
    # tabs and line breaks
    return Invalid(f"bad URL '{Redactor().url(neutralise(value))}': {why}")


def _path(value: str) -> str:
    unsafe = _unsafe_character(value)
    if unsafe:
        from svccheck.redact import Redactor

        raise Invalid(f"bad path '{Redactor().url(neutralise(value))}': {unsafe}")
    return value


def _method(value: str) -> str:
    method = tokens.METHOD.read(value)
    if method is None:
        raise Invalid(f"unknown HTTP method {value!r}; use one of {', '.join(HTTP_METHODS)}")
    return method.upper()


def _health(value: object) -> object:
    return {"path": value} if isinstance(value, str) else value


def _health_shorthand(schema: Json) -> Json:
    """`health: /health` is shorthand for `{path: /health}`: the schema says so too."""
    return {"anyOf": [{"type": "string", "description": "the health path, e.g. /health"}, *schema["anyOf"]]}


# The tunables, each declared here once: its key, kind and description, and its built-in value.
# `defaults`, an environment's `defaults`, a service and a check may each set them; the most
# specific wins (`svccheck.grammar.settings.merge`).
BUILTIN_DEFAULTS: dict[str, Any] = {
    "timeout": 5.0,
    "retries": 2,
    "backoff": 0.2,
    "verify_tls": True,
    "http2": False,
    "trace": True,
}
_TUNABLES = (
    Field(
        "timeout",
        POSITIVE_DURATION,
        description="bound on each attempt as a whole (connect, headers and body)",
        examples=["5s"],
    ),
    Field(
        "retries",
        Nullable(integer_kind(0, 20)),
        description="extra attempts on transient failures",
        examples=[2],
    ),
    Field(
        "backoff",
        DURATION,
        description="first wait between attempts; grows exponentially",
        examples=["200ms"],
    ),
    Field(
        "headers",
        Nullable(MapOf(HEADER_VALUE, key_problem=_header_name_problem)),
        description="request headers; merged across levels (names case-insensitive)",
        examples=[{"Authorization": "Bearer ${API_TOKEN}"}],
    ),
    Field(
        "verify_tls",
        VERIFY_TLS,
        description="true (system trust store and certifi), false, or a CA bundle path",
    ),
    Field(
        "http2",
        Nullable(BOOL),
        description="https:// only: offer HTTP/2 in the TLS handshake (ALPN); the server may pick HTTP/1.1",
    ),
    Field(
        "trace",
        Nullable(BOOL),
        description="send a W3C traceparent header on each attempt (default true); false opts out",
    ),
    Field(
        "auth",
        AUTH_CHOICE,
        description="the credential (a name under the top-level `auth`) sent as Authorization; none: none",
        examples=["smoke", "none"],
    ),
)


TUNABLE_NAMES = tuple(f.name for f in _TUNABLES)


class Tunables(Spec):
    """Settings that `defaults`, a service and a check may each set; the most specific wins.

    `CheckSpec` and `ServiceSpec` extend it, so the attributes are declared once too."""

    FIELDS: ClassVar[tuple[Field, ...]] = _TUNABLES
    timeout: float | None
    retries: int | None
    backoff: float | None
    headers: dict[str, str] | None
    verify_tls: bool | str | None
    http2: bool | None
    trace: bool | None
    auth: str | None


DAYS = Nullable(integer_kind(0, 36500))


def _json_path_problem(query: str) -> str | None:
    from svccheck.judge.expect import json_query  # the JSONPath library, only for a manifest that uses one

    try:
        json_query(query)
    except Exception as exc:  # the library raises its own hierarchy; any failure is a bad path
        return f"bad JSONPath {query!r}: {exc}"
    return None


def _schema_value(value: object) -> object:
    # a path to a file relative to the manifest, or the schema inline (a mapping, or true/false);
    # its content is read and checked by the manifest's rules (`svccheck.grammar.contracts`)
    if isinstance(value, str) and tokens.NOT_BLANK.read(value) is not None:
        return value.strip()
    if isinstance(value, dict | bool):
        return value
    raise Invalid(f"expected a JSON Schema file path or an inline schema mapping, got {describe(value)}")


SCHEMA_SOURCE = Nullable(
    Scalar(
        _schema_value,
        {
            "anyOf": [
                {"type": "string", "pattern": tokens.NOT_BLANK.pattern},
                {"type": ["object", "boolean"]},
            ],
            "description": "a JSON Schema (draft 2020-12 or 7): a file relative to the manifest, or inline",
            "examples": ["schemas/plans.json", {"type": "object", "required": ["data"]}],
        },
    )
)


def _openapi_value(value: object) -> str | bool:
    if value is False:
        return False
    if isinstance(value, str) and tokens.NOT_BLANK.read(value) is not None:
        return value.strip()
    raise Invalid(f"expected an OpenAPI document path (or false), got {describe(value)}")


OPENAPI_SOURCE = Nullable(
    Scalar(
        _openapi_value,
        {
            "anyOf": [{"type": "string", "pattern": tokens.NOT_BLANK.pattern}, {"const": False}],
            "description": (
                "an OpenAPI 3.0 / 3.1 document relative to the manifest: the answer must be one its "
                "operation for this method and path declares (status, content type, body); false turns "
                "off the service's"
            ),
            "examples": ["specs/billing.yaml", False],
        },
    )
)


class ExpectSpec(Spec):
    FIELDS = (
        Field("status", STATUS, description="expected status; a sample check defaults to 2xx"),
        Field("max_latency", DURATION, description="slower than this fails", examples=["800ms"]),
        Field("warn_latency", DURATION, description="slower than this warns", examples=["300ms"]),
        Field(
            "headers",
            Nullable(MapOf(MATCHER)),
            description="response header name -> literal or matcher (names case-insensitive)",
            examples=[{"content-type": {"contains": "application/json"}}],
        ),
        Field("body", Nullable(MATCHER), description="matcher on the body text, e.g. {contains: ok}"),
        Field(
            "json",
            Nullable(MapOf(MATCHER, key_problem=_json_path_problem)),
            attr="json_",
            description="JSONPath (RFC 9535) -> literal or matcher",
            examples=[{"$.status": "UP", "$.data": {"len": {"gte": 1}}}],
        ),
        Field("max_dns", DURATION, description="name resolution slower than this fails"),
        Field("max_connect", DURATION, description="TCP connect slower than this fails"),
        Field("max_tls", DURATION, description="TLS handshake slower than this fails"),
        Field(
            "max_ttfb",
            DURATION,
            description="time to first byte (from the start of the attempt) over this fails",
        ),
        Field("tls_min_days", DAYS, description="fail when the TLS certificate expires in fewer days"),
        Field("tls_warn_days", DAYS, description="warn when the TLS certificate expires in fewer days"),
        Field("schema", SCHEMA_SOURCE, description="the JSON body must match this JSON Schema"),
        Field("openapi", OPENAPI_SOURCE, description="the answer must be one the OpenAPI operation declares"),
    )
    status: StatusExpect | None
    max_latency: float | None
    warn_latency: float | None
    headers: dict[str, Matcher] | None
    body: Matcher | None
    json_: dict[str, Matcher] | None
    max_dns: float | None
    max_connect: float | None
    max_tls: float | None
    max_ttfb: float | None
    tls_min_days: int | None
    tls_warn_days: int | None
    schema: str | dict[str, object] | bool | None
    openapi: str | bool | None


class CheckSpec(Tunables):
    FIELDS = (
        *_TUNABLES,
        Field(
            "name",
            Nullable(TEXT),
            description="shown in reports; defaults to METHOD path; unique in its service",
        ),
        Field(
            "method",
            Scalar(
                lambda value: _method(text(value)),
                {"anyOf": [{"type": "string", "pattern": tokens.METHOD.pattern}, INTERPOLATED]},
            ),
            default="GET",
            description="HTTP method: " + ", ".join(HTTP_METHODS),
            examples=HTTP_METHODS,
        ),
        Field(
            "path",
            Scalar(lambda value: _path(text(value)), {"type": "string"}),
            default="/",
            description="appended to the service url",
            examples=["/api/v1/plans"],
        ),
        Field("body", Nullable(TEXT), description="request body as text"),
        Field(
            "json", ANY, attr="json_", description="request body as JSON", examples=[{"client_id": "smoke"}]
        ),
        Field(
            "idempotent",
            Nullable(BOOL),
            description="allow retries of a non-idempotent method (POST, PATCH) on transient failures",
        ),
        Field(
            "expect",
            Nullable(Shape(ExpectSpec)),
            description="what the answer must look like; without it a health check reads the body",
        ),
        Field(
            "capture",
            CAPTURES,
            description="values later checks use as ${capture.NAME}: a JSONPath, or {header: NAME}",
            examples=[{"session": "$.access_token", "request_id": {"header": "X-Request-Id"}}],
        ),
    )
    name: str | None
    method: str
    path: str
    body: str | None
    json_: Any
    idempotent: bool | None
    expect: ExpectSpec | None
    capture: dict[str, Any] | None


_NAMES = ListOf(TEXT)


# a certificate the service's checks present (mTLS): https://, tcp:// with tls, grpcs://
CLIENT_CERTIFICATE_FIELDS = (
    Field(
        "client_cert",
        Nullable(TEXT),
        description="client certificate (PEM) to present, relative to the manifest; with client_key",
        examples=["certs/svccheck.pem"],
    ),
    Field(
        "client_key",
        Nullable(TEXT),
        description="the client certificate's private key (PEM), relative to the manifest",
        examples=["certs/svccheck-key.pem"],
    ),
    Field(
        "client_key_password",
        Nullable(TEXT),
        description="passphrase of an encrypted client_key: give it as a secret ${VARIABLE}",
        examples=["${CLIENT_KEY_PASSWORD}"],
    ),
)
CLIENT_CERTIFICATE_KEYS = tuple(f.key for f in CLIENT_CERTIFICATE_FIELDS)


class ServiceSpec(Tunables):
    FIELDS = (
        *_TUNABLES,
        url_field(),
        Field("critical", BOOL, default=True, description="a failure of a non-critical service only warns"),
        Field(
            "tags",
            _NAMES,
            default=list,
            description="labels to select services by (--tag)",
            examples=[["edge"]],
        ),
        Field(
            "depends_on",
            _NAMES,
            default=list,
            description="names of services this one needs; failures are attributed to the deepest",
            examples=[["auth-service"]],
        ),
        Field("description", Nullable(TEXT), description="free text for people"),
        Field(
            "health",
            Before(_health, Nullable(Shape(CheckSpec)), _health_shorthand),
            description="health endpoint: a path, or a check mapping",
            examples=["/health", {"path": "/actuator/health", "expect": {"json": {"$.status": "UP"}}}],
        ),
        Field("checks", ListOf(Shape(CheckSpec)), default=list, description="sample API checks"),
        *CLIENT_CERTIFICATE_FIELDS,
    )
    url: str
    critical: bool
    tags: list[str]
    depends_on: list[str]
    description: str | None
    health: CheckSpec | None
    checks: list[CheckSpec]
    client_cert: str | None
    client_key: str | None
    client_key_password: str | None


def _var(value: object) -> object:
    if isinstance(value, str | int | float | bool):
        return value
    raise Invalid(f"expected a string, a number or true/false, got {describe(value)}")


VARS = MapOf(Scalar(_var, {"type": ["string", "number", "boolean"]}))


class EnvironmentSpec(Spec):
    FIELDS = (
        Field("vars", VARS, default=dict, description="values for ${NAME} in this environment"),
        Field("defaults", Nullable(Shape(Tunables)), description="overrides the top-level defaults"),
    )
    vars: dict[str, str | int | float | bool]
    defaults: Tunables | None


_ONLY_VERSION_1 = integer(1, 1)


def _version(value: object) -> int:
    try:
        return _ONLY_VERSION_1(value)
    except Invalid:
        version = whole_number(value)
        if version is None:
            raise
        raise Invalid(f"unsupported manifest version {version}; this svccheck reads version 1") from None


def _services_field(service: Shape[ServiceSpec]) -> Field:
    return Field(
        "services",
        MapOf(service, {"minProperties": 1, "propertyNames": {"pattern": tokens.SERVICE_NAME.pattern}}),
        required=True,
        description="the services to check, by name",
    )


class ManifestSpec(Spec):
    TITLE = "svccheck manifest"
    DESCRIPTION = "Services to health-check with svccheck"
    FIELDS = (
        Field(
            "version",
            Scalar(_version, integer_schema(1, 1)),
            default=1,
            description="manifest format version; 1",
        ),
        Field("defaults", Nullable(Shape(Tunables)), description="apply to every check unless overridden"),
        Field(
            "vars",
            VARS,
            default=dict,
            description="values for ${NAME} in string values",
            examples=[{"host": "localhost"}],
        ),
        Field(
            "environments",
            MapOf(Shape(EnvironmentSpec)),
            default=dict,
            description="overlays selected with --env NAME: vars and defaults",
            examples=[{"staging": {"vars": {"host": "staging.internal.example"}}}],
        ),
        Field(
            "auth",
            CREDENTIALS,
            default=dict,
            description="named credentials that defaults, a service or a check select with `auth: NAME`",
        ),
        _services_field(Shape(ServiceSpec)),
    )
    version: int
    defaults: Tunables | None
    vars: dict[str, str | int | float | bool]
    environments: dict[str, EnvironmentSpec]
    auth: dict[str, Any]
    services: dict[str, ServiceSpec]


EXPECT = Shape(ExpectSpec)
CHECK = Shape(CheckSpec)
SERVICE = Shape(ServiceSpec)  # the keys every service has, whatever its protocol
MANIFEST = Shape(ManifestSpec)  # a manifest whose services take no protocol's own key

_MANIFESTS: dict[tuple[int, ...], Shape[ManifestSpec]] = {}


def manifest_shape(protocol_fields: Sequence[Field], schemes: UrlSchemes) -> Shape[ManifestSpec]:
    """The manifest as read: every service takes the common keys and each protocol's own
    (`ProtocolShape.fields`: `tls` and `protocol` are tcp's); which of them a service may
    write is its protocol's allow-list, checked by the rules. A `url` takes the registry's
    `schemes`. Built once per set of fields."""
    key = (*(id(f) for f in protocol_fields), id(schemes))
    shape = _MANIFESTS.get(key)
    if shape is None:
        service = Shape(ServiceSpec, extra=protocol_fields, replace=(url_field(schemes),))
        shape = _MANIFESTS[key] = Shape(ManifestSpec, replace=(_services_field(service),))
    return shape
