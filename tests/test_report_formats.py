"""JUnit (read back with junitparser), Markdown (golden file) and GitHub annotations, from in-memory reports."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from support.cli import assert_no_traceback, run_cli
from support.hostile import FORBIDDEN, PIECES, hostile_report
from support.sample_reports import SECRET, mixed_report, passing_report
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.redact import Redactor
from svccheck.report import github, junit, markdown
from svccheck.report.formats import FORMATS, Format

GOLDEN = Path(__file__).parent / "golden"
HOSTILE = "".join(PIECES)  # every escape, control, bidi override and markup piece the fuzzer knows


def suites(xml_text: str, tmp_path: Path) -> dict[str, TestSuite]:
    path = tmp_path / "report.xml"
    path.write_text(xml_text, encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    return {suite.name: suite for suite in xml}


def cases(suite: TestSuite) -> dict[str, TestCase]:
    return {case.name: case for case in suite}


def test_junit_one_suite_per_service_one_case_per_check(tmp_path: Path) -> None:
    parsed = suites(junit.render(mixed_report(), Redactor([SECRET])), tmp_path)
    assert list(parsed) == ["payments", "billing", "search", "api"]
    assert {name: suite.tests for name, suite in parsed.items()} == {
        "payments": 1, "billing": 2, "search": 1, "api": 2,
    }  # fmt: skip
    assert parsed["billing"].failures == 2 and parsed["search"].skipped == 1 and parsed["api"].failures == 0


def test_junit_failure_carries_reason_class_and_detail(tmp_path: Path) -> None:
    parsed = suites(junit.render(mixed_report(), Redactor([SECRET])), tmp_path)
    health = cases(parsed["billing"])["health"]
    assert health.classname == "billing" and health.time == 0.038
    [failure] = health.result
    assert isinstance(failure, Failure)
    assert failure.message == "expected status 2xx, got 503 (3 attempts)" and failure.type == "status"
    assert (
        failure.text is not None
        and "HTTP 503" in failure.text
        and "likely root cause: payments" in failure.text
    )


def test_junit_warn_is_skipped_unless_strict(tmp_path: Path) -> None:
    lenient = cases(suites(junit.render(mixed_report(), Redactor()), tmp_path)["search"])["health"]
    [skipped] = lenient.result
    assert isinstance(skipped, Skipped) and skipped.message == "warn: degraded: component index: WARN"
    strict = cases(suites(junit.render(mixed_report(strict=True), Redactor()), tmp_path)["search"])["health"]
    [failure] = strict.result
    assert isinstance(failure, Failure) and failure.type == "health"


def test_strict_warnings_are_named_where_the_run_is_summed_up() -> None:
    # the report decides what --strict fails (#14); each format shows that decision
    report = mixed_report(strict=True)
    assert report.strict_failures == (("search", "health"),)
    line = "1 warning also fails the run (--strict): search/health"
    assert f"**{line}**" in markdown.render(report, Redactor())
    assert line not in markdown.render(mixed_report(), Redactor())


def test_junit_passing_cases_and_awkward_names(tmp_path: Path) -> None:
    api = cases(suites(junit.render(mixed_report(), Redactor([SECRET])), tmp_path)["api"])
    items = api['list "items" \\ all\\nnow']  # the newline in the name shown, never obeyed
    assert items.is_passed and items.time == 0.6  # three attempts of 200ms
    assert api["health"].is_passed


def test_junit_interrupted_check_is_skipped(tmp_path: Path) -> None:
    report = mixed_report(interrupted="terminated (SIGTERM)", exit_code=143)
    charge = cases(suites(junit.render(report, Redactor([SECRET])), tmp_path)["billing"])["charge: card, ***"]
    [skipped] = charge.result
    assert isinstance(skipped, Skipped) and skipped.message == "interrupted before it finished"


def test_junit_strips_characters_xml_cannot_hold(tmp_path: Path) -> None:
    text = junit.render(mixed_report(), Redactor(["\x00"]))  # no crash, still parses
    assert suites(text, tmp_path)["api"].tests == 2


def test_secrets_absent_from_junit_markdown_and_annotations() -> None:
    redactor = Redactor([SECRET])
    report = mixed_report()
    outputs = [
        junit.render(report, redactor),
        markdown.render(report, redactor),
        "\n".join(github.workflow_commands(report, redactor)),
    ]
    for text in outputs:
        assert SECRET not in text
        assert "***" in text or "\\*\\*\\*" in text  # Markdown escapes the mask


def test_markdown_matches_golden_file() -> None:
    rendered = markdown.render(mixed_report(), Redactor([SECRET]))
    golden = GOLDEN / "mixed_report.md"
    if os.environ.get("SVCCHECK_UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_markdown_failures_first_and_passes_folded() -> None:
    text = markdown.render(mixed_report(), Redactor([SECRET]))
    assert (
        text.index("payments")
        < text.index("| ❌ FAIL | billing")
        < text.index("WARN")
        < text.index("<details>")
    )
    assert "Root cause: **payments**" in text and "caused by **payments**" in text
    green = markdown.render(passing_report(), Redactor())
    assert green.startswith("### ✅ svccheck passed") and "<details>" not in green


def test_markdown_escapes_table_syntax() -> None:
    assert markdown.escape("a|b *c* <x> $.a\nnext") == "a\\|b \\*c\\* \\<x\\> \\$.a next"


def test_annotations_for_failures_and_warnings() -> None:
    lines = github.workflow_commands(mixed_report(), Redactor([SECRET]))
    assert (
        lines[0] == "::error title=payments / health::[refused] connection refused (3 attempts) (root cause)"
    )
    assert (
        "::error title=billing / health::[status] expected status 2xx, got 503 (3 attempts) (likely root cause: payments)"
        in lines
    )
    assert lines[-1].startswith("::warning title=search / health::[health] degraded")
    assert len(lines) == 4
    assert github.workflow_commands(mixed_report(strict=True), Redactor())[-1].startswith(
        "::error title=search"
    )


def test_annotation_escaping_follows_github_rules() -> None:
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert github.escape_property("a: b, c%") == "a%3A b%2C c%25"
    lines = github.workflow_commands(mixed_report(), Redactor([SECRET]))
    assert "::error title=billing / charge%3A card%2C ***::[assertion] $.token" in "\n".join(lines)


def test_github_enabled_by_flag_or_environment(tmp_path: Path) -> None:
    assert github.enabled(None, {"GITHUB_ACTIONS": "true"})
    assert not github.enabled(None, {})
    assert not github.enabled(False, {"GITHUB_ACTIONS": "true"})
    assert github.enabled(True, {})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    assert github.append_step_summary("# hi", {"GITHUB_STEP_SUMMARY": str(summary)}) == summary
    assert summary.read_text() == "earlier step\n# hi\n"
    assert github.append_step_summary("# hi", {}) is None


def test_junit_keeps_to_the_attributes_and_order_of_the_common_schema() -> None:
    # The Ant/Jenkins JUnit schema GitLab and Jenkins follow: these attributes, properties first.
    root = ET.fromstring(junit.render(mixed_report(), Redactor([SECRET])).encode())
    assert root.tag == "testsuites"
    assert set(root.attrib) <= {"name", "time", "tests", "failures", "disabled", "errors"}
    suite_attributes = {
        "name",
        "tests",
        "failures",
        "errors",
        "skipped",
        "time",
        "timestamp",
        "hostname",
        "id",
    }
    for suite in root:
        assert suite.tag == "testsuite" and set(suite.attrib) <= suite_attributes
        assert suite[0].tag == "properties"
        for case in list(suite)[1:]:
            assert case.tag == "testcase" and set(case.attrib) <= {"name", "classname", "time"}
            assert {child.tag for child in case} <= {"failure", "skipped"}
            assert len(case) <= 1


# The contract every entry of the registry keeps (#13): adding a format is one module and one
# entry in FORMATS, and these tests then cover it with nothing else to edit.
each_format = pytest.mark.parametrize("fmt", FORMATS, ids=[f.name for f in FORMATS])


@each_format
def test_every_format_renders_a_sample_report(fmt: Format) -> None:
    for report in (mixed_report(), passing_report(), mixed_report(interrupted="interrupted (SIGINT)")):
        assert fmt.render(report, Redactor([SECRET])).strip()


@each_format
def test_every_format_masks_a_secret(fmt: Format) -> None:
    text = fmt.render(mixed_report(), Redactor([SECRET]))
    assert SECRET not in text
    assert "***" in text or "\\*\\*\\*" in text  # Markdown escapes the mask


@each_format
def test_every_format_neutralises_hostile_text(fmt: Format) -> None:
    text = fmt.render(hostile_report(HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE), Redactor())
    assert not FORBIDDEN.search(text.replace("\n", "")), text
    # a hostile name's newline never starts a line of its own (a `::` workflow command in a CI log)
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::")], text


async def _healthy(request: Request) -> Response:
    return json_response({"status": "UP"})


@each_format
def test_every_format_is_reachable_as_format_and_as_file_option(
    fmt: Format, servers: ServerThread, manifest_file: Callable[..., Path], tmp_path: Path
) -> None:
    port = servers.add(_healthy)
    path = manifest_file(f"services:\n  api: {{url: 'http://127.0.0.1:{port}', health: /health}}\n")
    written = tmp_path / f"report.{fmt.name}"
    result = run_cli("all", "-f", str(path), "--format", fmt.name, f"--{fmt.name}", str(written))
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and result.stdout == written.read_text(encoding="utf-8")


def test_the_cli_options_are_built_from_the_registry() -> None:
    import typer
    from typer.core import TyperGroup, TyperOption

    from svccheck.cli import app

    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    with_format = {
        name: c for name, c in group.commands.items() if any("--format" in p.opts for p in c.params)
    }
    assert set(with_format) == {"all", "check", "wait", "demo", "diff", "merge"}
    for command in with_format.values():
        options = {opt: p for p in command.params for opt in p.opts}
        choices = getattr(options["--format"].type, "choices", None)
        assert choices is not None and [str(c) for c in choices] == ["table", *(f.name for f in FORMATS)]
        for fmt in FORMATS:  # table is stdout only: no --table FILE
            option = options[f"--{fmt.name}"]
            assert isinstance(option, TyperOption) and option.help == fmt.file_help
