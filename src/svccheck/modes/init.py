"""`svccheck init`: a starter manifest, from the health endpoints services actually answer on.

Discovery probes the well-known health paths of each URL through the same
`Prober` as every check (timeouts, TLS, body cap), reads what answered with
`parse_health`, and renders YAML text with comments, so the file explains
itself. Rendering is pure; only `discover` touches the network.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from svccheck.judge.health import FORMATS
from svccheck.model import Check, HttpRequest, ProbeOutcome
from svccheck.redact import Redactor

# readiness before liveness where a family has both: a check asks whether the service serves
WELL_KNOWN_PATHS = (
    "/health", "/healthz", "/readyz", "/livez", "/actuator/health",
    "/-/ready", "/-/healthy",  # the Prometheus family: Prometheus, Alertmanager, Pushgateway
    "/ready", "/readiness", "/liveness", "/status", "/ping",
)  # fmt: skip
SCHEMA_FILE = "services.schema.json"
# how `init` names a health format to people, from the readers' registry
FORMAT_NAMES = {health_format.name: health_format.title for health_format in FORMATS}
DISCOVERY_TIMEOUT = 3.0


class StarterError(ValueError):
    """A URL that cannot start a manifest entry."""


@dataclass(frozen=True)
class Found:
    """What one URL answered: the chosen health path, its status and format, or why nothing did."""

    url: str
    path: str | None
    status_code: int | None = None
    health_format: str | None = None
    body_word: str | None = None  # a short plain body (OK, pong) to expect when no format is known
    problem: str | None = None


# what a person's browser gets: a status page (Pushgateway's `/status`), never a health endpoint
_HTML = ("text/html", "application/xhtml+xml")


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StarterError(f"bad URL {url!r}: expected http://host[:port] or https://host[:port]")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise StarterError(f"bad URL {url!r}: {exc}") from None
    return url.strip().rstrip("/")


async def discover(urls: list[str], *, insecure: bool = False) -> list[Found]:
    """Probe every well-known path of every URL concurrently; pick the best answer per URL."""
    import asyncio

    from svccheck.engine.prober import Prober, ProbeSettings
    from svccheck.protocols.http_shape import join_url

    async with Prober(ProbeSettings(retries=0, insecure=insecure, concurrency=32)) as prober:

        async def one(url: str) -> Found:
            checks = [_probe_check(url, path, join_url(url, path)) for path in WELL_KNOWN_PATHS]
            base, own_path = _split_path(url)
            if own_path is not None:  # `init http://host:9090/-/ready`: that URL itself first
                checks.insert(0, _probe_check(url, own_path, url))
            outcomes = await asyncio.gather(*(prober.probe(c) for c in checks))
            if own_path is not None:
                own = choose(base, [(own_path, outcomes[0])], guess=False)
                if own.path is not None:
                    return own
                outcomes = outcomes[1:]
            return choose(url, list(zip(WELL_KNOWN_PATHS, outcomes, strict=True)))

        return list(await asyncio.gather(*(one(u) for u in urls)))


def _split_path(url: str) -> tuple[str, str | None]:
    """`http://host:9090/-/ready` → (`http://host:9090`, `/-/ready`); no path: (url, None)."""
    from svccheck.redact import is_sensitive_param

    parts = urlsplit(url)
    if parts.path in ("", "/") and not parts.query:
        return url, None
    if any(is_sensitive_param(field.partition("=")[0]) for field in parts.query.split("&")):
        return url, None  # a token stays in the service URL, where the file writes it as a variable
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")), path


# health documents first; any answer is still worth seeing (a plain-text "OK")
DISCOVERY_ACCEPT = "application/health+json, application/json;q=0.9, */*;q=0.5"


def _probe_check(service: str, path: str, url: str) -> Check:
    return Check(
        service=service,
        name=path,
        kind="health",
        url=url,
        target=HttpRequest(headers=(("Accept", DISCOVERY_ACCEPT),)),
        expect=None,
        timeout=DISCOVERY_TIMEOUT,
        retries=0,
        backoff=0.1,
        verify_tls=True,
    )


def choose(url: str, answers: list[tuple[str, ProbeOutcome]], *, guess: bool = True) -> Found:
    """The first path, in well-known order, that answered best: a health body with 2xx, then any
    2xx, then a health body with another status (a service that is down right now). An HTML
    page is for a browser, not a health endpoint: never taken."""
    from svccheck.judge.health import parse_health

    ranked: list[tuple[int, int, Found]] = []
    problem = None
    pages: list[str] = []
    for order, (path, outcome) in enumerate(answers):
        snapshot = outcome.answer
        if snapshot is None or snapshot.status_code is None:
            problem = problem or outcome.reason
            continue
        content_type = snapshot.header("content-type") or ""
        if content_type.split(";", 1)[0].strip().lower() in _HTML:
            pages.append(path)
            continue
        reading = parse_health(snapshot.body, content_type or None)
        ok = 200 <= snapshot.status_code < 300
        if not ok and reading is None:
            continue
        word = None
        if reading is None:
            text = snapshot.body.decode("utf-8", errors="replace").strip()
            word = text if re.fullmatch(r"[A-Za-z][\w .-]{0,19}", text) else None
        rank = 0 if ok and reading else 1 if ok else 2
        found = Found(url, path, snapshot.status_code, reading.format if reading else None, word)
        ranked.append((rank, order, found))
    if ranked:
        return min(ranked, key=lambda item: item[:2])[2]
    if pages and not problem:
        shown = ", ".join(pages[:3]) + (" …" if len(pages) > 3 else "")
        problem = f"only HTML pages answered ({shown}), not a health endpoint"
    if not guess:
        return Found(url, None, problem=problem)
    return Found(url, None, problem=problem or "no well-known health path answered (all 404 or errors)")


def service_name(url: str, taken: set[str]) -> str:
    """`http://billing.internal:8080` → `billing`; local addresses are named by port."""
    parts = urlsplit(url)
    host = parts.hostname or "service"
    local = host == "localhost" or re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", host) is not None
    base = "service" if local else re.sub(r"[^A-Za-z0-9_-]+", "-", host.split(".")[0]).strip("-_")
    base = base if base[:1].isalnum() else f"service{base}"
    if parts.port is not None and (local or base in taken):
        base = f"{base}-{parts.port}"
    name, counter = base[:90], 2
    while name in taken:
        name, counter = f"{base[:90]}-{counter}", counter + 1
    taken.add(name)
    return name


def _yaml_str(value: str) -> str:
    """A YAML scalar: plain when safe, else JSON-quoted (JSON strings are YAML)."""
    if re.fullmatch(r"[A-Za-z0-9/_.:-]+", value) and value[0] not in "-:" and not value.isdigit():
        return value
    return json.dumps(value)


def _safe_url(url: str, name: str) -> tuple[str, list[str]]:
    """A password or a token in the URL goes into a variable, so the file carries no secret."""
    from svccheck.redact import is_sensitive_param

    parts = urlsplit(url)
    prefix = re.sub(r"[^A-Z0-9]", "_", name.upper())
    variables: list[str] = []
    netloc = parts.netloc
    if parts.password is not None:
        variables.append(f"{prefix}_PASSWORD")
        host = f"{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        netloc = f"{parts.username}:${{{variables[-1]}}}@{host}"
    fields = []
    for field in parts.query.split("&") if parts.query else []:
        key, sep, value = field.partition("=")
        if sep and is_sensitive_param(key):
            variables.append(f"{prefix}_{re.sub(r'[^A-Z0-9]', '_', key.upper())}")
            value = f"${{{variables[-1]}}}"
        fields.append(f"{key}{sep}{value}")
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(fields), parts.fragment)), variables


HEADER = f"""\
# yaml-language-server: $schema={SCHEMA_FILE}
# svccheck manifest. Check it with `svccheck validate`, run it with `svccheck all`.
# Your editor validates and completes it with the JSON Schema next to it
# (refresh it after upgrading svccheck: svccheck schema -o {SCHEMA_FILE}).
version: 1

defaults:
  timeout: 5s           # per attempt: connect, headers and body
  retries: 2            # extra attempts on transient failures
  backoff: 200ms
"""


def render(found: list[Found], *, insecure: bool = False) -> str:
    taken: set[str] = set()
    lines = [HEADER, "services:"]
    for item in found:
        name = service_name(item.url, taken)
        url, variables = _safe_url(item.url, name)
        lines.append(f"  {name}:")
        for variable in variables:
            lines.append(f"    # a secret is read from ${{{variable}}} (environment or --var)")
        if insecure and url.startswith("https:"):
            # verification stays on in the file: turning it off is a decision, not a default
            lines.append("    # discovered with --insecure: if its CA is not in the system store, set")
            lines.append("    # verify_tls: path/to/ca.pem (or false, which every report then names)")
        lines.append(f"    url: {_yaml_str(url)}")
        lines.extend(_health_lines(item))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# Every check `init` writes asks with the Accept header it probed with: a content-negotiating
# endpoint (django-health-check: JSON for application/json, an HTML page for */*) then gives
# `all` the body `init` judged (issue 14)
_ACCEPT_LINE = f"      headers: {{Accept: {json.dumps(DISCOVERY_ACCEPT)}}}"


def _health_lines(item: Found) -> list[str]:
    if item.path is None:
        return [
            # the problem is the server's words, in a YAML comment: one line, escapes shown
            f"    # {Redactor().text(item.problem or '')}: /health is a guess; change it to your health path",
            "    health:",
            "      path: /health",
            _ACCEPT_LINE,
        ]
    if item.health_format is not None:
        fmt = FORMAT_NAMES.get(item.health_format, item.health_format)
        return [
            f"    # HTTP {item.status_code} with a health body ({fmt}): svccheck reads its status and",
            "    # names failing components, so no expect is needed (an expect replaces that reading)",
            "    health:",
            f"      path: {_yaml_str(item.path)}",
            _ACCEPT_LINE,
        ]
    lines = [
        "    # answered without a health body svccheck knows: judged by status and body",
        "    health:",
        f"      path: {_yaml_str(item.path)}",
        _ACCEPT_LINE,
        "      expect:",
        f"        status: {item.status_code}",
    ]
    if item.body_word:
        lines.append(f"        body: {{contains: {_yaml_str(item.body_word)}}}")
    lines.append("        max_latency: 2s")
    return lines


TEMPLATE = (
    HEADER
    + """
# vars:                         # ${NAME} in any string; the environment and --var win
#   host: localhost
#
# environments:                 # svccheck all --env staging
#   staging:
#     vars: {host: staging.internal.example}

services:
  api:                          # letters, digits, '-', '_' and '.'
    url: http://localhost:8080  # base URL; paths are appended
    health: /health             # a body svccheck knows (Spring, IETF, k8s...) is read for components
    # tags: [edge]
    # depends_on: [database]    # a failing dependency is named as the root cause
    # checks:                   # sample API calls
    #   - name: list items
    #     path: /api/items
    #     headers: {Authorization: "Bearer ${API_TOKEN}"}
    #     expect:
    #       status: 200
    #       max_latency: 800ms
    #       json: {$.items: {len: {gte: 1}}}

  # database:                   # TCP services: connect, and ping with protocol: redis | postgres
  #   url: tcp://localhost:5432
  #   protocol: postgres
"""
)


@dataclass(frozen=True)
class Written:
    """What `write` left on disk: the manifest, its schema (unless kept), and what each URL answered."""

    manifest: Path
    schema: Path
    found: list[Found]


def write(manifest: Path, urls: list[str], *, force: bool, insecure: bool) -> Written:
    """All of `svccheck init`: discover the URLs (none: the template), write the manifest and its schema.

    An existing manifest is kept unless `force`; that, a bad URL or a manifest
    that cannot be written is a UsageError. A schema that cannot be written is
    only said on stderr: the manifest works without it.
    """
    from svccheck.errors import UsageError

    if manifest.exists() and not force:
        raise UsageError(f"{manifest} exists; use --force to overwrite it")
    found: list[Found] = []
    text = TEMPLATE
    if urls:
        try:
            checked = [check_url(u) for u in urls]
        except StarterError as exc:
            raise UsageError(str(exc)) from None
        import asyncio

        found = asyncio.run(discover(checked, insecure=insecure))
        text = render(found, insecure=insecure)
    try:
        manifest.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {manifest}: {exc.strerror or exc}") from None
    schema = manifest.parent / SCHEMA_FILE
    if force or not schema.exists():
        from svccheck.manifest.json_schema import render_schema

        try:
            schema.write_text(render_schema(), encoding="utf-8")
        except OSError as exc:
            sys.stderr.write(f"svccheck: cannot write {schema}: {exc.strerror or exc}\n")
    return Written(manifest, schema, found)


def written_lines(written: Written) -> list[str]:
    """What `init` prints: a line per URL (where it answered, or why it did not), then what was written."""
    redactor = Redactor()
    lines = []
    for item in written.found:
        if item.path is None:
            lines.append(
                f"  {redactor.url(item.url)}: {redactor.text(item.problem or '')}; wrote /health as a guess"
            )
        else:
            fmt = FORMAT_NAMES.get(item.health_format or "", "no known health format")
            lines.append(f"  {redactor.url(item.url)}{item.path}: HTTP {item.status_code}, {fmt}")
    count = len(written.found)
    what = f"{count} service{'s' if count != 1 else ''}" if written.found else "a template"
    lines.append(
        f"wrote {written.manifest} ({what}) and its schema {written.schema}; "
        f"next: svccheck validate -f {written.manifest}"
    )
    return lines
