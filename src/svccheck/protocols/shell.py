"""Pure: command lines that reproduce a check, with no secret in them (every protocol's `reproduce`).

A secret that came from a manifest variable (``${SMOKE_TOKEN}``) is written as
a shell reference to the same name (``"${SMOKE_TOKEN}"``), so the line works in
a shell where that variable is set. A secret with no variable behind it (a
literal token in the manifest, a URL password) becomes a placeholder variable,
``$SVCCHECK_SECRET_1``…, that the reader sets by hand. The value itself is
never written.

Words are quoted for POSIX shells: literal text in single quotes
(`shlex.quote`), variable references in double quotes so they still expand.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from svccheck.model import ClientCertificate

PLACEHOLDER_PREFIX = "SVCCHECK_SECRET_"
# Matching short values everywhere would rewrite ordinary text; in a secret place any length counts.
_MIN_VALUE_LENGTH = 4
# Characters that keep their literal meaning inside double quotes (no $ ` \ " !).
_PLAIN_IN_DOUBLE_QUOTES = re.compile(r"[^$`\\\"!]*")

# A word is a sequence of literal text and variable references.
_Part = tuple[str, str]  # ("text", "...") or ("var", "NAME")


@dataclass(frozen=True)
class Reproduction:
    """A command line that does what a check did, with no secret in it."""

    line: str
    # variables the line refers to: (NAME, where the secret sits), manifest variables first
    variables: tuple[tuple[str, str], ...] = ()

    @property
    def placeholders(self) -> tuple[tuple[str, str], ...]:
        """Variables with no manifest variable behind them: the reader has to set them."""
        return tuple((n, w) for n, w in self.variables if n.startswith(PLACEHOLDER_PREFIX))


@dataclass
class ShellSecrets:
    by_value: Mapping[str, str]  # secret value -> variable name
    values: tuple[str, ...]  # every secret value, longest first
    placeholders: dict[str, str] = field(default_factory=dict)  # value -> placeholder name
    used: dict[str, str] = field(default_factory=dict)  # variable name -> where

    def name_for(self, value: str, where: str) -> str:
        name = self.by_value.get(value)
        if name is None:
            name = self.placeholders.get(value)
            if name is None:
                name = f"{PLACEHOLDER_PREFIX}{len(self.placeholders) + 1}"
                self.placeholders[value] = name
        self.used.setdefault(name, where)
        return name

    @classmethod
    def of(cls, secret_vars: Mapping[str, str], secrets: Iterable[str]) -> ShellSecrets:
        """`secret_vars` maps secret values to the variable each came from; `secrets` lists every one."""
        return cls(by_value=secret_vars, values=tuple(sorted(set(secrets), key=len, reverse=True)))

    @property
    def variables(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.used.items())

    def split(self, text: str, where: str, place_secrets: Iterable[str] = ()) -> list[_Part]:
        """`text` with every secret value in it turned into a variable reference."""
        local = {v for v in place_secrets if v}
        # Variables first: "Bearer ${TOKEN}" keeps its literal "Bearer " rather than
        # disappearing into a placeholder for the whole header value.
        candidates = sorted(
            {v for v in (*self.by_value, *self.values) if len(v) >= _MIN_VALUE_LENGTH or v in local} | local,
            key=lambda v: (v not in self.by_value, -len(v)),
        )
        parts: list[_Part] = [("text", text)]
        for value in candidates:
            next_parts: list[_Part] = []
            for kind, content in parts:
                if kind != "text" or value not in content:
                    next_parts.append((kind, content))
                    continue
                pieces = content.split(value)
                for index, piece in enumerate(pieces):
                    if index:
                        next_parts.append(("var", self.name_for(value, where)))
                    if piece:
                        next_parts.append(("text", piece))
            parts = next_parts
        return parts


def shell_word(parts: list[_Part]) -> str:
    """One shell word: literals quoted, variable references left to expand."""
    if all(kind == "text" for kind, _ in parts):
        return shlex.quote("".join(content for _, content in parts))
    if all(kind == "var" or _PLAIN_IN_DOUBLE_QUOTES.fullmatch(content) for kind, content in parts):
        inner = "".join(content if kind == "text" else "${" + content + "}" for kind, content in parts)
        return f'"{inner}"'
    # Awkward literal characters: concatenate single-quoted text and double-quoted references.
    return "".join(
        shlex.quote(content) if kind == "text" else '"${' + content + '}"' for kind, content in parts
    )


def client_certificate_words(
    client: ClientCertificate, known: ShellSecrets, *, cert: str, key: str, password: str | None
) -> list[str]:
    """`--cert FILE --key FILE` (each tool's own flags): the files named, never read. A passphrase is
    a variable reference whatever it came from (`--pass "${CLIENT_KEY_PASSWORD}"`)."""
    words = [cert, shlex.quote(client.cert), key, shlex.quote(client.key)]
    if client.password is not None and password is not None:
        words += [
            password,
            shell_word(known.split(client.password, "client_key_password", [client.password])),
        ]
    return words
