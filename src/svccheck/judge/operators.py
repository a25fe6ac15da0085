"""Every matcher operator, once: the operand it takes, when it holds, how a failure reads.

An operator is one entry of `OPERATORS`. The manifest validates an operand with its
`operand_problem` and describes it in the JSON Schema with its `operand_schema`;
`svccheck.judge.expect` judges a value with `holds` and words a failure as
``expected {words(operand)}, got {shown(actual)}``. Adding an operator is adding one
entry: tests/test_operators.py runs every entry through validation, evaluation and
wording. Pure, and imported on every run: the standard library's json, math and re only.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, Final

Json = dict[str, Any]

JSON_TYPES: Final = ("string", "number", "integer", "boolean", "array", "object", "null")
_MAX_SHOWN: Final = 80


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()  # the value of an absent header, or of a JSONPath that selects nothing


def show(value: Any) -> str:
    """A value as a failure quotes it: JSON, cut at 80 characters."""
    if value is MISSING:
        return "nothing"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


class Operator:
    """One matcher operator; `where` is its place in the matcher (``matches``, ``len.gte``).

    A plain class: this module is imported on every run, and creating the class costs ~7 us,
    a NamedTuple ~0.2 ms (its annotations are compiled), a frozen dataclass ~0.8 ms.
    """

    __slots__ = ("holds", "judges_missing", "name", "operand_problem", "operand_schema", "shown", "words")

    def __init__(
        self,
        name: str,
        operand_problem: Callable[[Any, str], str | None],  # (operand, where) → why it is refused, or None
        operand_schema: Callable[[], Json],  # a callable: `len`'s schema lists the whole table
        holds: Callable[[Any, Any], bool],  # (actual, operand)
        words: Callable[[Any], str],  # what was expected, after "expected "
        shown: Callable[[Any], str] = show,  # the actual value, after "got ", when it does not hold
        judges_missing: bool = False,  # asked about a value that is not there; otherwise "got nothing"
    ) -> None:
        self.name = name
        self.operand_problem = operand_problem
        self.operand_schema = operand_schema
        self.holds = holds
        self.words = words
        self.shown = shown
        self.judges_missing = judges_missing

    def __repr__(self) -> str:
        return f"Operator({self.name!r})"


def describe(op: str, operand: Any) -> str:
    """What an operator expects, in words: ``to contain "ok"``, ``length >= 1``."""
    operator = OPERATORS.get(op)
    return operator.words(operand) if operator is not None else f"{op} {show(operand)}"


# --- operands ---------------------------------------------------------------------------------


def _anything(operand: Any, where: str) -> str | None:
    return None


def _a_number(operand: Any, where: str) -> str | None:
    # a numeric string is a number to compare with, as a header value is (`gte: "2"`)
    if isinstance(operand, bool) or not isinstance(operand, int | float | str):
        return f"{where}: expected a number, got {operand!r}"
    return None


def _a_list(operand: Any, where: str) -> str | None:
    return None if isinstance(operand, list) else f"{where}: expected a list, got {operand!r}"


def _a_regex(operand: Any, where: str) -> str | None:
    if not isinstance(operand, str):
        return f"{where}: expected a regular expression string, got {operand!r}"
    try:
        re.compile(operand)
    except re.error as exc:
        return f"{where}: invalid regular expression {operand!r}: {exc}"
    return None


def _a_bool(operand: Any, where: str) -> str | None:
    return None if isinstance(operand, bool) else f"{where}: expected true or false, got {operand!r}"


def _a_json_type(operand: Any, where: str) -> str | None:
    if operand in JSON_TYPES:
        return None
    return f"{where}: expected one of {', '.join(JSON_TYPES)}, got {operand!r}"


# `len: {gte: 1}` compares a length, a whole number; the other operators under `len` are not
# checked here (their keys are, by the manifest's reader)
_LENGTH_COMPARISONS: Final = ("lt", "lte", "gt", "gte", "eq", "ne")


def _a_length(operand: Any, where: str) -> str | None:
    if isinstance(operand, dict):
        for inner_op, inner in operand.items():
            if inner_op in _LENGTH_COMPARISONS and (isinstance(inner, bool) or not isinstance(inner, int)):
                return f"{where}.{inner_op}: expected an integer, got {inner!r}"
        return None
    if isinstance(operand, bool) or not isinstance(operand, int):
        return f"{where}: expected an integer or a comparison, got {operand!r}"
    return None


def _operators_schema(operand_schema: Callable[[str], Json]) -> Json:
    return {
        "type": "object",
        "properties": {name: operand_schema(name) for name in OPERATORS},
        "additionalProperties": False,
        "minProperties": 1,
    }


def _length_schema() -> Json:
    comparisons = _operators_schema(lambda name: {"type": "integer"} if name in _LENGTH_COMPARISONS else {})
    return {"anyOf": [{"type": "integer"}, comparisons]}


def matcher_schema() -> Json:
    """The JSON Schema of a mapping of operators, each with its operand's schema."""
    return _operators_schema(lambda name: OPERATORS[name].operand_schema())


# --- evaluation -------------------------------------------------------------------------------


def _equal(actual: Any, expected: Any) -> bool:
    # JSON has no bool/int confusion: true is not 1
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float) and isinstance(actual, str):
        number = _number(actual)
        return number is not None and number == expected
    return bool(actual == expected)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _comparison(test: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def holds(actual: Any, operand: Any) -> bool:
        left, right = _number(actual), _number(operand)
        return left is not None and right is not None and test(left, right)

    return holds


def _contains(actual: Any, needle: Any) -> bool:
    if isinstance(actual, str):
        return str(needle) in actual
    if isinstance(actual, list):
        return any(_equal(item, needle) for item in actual)
    if isinstance(actual, dict):
        return needle in actual
    return False


def _matches(actual: Any, operand: Any) -> bool:
    return re.search(operand, actual if isinstance(actual, str) else json.dumps(actual)) is not None


def _has_type(actual: Any, operand: Any) -> bool:
    return json_type(actual) == operand or (operand == "number" and json_type(actual) == "integer")


def _has_length(actual: Any, operand: Any) -> bool:
    size = _length(actual)
    if size is None:
        return False
    if isinstance(operand, dict):
        return all(OPERATORS[inner_op].holds(size, inner) for inner_op, inner in operand.items())
    return bool(size == operand)


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | dict) else None


def _length_text(actual: Any) -> str:
    size = _length(actual)
    return f"length {size}" if size is not None else f"{json_type(actual)} {show(actual)} (no length)"


def _length_words(operand: Any) -> str:
    if isinstance(operand, dict):
        return "length " + " and ".join(describe(k, v) for k, v in operand.items())
    return f"length {operand}"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _operand_after(prefix: str) -> Callable[[Any], str]:
    """Words that are a prefix and the operand as JSON: ``to contain "ok"``."""
    return lambda operand: prefix + show(operand)


def _number_schema() -> Json:
    return {"type": ["number", "string"]}


# --- the table --------------------------------------------------------------------------------

# Ordered: the manifest's "operators are: eq, ne, …" message, its "did you mean" hint, the README
# and the JSON Schema list them in this order.
OPERATORS: Final[dict[str, Operator]] = {
    operator.name: operator
    for operator in (
        Operator("eq", _anything, lambda: {}, _equal, show),
        Operator("ne", _anything, lambda: {}, lambda a, o: not _equal(a, o), _operand_after("not ")),
        Operator("lt", _a_number, _number_schema, _comparison(lambda a, o: a < o), _operand_after("< ")),
        Operator("lte", _a_number, _number_schema, _comparison(lambda a, o: a <= o), _operand_after("<= ")),
        Operator("gt", _a_number, _number_schema, _comparison(lambda a, o: a > o), _operand_after("> ")),
        Operator("gte", _a_number, _number_schema, _comparison(lambda a, o: a >= o), _operand_after(">= ")),
        Operator(
            "in",
            _a_list,
            lambda: {"type": "array"},
            lambda a, o: any(_equal(a, item) for item in o),
            _operand_after("one of "),
        ),
        Operator("contains", _anything, lambda: {}, _contains, _operand_after("to contain ")),
        Operator(
            "not_contains",
            _anything,
            lambda: {},
            lambda a, o: not _contains(a, o),
            _operand_after("not to contain "),
        ),
        Operator("matches", _a_regex, lambda: {"type": "string"}, _matches, lambda o: f"to match /{o}/"),
        Operator(
            "exists",
            _a_bool,
            lambda: {"type": "boolean"},
            lambda a, o: (a is not MISSING) == o,
            lambda o: "to exist" if o else "not to exist",
            judges_missing=True,
        ),
        Operator(
            "type",
            _a_json_type,
            lambda: {"type": "string", "enum": list(JSON_TYPES)},
            _has_type,
            lambda o: f"type {o}",
        ),
        Operator("len", _a_length, _length_schema, _has_length, _length_words, shown=_length_text),
    )
}
