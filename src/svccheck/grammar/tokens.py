"""The text forms of typed values, declared once: the loader parses with them, the schema quotes them.

A `${VAR}` always expands to text, so a number or boolean field also reads a
text form (`retries: "3"`, `critical: "yes"`). Each form is one `Token`: the
loader matches the value against it, and the JSON Schema carries the same
pattern, so the two cannot drift apart (they did: the schema refused
`status: "2XX"`, `" 2xx"`, `critical: "yes "` that the loader took).

Every pattern is written in the subset of regular expressions that Python's
`re` and ECMA-262 (what editors' YAML language servers run) read the same way:
character classes, groups, `?`, `*`, `+`, `|`, one lookahead, no flags. JSON
Schema has no case-insensitive flag, so a word in any case is `[tT][rR]...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

# Space, tab and line breaks around a value are dropped (a `${VAR}` read from a file often ends
# with a newline); other Unicode spaces are not: Python's str.strip() and ECMA's \s disagree on them.
WHITESPACE = "[ \\t\\r\\n]"
_STRIP = " \t\r\n"

# `${capture.NAME}` as interpolation leaves it (`$${` was a literal `${` there, and is one here
# too); the probing process fills it in from here, without the manifest's grammar (grammar.auth)
CAPTURE_REFERENCE = re.compile(r"\$\{\s*capture\.([^{}\s]*)\s*\}")


@dataclass(frozen=True)
class Token:
    """A text form: `body` is the value itself; surrounding whitespace is allowed when `padded`."""

    body: str
    padded: bool = True

    @cached_property
    def _compiled(self) -> re.Pattern[str]:
        # on first use: `svccheck schema` and a manifest without text forms compile none
        return re.compile(self.pattern)

    @property
    def pattern(self) -> str:
        """Anchored, as JSON Schema's `pattern` (which searches) needs it."""
        if self.padded:
            return f"^{WHITESPACE}*({self.body}){WHITESPACE}*$"
        return f"^({self.body})$"

    def read(self, text: str) -> str | None:
        """The value without its padding when `text` has this form, else None."""
        # fullmatch: in Python `$` also matches before a final newline, which a search would allow
        if self._compiled.fullmatch(text) is None:
            return None
        return strip(text) if self.padded else text


def strip(text: str) -> str:
    return text.strip(_STRIP)


def any_case(word: str) -> str:
    """`tcp` → `[tT][cC][pP]`: the word in any case, as a pattern."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else _escape(c) for c in word)


def words(*choices: str) -> str:
    return "|".join(any_case(word) for word in choices)


def _escape(char: str) -> str:
    return "\\" + char if char in "\\^$.|?*+()[]{}/-" else char


def int_range(low: int, high: int) -> str:
    """A pattern for the decimal integers from `low` to `high` (no sign, no leading zeros)."""
    parts: list[str] = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        hi = min(high, 10**digits - 1)
        if lo <= hi:
            parts.extend(_same_length(str(lo), str(hi)))
    return "|".join(parts)


def _same_length(lo: str, hi: str) -> list[str]:
    if lo == hi:
        return [lo]
    if len(lo) == 1:
        return [f"[{lo}-{hi}]"]
    rest = len(lo) - 1
    if lo[0] == hi[0]:
        return [f"{lo[0]}({'|'.join(_same_length(lo[1:], hi[1:]))})"]
    parts: list[str] = []
    first, last = int(lo[0]), int(hi[0])
    if lo[1:] != "0" * rest:
        parts.append(f"{lo[0]}({'|'.join(_same_length(lo[1:], '9' * rest))})")
        first += 1
    tail = hi[1:] != "9" * rest
    if tail:
        last -= 1
    if first <= last:
        digit = str(first) if first == last else f"[{first}-{last}]"
        parts.append(digit + "[0-9]" * rest)
    if tail:
        parts.append(f"{hi[0]}({'|'.join(_same_length('0' * rest, hi[1:]))})")
    return parts


def integer(low: int, high: int) -> Token:
    """An integer as text: an optional `+`, leading zeros, and `.0` are taken ("3", "+3", "3.0");
    an exponent ("1e1"), a `_` and other scripts' digits are not: they read as numbers only by
    accident of Python's float()."""
    return Token(f"\\+?0*({int_range(low, high)})(\\.0*)?")


# any whole number as text, in or out of a field's bounds: for the message that names the bounds
WHOLE_NUMBER = Token("\\+?[0-9]+(\\.0*)?")

BOOLEAN_TRUE = ("true", "yes", "on", "t", "y", "1")
BOOLEAN_FALSE = ("false", "no", "off", "f", "n", "0")
TRUE = Token(words(*BOOLEAN_TRUE))
FALSE = Token(words(*BOOLEAN_FALSE))
BOOLEAN = Token(words(*BOOLEAN_TRUE, *BOOLEAN_FALSE))

_NUMBER = "[0-9]+(\\.[0-9]+)?"
_UNIT = "[mM][sS]|[sSmMhH]"  # ms before m, so `1m30s` and `250ms` both read
DURATION = Token(f"({_NUMBER}({_UNIT}))+|{_NUMBER}")
# the same, with a digit other than 0 somewhere: a duration above zero
POSITIVE_DURATION = Token(f"(?=[^ \\t\\r\\n]*[1-9])({DURATION.body})")

STATUS_CLASS = Token("[1-5][xX][xX]")  # "2xx", "2XX"
STATUS_CODE = integer(100, 599)

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
METHOD = Token(words(*HTTP_METHODS))

# Service names end up in reports, metric labels and file names: keep them plain.
SERVICE_NAME = Token("[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", padded=False)
# a CA bundle path: any text with something in it
NOT_BLANK = Token("[\\s\\S]*[^ \\t\\r\\n][\\s\\S]*", padded=False)  # [\s\S]: any character, in both dialects
