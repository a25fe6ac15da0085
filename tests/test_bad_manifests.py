"""The bad-manifest corpus: every file under tests/manifests/bad/ must be refused cleanly.

Refused cleanly means: `svccheck validate` exits 2, the first line of stderr is
`FILE:LINE:COL: message` (or `FILE: message` where there is no line), no
traceback, quickly and in bounded memory, and nothing in the file executes.
Expectations live next to the files in index.toml; the 5 MB junk file, the
directory and the missing file are made here instead of committed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import tomllib
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.cli import run_cli
from svccheck.manifest import ManifestError, load_manifest

CORPUS = Path(__file__).parent / "manifests" / "bad"
CANARY = "svccheck-canary"  # what the !!python/object files would create if they ran
SECONDS = 0.5  # in-process bound for every case ("well under a second")
PEAK_MIB = 32.0  # in-process peak of traced memory


@dataclass(frozen=True)
class BadInput:
    name: str
    what: str
    where: str | None  # "LINE:COL", or None when the problem has no line (a missing file)
    message: str
    make: Callable[[Path], Path]  # the path to give to -f, made under a scratch directory


def _corpus_file(name: str) -> Callable[[Path], Path]:
    return lambda scratch: CORPUS / name


def _junk(scratch: Path) -> Path:
    path = scratch / "junk-5mb.yaml"
    path.write_bytes(os.urandom(5 * 1000 * 1000))
    return path


def _deep(scratch: Path) -> Path:
    path = scratch / "deep-100k.yaml"
    path.write_text("services: " + "[" * 100_000 + "]" * 100_000 + "\n")
    return path


def _directory(scratch: Path) -> Path:
    path = scratch / "services.yaml"
    path.mkdir(exist_ok=True)
    return path


def _missing(scratch: Path) -> Path:
    return scratch / "absent.yaml"


def load_cases() -> list[BadInput]:
    index = tomllib.loads((CORPUS / "index.toml").read_text(encoding="utf-8"))
    cases = [
        BadInput(c["file"], c["what"], c["where"], c["message"], _corpus_file(c["file"]))
        for c in index["case"]
    ]
    return [
        *cases,
        BadInput("junk-5mb", "5 MB of random bytes (made by the test)", "1:1", "manifest is larger than 1 MiB", _junk),
        BadInput("deep-100k", "`services: [[[[…` 100,000 levels deep (made by the test)", "1:74",
                 "mappings and lists nest more than 64 levels deep here", _deep),
        BadInput("directory", "a directory instead of a file", None, "is a directory, not a manifest file", _directory),
        BadInput("missing", "a file that does not exist", None, "no such file (give one with -f/--manifest", _missing),
    ]  # fmt: skip


CASES = load_cases()


def expected_prefix(case: BadInput, path: Path) -> str:
    return f"{path}:{case.where}: " if case.where else f"{path}: "


def test_the_index_lists_every_file_and_enough_of_them() -> None:
    committed = {c.name for c in CASES if c.name.endswith(".yaml")}  # the others are made by the test
    on_disk = {p.name for p in CORPUS.glob("*.yaml")}
    assert committed == on_disk, (
        f"in index.toml only: {committed - on_disk}; on disk only: {on_disk - committed}"
    )
    assert len(CASES) >= 30


@pytest.fixture(scope="module")
def warm() -> None:
    """Pay the one-off costs (imports, the first manifest's regular expressions, the JSON Schema
    validator the contract cases load) outside the timings."""
    with contextlib.suppress(ManifestError):
        load_manifest(str(CORPUS / "typo-expect.yaml"))
    with contextlib.suppress(ManifestError):
        load_manifest(str(CORPUS / "schema-invalid.yaml"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_in_process_quickly_and_in_bounded_memory(
    case: BadInput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm: None
) -> None:
    monkeypatch.chdir(tmp_path)  # a tag that ran would drop the canary here
    path = case.make(tmp_path)
    started = time.perf_counter()
    with pytest.raises(ManifestError) as info:
        load_manifest(str(path))
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        with pytest.raises(ManifestError):
            load_manifest(str(path))
        peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    finally:
        tracemalloc.stop()
    lines = info.value.render().splitlines()
    assert lines[0].startswith(expected_prefix(case, path)), lines
    assert case.message in lines[0], lines
    assert all(line.startswith(f"{path}:") for line in lines), lines
    assert elapsed < SECONDS, f"{elapsed:.2f}s"
    assert peak < PEAK_MIB, f"{peak:.1f} MiB"
    assert not (tmp_path / CANARY).exists()


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, Path, object]]]:
    """`svccheck validate -f FILE` for every case, a few at a time: (path, cwd, result)."""

    def run(case: BadInput) -> tuple[str, tuple[Path, Path, object]]:
        scratch = tmp_path_factory.mktemp(case.name)
        path = case.make(scratch)
        return case.name, (path, scratch, run_cli("validate", "-f", str(path), cwd=scratch, timeout=60))

    with ThreadPoolExecutor(max_workers=4) as pool:
        yield dict(pool.map(run, CASES))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_exits_2_with_the_place_and_no_traceback(
    case: BadInput, cli_runs: dict[str, tuple[Path, Path, object]]
) -> None:
    path, cwd, result = cli_runs[case.name]
    assert isinstance(result, subprocess.CompletedProcess)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    first = result.stderr.splitlines()[0]
    assert first.startswith(expected_prefix(case, path)) and case.message in first, result.stderr
    assert "nothing was probed" in result.stderr.splitlines()[-1]
    assert not (cwd / CANARY).exists()
