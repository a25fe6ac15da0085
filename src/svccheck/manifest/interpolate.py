"""``${NAME}`` and ``${NAME:-default}`` in string values.

Resolution order: ``--var``, the process environment, the file named by
``NAME_FILE``, the selected environment's ``vars``, the top-level ``vars``. ``$${`` writes a literal ``${``.
Values of variables whose name looks secret are collected so every output can
mask them.

Secrets handed over as files (`/run/secrets/x`, as containers and orchestrators do):
``${file:/run/secrets/smoke}`` is the file's text without its trailing newline, and a
variable ``NAME`` set nowhere falls back to the file named by ``NAME_FILE``; both are
secrets whatever their names. A file that cannot be read is an error naming the file,
never quoting it. ``${capture.NAME}`` is left as it is: a value another check captures
at run time (`svccheck.engine.captures`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_REFERENCE = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASS|KEY|AUTH|COOKIE|CREDENTIAL", re.IGNORECASE)
_MAX_DEPTH = 10
CAPTURE_PREFIX = "capture."
FILE_PREFIX = "file:"
# A secret file is a token or a password: far below this. A bigger one is a wrong path
# (a log, a disk image) that would otherwise be read whole into every check's headers.
MAX_SECRET_FILE_BYTES = 64 * 1024


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


class InterpolationError(ValueError):
    pass


@dataclass
class Resolver:
    """Looks names up in order; `layers` are (mapping, values-may-nest) pairs."""

    cli_vars: Mapping[str, str]
    environ: Mapping[str, str]
    env_vars: Mapping[str, object]
    top_vars: Mapping[str, object]
    secrets: set[str] = field(default_factory=set)
    # secret value -> the variable it came from, so a reproduction can say `$NAME` instead
    secret_names: dict[str, str] = field(default_factory=dict)
    # where a relative `${file:…}` path is read from: the manifest's directory
    base_dir: Path = field(default_factory=Path)

    def lookup(self, name: str, stack: tuple[str, ...]) -> str | None:
        if name in self.cli_vars:
            value = self.cli_vars[name]
        elif name in self.environ:
            value = self.environ[name]
        elif file_name := self.cli_vars.get(f"{name}_FILE") or self.environ.get(f"{name}_FILE"):
            # before the manifest's `vars`: those are defaults, the file is what the container got
            value = self._secret_file(file_name, f"{name}_FILE")
            if value:
                self.secret_names.setdefault(value, name)
            return value
        elif name in self.env_vars:
            value = self._nested(name, self.env_vars[name], stack)
        elif name in self.top_vars:
            value = self._nested(name, self.top_vars[name], stack)
        else:
            return None
        if is_secret_name(name) and value:
            self.secrets.add(value)
            self.secret_names.setdefault(value, name)
        return value

    def _secret_file(self, file_name: str, via: str) -> str:
        """The text of a secret file, its trailing newline stripped; a secret however it is named."""
        if not file_name:
            raise InterpolationError(f"{via}: no file named")
        path = Path(file_name).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_SECRET_FILE_BYTES + 1)
        except OSError as exc:  # the message names the file and why, never what it holds
            raise InterpolationError(
                f"cannot read secret file {file_name!r} ({via}): {exc.strerror or type(exc).__name__}"
            ) from None
        if len(raw) > MAX_SECRET_FILE_BYTES:
            raise InterpolationError(
                f"secret file {file_name!r} ({via}) is larger than {MAX_SECRET_FILE_BYTES // 1024} KiB"
            )
        try:
            value = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InterpolationError(f"secret file {file_name!r} ({via}) is not UTF-8 text") from None
        value = value.removesuffix("\n").removesuffix("\r")
        if value:
            self.secrets.add(value)
        return value

    def _nested(self, name: str, raw: object, stack: tuple[str, ...]) -> str:
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if not isinstance(raw, str):
            return str(raw)
        if name in stack:
            raise InterpolationError(f"variable cycle: {' -> '.join((*stack, name))}")
        return self.expand(raw, (*stack, name))

    def expand(self, text: str, stack: tuple[str, ...] = ()) -> str:
        if "$" not in text:
            return text
        if len(stack) > _MAX_DEPTH:
            raise InterpolationError("variables nest too deeply")

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            inner = match.group(1)
            if inner.startswith(FILE_PREFIX):
                return self._secret_file(inner[len(FILE_PREFIX) :].strip(), "${file:…}")
            if inner.strip().startswith(CAPTURE_PREFIX):
                return match.group(0)  # filled at run time with what another check captured
            name, sep, default = inner.partition(":-")
            name = name.strip()
            if not _NAME.fullmatch(name):
                raise InterpolationError(f"bad variable reference ${{{inner}}}")
            value = self.lookup(name, stack)
            if value is None:
                if sep:
                    fallback = self.expand(default, stack)
                    # a secret-named variable's value is a secret whichever source it came from
                    if is_secret_name(name) and fallback:
                        self.secrets.add(fallback)
                        self.secret_names.setdefault(fallback, name)
                    return fallback
                raise InterpolationError(
                    f"undefined variable ${{{name}}}: set it with --var {name}=..., "
                    "in the environment, or under vars"
                )
            return value

        result = _REFERENCE.sub(replace, text)
        if "${" in _REFERENCE.sub("", text):
            raise InterpolationError(f"unterminated variable reference in {text!r}")
        return result


def interpolate_tree(
    data: Any,
    resolver: Resolver,
    path: tuple[str | int, ...],
    errors: list[tuple[tuple[str | int, ...], str]],
) -> Any:
    """A copy of `data` with every string expanded; failures are appended to `errors`."""
    if isinstance(data, str):
        try:
            return resolver.expand(data)
        except InterpolationError as exc:
            errors.append((path, str(exc)))
            return data
    if isinstance(data, dict):
        return {k: interpolate_tree(v, resolver, (*path, k), errors) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate_tree(v, resolver, (*path, i), errors) for i, v in enumerate(data)]
    return data
