"""The multi-target pattern against a real Prometheus: it discovers the services from `/targets`,
sends each to one of two svccheck replicas by `hashmod`, scrapes `/probe`, and alerts on the failing one.

Prometheus is Debian's `prometheus` package (`.ci/run` installs it); without it the test skips.
Intervals are 1-2s and every wait polls Prometheus's HTTP API against a deadline.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.real_services import prometheus_binaries, prometheus_server
from support.serving import get, serving
from svccheck.demo.server import Request, Response, ServerThread, json_response
from svccheck.engine.shard import hashmod

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "prometheus" / "svccheck.rules.yml"
RULES_TEST = ROOT / "docs" / "prometheus" / "svccheck.rules.test.yml"
DEADLINE = 90.0  # seconds for Prometheus to discover, scrape and alert (1s intervals: ~5s normally)
SERVICES = ("api", "billing", "payments", "search", "users", "web")
FAILING = "payments"


def scrape_config(replicas: list[str]) -> str:
    """The scrape config of docs/kubernetes.md, with loopback replicas for the pods."""
    routes = "".join(
        f"""
      - source_labels: [__tmp_shard]
        regex: "{index}"
        target_label: __address__
        replacement: {address}"""
        for index, address in enumerate(replicas)
    )
    return f"""
global:
  scrape_interval: 2s
  scrape_timeout: 2s  # a probe gets 1.5s of it: ample on loopback, even on a busy CI machine
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: svccheck
    metrics_path: /probe
    http_sd_configs:
      - url: http://{replicas[0]}/targets
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_service
      - source_labels: [__address__]
        target_label: instance
      - source_labels: [__address__]
        modulus: {len(replicas)}
        target_label: __tmp_shard
        action: hashmod{routes}
"""


def query(base: str, api: str, **params: str) -> Any:
    url = f"{base}/api/v1/{api}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    status, _, body = get(url)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    return answer["data"]


def poll(what: str, read: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """`read()` again until `done` holds for it (Prometheus's API is the clock), or fail at the deadline."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not seen in {DEADLINE:.0f}s; last: {value}")
        time.sleep(0.2)


async def up(request: Request) -> Response:
    return json_response({"status": "UP"})


async def down(request: Request) -> Response:
    return json_response({"status": "DOWN", "components": {"db": {"status": "DOWN"}}}, status=503)


def test_promtool_checks_and_tests_the_documented_rules() -> None:
    _, promtool = prometheus_binaries()
    for args in (["check", "rules", str(RULES)], ["test", "rules", str(RULES_TEST)]):
        result = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout


def test_prometheus_probes_each_service_through_one_replica_and_alerts_on_the_failing_one(
    servers: ServerThread, manifest_file: Callable[[str], Path], tmp_path: Path
) -> None:
    _, promtool = prometheus_binaries()
    up_port, down_port = servers.add(up), servers.add(down)
    manifest = manifest_file(
        "defaults: {retries: 1, backoff: 1ms}\nservices:\n"
        + "".join(
            f'  {name}: {{url: "http://127.0.0.1:{down_port if name == FAILING else up_port}", health: /health}}\n'
            for name in SERVICES
        )
    )
    with contextlib.ExitStack() as stack:
        # two replicas; their rounds (--shard, an hour apart: one round) split the fleet as hashmod does
        bases = [
            stack.enter_context(
                serving(manifest, "--shard", f"{i}/2", "--interval", "1h", "--location", "lab")
            )
            for i in range(2)
        ]
        replicas = [base.removeprefix("http://") for base in bases]
        config = scrape_config(replicas)
        (tmp_path / "rules.yml").write_text(RULES.read_text().replace("for: 2m", "for: 1s"))
        (tmp_path / "prometheus.yml").write_text(config)
        checked = subprocess.run(
            [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        prometheus = stack.enter_context(prometheus_server(config, tmp_path))

        expected = {name: "0" if name == FAILING else "1" for name in SERVICES}
        series = poll(
            "a svccheck_probe_success series for every service, 0 for the failing one only",
            lambda: query(prometheus, "query", query="svccheck_probe_success")["result"],
            lambda result: {r["metric"]["service"]: r["value"][1] for r in result} == expected,
        )
        per_service: dict[str, list[dict[str, Any]]] = {}
        for item in series:
            per_service.setdefault(item["metric"]["service"], []).append(item)
        assert {name: len(items) for name, items in per_service.items()} == dict.fromkeys(SERVICES, 1)
        for name, (item,) in per_service.items():
            labels, value = item["metric"], item["value"][1]
            assert labels["instance"] == name and labels["critical"] == "true" and labels["location"] == "lab"
            if name == FAILING:
                assert value == "0" and labels["class"] == "health", item
            else:
                assert value == "1" and "class" not in labels, item

        # each service was scraped through the replica hashmod chose, the one whose --shard rounds have it
        targets = query(prometheus, "targets", state="active")["activeTargets"]
        routed = {t["labels"]["instance"]: urllib.parse.urlsplit(t["scrapeUrl"]).netloc for t in targets}
        assert routed == {name: replicas[hashmod(name, 2)] for name in SERVICES}
        for index, base in enumerate(bases):
            report = json.loads(get(base + "/report.json")[2])
            assert {s["name"] for s in report["services"]} == {
                n for n, r in routed.items() if r == replicas[index]
            }

        alerts = poll(
            f"SvccheckServiceDown firing for {FAILING}",
            lambda: query(prometheus, "alerts")["alerts"],
            lambda found: any(
                a["labels"]["alertname"] == "SvccheckServiceDown" and a["state"] == "firing" for a in found
            ),
        )
        down_alerts = [a for a in alerts if a["labels"]["alertname"] == "SvccheckServiceDown"]
        assert [a["labels"]["service"] for a in down_alerts] == [FAILING]
        (alert,) = down_alerts
        assert alert["labels"]["class"] == "health" and alert["labels"]["severity"] == "page"
        assert alert["annotations"]["summary"] == f"{FAILING} is down: health"
        # the same through the query API: the ALERTS series Prometheus keeps for firing alerts
        firing = query(
            prometheus, "query", query='ALERTS{alertname="SvccheckServiceDown",alertstate="firing"}'
        )
        assert [r["metric"]["service"] for r in firing["result"]] == [FAILING]
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def yaml_blocks(path: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text(), flags=re.DOTALL)


def test_the_kubernetes_recipe_is_what_promtool_and_the_rules_file_say(tmp_path: Path) -> None:
    _, promtool = prometheus_binaries()
    blocks = yaml_blocks(ROOT / "docs" / "kubernetes.md")
    for block in blocks:  # every block is YAML a person can apply as it is
        assert list(yaml.safe_load_all(block)), block
    # the PrometheusRule holds the rules file's groups, word for word
    (rule,) = [d for b in blocks for d in yaml.safe_load_all(b) if d.get("kind") == "PrometheusRule"]
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]
    # the plain Prometheus config, and the hashmod variant spliced into it, pass promtool
    (config,) = [b for b in blocks if "scrape_configs:" in b]
    (pinned,) = [b for b in blocks if "action: hashmod" in b]
    shutil.copy(RULES, tmp_path / "svccheck.rules.yml")
    plain = yaml.safe_load(config)
    variants = [
        plain,
        {**plain, "scrape_configs": [{**plain["scrape_configs"][0], **yaml.safe_load(pinned)}]},
    ]
    for index, variant in enumerate(variants):
        path = tmp_path / f"prometheus-{index}.yml"
        path.write_text(yaml.safe_dump(variant))
        result = subprocess.run(
            [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
