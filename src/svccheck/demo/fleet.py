"""The demo fleet: the eleven services of a multi-tenant backend, on loopback.

Each service answers its health endpoint in a format seen in the wild (the
payloads follow the fixtures the health parser is tested with: IETF
health+json, Spring Boot Actuator, NestJS Terminus, ASP.NET Core, Kubernetes
``/readyz?verbose``, plain JSON, plain text) and a few realistic API
endpoints, so `svccheck demo` and the bundled ``services.yaml`` show every
kind of verdict against something that behaves like production.

Scenarios:

* ``healthy``: everything passes; notification-service reports IETF ``warn``
  (its SMS provider is slow) with HTTP 200, so it is degraded and the run
  still exits 0.
* ``outage``: payment-service's database is down (Actuator ``DOWN``, HTTP 503,
  its API answers 503); billing-service, which needs payments, fails its
  health (IETF ``fail`` naming ``payment-service:reachability``, HTTP 503) and
  its API answers 502. Everything else, the api-gateway included, stays up.
* ``auth-down``: auth-service lost its signing keys: its token endpoint and its
  login answer 503 ``temporarily_unavailable`` and its health fails naming
  ``signing-keys:count``. Every API that needs a token has none to verify.

auth-service issues real signed JWTs (`svccheck.demo.tokens`): OAuth2 client
credentials at ``POST /oauth/token`` (RFC 6749 §4.4, the client authenticated
with HTTP Basic or in the form) and a JSON login at ``POST /api/v1/auth/token``;
user-service, payment-service and billing-service verify them on their APIs
(HTTP 401 without a valid one).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from svccheck.demo import tokens
from svccheck.demo.server import Handler, Request, Response, Router, ServerThread, json_response

__all__ = [
    "DEFAULT_PORTS",
    "HEALTH_PATHS",
    "SCENARIOS",
    "SERVICES",
    "Fleet",
    "service_handler",
]

SERVICES: tuple[str, ...] = (
    "api-gateway",
    "auth-service",
    "user-service",
    "tenant-service",
    "payment-service",
    "billing-service",
    "notification-service",
    "file-service",
    "analytics-service",
    "audit-service",
    "scheduler-service",
)
DEFAULT_PORTS: dict[str, int] = {name: 8080 + i for i, name in enumerate(SERVICES)}
SCENARIOS: tuple[str, ...] = ("healthy", "outage", "auth-down")

# Where each service answers its health check (what services.yaml points at).
HEALTH_PATHS: dict[str, str] = {
    "api-gateway": "/health",
    "auth-service": "/health",
    "user-service": "/actuator/health",
    "tenant-service": "/health",
    "payment-service": "/actuator/health",
    "billing-service": "/health",
    "notification-service": "/health",
    "file-service": "/healthz",
    "analytics-service": "/health",
    "audit-service": "/readyz?verbose",
    "scheduler-service": "/health",
}

IETF_HEALTH = "application/health+json"
SPRING_HEALTH = "application/vnd.spring-boot.actuator.v3+json"
TEXT = "text/plain; charset=utf-8"
# A fixed clock for payload timestamps keeps the demo's output reproducible.
_NOW = "2026-11-28T03:59:58Z"

_Builder = Callable[[str], Router]


# --- helpers ---------------------------------------------------------------------------


def _publish_contract(router: Router, service: str) -> None:
    """Serve the service's OpenAPI document at /openapi.yaml, as APIs publish theirs; the
    bundled manifest checks the service against the same file (`openapi:`)."""
    from importlib import resources

    text = resources.files("svccheck.demo").joinpath(f"openapi/{service}.yaml").read_text(encoding="utf-8")
    router.static("GET", "/openapi.yaml", Response(200, text, {}, "application/yaml"))


def _error(status: int, code: str, message: str, **extra: str) -> Response:
    response = json_response({"error": code, "message": message}, status)
    response.headers.update(extra)
    return response


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int | Response:
    """A bounded integer query parameter, or the 400 a real API would answer."""
    raw = request.param(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        return _error(400, "invalid_parameter", f"{name} must be an integer between {low} and {high}")
    return int(raw)


def _ietf(status: str, service: str, checks: dict[str, list[dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    return {"status": status, "version": "1", "serviceId": service, **extra, "checks": checks}


def _component(status: str, component_type: str = "component", **extra: Any) -> list[dict[str, Any]]:
    return [{"componentType": component_type, **extra, "status": status, "time": _NOW}]


# --- api-gateway: plain {"status": "ok"} -----------------------------------------------

PLANS = [
    {
        "id": "basic",
        "name": "Basic",
        "price": {"amount": 0, "currency": "EUR", "interval": "month"},
        "limits": {"users": 5, "storage_gb": 5},
        "features": ["email-support"],
    },
    {
        "id": "pro",
        "name": "Pro",
        "price": {"amount": 4900, "currency": "EUR", "interval": "month"},
        "limits": {"users": 50, "storage_gb": 100},
        "features": ["email-support", "sso", "audit-log"],
    },
    {
        "id": "enterprise",
        "name": "Enterprise",
        "price": {"amount": 29900, "currency": "EUR", "interval": "month"},
        "limits": {"users": None, "storage_gb": 2000},
        "features": ["email-support", "sso", "audit-log", "sla-99.95", "dedicated-tenant"],
    },
]


def _api_gateway(scenario: str) -> Router:
    router = Router("api-gateway")
    _publish_contract(router, "api-gateway")
    started = time.monotonic()

    @router.route("GET", "/health")
    async def health(request: Request) -> Response:
        return json_response({"status": "ok", "uptime": round(time.monotonic() - started, 1)})

    router.static("GET", "/api/v1/plans", json_response({"data": PLANS, "meta": {"count": len(PLANS)}}))

    @router.route("GET", "/api/v1/plans/{plan_id}")
    async def plan(request: Request) -> Response:
        found = next((p for p in PLANS if p["id"] == request.path_params["plan_id"]), None)
        if found is None:
            return _error(404, "not_found", "no such plan")
        return json_response({"data": found})

    return router


# --- auth-service: IETF health+json, OAuth token endpoint, JWKS ----------------------


JWKS = {
    "keys": [
        {
            "kty": "RSA",
            "kid": "demo-2026-11",
            "use": "sig",
            "alg": "RS256",
            "e": "AQAB",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc",
        },
        {
            "kty": "RSA",
            "kid": "demo-2026-08",
            "use": "sig",
            "alg": "RS256",
            "e": "AQAB",
            "n": "xjlCRBqkOEu5nNAVcPlhfV1cF2_jP3bPmVcT6pT8wyS7xIEvQx8a1mq3yI8PtR0RKIh5jHhN5G0sC5tH4dEeH0q9",
        },
    ]
}


def _auth_service(scenario: str) -> Router:
    router = Router("auth-service")
    down = scenario == "auth-down"
    # The draft's own example shape: a passing service with a warning component.
    # The top-level status is authoritative, so this is still a pass.
    payload = _ietf(
        "fail" if down else "pass",
        "auth-service",
        {
            "user-service:reachability": _component("pass", observedValue=4, observedUnit="ms"),
            "redis:responseTime": _component("pass", "datastore", observedValue=1, observedUnit="ms"),
            "signing-keys:count": _component("fail" if down else "pass", observedValue=0 if down else 2),
            "cpu:utilization": _component("warn", "system", observedValue=85, observedUnit="percent"),
        },
        releaseId="5.3.1",
        description="tokens, sessions and RBAC",
    )
    router.static(
        "GET", "/health", json_response(payload, status=503 if down else 200, content_type=IETF_HEALTH)
    )
    router.static("GET", "/.well-known/jwks.json", json_response(JWKS))
    no_store = {"Cache-Control": "no-store"}
    unavailable = _oauth_error(503, "temporarily_unavailable", "signing keys unavailable")

    @router.route("POST", "/oauth/token")
    async def oauth_token(request: Request) -> Response:
        # RFC 6749 §4.4: a form; the client authenticated with HTTP Basic (§2.3.1) or in the form
        if down:
            return unavailable
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
        client = _basic_client(request.headers.get("authorization", "")) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        if not all(client):
            return _oauth_error(401, "invalid_client", "client authentication failed")
        scope = form.get("scope") or "read"
        body = {"access_token": tokens.issue(client[0], scope), "token_type": "Bearer"}
        response = json_response({**body, "expires_in": tokens.LIFETIME, "scope": scope})
        response.headers.update(no_store)
        return response

    @router.route("POST", "/api/v1/auth/token")
    async def token(request: Request) -> Response:
        if down:
            return unavailable
        try:
            body = request.json() if request.body else None
        except ValueError:
            return _error(400, "invalid_request", "body is not JSON", **no_store)
        subject = _credentials_subject(body)
        if subject is None:
            return _error(
                401,
                "invalid_client",
                "client_id/client_secret or username/password required",
                **no_store,
                **{"WWW-Authenticate": 'Basic realm="auth-service"'},
            )
        response = json_response(
            {
                "access_token": tokens.issue(subject),
                "token_type": "Bearer",
                "expires_in": tokens.LIFETIME,
                "scope": "read",
            }
        )
        response.headers.update(no_store)
        return response

    return router


def _oauth_error(status: int, error: str, description: str) -> Response:
    """RFC 6749 §5.2's error answer."""
    response = json_response({"error": error, "error_description": description}, status)
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="auth-service"'
    return response


def _basic_client(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return unquote_plus(user), unquote_plus(password)


def _credentials_subject(body: Any) -> str | None:
    """Who the credentials name, if the body carries a usable pair."""
    if not isinstance(body, dict):
        return None
    for user_key, secret_key in (("client_id", "client_secret"), ("username", "password")):
        user, secret = body.get(user_key), body.get(secret_key)
        if isinstance(user, str) and user and isinstance(secret, str) and secret:
            return user
    return None


# --- user-service: Spring Boot Actuator UP, bearer-protected API ----------------------

_SPRING_UP: dict[str, Any] = {
    "status": "UP",
    "components": {
        "db": {"status": "UP", "details": {"database": "PostgreSQL", "validationQuery": "isValid()"}},
        "diskSpace": {
            "status": "UP",
            "details": {
                "total": 499963174912,
                "free": 91300069376,
                "threshold": 10485760,
                "path": "/app/.",
                "exists": True,
            },
        },
        "ping": {"status": "UP"},
        "redis": {"status": "UP", "details": {"version": "7.2.4"}},
    },
}

USERS = [
    {
        "id": f"usr_{i:04d}",
        "tenant": "acme",
        "email": f"{name}@acme.example",
        "name": name.title(),
        "roles": roles,
        "active": True,
    }
    for i, (name, roles) in enumerate(
        [
            ("ada", ["owner"]),
            ("grace", ["admin"]),
            ("linus", ["member"]),
            ("margaret", ["member"]),
            ("ken", ["billing"]),
            ("barbara", ["member"]),
            ("dennis", ["auditor"]),
            ("frances", ["member"]),
        ],
        start=1,
    )
]


def _bearer(request: Request) -> str | None:
    """The caller's token when auth-service signed it and it is still valid (`demo.tokens`)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip() if tokens.verify(token.strip()) is not None else None


def _unauthorized(service: str) -> Response:
    return _error(
        401,
        "unauthorized",
        "a valid bearer token from auth-service is required",
        **{"WWW-Authenticate": f'Bearer realm="{service}"'},
    )


def _user_service(scenario: str) -> Router:
    router = Router("user-service")
    router.static("GET", "/actuator/health", json_response(_SPRING_UP, content_type=SPRING_HEALTH))
    for probe in ("liveness", "readiness"):
        router.static(
            "GET", f"/actuator/health/{probe}", json_response({"status": "UP"}, content_type=SPRING_HEALTH)
        )
    unauthorized = _unauthorized("user-service")

    @router.route("GET", "/api/v1/users")
    async def users(request: Request) -> Response:
        if _bearer(request) is None:
            return unauthorized
        limit = _int_param(request, "limit", 20, 1, 100)
        if isinstance(limit, Response):
            return limit
        page = USERS[:limit]
        more = len(USERS) > limit
        return json_response(
            {
                "data": page,
                "meta": {
                    "limit": limit,
                    "total": len(USERS),
                    "next_cursor": page[-1]["id"] if more else None,
                },
            }
        )

    @router.route("GET", "/api/v1/users/{user_id}")
    async def user(request: Request) -> Response:
        if _bearer(request) is None:
            return unauthorized
        found = next((u for u in USERS if u["id"] == request.path_params["user_id"]), None)
        return json_response({"data": found}) if found else _error(404, "not_found", "no such user")

    return router


# --- tenant-service: NestJS Terminus, tenant isolation --------------------------------

TENANTS = {
    "acme": {
        "id": "acme",
        "name": "Acme Corp",
        "plan": "pro",
        "status": "active",
        "region": "eu-west-1",
        "created_at": "2024-03-11T09:30:00Z",
        "seats": {"used": 8, "limit": 50},
    },
    "globex": {
        "id": "globex",
        "name": "Globex Corporation",
        "plan": "enterprise",
        "status": "active",
        "region": "us-east-1",
        "created_at": "2023-10-02T14:05:00Z",
        "seats": {"used": 412, "limit": None},
    },
    "initech": {
        "id": "initech",
        "name": "Initech",
        "plan": "basic",
        "status": "suspended",
        "region": "eu-west-1",
        "created_at": "2025-01-20T08:00:00Z",
        "seats": {"used": 3, "limit": 5},
    },
}


def _tenant_service(scenario: str) -> Router:
    router = Router("tenant-service")
    up = {"database": {"status": "up"}, "memory_heap": {"status": "up"}, "redis": {"status": "up"}}
    terminus = {"status": "ok", "info": up, "error": {}, "details": up}
    router.static("GET", "/health", json_response(terminus, content_type="application/json; charset=utf-8"))

    @router.route("GET", "/api/v1/tenants/{tenant_id}")
    async def tenant(request: Request) -> Response:
        # Tenant isolation: a caller may read only the tenant its X-Tenant-ID names.
        wanted = request.path_params["tenant_id"]
        caller = request.headers.get("x-tenant-id")
        if caller is None:
            return _error(403, "tenant_required", "X-Tenant-ID header is required")
        if caller != wanted:
            return _error(403, "tenant_mismatch", f"tenant {caller!r} may not read tenant {wanted!r}")
        found = TENANTS.get(wanted)
        return json_response({"data": found}) if found else _error(404, "not_found", "no such tenant")

    return router


# --- payment-service: Spring Boot Actuator with a db component ------------------------

PAYMENT_METHODS = [
    {"id": "card", "provider": "stripe", "enabled": True, "currencies": ["EUR", "USD", "GBP"]},
    {"id": "sepa_debit", "provider": "stripe", "enabled": True, "currencies": ["EUR"]},
    {"id": "paypal", "provider": "paypal", "enabled": True, "currencies": ["EUR", "USD"]},
    {"id": "invoice", "provider": "internal", "enabled": False, "currencies": ["EUR"]},
]


def _payment_health(scenario: str) -> Response:
    disk = {
        "status": "UP",
        "details": {"total": 499963174912, "free": 91300069376, "threshold": 10485760, "exists": True},
    }
    stripe = {"status": "UP", "details": {"latencyMs": 84}}
    if scenario == "outage":
        db = {"status": "DOWN", "details": {"error": "Connection refused"}}
        body = {
            "status": "DOWN",
            "components": {"db": db, "diskSpace": disk, "ping": {"status": "UP"}, "stripe": stripe},
        }
        return json_response(body, 503, SPRING_HEALTH)
    db = {"status": "UP", "details": {"database": "PostgreSQL", "validationQuery": "isValid()"}}
    body = {
        "status": "UP",
        "components": {"db": db, "diskSpace": disk, "ping": {"status": "UP"}, "stripe": stripe},
    }
    return json_response(body, 200, SPRING_HEALTH)


def _payment_service(scenario: str) -> Router:
    router = Router("payment-service")
    router.static("GET", "/actuator/health", _payment_health(scenario))
    if scenario == "outage":
        router.static(
            "GET", "/api/v1/payments/methods", _error(503, "service_unavailable", "database unavailable")
        )
    else:

        @router.route("GET", "/api/v1/payments/methods")
        async def methods(request: Request) -> Response:
            if _bearer(request) is None:
                return _unauthorized("payment-service")
            return json_response({"data": PAYMENT_METHODS})

    return router


# --- billing-service: IETF with a payment-service:reachability check ------------------

INVOICES = [
    {
        "id": "inv_2026_1101",
        "tenant": "acme",
        "status": "open",
        "amount": 4900,
        "currency": "EUR",
        "due_date": "2026-12-01",
    },
    {
        "id": "inv_2026_1102",
        "tenant": "globex",
        "status": "open",
        "amount": 29900,
        "currency": "EUR",
        "due_date": "2026-12-01",
    },
    {
        "id": "inv_2026_1001",
        "tenant": "acme",
        "status": "paid",
        "amount": 4900,
        "currency": "EUR",
        "due_date": "2026-11-01",
    },
    {
        "id": "inv_2026_1003",
        "tenant": "initech",
        "status": "void",
        "amount": 0,
        "currency": "EUR",
        "due_date": "2026-11-01",
    },
]
INVOICE_STATUSES = ("draft", "open", "paid", "void")


def _billing_health(scenario: str) -> Response:
    postgres = _component("pass", "datastore", observedValue=7)
    if scenario == "outage":
        reach = _component(
            "fail", output="GET http://payment-service:8084/actuator/health: 503 Service Unavailable"
        )
        payload = _ietf(
            "fail",
            "billing-service",
            {"payment-service:reachability": reach, "postgres:connections": postgres},
            releaseId="3.9.0",
            output="payment-service unreachable",
        )
        return json_response(payload, 503, IETF_HEALTH)
    reach = _component("pass", observedValue=11, observedUnit="ms")
    payload = _ietf(
        "pass",
        "billing-service",
        {"payment-service:reachability": reach, "postgres:connections": postgres},
        releaseId="3.9.0",
    )
    return json_response(payload, 200, IETF_HEALTH)


def _billing_service(scenario: str) -> Router:
    router = Router("billing-service")
    _publish_contract(router, "billing-service")
    router.static("GET", "/health", _billing_health(scenario))
    outage = scenario == "outage"

    @router.route("GET", "/api/v1/invoices")
    async def invoices(request: Request) -> Response:
        if outage:  # listing needs payment states from payment-service
            return _error(502, "bad_gateway", "upstream payment-service answered 503")
        if _bearer(request) is None:
            return _unauthorized("billing-service")
        status = request.param("status")
        if status is not None and status not in INVOICE_STATUSES:
            return _error(400, "invalid_parameter", f"status must be one of {', '.join(INVOICE_STATUSES)}")
        data = [i for i in INVOICES if status is None or i["status"] == status]
        return json_response({"data": data, "meta": {"count": len(data)}})

    return router


# --- notification-service: IETF warn (slow SMS provider) ------------------------------

TEMPLATES = [
    {"id": "welcome-email", "channel": "email", "locale": "en", "version": 7},
    {"id": "password-reset", "channel": "email", "locale": "en", "version": 3},
    {"id": "invoice-issued", "channel": "email", "locale": "en", "version": 5},
    {"id": "otp-sms", "channel": "sms", "locale": "en", "version": 2},
]


def _notification_service(scenario: str) -> Router:
    router = Router("notification-service")
    payload = _ietf(
        "warn",
        "notification-service",
        {
            "sms-provider:responseTime": _component(
                "warn", observedValue=2450, observedUnit="ms", output="SMS provider answering slowly"
            ),
            "smtp:responseTime": _component("pass", observedValue=38, observedUnit="ms"),
            "postgres:connections": _component("pass", "datastore", observedValue=12),
        },
        releaseId="2.7.0",
        description="notifications: email and SMS",
    )
    # Degraded, not down: IETF `warn` comes with HTTP 200.
    router.static("GET", "/health", json_response(payload, 200, IETF_HEALTH))
    router.static("GET", "/api/v1/notifications/templates", json_response({"data": TEMPLATES}))
    return router


# --- file-service: ASP.NET Core HealthChecks (UI response writer) ---------------------

QUOTAS = {
    "acme": {"used_bytes": 45_097_156_608, "limit_bytes": 107_374_182_400, "files": 18_204},
    "globex": {"used_bytes": 1_288_490_188_800, "limit_bytes": 2_147_483_648_000, "files": 904_311},
}


def _file_service(scenario: str) -> Router:
    router = Router("file-service")
    payload = {
        "status": "Healthy",
        "totalDuration": "00:00:00.0213388",
        "entries": {
            "sqlserver": {"data": {}, "duration": "00:00:00.0120001", "status": "Healthy", "tags": ["db"]},
            "blob-storage": {
                "data": {},
                "duration": "00:00:00.0093387",
                "status": "Healthy",
                "tags": ["storage"],
            },
        },
    }
    router.static("GET", "/healthz", json_response(payload))

    @router.route("GET", "/api/v1/files/quota")
    async def quota(request: Request) -> Response:
        tenant = request.headers.get("x-tenant-id", "acme")
        usage = QUOTAS.get(tenant)
        if usage is None:
            return _error(404, "not_found", f"no quota for tenant {tenant!r}")
        ratio = round(usage["used_bytes"] / usage["limit_bytes"], 3)
        return json_response({"tenant": tenant, **usage, "usage_ratio": ratio})

    return router


# --- analytics-service: plain text OK -------------------------------------------------


def _analytics_service(scenario: str) -> Router:
    router = Router("analytics-service")
    router.static("GET", "/health", Response(200, "OK", {}, TEXT))
    summary = {
        "period": "24h",
        "requests": 1_482_113,
        "error_rate": 0.0031,
        "p50_latency_ms": 41,
        "p95_latency_ms": 187,
        "active_tenants": 3,
    }
    router.static("GET", "/api/v1/metrics/summary", json_response(summary))
    return router


# --- audit-service: Kubernetes-style /readyz and /livez -------------------------------

_READYZ_CHECKS = ("ping", "log", "postgres", "kafka-producer", "informer-sync", "shutdown")
AUDIT_ACTIONS = (
    "user.login",
    "user.role_changed",
    "tenant.settings_updated",
    "invoice.issued",
    "payment.method_added",
    "file.deleted",
)
AUDIT_EVENTS = [
    {
        "id": f"evt_{i:06d}",
        "tenant": ("acme", "globex", "initech")[i % 3],
        "actor": USERS[i % len(USERS)]["id"],
        "action": AUDIT_ACTIONS[i % len(AUDIT_ACTIONS)],
        "at": f"2026-11-28T03:{59 - i:02d}:00Z",
        "ip": f"203.0.113.{10 + i}",
    }
    for i in range(40)
]


def _audit_service(scenario: str) -> Router:
    router = Router("audit-service")
    verbose = "".join(f"[+]{name} ok\n" for name in _READYZ_CHECKS)

    def probe(kind: str) -> Handler:
        async def handler(request: Request) -> Response:
            # Like the Kubernetes API server: "ok", or one line per check with ?verbose.
            if request.param("verbose") is None:
                return Response(200, "ok", {"X-Content-Type-Options": "nosniff"}, TEXT)
            return Response(
                200, f"{verbose}{kind} check passed\n", {"X-Content-Type-Options": "nosniff"}, TEXT
            )

        return handler

    router.add("GET", "/readyz", probe("readyz"))
    router.add("GET", "/livez", probe("livez"))

    @router.route("GET", "/api/v1/audit/events")
    async def events(request: Request) -> Response:
        limit = _int_param(request, "limit", 20, 1, 100)
        if isinstance(limit, Response):
            return limit
        page = AUDIT_EVENTS[:limit]
        cursor = page[-1]["id"] if len(AUDIT_EVENTS) > limit else None
        return json_response({"data": page, "meta": {"limit": limit, "next_cursor": cursor}})

    return router


# --- scheduler-service: plain {"status": "UP"} ----------------------------------------

JOBS = [
    {
        "id": "job_invoice_run",
        "name": "monthly-invoice-run",
        "schedule": "0 2 1 * *",
        "state": "scheduled",
        "next_run": "2026-12-01T02:00:00Z",
    },
    {
        "id": "job_dunning",
        "name": "dunning-reminders",
        "schedule": "0 9 * * *",
        "state": "scheduled",
        "next_run": "2026-11-28T09:00:00Z",
    },
    {
        "id": "job_rollup",
        "name": "analytics-hourly-rollup",
        "schedule": "5 * * * *",
        "state": "running",
        "started_at": "2026-11-28T03:05:00Z",
    },
    {
        "id": "job_retention",
        "name": "audit-log-retention",
        "schedule": "30 3 * * *",
        "state": "succeeded",
        "finished_at": "2026-11-28T03:31:12Z",
    },
]
JOB_STATES = ("scheduled", "running", "succeeded", "failed")


def _scheduler_service(scenario: str) -> Router:
    router = Router("scheduler-service")
    router.static("GET", "/health", json_response({"status": "UP"}))

    @router.route("GET", "/api/v1/jobs")
    async def jobs(request: Request) -> Response:
        state = request.param("state")
        if state is not None and state not in JOB_STATES:
            return _error(400, "invalid_parameter", f"state must be one of {', '.join(JOB_STATES)}")
        data = [j for j in JOBS if state is None or j["state"] == state]
        return json_response({"data": data, "meta": {"state": state, "count": len(data)}})

    return router


_BUILDERS: dict[str, _Builder] = {
    "api-gateway": _api_gateway,
    "auth-service": _auth_service,
    "user-service": _user_service,
    "tenant-service": _tenant_service,
    "payment-service": _payment_service,
    "billing-service": _billing_service,
    "notification-service": _notification_service,
    "file-service": _file_service,
    "analytics-service": _analytics_service,
    "audit-service": _audit_service,
    "scheduler-service": _scheduler_service,
}


def service_handler(name: str, scenario: str = "healthy") -> Router:
    """The request handler of one demo service (serve it with `ServerThread.add`)."""
    _check_scenario(scenario)
    builder = _BUILDERS.get(name)
    if builder is None:
        raise ValueError(f"unknown demo service {name!r}; services are: {', '.join(SERVICES)}")
    return builder(scenario)


def _check_scenario(scenario: str) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; scenarios are: {', '.join(SCENARIOS)}")


def _check_names(what: str, mapping: dict[str, Any] | None) -> None:
    unknown = sorted(set(mapping or {}) - set(SERVICES))
    if unknown:
        raise ValueError(
            f"{what}: unknown service(s) {', '.join(unknown)}; services are: {', '.join(SERVICES)}"
        )


class Fleet:
    """The eleven services on loopback, in one background thread.

    >>> with Fleet("outage") as fleet:
    ...     httpx.get(fleet.urls["payment-service"] + "/actuator/health").status_code
    503

    `ports` maps names to fixed ports (a service left out gets an ephemeral
    one); by default every port is ephemeral. `latency` maps names to a
    delay in seconds before each answer. `start` raises OSError when a port
    is taken, having released the ones it had bound.
    """

    def __init__(
        self,
        scenario: str = "healthy",
        host: str = "127.0.0.1",
        ports: dict[str, int] | None = None,
        latency: dict[str, float] | None = None,
    ) -> None:
        _check_scenario(scenario)
        _check_names("ports", ports)
        _check_names("latency", latency)
        self.scenario = scenario
        self.host = host
        self._wanted_ports = dict(ports or {})
        self._latency = dict(latency or {})
        self._servers: ServerThread | None = None
        self.ports: dict[str, int] = {}
        self.urls: dict[str, str] = {}

    def start(self) -> Fleet:
        if self._servers is not None:
            return self
        servers = ServerThread(name=f"svccheck-demo-{self.scenario}")
        try:
            for name in SERVICES:
                self.ports[name] = servers.add(
                    service_handler(name, self.scenario),
                    self.host,
                    self._wanted_ports.get(name, 0),
                    latency=self._latency.get(name, 0.0),
                )
            servers.start()
        except BaseException:
            servers.stop()
            self.ports.clear()
            raise
        self._servers = servers
        url_host = f"[{self.host}]" if ":" in self.host else self.host
        self.urls = {name: f"http://{url_host}:{port}" for name, port in self.ports.items()}
        return self

    def stop(self) -> None:
        if self._servers is not None:
            self._servers.stop()

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by handlers (answered 500); empty unless the demo has a bug."""
        return list(self._servers.errors) if self._servers is not None else []

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
