"""The two transports under httpx, side by side on real loopback servers: the fast one (`http_wire`,
llhttp) must answer every exchange as httpx's own does (status, headers, body, version, error type),
reuse its keep-alive connection, close what it opens, and refuse a request line or header that a
hostile manifest broke. The rest of the suite runs on whichever `SVCCHECK_HTTP_TRANSPORT` chooses."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from svccheck.demo.server import Raw, Request, Response, ServerThread, json_response, raw_bytes, reset
from svccheck.protocols import http_choice, http_transport, http_wire
from svccheck.protocols.certificate import peer_certificate

TRANSPORTS = ["fast", "httpx"]


def client_for(
    choice: str, url: str, monkeypatch: pytest.MonkeyPatch, verify: bool | str = True
) -> httpx.AsyncClient:
    """A lane's transport, made by svccheck's own factory with `choice` in force, in an httpx client
    (these tests compare the transports; the lane around them is the rest of the suite's)."""
    monkeypatch.setenv(http_choice.ENV, choice)
    origin = http_transport.origin_of(url, verify)
    lane = http_transport.new_lane(origin, "svccheck-test")
    expected = http_wire.WireTransport if choice == "fast" else httpx.AsyncHTTPTransport
    assert isinstance(lane.transport, expected)
    return httpx.AsyncClient(transport=lane.transport, trust_env=False)


Outcome = tuple[Any, ...]


async def exchange(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Outcome:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        return ("error", type(exc).__name__)
    headers = [(k.lower(), v) for k, v in response.headers.raw]
    headers = [(k, v) for k, v in headers if k != b"date"]
    return (response.status_code, response.http_version, response.reason_phrase, headers, response.content)


def both(monkeypatch: pytest.MonkeyPatch, url: str, method: str = "GET", **kwargs: Any) -> dict[str, Outcome]:
    async def one(choice: str) -> Outcome:
        async with client_for(choice, url, monkeypatch) as client:
            return await exchange(client, method, url, **kwargs)

    return {choice: asyncio.run(one(choice)) for choice in TRANSPORTS}


def answer(raw: Raw) -> Callable[[Request], Awaitable[Raw]]:
    async def handler(request: Request) -> Raw:
        return raw

    return handler


RAW_ANSWERS = {
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "http10-close": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
    "interim-100": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "no-content": b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
    "many-cookies": b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
    "utf8-header": "HTTP/1.1 200 OK\r\nX-Name: caf\u00e9 \u202e\r\nContent-Length: 0\r\n\r\n".encode(),
    "empty-reason": b"HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx",
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789",
    "truncated-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    "malformed-status": b"HTTP/1.1 abc Nope\r\n\r\n",
    "not-http": b"SSH-2.0-OpenSSH_9.6\r\n",
    "nothing": b"",
}


@pytest.mark.parametrize("case", sorted(RAW_ANSWERS))
def test_fast_transport_answers_as_httpx_does(
    case: str, servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = servers.add(answer(raw_bytes(RAW_ANSWERS[case])))
    outcomes = both(monkeypatch, f"http://127.0.0.1:{port}/x")
    assert outcomes["fast"] == outcomes["httpx"]


def test_a_reset_is_a_read_error_caused_by_the_reset(
    servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = servers.add(answer(reset(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxx")))
    outcomes = both(monkeypatch, f"http://127.0.0.1:{port}/")
    assert outcomes["fast"] == outcomes["httpx"] == ("error", "ReadError")


def test_head_and_post_answer_alike(servers: ServerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    async def echo(request: Request) -> Response:
        return json_response({"method": request.method, "body": request.body.decode()})

    url = f"http://127.0.0.1:{servers.add(echo)}/echo"
    head = both(monkeypatch, url, "HEAD")
    assert head["fast"] == head["httpx"] and head["fast"][-1] == b""
    post = both(monkeypatch, url, "POST", content=b'{"a": 1}', headers={"Content-Type": "application/json"})
    assert post["fast"] == post["httpx"]
    assert b'"body":"{\\"a\\": 1}"' in post["fast"][-1]


def test_raw_body_stays_encoded_for_the_capped_inflater(
    servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = gzip.compress(b'{"status":"UP"}' * 100)

    async def gzipped(request: Request) -> Response:
        return Response(200, packed, {"Content-Encoding": "gzip"})

    url = f"http://127.0.0.1:{servers.add(gzipped)}/"

    async def raw(choice: str) -> bytes:
        async with client_for(choice, url, monkeypatch) as client:
            request = client.build_request("GET", url)
            response = await client.send(request, stream=True)
            try:
                return b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()

    assert asyncio.run(raw("fast")) == asyncio.run(raw("httpx")) == packed


@pytest.mark.parametrize("choice", TRANSPORTS)
def test_one_connection_serves_a_lane_and_is_closed_with_it(
    choice: str, servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{servers.add(lambda request: _ok())}/h"
    events: list[str] = []
    during: list[int] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    port = int(url.split(":")[2].split("/")[0])

    def sockets() -> int:
        return len(client_sockets(port))

    async def three() -> list[int]:
        client = client_for(choice, url, monkeypatch)
        statuses = [(await client.get(url, extensions={"trace": trace})).status_code for _ in range(3)]
        during.append(sockets())
        await client.aclose()
        return statuses

    before = sockets()
    assert asyncio.run(three()) == [200, 200, 200]
    assert events.count("connection.connect_tcp.started") == 1
    assert events.count("http11.receive_response_headers.complete") == 3
    assert during == [before + 1]  # the kept-alive connection, seen from the client's end
    assert sockets() == before


def client_sockets(port: int) -> set[str]:
    """This process's TCP sockets connected *to* `port` (not the in-process server's own ends)."""
    ours = {target for target in _descriptors() if target.startswith("socket:[")}
    to_port = set()
    for line in Path("/proc/self/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port:
            to_port.add(f"socket:[{fields[9]}]")
    return ours & to_port


def _descriptors() -> list[str]:
    """What this process's descriptors point at (`socket:[…]`, files, pipes)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            found.append(str(fd.readlink()))
    return found


async def _ok() -> Response:
    return json_response({"status": "UP"})


@pytest.mark.parametrize("choice", TRANSPORTS)
def test_tls_phases_and_the_peer_certificate(
    choice: str, servers: ServerThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    port = servers.add(lambda request: _ok(), tls=server_context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    url = f"https://localhost:{port}/h"
    events: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    async def go() -> tuple[int, str | None]:
        client = client_for(choice, url, monkeypatch, verify=str(bundle))
        async with client:
            response = await client.send(
                client.build_request("GET", url, extensions={"trace": trace}), stream=True
            )
            certificate = peer_certificate(response.extensions)
            await response.aclose()
        return response.status_code, certificate.subject if certificate else None

    status, subject = asyncio.run(go())
    assert status == 200 and subject is not None and "O=trustme" in subject
    assert events.index("connection.start_tls.started") < events.index("connection.start_tls.complete")
    assert events.index("connection.start_tls.complete") < events.index(
        "http11.receive_response_headers.complete"
    )


@pytest.mark.parametrize(
    "headers",
    [{"X-Evil": "a\r\nX-Injected: 1"}, {"X-Evil": "a\nb"}, {"Bad Name": "x"}, {"X-Nul": "a\x00b"}],
)
def test_a_broken_header_is_refused_before_anything_is_sent(
    headers: dict[str, str], servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Request] = []

    async def record(request: Request) -> Response:
        seen.append(request)
        return json_response({})

    url = f"http://127.0.0.1:{servers.add(record)}/"
    outcomes = both(monkeypatch, url, headers=headers)
    assert outcomes["fast"] == ("error", "LocalProtocolError")
    assert outcomes["httpx"][0] == "error"  # h11 refuses them too (LocalProtocolError)
    assert not seen


def test_the_choice_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(http_choice.ENV, "httpx")
    assert http_choice.wire_module() is None
    monkeypatch.setenv(http_choice.ENV, "fast")
    assert http_choice.wire_module() is http_wire
    monkeypatch.delenv(http_choice.ENV)
    assert http_choice.wire_module() is http_wire  # the default when httptools is installed
    monkeypatch.setenv(http_choice.ENV, "curl")
    with pytest.raises(http_choice.TransportChoiceError, match="expected one of fast, httpx"):
        http_choice.wire_module()


LANE_REQUESTS = [
    ("POST", {"X-Check": "1", "Accept": "application/json"}, b"{}"),
    ("GET", {}, None),
    ("POST", {}, None),
    ("PUT", {"Content-Type": "text/plain"}, b""),
    ("POST", {"Content-Length": "2", "Host": "example.test"}, b"{}"),
    ("PATCH", {"Transfer-Encoding": "chunked"}, b"x"),
    ("delete", {"Transfer-Encoding": "chunked"}, None),
    ("POST", {"authorization": "Bearer t", "user-agent": "mine"}, b"a"),
]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/h?x=1",
        "http://us%40er:p%C3%A9ss@127.0.0.1/h",
        "https://user@localhost/h",
        "http://:pw@[::1]:9/",
    ],
)
@pytest.mark.parametrize(("method", "headers", "body"), LANE_REQUESTS)
def test_a_lane_builds_the_request_httpx_client_builds(
    url: str, method: str, headers: dict[str, str], body: bytes | None
) -> None:
    # a lane stands in for httpx's client (`http_transport.Lane`): the same method, URL and headers
    # in the same order, the URL's user:password as Basic auth, the check's headers over the lane's
    lane = http_transport.new_lane(http_transport.origin_of(url, True), "svccheck-test")
    ours = lane.request(method, httpx.URL(url), headers, body, {})
    client = httpx.AsyncClient(headers={"User-Agent": "svccheck-test"}, trust_env=False)
    theirs = client.build_request(method, url, headers=headers, content=body)
    auth = next(client._build_request_auth(theirs).sync_auth_flow(theirs))  # what send() adds
    assert (ours.method, ours.url) == (auth.method, auth.url)
    assert ours.headers.raw == auth.headers.raw
    assert ours.read() == auth.read() == (body or b"")
