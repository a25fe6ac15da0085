"""The manifest's shape as pydantic models: validation and JSON Schema from one place.

These models describe the file as written (after `${VAR}` interpolation);
`svccheck.manifest.build` turns them into the immutable runtime model.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from svccheck.durations import parse_duration

MATCHER_OPS = (
    "eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "not_contains",
    "matches", "exists", "type", "len",
)  # fmt: skip
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _custom(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _duration(value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _custom("duration", str(exc)) from None


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*((\d+(\.\d+)?([mM][sS]|[sSmMhH]))+|\d+(\.\d+)?)\s*$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: 250ms, 5s, 1m, or plain seconds",
            "examples": ["250ms", "5s", "1m"],
        }
    ),
]


def _status(value: object) -> object:
    """int, list of ints, or a class like "2xx"; validated here so errors read plainly."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _custom("status", "expected at least one status code")
    for item in items:
        if isinstance(item, bool):
            raise _custom("status", f"expected a status code like 200 or '2xx', got {item!r}")
        if isinstance(item, int):
            if not 100 <= item <= 599:
                raise _custom("status", f"status code {item} is not between 100 and 599")
        elif isinstance(item, str) and re.fullmatch(r"[1-5]xx", item.strip().lower()):
            continue
        elif isinstance(item, str) and item.strip().isdigit():
            if not 100 <= int(item) <= 599:
                raise _custom("status", f"status code {item} is not between 100 and 599")
        else:
            raise _custom("status", f"expected a status code like 200 or '2xx', got {item!r}")
    return value


StatusSpec = Annotated[
    Any,
    BeforeValidator(_status),
    WithJsonSchema(
        {
            "description": "an HTTP status (200), a list ([200, 204]) or a class ('2xx')",
            "anyOf": [
                {"type": "integer", "minimum": 100, "maximum": 599},
                {"type": "string", "pattern": "^[1-5]xx$"},
                {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            {"type": "integer", "minimum": 100, "maximum": 599},
                            {"type": "string", "pattern": "^[1-5]xx$"},
                        ]
                    },
                },
            ],
            "examples": [200, [200, 204], "2xx"],
        }
    ),
]


def is_matcher_mapping(value: object) -> bool:
    """A non-empty mapping whose keys are all operators (anything else is a literal)."""
    return isinstance(value, dict) and bool(value) and all(k in MATCHER_OPS for k in value)


def _matcher(value: object) -> object:
    """A bare value means equality; a mapping of operators must all hold."""
    if isinstance(value, dict) and not value:
        raise _custom("matcher", "empty matcher: give an operator like {contains: ok} (or {eq: {}})")
    if not isinstance(value, dict):
        return value
    unknown = [k for k in value if k not in MATCHER_OPS]
    if unknown and len(unknown) < len(value):
        raise _custom("matcher", _unknown_op_message(unknown[0]))
    if unknown:
        import difflib

        # A mapping with no operator is a literal to compare with, unless a key
        # is plainly a misspelt operator: then a silent equality would mislead.
        for key in unknown:
            if difflib.get_close_matches(str(key), MATCHER_OPS, n=1, cutoff=0.75):
                raise _custom("matcher", _unknown_op_message(key))
        return value
    for op, operand in value.items():
        _check_operand(op, operand)
    return value


def _unknown_op_message(op: object) -> str:
    import difflib

    hint = difflib.get_close_matches(str(op), MATCHER_OPS, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown matcher {op!r}{suggestion}; matchers are: {', '.join(MATCHER_OPS)}"


def _check_operand(op: str, operand: object) -> None:
    if op == "matches":
        if not isinstance(operand, str):
            raise _custom("matcher", f"matches: expected a regular expression string, got {operand!r}")
        try:
            re.compile(operand)
        except re.error as exc:
            raise _custom("matcher", f"matches: invalid regular expression {operand!r}: {exc}") from None
    elif op == "type" and operand not in JSON_TYPES:
        raise _custom("matcher", f"type: expected one of {', '.join(JSON_TYPES)}, got {operand!r}")
    elif op == "exists" and not isinstance(operand, bool):
        raise _custom("matcher", f"exists: expected true or false, got {operand!r}")
    elif op == "in" and not isinstance(operand, list):
        raise _custom("matcher", f"in: expected a list, got {operand!r}")
    elif op in ("lt", "lte", "gt", "gte") and (
        isinstance(operand, bool) or not isinstance(operand, int | float | str)
    ):
        raise _custom("matcher", f"{op}: expected a number, got {operand!r}")
    elif op == "len":
        if isinstance(operand, dict):
            if not is_matcher_mapping(operand):
                bad = next(iter(k for k in operand if k not in MATCHER_OPS), None)
                raise _custom("matcher", _unknown_op_message(bad) if bad else "len: empty matcher")
            for inner_op, inner in operand.items():
                if inner_op in ("lt", "lte", "gt", "gte", "eq", "ne") and (
                    isinstance(inner, bool) or not isinstance(inner, int)
                ):
                    raise _custom("matcher", f"len.{inner_op}: expected an integer, got {inner!r}")
        elif isinstance(operand, bool) or not isinstance(operand, int):
            raise _custom("matcher", f"len: expected an integer or a comparison, got {operand!r}")


MatcherSpec = Annotated[
    Any,
    BeforeValidator(_matcher),
    WithJsonSchema(
        {
            "description": (
                "a literal (equality) or a mapping of operators that must all hold: " + ", ".join(MATCHER_OPS)
            ),
            "anyOf": [
                {
                    "type": "object",
                    "properties": {op: {} for op in MATCHER_OPS},
                    "additionalProperties": False,
                    "minProperties": 1,
                },
                {"type": ["string", "number", "boolean", "null", "array"]},
            ],
            "examples": [{"contains": "ok"}, {"len": {"gte": 1}}, "UP"],
        }
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _verify_tls(value: object) -> object:
    # `verify_tls: ${VERIFY}` arrives as text: "true"/"false" are the booleans, not file names
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, bool) or (isinstance(value, str) and value.strip()):
        return value
    raise _custom("verify_tls", f"expected true, false or a CA bundle path, got {value!r}")


VerifyTLS = Annotated[
    bool | str,
    BeforeValidator(_verify_tls),
    WithJsonSchema(
        {
            "description": (
                "verify certificates against the system trust store and certifi (true), "
                "not at all (false), or against a CA bundle file (a path, relative to the manifest)"
            ),
            "type": ["boolean", "string"],
            "examples": [True, False, "certs/internal-ca.pem"],
        }
    ),
]


class Tunables(_Model):
    """Settings that `defaults`, a service and a check may each set; the most specific wins."""

    timeout: Duration | None = Field(
        None,
        gt=0,
        description="bound on each attempt as a whole (connect, headers and body)",
        examples=["5s"],
    )
    retries: int | None = Field(
        None, ge=0, le=20, description="extra attempts on transient failures", examples=[2]
    )
    backoff: Duration | None = Field(
        None, description="first wait between attempts; grows exponentially", examples=["200ms"]
    )
    headers: dict[str, str] | None = Field(
        None,
        description="request headers; merged across levels (names case-insensitive)",
        examples=[{"Authorization": "Bearer ${API_TOKEN}"}],
    )
    verify_tls: VerifyTLS | None = Field(
        None, description="true (system trust store and certifi), false, or a CA bundle path"
    )


class ExpectSpec(_Model):
    status: StatusSpec | None = Field(None, description="expected status; a sample check defaults to 2xx")
    max_latency: Duration | None = Field(None, description="slower than this fails", examples=["800ms"])
    warn_latency: Duration | None = Field(None, description="slower than this warns", examples=["300ms"])
    headers: dict[str, MatcherSpec] | None = Field(
        None,
        description="response header name -> literal or matcher (names case-insensitive)",
        examples=[{"content-type": {"contains": "application/json"}}],
    )
    body: MatcherSpec | None = Field(None, description="matcher on the body text, e.g. {contains: ok}")
    json_: dict[str, MatcherSpec] | None = Field(
        None,
        alias="json",
        description="JSONPath (RFC 9535) -> literal or matcher",
        examples=[{"$.status": "UP", "$.data": {"len": {"gte": 1}}}],
    )
    max_dns: Duration | None = Field(None, description="name resolution slower than this fails")
    max_connect: Duration | None = Field(None, description="TCP connect slower than this fails")
    max_tls: Duration | None = Field(None, description="TLS handshake slower than this fails")
    max_ttfb: Duration | None = Field(
        None, description="time to first byte (from the start of the attempt) over this fails"
    )
    tls_min_days: int | None = Field(
        None, ge=0, le=36500, description="fail when the TLS certificate expires in fewer days"
    )
    tls_warn_days: int | None = Field(
        None, ge=0, le=36500, description="warn when the TLS certificate expires in fewer days"
    )


class CheckSpec(Tunables):
    name: str | None = Field(
        None, description="shown in reports; defaults to METHOD path; unique in its service"
    )
    method: Annotated[str, AfterValidator(_method)] = Field(
        "GET", description="HTTP method: " + ", ".join(HTTP_METHODS), examples=list(HTTP_METHODS)
    )
    path: str = Field("/", description="appended to the service url", examples=["/api/v1/plans"])
    body: str | None = Field(None, description="request body as text")
    json_: Any = Field(
        None, alias="json", description="request body as JSON", examples=[{"client_id": "smoke"}]
    )
    idempotent: bool | None = Field(
        None, description="allow retries of a non-idempotent method (POST, PATCH) on transient failures"
    )
    expect: ExpectSpec | None = Field(
        None, description="what the answer must look like; without it a health check reads the body"
    )


def _url(value: str) -> str:
    from urllib.parse import urlsplit

    from svccheck.redact import Redactor

    url = value.strip()
    shown = repr(Redactor().url(value))  # an error message may not quote a password or a token
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _custom("url", f"bad URL {shown}: {exc}") from None
    if parts.scheme not in ("http", "https", "tcp"):
        raise _custom("url", f"bad URL {shown}: expected http://, https:// or tcp://host:port")
    if not parts.hostname:
        raise _custom("url", f"bad URL {shown}: no host")
    if port == 0:
        raise _custom("url", f"bad URL {shown}: port 0")
    if parts.scheme == "tcp" and (port is None or parts.path not in ("", "/") or parts.query):
        raise _custom("url", f"bad URL {shown}: a TCP check is tcp://host:port, nothing more")
    return url


def _method(value: str) -> str:
    method = value.strip().upper()
    if method not in HTTP_METHODS:
        raise _custom("method", f"unknown HTTP method {value!r}; use one of {', '.join(HTTP_METHODS)}")
    return method


def _health(value: object) -> object:
    return {"path": value} if isinstance(value, str) else value


def _health_shorthand(schema: dict[str, Any]) -> None:
    """`health: /health` is shorthand for `{path: /health}`: the schema says so too."""
    schema["anyOf"] = [
        {"type": "string", "description": "the health path, e.g. /health"},
        *schema.get("anyOf", []),
    ]


TcpProtocol = Literal["redis", "postgres"]


class ServiceSpec(Tunables):
    url: Annotated[str, AfterValidator(_url)] = Field(
        description="base URL; check paths are appended. tcp://host:port checks a TCP service instead",
        examples=["http://localhost:8080", "tcp://localhost:6379"],
    )
    tls: bool | None = Field(
        None, description="tcp:// only: handshake TLS after connecting (verified like https)"
    )
    protocol: TcpProtocol | None = Field(
        None,
        description=(
            "tcp:// only: a protocol-level ping, so an open port is not taken for a working service: "
            "redis (PING, expects PONG) or postgres (SSLRequest, expects an answer)"
        ),
    )
    critical: bool = Field(True, description="a failure of a non-critical service only warns")
    tags: list[str] = Field(
        default_factory=list, description="labels to select services by (--tag)", examples=[["edge"]]
    )
    depends_on: list[str] = Field(
        default_factory=list,
        description="names of services this one needs; failures are attributed to the deepest",
        examples=[["auth-service"]],
    )
    description: str | None = Field(None, description="free text for people")
    health: Annotated[CheckSpec | None, BeforeValidator(_health)] = Field(
        None,
        description="health endpoint: a path, or a check mapping",
        examples=["/health", {"path": "/actuator/health", "expect": {"json": {"$.status": "UP"}}}],
        json_schema_extra=_health_shorthand,
    )
    checks: list[CheckSpec] = Field(default_factory=list, description="sample API checks")


class EnvironmentSpec(_Model):
    vars: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="values for ${NAME} in this environment"
    )
    defaults: Tunables | None = Field(None, description="overrides the top-level defaults")


class ManifestSpec(_Model):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="svccheck manifest",
        json_schema_extra={"description": "Services to health-check with svccheck"},
    )

    version: int = Field(1, description="manifest format version; 1")
    defaults: Tunables | None = Field(None, description="apply to every check unless overridden")
    vars: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="values for ${NAME} in string values",
        examples=[{"host": "localhost"}],
    )
    environments: dict[str, EnvironmentSpec] = Field(
        default_factory=dict,
        description="overlays selected with --env NAME: vars and defaults",
        examples=[{"staging": {"vars": {"host": "staging.internal.example"}}}],
    )
    services: dict[str, ServiceSpec] = Field(
        description="the services to check, by name",
        json_schema_extra={
            "minProperties": 1,
            "propertyNames": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"},
        },
    )
