"""The operations files: Prometheus alert rules (checked and unit-tested by promtool, from
Debian's ``prometheus`` package), the Prometheus config, the Grafana dashboard and its
provisioning; and every metric they use is exported by a running worker, sinks and API."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from marketpulse.clock import SystemClock
from marketpulse.schemas.events import Frame, Quote, Trade
from marketpulse.services.apt import ensure_installed
from marketpulse.settings import Settings
from tests.api_helpers import api_settings, serve
from tests.kafka_helpers import produce, unique
from tests.sink_helpers import eventually
from tests.workers import REPO, WorkerProcess, free_port

pytestmark = [pytest.mark.e2e]

PROMETHEUS = REPO / "deploy" / "prometheus"
GRAFANA = REPO / "deploy" / "grafana"
METRIC = re.compile(r"\bmarketpulse_[a-z_]+\b")


@pytest.fixture(scope="module")
def promtool() -> str:
    return ensure_installed("alert rule tests", "prometheus", "promtool", "PATH")


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GRAFANA / "dashboards" / "marketpulse.json").read_text())
    return loaded


def _panel_exprs() -> list[str]:
    return [t["expr"] for p in _dashboard()["panels"] for t in p.get("targets", [])]


def test_alert_rules_pass_promtool_and_their_unit_tests(promtool: str) -> None:
    assert "SUCCESS: 11 rules found" in _run(
        promtool, "check", "rules", "deploy/prometheus/alerts.yml"
    )
    assert "SUCCESS" in _run(promtool, "test", "rules", "deploy/prometheus/alerts.test.yml")

    # every alert has a unit test that expects it to fire, and says what to do about it
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    for rule in _rules():
        assert rule["alert"] in fired, rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
    covered = " ".join(rule["expr"] for rule in _rules())
    for topic in ("consumer_lag", "deadletters", "sink_errors", "status=~\"5..\"",
                  "request_seconds_bucket", "last_event_timestamp", "send_failures"):  # fmt: skip
        assert topic in covered, topic


def test_prometheus_config_loads_the_rules_and_scrapes_every_process(
    promtool: str, tmp_path: Path
) -> None:
    config = (PROMETHEUS / "prometheus.yml").read_text()
    assert "/etc/prometheus/alerts.yml" in config  # where docker-compose mounts them
    local = tmp_path / "prometheus.yml"
    local.write_text(config.replace("/etc/prometheus/alerts.yml", str(PROMETHEUS / "alerts.yml")))
    assert "SUCCESS" in _run(promtool, "check", "config", str(local))
    jobs = {job["job_name"] for job in yaml.safe_load(config)["scrape_configs"]}
    assert jobs == {"marketpulse-worker", "marketpulse-sinks", "marketpulse-api"}


def test_grafana_is_provisioned_with_the_dashboard_on_the_prometheus_datasource() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    mounts = {m.split(":")[0]: m.split(":")[1] for m in compose["grafana"]["volumes"]}
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboards_dir = mounts["./deploy/grafana/dashboards"]
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/marketpulse.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == dashboards_dir
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    datasource = source["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in compose

    dashboard = _dashboard()
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert {p["datasource"]["uid"] for p in panels} == {datasource["uid"]}
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert rows == ["Pipeline", "Lag", "Sinks", "API"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


async def _sample(page: Awaitable[str], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric on a scraped page, by their labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(await page)
        for sample in family.samples
        if sample.name == name
    }


def _exported(text: str) -> set[str]:
    """Every series name the exposition declares (histograms as their three series)."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names |= (
            {f"{name}_bucket", f"{name}_count", f"{name}_sum"} if kind == "histogram" else {name}
        )
    return names


async def test_every_metric_the_rules_and_dashboard_use_is_exported_by_running_processes(
    services: Settings, tmp_path: Path
) -> None:
    prefix = unique("ops") + "."
    worker_port, sinks_port = free_port(), free_port()
    env = {
        "MARKETPULSE_TOPIC_PREFIX": prefix,
        "MARKETPULSE_WORKER_ID": unique("ops"),
        "MARKETPULSE_WORKER_METRICS_PORT": str(worker_port),
        "MARKETPULSE_SINK_METRICS_PORT": str(sinks_port),
    }
    worker = WorkerProcess(["-m", "marketpulse.cli", "worker"], env, tmp_path / "worker.log")
    sinks = WorkerProcess(["-m", "marketpulse.cli", "sinks"], env, tmp_path / "sinks.log")
    settings = api_settings(services, topic_prefix=prefix, worker_id=env["MARKETPULSE_WORKER_ID"])
    try:
        worker.wait_for_log("[^Worker]: Ready")
        now = SystemClock().now_ns()
        frame = Frame(
            source="test",
            received_ts=now,
            events=[
                Quote(symbol="OPS", ts=now - 2_000_000, bid=10.0, ask=10.1),
                Trade(symbol="OPS", ts=now - 1_000_000, price=10.05, size=100),
            ],
        )
        await produce(services, prefix + "market.raw", [(b"OPS", frame.model_dump_json().encode())])

        async with httpx.AsyncClient(timeout=10) as client, serve(settings) as api:
            pages = {
                "worker": f"http://127.0.0.1:{worker_port}/metrics",
                "sinks": f"http://127.0.0.1:{sinks_port}/metrics",
                "api": f"{api}/api/v1/monitoring/metrics",
            }

            async def scrape(name: str) -> str:
                return (await client.get(pages[name])).text

            # the worker's stale-feed gauge holds the newest event time of the symbol...
            newest = await eventually(
                lambda: _sample(scrape("worker"), "marketpulse_last_event_timestamp_seconds"),
                lambda found: "OPS" in str(found),
                what="the OPS event time",
            )
            assert newest == {(("symbol", "OPS"),): pytest.approx((now - 1_000_000) / 1e9)}
            # ... and the API measures the worker group's lag at each scrape
            group = (("group", env["MARKETPULSE_WORKER_ID"]),)  # once the worker has committed
            lag = await eventually(
                lambda: _sample(scrape("api"), "marketpulse_consumer_lag"),
                lambda found: group in found,
                what="the worker group's lag",
            )
            assert lag[group] >= 0

            exported = set().union(*[_exported(await scrape(name)) for name in pages])
        used = {
            m
            for text in [*(r["expr"] for r in _rules()), *_panel_exprs()]
            for m in METRIC.findall(text)
        }
        assert len(used) >= 15
        assert used <= exported, sorted(used - exported)
    finally:
        for process in (worker, sinks):
            process.stop()


def test_every_api_worker_process_writes_the_access_log(services: Settings, tmp_path: Path) -> None:
    """``marketpulse api`` with two workers (as the Kubernetes config runs it): each request is
    one access line, whichever process served it. Each worker is a fresh interpreter, so logging
    set up only in the parent would lose them all."""
    port = free_port()
    env = {"MARKETPULSE_API_PORT": str(port), "MARKETPULSE_API_WORKERS": "2"}
    api = WorkerProcess(["-m", "marketpulse.cli", "api"], env, tmp_path / "api.log")
    try:
        url = f"http://127.0.0.1:{port}/api/v1/monitoring/live"
        api.wait_for_log("Started server process", count=2)
        api.wait_for_url(url)
        ids = [unique("probe") for _ in range(12)]
        for rid in ids:  # a new connection each, so both workers get some
            assert httpx.get(url, headers={"X-Request-ID": rid}).status_code == 200
        for rid in ids:
            api.wait_for_log(f"request={rid} ", timeout_s=10)
        lines = [line for line in api.log().splitlines() if "request=probe" in line]
        assert len(lines) == len(ids)
        assert all(
            " INFO marketpulse.api.access GET /api/v1/monitoring/live 200 " in x for x in lines
        )
    finally:
        api.stop()
