"""The compiled-methods cache: a dataclass made from it is the dataclass `exec` would have made.

`svccheck.dataclass_methods` keeps the code `dataclasses` compiles for each class
in a marshal file, so the next start runs it instead of compiling it again. These
tests hold it to three things: the functions are the same as compiled ones (code,
annotations, defaults, behaviour); a file that is absent, damaged or foreign is
ignored, never trusted; and the real command writes it once, then only reads it.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType
from typing import Any

import pytest

from support.start_up_cache import damaged, written_once_by_the_command
from svccheck import dataclass_methods
from svccheck.dataclass_methods import MethodCache


@pytest.fixture(autouse=True)
def bytecode_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a user's machine: the suite itself may run under PYTHONDONTWRITEBYTECODE."""
    monkeypatch.setattr("sys.dont_write_bytecode", False)


GENERATED = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__")


def define_classes() -> dict[str, type]:
    """A few shapes `dataclasses` writes differently: defaults, factories, frozen, order, post-init, kw_only."""

    @dataclass(frozen=True, slots=True)
    class Frozen:
        name: str
        tags: tuple[str, ...] = ()
        limits: frozenset[str] = field(default_factory=frozenset)

    @dataclass(order=True)
    class Ordered:
        rank: int
        label: str = "x"

        def __post_init__(self) -> None:
            self.label = self.label.upper()

    @dataclass(frozen=True, kw_only=True, eq=False)
    class KeywordsOnly:
        first: int
        second: int | None = None

    return {"Frozen": Frozen, "Ordered": Ordered, "KeywordsOnly": KeywordsOnly}


def defined_through(cache: MethodCache, monkeypatch: pytest.MonkeyPatch) -> dict[str, type]:
    with monkeypatch.context() as patch:
        patch.setattr(dataclasses, "exec", cache.exec, raising=False)
        return define_classes()


def methods_of(cls: type) -> dict[str, FunctionType]:
    return {name: fn for name in GENERATED if isinstance(fn := cls.__dict__.get(name), FunctionType)}


def fingerprint(fn: FunctionType) -> tuple[Any, ...]:
    return (
        marshal.dumps(fn.__code__),
        fn.__qualname__,
        repr(fn.__annotations__),
        fn.__defaults__,
        fn.__kwdefaults__,
    )


def test_methods_from_the_cache_are_the_ones_exec_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = define_classes()
    path = str(tmp_path / "methods.marshal")
    first = MethodCache(path)
    compiled = defined_through(first, monkeypatch)
    assert first.compiled > 0
    first.save()
    second = MethodCache(path)
    cached = defined_through(second, monkeypatch)
    assert second.compiled == 0, "the second start compiled again"

    for name, cls in plain.items():
        expected = {method: fingerprint(fn) for method, fn in methods_of(cls).items()}
        assert expected, name
        for other in (compiled[name], cached[name]):
            assert {method: fingerprint(fn) for method, fn in methods_of(other).items()} == expected, name

    frozen = cached["Frozen"]("api", ("a",))
    assert frozen == cached["Frozen"]("api", ("a",)) and hash(frozen) == hash(cached["Frozen"]("api", ("a",)))
    assert repr(frozen) == "define_classes.<locals>.Frozen(name='api', tags=('a',), limits=frozenset())"
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.name = "other"
    assert cached["Ordered"](1, "b") < cached["Ordered"](2) and cached["Ordered"](1, "b").label == "B"
    with pytest.raises(TypeError):
        cached["KeywordsOnly"](1)
    assert cached["KeywordsOnly"](first=1) != cached["KeywordsOnly"](first=1)  # eq=False: identity


def _valid_file() -> bytes:
    return dataclass_methods.encode({"def f(): pass": compile("def f(): pass", "<string>", "exec")})


@pytest.mark.parametrize(
    "content",
    [
        *damaged(_valid_file()),
        pytest.param(dataclass_methods.encode({"def f(): pass": 0}), id="not-code"),  # type: ignore[dict-item]
        pytest.param(dataclass_methods.encode({1: compile("pass", "<string>", "exec")}), id="not-text"),  # type: ignore[dict-item]
    ],
)
def test_a_file_that_is_not_ours_is_ignored_then_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    path = tmp_path / "methods.marshal"
    path.write_bytes(content)
    cache = MethodCache(str(path))
    classes = defined_through(cache, monkeypatch)
    assert cache.compiled > 0
    assert classes["Frozen"]("x") == classes["Frozen"]("x")
    cache.save()
    again = MethodCache(str(path))
    defined_through(again, monkeypatch)
    assert again.compiled == 0


def test_nothing_is_written_under_dont_write_bytecode_or_where_it_cannot_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "methods.marshal"
    cache = MethodCache(str(path))
    defined_through(cache, monkeypatch)
    monkeypatch.setattr("sys.dont_write_bytecode", True)
    cache.save()
    assert not path.exists()

    monkeypatch.setattr("sys.dont_write_bytecode", False)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    cache.path = str(blocked / "methods.marshal")  # its directory is a file
    cache.save()  # no error: the cache is only a cache
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_planted_temporary_name_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "methods.marshal"
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (tmp_path / f"methods.marshal.{os.getpid()}.tmp").symlink_to(victim)
    cache = MethodCache(str(path))
    defined_through(cache, monkeypatch)
    cache.save()
    assert victim.read_text() == "keep me"
    assert not path.is_symlink()


def test_past_the_bound_a_save_keeps_only_what_its_run_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "methods.marshal"
    stale = {f"def stale_{n}(): pass": compile("pass", "<string>", "exec") for n in range(5)}
    path.write_bytes(dataclass_methods.encode(stale))
    monkeypatch.setattr(dataclass_methods, "MOST_ENTRIES", 4)
    cache = MethodCache(str(path))
    defined_through(cache, monkeypatch)
    cache.save()
    kept = dataclass_methods.decode(path.read_bytes())
    assert kept and not any(text.startswith("def stale_") for text in kept)


def test_the_command_writes_the_file_once_then_reads_it(tmp_path: Path) -> None:
    written_once_by_the_command(tmp_path, "dataclass_methods")
