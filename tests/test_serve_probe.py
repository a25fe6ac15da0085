"""`serve`'s `/probe` and `/targets` (the multi-target pattern), `--shard` and `--location`, over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from support.cli import run_cli
from support.serving import get, serving
from svccheck.demo.server import Raw, Request, Response, ServerThread, hang, json_response
from svccheck.engine.shard import Shard, hashmod
from svccheck.modes.serve_probe import probe_budget

WAIT = 20.0
SCRAPE_TIMEOUT = "X-Prometheus-Scrape-Timeout-Seconds"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def named(found: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (n, labels), value in found.items() if n == name}


async def up(request: Request) -> Response:
    return json_response({"status": "UP"})


async def down(request: Request) -> Response:
    return json_response(
        {"status": "DOWN", "components": {"db": {"status": "DOWN"}, "disk": {"status": "UP"}}}, status=503
    )


def fleet(servers: ServerThread, write: Callable[[str], Path]) -> Path:
    async def hanging(request: Request) -> Raw:
        return hang()

    ports = {name: servers.add(handler) for name, handler in (("up", up), ("down", down), ("stuck", hanging))}
    return write(f"""
        defaults: {{retries: 1, backoff: 1ms, timeout: 30s}}
        services:
          api: {{url: "http://127.0.0.1:{ports["up"]}", health: /health, tags: [edge, web],
                checks: [{{name: home, path: /}}]}}
          billing: {{url: "http://127.0.0.1:{ports["down"]}", health: /health, critical: false}}
          stuck: {{url: "http://127.0.0.1:{ports["stuck"]}", health: /health, tags: [web]}}
    """)


def test_targets_is_http_service_discovery_of_the_manifest(
    servers: ServerThread, manifest_file: Callable[[str], Path]
) -> None:
    with serving(fleet(servers, manifest_file), "--probe-only") as base:
        status, content_type, body = get(base + "/targets")
        assert status == 200 and content_type.startswith("application/json")
        assert json.loads(body) == [
            {"targets": ["api"], "labels": {"critical": "true", "tags": ",edge,web,"}},
            {"targets": ["billing"], "labels": {"critical": "false", "tags": ""}},
            {"targets": ["stuck"], "labels": {"critical": "true", "tags": ",web,"}},
        ]
        assert get(base + "/healthz")[0] == 200  # --probe-only: ready at once
        assert get(base + "/report.json")[0] == 404


def test_probe_answers_the_services_asked_for_with_the_metrics_names_of_metrics(
    servers: ServerThread, manifest_file: Callable[[str], Path]
) -> None:
    with serving(fleet(servers, manifest_file), "--probe-only") as base:
        status, content_type, text = get(base + "/probe?service=api")
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        found = samples(text)
        assert named(found, "svccheck_probe_success") == {(("service", "api"),): 1.0}
        assert named(found, "svccheck_check_up") == {
            (("check", "health"), ("service", "api")): 1.0,
            (("check", "home"), ("service", "api")): 1.0,
        }
        assert named(found, "svccheck_check_attempts")  # the same families as /metrics
        assert 0 < found[("svccheck_probe_duration_seconds", ())] < WAIT

        # a failing non-critical service is 0 with its class: the scrape's `critical` label decides what pages
        found = samples(get(base + "/probe?service=billing&service=api&check=health")[2])
        assert named(found, "svccheck_probe_success") == {
            (("class", "health"), ("service", "billing")): 0.0,
            (("service", "api"),): 1.0,
        }
        assert ("svccheck_check_attempts", (("check", "health"), ("service", "billing"))) in found
        assert named(found, "svccheck_probe_component_up") == {
            (("check", "health"), ("component", "db"), ("service", "billing")): 0.0,
            (("check", "health"), ("component", "disk"), ("service", "billing")): 1.0,
        }
        assert len(named(found, "svccheck_check_up")) == 2  # `check=health`: api's home is not probed

        status, _, body = get(base + "/probe?service=nope")
        assert status == 400 and "'nope'" in body and "api, billing, stuck" in body
        status, _, body = get(base + "/probe?service=api&check=nope")
        assert status == 400 and "'nope'" in body and "health, home" in body
        assert get(base + "/probe")[0] == 400
        # `target=` (blackbox's name, which the operator's Probe sends) is `service=`; `module=` is ignored
        found = samples(get(base + "/probe?target=api&module=http_2xx")[2])
        assert named(found, "svccheck_probe_success") == {(("service", "api"),): 1.0}
        found = samples(get(base + "/probe?tag=edge")[2])
        assert set(named(found, "svccheck_probe_success")) == {(("service", "api"),)}

        counters = samples(get(base + "/metrics")[2])
        assert counters[("svccheck_serve_probes_total", ())] == 4  # the 400s probed nothing
        assert counters[("svccheck_serve_probes_in_flight", ())] == 0


def test_a_probe_of_a_hanging_service_ends_within_the_scrape_timeout(
    servers: ServerThread, manifest_file: Callable[[str], Path]
) -> None:
    with serving(fleet(servers, manifest_file), "--probe-only") as base:
        started = time.monotonic()
        status, _, text = get(base + "/probe?service=stuck", {SCRAPE_TIMEOUT: "1.5"})
        took = time.monotonic() - started
        assert status == 200, text
        assert took < 1.5, f"the answer came after the scrape gave up: {took:.2f}s"
        found = samples(text)
        assert named(found, "svccheck_probe_success") == {(("class", "deadline"), ("service", "stuck")): 0.0}
        assert found[("svccheck_probe_duration_seconds", ())] <= probe_budget("1.5") + 0.2
        # the answer is written once the probe's work is over, not beside it
        assert samples(get(base + "/metrics")[2])[("svccheck_serve_probes_in_flight", ())] == 0


def test_scrape_timeout_budget() -> None:
    assert probe_budget("10") == 9.5  # the margin is at most half a second
    assert probe_budget("1") == 0.75  # and at most a quarter of a short timeout
    assert probe_budget(None) == 9.5  # Prometheus's default of 10s
    for nonsense in ("soon", "-1", "0", "nan", "inf"):
        assert probe_budget(nonsense) == 9.5


def test_probes_beyond_max_concurrent_are_refused_within_their_own_time(
    servers: ServerThread, manifest_file: Callable[[str], Path]
) -> None:
    with (
        serving(fleet(servers, manifest_file), "--probe-only", "--max-concurrent-probes", "1") as base,
        ThreadPoolExecutor(1) as pool,
    ):
        first = pool.submit(get, base + "/probe?service=stuck", {SCRAPE_TIMEOUT: "4"})
        deadline = time.monotonic() + WAIT
        while samples(get(base + "/metrics")[2])[("svccheck_serve_probes_in_flight", ())] != 1:
            assert time.monotonic() < deadline, "the first probe never started"
        started = time.monotonic()
        status, _, body = get(base + "/probe?service=api", {SCRAPE_TIMEOUT: "1"})
        assert status == 503 and "--max-concurrent-probes" in body
        assert time.monotonic() - started < 1.0
        assert first.result(timeout=WAIT)[0] == 200


def test_shards_split_the_rounds_by_prometheus_hashmod_of_the_name(
    servers: ServerThread, manifest_file: Callable[[str], Path]
) -> None:
    names = [f"svc-{n}" for n in range(8)]
    port = servers.add(up)
    path = manifest_file(
        "services:\n"
        + "".join(f'  {n}: {{url: "http://127.0.0.1:{port}", health: /health}}\n' for n in names)
    )
    seen: list[set[str]] = []
    for index in range(2):
        with serving(
            path, "--shard", f"{index}/2", "--interval", "1h", "--location", f"zone-{index}"
        ) as base:
            deadline = time.monotonic() + WAIT
            while (answer := get(base + "/report.json"))[0] != 200:
                assert time.monotonic() < deadline, answer
            report = json.loads(answer[2])
            assert report["location"] == f"zone-{index}"
            seen.append({s["name"] for s in report["services"]})
            assert seen[-1] == {n for n in names if hashmod(n, 2) == index}
            # every series says where it was probed from
            for (name, labels), _ in samples(get(base + "/metrics")[2]).items():
                if name.startswith("svccheck_check_"):
                    assert ("location", f"zone-{index}") in labels
            probed = samples(get(base + f"/probe?service={names[0]}")[2])  # any service, on demand
            assert (("location", f"zone-{index}"), ("service", names[0])) in named(
                probed, "svccheck_probe_success"
            )
    assert seen[0] | seen[1] == set(names) and not seen[0] & seen[1] and seen[0] and seen[1]


def test_hashmod_is_prometheus_s() -> None:
    # the values of Prometheus's own relabel tests (model/relabel/relabel_test.go, modulus 1000)
    assert hashmod("baz", 1000) == 976 and hashmod("foo\nbar", 1000) == 734
    assert Shard.parse("1/3") == Shard(1, 3) and str(Shard(1, 3)) == "1/3"
    for bad in ("3/3", "-1/2", "1", "a/b", "0/0"):
        try:
            Shard.parse(bad)
        except ValueError as exc:
            assert "0 <= i < N" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was taken for a shard")


def test_a_bad_shard_is_a_usage_error_before_anything_listens(manifest_file: Callable[[str], Path]) -> None:
    path = manifest_file('services:\n  api: {url: "http://127.0.0.1:9", health: /health}\n')
    for bad in ("2/2", "one/two", "1"):
        result = run_cli("serve", "-f", str(path), "--port", "0", "--shard", bad)
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"--shard: expected i/N with 0 <= i < N (e.g. 0/2 and 1/2), got {bad!r}" in result.stderr
        assert "listening" not in result.stdout
