"""The demo fleet and its HTTP server, exercised over real loopback sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import jwt
import pytest
import yaml

from svccheck.demo import tokens
from svccheck.demo.fleet import DEFAULT_PORTS, HEALTH_PATHS, SCENARIOS, SERVICES, Fleet, service_handler
from svccheck.demo.server import (
    Handler,
    Raw,
    Request,
    Response,
    Router,
    ServerThread,
    hang,
    json_response,
    raw_bytes,
    reset,
    serving,
)

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_MANIFEST = ROOT / "src" / "svccheck" / "demo" / "services.yaml"


@pytest.fixture(scope="module")
def healthy() -> Iterator[Fleet]:
    with Fleet("healthy") as fleet:
        yield fleet
    assert fleet.errors == []


@pytest.fixture(scope="module")
def outage() -> Iterator[Fleet]:
    with Fleet("outage") as fleet:
        yield fleet
    assert fleet.errors == []


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def get(client: httpx.Client, fleet: Fleet, service: str, path: str, **kwargs: Any) -> httpx.Response:
    return client.get(fleet.urls[service] + path, **kwargs)


# --- raw-socket helper: what the engine puts on the wire, byte for byte ---------------------


class Wire:
    """A raw client connection: send bytes, read Content-Length-framed responses.

    Reads go through one buffered file, so the bytes of a pipelined second
    response stay there for the next `response()`.
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.stream: BinaryIO = self.sock.makefile("rb")

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stream.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        status_line = self.stream.readline().decode("latin-1")
        if not status_line:
            raise ConnectionError("closed before a response")
        headers: dict[str, str] = {}
        while (line := self.stream.readline().decode("latin-1").rstrip("\r\n")) != "":
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        body = self.stream.read(int(headers["content-length"]))
        return int(status_line.split()[1]), headers, body

    def closed_by_peer(self) -> bool:
        try:
            return self.stream.read(1) == b""
        except ConnectionResetError:
            return True


# --- the fleet's shape ---------------------------------------------------------------------


def test_services_and_default_ports_are_in_fleet_order() -> None:
    assert len(SERVICES) == 11
    assert SERVICES[0] == "api-gateway" and SERVICES[-1] == "scheduler-service"
    assert [DEFAULT_PORTS[name] for name in SERVICES] == list(range(8080, 8091))
    assert SCENARIOS == ("healthy", "outage", "auth-down")


def test_fleet_serves_every_service_on_its_own_loopback_port(healthy: Fleet) -> None:
    assert list(healthy.urls) == list(SERVICES)
    ports = {int(url.rsplit(":", 1)[1]) for url in healthy.urls.values()}
    assert len(ports) == 11
    assert all(url.startswith("http://127.0.0.1:") for url in healthy.urls.values())


def test_fleet_rejects_unknown_scenario_and_service_names() -> None:
    with pytest.raises(ValueError, match="scenario"):
        Fleet("meltdown")
    with pytest.raises(ValueError, match="payments"):
        Fleet(ports={"payments": 9000})
    with pytest.raises(ValueError, match="gateway"):
        Fleet(latency={"gateway": 0.1})


def test_fleet_start_fails_cleanly_on_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        fleet = Fleet(ports={"billing-service": port})
        with pytest.raises(OSError):
            fleet.start()
        assert fleet.urls == {} and fleet.ports == {}


# --- health endpoints ----------------------------------------------------------------------

HEALTHY_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "api-gateway": ("application/json", {"status": "ok"}),
    "auth-service": ("application/health+json", {"status": "pass"}),
    "user-service": ("application/vnd.spring-boot.actuator.v3+json", {"status": "UP"}),
    "tenant-service": ("application/json", {"status": "ok", "error": {}}),
    "payment-service": ("application/vnd.spring-boot.actuator.v3+json", {"status": "UP"}),
    "billing-service": ("application/health+json", {"status": "pass"}),
    "notification-service": ("application/health+json", {"status": "warn"}),
    "file-service": ("application/json", {"status": "Healthy"}),
    "scheduler-service": ("application/json", {"status": "UP"}),
}


@pytest.mark.parametrize("service", list(HEALTHY_BODIES))
def test_healthy_json_health_payloads(client: httpx.Client, healthy: Fleet, service: str) -> None:
    content_type, expected = HEALTHY_BODIES[service]
    response = get(client, healthy, service, HEALTH_PATHS[service])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    body = response.json()
    assert {key: body.get(key) for key in expected} == expected


def test_text_health_payloads(client: httpx.Client, healthy: Fleet) -> None:
    analytics = get(client, healthy, "analytics-service", "/health")
    assert (analytics.status_code, analytics.text) == (200, "OK")
    assert analytics.headers["content-type"].startswith("text/plain")

    verbose = get(client, healthy, "audit-service", "/readyz?verbose")
    assert verbose.status_code == 200
    assert verbose.text.splitlines()[0] == "[+]ping ok"
    assert verbose.text.endswith("readyz check passed\n") and "[-]" not in verbose.text
    assert get(client, healthy, "audit-service", "/readyz").text == "ok"


def test_healthy_components_name_what_they_check(client: httpx.Client, healthy: Fleet) -> None:
    payment = get(client, healthy, "payment-service", "/actuator/health").json()
    assert payment["components"]["db"]["status"] == "UP"
    billing = get(client, healthy, "billing-service", "/health").json()
    assert billing["checks"]["payment-service:reachability"][0]["status"] == "pass"
    # IETF: a passing service may list a warning component; the top-level status rules.
    auth = get(client, healthy, "auth-service", "/health").json()
    assert auth["status"] == "pass"
    assert auth["checks"]["cpu:utilization"][0]["status"] == "warn"


def test_notification_service_is_degraded_not_down(client: httpx.Client, healthy: Fleet) -> None:
    response = get(client, healthy, "notification-service", "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warn"
    assert body["checks"]["sms-provider:responseTime"][0]["status"] == "warn"


def test_outage_payment_database_down(client: httpx.Client, outage: Fleet) -> None:
    health = get(client, outage, "payment-service", "/actuator/health")
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "DOWN"
    assert body["components"]["db"] == {"status": "DOWN", "details": {"error": "Connection refused"}}
    assert get(client, outage, "payment-service", "/api/v1/payments/methods").status_code == 503


def test_outage_billing_fails_naming_payment_service(client: httpx.Client, outage: Fleet) -> None:
    health = get(client, outage, "billing-service", "/health")
    assert health.status_code == 503
    assert health.headers["content-type"] == "application/health+json"
    body = health.json()
    assert body["status"] == "fail"
    assert body["checks"]["payment-service:reachability"][0]["status"] == "fail"
    assert get(client, outage, "billing-service", "/api/v1/invoices?status=open").status_code == 502


def test_outage_leaves_the_rest_of_the_fleet_up(client: httpx.Client, outage: Fleet) -> None:
    for service in SERVICES:
        if service in ("payment-service", "billing-service"):
            continue
        assert get(client, outage, service, HEALTH_PATHS[service]).status_code == 200, service
    assert get(client, outage, "api-gateway", "/api/v1/plans").json()["data"][0]["id"] == "basic"


# --- sample endpoints and their access rules ------------------------------------------------


def test_auth_token_needs_credentials(client: httpx.Client, healthy: Fleet) -> None:
    url = healthy.urls["auth-service"] + "/api/v1/auth/token"
    granted = client.post(url, json={"client_id": "smoke", "client_secret": "s3cret"})
    assert granted.status_code == 200
    assert granted.json()["token_type"] == "Bearer"
    assert granted.json()["access_token"].count(".") == 2  # shaped like a JWT
    assert granted.headers["cache-control"] == "no-store"
    assert client.post(url).status_code == 401
    assert client.post(url, json={"client_id": "smoke"}).status_code == 401
    assert (
        client.post(url, content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert client.get(url).status_code == 405


def test_oauth_client_credentials_issue_signed_jwts(client: httpx.Client, healthy: Fleet) -> None:
    url = healthy.urls["auth-service"] + "/oauth/token"
    form = {"grant_type": "client_credentials", "scope": "users:read"}
    by_basic = client.post(url, data=form, auth=("svccheck-smoke", "demo-secret"))
    by_post = client.post(url, data={**form, "client_id": "svccheck-smoke", "client_secret": "demo-secret"})
    for granted in (by_basic, by_post):
        assert granted.status_code == 200, granted.text
        claims = tokens.verify(granted.json()["access_token"])
        assert claims is not None and claims["sub"] == "svccheck-smoke" and claims["scope"] == "users:read"
        assert granted.json()["expires_in"] == tokens.LIFETIME
    refused = client.post(url, data=form)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    wrong_grant = client.post(url, data={"grant_type": "password"}, auth=("a", "b"))
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"


def test_auth_down_cannot_issue_tokens() -> None:
    with Fleet("auth-down") as fleet, httpx.Client() as client:
        granted = client.post(
            fleet.urls["auth-service"] + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("a", "b"),
        )
        assert granted.status_code == 503 and granted.json()["error"] == "temporarily_unavailable"
        assert client.post(fleet.urls["auth-service"] + "/api/v1/auth/token", json={}).status_code == 503
        health = get(client, fleet, "auth-service", "/health")
        assert (
            health.status_code == 503 and health.json()["checks"]["signing-keys:count"][0]["status"] == "fail"
        )


def test_jwks_lists_signing_keys(client: httpx.Client, healthy: Fleet) -> None:
    keys = get(client, healthy, "auth-service", "/.well-known/jwks.json").json()["keys"]
    assert keys and all(key["kid"] and key["kty"] == "RSA" for key in keys)


# signed with a key auth-service does not have: a JWT in shape only
FORGED = jwt.encode(
    {"sub": "mallory", "iss": tokens.ISSUER, "aud": tokens.AUDIENCE},
    "not-the-key-of-auth-service-0123",
    algorithm="HS256",
)
BEARER = {"Authorization": f"Bearer {tokens.issue('svccheck-smoke')}"}


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Token abc", "Basic dXNlcjpwYXNz", "Bearer x", f"Bearer {FORGED}"]
)
def test_users_require_a_bearer_token(
    client: httpx.Client, healthy: Fleet, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = get(client, healthy, "user-service", "/api/v1/users?limit=5", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_users_with_a_bearer_token(client: httpx.Client, healthy: Fleet) -> None:
    response = get(client, healthy, "user-service", "/api/v1/users?limit=5", headers=BEARER)
    assert response.status_code == 200
    assert len(response.json()["data"]) == 5
    bad_limit = get(client, healthy, "user-service", "/api/v1/users?limit=0", headers=BEARER)
    assert bad_limit.status_code == 400


@pytest.mark.parametrize(
    ("tenant_header", "status"), [("acme", 200), (None, 403), ("globex", 403), ("ACME", 403)]
)
def test_tenant_isolation(
    client: httpx.Client, healthy: Fleet, tenant_header: str | None, status: int
) -> None:
    headers = {"X-Tenant-ID": tenant_header} if tenant_header is not None else {}
    response = get(client, healthy, "tenant-service", "/api/v1/tenants/acme", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.json()["data"]["id"] == "acme"


def test_unknown_tenant_is_404_for_its_own_caller(client: httpx.Client, healthy: Fleet) -> None:
    response = get(client, healthy, "tenant-service", "/api/v1/tenants/nope", headers={"X-Tenant-ID": "nope"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("service", "path", "key"),
    [
        ("payment-service", "/api/v1/payments/methods", "data"),
        ("billing-service", "/api/v1/invoices?status=open", "data"),
        ("notification-service", "/api/v1/notifications/templates", "data"),
        ("file-service", "/api/v1/files/quota", "usage_ratio"),
        ("analytics-service", "/api/v1/metrics/summary", "error_rate"),
        ("audit-service", "/api/v1/audit/events?limit=10", "data"),
        ("scheduler-service", "/api/v1/jobs?state=failed", "data"),
    ],
)
def test_sample_endpoints_answer_json(
    client: httpx.Client, healthy: Fleet, service: str, path: str, key: str
) -> None:
    response = get(client, healthy, service, path, headers=BEARER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert key in response.json()


def test_query_parameters_filter_and_bound(client: httpx.Client, healthy: Fleet) -> None:
    invoices = get(client, healthy, "billing-service", "/api/v1/invoices?status=open", headers=BEARER).json()[
        "data"
    ]
    assert invoices and {i["status"] for i in invoices} == {"open"}
    assert len(get(client, healthy, "audit-service", "/api/v1/audit/events?limit=10").json()["data"]) == 10
    assert get(client, healthy, "scheduler-service", "/api/v1/jobs?state=failed").json()["data"] == []
    assert get(client, healthy, "scheduler-service", "/api/v1/jobs?state=bogus").status_code == 400


def test_unknown_path_and_wrong_method(client: httpx.Client, healthy: Fleet) -> None:
    missing = get(client, healthy, "api-gateway", "/api/v2/nothing")
    assert missing.status_code == 404
    assert missing.json()["service"] == "api-gateway"
    wrong = client.delete(healthy.urls["api-gateway"] + "/api/v1/plans")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET"


def test_head_sends_length_but_no_body(client: httpx.Client, healthy: Fleet) -> None:
    full = get(client, healthy, "api-gateway", "/api/v1/plans")
    head = client.head(healthy.urls["api-gateway"] + "/api/v1/plans")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(full.content) > 0


def test_latency_delays_each_answer() -> None:
    with Fleet(latency={"api-gateway": 0.15}) as fleet, httpx.Client() as c:
        started = time.perf_counter()
        assert c.get(fleet.urls["api-gateway"] + "/health").status_code == 200
        slow = time.perf_counter() - started
    assert slow >= 0.15


# --- the bundled manifest --------------------------------------------------------------------


def test_root_manifest_is_a_copy_of_the_bundled_one() -> None:
    assert (ROOT / "services.yaml").read_bytes() == BUNDLED_MANIFEST.read_bytes()


def test_manifest_matches_the_fleet() -> None:
    text = BUNDLED_MANIFEST.read_text()
    assert text.startswith("# ")
    manifest = yaml.safe_load(text)
    services = manifest["services"]
    assert list(services) == list(SERVICES)
    for name, spec in services.items():
        assert spec["url"] == f"http://${{SVC_HOST:-localhost}}:{DEFAULT_PORTS[name]}"
        health = spec["health"] if isinstance(spec["health"], str) else spec["health"]["path"]
        assert health == HEALTH_PATHS[name], name
        assert spec["checks"], f"{name} has no sample check"
        assert set(spec.get("depends_on", [])) <= set(SERVICES)
    assert not _has_cycle({n: s.get("depends_on", []) for n, s in services.items()})


def _has_cycle(graph: dict[str, list[str]]) -> bool:
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> bool:
        if node in done:
            return False
        if node in visiting:
            return True
        visiting.add(node)
        cyclic = any(visit(dep) for dep in graph[node])
        visiting.discard(node)
        done.add(node)
        return cyclic

    return any(visit(node) for node in graph)


def test_manifest_passes_the_manifest_loader() -> None:
    from svccheck.manifest import load_manifest

    loaded = load_manifest(str(BUNDLED_MANIFEST), environ={})
    assert [s.name for s in loaded.services] == list(SERVICES)


def test_every_manifest_check_gets_its_expected_status(client: httpx.Client, healthy: Fleet) -> None:
    services = yaml.safe_load(BUNDLED_MANIFEST.read_text())["services"]
    for name, spec in services.items():
        health = spec["health"] if isinstance(spec["health"], dict) else {"path": spec["health"]}
        for check in [health, *spec["checks"]]:
            headers = {k: v.replace("${capture.session}", tokens.issue("svccheck-smoke"))
                       for k, v in check.get("headers", {}).items()}  # fmt: skip
            if check.get("auth") == "smoke":
                headers.update(BEARER)
            response = client.request(
                check.get("method", "GET"),
                healthy.urls[name] + check["path"],
                headers=headers,
                json=check.get("json"),
            )
            expected = check.get("expect", {}).get("status", 200)
            assert response.status_code == expected, (name, check["path"], response.text)


# --- the server engine -----------------------------------------------------------------------


def test_keep_alive_serves_two_requests_on_one_connection(healthy: Fleet) -> None:
    port = healthy.ports["api-gateway"]
    with Wire(port) as wire:
        wire.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = wire.response()
        wire.send(b"GET /api/v1/plans HTTP/1.1\r\nHost: x\r\n\r\n")
        second = wire.response()
    assert (first[0], first[1]["connection"]) == (200, "keep-alive")
    assert second[0] == 200 and b'"basic"' in second[2]


def test_httpx_reuses_the_connection(healthy: Fleet) -> None:
    addresses = []
    with httpx.Client() as c:
        for _ in range(2):
            response = c.get(healthy.urls["scheduler-service"] + "/health")
            addresses.append(response.extensions["network_stream"].get_extra_info("client_addr"))
    assert addresses[0] == addresses[1]


def test_pipelined_requests_are_answered_in_order(healthy: Fleet) -> None:
    with Wire(healthy.ports["scheduler-service"]) as wire:
        wire.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.response()[0] == 200
        assert wire.response()[0] == 404


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /health HTTP/1.0\r\n\r\n",
    ],
)
def test_connection_closes_when_asked_or_on_http_1_0(healthy: Fleet, request_bytes: bytes) -> None:
    with Wire(healthy.ports["api-gateway"]) as wire:
        wire.send(request_bytes)
        status, headers, _ = wire.response()
        assert (status, headers["connection"]) == (200, "close")
        assert wire.closed_by_peer()


def test_request_bodies_by_content_length_and_chunked(healthy: Fleet) -> None:
    body = b'{"username": "ada", "password": "pw"}'
    with Wire(healthy.ports["auth-service"]) as wire:
        wire.send(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        assert wire.response()[0] == 200
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        wire.send(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
        )
        assert wire.response()[0] == 200


@pytest.mark.parametrize(
    ("garbage", "status"),
    [
        (b"HELLO\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nbad header line\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    ],
)
def test_malformed_requests_get_an_error_and_a_close(
    garbage: bytes, status: int, capfd: pytest.CaptureFixture[str]
) -> None:
    with ServerThread() as servers:
        port = servers.add(service_handler("api-gateway"))
        with Wire(port) as wire:
            wire.send(garbage)
            got, headers, _ = wire.response()
            assert (got, headers["connection"]) == (status, "close")
            assert wire.closed_by_peer()
    assert list(servers.errors) == []
    assert capfd.readouterr().err == ""


def test_clients_vanishing_mid_request_are_quiet(capfd: pytest.CaptureFixture[str]) -> None:
    with ServerThread() as servers:
        port = servers.add(service_handler("auth-service"))
        for partial in (b"GET /hea", b"POST /api/v1/auth/token HTTP/1.1\r\nContent-Length: 50\r\n\r\n{"):
            with Wire(port) as wire:
                wire.send(partial)
        with Wire(port) as wire:  # and the server still answers
            wire.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert wire.response()[0] == 200
    assert list(servers.errors) == []
    assert capfd.readouterr().err == ""


async def _raises(request: Request) -> Response:
    raise RuntimeError("boom")


async def _returns_none(request: Request) -> Any:
    return None


@pytest.mark.parametrize(
    ("handler", "recorded"),
    [(_raises, "boom"), (_returns_none, "handler returned NoneType, not Response or Raw")],
)
def test_a_broken_handler_answers_500_and_is_recorded(handler: Handler, recorded: str) -> None:
    with ServerThread() as servers, httpx.Client() as c:
        port = servers.add(handler)
        response = c.get(f"http://127.0.0.1:{port}/")
    assert response.status_code == 500
    assert [str(e) for e in servers.errors] == [recorded]


def test_router_path_parameters_and_head_fallback() -> None:
    router = Router("svc")

    @router.route("GET", "/things/{thing_id}")
    async def thing(request: Request) -> Response:
        return json_response({"id": request.path_params["thing_id"], "q": request.param("q")})

    with serving(router) as url, httpx.Client() as c:
        assert c.get(url + "/things/42?q=x").json() == {"id": "42", "q": "x"}
        assert c.head(url + "/things/42").status_code == 200
        assert c.get(url + "/things/42/more").status_code == 404


# --- Raw handlers: misbehaving on purpose ---------------------------------------------------


def test_raw_malformed_status_line_is_a_protocol_error() -> None:
    async def handler(request: Request) -> Raw:
        return raw_bytes(b"HTTP/1.1 TWO HUNDRED\r\n\r\n")

    with serving(handler) as url, httpx.Client() as c, pytest.raises(httpx.RemoteProtocolError):
        c.get(url)


def test_raw_reset_resets_the_connection() -> None:
    async def handler(request: Request) -> Raw:
        return reset()

    with (
        serving(handler) as url,
        httpx.Client() as c,
        pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)),
    ):
        c.get(url)


def test_raw_trickle_is_bounded_by_the_client_timeout() -> None:
    async def handler(request: Request) -> Raw:
        async def write(writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            await asyncio.Event().wait()  # and the body never comes

        return Raw(write)

    with serving(handler) as url, httpx.Client(timeout=0.2) as c, pytest.raises(httpx.ReadTimeout):
        c.get(url)


def test_stop_is_prompt_with_a_handler_hanging() -> None:
    entered = threading.Event()

    async def handler(request: Request) -> Raw:
        entered.set()
        return hang()

    servers = ServerThread().start()
    port = servers.add(handler)
    with Wire(port) as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert entered.wait(5), "the handler was never called"
        started = time.perf_counter()
        servers.stop()
        elapsed = time.perf_counter() - started
        assert wire.closed_by_peer()
    assert elapsed < 1.0
    assert not servers.running
    assert not any(t.name == servers.name and t.is_alive() for t in threading.enumerate())


def test_stop_leaves_no_listening_port() -> None:
    async def ok(request: Request) -> Response:
        return Response(200, "ok", content_type="text/plain")

    servers = ServerThread()
    before = servers.add(ok)  # bound before start...
    servers.start()
    after = servers.add(ok)  # ...and after
    with httpx.Client() as c:
        assert [c.get(f"http://127.0.0.1:{p}/").text for p in (before, after)] == ["ok", "ok"]
    servers.stop()
    for port in (before, after):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(RuntimeError):
        servers.add(ok)
    servers.stop()  # idempotent


def test_fleet_stop_closes_every_port() -> None:
    fleet = Fleet().start()
    ports = list(fleet.ports.values())
    fleet.stop()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
