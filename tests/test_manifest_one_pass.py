"""Every problem in a manifest comes out of one run: no phase hides the next one's errors.

A typo used to stop the loader before the cross-field rules, the dependency
checks and the per-protocol rules ran, so their problems appeared one edit
later. Each file here mixes problems of every phase; all must be reported at
once, each at FILE:LINE:COL, and the CLI still exits 2.
"""

from __future__ import annotations

import textwrap

import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.manifest import ManifestError, parse_manifest

EVERY_PHASE = textwrap.dedent(
    """\
    version: 7
    services:
      api:
        url: http://127.0.0.1:8080
        helth: /health
        tls: true
        checks:
          - path: /a
            expect:
              json: {"$.[": 1}
              tls_min_days: 30
              tls_warn_days: 7
          - {name: same, path: /b, body: x, json: {a: 1}}
          - {name: same, path: /c}
      cache:
        url: tcp://127.0.0.1:6379
        headers: {X-Token: abc}
        depends_on: [nowhere]
        health: {expect: {status: 200}}
      empty:
        url: http://127.0.0.1:8081
        verify_tls: missing-ca.pem
    """
)

# (line, fragment): one of each phase's problems
EXPECTED = [
    (1, "unsupported manifest version 7"),
    (5, "unknown key 'helth' in services.api (did you mean 'health'?)"),
    (6, "'tls' is for tcp:// services"),
    (10, "bad JSONPath '$.['"),
    (12, "tls_warn_days (7) is below tls_min_days (30)"),
    (13, "give either 'body' or 'json' as the request body, not both"),
    (14, "duplicate check name 'same' in service 'api'"),
    (17, "'headers' is for HTTP checks"),
    (18, "depends_on: unknown service 'nowhere'"),
    (19, "'status' is for HTTP checks"),
    (20, "service 'empty' has neither 'health' nor 'checks'"),
    (22, "CA bundle 'missing-ca.pem' not found"),
]


def _lines(text: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "services.yaml", environ={})
    return info.value.render().splitlines()


def test_every_problem_of_every_phase_is_reported_in_one_run() -> None:
    lines = _lines(EVERY_PHASE)
    for line, fragment in EXPECTED:
        at_line = [found for found in lines if found.startswith(f"services.yaml:{line}:")]
        assert any(fragment in found for found in at_line), (line, fragment, lines)
    assert len(lines) == len(EXPECTED), lines


def test_the_cli_prints_them_all_and_exits_2(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / "services.yaml"
    path.write_text(EVERY_PHASE)
    result = run_cli("validate", "-f", str(path))
    assert_no_traceback(result)
    assert result.returncode == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert len(problems) == len(EXPECTED), result.stderr
    assert f"{len(EXPECTED)} problems in the manifest; nothing was probed" in result.stderr


def test_a_bad_value_does_not_add_noise_from_the_rules_that_need_it() -> None:
    # the rules skip values the shape already refused: one problem each, not two
    lines = _lines(
        "services:\n"
        "  a:\n"
        "    url: ftp://h\n"
        "    tls: true\n"
        "    health: {path: /h, expect: {tls_min_days: many, tls_warn_days: 3}}\n"
    )
    assert len(lines) == 2, lines
    assert "bad URL 'ftp://h'" in lines[0]
    assert "tls_min_days: expected an integer" in lines[1]
