"""The JSON report is written by orjson when the `fast` extra is installed and by json otherwise:
the two must write the same bytes for every report, hostile text included (`report.json.dumps`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.hostile import PIECES, hostile_report
from support.sample_reports import mixed_report, passing_report
from svccheck.redact import Redactor
from svccheck.report import json as json_report

pytest.importorskip("orjson", reason="orjson is the `fast` extra's JSON encoder")


def both(document: dict[str, Any]) -> tuple[str, str]:
    fast = json_report.dumps(document)
    assert json_report._orjson is not None
    plain = json.dumps(document, indent=2, ensure_ascii=False)
    return fast, plain


def test_the_reports_are_written_alike_by_both_encoders() -> None:
    hostile = "".join(PIECES)
    reports = [
        mixed_report(),
        mixed_report(interrupted="interrupted (SIGINT)", strict=True),
        passing_report(),
        hostile_report("svc" + hostile, hostile, hostile, hostile, hostile, hostile),
    ]
    for report in reports:
        fast, plain = both(json_report.to_dict(report, Redactor()))
        assert fast == plain


# what a report holds: names and reasons (any text), counts, milliseconds to a tenth, flags, nulls
SCALARS = (
    st.text()
    | st.sampled_from(PIECES)
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(min_value=0, max_value=1e12).map(lambda ms: round(ms, 1))
    | st.booleans()
    | st.none()
)
DOCUMENTS = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), DOCUMENTS, max_size=5))
def test_any_report_shaped_document_is_written_alike(document: dict[str, Any]) -> None:
    fast, plain = both(document)
    assert fast == plain


def test_what_orjson_cannot_write_is_written_by_json() -> None:
    # past 64 bits and a lone surrogate: orjson refuses, json writes them as it always did
    for document in ({"n": 2**70}, {"s": "\ud800"}):
        assert json_report.dumps(document) == json.dumps(document, indent=2, ensure_ascii=False)
