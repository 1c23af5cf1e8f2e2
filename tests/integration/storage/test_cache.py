"""The Redis latest-value and response caches against the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from marketpulse.errors import StoreError
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Quote
from marketpulse.settings import Settings
from marketpulse.storage.cache import LatestCache, LatestReader, ResponseCache, connect
from marketpulse.storage.resp import PipelinedRedis
from tests.factories import make_snapshot
from tests.kafka_helpers import unique
from tests.workers import free_port

pytestmark = [pytest.mark.integration]
T0 = 1_700_000_000_000_000_000


@pytest.fixture
async def client(services: Settings) -> AsyncIterator[aioredis.Redis]:
    client = connect(services.redis_url)
    yield client
    await client.aclose()


def bar(symbol: str, start: int, close: float, revision: int = 0) -> Bar:
    return Bar(symbol=symbol, granularity="1m", start=start, end=start + 60, open=1, high=9,
               low=0.5, close=close, volume=10, revision=revision)  # fmt: skip


async def test_the_newest_record_wins_whatever_order_they_arrive_in(
    client: aioredis.Redis, redis: PipelinedRedis
) -> None:
    cache, reader = LatestCache(client), LatestReader(redis)
    symbol = unique("L").upper().replace("-", "")
    assert await cache.put([bar(symbol, T0 + 60, 2.0)]) == 1
    assert await cache.put([bar(symbol, T0, 1.0)]) == 0  # an older bar, redelivered
    stored = await reader.get(symbol, "bar", "1m")
    assert stored is not None
    assert stored["close"] == 2.0
    await cache.put([bar(symbol, T0 + 60, 3.0, revision=1)])  # a restatement of the same bar
    restated = await reader.get(symbol, "bar", "1m")
    assert restated is not None
    assert restated["close"] == 3.0
    quotes = [Quote(symbol=symbol, ts=T0 + i, bid=i, ask=i + 1) for i in (5, 9, 7)]
    await cache.put(quotes)
    latest = await reader.get(symbol, "quote", "tick")
    assert latest is not None
    assert latest["bid"] == 9
    ttl = await client.ttl(f"market_data:{symbol}:quote:tick")
    assert 0 < ttl <= 300
    snapshot = make_snapshot(symbol, "1m", T0, {"rsi_14": 40.0}, {"rsi_14": True})
    await cache.put([snapshot])
    assert await reader.get(symbol, "indicators", "1m") == snapshot.model_dump()
    assert await reader.get_many([symbol, "NONE"], "bar", "1m") == [restated, None]


async def test_new_data_invalidates_the_responses_that_cover_its_symbol(
    client: aioredis.Redis, redis: PipelinedRedis
) -> None:
    latest, responses = LatestCache(client), ResponseCache(redis)
    a, b = (unique(x).upper().replace("-", "") for x in "AB")
    for symbol, body in ((a, b"body-a"), (b, b"body-b")):
        key, missing = await responses.get("/bars", {"limit": 10}, [symbol])
        assert missing is None
        await responses.put(key, body, ttl_s=60)
    assert (await responses.get("/bars", {"limit": 10}, [a]))[1] == b"body-a"
    assert (await responses.get("/bars", {"limit": 20}, [a]))[1] is None
    await latest.put([bar(a, T0, 1.0)])
    assert (await responses.get("/bars", {"limit": 10}, [a]))[1] is None
    assert (await responses.get("/bars", {"limit": 10}, [b]))[1] == b"body-b"


async def test_a_redis_that_is_down_raises_a_retriable_store_error_quickly() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    client, redis = connect(url), PipelinedRedis(url)
    try:
        with pytest.raises(StoreError) as caught:
            await LatestCache(client).put([bar("AAPL", T0, 1.0)])
        assert caught.value.retriable
        for read in (
            ResponseCache(redis).get("/x", {}, ["AAPL"]),
            LatestReader(redis).get("AAPL", "quote", "tick"),
        ):
            with pytest.raises(StoreError) as caught:
                await read
            assert caught.value.retriable
    finally:
        await client.aclose()
