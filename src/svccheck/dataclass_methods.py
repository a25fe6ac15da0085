"""The methods `@dataclass` writes for each class, compiled once per install, not on every start.

`dataclasses` writes a class's `__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__` and `__delattr__` as source text and compiles it with `exec` while
the module that defines the class is imported. A checking run defines 62 classes
that way: 331 compilations, 35 ms of CPU before the first request leaves (about
a third of svccheck's own start-up; Python 3.13 compiles a class's methods in
one go, 3.11 one by one). The text is the same on every start, so the compiled
code is kept in a marshal file in the package's bytecode cache, beside its .pyc
files (`startup_cache`): loading all 331 takes 1-2 ms.

The compiled code is exactly what `exec` would compile (same text, same flags),
so a class behaves the same whether its methods came from the file or not.
"""

from __future__ import annotations

from svccheck import startup_cache

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
        self._table = startup_cache.Table(path, _is_method_table, lambda: MOST_ENTRIES)

    @property
    def path(self) -> str | None:
        return self._table.path

    @path.setter
    def path(self, path: str | None) -> None:
        self._table.path = path

    @property
    def compiled(self) -> int:
        """How many sources this process had to compile (the tests read it)."""
        return self._table.compiled

    def exec(self, source: str | CodeType, globals: Any = None, locals: Any = None) -> None:
        if not isinstance(source, str):
            exec(source, globals, locals)  # a code object: run as given
            return
        code = self._table.get(source)
        if code is None:
            # dont_inherit: compiled as dataclasses' own `exec` would, without this module's __future__ flags
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self._table.put(source, code)
        exec(code, globals, locals)  # type: ignore[arg-type]  # a code object: `_is_method_table` saw to it

    def save(self) -> None:
        """Write the file if this process compiled anything; quietly not, where it cannot be written."""
        self._table.save()


def _is_method_table(values: object) -> bool:
    code_type = type(_is_method_table.__code__)
    return isinstance(values, dict) and all(
        type(k) is str and type(v) is code_type for k, v in values.items()
    )


def encode(codes: dict[str, CodeType]) -> bytes:
    """The file: this Python's magic number, a CRC-32 of the table, the table (marshal)."""
    return startup_cache.encode(codes)


def decode(data: bytes) -> dict[str, CodeType]:
    """The table in `data`; nothing if it is another Python's, damaged (the CRC), or not a table of code."""
    return startup_cache.decode(data, _is_method_table)  # type: ignore[return-value]


def default_path() -> str | None:
    """Beside this module's .pyc, e.g. …/svccheck/__pycache__/dataclass_methods.cpython-311.marshal."""
    return startup_cache.path_beside(__file__)


_installed: MethodCache | None = None  # the process's cache, once `install` has routed dataclasses to it


def install() -> None:
    """Route the `exec` calls of `dataclasses` through the cache, before svccheck defines a class.

    Installed by the `svccheck` command (`__main__`) only, not by `import svccheck`.
    """
    global _installed
    import dataclasses

    if _installed is None:
        _installed = MethodCache(default_path())
        startup_cache.save_at_exit(_installed.save)
        # `dataclasses` calls `exec` by its global name; a module global of that name comes before the builtin
        dataclasses.exec = _installed.exec  # type: ignore[attr-defined]
