"""Secrets audit: plant distinctive secrets, produce every output svccheck has, grep them all.

Planted: a bearer token and an API key from environment variables, a URL
password, a query-string token, a cookie written in the manifest, the default of
an unset secret-named variable, and what a server sends back — the client's
credentials echoed in its body and headers, a session of its own in
`Set-Cookie` / `X-Auth-Token`, and tokens in its JSON body (which a schema's
violations quote).

Logging in plants more: an OAuth2 client secret, the token the authorization server
grants, a value one check captures for another, and a Basic password read from a file
(`${file:…}`).

`OUTPUTS` is the registry: one entry per output, saying how to produce it.
A new output format (a report file, a command, a view) joins the audit with
one line there; the audit then fails if any planted secret shows up in it.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.cli import assert_no_traceback, cli_env, run_cli
from svccheck.demo.server import Request, Response, ServerThread

# Each secret is distinctive: found anywhere in an output, it leaked.
ENV_SECRETS = {
    "SMOKE_TOKEN": "tok-SUPER-secret-123",
    "API_KEY": "key-Very-Private-9",
    "DB_PASSWORD": "dbpw-Quiet-42",
    "AUDIT_CLIENT_SECRET": "clsec-Oauth-Client-31",
}
URL_PASSWORD = "pw-Hunter2-xyz"
QUERY_TOKEN = "qtok-77z-Query"
COOKIE = "cookie-Choc-Chip-55"
SERVER_SESSION = "srv-Session-Cookie-88"  # only the server knows it: a cookie it set, masked by value
SERVER_TOKEN = "srv-Header-Token-99"
BODY_TOKEN = "body-Access-Token-17"  # an `access_token` in the server's JSON body
BODY_SECRET = "body-Client-Secret-23"  # a `client_secret` nested deeper in it
# SMOKE_CLIENT_SECRET is unset (cli_env drops SMOKE_*): its default is what is sent
SECRET_DEFAULT = "dflt-Secret-Sauce-64"
ISSUED_TOKEN = "issued-Bearer-Token-71"  # what the token endpoint grants
CAPTURED = "captured-Handle-Value-47"  # taken from one answer, sent in the next request
FILE_PASSWORD = "file-Basic-Password-53"  # read from `${file:…}`
BASIC_FROM_FILE = base64.b64encode(f"ops:{FILE_PASSWORD}".encode()).decode()
CLIENT_BASIC = base64.b64encode(f"audit:{ENV_SECRETS['AUDIT_CLIENT_SECRET']}".encode()).decode()
# the URL's credentials as httpx sends them, `Authorization: Basic …`, echoed by the server
BASIC_CREDENTIAL = base64.b64encode(f"user:{URL_PASSWORD}".encode()).decode()
PLANTED = (
    *ENV_SECRETS.values(),
    URL_PASSWORD,
    BASIC_CREDENTIAL,
    QUERY_TOKEN,
    COOKIE,
    SERVER_SESSION,
    SERVER_TOKEN,
    BODY_TOKEN,
    BODY_SECRET,
    SECRET_DEFAULT,
    ISSUED_TOKEN,
    CAPTURED,
    FILE_PASSWORD,
    BASIC_FROM_FILE,
    CLIENT_BASIC,
)


@dataclass
class Planted:
    """A manifest full of secrets, a server that echoes them, and ways to run the CLI on it."""

    manifest: Path  # probes the echoing server
    port: int  # the echoing server's
    broken: Path  # the same secrets, in a manifest with errors that quote them
    scratch: Path

    def cli(self, *args: str, manifest: Path | None = None) -> str:
        result = run_cli(*args, "-f", str(manifest or self.manifest), env=ENV_SECRETS, timeout=60)
        assert_no_traceback(result)
        return result.stdout + result.stderr

    def terminal(self, *args: str) -> str:
        """Every byte a terminal received, the transient progress line and live views included."""
        from support.terminal import run_on_terminal

        screen = run_on_terminal(*args, "-f", str(self.manifest), env=ENV_SECRETS, columns=100, lines=30)
        assert "Traceback" not in screen.text, screen.text
        return screen.text

    def with_file(self, *args: str) -> str:
        """Run with `{out}` in args replaced by a fresh path; the terminal output plus the file."""
        out = self.scratch / f"out-{len(list(self.scratch.iterdir()))}"
        text = self.cli(*(a.replace("{out}", str(out)) for a in args))
        assert out.exists(), f"{args} wrote no file"
        return text + "\n" + out.read_text()

    def github(self, *args: str) -> str:
        """Run as a GitHub Actions step would: the annotations plus the step summary file."""
        summary = self.scratch / f"summary-{len(list(self.scratch.iterdir()))}.md"
        env = {**ENV_SECRETS, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
        result = run_cli(*args, "-f", str(self.manifest), env=env, timeout=60)
        assert_no_traceback(result)
        assert summary.exists(), "no step summary written"
        return result.stdout + result.stderr + "\n" + summary.read_text()

    def init(self) -> str:
        """`init` discovering a URL with a password: what it prints and the manifest it writes."""
        out = self.scratch / f"init-{len(list(self.scratch.iterdir()))}.yaml"
        url = f"http://user:{URL_PASSWORD}@127.0.0.1:{self.port}/?token={QUERY_TOKEN}"
        result = run_cli("init", url, "-f", str(out), env=ENV_SECRETS, timeout=60)
        assert_no_traceback(result)
        assert out.exists(), result.stdout + result.stderr
        return result.stdout + result.stderr + "\n" + out.read_text()

    def init_openapi(self) -> str:
        """`init --openapi` given a base URL with a password: refused, without quoting it."""
        spec = self.scratch / "api.yaml"
        spec.write_text(
            'openapi: 3.1.0\ninfo: {title: api, version: "1"}\npaths: {/x: {get: {responses: {"200": {description: x}}}}}\n'
        )
        out = self.scratch / f"init-{len(list(self.scratch.iterdir()))}.yaml"
        url = f"http://user:{URL_PASSWORD}@127.0.0.1:{self.port}/?token={QUERY_TOKEN}"
        result = run_cli(
            "init", "--openapi", str(spec), "--url", url, "-f", str(out), env=ENV_SECRETS, timeout=60
        )
        assert_no_traceback(result)
        assert result.returncode == 2 and not out.exists(), result.stdout + result.stderr
        return result.stdout + result.stderr

    def serve(self) -> str:
        """One published round of `serve`: its log and its pages (`PAGES`), a probe on demand among them."""
        process = subprocess.Popen(
            [sys.executable, "-m", "svccheck", "serve", "-f", str(self.manifest), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(ENV_SECRETS),
        )
        try:
            assert process.stdout is not None and process.stderr is not None
            base = process.stdout.readline().split()[2]
            log = [process.stderr.readline()]  # serve logs each round when it is published
            while log[-1] and "round 1" not in log[-1]:
                log.append(process.stderr.readline())
            pages = [urllib.request.urlopen(base + page, timeout=10).read().decode() for page in PAGES]
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
        return "".join(log) + out + err + "\n".join(pages)

    def compared(self, *args: str) -> str:
        """A run saved as JSON, then `args` with `{base}` replaced by it (a baseline, a diff), and
        `{other}` by a second run's, from another location (a merge)."""
        base = self.scratch / f"base-{len(list(self.scratch.iterdir()))}.json"
        self.cli("all", "--json", str(base))
        other = self.scratch / f"other-{len(list(self.scratch.iterdir()))}.json"
        if "{other}" in args:  # the same run from a second location, for merge
            self.cli("all", "--json", str(other), "--location", "office")
        words = [a.replace("{base}", str(base)).replace("{other}", str(other)) for a in args]
        if words[0] == "all":
            return self.cli(*words)
        result = run_cli(*words, env=ENV_SECRETS, timeout=60)  # diff reads reports, no manifest
        assert_no_traceback(result)
        return result.stdout + result.stderr

    def reached_server(self, text: str) -> str:
        assert "got 401" in text, text  # the run really got an answer, so echoes had a chance to leak
        return text


@dataclass(frozen=True)
class Output:
    name: str
    produce: Callable[[Planted], str]


# The registry. New outputs: one line each, e.g.
#   Output("junit file", lambda p: p.reached_server(p.with_file("all", "--junit", "{out}"))),
#   Output("markdown stdout", lambda p: p.reached_server(p.cli("all", "--format", "markdown"))),
OUTPUTS: list[Output] = [
    Output("table", lambda p: p.reached_server(p.cli("all"))),
    Output("table -v", lambda p: p.reached_server(p.cli("all", "-v"))),
    Output("table -q", lambda p: p.cli("all", "-q")),
    Output("table on a terminal, with the progress line", lambda p: p.reached_server(p.terminal("all"))),
    Output("watch live table", lambda p: p.terminal("watch", "--rounds", "2", "--interval", "10ms")),
    Output("check -v", lambda p: p.reached_server(p.cli("check", "api", "-v"))),
    Output(
        "check -v with a token and a capture", lambda p: p.reached_server(p.cli("check", "session-api", "-v"))
    ),
    Output("json stdout", lambda p: p.reached_server(p.cli("all", "--format", "json"))),
    Output("--json file", lambda p: p.reached_server(p.with_file("all", "--json", "{out}"))),
    Output("list", lambda p: p.cli("list")),
    Output("validate", lambda p: p.cli("validate")),
    Output("manifest errors (validate)", lambda p: p.cli("validate", manifest=p.broken)),
    Output("manifest errors (all)", lambda p: p.cli("all", manifest=p.broken)),
    Output("junit stdout", lambda p: p.reached_server(p.cli("all", "--format", "junit"))),
    Output("junit file", lambda p: p.with_file("all", "--junit", "{out}")),
    Output("markdown stdout", lambda p: p.cli("all", "--format", "markdown")),
    Output("markdown file", lambda p: p.with_file("all", "--markdown", "{out}")),
    Output("prometheus stdout", lambda p: p.cli("all", "--format", "prometheus")),
    Output("prometheus file", lambda p: p.with_file("all", "--prometheus", "{out}")),
    Output("html stdout", lambda p: p.reached_server(p.cli("all", "--format", "html"))),
    Output("html file", lambda p: p.reached_server(p.with_file("all", "-v", "--html", "{out}"))),
    Output(
        "all --baseline --fail-on new (table, markdown)",
        lambda p: (
            p.reached_server(p.compared("all", "--baseline", "{base}", "--fail-on", "new", "-v"))
            + p.compared("all", "--baseline", "{base}", "--format", "markdown")
        ),
    ),
    Output(
        "diff (table, json, html)",
        lambda p: (
            p.reached_server(p.compared("diff", "{base}", "{base}"))
            + p.compared("diff", "{base}", "{base}", "--format", "json")
            + p.compared("diff", "{base}", "{base}", "--format", "html")
        ),
    ),
    Output(
        "merge (table, json, html)",
        lambda p: (
            p.reached_server(p.compared("merge", "{base}", "{other}"))
            + p.compared("merge", "{base}", "{other}", "--format", "json")
            + p.compared("merge", "{base}", "{other}", "--quorum", "1", "--format", "html")
        ),
    ),
    Output("github annotations and step summary", lambda p: p.reached_server(p.github("all"))),
    Output("wait", lambda p: p.reached_server(p.cli("wait", "--timeout", "2s", "--interval", "100ms"))),
    Output("watch", lambda p: p.cli("watch", "--rounds", "2", "--interval", "10ms")),
    Output("init", lambda p: p.init()),
    Output("init --openapi", lambda p: p.init_openapi()),
    Output("serve /metrics, /report.json, /probe and /targets", lambda p: p.serve()),
]
PAGES = ("/metrics", "/report.json", "/probe?service=api", "/targets")
# `demo` probes its own fleet, `schema` prints a fixed document: neither sees a manifest's secrets.
UNAUDITED = {"demo", "schema"}


async def echo(request: Request) -> Response:
    """Sends back everything the client sent that could be a credential, plus its own session."""
    sent = {k: request.headers.get(k, "") for k in ("authorization", "x-api-key", "cookie", "x-handle")}
    body = {"status": "DOWN", "error": f"denied: {sent}", "query": request.query,
            "sent_body": request.body.decode(), "access_token": BODY_TOKEN,
            "oauth": {"client": {"client_secret": BODY_SECRET}},
            "components": {"auth": {"status": "DOWN", "details": {"error": f"bad token {sent['authorization']}"}}}}  # fmt: skip
    headers = {
        "X-Echo-Auth": sent["authorization"],
        "X-Echo-Cookie": sent["cookie"],
        "Set-Cookie": f"sid={SERVER_SESSION}; HttpOnly",
        "X-Auth-Token": SERVER_TOKEN,
        "X-Echo-Handle": sent["x-handle"],
    }
    return Response(401, json.dumps(body), headers)


async def authorization_server(request: Request) -> Response:
    """Grants a token at /token and hands out a handle at /login (a value named like nothing secret)."""
    if request.path == "/token":
        return Response(200, json.dumps({"access_token": ISSUED_TOKEN, "expires_in": 300}))
    return Response(200, json.dumps({"handle": CAPTURED}))


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    servers = ServerThread().start()
    try:
        port = servers.add(echo)
        issuer = servers.add(authorization_server)
        scratch = tmp_path_factory.mktemp("audit")
        (scratch / "ops-password").write_text(FILE_PASSWORD + "\n")
        manifest = scratch / "services.yaml"
        manifest.write_text(f"""
defaults: {{retries: 1, backoff: 10ms, timeout: 2s}}
auth:
  audit:
    oauth2: {{token_url: "http://127.0.0.1:{issuer}/token", client_id: audit, client_secret: "${{AUDIT_CLIENT_SECRET}}"}}
  filed:
    basic: {{username: ops, password: "${{file:ops-password}}"}}
services:
  session-api:
    url: http://127.0.0.1:{port}
    auth: audit
    checks:
      - name: with token
        path: /t
        headers: {{X-Handle: "${{capture.handle}}"}}
        expect: {{status: 200, headers: {{x-echo-handle: {{eq: nope}}}}}}
  login:
    url: http://127.0.0.1:{issuer}
    checks:
      - {{name: log in, method: POST, path: /login, capture: {{handle: $.handle}}}}
  basic-api:
    url: http://127.0.0.1:{port}
    auth: filed
    checks: [{{path: /b, expect: {{status: 200}}}}]
  api:
    url: http://user:{URL_PASSWORD}@127.0.0.1:{port}
    health: /health
    checks:
      - name: secret check
        path: /x?access_token={QUERY_TOKEN}&page=1
        headers: {{Authorization: "Bearer ${{SMOKE_TOKEN}}", X-Api-Key: "${{API_KEY}}", Cookie: "session={COOKIE}"}}
        expect:
          status: 200
          body: {{contains: welcome}}
          headers: {{x-echo-auth: {{eq: nope}}, x-echo-cookie: {{eq: nope}}, set-cookie: {{eq: nope}}, x-auth-token: {{eq: nope}}}}
          json: {{$.error: ok, $.query: ok, $.components.auth.details.error: ok}}
      - name: login
        method: POST
        path: /token
        body: "grant_type=client_credentials&scope=${{SMOKE_CLIENT_SECRET:-{SECRET_DEFAULT}}}"
        expect: {{status: 200, body: {{contains: "{SECRET_DEFAULT}"}}}}
      - name: contract
        path: /contract
        expect:
          schema: {{properties: {{access_token: {{type: integer}}, oauth: {{properties: {{client: {{properties: {{client_secret: {{enum: [1]}}}}}}}}}}}}}}
  db:
    url: http://admin:${{DB_PASSWORD}}@127.0.0.1:{port}
    checks: [{{path: /db, expect: {{status: 200}}}}]
""")
        broken = scratch / "broken.yaml"
        broken.write_text(f"""
services:
  api:
    url: "http://user:{URL_PASSWORD}@127.0.0.1:99999/x?token={QUERY_TOKEN}"
    retries: "${{SMOKE_TOKEN}}"
    health: {{path: /h, headers: {{Cookie: "session={COOKIE}"}}, expect: {{status: "${{API_KEY}}"}}}}
  db:
    url: "http://admin:${{DB_PASSWORD}}@127.0.0.1:1"
    timeout: "${{DB_PASSWORD}}"
    health: /h
""")
        yield Planted(manifest, port, broken, scratch)
    finally:
        servers.stop()


@pytest.mark.parametrize("output", OUTPUTS, ids=[o.name for o in OUTPUTS])
def test_no_planted_secret_in_output(output: Output, planted: Planted) -> None:
    text = output.produce(planted)
    leaked = [s for s in PLANTED if s in text]
    assert not leaked, f"{output.name} shows {leaked}:\n{text}"


def test_the_broken_manifest_quotes_the_secret_places(planted: Planted) -> None:
    # otherwise the error-message entries would pass without testing anything
    text = planted.cli("validate", manifest=planted.broken)
    assert "services.api.retries: expected an integer" in text and "***" in text
    assert "services.db.timeout: bad duration" in text


def test_the_registry_covers_every_command() -> None:
    import typer
    from typer.core import TyperGroup

    from svccheck.cli import app

    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    audited = {o.name.split()[0] for o in OUTPUTS} | {"all", "validate"}
    missing = set(group.commands) - audited - UNAUDITED
    assert not missing, f"commands with no entry in OUTPUTS: {missing}"
