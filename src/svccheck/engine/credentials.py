"""Named credentials at run time: a token requested once and shared, and what a check needs first.

An OAuth2 client-credentials token (RFC 6749 §4.4) is requested by the first check that
needs it, through the same prober as every check (the same HTTP transport, per-origin
gates, TLS trust and retries), and shared by every other one. A `Session` keeps it
across the rounds of `wait`, `watch` and `serve` until shortly before its `expires_in`,
and a 401 to a check that sent it has it requested again, once. The token request is a
check of its own in the report (`auth:NAME/token`), so a refused login is the root
cause the table, the footer and every report name, and `check -v` tells its story.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import quote_plus, urlencode

from svccheck.engine.captures import (
    CaptureBoard,
    Taken,
    capture_var,
    extract,
    fill,
    label,
    with_authorization,
)
from svccheck.model import (
    ANY_2XX,
    Answer,
    Assertion,
    BasicCredential,
    Check,
    CheckResult,
    Credential,
    Expect,
    Failure,
    FailureClass,
    HttpRequest,
    Judgement,
    OAuth2Credential,
    ProbeOutcome,
    Service,
    Verdict,
)

TOKEN_CHECK = "token"
AUTH_VAR_PREFIX = "SVCCHECK_AUTH_"
# A token is requested again this long before its `expires_in` runs out (at most a tenth of
# its life): a check that starts with it must not see it expire on the way.
REFRESH_MARGIN = 30.0
_MAX_ERROR_TEXT = 200


def token_service(credential: Credential) -> str:
    """The name the token request is reported under: `auth:smoke` (no service can be called so)."""
    return f"auth:{credential.name}"


def is_token_service(name: str) -> bool:
    """A token request's row (`auth:smoke`): no manifest service has a ':' in its name."""
    return name.startswith("auth:")


def auth_var(credential: Credential) -> str:
    return AUTH_VAR_PREFIX + credential.name.upper().replace("-", "_")


def token_check(credential: OAuth2Credential) -> Check:
    """The token request as a check: a form POST, the client authenticated as configured."""
    form = list(credential.form)
    headers = [("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")]
    if credential.client_auth == "client_secret_post":
        form += [("client_id", credential.client_id), ("client_secret", credential.client_secret)]
    else:
        # RFC 6749 §2.3.1: the id and secret are form-urlencoded before they are joined
        pair = f"{quote_plus(credential.client_id)}:{quote_plus(credential.client_secret)}"
        headers.append(("Authorization", "Basic " + base64.b64encode(pair.encode()).decode("ascii")))
    return Check(
        service=token_service(credential),
        name=TOKEN_CHECK,
        kind="check",
        url=credential.token_url,
        target=HttpRequest("POST", tuple(headers), urlencode(form).encode(), retry_unsafe=True),
        expect=Expect(status=ANY_2XX),
        timeout=credential.timeout,
        retries=credential.retries,
        backoff=credential.backoff,
        verify_tls=credential.verify_tls,
    )


def token_service_of(check: Check, credential: OAuth2Credential | None = None) -> Service:
    """The report's row of a token request (`auth:smoke`, its one check `token`)."""
    return Service(check.service, check.url, True, (), (), (check,))


def token_rows(results: Iterable[CheckResult]) -> tuple[Service, ...]:
    """The token requests among `results`, as the services a report shows them under."""
    return tuple(token_service_of(r.check) for r in results if is_token_service(r.check.service))


def judge_token(check: Check, answer: Answer) -> Judgement:
    """A token endpoint's answer: granted (2xx with an access_token), refused (400/401 with
    RFC 6749 §5.2's `error`: class `auth`), or anything else."""
    code = answer.status_code or 0
    document = _json(answer.body)
    if code in (400, 401):
        error = _error_text(document)
        message = f"token request refused: HTTP {code}" + (f" {error}" if error else "")
        failure = Failure(FailureClass.AUTH, message)
        return Judgement((Assertion("token granted", False, f"HTTP {code}", failure),))
    if not 200 <= code < 300:
        failure = Failure(FailureClass.STATUS, f"token endpoint answered HTTP {code}, expected 2xx")
        return Judgement((Assertion("status 2xx", False, str(code), failure),))
    token = document.get("access_token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        failure = Failure(FailureClass.PROTOCOL, "token endpoint answered without an access_token")
        return Judgement((Assertion("access_token granted", False, "absent", failure),))
    expires = document.get("expires_in") if isinstance(document, dict) else None
    shown = f"expires in {expires}s" if isinstance(expires, int | float) else "no expires_in"
    granted = Assertion("access_token granted", True, shown)
    return Judgement((Assertion("status 2xx", True, str(code)), granted))


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _error_text(document: object) -> str:
    if not isinstance(document, dict):
        return ""
    parts = [str(document[k]) for k in ("error", "error_description") if isinstance(document.get(k), str)]
    text = ": ".join(parts)
    return text if len(text) <= _MAX_ERROR_TEXT else text[: _MAX_ERROR_TEXT - 1] + "…"


@dataclass
class Token:
    """An access token a token endpoint granted, until when, and the request that got it."""

    value: str
    expires: float | None  # on time.monotonic()
    result: CheckResult  # the request that granted it, reported in every round that uses it


Fetch = Callable[[Check], Awaitable[tuple[CheckResult, ProbeOutcome | None]]]


@dataclass
class Session:
    """What a command keeps from one round to the next: tokens and captured values."""

    tokens: dict[str, Token] = field(default_factory=dict)
    kept: dict[str, Taken] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _failed: dict[str, CheckResult] = field(default_factory=dict)
    # rounds are numbered so that a refused token is requested once per round, not once per
    # check that waited for it (the auth-down demo asked 6 times for 2 checks)
    round: int = 0
    _failed_round: dict[str, int] = field(default_factory=dict)

    def valid(self, name: str) -> Token | None:
        token = self.tokens.get(name)
        if token is None or (token.expires is not None and time.monotonic() >= token.expires):
            return None
        return token

    async def token(
        self, credential: OAuth2Credential, fetch: Fetch, *, stale: str | None = None
    ) -> Token | None:
        """The credential's token, requested when there is none, it is about to expire, or it is
        `stale` (a check got a 401 with it). One request at a time: the others wait and share it."""
        lock = self._locks.setdefault(credential.name, asyncio.Lock())
        async with lock:
            token = self.valid(credential.name)
            if token is not None and token.value != stale:
                return token
            if token is None and self._failed_round.get(credential.name) == self.round:
                return None  # refused already in this round
            self.tokens.pop(credential.name, None)
            result, outcome = await fetch(token_check(credential))
            if result.verdict is not Verdict.PASS or outcome is None or outcome.answer is None:
                self._failed[credential.name] = result
                self._failed_round[credential.name] = self.round
                return None
            document = _json(outcome.answer.body)
            assert isinstance(document, dict)
            value = str(document["access_token"])
            expires_in = document.get("expires_in")
            expires = None
            if isinstance(expires_in, int | float) and expires_in > 0:
                expires = time.monotonic() + expires_in - min(REFRESH_MARGIN, expires_in / 10)
            result = replace(result, secrets=result.secrets | {value})
            token = self.tokens[credential.name] = Token(value, expires, result)
            self._failed.pop(credential.name, None)
            return token

    def last_result(self, name: str) -> CheckResult | None:
        token = self.tokens.get(name)
        return token.result if token is not None else self._failed.get(name)


@dataclass
class Prepared:
    """A check as it is sent: its captures filled in, its credential added."""

    check: Check
    token: str | None = None
    run_vars: tuple[tuple[str, str, str], ...] = ()
    secrets: frozenset[str] = frozenset()


class RunInputs:
    """One run's view of what checks need before they go: tokens and captures.

    `prepare` waits for them (or says why the check is skipped); `finish` posts what a
    capturing check took; `token_services` are the token requests the run used, as the
    report shows them."""

    def __init__(self, session: Session, checks: list[Check], fetch: Fetch) -> None:
        self.session = session
        session.round += 1
        self.fetch = fetch
        self.board = CaptureBoard(kept=session.kept)
        self.board.expect(checks)
        self.used: dict[str, OAuth2Credential] = {}

    async def prepare(self, check: Check) -> Prepared | CheckResult:
        values: dict[str, str] = {}
        run_vars: list[tuple[str, str, str]] = []
        secrets: set[str] = set()
        for name in check.uses:
            taken = await self.board.wait(name)
            if taken.value is None:
                producer = taken.producer or self.board.producers.get(name, "")
                if not producer:
                    return skipped(check, f"needs {name}, whose check is not in this run", None)
                return skipped(check, f"needs {name} from {producer}, which failed", producer)
            values[name] = taken.value
            if taken.secret:
                secrets.add(taken.value)
                how = f"{taken.source} of {taken.producer}'s answer"
                run_vars.append((taken.value, capture_var(name), how))
        prepared = fill(check, values) if values else check
        token: str | None = None
        credential = check.auth
        if isinstance(credential, OAuth2Credential):
            self.used[credential.name] = credential
            got = await self.session.token(credential, self.fetch)
            if got is None:
                producer = f"{token_service(credential)}/{TOKEN_CHECK}"
                return skipped(check, f"needs a token from {producer}, which failed", producer)
            token = got.value
            prepared = with_authorization(prepared, f"Bearer {token}")
            secrets.add(token)
            how = f"the access_token the {token_service(credential)}/{TOKEN_CHECK} step is granted"
            run_vars.append((token, auth_var(credential), how))
        elif isinstance(credential, BasicCredential):
            pair = f"{credential.username}:{credential.password}"
            value = base64.b64encode(pair.encode()).decode("ascii")
            prepared = with_authorization(prepared, f"Basic {value}")
            secrets.add(value)
            how = f"printf '%s' '{credential.username}:'\"$PASSWORD\" | base64"
            run_vars.append((value, auth_var(credential), how))
        return Prepared(prepared, token, tuple(run_vars), frozenset(secrets))

    async def refreshed(self, check: Check, prepared: Prepared, outcome: ProbeOutcome) -> Prepared | None:
        """After a 401 to a check that sent a token: the check again with a new token, once."""
        credential = check.auth
        answer = outcome.answer
        if not isinstance(credential, OAuth2Credential) or prepared.token is None:
            return None
        if answer is None or answer.status_code != 401:
            return None
        got = await self.session.token(credential, self.fetch, stale=prepared.token)
        if got is None or got.value == prepared.token:
            return None
        again = await self.prepare(check)
        return again if isinstance(again, Prepared) else None

    def finish(
        self,
        check: Check,
        prepared: Prepared,
        outcome: ProbeOutcome | None,
        result: CheckResult,
        *,
        critical: bool,
    ) -> CheckResult:
        result = replace(
            result,
            check=prepared.check,
            run_vars=prepared.run_vars,
            secrets=result.secrets | prepared.secrets,
        )
        if not check.captures:
            return result
        values, problems = extract(check, outcome.answer if outcome is not None else None)
        # what it took is posted unless the check failed on its own account; a capture it could not
        # take fails the check and is missing for the checks that need it
        ok = result.verdict is not Verdict.FAIL
        if problems and result.verdict is not Verdict.FAIL:
            failure = Failure(FailureClass.ASSERTION, "; ".join(problems))
            result = replace(
                result,
                verdict=Verdict.FAIL if critical else Verdict.WARN,
                reason=failure.message,
                failure_class=FailureClass.ASSERTION,
                failures=(*result.failures, failure),
                assertions=(*result.assertions, Assertion("captures taken", False, "nothing", failure)),
            )
        self.board.post(check, values, ok)
        taken = {values[c.name] for c in check.captures if c.secret and c.name in values}
        return replace(result, secrets=result.secrets | taken) if taken else result

    def failed(self, check: Check) -> None:
        """A check that could not be run at all (an internal error): its captures are not taken."""
        if check.captures:
            self.board.post(check, {}, False)

    def token_results(self) -> list[CheckResult]:
        return [r for name in self.used if (r := self.session.last_result(name)) is not None]


def skipped(check: Check, reason: str, needed: str | None) -> CheckResult:
    """A check that did not run because what it needed was not there: the cause is elsewhere."""
    return CheckResult(check, Verdict.SKIP, reason, None, (), None, None, 0, needed=needed)


__all__ = ["Prepared", "RunInputs", "Session", "judge_token", "label", "token_check", "token_service"]
