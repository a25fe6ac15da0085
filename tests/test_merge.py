"""`svccheck merge`: real reports of one manifest from three locations, merged by a quorum."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.cli import assert_no_traceback, run_cli
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.report.formats import FORMATS

WriteManifest = Callable[..., Path]
LOCATIONS = ("eu-west", "us-east", "office")
# what is broken as each location sees it: payments from eu-west only, search from all but the office
BROKEN = {"eu-west": {"payments", "search"}, "us-east": {"search"}, "office": set[str]()}


@pytest.fixture
def reports(servers: ServerThread, manifest_file: WriteManifest, tmp_path: Path) -> list[Path]:
    broken: set[str] = set()

    def service(name: str) -> Callable[[Request], object]:
        async def answer(request: Request) -> Response:
            if name in broken:
                return json_response({"status": "DOWN"}, status=503)
            return json_response({"status": "UP"})

        return answer

    ports = {name: servers.add(service(name)) for name in ("api", "payments", "search")}  # type: ignore[arg-type]
    manifest = manifest_file(f"""
        defaults: {{retries: 0}}
        services:
          api: {{url: "http://127.0.0.1:{ports["api"]}", health: /health}}
          payments: {{url: "http://127.0.0.1:{ports["payments"]}", health: /health}}
          search: {{url: "http://127.0.0.1:{ports["search"]}", health: /health}}
    """)
    paths = []
    for location in LOCATIONS:
        broken.clear()
        broken.update(BROKEN[location])
        path = tmp_path / f"{location}.json"
        result = run_cli("all", "-f", str(manifest), "--location", location, "--json", str(path))
        assert_no_traceback(result)
        assert result.returncode == (0 if location == "office" else 1), result.stdout
        paths.append(path)
    return paths


def merge(*args: str) -> tuple[int, str]:
    result = run_cli("merge", *args)
    assert_no_traceback(result)
    return result.returncode, result.stdout + result.stderr


def checks_of(text: str) -> dict[str, dict[str, object]]:
    return {s["name"]: s["checks"][0] for s in json.loads(text)["services"]}


def test_a_majority_decides_and_the_reason_names_who_disagreed(reports: list[Path]) -> None:
    code, out = merge(*map(str, reports), "--format", "json")
    assert code == 1  # search passed only from the office
    checks = checks_of(out)
    assert checks["api"]["verdict"] == "pass" and checks["api"]["reason"] is None  # all agreed
    assert checks["payments"]["verdict"] == "pass"
    assert checks["payments"]["reason"] == (
        "fail in eu-west (HTTP 503, health status DOWN); pass in us-east, office — 2 of 3 locations passed, quorum 2"
    )
    assert checks["search"]["verdict"] == "fail"
    assert checks["search"]["reason"] == (
        "fail in eu-west (HTTP 503, health status DOWN), us-east (HTTP 503, health status DOWN); pass in office — 1 of 3 locations passed, quorum 2"
    )
    code, table = merge(*map(str, reports))
    assert code == 1 and "fail in eu-west (HTTP 503, health status DOWN); pass in us-east, office" in table


def test_the_quorum_is_a_count_or_a_share(reports: list[Path]) -> None:
    code, out = merge(*map(str, reports), "--quorum", "1", "--format", "json")
    assert code == 0 and checks_of(out)["search"]["verdict"] == "pass"
    code, out = merge(*map(str, reports), "--quorum", "100%", "--format", "json")
    assert code == 1 and checks_of(out)["payments"]["verdict"] == "fail"
    code, out = merge(*map(str, reports), "--quorum", "60%", "--format", "json")  # 60% of 3: 2
    assert checks_of(out)["payments"]["verdict"] == "pass" and checks_of(out)["search"]["verdict"] == "fail"


def test_the_merged_report_renders_in_every_format(reports: list[Path], tmp_path: Path) -> None:
    for fmt in FORMATS:
        written = tmp_path / f"merged.{fmt.name}"
        code, out = merge(*map(str, reports), "--format", fmt.name, f"--{fmt.name}", str(written))
        assert code == 1 and out.strip() and out == written.read_text(encoding="utf-8"), fmt.name
    prometheus = (tmp_path / "merged.prometheus").read_text()
    up = {
        s.labels["service"]: s.value
        for f in text_string_to_metric_families(prometheus)
        if f.name == "svccheck_check_up"
        for s in f.samples
    }
    assert up == {"api": 1.0, "payments": 1.0, "search": 0.0}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--quorum", "4"), "--quorum 4: must be between 1 and the 3 reports given"),
        (("--quorum", "0%"), "--quorum expects N or N%"),
        (("--quorum", "two"), "--quorum expects N or N%"),
    ],
)
def test_a_bad_quorum_is_a_usage_error(reports: list[Path], args: tuple[str, ...], said: str) -> None:
    code, out = merge(*map(str, reports), *args)
    assert code == 2 and said in out


def test_two_reports_from_one_location_or_a_single_report_are_usage_errors(
    reports: list[Path], tmp_path: Path
) -> None:
    copy = tmp_path / "again.json"
    copy.write_text(reports[0].read_text())
    code, out = merge(str(reports[0]), str(copy))
    assert code == 2 and "are both from location 'eu-west'" in out
    code, out = merge(str(reports[0]))
    assert code == 2 and "at least two reports" in out
