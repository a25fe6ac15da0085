"""The compiled-patterns cache: a pattern made from a kept program is the pattern `re` would make.

`svccheck.regex_programs` keeps the program `re` compiles for each pattern in a
marshal file, so the next start hands it to `_sre` instead of compiling again.
These tests hold it to three things: the patterns are equal to compiled ones
(`Pattern.__eq__` compares the programs) and match the same; a file that is
absent, damaged or foreign is ignored, never trusted; and the real command
writes it once, then only reads it.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from support.start_up_cache import damaged, written_once_by_the_command
from svccheck import regex_programs, startup_cache
from svccheck.regex_programs import ProgramCache


@pytest.fixture(autouse=True)
def bytecode_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a user's machine: the suite itself may run under PYTHONDONTWRITEBYTECODE."""
    monkeypatch.setattr("sys.dont_write_bytecode", False)


# what the programs differ by: groups (named, numbered, none), flags given and inline, bytes,
# lookarounds, repeats, character classes over the whole of Unicode (PyYAML's printable test)
PATTERNS: list[tuple[str | bytes, int]] = [
    (r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?$", 0),
    (r"(\d+(?:\.\d+)?)(ms|s|m|h)", 0),
    ("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", 0),
    (r"(?i)token|secret|pass(word)?", 0),
    (r"  (?P<key> [a-z_]+ ) \s* = \s* (?P<value> .*? ) $  # a setting", re.VERBOSE | re.MULTILINE),
    (r"(?<=@)[\w.-]+(?!\.)", re.IGNORECASE),
    (rb"\x00+[\x01-\x7f]{2,}?", 0),
    (r"(a)(b)?(?(2)c|d)\1", re.DOTALL),
    ("", 0),
]


def always() -> bool:
    """Keep every pattern, as if each were compiled while a module is imported."""
    return True


def test_a_kept_program_makes_the_pattern_re_would_make(tmp_path: Path) -> None:
    path = str(tmp_path / "programs.marshal")
    first = ProgramCache(path, always)
    for pattern, flags in PATTERNS:
        assert first.compile(pattern, flags) == re.compile(pattern, flags)
    assert first.compiled == len(PATTERNS)
    first.save()

    again = ProgramCache(path, always)
    for pattern, flags in PATTERNS:
        kept = again.compile(pattern, flags)
        compiled = re.compile(pattern, flags)
        assert kept == compiled and kept.groupindex == compiled.groupindex and kept.groups == compiled.groups
        sample: Any = (
            b"\x00\x00ab" if isinstance(pattern, bytes) else "2026-12-03 x@host.example abc 15ms a\x01"
        )
        assert [m.span() for m in kept.finditer(sample)] == [m.span() for m in compiled.finditer(sample)]
    assert again.compiled == 0, "the second cache compiled again instead of reading the file"


def test_what_re_would_not_cache_is_compiled_as_always(tmp_path: Path) -> None:
    cache = ProgramCache(str(tmp_path / "programs.marshal"), always)
    parser: Any = importlib.import_module("re._parser")
    parsed = parser.parse("a+b", 0)  # `re.Scanner` hands over parsed patterns
    assert cache.compile(parsed, 0).match("aab")
    assert cache.compile("x", re.DEBUG).match("x")
    assert cache.compiled == 0


def test_only_what_a_module_compiles_while_it_is_imported_is_kept(tmp_path: Path) -> None:
    # a pattern compiled at run time may come from the manifest, secrets interpolated into it
    path = tmp_path / "programs.marshal"
    cache = ProgramCache(str(path))
    assert cache.compile("secret-[0-9]+-from-the-manifest", 0).match("secret-42-from-the-manifest")
    assert cache.compiled == 0
    module = tmp_path / "module_with_a_pattern.py"
    module.write_text("import re\nre.purge()\nPATTERN = re.compile('the-code-s-own-[a-z]+')\n")
    real = re._compiler.compile  # type: ignore[attr-defined]
    re._compiler.compile = cache.compile  # type: ignore[attr-defined]
    try:
        spec = importlib.util.spec_from_file_location("module_with_a_pattern", module)
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        re._compiler.compile = real  # type: ignore[attr-defined]
    cache.save()
    kept = startup_cache.decode(path.read_bytes(), regex_programs._is_program_table)
    assert list(kept) == [("the-code-s-own-[a-z]+", 0)]


def _valid_file() -> bytes:
    return startup_cache.encode({("a+", 0): ProgramCache(None)._program("a+", 0)})


@pytest.mark.parametrize(
    "content",
    [
        *damaged(_valid_file()),
        pytest.param(startup_cache.encode({("a+", 0): (0, ["not", "code"], 0, {}, ())}), id="not-code"),
        # a key without its flags
        pytest.param(startup_cache.encode({"a+": ProgramCache(None)._program("a+", 0)}), id="not-a-key"),
    ],
)
def test_a_file_that_is_not_ours_is_ignored_then_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "programs.marshal"
    path.write_bytes(content)
    cache = ProgramCache(str(path), always)
    assert cache.compile("a+", 0).fullmatch("aaa")
    assert cache.compiled == 1
    cache.save()
    again = ProgramCache(str(path), always)
    assert again.compile("a+", 0) == re.compile("a+", 0)
    assert again.compiled == 0


def test_a_program_that_does_not_check_out_is_compiled_again(tmp_path: Path) -> None:
    # a table of this Python's, CRC intact, whose program `_sre` refuses: written by hand, never by us
    path = tmp_path / "programs.marshal"
    good = ProgramCache(None)._program("a+", 0)
    path.write_bytes(startup_cache.encode({("a+", 0): (good[0], [999, 999], *good[2:])}))
    assert ProgramCache(str(path), always).compile("a+", 0) == re.compile("a+", 0)


def test_the_command_writes_the_file_once_then_reads_it(tmp_path: Path) -> None:
    written = written_once_by_the_command(tmp_path, "regex_programs")
    assert len(startup_cache.decode(written.read_bytes(), regex_programs._is_program_table)) > 20
