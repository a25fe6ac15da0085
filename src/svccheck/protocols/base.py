"""What a protocol is to svccheck: one interface every URL scheme implements.

Like httpx's transports (`handle_request(Request) -> Response`, with redirects and
auth above them), a protocol knows only how to exchange with a server and what
the exchange means; the engine above it owns concurrency, per-origin gates,
attempt timeouts and retries, and judging below it reads the one neutral
`Answer`. A protocol says:

- `shape`: its keys in the manifest (an allow-list), its rules and how its
  checks are built (`svccheck.grammar.protocol.ProtocolShape`);
- `exchange`: one attempt, through its `Connector` (per-run state: HTTP's lanes);
- `classify`: its own exceptions → a failure class and a reason (the operating
  system's and TLS errors are classified here once, for every protocol);
- `judge`: the answer and the check's expectations → assertion records;
- `verb`, `request_lines`, `request_body` and `reproduce`: the one line a
  table shows, what `check -v` shows it sent, and the command a person runs to
  do the same by hand (curl, redis-cli, pg_isready…);
- `uses_tls` and `request_fields`: whether the check handshakes TLS (a report
  names unverified ones), and what the JSON report records of its request.

Each protocol reads its own part of a check, `Check.target` (`HttpRequest`,
`TcpTarget`); nothing outside the protocol looks inside it.
"""

from __future__ import annotations

import errno
import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar
from urllib.parse import urlsplit

from svccheck.model import Answer, Check, FailureClass, Judgement, Target

if TYPE_CHECKING:  # reading a manifest asks for a protocol's shape: asyncio, ssl wait for a probe
    from svccheck.grammar.protocol import ProtocolShape
    from svccheck.protocols.shell import Reproduction
    from svccheck.protocols.timing import AttemptTrace

T = TypeVar("T")

Origin = tuple[str, str, int | None, object]  # scheme, host, port, TLS setting (None for plain)


@dataclass(frozen=True, slots=True)
class Exchange:
    """What one attempt may use: its TLS verification, its time bound and the body cap."""

    verify: bool | str
    timeout: float
    body_cap: int
    trace: AttemptTrace
    # W3C trace context this attempt sends (`trace_context`), where the protocol carries it
    traceparent: str | None = None
    tracestate: str | None = None


class Connector(ABC):
    """A protocol's state for one run (connections it keeps), closed when the run ends."""

    @abstractmethod
    async def exchange(self, check: Check, attempt: Exchange) -> Answer:
        """One attempt. Raise on failure; `Protocol.classify` names it."""

    def prepare(self, checks: Sequence[Check]) -> None:
        """Load what these checks' exchanges will need, before any attempt's clock starts."""
        return None

    async def aclose(self) -> None:
        return None


class Protocol(ABC):
    name: ClassVar[str]
    schemes: ClassVar[tuple[str, ...]]
    # the module whose SHAPE is what the protocol takes in the manifest: its keys (an allow-list),
    # rules and build. Reading a manifest loads it, a probe does not: HTTP's is the grammar's
    # largest part, 3.5 ms before the first request when the parallel start's child read the manifest.
    shape_module: ClassVar[str]
    # a timeout's reason names the phase it stalled in ("while connecting"…)
    names_stalled_phase: ClassVar[bool] = True
    # each attempt carries W3C trace context (`Exchange.traceparent`: HTTP sends it as headers)
    carries_trace: ClassVar[bool] = False

    @property
    def shape(self) -> ProtocolShape:
        shape: ProtocolShape = importlib.import_module(self.shape_module).SHAPE
        return shape

    @abstractmethod
    def connector(self, *, total: int) -> Connector:
        """The per-run state of this protocol (`total`: connections it may keep open at once)."""

    @abstractmethod
    def origin(self, check: Check, verify: bool | str) -> Origin:
        """Where a check goes: checks to one origin share its gate (`--concurrency` per origin)."""

    def may_retry(self, check: Check) -> bool:
        """Whether repeating the check is safe (HTTP: not a POST/PATCH unless allowed)."""
        return True

    def transient(self, answer: Answer) -> bool:
        """An answer worth another attempt (HTTP 429/502/503/504)."""
        return False

    def retry_after(self, answer: Answer) -> float | None:
        """Seconds the server asked to wait before the next attempt."""
        return None

    def is_timeout(self, exc: BaseException) -> bool:
        """A timeout of the protocol's own (beyond the attempt's bound): its reason names the phase."""
        return False

    def classify(self, exc: BaseException) -> tuple[FailureClass, str] | None:
        """This protocol's own exceptions; None leaves the error to the common rules."""
        return None

    @abstractmethod
    def judge(self, check: Check, answer: Answer) -> Judgement:
        """The answer against the check's expectations: one record per expectation."""

    @abstractmethod
    def verb(self, check: Check) -> str:
        """What the check does to its URL, in a word or three: `GET`, `PING over TLS`; tables show
        `verb URL` as the check's detail line."""

    @abstractmethod
    def request_lines(self, check: Check) -> list[str]:
        """What the check sends, one line each, as `check -v` shows it (before redaction)."""

    def request_body(self, check: Check) -> bytes | None:
        """The body the check sends, which `check -v` shows with secret JSON keys masked."""
        return None

    @abstractmethod
    def uses_tls(self, check: Check) -> bool:
        """Whether the check handshakes TLS, so that an unverified certificate is named in every report."""

    @abstractmethod
    def request_fields(self, check: Check) -> dict[str, object]:
        """What the JSON report records of the check's request besides its URL (HTTP: the method)."""

    @abstractmethod
    def recorded_target(self, url: str, fields: Mapping[str, object]) -> Target:
        """The check's target as far as the JSON report recorded it: `request_fields` read back (by
        `--baseline`, `diff` and `merge`). A field of the wrong type raises `ValueError` naming it."""

    @abstractmethod
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
        """A command line a person runs to do what the check did; secrets as variable references.

        `traceparent` is passed only to a protocol that `carries_trace`: the line sends it too."""


def own_target(check: Check, kind: type[T]) -> T:
    """The check's target as the protocol of its URL declared it; the manifest built it so."""
    target = check.target
    if not isinstance(target, kind):
        raise TypeError(f"{check.url}: expected a {kind.__name__}, got a {type(target).__name__}")
    return target


def classify_error(protocol: Protocol, exc: BaseException) -> tuple[FailureClass, str]:
    """An exception from an exchange → (failure class, a reason a person understands).

    The operating system's and TLS errors mean the same for every protocol and
    are read from the exception's whole chain; the rest is the protocol's.
    """
    import socket
    import ssl

    chain = exception_chain(exc)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            detail = item.verify_message or item.reason or "verification failed"
            return FailureClass.TLS, f"TLS certificate verify failed: {detail}"
        if isinstance(item, ssl.SSLError):
            return FailureClass.TLS, f"TLS error: {item.reason or item}"
        if isinstance(item, socket.gaierror):
            return FailureClass.DNS, f"DNS lookup failed: {item.strerror or item}"
        if isinstance(item, ConnectionRefusedError) or getattr(item, "errno", None) == errno.ECONNREFUSED:
            return FailureClass.REFUSED, "connection refused"
        if isinstance(item, ConnectionResetError):
            return FailureClass.PROTOCOL, "connection reset by peer"
    own = protocol.classify(exc)
    if own is not None:
        return own
    if unreachable(chain):
        return FailureClass.REFUSED, "host unreachable"
    return FailureClass.PROTOCOL, f"{type(exc).__name__}: {first_line(exc)}"


def unreachable(chain: list[BaseException]) -> bool:
    return any(isinstance(i, OSError) and getattr(i, "errno", None) == errno.EHOSTUNREACH for i in chain)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


def exception_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def recorded(fields: Mapping[str, object], key: str, kind: type[T], default: T) -> T:
    """One field of a saved report's check: `default` when absent or null, else of type `kind`."""
    value = fields.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ValueError(f"{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def recorded_address(url: str) -> tuple[str, int]:
    """HOST and PORT of a saved report's `scheme://HOST:PORT` URL."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise ValueError(f"url: not a HOST:PORT URL: {url!r}")
    return host, port
