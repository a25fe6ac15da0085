"""Each protocol accepts an allow-list of keys: a key it would not use is an error, never ignored.

`tls_min_days: 14` and `max_connect: 1ms` on a `tcp://` service used to validate
as "ok" and then do nothing (TCP checks read no certificate and no phase
timings). The loader and the JSON Schema both refuse them now.
"""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from svccheck.manifest import ManifestError, parse_manifest
from svccheck.manifest.json_schema import manifest_schema


def _tcp(health: str) -> str:
    return f"services:\n  db:\n    url: tcp://127.0.0.1:5432\n    tls: true\n    health: {health}\n"


def _problems(text: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "services.yaml", environ={})
    return info.value.render().splitlines()


def _schema_errors(text: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(manifest_schema())
    return [error.message for error in validator.iter_errors(yaml.safe_load(text))]


@pytest.mark.parametrize(
    "key",
    [
        "tls_min_days: 14",
        "tls_warn_days: 30",
        "max_connect: 1ms",
        "max_dns: 1ms",
        "max_tls: 1ms",
        "max_ttfb: 1s",
    ],
)
def test_a_key_tcp_does_not_honour_is_an_unknown_key(key: str) -> None:
    name = key.split(":")[0]
    text = _tcp(f"{{expect: {{{key}}}}}")
    lines = _problems(text)
    assert len(lines) == 1, lines
    assert lines[0].startswith("services.yaml:5:23: "), lines
    assert f"'{name}' is for HTTP checks, an unknown key for a tcp:// service" in lines[0]
    assert _schema_errors(text), "the schema must refuse it too"


def test_the_unknown_key_suggests_what_tcp_does_accept() -> None:
    lines = _problems(_tcp("{expect: {max_connect: 1ms}}"))
    assert "did you mean 'max_latency'?" in lines[0] or "allowed here: max_latency, warn_latency" in lines[0]


def test_what_tcp_honours_still_loads() -> None:
    text = _tcp("{name: ping, timeout: 2s, retries: 1, expect: {max_latency: 200ms, warn_latency: 100ms}}")
    manifest = parse_manifest(text, "services.yaml", environ={})
    check = manifest.services[0].checks[0]
    assert check.name == "ping" and check.expect is not None and check.expect.max_latency == 0.2
    assert _schema_errors(text) == []


def test_the_schema_branches_on_the_scheme() -> None:
    assert _schema_errors(_tcp("{headers: {A: b}}"))
    assert _schema_errors("services:\n  a: {url: 'http://h:1', health: /h, protocol: redis}\n")
    # an interpolated URL could be either: the schema leaves it to the loader
    assert _schema_errors("services:\n  a: {url: '${U}', health: {expect: {max_connect: 1s}}}\n") == []


def test_each_protocol_declares_its_keys_as_data() -> None:
    from svccheck.grammar.protocol import ProtocolShape
    from svccheck.protocols import shapes

    SHAPES = shapes()
    tcp = SHAPES["tcp"]
    assert isinstance(tcp, ProtocolShape) and SHAPES["http"] is SHAPES["https"]
    assert "tls_min_days" not in tcp.expect_keys and "max_latency" in tcp.expect_keys
    assert "headers" not in tcp.service_keys and "protocol" in tcp.service_keys
    assert "nope" not in SHAPES and len(SHAPES) == len(list(SHAPES))


def test_reading_a_manifest_never_imports_the_http_client() -> None:
    # the HTTP protocol's shape and its exchange are apart: validate, list and schema stay light
    import subprocess
    import sys

    code = (
        "import sys; from svccheck.manifest import parse_manifest; "
        "parse_manifest('services:\\n  a: {url: \"http://h:1\", health: /h}\\n', 'services.yaml', environ={}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore') "
        "or m == 'svccheck.protocols.http_transport'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
