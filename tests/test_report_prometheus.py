"""The Prometheus exposition, read back with prometheus_client's own text parser."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from support.sample_reports import SECRET, STARTED_AT, mixed_report, passing_report
from svccheck.redact import Redactor
from svccheck.report.prometheus import escape_label_value, format_value, render_prometheus

# the check's name as every output shows it: its newline neutralised to a visible `\n`
ITEMS = 'list "items" \\ all\\nnow'


def parsed(text: str) -> dict[str, list[Sample]]:
    return {f.name: list(f.samples) for f in text_string_to_metric_families(text)}


def value(samples: list[Sample], **labels: str) -> float:
    matching = [s.value for s in samples if s.labels == labels]
    assert len(matching) == 1, (labels, samples)
    return matching[0]


def test_every_metric_has_help_and_type_gauge() -> None:
    text = render_prometheus(mixed_report(), Redactor([SECRET]))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    expected = {
        "svccheck_check_up",
        "svccheck_check_verdict",
        "svccheck_check_latency_seconds",
        "svccheck_check_attempts",
        "svccheck_run_timestamp_seconds",
        "svccheck_run_duration_seconds",
        "svccheck_run_exit_code",
    }
    assert set(families) == expected
    for family in families.values():
        assert family.type == "gauge" and family.documentation
    assert text.endswith("\n")
    for name in expected:
        assert text.count(f"# TYPE {name} gauge") == 1


def test_up_is_1_for_pass_and_warn_0_with_class_for_fail() -> None:
    samples = parsed(render_prometheus(mixed_report(), Redactor([SECRET])))
    up = samples["svccheck_check_up"]
    assert value(up, service="api", check="health") == 1
    assert value(up, service="search", check="health") == 1  # warn
    assert value(up, service="payments", check="health", **{"class": "refused"}) == 0
    assert value(up, service="billing", check="health", **{"class": "status"}) == 0
    assert value(up, service="billing", check="charge: card, ***", **{"class": "assertion"}) == 0
    assert len(up) == 6


def test_latency_attempts_verdict_and_run_samples() -> None:
    samples = parsed(render_prometheus(mixed_report(), Redactor([SECRET])))
    assert value(samples["svccheck_check_latency_seconds"], service="api", check=ITEMS) == 0.2
    # no answer, no latency sample
    assert not [s for s in samples["svccheck_check_latency_seconds"] if s.labels["service"] == "payments"]
    assert value(samples["svccheck_check_attempts"], service="api", check=ITEMS) == 3
    verdicts = samples["svccheck_check_verdict"]
    assert value(verdicts, service="search", check="health", verdict="warn") == 1
    assert value(verdicts, service="search", check="health", verdict="pass") == 0
    assert len(verdicts) == 6 * 4
    assert value(samples["svccheck_run_timestamp_seconds"]) == datetime.fromisoformat(STARTED_AT).timestamp()
    assert value(samples["svccheck_run_duration_seconds"]) == 1.5
    assert value(samples["svccheck_run_exit_code"]) == 1


def test_label_values_are_escaped_and_round_trip() -> None:
    text = render_prometheus(mixed_report(), Redactor([SECRET]))
    assert 'check="list \\"items\\" \\\\ all\\\\nnow"' in text
    samples = parsed(text)
    assert value(samples["svccheck_check_up"], service="api", check=ITEMS) == 1


def test_skipped_check_has_verdict_but_no_up() -> None:
    report = mixed_report(interrupted="terminated (SIGTERM)", exit_code=143)
    samples = parsed(render_prometheus(report, Redactor([SECRET])))
    assert not [s for s in samples["svccheck_check_up"] if s.labels["check"] == "charge: card, ***"]
    assert (
        value(samples["svccheck_check_verdict"], service="billing", check="charge: card, ***", verdict="skip")
        == 1
    )
    assert value(samples["svccheck_run_exit_code"]) == 143


def test_secrets_are_masked_in_labels() -> None:
    text = render_prometheus(mixed_report(), Redactor([SECRET]))
    assert SECRET not in text and "***" in text


def test_signature_without_a_redactor_still_renders() -> None:
    samples = parsed(render_prometheus(passing_report()))
    assert value(samples["svccheck_check_up"], service="api", check="health") == 1


def test_escape_and_format_helpers() -> None:
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert format_value(3.0) == "3" and format_value(0.0125) == "0.0125"
    assert format_value(float("nan")) == "NaN" and format_value(float("inf")) == "+Inf"
