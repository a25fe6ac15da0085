"""The methods `@dataclass` writes for each class, compiled once per install, not on every start.

`dataclasses` writes a class's `__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__` and `__delattr__` as source text and compiles it with `exec` while
the module that defines the class is imported. A checking run defines 62 classes
that way: 331 compilations, 35 ms of CPU before the first request leaves (about
a third of svccheck's own start-up; Python 3.13 compiles a class's methods in
one go, 3.11 one by one). The text is the same on every start, so the compiled
code is kept in a marshal file in the package's bytecode cache, beside its .pyc
files: loading all 331 takes 1-2 ms.

The compiled code is exactly what `exec` would compile (same text, same flags),
so a class behaves the same whether its methods came from the file or not; the
file is only a cache. Like a .pyc it is not written under
PYTHONDONTWRITEBYTECODE, nor where the package cannot be written to, and a
file that cannot be read, or was written by another Python, is ignored.
"""

from __future__ import annotations

import binascii
import contextlib
import marshal
import os
import sys
from pathlib import Path

TYPE_CHECKING = False  # `typing` is not loaded yet when __main__ installs this
if TYPE_CHECKING:
    from types import CodeType
    from typing import Any

# Entries another command's classes wrote are kept (`serve` defines others than `all`),
# but not forever: past this many, a save keeps only what its own run used.
MOST_ENTRIES = 2048


class MethodCache:
    """Compiled `exec` sources, by their text, loaded from `path` on first use and saved on request."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._codes: dict[str, CodeType] | None = None
        self._used: set[str] = set()
        self.compiled = 0  # how many sources this process had to compile (the tests read it)

    def exec(self, source: str | CodeType, globals: Any = None, locals: Any = None) -> None:
        if not isinstance(source, str):
            exec(source, globals, locals)  # a code object: run as given
            return
        codes = self._load()
        code = codes.get(source)
        if code is None:
            # dont_inherit: compiled as dataclasses' own `exec` would, without this module's __future__ flags
            code = codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
            self.compiled += 1
        self._used.add(source)
        exec(code, globals, locals)

    def save(self) -> None:
        """Write the file if this process compiled anything; quietly not, where it cannot be written."""
        if not self.compiled or self.path is None or sys.dont_write_bytecode or self._codes is None:
            return
        # what another svccheck process saved since (the child that read the command line, a run in
        # parallel), then ours; dict() is one step under the GIL: a later-imports thread may still add
        codes = {**self._read(), **dict(self._codes)}
        if len(codes) > MOST_ENTRIES:
            codes = {text: code for text, code in codes.items() if text in self._used}
        path = Path(self.path)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: a name planted in a shared cache directory (a symlink) is refused, not followed
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as file:
                file.write(encode(codes))
            partial.replace(path)  # another process saving at once: the last one wins, whole
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()
            return
        self.compiled = 0

    def _load(self) -> dict[str, CodeType]:
        if self._codes is None:
            self._codes = self._read()
        return self._codes

    def _read(self) -> dict[str, CodeType]:
        if self.path is None:
            return {}
        try:
            return decode(Path(self.path).read_bytes())
        except OSError:  # absent or unreadable
            return {}


def encode(codes: dict[str, CodeType]) -> bytes:
    """The file: this Python's magic number, a CRC-32 of the table, the table (marshal)."""
    from importlib.util import MAGIC_NUMBER

    table = marshal.dumps(codes)
    return MAGIC_NUMBER + binascii.crc32(table).to_bytes(4, "little") + table


def decode(data: bytes) -> dict[str, CodeType]:
    """The table in `data`; nothing if it is another Python's, damaged (the CRC), or not a table of code."""
    from importlib.util import MAGIC_NUMBER

    head, crc, table = data[:4], data[4:8], data[8:]
    if head != MAGIC_NUMBER or len(crc) < 4 or binascii.crc32(table) != int.from_bytes(crc, "little"):
        return {}  # marshal is not meant for damaged input: it is never given any
    try:
        codes = marshal.loads(table)
    except Exception:  # a table of this Python's that still does not load
        return {}
    code_type = type(decode.__code__)
    if type(codes) is not dict or not all(type(k) is str and type(v) is code_type for k, v in codes.items()):
        return {}
    return codes


def default_path() -> str | None:
    """Beside this module's .pyc, e.g. …/svccheck/__pycache__/dataclass_methods.cpython-311.marshal."""
    from importlib.util import cache_from_source

    try:  # honours PYTHONPYCACHEPREFIX, as the .pyc files do
        pyc = cache_from_source(__file__)
    except (NotImplementedError, ValueError):  # no cache tag: an interpreter without bytecode caching
        return None
    return pyc.removesuffix(".pyc") + ".marshal"


_installed: MethodCache | None = None  # the process's cache, once `install` has routed dataclasses to it


def install() -> None:
    """Route the `exec` calls of `dataclasses` through the cache, before svccheck defines a class.

    Installed by the `svccheck` command (`__main__`) only, not by `import svccheck`.
    The path costs nothing more: typer, and reading the file, import importlib.util anyway.
    """
    global _installed
    import dataclasses

    if _installed is None:
        _installed = MethodCache(default_path())
        # `dataclasses` calls `exec` by its global name; a module global of that name comes before the builtin
        dataclasses.exec = _installed.exec  # type: ignore[attr-defined]


def save() -> None:
    """Write what this process compiled (the `svccheck` command calls it on its way out)."""
    if _installed is not None:
        _installed.save()
