"""Every health format reader, from the one registry: the same contract for each.

A new format in `svccheck.judge.health.FORMATS` fails here until it has its sample in SAMPLES:
it is tested the day it is added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from svccheck.judge.health import FORMATS, HealthFormat, HealthStatus, parse_health
from svccheck.judge.health.reading import NOT_JSON, HealthBody
from svccheck.modes import init as starter
from svccheck.neutral import neutralise

HEALTH_JSON = "application/health+json"
# a terminal title (OSC), a bell, a right-to-left override and a C1 CSI: none may reach a view
HOSTILE = "db\x1b]0;owned\x07\u202egnp.exe\x9b2J"


@dataclass(frozen=True)
class Sample:
    body: str
    content_type: str | None
    status: HealthStatus
    components: list[tuple[str, HealthStatus]]


def _json(document: object, status: HealthStatus, components: list[tuple[str, HealthStatus]]) -> Sample:
    return Sample(json.dumps(document), "application/json", status, components)


# format → its own typical answer, with one failing component named `name`
SAMPLES: dict[str, Callable[[str], Sample]] = {
    "ietf": lambda name: Sample(
        json.dumps(
            {"status": "fail", "checks": {f"{name}:connections": [{"status": "fail", "output": "refused"}]}}
        ),
        HEALTH_JSON,
        "fail",
        [(f"{name}:connections", "fail")],
    ),
    "microprofile": lambda name: _json(
        {"status": "DOWN", "checks": [{"name": name, "status": "DOWN"}, {"name": "ping", "status": "UP"}]},
        "fail",
        [(name, "fail"), ("ping", "pass")],
    ),
    "aspnetcore": lambda name: _json(
        {"status": "Degraded", "entries": {name: {"status": "Degraded", "description": "slow"}}},
        "warn",
        [(name, "warn")],
    ),
    "terminus": lambda name: _json(
        {
            "status": "error",
            "info": {},
            "error": {name: {"status": "down"}},
            "details": {name: {"status": "down"}},
        },
        "fail",
        [(name, "fail")],
    ),
    "spring": lambda name: _json(
        {"status": "DOWN", "components": {name: {"status": "DOWN"}, "ping": {"status": "UP"}}},
        "fail",
        [(name, "fail"), ("ping", "pass")],
    ),
    "plain-json": lambda name: _json(
        {"status": "down", "dependencies": {name: {"status": "down"}}}, "fail", [(name, "fail")]
    ),
    "k8s": lambda name: Sample(
        f"[+]ping ok\n[-]{name} failed: reason withheld\nreadyz check failed",
        "text/plain",
        "fail",
        [("ping", "pass"), (name, "fail")],
    ),
    "plain-text": lambda name: Sample("OK", "text/plain", "pass", []),  # a word names no component
}
NAMES = [health_format.name for health_format in FORMATS]


def body_of(sample: Sample) -> HealthBody:
    """The body as `parse_health` hands it to the readers."""
    try:
        document: object = json.loads(sample.body)
    except ValueError:
        document = NOT_JSON
    return HealthBody(sample.body, document, sample.content_type)


def test_every_format_has_its_sample() -> None:
    assert list(SAMPLES) == NAMES, "give each format of svccheck.judge.health.FORMATS a sample in SAMPLES"
    assert len(set(NAMES)) == len(NAMES)


def test_init_names_the_formats_from_the_registry() -> None:
    assert starter.FORMAT_NAMES == {
        "ietf": "IETF health+json",
        "microprofile": "MicroProfile Health",
        "aspnetcore": "ASP.NET Core HealthChecks",
        "terminus": "NestJS Terminus",
        "spring": "Spring Boot Actuator",
        "plain-json": "JSON with a status",
        "k8s": "Kubernetes readyz/livez text",
        "plain-text": "a status word",
    }


@pytest.mark.parametrize("health_format", FORMATS, ids=NAMES)
def test_the_reader_reads_its_own_sample(health_format: HealthFormat) -> None:
    sample = SAMPLES[health_format.name]("db")
    reading = health_format.read(body_of(sample))
    assert reading is not None
    assert (reading.format, reading.status) == (health_format.name, sample.status)
    assert [(c.name, c.status) for c in reading.components] == sample.components
    # and the registry's order hands it that sample too
    assert parse_health(sample.body.encode(), sample.content_type) == reading


@pytest.mark.parametrize("health_format", FORMATS, ids=NAMES)
def test_the_reader_claims_no_sample_of_a_format_after_it(health_format: HealthFormat) -> None:
    # A format listed earlier reads first: claiming a later format's body would steal it. (A later,
    # more lenient reader may claim an earlier one's body; the order is why it never sees it.)
    later = NAMES[NAMES.index(health_format.name) + 1 :]
    claimed = {name: health_format.read(body_of(SAMPLES[name]("db"))) for name in later}
    assert {name: reading for name, reading in claimed.items() if reading is not None} == {}


@pytest.mark.parametrize("health_format", FORMATS, ids=NAMES)
def test_the_reader_claims_no_body_of_the_other_kind(health_format: HealthFormat) -> None:
    # a JSON reader does not read text and a text reader does not read JSON, whatever it says
    for sample in SAMPLES.values():
        body = body_of(sample("db"))
        reading = health_format.read(body)
        if reading is not None:
            assert (body.json is NOT_JSON) == (health_format.name in ("k8s", "plain-text")), sample


@pytest.mark.parametrize("health_format", FORMATS, ids=NAMES)
def test_hostile_component_names_stay_neutralised(health_format: HealthFormat) -> None:
    sample = SAMPLES[health_format.name](HOSTILE)
    reading = health_format.read(body_of(sample))
    assert reading is not None
    assert [(c.name, c.status) for c in reading.components] == [
        (neutralise(name), status) for name, status in sample.components
    ]
    texts = [reading.raw_status or ""] + [
        t for c in reading.components for t in (c.name, c.raw_status, c.message or "")
    ]
    assert all(text.isprintable() for text in texts), texts
    if sample.components:
        assert any("\\x1b]0;owned" in c.name for c in reading.components)  # shown, not dropped
