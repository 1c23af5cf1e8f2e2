"""Deep health: each dependency probed concurrently, each with its own deadline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from marketpulse import metrics
from marketpulse.api.deps import Stores
from marketpulse.services.probes import kafka_api_versions
from marketpulse.storage.repositories.condition_tables import ConditionTables
from marketpulse.streams.lag import group_lag

_DEADLINE_S = 3.0
log = logging.getLogger(__name__)


async def _timed(check: Awaitable[Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check, _DEADLINE_S)
        healthy = detail is not False
    except Exception as exc:
        detail, healthy = f"{type(exc).__name__}: {exc}", False
    out: dict[str, Any] = {
        "healthy": healthy,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if detail not in (True, False, None):
        out["detail"] = detail
    return out


async def _postgres(stores: Stores) -> bool:
    return bool(await stores.pool.fetchval("SELECT 1") == 1)


async def _redis(stores: Stores) -> bool:
    return bool(await stores.redis.ping())


async def _broker(stores: Stores) -> bool:
    host, port = stores.settings.kafka_address
    return await asyncio.to_thread(kafka_api_versions, host, port)


async def consumer_lag(stores: Stores) -> dict[str, int | None]:
    """Each consumer group's lag, also set on the ``marketpulse_consumer_lag`` gauge."""
    lags = await group_lag(stores.settings, stores.settings.consumer_groups())
    for group, lag in lags.items():
        if lag is not None:
            metrics.CONSUMER_LAG.labels(group=group).set(lag)
    return lags


async def storage_checks(stores: Stores) -> dict[str, dict[str, Any]]:
    """InfluxDB, PostgreSQL and Redis."""
    names = ("influxdb", "postgres", "redis")
    results = await asyncio.gather(
        _timed(stores.influx.ping()), _timed(_postgres(stores)), _timed(_redis(stores))
    )
    return dict(zip(names, results, strict=True))


def _lag_measurement(stores: Stores) -> asyncio.Task[dict[str, int | None]]:
    """The lag measurement in progress, or a new one. Callers wait for it with a deadline but
    never cancel it: cancelled half-way, its Kafka clients would leave connections open, and
    each scrape of a slow broker would leave more. Its own request timeouts end it."""
    task = stores.lag_measurement
    if task is None or task.done():
        task = stores.lag_measurement = asyncio.create_task(consumer_lag(stores))
        task.add_done_callback(_retrieve)
    return task


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Take a finished measurement's error, which a caller past its deadline will not."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("consumer lag not measured: %r", task.exception())


async def deep_checks(stores: Stores) -> dict[str, dict[str, Any]]:
    """The stores, the broker, and the lag of the worker's and sinks' consumer groups."""
    lag = asyncio.shield(_lag_measurement(stores))
    storage, broker, lagged = await asyncio.gather(
        storage_checks(stores), _timed(_broker(stores)), _timed(lag)
    )
    return {**storage, "broker": broker, "consumer_lag": lagged}


async def condition_tables(stores: Stores) -> dict[str, dict[str, Any]]:
    """Each live source's trade-condition table: its version, when it was fetched, and
    ``stale`` with the error when the last refresh failed. A stale table does not make the
    service unhealthy (bars go on by the table in use), so it is reported beside the checks;
    when PostgreSQL does not answer, its own check says so and this is empty."""
    try:
        statuses = await asyncio.wait_for(ConditionTables(stores.pool).statuses(), _DEADLINE_S)
    except Exception as exc:
        log.warning("condition tables not read: %r", exc)
        return {}
    return {
        s.source: {
            "status": "ok" if s.error is None else "stale",
            "version": s.version,
            "fetched_at": s.fetched_at,
            "checked_at": s.checked_at,
            "error": s.error,
        }
        for s in statuses
    }


async def refresh_lag(stores: Stores) -> None:
    """Update the lag gauge before a scrape; a broker that does not answer in time leaves the
    last values (and the broker's own alerts say why)."""
    await asyncio.wait({_lag_measurement(stores)}, timeout=_DEADLINE_S)


async def finish_lag_measurement(stores: Stores) -> None:
    """Let a measurement in progress end by itself (at shutdown)."""
    task = stores.lag_measurement
    if task is not None and not task.done():
        await asyncio.wait({task}, timeout=2 * _DEADLINE_S)
        task.cancel()
