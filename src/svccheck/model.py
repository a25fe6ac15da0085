"""The plain, immutable types every part of svccheck shares.

Nothing here does I/O; the manifest loader builds `Manifest`, the probe builds
`ProbeOutcome`, evaluation builds `CheckResult`, triage and run build `Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

HealthStatus = Literal["pass", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Component:
    """One named part of a service's health (a dependency, a check, a probe, a gRPC service)."""

    name: str
    status: HealthStatus
    raw_status: str
    message: str | None = None
    # `raw_status` is a word svccheck does not know: a warn that says so, never a pass (#15)
    unrecognised: bool = False


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"

    @property
    def rank(self) -> int:
        """Severity order used to take "the worst" of several verdicts."""
        return _VERDICT_RANK[self]


_VERDICT_RANK = {Verdict.PASS: 0, Verdict.SKIP: 1, Verdict.WARN: 2, Verdict.FAIL: 3}


def worst(verdicts: list[Verdict] | tuple[Verdict, ...]) -> Verdict:
    return max(verdicts, key=lambda v: v.rank, default=Verdict.PASS)


class FailureClass(StrEnum):
    DNS = "dns"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    TLS = "tls"
    PROTOCOL = "protocol"
    STATUS = "status"
    ASSERTION = "assertion"
    HEALTH = "health"
    DEADLINE = "deadline"
    AUTH = "auth"  # a token endpoint refused the credentials (HTTP 400/401 with an OAuth2 error)


CheckKind = Literal["health", "check"]


@dataclass(frozen=True, slots=True)
class Matcher:
    """A set of operators that must all hold, e.g. ``{"gte": 1, "lt": 10}``.

    A bare value in the manifest becomes ``Matcher((("eq", value),))``.
    """

    ops: tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class StatusExpect:
    """The status codes a check accepts: exact ones and whole classes (`2xx`), as written."""

    codes: frozenset[int] = frozenset()
    classes: frozenset[int] = frozenset()  # 2 for "2xx"
    text: str = "2xx"

    def accepts(self, code: int) -> bool:
        return code in self.codes or code // 100 in self.classes


ANY_2XX = StatusExpect(classes=frozenset({2}), text="2xx")


@dataclass(frozen=True, slots=True, eq=False)
class JsonSchema:
    """A JSON Schema a JSON body must match, read with the manifest: the schema itself and every
    local file its `$ref`s reach, so judging an answer reads no file (and never the network).
    Compared by identity: the judge compiles each one once."""

    where: str  # how reasons name it: "schemas/plans.json", "inline schema"
    uri: str  # where the schema is: a file's URI, or a document's URI and a JSON pointer
    # (URI, document): the schema's own document and every local file its `$ref`s reach
    documents: tuple[tuple[str, object], ...]
    dialect: str = "https://json-schema.org/draft/2020-12/schema"  # its `$schema`, or the default


@dataclass(frozen=True, slots=True, eq=False)
class DeclaredResponse:
    """One response an OpenAPI operation declares: its status key and its media types."""

    status: str  # "200", "2XX" or "default", as the document writes it (upper case)
    # (media type or range as declared, the body's schema there or None); empty: no body declared
    media: tuple[tuple[str, JsonSchema | None], ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class ResponseContract:
    """What an OpenAPI operation promises to answer: the statuses, content types and bodies."""

    spec: str  # the document as the manifest names it: "specs/billing.yaml"
    operation: str  # "GET /pets/{petId}", the path template as the document writes it
    responses: tuple[DeclaredResponse, ...]
    pointer: str = ""  # of the operation's responses in the document: "/paths/~1pets/get/responses"


@dataclass(frozen=True, slots=True)
class Expect:
    """What a check's answer must show (the manifest's `expect`): status, latency, headers, body…"""

    status: StatusExpect | None = None
    max_latency: float | None = None
    warn_latency: float | None = None
    headers: tuple[tuple[str, Matcher], ...] = ()
    body: Matcher | None = None
    json: tuple[tuple[str, Matcher], ...] = ()
    # phase bounds (seconds); a phase that did not happen (reused connection) is not judged
    max_dns: float | None = None
    max_connect: float | None = None
    max_tls: float | None = None
    max_ttfb: float | None = None
    tls_min_days: int | None = None
    tls_warn_days: int | None = None
    schema: JsonSchema | None = None  # the JSON body must match it
    openapi: ResponseContract | None = None  # status, content type and body as the operation declares


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """A certificate a check presents to a server that asks for one (mTLS): paths, never contents."""

    cert: str  # PEM certificate (chain), resolved against the manifest's folder
    key: str  # PEM private key
    password: str | None = None  # the key's passphrase: a secret, from a secret variable


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What an `http://` or `https://` check sends: its method, headers and body."""

    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    # a POST or PATCH is repeated on a transient failure only when the manifest says it is idempotent
    retry_unsafe: bool = False
    client_cert: ClientCertificate | None = None  # presented to an https:// server that asks (mTLS)
    http2: bool = False  # offer h2 in the TLS handshake (ALPN): httpx's HTTP/2, on lanes of their own


@dataclass(frozen=True, slots=True)
class TcpTarget:
    """Where a `tcp://` check connects, whether it handshakes TLS, and which ping it sends."""

    host: str
    port: int
    tls: bool = False
    protocol: str | None = None  # "redis", "postgres", or None: connecting is enough
    client_cert: ClientCertificate | None = None  # presented in the TLS handshake (mTLS)
    cluster: bool = False  # redis: CLUSTER INFO after PING, for what a PING cannot see


@dataclass(frozen=True, slots=True)
class GrpcTarget:
    """Where a `grpc://` or `grpcs://` check connects and which services it asks
    `grpc.health.v1.Health/Check` about ("" is the server as a whole)."""

    host: str
    port: int
    tls: bool
    services: tuple[str, ...] = ("",)
    client_cert: ClientCertificate | None = None


@dataclass(frozen=True, slots=True)
class OAuth2Credential:
    """RFC 6749 §4.4 client credentials: a token requested once per run, shared by every check
    that names it (`svccheck.engine.credentials`). `token_check` is the request, as a check."""

    name: str
    token_url: str
    client_id: str
    client_secret: str
    # client_secret_basic (RFC 6749 §2.3.1, the default) or client_secret_post
    client_auth: str = "client_secret_basic"
    form: tuple[tuple[str, str], ...] = ()  # scope, audience and any other form field
    timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.2
    verify_tls: bool | str = True


@dataclass(frozen=True, slots=True)
class BasicCredential:
    """`Authorization: Basic` from a user name and a password (RFC 7617)."""

    name: str
    username: str
    password: str


Credential = OAuth2Credential | BasicCredential


@dataclass(frozen=True, slots=True)
class Capture:
    """A value a check takes from its answer for later checks' `${capture.NAME}`: an RFC 9535
    JSONPath on the JSON body, or a response header."""

    name: str
    json_path: str | None = None
    header: str | None = None
    secret: bool = True  # masked by value in every output unless the manifest says `secret: false`

    @property
    def source(self) -> str:
        return self.json_path if self.json_path is not None else f"header {self.header}"


# The protocol's own part of a check: what it sends, where and how. The protocol that reads it
# is the one of the check's URL scheme (`svccheck.protocols`); everything else is common.
Target = HttpRequest | TcpTarget | GrpcTarget


@dataclass(frozen=True, slots=True)
class Check:
    """One thing to probe: what is common to every protocol (where, how long, how often, what
    to expect), and in `target` the protocol's own part, which only that protocol reads."""

    service: str
    name: str
    kind: CheckKind
    url: str
    target: Target
    expect: Expect | None
    timeout: float
    retries: int
    backoff: float
    verify_tls: bool | str
    # send W3C trace context (`traceparent`) on each attempt, where the protocol carries it
    trace: bool = True
    auth: Credential | None = None  # sent as `Authorization` (a token fetched once per run)
    captures: tuple[Capture, ...] = ()  # values taken from its answer for later checks
    uses: tuple[str, ...] = ()  # the `${capture.NAME}` names it refers to: it runs after them

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.name)


@dataclass(frozen=True, slots=True)
class Service:
    """One service of the manifest: where it is, whether it is critical, its tags, dependencies and checks."""

    name: str
    url: str
    critical: bool
    tags: tuple[str, ...]
    depends_on: tuple[str, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class Manifest:
    """A read manifest: its services, and the secret values interpolated into it (never shown)."""

    path: str
    services: tuple[Service, ...]
    secrets: frozenset[str] = frozenset()
    # (secret value, the `${NAME}` it was interpolated from): reproductions refer to `$NAME`
    secret_vars: tuple[tuple[str, str], ...] = ()

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)


@dataclass(frozen=True, slots=True)
class Timings:
    """Where an attempt's time went, in seconds; `None` where a phase did not happen.

    `dns`, `connect` and `tls` are phase durations of a newly opened connection
    (absent when a keep-alive connection was reused); `ttfb` and `total` count
    from the start of the attempt, so `connect <= ttfb <= total`.
    """

    dns: float | None
    connect: float | None
    tls: float | None
    ttfb: float | None
    total: float


@dataclass(frozen=True, slots=True)
class Certificate:
    """The verified peer certificate of an HTTPS answer."""

    not_after: str  # ISO 8601, UTC
    days_left: float
    subject: str | None = None
    issuer: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back from one exchange, whatever the protocol spoke; body capped.

    Every protocol fills this one shape (as Gatus's probers fill one `Result`), so
    expectations, reports and `check -v` read it without knowing the protocol.
    `status_text` is the protocol's own word for how it answered (`HTTP 503`,
    `+PONG`, `accepting connections`, `SERVING`): renderers print it, never
    `f"HTTP {code}"`. `status_code` is HTTP's number, `None` elsewhere.
    """

    status_text: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool
    latency: float
    version: str  # "HTTP/1.1", "HTTP/2"; "" where the protocol has no version to show
    url: str
    status_code: int | None = None
    timings: Timings | None = None
    certificate: Certificate | None = None
    # `Set-Cookie` headers of the redirect hops before this answer: secrets handed out on the way
    hop_cookies: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt at a check: how it was answered or why not, how long it took, how long until the next."""

    number: int
    status_text: str | None  # how the protocol answered (`HTTP 503`, `+PONG`); None: no answer
    failure_class: FailureClass | None
    reason: str | None
    latency: float
    wait_after: float = 0.0
    span_id: str | None = None  # the `traceparent` span id this attempt sent; None: none sent


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """The last attempt's answer (or network failure) plus the attempt history."""

    answer: Answer | None
    failure_class: FailureClass | None
    reason: str | None
    attempts: tuple[Attempt, ...]
    elapsed: float
    # the last attempt never got a connection: refused, DNS, TLS, a timeout while connecting
    connect_failed: bool = False
    trace_id: str | None = None  # the W3C trace id every attempt sent; None: no trace context
    started: float | None = None  # when the first attempt started, in seconds since the Unix epoch


@dataclass(frozen=True, slots=True)
class Failure:
    """One way a check failed (or only warned), with the class that names it."""

    failure_class: FailureClass
    message: str
    warn_only: bool = False
    # no connection was made (refused, DNS, TLS, a connect timeout): the service's own
    # failure, never blamed on a dependency (#12)
    connect_failed: bool = False
    # failures of one expectation with many parts (the violations of one schema): the reason
    # names the first few of a group, not only the first
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Assertion:
    """One expectation judged: what was expected, what came, and whether it held.

    Evaluation returns these records (as Hurl's `AssertResult`); the verdict, the
    reason and `check -v` all read them, so no renderer parses a message.
    """

    label: str  # what was expected, as a person reads it: "status 2xx", "latency ≤ 500ms"
    held: bool
    actual: str  # what came, shown when it held: "200", "12ms", "absent"
    # why it did not hold (its class, message and severity); None when it held, or when
    # another record's failure says it already (one bad JSON body fails every JSON query)
    failure: Failure | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    """A protocol's reading of one answer: its assertion records and the components it named."""

    assertions: tuple[Assertion, ...]
    components: tuple[Component, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's verdict, with what its answer showed and each attempt that led to it."""

    check: Check
    verdict: Verdict
    reason: str | None
    failure_class: FailureClass | None
    failures: tuple[Failure, ...]
    status_code: int | None
    latency: float | None
    attempts: int
    components: tuple[Component, ...] = ()
    attempt_log: tuple[Attempt, ...] = ()
    # the last answer, its body cut to the first RESPONSE_EXCERPT bytes (for `check -v`)
    response: Answer | None = None
    # values the service handed out (cookies, tokens in the body): masked in every output, never shown
    secrets: frozenset[str] = frozenset()
    # `wait` only: seconds into the wait when this check passed after failing first (a
    # retry or an earlier round). That is the service coming up, not flakiness (#13).
    ready_after: float | None = None
    # every expectation judged, held or not, in the manifest's order (`check -v` lists them)
    assertions: tuple[Assertion, ...] = ()
    status_text: str | None = None  # how the last answer came (`HTTP 503`, `+PONG`); None: no answer
    # the W3C trace id the check's requests carried (`traceparent`): what to look up in a tracing UI
    trace_id: str | None = None
    started: float | None = None  # when its first attempt started, in seconds since the Unix epoch (--otlp)
    # skipped because a check or token it needed failed: that one's "service/check" (the root cause)
    needed: str | None = None
    # values it sent that the run obtained (a token, a capture): (value, the variable a
    # reproduction names it by, how a person gets it)
    run_vars: tuple[tuple[str, str, str], ...] = ()

    @property
    def last_span_id(self) -> str | None:
        """The span id of the last attempt that sent trace context (a curl line repeats its `traceparent`)."""
        return next((a.span_id for a in reversed(self.attempt_log) if a.span_id), None)

    @property
    def timings(self) -> Timings | None:
        return None if self.response is None else self.response.timings

    @property
    def certificate(self) -> Certificate | None:
        return None if self.response is None else self.response.certificate

    @property
    def recovered(self) -> bool:
        """Passed on a retry after failing: flaky. A check that became ready in `wait` is not (#13)."""
        return self.verdict is Verdict.PASS and self.attempts > 1 and self.ready_after is None

    @property
    def connect_failed(self) -> bool:
        """No answer because no connection was made: refused, DNS, TLS or a connect timeout."""
        return any(f.connect_failed for f in self.failures)


RESPONSE_EXCERPT = 2048


@dataclass(frozen=True, slots=True)
class ServiceResult:
    """A service's verdict over its checks, and the dependency blamed for it, if any."""

    service: Service
    verdict: Verdict
    checks: tuple[CheckResult, ...]
    root_cause: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """The counts a report opens with: services by verdict, checks and failed checks."""

    services: int
    healthy: int
    degraded: int
    failing: int
    skipped: int
    checks: int
    checks_failed: int
    checks_warned: int
    recovered: int
    duration: float


class Change(StrEnum):
    """What changed in one check since a baseline report (`--baseline`, `svccheck diff`)."""

    NEW_FAILURE = "new_failure"
    STILL_FAILING = "still_failing"
    RECOVERED = "recovered"
    NEW_WARNING = "new_warning"
    LATENCY_REGRESSED = "latency_regressed"
    CERTIFICATE_DAYS_DROPPED = "certificate_days_dropped"
    ADDED = "added"  # in this run, not in the baseline
    REMOVED = "removed"  # in the baseline, not in this run

    @property
    def words(self) -> str:
        return _CHANGE_WORDS[self]


_CHANGE_WORDS = {
    Change.NEW_FAILURE: "newly failing",
    Change.STILL_FAILING: "still failing",
    Change.RECOVERED: "recovered",
    Change.NEW_WARNING: "newly warning",
    Change.LATENCY_REGRESSED: "latency regressed",
    Change.CERTIFICATE_DAYS_DROPPED: "certificate expiring",
    Change.ADDED: "new check",
    Change.REMOVED: "removed check",
}

FailOn = Literal["any", "new"]


@dataclass(frozen=True, slots=True)
class CheckChange:
    """One change of one check, matched with the baseline by service and check name."""

    service: str
    check: str
    change: Change
    critical: bool
    was: Verdict | None  # None: not in the baseline
    now: Verdict | None  # None: not in this run
    detail: str = ""  # `12ms → 480ms`, `41 → 12 days left`; the reason it fails now

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.check)

    @property
    def gates(self) -> bool:
        """A critical check that fails now and did not in the baseline: what `--fail-on new` exits 1 for."""
        return self.change is Change.NEW_FAILURE and self.now is Verdict.FAIL


@dataclass(frozen=True, slots=True)
class Changes:
    """A run compared with a baseline report: every change, and what could not be matched."""

    baseline: str  # the baseline's file as given
    baseline_started_at: str
    baseline_location: str | None
    baseline_manifest: str
    items: tuple[CheckChange, ...]  # in the report's order; checks only in the baseline last
    matched: int  # checks found in both, by service and check name
    fail_on: FailOn = "any"

    def of(self, key: tuple[str, str]) -> tuple[CheckChange, ...]:
        return tuple(item for item in self.items if item.key == key)

    def count(self, change: Change) -> int:
        return sum(item.change is change for item in self.items)

    @property
    def gating(self) -> tuple[CheckChange, ...]:
        return tuple(item for item in self.items if item.gates)

    @property
    def already_failing(self) -> int:
        """Critical checks failing now that failed in the baseline too."""
        return sum(i.change is Change.STILL_FAILING and i.now is Verdict.FAIL for i in self.items)


@dataclass(frozen=True, slots=True)
class Report:
    """One run's outcome, what every format writes: each service's result, the verdict and the exit code."""

    manifest_path: str
    services: tuple[ServiceResult, ...]
    verdict: Verdict
    exit_code: int
    summary: Summary
    started_at: str
    interrupted: str | None = None
    root_causes: tuple[str, ...] = field(default=())
    tls_unverified: tuple[str, ...] = ()  # "service/check" of HTTPS checks run without verification
    # every check failed to connect: the host, not a service, is the first suspect (#12)
    nothing_answered: bool = False
    # (service, check) of each warning that fails the run because of --strict (#14)
    strict_failures: tuple[tuple[str, str], ...] = ()
    # where the run probed from (`--location NAME`): a region, a cluster, an office; None: not said
    location: str | None = None
    # the comparison with `--baseline FILE` (or `svccheck diff`'s OLD); None: no baseline
    changes: Changes | None = None
