"""The monitoring endpoints against the real services."""

from __future__ import annotations

import httpx
import pytest

from marketpulse.api.main import create_app
from marketpulse.settings import Settings

pytestmark = [pytest.mark.integration]


def _client(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


async def test_health_reports_every_dependency(services: Settings) -> None:
    async with _client(services) as client:
        response = await client.get("/api/v1/monitoring/health")
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["status"] == "ok"
    assert set(body["data"]["checks"]) == {"kafka", "influxdb", "postgres", "redis"}
    assert set(body["metadata"]) == {"timestamp", "version", "cache_used", "request_id"}


async def test_health_is_503_when_a_dependency_is_down(services: Settings) -> None:
    broken = services.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with _client(broken) as client:
        response = await client.get("/api/v1/monitoring/health")
    assert response.status_code == 503
    body = response.json()
    assert body["data"]["status"] == "degraded"
    assert body["data"]["checks"]["redis"]["healthy"] is False
    assert body["data"]["checks"]["kafka"]["healthy"] is True


async def test_metrics_are_prometheus_text(services: Settings) -> None:
    from marketpulse.metrics import DEADLETTERS

    DEADLETTERS.labels(reason="malformed").inc(0)
    async with _client(services) as client:
        response = await client.get("/api/v1/monitoring/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'marketpulse_deadletters_total{reason="malformed"}' in response.text
