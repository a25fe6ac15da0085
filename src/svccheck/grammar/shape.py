"""A small typed-mapping validator: every problem at once, each with its location.

The manifest's shape (`svccheck.grammar.schema`) is declared with these parts,
and the same declaration yields both the validation and the JSON Schema.
svccheck validates one small document per run, so a validation library would
cost more than it saves: pydantic alone took ~100 ms of start-up and ~18 MB
of memory, more than the rest of the loader and the probing of a small fleet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from svccheck.grammar import tokens

Loc = tuple[str | int, ...]
Json = dict[str, Any]
# A string that interpolation may turn into anything: the schema accepts it wherever a value goes.
INTERPOLATED: Json = {"$ref": "#/$defs/Interpolated"}


class Invalid(ValueError):
    """A value is wrong; the message is shown after the value's location."""


@dataclass(frozen=True)
class Problem:
    """One problem a shape found in a value, at its place in the manifest."""

    loc: Loc
    message: str  # after "LOC: " for a value; whole for an unknown key
    on_key: bool = False  # point at the key (unknown keys) rather than the value
    point: Loc | None = None  # where to point, when not at `loc` (a missing key: its mapping)


class _Missing:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Missing()  # what a kind returns for a value it reported a problem for


class Kind:
    """How to read one value, and how to describe it in JSON Schema."""

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        raise NotImplementedError

    def schema(self, defs: dict[str, Json]) -> Json:
        raise NotImplementedError


class Scalar(Kind):
    """A value read by one function that raises `Invalid` with the reason."""

    def __init__(self, parse: Callable[[Any], Any], schema: Json) -> None:
        self._parse = parse
        self._schema = schema

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        try:
            return self._parse(value)
        except Invalid as exc:
            problems.append(Problem(loc, str(exc)))
            return INVALID

    def schema(self, defs: dict[str, Json]) -> Json:
        return dict(self._schema)


class Nullable(Kind):
    def __init__(self, inner: Kind) -> None:
        self.inner = inner

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        return None if value is None else self.inner.read(value, loc, problems)

    def schema(self, defs: dict[str, Json]) -> Json:
        return {"anyOf": [self.inner.schema(defs), {"type": "null"}]}


class ListOf(Kind):
    def __init__(self, item: Kind) -> None:
        self.item = item

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if not isinstance(value, list):
            problems.append(Problem(loc, f"expected a list, got {describe(value)}"))
            return INVALID
        return [self.item.read(item, (*loc, index), problems) for index, item in enumerate(value)]

    def schema(self, defs: dict[str, Json]) -> Json:
        return {"type": "array", "items": self.item.schema(defs)}


class MapOf(Kind):
    """A mapping with free keys (header names, JSONPaths, service names)."""

    def __init__(
        self,
        value: Kind,
        extra_schema: Json | None = None,
        key_problem: Callable[[str], str | None] | None = None,
    ) -> None:
        self.value = value
        self.extra_schema = extra_schema or {}
        self.key_problem = key_problem  # why a key cannot be used (a header name), or None

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            problems.append(Problem(loc, f"expected a mapping, got {describe(value)}"))
            return INVALID
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(
                    Problem((*loc, key), f"expected a text key, got {describe(key)}", on_key=True)
                )
                continue
            why = self.key_problem(key) if self.key_problem is not None else None
            if why is not None:
                problems.append(Problem((*loc, key), why, on_key=True))
            out[key] = self.value.read(item, (*loc, key), problems)
        return out

    def schema(self, defs: dict[str, Json]) -> Json:
        return {"type": "object", "additionalProperties": self.value.schema(defs), **self.extra_schema}


class Before(Kind):
    """Rewrite a value before reading it (e.g. a shorthand into its long form)."""

    def __init__(self, rewrite: Callable[[Any], Any], inner: Kind, schema: Callable[[Json], Json]) -> None:
        self._rewrite = rewrite
        self.inner = inner
        self._schema = schema

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        return self.inner.read(self._rewrite(value), loc, problems)

    def schema(self, defs: dict[str, Json]) -> Json:
        return self._schema(self.inner.schema(defs))


@dataclass(frozen=True)
class Field:
    """One key a mapping of the manifest takes: its kind, default, documentation and JSON Schema."""

    key: str  # as written in the manifest
    kind: Kind
    default: Any = None  # a callable for a fresh mutable default
    required: bool = False
    description: str = ""
    examples: Sequence[Any] = ()
    attr: str = ""  # the attribute on the spec object; defaults to `key`
    schema_extra: Json = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.attr or self.key


class Spec:
    """A validated mapping: its fields as attributes, and which keys were written."""

    FIELDS: ClassVar[tuple[Field, ...]] = ()
    TITLE: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    written: frozenset[
        str
    ]  # the keys written in the file, as written (`json`, where the attribute is `json_`)
    unknown: frozenset[str]

    def __init__(
        self, values: Mapping[str, Any], written: frozenset[str], unknown: frozenset[str] = frozenset()
    ) -> None:
        self.__dict__.update(values)
        self.written = written
        # keys the shape refused: a rule about a missing key stays quiet, one of them may be it
        self.unknown = unknown

    def value(self, name: str) -> Any:
        """A field the spec class does not declare itself: a protocol's own key (`Shape(extra=…)`)."""
        return self.__dict__.get(name)


S = TypeVar("S", bound=Spec)


class Shape(Kind, Generic[S]):
    """A mapping with a fixed set of keys, read into a `Spec` subclass."""

    def __init__(self, spec: type[S], *, extra: Sequence[Field] = (), replace: Sequence[Field] = ()) -> None:
        """`extra`: fields beyond the spec class's own (the keys each protocol declares for its
        services); `replace`: fields that stand for the class's own of the same key."""
        self.spec = spec
        replaced = {f.key: f for f in replace}
        self.fields: tuple[Field, ...] = (*(replaced.get(f.key, f) for f in spec.FIELDS), *extra)
        self.by_key = {f.key: f for f in self.fields}
        # Worked out once: a manifest reads one Shape per service and per check.
        self._defaults = {
            f.name: f.default for f in self.fields if not f.required and not callable(f.default)
        }
        self._factories = [f for f in self.fields if callable(f.default)]
        self._required = [f for f in self.fields if f.required]

    @property
    def keys(self) -> list[str]:
        return list(self.by_key)

    def read(self, value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            problems.append(Problem(loc, f"expected a mapping, got {describe(value)}"))
            return INVALID
        values = dict(self._defaults)
        written: set[str] = set()  # keys, as written
        unknown: set[str] = set()
        for key, item in value.items():
            f = self.by_key.get(key)
            if f is None:
                problems.append(Problem((*loc, key), self._unknown(key, loc), on_key=True))
                unknown.add(str(key))
                continue
            values[f.name] = f.kind.read(item, (*loc, key), problems)
            written.add(key)
        for f in self._factories:
            if f.key not in written:
                values[f.name] = f.default()
        for f in self._required:
            if f.key not in written:
                problems.append(Problem((*loc, f.key), f"missing required key {f.key!r}", point=loc))
                values[f.name] = INVALID
        return self.spec(values, frozenset(written), frozenset(unknown))

    def _unknown(self, key: object, loc: Loc) -> str:
        import difflib  # only when something is misspelt

        where = dotted(loc) or "top level"
        message = f"unknown key {str(key)!r} in {where}"
        hint = difflib.get_close_matches(str(key), self.keys, n=1, cutoff=0.6)
        if hint:
            return f"{message} (did you mean {hint[0]!r}?)"
        return f"{message}; allowed: {', '.join(self.keys)}"

    def schema(self, defs: dict[str, Json]) -> Json:
        name = self.spec.__name__
        if name not in defs:
            defs[name] = {}  # placeholder: shapes may refer to themselves
            properties: Json = {}
            for f in self.fields:
                prop = f.kind.schema(defs)
                if f.description:
                    prop["description"] = f.description
                if f.examples:
                    prop["examples"] = list(f.examples)
                if not f.required and not callable(f.default):
                    prop["default"] = f.default
                prop.update(f.schema_extra)
                properties[f.key] = prop
            body: Json = {"type": "object", "properties": properties, "additionalProperties": False}
            required = [f.key for f in self.fields if f.required]
            if required:
                body["required"] = required
            if self.spec.TITLE:
                body["title"] = self.spec.TITLE
            if self.spec.DESCRIPTION:
                body["description"] = self.spec.DESCRIPTION
            defs[name] = body
        return {"$ref": f"#/$defs/{name}"}


def read_document(shape: Shape[S], data: Any) -> tuple[S | None, list[Problem]]:
    """The spec and every problem; the spec even with problems (its refused values read as
    `INVALID`), so the rules that follow report theirs in the same run. None for a non-mapping."""
    problems: list[Problem] = []
    spec = shape.read(data, (), problems)
    return (spec if isinstance(spec, shape.spec) else None), problems


# --- scalars ---------------------------------------------------------------------------------


def parse_bool(value: Any) -> bool:
    """true/false, 0/1, or what a `${VAR}` may hold: the words of `tokens.BOOLEAN`, any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):  # 1.0 too: JSON Schema's enum cannot tell
        return bool(value)
    if isinstance(value, str):
        if tokens.TRUE.read(value) is not None:
            return True
        if tokens.FALSE.read(value) is not None:
            return False
    raise Invalid(f"expected true or false, got {describe(value)}")


BOOLEAN_SCHEMA: Json = {
    "anyOf": [
        {"type": "boolean"},
        {"enum": [0, 1]},
        {"type": "string", "pattern": tokens.BOOLEAN.pattern},
        INTERPOLATED,
    ]
}


def whole_number(value: Any) -> int | None:
    """An integer however it is written (native, `3.0`, text), regardless of bounds; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (text := tokens.WHOLE_NUMBER.read(value)) is not None:
        return int(float(text))
    return None


def integer(low: int, high: int) -> Callable[[Any], int]:
    """An integer within bounds; a `${VAR}` arrives as text, so "3" reads as 3."""
    form = tokens.integer(low, high)

    def parse(value: Any) -> int:
        number = whole_number(value)
        if number is None:
            raise Invalid(f"expected an integer, got {describe(value)}")
        if not low <= number <= high or (isinstance(value, str) and form.read(value) is None):
            raise Invalid(f"expected an integer between {low} and {high}, got {number}")
        return number

    return parse


def integer_kind(low: int, high: int) -> Scalar:
    """An integer field from `low` to `high`: its parser and its schema from one pair of bounds."""
    return Scalar(integer(low, high), integer_schema(low, high))


def integer_schema(low: int, high: int) -> Json:
    return {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high},
            {"type": "string", "pattern": tokens.integer(low, high).pattern},
            INTERPOLATED,
        ]
    }


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {describe(value)}")
    return value


def anything(value: Any) -> Any:
    return value


def one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise Invalid(f"expected {' or '.join(repr(c) for c in choices)}, got {describe(value)}")
        return str(value)

    return parse


# --- messages --------------------------------------------------------------------------------


def describe(value: object) -> str:
    """A value's kind in words, with the value when it is short."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return f"a string ({value!r})" if len(str(value)) < 60 else "a string"


def dotted(loc: Loc) -> str:
    """`("services", "api", "checks", 0, "path")` → `services.api.checks[0].path`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        shown = part if _plain(part) else repr(part)
        out += f".{shown}" if out else shown
    return out


def _plain(key: str) -> bool:
    return bool(key) and all(c.isalnum() or c in "_$@.-[]*?:()'\" " for c in key)
