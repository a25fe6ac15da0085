"""Every matcher operator, from the one table: validated, judged and worded as its entry says.

A new operator in `svccheck.judge.operators.OPERATORS` fails here until it has its line in EXAMPLES:
it is tested the day it is added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.grammar.schema import to_matcher
from svccheck.judge.expect import check_matcher
from svccheck.judge.operators import MISSING, OPERATORS, describe
from svccheck.manifest import ManifestError, parse_manifest
from svccheck.manifest.json_schema import manifest_schema


@dataclass(frozen=True)
class Example:
    good: Any  # an operand the manifest takes
    bad: Any  # an operand it refuses, with `refused` in its error; None: every operand is taken
    refused: str | None
    holds_on: Any  # a value the operator holds on with `good`
    fails_on: Any  # one it does not hold on (MISSING: the value is not there)
    failure: str  # the failure's words, after "LOCATION: "


EXAMPLES: dict[str, Example] = {
    "eq": Example("UP", None, None, "UP", "DOWN", 'expected "UP", got "DOWN"'),
    "ne": Example(0, None, None, 1, 0, "expected not 0, got 0"),
    "lt": Example(10, True, "lt: expected a number, got True", 5, 10, "expected < 10, got 10"),
    "lte": Example(10, [1], "lte: expected a number, got [1]", "10", 11, "expected <= 10, got 11"),
    "gt": Example(3, {"a": 1}, "gt: expected a number, got {'a': 1}", 4, 3, "expected > 3, got 3"),
    "gte": Example(1, False, "gte: expected a number, got False", "2", "n/a", 'expected >= 1, got "n/a"'),
    "in": Example(
        ["a", "b"], "a", "in: expected a list, got 'a'", "b", "c", 'expected one of ["a", "b"], got "c"'
    ),
    "contains": Example("ok", None, None, "all ok", "all bad", 'expected to contain "ok", got "all bad"'),
    "not_contains": Example(
        "error", None, None, "fine", "an error", 'expected not to contain "error", got "an error"'
    ),
    "matches": Example(
        "^v\\d+",
        "(",
        "matches: invalid regular expression '(': missing ), unterminated subpattern",
        "v12",
        "x12",
        'expected to match /^v\\d+/, got "x12"',
    ),
    "exists": Example(
        True, "yes", "exists: expected true or false, got 'yes'", 0, MISSING, "expected to exist, got nothing"
    ),
    "type": Example(
        "integer",
        "int",
        "type: expected one of string, number, integer, boolean, array, object, null, got 'int'",
        1,
        "1",
        'expected type integer, got "1"',
    ),
    "len": Example(
        {"gte": 1},
        {"gte": 0.5},
        "len.gte: expected an integer, got 0.5",
        [1],
        [],
        "expected length >= 1, got length 0",
    ),
}
NAMES = list(OPERATORS)
WriteManifest = Callable[..., Path]


def manifest(matcher: dict[str, Any]) -> str:
    return json.dumps(
        {"services": {"api": {"url": "http://127.0.0.1:1", "health": {"expect": {"json": {"$.v": matcher}}}}}}
    )


def test_every_operator_has_its_example() -> None:
    assert list(EXAMPLES) == NAMES, (
        "give each operator of svccheck.judge.operators.OPERATORS a line in EXAMPLES"
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_manifest_takes_a_good_operand(name: str) -> None:
    parse_manifest(manifest({name: EXAMPLES[name].good}), "services.yaml", environ={})


@pytest.mark.parametrize("name", NAMES)
def test_the_manifest_refuses_a_bad_operand_at_its_matcher(name: str) -> None:
    example = EXAMPLES[name]
    if example.bad is None:
        odd_operands: list[Any] = [{"nested": [1, None]}, [], None, "", 1.5]
        for odd in odd_operands:  # every operand is taken
            parse_manifest(manifest({name: odd}), "services.yaml", environ={})
        return
    with pytest.raises(ManifestError) as caught:
        parse_manifest(manifest({name: example.bad}), "services.yaml", environ={})
    assert example.refused is not None and example.refused in str(caught.value)
    assert "services.api.health.expect.json.$.v" in str(caught.value)


@pytest.mark.parametrize("name", NAMES)
def test_the_json_schema_takes_a_good_operand(name: str) -> None:
    validator = jsonschema.Draft202012Validator(manifest_schema())
    data = json.loads(manifest({name: EXAMPLES[name].good}))
    assert [error.message for error in validator.iter_errors(data)] == []


@pytest.mark.parametrize("name", NAMES)
def test_the_operator_holds_and_does_not(name: str) -> None:
    example = EXAMPLES[name]
    matcher = to_matcher({name: example.good})
    assert check_matcher(matcher, example.holds_on) is None
    assert check_matcher(matcher, example.fails_on) == example.failure


@pytest.mark.parametrize("name", [n for n in NAMES if not OPERATORS[n].judges_missing])
def test_a_missing_value_is_got_nothing(name: str) -> None:
    good = EXAMPLES[name].good
    assert check_matcher(to_matcher({name: good}), MISSING) == f"expected {describe(name, good)}, got nothing"


def test_every_operator_is_worded_in_the_report(servers: ServerThread, manifest_file: WriteManifest) -> None:
    # one service, one check per operator, each failing on its own member of the body
    body = {name: example.fails_on for name, example in EXAMPLES.items() if example.fails_on is not MISSING}

    async def answer(request: Request) -> Response:
        return json_response(body)

    port = servers.add(answer)
    checks = [
        {"name": name, "path": "/", "expect": {"json": {f"$['{name}']": {name: example.good}}}}
        for name, example in EXAMPLES.items()
    ]
    path = manifest_file(
        json.dumps({"services": {"api": {"url": f"http://127.0.0.1:{port}", "checks": checks}}})
    )
    result = run_cli("all", "-f", str(path), "--format", "json")
    assert_no_traceback(result)
    assert result.returncode == 1, result.stderr
    reasons = {check["name"]: check["reason"] for check in json.loads(result.stdout)["services"][0]["checks"]}
    assert reasons == {name: f"$['{name}']: {example.failure}" for name, example in EXAMPLES.items()}
