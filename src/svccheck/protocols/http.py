"""`http://` and `https://`: what an HTTP check is, from its manifest keys to its curl line.

The manifest side is `http_shape` (the keys an HTTP service, check and expectation
take, its rules and how a check is built), loaded by reading a manifest, not by a
probe. Here: what an answer means (transient statuses, `Retry-After`, httpx's
errors as failure classes), what `check -v` shows and the curl line. The exchange
itself is `http_transport`, on httpx, loaded by the first request: reading,
validating or listing a manifest never imports httpx.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from svccheck._version import __version__
from svccheck.judge.evaluate import judge_http  # light: the health readers load with a health check
from svccheck.model import Answer, Check, FailureClass, HttpRequest, Judgement
from svccheck.protocols.base import (
    Connector,
    Origin,
    Protocol,
    exception_chain,
    first_line,
    own_target,
    recorded,
    unreachable,
)
from svccheck.redact import is_sensitive_header, url_secrets

if TYPE_CHECKING:
    from svccheck.protocols.shell import Reproduction

__all__ = ["MAX_REDIRECTS", "PROTOCOL", "USER_AGENT", "Http", "curl_command"]

MAX_REDIRECTS = 5
RETRY_AFTER_CAP = 10.0
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
USER_AGENT = f"svccheck/{__version__}"


@functools.cache  # asked for every check's origin: an import statement each time cost 1.2 µs
def _transport() -> ModuleType:
    """The httpx half, imported by the first exchange (and so before any error is classified)."""
    from svccheck.protocols import http_transport

    return http_transport


class Http(Protocol):
    name = "http"
    schemes: ClassVar[tuple[str, ...]] = ("http", "https")
    shape_module = "svccheck.protocols.http_shape"
    carries_trace = True  # `traceparent` and `tracestate` headers on every attempt

    def connector(self, *, total: int) -> Connector:
        connector: Connector = _transport().HttpConnector(
            total=total, user_agent=USER_AGENT, max_redirects=MAX_REDIRECTS
        )
        return connector

    def origin(self, check: Check, verify: bool | str) -> Origin:
        transport = _transport()
        origin: Origin = transport.origin_of(
            check.url, transport.lane_setting(verify, own_target(check, HttpRequest))
        )
        return origin

    def may_retry(self, check: Check) -> bool:
        request = own_target(check, HttpRequest)
        return request.retry_unsafe or request.method not in ("POST", "PATCH")

    def transient(self, answer: Answer) -> bool:
        return answer.status_code in TRANSIENT_STATUS

    def retry_after(self, answer: Answer) -> float | None:
        return _retry_after(answer)

    def is_timeout(self, exc: BaseException) -> bool:
        import httpx  # loaded already: only an exchange raises

        return isinstance(exc, httpx.TimeoutException)

    def classify(self, exc: BaseException) -> tuple[FailureClass, str] | None:
        import httpx  # loaded already: only an exchange raises

        if isinstance(exc, _transport().TooManyRedirects):
            return FailureClass.PROTOCOL, str(exc)
        if isinstance(exc, httpx.RemoteProtocolError):
            return FailureClass.PROTOCOL, f"protocol error: {first_line(exc)}"
        if isinstance(exc, httpx.ReadError | httpx.WriteError):
            return FailureClass.PROTOCOL, f"connection broken: {first_line(exc) or type(exc).__name__}"
        if isinstance(exc, httpx.ConnectError):
            if unreachable(exception_chain(exc)):
                return FailureClass.REFUSED, "host unreachable"
            return FailureClass.REFUSED, f"connection failed: {first_line(exc)}"
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return FailureClass.PROTOCOL, f"bad request URL: {first_line(exc)}"
        if isinstance(exc, httpx.DecodingError):
            return FailureClass.PROTOCOL, f"cannot decode body: {first_line(exc)}"
        return None

    def judge(self, check: Check, answer: Answer) -> Judgement:
        return judge_http(check, answer)

    def verb(self, check: Check) -> str:
        return own_target(check, HttpRequest).method

    def request_lines(self, check: Check) -> list[str]:
        headers = list(own_target(check, HttpRequest).headers)
        if not any(name.lower() == "user-agent" for name, _ in headers):
            headers.insert(0, ("User-Agent", USER_AGENT))
        return [f"{self.verb(check)} {check.url}", *(f"{name}: {value}" for name, value in headers)]

    def request_body(self, check: Check) -> bytes | None:
        return own_target(check, HttpRequest).body

    def uses_tls(self, check: Check) -> bool:
        return check.url.lower().startswith("https:")

    def request_fields(self, check: Check) -> dict[str, object]:
        return {"method": own_target(check, HttpRequest).method}

    def recorded_target(self, url: str, fields: Mapping[str, object]) -> HttpRequest:
        return HttpRequest(method=recorded(fields, "method", str, "GET"))

    def reproduce(
        self,
        check: Check,
        *,
        secret_vars: Mapping[str, str],
        secrets: frozenset[str] | set[str],
        verify: bool | str,
        timeout: float,
        traceparent: str | None = None,
    ) -> Reproduction:
        return curl_command(
            check,
            secret_vars=secret_vars,
            secrets=secrets,
            verify=verify,
            timeout=timeout,
            traceparent=traceparent,
        )


PROTOCOL = Http()


def _retry_after(answer: Answer) -> float | None:
    value = answer.header("retry-after")
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds < 0:
        return 0.0
    return seconds if seconds <= RETRY_AFTER_CAP else None


def curl_command(
    check: Check,
    *,
    secret_vars: Mapping[str, str],
    secrets: Iterable[str],
    verify: bool | str,
    timeout: float,
    traceparent: str | None = None,
) -> Reproduction:
    """`secret_vars` maps secret values to the variable each came from; `secrets` lists every secret value.

    `traceparent` (the last attempt's) is sent too: the request by hand joins the check's trace."""
    import shlex

    from svccheck.protocols.shell import (  # for check -v only
        Reproduction,
        ShellSecrets,
        client_certificate_words,
        shell_word,
    )

    known = ShellSecrets.of(secret_vars, secrets)
    request = own_target(check, HttpRequest)
    words: list[str] = ["curl", "-sS", "-i"]
    if request.method == "HEAD":
        words.append("--head")
    elif request.method != "GET":
        words += ["-X", request.method]
    words += ["--max-time", f"{timeout:g}", "-L", "--max-redirs", str(MAX_REDIRECTS)]
    if verify is False:
        words.append("-k")
    elif isinstance(verify, str):
        words += ["--cacert", shlex.quote(verify)]
    if request.client_cert is not None:
        words += client_certificate_words(
            request.client_cert, known, cert="--cert", key="--key", password="--pass"
        )
    if not any(name.lower() == "user-agent" for name, _ in request.headers):
        words += ["-A", shlex.quote(USER_AGENT)]
    for name, value in request.headers:
        where = f"header {name}"
        place: list[str] = []
        if is_sensitive_header(name):
            _, _, credential = value.partition(" ")
            place = [value, credential.strip()]
        words += ["-H", shell_word(known.split(f"{name}: {value}", where, place))]
    if traceparent is not None:
        words += ["-H", shlex.quote(f"traceparent: {traceparent}")]
    if request.body is not None:
        text = request.body.decode("utf-8", errors="replace")
        words += ["--data-binary", shell_word(known.split(text, "request body"))]
    # the URL's secrets as written there too (`%2F`, `+`): the decoded value alone is not in the line
    words.append(shell_word(known.split(check.url, "URL", url_secrets(check.url))))
    return Reproduction(" ".join(words), known.variables)
