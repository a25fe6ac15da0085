"""A table that start-up would otherwise recompute on every run, kept in a marshal file beside the .pyc files.

Two caches use it: the methods `dataclasses` compiles for each class
(`dataclass_methods`) and the programs `re` compiles for each pattern
(`regex_programs`). A table holds only what this same Python computed from the
same input, so a value from it is exactly what computing would give; the file is
only a cache. Like a .pyc it is not written under PYTHONDONTWRITEBYTECODE, nor
where the package cannot be written to, and a file that cannot be read, was
written by another Python or was damaged (its CRC-32) is ignored.
"""

from __future__ import annotations

import binascii
import contextlib
import marshal
import os
import sys
from pathlib import Path

TYPE_CHECKING = False  # `typing` is not loaded yet when __main__ installs the caches
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Table:
    """Values by key, loaded from `path` on first use, saved with what this process added.

    `valid` says whether a decoded table is one of ours; entries another process
    saved since this one loaded are kept, up to `most_entries()` (past it, a save
    keeps only what its own run used).
    """

    def __init__(
        self, path: str | None, valid: Callable[[object], bool], most_entries: Callable[[], int]
    ) -> None:
        self.path = path
        self._valid = valid
        self._most_entries = most_entries
        self._values: dict[object, object] | None = None
        self._used: set[object] = set()
        self.compiled = 0  # how many values this process had to compute (the tests read it)

    def get(self, key: object) -> object | None:
        values = self._load()
        value = values.get(key)
        if value is not None:
            self._used.add(key)
        return value

    def put(self, key: object, value: object) -> None:
        self._load()[key] = value
        self._used.add(key)
        self.compiled += 1

    def save(self) -> None:
        """Write the file if this process computed anything; quietly not, where it cannot be written."""
        if not self.compiled or self.path is None or sys.dont_write_bytecode or self._values is None:
            return
        # what another svccheck process saved since (the child that read the command line, a run in
        # parallel), then ours; dict() is one step under the GIL: an import in a thread may still add
        values = {**self._read(), **dict(self._values)}
        if len(values) > self._most_entries():
            values = {key: value for key, value in values.items() if key in self._used}
        path = Path(self.path)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: a name planted in a shared cache directory (a symlink) is refused, not followed
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as file:
                file.write(encode(values))
            partial.replace(path)  # another process saving at once: the last one wins, whole
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()
            return
        self.compiled = 0

    def _load(self) -> dict[object, object]:
        if self._values is None:
            self._values = self._read()
        return self._values

    def _read(self) -> dict[object, object]:
        if self.path is None:
            return {}
        try:
            return decode(Path(self.path).read_bytes(), self._valid)
        except OSError:  # absent or unreadable
            return {}


def encode(values: dict[Any, Any]) -> bytes:
    """The file: this Python's magic number, a CRC-32 of the table, the table (marshal)."""
    from importlib.util import MAGIC_NUMBER

    table = marshal.dumps(values)
    return MAGIC_NUMBER + binascii.crc32(table).to_bytes(4, "little") + table


def decode(data: bytes, valid: Callable[[object], bool]) -> dict[object, object]:
    """The table in `data`; nothing if it is another Python's, damaged (the CRC), or not `valid`."""
    from importlib.util import MAGIC_NUMBER

    head, crc, table = data[:4], data[4:8], data[8:]
    if head != MAGIC_NUMBER or len(crc) < 4 or binascii.crc32(table) != int.from_bytes(crc, "little"):
        return {}  # marshal is not meant for damaged input: it is never given any
    try:
        values = marshal.loads(table)
    except Exception:  # a table of this Python's that still does not load
        return {}
    if type(values) is not dict or not valid(values):
        return {}
    return values


def path_beside(module_file: str) -> str | None:
    """Beside a module's .pyc, e.g. …/svccheck/__pycache__/dataclass_methods.cpython-311.marshal."""
    from importlib.util import cache_from_source

    try:  # honours PYTHONPYCACHEPREFIX, as the .pyc files do
        pyc = cache_from_source(module_file)
    except (NotImplementedError, ValueError):  # no cache tag: an interpreter without bytecode caching
        return None
    return pyc.removesuffix(".pyc") + ".marshal"


_saved_at_exit: list[Callable[[], None]] = []  # the installed caches' `save`, in install order


def save_at_exit(save: Callable[[], None]) -> None:
    """Have `save_all` call `save` (a cache's `install` registers its own)."""
    _saved_at_exit.append(save)


def save_all() -> None:
    """Write what each installed cache computed in this process (the `svccheck` command calls it
    on its way out)."""
    for save in _saved_at_exit:
        save()
