"""Monitoring and storage endpoints against the real services."""

from __future__ import annotations

import asyncio
import gc
import time
from types import SimpleNamespace
from typing import cast

import httpx
import pytest

from marketpulse.analytics.conditions import ConditionTable
from marketpulse.api.deps import Stores
from marketpulse.api.health import refresh_lag
from marketpulse.metrics import DEADLETTERS
from marketpulse.storage.repositories.audit import AuditRepository
from marketpulse.storage.repositories.condition_tables import ConditionTables
from marketpulse.storage.repositories.jobs import JobRepository, JobResult
from tests.api_helpers import ApiStack, api_settings, assert_error, serve, sign_in
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]
V1 = "/api/v1"


async def test_health_reports_every_dependency_and_consumer_lag(api: ApiStack) -> None:
    response = await api.client.get(f"{V1}/monitoring/health")
    assert response.status_code == 200, response.text
    body = response.json()
    checks = body["data"]["checks"]
    assert body["data"]["status"] == "ok"
    assert set(checks) == {"broker", "influxdb", "postgres", "redis", "consumer_lag"}
    assert all(c["latency_ms"] >= 0 for c in checks.values())
    assert set(checks["consumer_lag"]["detail"]) == set(api.settings.consumer_groups())
    assert set(body["metadata"]) == {
        "timestamp",
        "version",
        "api_version",
        "cache_used",
        "request_id",
    }


async def test_health_is_503_when_a_dependency_is_down(services: object, api: ApiStack) -> None:
    broken = api_settings(api.settings, redis_url="redis://127.0.0.1:1/0")

    async with serve(broken) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.get(f"{V1}/monitoring/health")
        live = await client.get(f"{V1}/monitoring/live")
    # the probe endpoint stays up: one store down must not take every replica out of service
    assert (live.status_code, live.json()["data"]) == (200, {"status": "ok"})
    assert response.status_code == 503
    checks = response.json()["data"]["checks"]
    assert response.json()["data"]["status"] == "degraded"
    assert checks["redis"]["healthy"] is False
    assert "detail" in checks["redis"]
    assert checks["broker"]["healthy"] is True


async def test_metrics_are_prometheus_text(api: ApiStack) -> None:
    DEADLETTERS.labels(reason="malformed").inc(0)
    await api.client.get(f"{V1}/market-data/AAPL/quote")  # a 401, counted by route and status
    response = await api.client.get(f"{V1}/monitoring/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'marketpulse_deadletters_total{reason="malformed"}' in response.text
    assert (
        'marketpulse_api_request_seconds_count{method="GET",route="/api/v1/market-data/{symbol}/quote",status="401"}'
        in response.text
    )


async def test_health_says_when_a_condition_table_could_not_be_refreshed(api: ApiStack) -> None:
    fresh, stale = unique("cond"), unique("cond")
    kept = ConditionTables(api.pool)
    await kept.fetched(fresh, ConditionTable(fresh, {"37": 4}))
    await kept.fetched(stale, ConditionTable(stale, {"37": 4, "14": 7}))
    await kept.failed(stale, "VendorError: polygon: HTTP 503")
    response = await api.client.get(f"{V1}/monitoring/health")
    body = response.json()["data"]
    # the bars go on by the table in use: the service stays healthy, and says so beside it
    assert (response.status_code, body["status"]) == (200, "ok")
    assert body["conditions"][fresh]["status"] == "ok"
    assert body["conditions"][fresh]["version"] == ConditionTable(fresh, {"37": 4}).version
    assert body["conditions"][stale]["status"] == "stale"
    assert body["conditions"][stale]["error"] == "VendorError: polygon: HTTP 503"
    assert body["conditions"][stale]["fetched_at"] is not None


async def test_jobs_list_and_detail(api: ApiStack) -> None:
    jobs = JobRepository(api.pool)
    job = await jobs.create(["AAPL", "MSFT"], "replay")
    await jobs.record_results([JobResult(job_id=job.job_id, symbol="AAPL", records=10, errors=1)])
    analyst = await sign_in(api.client, api.pool, "analyst")
    listed = await api.client.get(f"{V1}/monitoring/jobs", headers=analyst.headers)
    assert str(job.job_id) in {j["job_id"] for j in listed.json()["data"]}
    detail = await api.client.get(f"{V1}/monitoring/jobs/{job.job_id}", headers=analyst.headers)
    assert detail.json()["data"]["job"]["records_processed"] == 10
    assert detail.json()["data"]["results"][0]["symbol"] == "AAPL"
    missing = await api.client.get(
        f"{V1}/monitoring/jobs/00000000-0000-0000-0000-000000000000", headers=analyst.headers
    )
    assert_error(missing, 404, "NOT_FOUND")


async def test_storage_health_stats_and_retention(api: ApiStack) -> None:
    analyst = await sign_in(api.client, api.pool, "analyst")
    admin = await sign_in(api.client, api.pool, "admin")
    health = await api.client.get(f"{V1}/storage/health", headers=analyst.headers)
    assert set(health.json()["data"]["checks"]) == {"influxdb", "postgres", "redis"}
    stats = await api.client.get(f"{V1}/storage/stats", headers=analyst.headers)
    tables = {t["table"] for t in stats.json()["data"]["postgres"]["tables"]}
    assert {"users", "signals", "audit_logs"} <= tables
    policies = await api.client.get(f"{V1}/storage/retention", headers=analyst.headers)
    names = {p["name"] for p in policies.json()["data"]}
    assert {"quotes_30d", "raw_1y", "daily_10y", "indicators_5y"} <= names

    changed = await api.client.put(
        f"{V1}/storage/retention/quotes_30d", json={"duration": "45d"}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["duration"] == "1080h0m0s"
    audit = await AuditRepository(api.pool).recent(admin.user.user_id, "storage.retention")
    assert audit[0].detail == {"duration": "45d"}
    bad = await api.client.put(
        f"{V1}/storage/retention/quotes_30d", json={"duration": "45 days"}, headers=admin.headers
    )
    assert_error(bad, 422)
    missing = await api.client.put(
        f"{V1}/storage/retention/nope", json={"duration": "45d"}, headers=admin.headers
    )
    assert_error(missing, 404)


async def test_startup_puts_the_long_lived_objects_out_of_the_collectors_sight(
    api: ApiStack,
) -> None:
    """gc.freeze() after startup: a full collection must not walk the app (tens of ms)."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    async with serve(api.settings):
        assert gc.get_freeze_count() > 10_000


async def test_scrapes_share_one_lag_measurement_and_leave_no_connection_open(
    api: ApiStack,
) -> None:
    """A broker that accepts connections and never answers: five scrapes at once each wait
    their deadline for one shared measurement, which ends by its own timeouts and closes what
    it opened (a measurement cut short by a scrape's deadline would leave its connections)."""
    opened: list[asyncio.StreamReader] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.append(reader)
        await reader.read()  # until the client closes
        writer.close()

    broker = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = broker.sockets[0].getsockname()[1]
    settings = api_settings(api.settings, kafka_broker=f"kafka://127.0.0.1:{port}")
    # what the lag measurement reads of the API's stores: its settings, and the one in progress
    stores = cast(Stores, SimpleNamespace(settings=settings, lag_measurement=None))
    async with broker:
        started = time.monotonic()
        await asyncio.gather(*(refresh_lag(stores) for _ in range(5)))
        assert time.monotonic() - started < 10  # each waited its deadline, no longer
        measurement = stores.lag_measurement
        assert measurement is not None
        deadline = time.monotonic() + 30
        while not (measurement.done() and opened and all(r.at_eof() for r in opened)):
            assert time.monotonic() < deadline, f"{len(opened)} connections, some left open"
            await asyncio.sleep(0.05)
    assert len(opened) == 1  # five scrapes, one measurement
