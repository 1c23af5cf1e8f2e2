"""Storage statistics and retention management against the real InfluxDB and PostgreSQL."""

from __future__ import annotations

import time

import asyncpg
import pytest

from marketpulse.schemas.bars import Bar
from marketpulse.storage import measurements
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.stats import (
    RetentionError,
    measurement_stats,
    retention_policies,
    set_retention,
    table_stats,
)

pytestmark = [pytest.mark.integration]
MINUTE = 60 * 1_000_000_000


async def test_counts_per_measurement_and_bytes_per_policy(influx: InfluxClient) -> None:
    start = time.time_ns() // MINUTE * MINUTE - 1000 * MINUTE
    bars = [Bar(symbol="AAPL", granularity="1m", start=start + i * MINUTE,
                end=start + (i + 1) * MINUTE, open=1, high=2, low=0.5, close=1.5, volume=i)
            for i in range(120)]  # fmt: skip
    await influx.write([measurements.bar_point(b) for b in bars], retention_policy="raw_1y")
    await influx.write(
        [measurements.bar_point(b.model_copy(update={"granularity": "1d"})) for b in bars[:7]],
        retention_policy="daily_10y",
    )
    stats = {(s.measurement, s.retention_policy): s for s in await measurement_stats(influx)}
    assert set(stats) == {("market_data", "raw_1y"), ("market_data", "daily_10y")}
    assert stats["market_data", "raw_1y"].points == 120
    assert stats["market_data", "daily_10y"].points == 7
    policies = {p.name: p for p in await retention_policies(influx)}
    assert policies["raw_1y"].bytes > 0
    assert stats["market_data", "raw_1y"].estimated_bytes == policies["raw_1y"].bytes
    assert policies["quotes_30d"].bytes == 0


async def test_retention_can_be_listed_and_changed_within_what_influxdb_takes(
    influx: InfluxClient,
) -> None:
    changed = await set_retention(influx, "quotes_30d", "14d")
    assert changed.duration == "336h0m0s"
    assert {p.name: p.duration for p in await retention_policies(influx)}["quotes_30d"] == (
        "336h0m0s"
    )
    with pytest.raises(RetentionError, match="no retention policy"):
        await set_retention(influx, "nope", "14d")
    with pytest.raises(RetentionError, match="whole number"):
        await set_retention(influx, "quotes_30d", "14d; DROP DATABASE x")


async def test_table_stats_list_every_table(pool: asyncpg.Pool) -> None:
    tables = {t.table: t for t in await table_stats(pool)}
    assert {"users", "signals", "symbols", "audit_logs", "schema_migrations"} <= set(tables)
    assert tables["symbols"].bytes > 0
