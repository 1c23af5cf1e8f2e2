"""Warm-up from a vendor: before it streams, the live Polygon source stores the history that
InfluxDB lacks (a local server answering in Polygon's aggregates format, with a partial bar
for the current minute), and the worker warms the series from it on the first live frame, the
live bar taking over; a vendor that keeps failing is recorded in the job, and the series starts
cold."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import numpy as np
import orjson
import pytest
import talib
from pydantic import SecretStr
from websockets.asyncio.server import ServerConnection

from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.settings import Settings
from marketpulse.storage import history
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.repositories.jobs import JobRepository
from marketpulse.streams.sources.replay import publish
from marketpulse.streams.sources.vendor import stream_polygon
from marketpulse.streams.sources.vendor_history import store_history
from marketpulse.vendors.polygon import Polygon
from tests.e2e.pipeline import M, Pipeline, S, minute_frames, one_partition
from tests.vendor_helpers import Answer, fake_vendor, ws_authenticated, ws_vendor

pytestmark = [pytest.mark.e2e]
SYMBOL = "VWARM"
HISTORY = 40


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(services, tmp_path, '["1m"]', '["sma_5", "ema_10", "rsi_14"]') as p:
        yield p


def aggregates(live: int) -> tuple[bytes, list[float]]:
    """Polygon's answer for the minutes before ``live``, and the live minute so far (partial),
    and the closes of the closed ones."""
    rng = np.random.default_rng(31)
    closes = np.round(90 * np.exp(np.cumsum(rng.normal(0, 0.004, HISTORY + 1))), 2).tolist()
    first = live - HISTORY * M
    rows = [
        {"o": c, "h": c + 0.04, "l": c - 0.04, "c": c, "v": 1200 + i, "vw": c, "n": 14,
         "t": (first + i * M) // 1_000_000}
        for i, c in enumerate(closes)
    ]  # fmt: skip
    body = {"ticker": SYMBOL, "queryCount": len(rows), "resultsCount": len(rows),
            "adjusted": True, "results": rows, "status": "OK", "request_id": "warm",
            "count": len(rows)}  # fmt: skip
    return orjson.dumps(body), closes[:-1]


async def test_the_source_stores_the_vendor_s_history_and_the_worker_warms_from_it(
    pipeline: Pipeline,
) -> None:
    live = (SystemClock().now_ns() // M - 20) * M
    body, closes = aggregates(live)
    async with fake_vendor(lambda _request: Answer(body)) as vendor:
        client = Polygon("test-key", vendor.url, 1000)
        try:
            await migrate(pipeline.settings)
            # as the source runs it at the start of the live minute's twentieth second
            job = await store_history(pipeline.settings, client, [SYMBOL], live + 20 * S)
        finally:
            await client.close()
    assert vendor.requests[0].path.startswith(f"/v2/aggs/ticker/{SYMBOL}/range/1/minute/")
    assert (job.status, job.data_type, job.records_processed) == ("succeeded", "warmup:polygon", 14)
    async with InfluxClient(pipeline.settings) as influx:
        stored = await history.bars(influx, SYMBOL, "1m", None, None, 100)
    # the lookback's worth, every one closed: not the partial live minute
    assert [bar["start"] for bar in stored] == [live - (14 - i) * M for i in range(14)]

    pipeline.start_worker()
    frames = minute_frames(SYMBOL, live, 3, 37)
    for frame in frames:
        await publish(pipeline.settings, [(frame.received_ts, SYMBOL, frame)])
    bars = [Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.1m", 2)]
    assert [bar.start for bar in bars] == [live, live + M]
    window = np.array(closes[-14:] + [bar.close for bar in bars])
    snapshot = IndicatorSnapshot.model_validate_json(
        (await pipeline.read("analytics.indicators", 1))[0].value
    )
    assert all(snapshot.ready.values())
    assert snapshot.values["rsi_14"] == pytest.approx(talib.RSI(window, 14)[14], rel=1e-9)
    assert snapshot.values["ema_10"] == pytest.approx(talib.EMA(window, 10)[14], rel=1e-9)


async def test_a_vendor_that_keeps_failing_is_recorded_and_stores_nothing(
    pipeline: Pipeline,
) -> None:
    failing = Answer(b'{"status": "ERROR", "error": "upstream"}', status=502)
    async with fake_vendor(lambda _request: failing) as vendor:
        client = Polygon("test-key", vendor.url, 1000)
        try:
            await migrate(pipeline.settings)
            job = await store_history(pipeline.settings, client, [SYMBOL], SystemClock().now_ns())
        finally:
            await client.close()
    assert len(vendor.requests) > 1  # retried before giving up
    assert (job.status, job.errors_count) == ("failed", 1)
    pool: asyncpg.Pool = await create_pool(pipeline.settings)
    try:
        (result,) = await JobRepository(pool).results(job.job_id)
    finally:
        await pool.close()
    assert (result.symbol, result.records) == (SYMBOL, 0)
    assert (result.detail or "").startswith("1m: ")
    async with InfluxClient(pipeline.settings) as influx:
        assert await history.bars(influx, SYMBOL, "1m", None, None, 100) == []


async def test_the_live_source_stores_history_first_when_polygon_is_a_warm_up_source(
    services: Settings,
) -> None:
    """The source's own path: the history is asked for before the WebSocket connects."""
    asked_before: list[int] = []
    connected = asyncio.Event()

    async def session(ws: ServerConnection, _n: int) -> None:
        asked_before.append(len(vendor.requests))
        await ws_authenticated(ws, [])
        connected.set()
        await ws.wait_closed()

    async with (
        fake_vendor(lambda _request: Answer(b'{"results": [], "status": "OK"}')) as vendor,
        ws_vendor(session) as (url, _auths),
    ):
        settings = services.model_copy(update={
            "polygon_api_key": SecretStr("test-key"), "polygon_url": vendor.url,
            "polygon_ws_url": url, "polygon_per_minute": 1000,
            "warmup_from": ["influxdb", "polygon"],
        })  # fmt: skip
        task = asyncio.create_task(stream_polygon(settings, [SYMBOL], ["T"]))
        try:
            await asyncio.wait_for(connected.wait(), 60)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    aggs = [r.path for r in vendor.requests if r.path.startswith("/v2/aggs/")]
    assert aggs[0].startswith(f"/v2/aggs/ticker/{SYMBOL}/range/1/minute/")
    assert asked_before[0] >= len(settings.granularities)  # every granularity's history first
