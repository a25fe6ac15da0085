"""The comparison with a baseline and the JSON report read back, on reports built in memory."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.health_strategies import json_values
from support.hostile import PIECES, hostile_report
from support.sample_reports import SECRET, make_check, mixed_report, passing_report, result
from svccheck.engine.run import build_report
from svccheck.model import Answer, Certificate, Change, Report, Service, Verdict
from svccheck.modes import compare
from svccheck.modes.saved_report import ReportProblem, from_dict
from svccheck.redact import Redactor
from svccheck.report import formats
from svccheck.report import json as json_report


def one_check(
    latency: float | None, *, days_left: float | None = None, verdict: Verdict = Verdict.PASS
) -> Report:
    check = make_check("api", "health", "health", url="https://127.0.0.1:1/health")
    answered = result(check, verdict, latency=latency)
    if days_left is not None:
        certificate = Certificate(not_after="2027-01-01T00:00:00+00:00", days_left=days_left)
        answer = Answer(
            "HTTP 200", (), b"", False, latency or 0.0, "HTTP/1.1", check.url, 200, None, certificate
        )
        answered = replace(answered, response=answer)
    service = Service("api", "https://127.0.0.1:1", True, (), (), (check,))
    return build_report(
        [service], {check.key: answered}, duration=0.1, started_at="2026-12-01T00:00:00+00:00",
        manifest_path="services.yaml", strict=False,
    )  # fmt: skip


def kinds(now: Report, baseline: Report) -> list[Change]:
    return [i.change for i in compare.compare(now, baseline, label="last.json").items]


def test_latency_regresses_beyond_the_factor_and_the_floor_together() -> None:
    assert kinds(one_check(0.350), one_check(0.100)) == [Change.LATENCY_REGRESSED]  # ×3.5, +250ms
    assert kinds(one_check(0.009), one_check(0.002)) == []  # ×4.5, but only 7ms slower
    assert kinds(one_check(0.190), one_check(0.100)) == []  # 90ms slower, under twice
    assert kinds(one_check(None), one_check(0.100)) == []  # no answer: the verdict says so


def test_certificate_days_dropping_under_thirty_is_a_change_once() -> None:
    assert kinds(one_check(0.01, days_left=12.5), one_check(0.01, days_left=41.0)) == [
        Change.CERTIFICATE_DAYS_DROPPED
    ]
    assert kinds(one_check(0.01, days_left=11.0), one_check(0.01, days_left=12.5)) == []  # already under
    [item] = compare.compare(
        one_check(0.01, days_left=12.5), one_check(0.01, days_left=41.0), label="x"
    ).items
    assert item.detail == "41 → 12 days left (under 30)"


def test_every_verdict_change_has_its_word() -> None:
    failing, passing, warning = (
        one_check(0.01, verdict=v) for v in (Verdict.FAIL, Verdict.PASS, Verdict.WARN)
    )
    assert kinds(failing, passing) == [Change.NEW_FAILURE]
    assert kinds(failing, failing) == [Change.STILL_FAILING]
    assert kinds(passing, failing) == [Change.RECOVERED]
    assert kinds(warning, passing) == [Change.NEW_WARNING]
    assert kinds(passing, passing) == []
    changes = compare.compare(failing, passing, label="x", fail_on="new")
    assert compare.with_changes(failing, changes).exit_code == 1
    tolerated = compare.compare(failing, failing, label="x", fail_on="new")
    assert compare.with_changes(failing, tolerated).exit_code == 0
    assert compare.with_changes(failing, replace(tolerated, fail_on="any")).exit_code == 1


def test_a_json_report_reads_back_into_the_same_report() -> None:
    for report in (
        mixed_report(),
        mixed_report(interrupted="terminated (SIGTERM)", exit_code=143),
        mixed_report(strict=True),
        passing_report(),
        one_check(0.01, days_left=12.5),
        hostile_report(*["".join(PIECES)] * 6),
    ):
        written = json_report.to_dict(replace(report, location="eu-west"), Redactor([SECRET]))
        again = from_dict(json.loads(json.dumps(written)))
        assert json_report.to_dict(again, Redactor([SECRET])) == written


def _places(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place in a JSON document, as the keys and indexes that lead to it."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _places(item, (*path, index))
    return found


def _replaced(document: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


SAVED = json_report.to_dict(mixed_report(), Redactor([SECRET]))
PLACES = _places(SAVED)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(PLACES), value=json_values, drop=st.booleans())
def test_a_damaged_report_reads_back_or_says_where_it_is_damaged(
    place: tuple[object, ...], value: object, drop: bool
) -> None:
    # any value anywhere, or a key gone: a Report that every format renders, or the one clear error
    document = _replaced(SAVED, place, value)
    if drop and place:  # the key gone instead
        document = json.loads(json.dumps(SAVED))
        parent = document
        for step in place[:-1]:
            parent = parent[step]
        if isinstance(parent, dict):
            del parent[place[-1]]
    try:
        report = from_dict(document)
    except ReportProblem as error:  # the reader's own problem, saying where
        assert str(error), error
        return
    for fmt in formats.FORMATS:
        assert fmt.render(report, Redactor()).strip()
    assert compare.compare(report, mixed_report(), label="x").matched >= 0
