"""The programs `re` compiles for each pattern, compiled once per install, not on every start.

`re` parses each pattern it has not seen in this process and compiles it into
a program for its matching engine (`_sre`), in pure Python. A checking run's two
processes compile 150-200 patterns that way before the first request leaves:
PyYAML's reader alone compiles one (the printable characters) that takes 3 ms,
and all of them take ~7 ms in the process that reads the manifest and ~6 ms in
the one that probes. The program depends only on the pattern, its flags and
the Python, so it is kept (`startup_cache`) and handed to `_sre.compile` on the
next start; loading ~120 of them takes 0.2 ms.

Only patterns compiled while a module is imported are kept: those are the
code's own. One compiled later may be made from a manifest (a `matches:`
operand, a schema's `pattern`, secrets interpolated in): it is compiled as
always and never written to the file.

A pattern made from a kept program is the one `re` would make: `_sre` checks
every program it is given, and `Pattern.__eq__` compares programs, which the
tests use. Only what `re` itself would cache is kept (no `re.DEBUG`), and where
this Python's `re` is not laid out as expected nothing is installed.
"""

from __future__ import annotations

from svccheck import startup_cache

TYPE_CHECKING = False  # `typing` is not loaded yet when __main__ installs this
if TYPE_CHECKING:
    from collections.abc import Callable
    from re import Pattern
    from typing import Any


# past this many, a save keeps only what its own run used (patterns built from input come and go)
MOST_ENTRIES = 1024


class ProgramCache:
    """`re._compiler.compile` for text and bytes patterns, its programs kept in `path`."""

    def __init__(self, path: str | None, keeps: Callable[[], bool] | None = None) -> None:
        self._table = startup_cache.Table(path, _is_program_table, lambda: MOST_ENTRIES)
        self._keeps = keeps or _importing  # whether the pattern being compiled may be kept
        import importlib

        # `re`'s own parts (no type stubs): the compiler, its parser, the engine
        self._compiler: Any = importlib.import_module("re._compiler")
        self._parser: Any = importlib.import_module("re._parser")
        self._sre: Any = importlib.import_module("_sre")
        self._real = self._compiler.compile

    @property
    def compiled(self) -> int:
        """How many patterns this process had to compile (the tests read it)."""
        return self._table.compiled

    def compile(self, pattern: Any, flags: int = 0) -> Pattern[Any]:
        debug = self._compiler.SRE_FLAG_DEBUG
        if type(pattern) not in (str, bytes) or not isinstance(flags, int) or flags & debug:
            return self._real(pattern, flags)  # type: ignore[no-any-return]
        flags = int(flags)  # `re.compile` hands over plain ints; a caller of its own may pass a RegexFlag
        key = (pattern, flags)
        program: Any = self._table.get(key)  # a tuple of `_program`'s, `_is_program_table` saw to it
        if program is None:
            if not self._keeps():
                # a pattern made at run time may come from the manifest (`matches:`, a schema's
                # `pattern`), secrets interpolated into it: it is compiled, never written down
                return self._real(pattern, flags)  # type: ignore[no-any-return]
            program = self._program(pattern, flags)
            self._table.put(key, program)
        try:
            return self._sre.compile(pattern, *program)  # type: ignore[no-any-return]
        except (RuntimeError, TypeError):  # "invalid SRE code", or another `_sre`: never from this Python
            return self._real(pattern, flags)  # type: ignore[no-any-return]

    def _program(self, pattern: str | bytes, flags: int) -> tuple[object, ...]:
        """What `re._compiler.compile` hands `_sre.compile` after the pattern (CPython 3.11-3.13)."""
        parsed = self._parser.parse(pattern, flags)
        code = self._compiler._code(parsed, flags)
        groupindex = parsed.state.groupdict
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        # plain ints: the opcodes are an int subclass, which marshal does not write
        return (
            int(flags | parsed.state.flags),
            [int(word) for word in code],
            int(parsed.state.groups - 1),
            {name: int(index) for name, index in groupindex.items()},
            tuple(indexgroup),
        )

    def save(self) -> None:
        self._table.save()


def _importing() -> bool:
    """Whether a module is being imported on this thread (importlib's frames are on the stack):
    its patterns are the code's own, the same on every start (PyYAML's, httpx's, svccheck's)."""
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _is_program_table(values: object) -> bool:
    return isinstance(values, dict) and all(_is_entry(key, value) for key, value in values.items())


def _is_entry(key: object, value: object) -> bool:
    if not (type(key) is tuple and len(key) == 2 and type(key[0]) in (str, bytes) and type(key[1]) is int):
        return False
    if not (type(value) is tuple and len(value) == 5):
        return False
    flags, code, groups, groupindex, indexgroup = value
    return (
        type(flags) is int
        and type(code) is list
        and all(type(word) is int for word in code)
        and type(groups) is int
        and type(groupindex) is dict
        and all(type(k) is str and type(v) is int for k, v in groupindex.items())
        and type(indexgroup) is tuple
        and all(name is None or type(name) is str for name in indexgroup)
    )


def default_path() -> str | None:
    """Beside this module's .pyc, e.g. …/svccheck/__pycache__/regex_programs.cpython-311.marshal."""
    return startup_cache.path_beside(__file__)


_installed: ProgramCache | None = None


def install() -> None:
    """Route `re`'s compiling through the cache, before the first pattern is compiled.

    Installed by the `svccheck` command (`__main__`) only, not by `import svccheck`.
    """
    global _installed
    import re

    compiler = getattr(re, "_compiler", None)
    if _installed is not None or compiler is None:
        return
    if not all(hasattr(compiler, name) for name in ("compile", "_code", "SRE_FLAG_DEBUG")):
        return  # another layout of `re`: it compiles as it always does
    _installed = ProgramCache(default_path())
    startup_cache.save_at_exit(_installed.save)
    # `re._compile` calls `_compiler.compile` through the module, on each pattern it has not cached
    compiler.compile = _installed.compile
