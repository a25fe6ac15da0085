"""The manifest's JSON Schema: generated from the models, committed, and true to the loader."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from support.cli import assert_no_traceback, run_cli
from svccheck.manifest.json_schema import manifest_schema, render_schema
from svccheck.manifest.loader import parse_manifest

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schema" / "services.schema.json"
REGENERATE = "svccheck schema -o schema/services.schema.json"
SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = manifest_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def test_committed_schema_is_in_sync_with_the_models() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_schema(), (
        f"schema/services.schema.json is stale: regenerate it with `{REGENERATE}`"
    )


def test_schema_command_prints_and_writes_the_schema(tmp_path: Path) -> None:
    printed = run_cli("schema")
    assert_no_traceback(printed)
    assert printed.returncode == 0
    assert json.loads(printed.stdout) == json.loads(COMMITTED.read_text())
    target = tmp_path / "services.schema.json"
    written = run_cli("schema", "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert target.read_text() == COMMITTED.read_text()
    refused = run_cli("schema", "-o", str(tmp_path / "missing" / "dir" / "x.json"))
    assert refused.returncode == 2
    assert "cannot write" in refused.stderr
    assert_no_traceback(refused)


def test_schema_has_descriptions_and_examples() -> None:
    schema = manifest_schema()
    service = schema["$defs"]["ServiceSpec"]["properties"]
    for key in ("url", "critical", "tags", "depends_on", "health", "checks", "timeout", "verify_tls"):
        assert service[key].get("description"), key
    assert "examples" in service["url"]
    assert "examples" in service["health"]
    assert "/health" in json.dumps(service["health"])


@pytest.mark.parametrize("manifest", [ROOT / "services.yaml", ROOT / "src/svccheck/demo/services.yaml"])
def test_manifests_start_with_the_schema_comment(manifest: Path) -> None:
    match = SCHEMA_COMMENT.match(manifest.read_text())
    assert match, f"{manifest} must start with the yaml-language-server comment"
    assert match.group(1) == "schema/services.schema.json"
    # relative to the file, as the YAML language server resolves it
    assert (ROOT / match.group(1)).is_file()


def test_root_services_yaml_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    assert errors(validator, yaml.safe_load((ROOT / "services.yaml").read_text())) == []


def is_manifest(block: str) -> bool:
    """A whole manifest: `services` maps names to mappings with a `url` (not, say, GitLab CI's `services:`)."""
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        return False
    services = data.get("services") if isinstance(data, dict) else None
    return isinstance(services, dict) and all(isinstance(s, dict) and "url" in s for s in services.values())


def documented_manifests() -> list[tuple[str, str]]:
    """Every ```yaml block in the README and docs/ that is a whole manifest."""
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(), flags=re.DOTALL)
        for index, block in enumerate(blocks):
            if is_manifest(block):
                found.append((f"{doc.name}#{index}", block))
    return found


def test_documentation_has_manifest_examples() -> None:
    assert len(documented_manifests()) >= 4


@pytest.mark.parametrize(("where", "text"), documented_manifests())
def test_documented_manifests_are_valid(
    validator: jsonschema.Draft202012Validator, where: str, text: str
) -> None:
    assert errors(validator, yaml.safe_load(text)) == [], where
    parse_manifest(text, where, environ={})  # and the loader agrees: documented examples load


# Manifests the loader accepts: the schema must accept them too, or an editor would flag good files.
LOADER_ACCEPTS = [
    """
    services:
      api:
        url: ${API_URL}
        retries: ${RETRIES}
        timeout: ${TIMEOUT}
        critical: ${CRITICAL}
        verify_tls: ${VERIFY}
        health: {path: /health, expect: {status: "${STATUS}", max_latency: "${SLOW}"}}
    """,
    """
    version: "1"
    defaults: {retries: "3", timeout: 2.5, backoff: "1m30s"}
    services:
      api:
        url: http://localhost:8080
        critical: "yes"
        health: /health
        checks:
          - {path: /a, method: post, idempotent: true, expect: {status: [200, "2xx"], body: {contains: ok}}}
          - {path: /b, expect: {status: "201", json: {$.n: {gte: 1, lt: 10}}}}
    """,
]


@pytest.mark.parametrize("text", LOADER_ACCEPTS)
def test_schema_accepts_what_the_loader_accepts(
    validator: jsonschema.Draft202012Validator, text: str
) -> None:
    import textwrap

    text = textwrap.dedent(text)
    environ = {
        "API_URL": "http://localhost:1",
        "RETRIES": "2",
        "TIMEOUT": "3s",
        "CRITICAL": "false",
        "VERIFY": "true",
        "STATUS": "200",
        "SLOW": "1s",
    }
    parse_manifest(text, "services.yaml", environ=environ)  # the loader takes it...
    assert errors(validator, yaml.safe_load(text)) == []  # ...and so does the schema


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"services": {"a": {"url": "http://x", "helth": "/h"}}}, "'helth' was unexpected"),
        ({"services": {"a": {"url": "http://x", "timeout": "5 parsecs"}}}, "5 parsecs"),
        ({"services": {"a": {"url": "http://x", "retries": "many"}}}, "many"),
        ({"services": {"a b": {"url": "http://x"}}}, "a b"),
        ({"services": {}}, "services"),
        ({"version": 1}, "'services' is a required property"),
        # a mapping in matcher position is operators, in `len` too (#10)
        (
            {"services": {"a": {"url": "http://x", "health": {"expect": {"json": {"$.v": {"approx": 2}}}}}}},
            "approx",
        ),
        (
            {"services": {"a": {"url": "http://x", "health": {"expect": {"body": {"len": {"atleast": 1}}}}}}},
            "atleast",
        ),
    ],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator, data: dict[str, Any], fragment: str
) -> None:
    found = errors(validator, data)
    assert found, data
    assert any(fragment in e for e in found), found


# --- the schema never rejects what the loader accepts, over generated manifests -------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from svccheck.manifest import ManifestError  # noqa: E402

# Mostly forms the loader accepts (lax-mode strings, ${V} references), so most examples load.
_duration = st.sampled_from([1, 2.5, "250ms", "1m30s", "5S", " 3 ", "2", "${V}"])
_count = st.sampled_from([0, 3, 1.0, "2", " 1 ", "3.0", "+1", "${V}"])
_flag = st.sampled_from([True, False, 0, 1, "yes", "Off", "t", "N", "${V}"])
_status = st.one_of(
    st.sampled_from([200, "2xx", "204", " 301 ", "${S}"]),
    st.lists(st.sampled_from([200, "3xx", "404"]), min_size=1),
)
_tunables = st.fixed_dictionaries(
    {},
    optional={
        "timeout": _duration,
        "retries": _count,
        "backoff": _duration,
        "verify_tls": st.sampled_from([True, False, "false", "TRUE"]),
        "headers": st.dictionaries(st.sampled_from(["A", "B"]), st.sampled_from(["v", "${V}"]), max_size=2),
    },
)
_expect = st.fixed_dictionaries(
    {}, optional={"status": _status, "max_latency": _duration, "warn_latency": _duration}
)
_http_service = st.fixed_dictionaries(
    {
        "url": st.sampled_from(["http://localhost:8080", "${U}", "https://h/p?q=1"]),
        "health": st.one_of(
            st.sampled_from(["/health", "${P}"]),
            st.fixed_dictionaries({}, optional={"path": st.just("/h"), "expect": _expect, "retries": _count}),
        ),
    },
    optional={"critical": _flag, "tags": st.lists(st.sampled_from(["a", "${V}"]), max_size=2)},
)
_tcp_service = st.fixed_dictionaries(
    {"url": st.sampled_from(["tcp://localhost:6379", "tcp://${H}:5432"])},
    optional={
        "protocol": st.sampled_from(["redis", "postgres", "${R}"]),
        "tls": _flag,
        "critical": _flag,
        "health": st.fixed_dictionaries(
            {}, optional={"expect": st.fixed_dictionaries({"max_latency": _duration})}
        ),
    },
)
_service = st.one_of(_http_service, _tcp_service).flatmap(lambda svc: _tunables.map(lambda t: {**t, **svc}))
VARIABLES = {"V": "1", "S": "2xx", "U": "http://localhost:1", "P": "/ping", "H": "db.internal", "R": "redis"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    services=st.dictionaries(st.sampled_from(["api", "db", "cache"]), _service, min_size=1, max_size=3),
    defaults=_tunables,
    bools=st.sampled_from(["1", "true", "off"]),
)
def test_schema_accepts_every_manifest_the_loader_accepts(
    services: dict[str, Any], defaults: dict[str, Any], bools: str
) -> None:
    data = {"defaults": defaults, "services": services}
    try:
        parse_manifest(yaml.safe_dump(data), "services.yaml", environ={**VARIABLES, "V": bools})
    except ManifestError:
        return  # the loader rejects it: the schema may or may not
    assert errors(shared_validator(), data) == [], data


@functools.cache
def shared_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(manifest_schema())


# --- the schema accepts exactly the scalars the loader accepts -------------------------------
# Each rule used to be written twice and drift: the schema refused `status: "2XX"`, `" 2xx"` and
# `critical: "yes "` that the loader took, and took `retries: "1e1"` as no number while the
# loader read it as 10. Both now read the text forms of `svccheck.grammar.tokens`.

# where each scalar goes in a manifest that is otherwise fine
_PLACES: dict[str, Any] = {
    "retries": lambda v: {"services": {"a": {"url": "http://h:1", "health": "/h", "retries": v}}},
    "critical": lambda v: {"services": {"a": {"url": "http://h:1", "health": "/h", "critical": v}}},
    "timeout": lambda v: {
        "defaults": {"timeout": v},
        "services": {"a": {"url": "http://h:1", "health": "/h"}},
    },
    "backoff": lambda v: {"services": {"a": {"url": "http://h:1", "health": {"backoff": v}}}},
    "status": lambda v: {"services": {"a": {"url": "http://h:1", "health": {"expect": {"status": v}}}}},
    "days": lambda v: {"services": {"a": {"url": "http://h:1", "health": {"expect": {"tls_min_days": v}}}}},
    "method": lambda v: {"services": {"a": {"url": "http://h:1", "checks": [{"method": v}]}}},
    "idempotent": lambda v: {"services": {"a": {"url": "http://h:1", "checks": [{"idempotent": v}]}}},
    "tls": lambda v: {"services": {"a": {"url": "tcp://h:1", "tls": v}}},
    "protocol": lambda v: {"services": {"a": {"url": "tcp://h:1", "protocol": v}}},
    "verify_tls": lambda v: {"services": {"a": {"url": "http://h:1", "health": "/h", "verify_tls": v}}},
    "version": lambda v: {"version": v, "services": {"a": {"url": "http://h:1", "health": "/h"}}},
}
# a file that exists next to this test: `verify_tls: conftest.py` is a CA bundle the loader finds
_MANIFEST_PATH = str(Path(__file__).resolve().parent / "services.yaml")


# what only the loader can know (README: "What only the loader can check"): whether a file exists
_LOADER_ONLY = ("not found",)


def _loader_accepts(data: dict[str, Any]) -> bool:
    try:
        parse_manifest(yaml.safe_dump(data), _MANIFEST_PATH, environ={})
    except ManifestError as exc:
        return all(any(f in issue.message for f in _LOADER_ONLY) for issue in exc.issues)
    return True


@pytest.mark.parametrize(
    ("place", "value", "accepted"),
    [
        ("status", "2XX", True),
        ("status", " 2xx", True),
        ("status", ["2Xx", " 204 "], True),
        ("critical", "yes ", True),
        ("critical", "\tOFF\n", True),
        ("method", " post ", True),
        ("retries", "1e1", False),  # an exponent: a number only by accident of float()
        ("retries", "1_0", False),
        ("retries", "25", False),
        ("status", "099", False),
        ("status", [], False),
        ("timeout", "0s", False),
        ("timeout", "1e1", False),
        ("critical", "yes\u00a0", False),  # Python's strip() and ECMA's \s disagree on it
        ("verify_tls", "yes", True),  # a boolean word is the boolean, not a file name
        ("verify_tls", " ", False),
        ("version", " 1 ", True),
        ("version", 2, False),
    ],
)
def test_schema_and_loader_agree_on_each_text_form(
    validator: jsonschema.Draft202012Validator, place: str, value: object, accepted: bool
) -> None:
    data = _PLACES[place](value)
    assert _loader_accepts(data) is accepted
    assert (errors(validator, data) == []) is accepted


_WORDS = [
    "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0", "maybe",
    "2xx", "5xx", "6xx", "0xx", "200", "099", "599", "600", "204", "1e1", "1.5e1", "3", "3.0", "3.",
    "3.5", "+1", "-1", "-0", "20", "21", "007", "1_0", ".5", "inf", "nan", "\u0663", "\uff11",
    "250ms", "5s", "1m30s", "0s", "0.0", "0ms", "1h", "5x", "1 s", "-5s",
    "get", "post", "fetch", "options", "redis", "postgres", "mysql", "conftest.py", "", "36500", "36501",
]  # fmt: skip
_PADDING = st.sampled_from(["", " ", "\t", "\n", "  ", "\r\n", "\u00a0", "\u2003", "\x1c"])


@st.composite
def _text_variants(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(_WORDS))
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    cased = "".join(c.swapcase() if flip else c for c, flip in zip(word, flips, strict=True))
    return draw(_PADDING) + cased + draw(_PADDING)


_NATIVE = st.one_of(
    st.integers(-2, 700),
    st.sampled_from([0.0, 1.0, 3.0, 3.5, 200.0, 1e1, float("inf"), -0.5, True, False, None]),
)
_SCALAR = st.one_of(_text_variants(), _NATIVE)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(sorted(_PLACES)), value=st.one_of(_SCALAR, st.lists(_SCALAR, max_size=2)))
def test_schema_accepts_exactly_the_scalars_the_loader_accepts(place: str, value: object) -> None:
    data = _PLACES[place](value)
    loader = _loader_accepts(data)
    schema = errors(shared_validator(), data) == []
    assert loader == schema, (place, value, "loader" if loader else "schema", "accepts it alone")
