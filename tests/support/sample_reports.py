"""Reports built in memory for the renderers' unit tests: every verdict, a root cause, awkward names."""

from __future__ import annotations

from svccheck.engine.run import build_report
from svccheck.model import (
    Attempt,
    Check,
    CheckResult,
    Failure,
    FailureClass,
    HttpRequest,
    Report,
    Service,
    Verdict,
)

SECRET = "tok-PLANTED-secret-42"
STARTED_AT = "2026-11-28T06:00:00+00:00"


def make_check(service: str, name: str, kind: str = "check", url: str = "http://127.0.0.1:1/x") -> Check:
    return Check(
        service=service,
        name=name,
        kind="health" if kind == "health" else "check",
        url=url,
        target=HttpRequest(),
        expect=None,
        timeout=5.0,
        retries=2,
        backoff=0.2,
        verify_tls=True,
    )


def result(
    check: Check,
    verdict: Verdict,
    *,
    reason: str | None = None,
    failure_class: FailureClass | None = None,
    status: int | None = 200,
    latency: float | None = 0.0125,
    attempts: int = 1,
    failures: tuple[Failure, ...] = (),
) -> CheckResult:
    answered = None if status is None else f"HTTP {status}"
    log = tuple(Attempt(n, answered, None, None, latency or 0.0) for n in range(1, attempts + 1))
    return CheckResult(
        check=check,
        verdict=verdict,
        reason=reason,
        failure_class=failure_class,
        failures=failures,
        status_code=status,
        status_text=answered,
        latency=latency,
        attempts=attempts,
        attempt_log=log,
    )


def mixed_report(*, interrupted: str | None = None, exit_code: int = 130, strict: bool = False) -> Report:
    """payments fails (root cause of billing), billing fails, search warns, api passes (one recovered)."""
    api_health = make_check("api", "health", "health")
    api_items = make_check("api", 'list "items" \\ all\nnow')
    payments_health = make_check("payments", "health", "health")
    billing_health = make_check("billing", "health", "health")
    billing_charge = make_check("billing", f"charge: card, {SECRET}")
    search_health = make_check("search", "health", "health")
    services = (
        Service("api", "http://127.0.0.1:1", True, ("edge",), ("billing",), (api_health, api_items)),
        Service("billing", "http://127.0.0.1:2", True, (), ("payments",), (billing_health, billing_charge)),
        Service("payments", "http://127.0.0.1:3", True, (), (), (payments_health,)),
        Service("search", "http://127.0.0.1:4", False, (), (), (search_health,)),
    )
    refused = Failure(FailureClass.REFUSED, "connection refused")
    status_503 = Failure(FailureClass.STATUS, "expected status 2xx, got 503")
    results = {
        api_health.key: result(api_health, Verdict.PASS),
        api_items.key: result(api_items, Verdict.PASS, attempts=3, latency=0.2),
        payments_health.key: result(
            payments_health,
            Verdict.FAIL,
            reason="connection refused (3 attempts)",
            failure_class=FailureClass.REFUSED,
            status=None,
            latency=None,
            attempts=3,
            failures=(refused,),
        ),
        billing_health.key: result(
            billing_health,
            Verdict.FAIL,
            reason="expected status 2xx, got 503 (3 attempts)",
            failure_class=FailureClass.STATUS,
            status=503,
            attempts=3,
            failures=(status_503,),
        ),
        billing_charge.key: result(
            billing_charge,
            Verdict.FAIL if interrupted is None else Verdict.SKIP,
            reason=f'$.token: expected "x", got "{SECRET}"'
            if interrupted is None
            else "interrupted before it finished",
            failure_class=FailureClass.ASSERTION if interrupted is None else None,
            status=200 if interrupted is None else None,
            latency=0.05 if interrupted is None else None,
            attempts=1 if interrupted is None else 0,
            failures=(Failure(FailureClass.ASSERTION, f'$.token: expected "x", got "{SECRET}"'),)
            if interrupted is None
            else (),
        ),
        search_health.key: result(
            search_health,
            Verdict.WARN,
            reason="degraded: component index: WARN",
            failure_class=FailureClass.HEALTH,
            failures=(Failure(FailureClass.HEALTH, "degraded: component index: WARN", warn_only=True),),
        ),
    }
    return build_report(
        services,
        results,
        duration=1.5,
        started_at=STARTED_AT,
        manifest_path="services.yaml",
        strict=strict,
        interrupted=interrupted,
        interrupt_code=exit_code,
    )


def passing_report() -> Report:
    health = make_check("api", "health", "health")
    service = Service("api", "http://127.0.0.1:1", True, (), (), (health,))
    return build_report(
        (service,),
        {health.key: result(health, Verdict.PASS)},
        duration=0.1,
        started_at=STARTED_AT,
        manifest_path="services.yaml",
        strict=False,
    )
