"""Store outages under load, against real servers of our own that the tests stop and start:
nothing is lost from the durable stores, and a cache outage holds nothing back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from marketpulse.schemas.bars import Bar
from marketpulse.schemas.signals import Signal
from marketpulse.services.influxdb_server import InfluxDB
from marketpulse.services.postgres_server import PostgreSQL
from marketpulse.services.redis_server import Redis
from marketpulse.settings import Settings
from marketpulse.sinks.cache_sink import CacheSink
from marketpulse.sinks.influx_sink import BarSink
from marketpulse.sinks.postgres_sink import SignalTableSink
from marketpulse.storage.cache import LatestReader
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.resp import PipelinedRedis
from marketpulse.streams.topics import SIGNALS, bars_topic_name
from tests.sink_helpers import eventually, metric, metric_reaches, running, sink_settings
from tests.workers import free_port, own_settings

pytestmark = [pytest.mark.integration]
S = 1_000_000_000
MINUTE, DAY = 60 * S, 86_400 * S
T0 = time.time_ns() // DAY * DAY - 3 * DAY
OUTAGE_S = 10.0


def bar(i: int, symbol: str = "AAPL") -> Bar:
    start = T0 + i * MINUTE
    return Bar(symbol=symbol, granularity="1m", start=start, end=start + MINUTE, open=1,
               high=2, low=0.5, close=1.5, volume=i)  # fmt: skip


async def produce_paced(settings: Settings, topic: str, values: list[tuple[str, bytes]],
                        per_second: float) -> None:  # fmt: skip
    """Load: send at a steady rate, each send acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), linger_ms=5)
    await producer.start()
    try:
        began = time.monotonic()
        for n, (key, value) in enumerate(values):
            await producer.send_and_wait(topic, value, key=key.encode())
            ahead = began + n / per_second - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)  # pacing the load, not waiting for a result
    finally:
        await producer.stop()


@pytest.fixture
def own_influx(tmp_path: Path) -> Iterator[InfluxDB]:
    settings = own_settings(
        tmp_path, influx_url=f"http://127.0.0.1:{free_port()}", influx_rpc_port=free_port()
    )
    server = InfluxDB(settings)
    server.ensure_up()
    yield server
    server.stop()


async def test_influxdb_down_for_ten_seconds_under_load_loses_no_point(
    services: Settings, own_influx: InfluxDB
) -> None:
    settings = await sink_settings(
        services, influx_url=own_influx.settings.influx_url, sink_breaker_cooldown_ms=1000
    )
    bars = [bar(i) for i in range(2500)]
    values = [(b.symbol, b.model_dump_json().encode()) for b in bars]
    retriable_before = metric("marketpulse_sink_errors_total", sink="bars", kind="retriable")

    async def stored() -> int:
        rows = await influx.rows('SELECT count("close") FROM "raw_1y"."market_data"')
        return int(rows[0]["count"]) if rows else 0

    async with InfluxClient(settings) as influx, running(BarSink(settings), settings) as sink:
        load = asyncio.create_task(
            produce_paced(settings, settings.topic(bars_topic_name("1m")), values, 100.0)
        )
        await eventually(stored, lambda n: n >= 200, what="the first bars stored")
        await asyncio.to_thread(own_influx.stop)
        stopped_at = time.monotonic()
        await metric_reaches("marketpulse_sink_errors_total", lambda n: n > retriable_before,
                             "the sink retrying", sink="bars", kind="retriable")  # fmt: skip
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))  # the outage
        assert not sink.done(), "the sink must ride out the outage"
        assert metric("marketpulse_sink_circuit_open", sink="bars") == 1
        await asyncio.to_thread(own_influx.ensure_up)
        await load
        assert await eventually(stored, lambda n: n >= len(bars), what="every bar") == len(bars)
    assert metric("marketpulse_sink_circuit_open", sink="bars") == 0


async def test_the_signal_sink_resumes_after_a_postgresql_restart(
    services: Settings, own_postgres: PostgreSQL
) -> None:
    settings = await sink_settings(services, postgres_port=own_postgres.settings.postgres_port)
    await migrate(settings)
    signals = [
        Signal(symbol="AAPL", granularity="1m", ts=T0 + i, kind="level",
               name="breakout", strength=1.0 + i % 99, direction="bullish")
        for i in range(400)
    ]  # fmt: skip
    values = [(s.symbol, s.model_dump_json().encode()) for s in signals]
    topic = settings.topic(SIGNALS.name)
    retriable_before = metric("marketpulse_sink_errors_total", sink="signals_pg", kind="retriable")
    pool = await create_pool(settings)

    async def stored() -> int:
        return int(await pool.fetchval("SELECT count(*) FROM signals"))

    async with running(SignalTableSink(settings), settings) as sink:
        await produce_paced(settings, topic, values[:200], 1000.0)
        await eventually(stored, lambda n: n == 200, what="the first signals")
        await pool.close()
        await asyncio.to_thread(own_postgres.stop)
        await produce_paced(settings, topic, values[200:], 1000.0)
        await metric_reaches("marketpulse_sink_errors_total", lambda n: n > retriable_before,
                             "the sink retrying", sink="signals_pg", kind="retriable")  # fmt: skip
        assert not sink.done()
        await asyncio.to_thread(own_postgres.ensure_up)
        pool = await create_pool(settings)
        await eventually(stored, lambda n: n == 400, what="every signal after the restart")
    await pool.close()


async def test_a_redis_outage_holds_nothing_back_and_shows_in_the_metrics(
    services: Settings, tmp_path: Path
) -> None:
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    settings = await sink_settings(services, redis_url=redis_url, sink_breaker_cooldown_ms=200)
    topic = settings.topic(bars_topic_name("1m"))
    skipped_before = metric("marketpulse_sink_errors_total", sink="cache", kind="skipped")
    committed_before = metric("marketpulse_sink_records_total", sink="cache")
    first = [bar(i, "MSFT") for i in range(50)]
    later = [bar(i, "MSFT") for i in range(50, 60)]
    server = Redis(own_settings(tmp_path, redis_url=redis_url))
    cache = LatestReader(PipelinedRedis(redis_url))
    try:
        async with running(CacheSink(settings), settings) as sink:
            await produce_paced(settings, topic, [("MSFT", b.model_dump_json().encode())
                                                  for b in first], 1000.0)  # fmt: skip
            await metric_reaches(
                "marketpulse_sink_records_total",
                lambda n: n >= committed_before + len(first),
                "every record consumed and committed while Redis is down",
                sink="cache",
            )
            assert metric("marketpulse_sink_errors_total", sink="cache", kind="skipped") > (
                skipped_before
            )
            assert not sink.done()
            await asyncio.to_thread(server.ensure_up)
            await produce_paced(settings, topic, [("MSFT", b.model_dump_json().encode())
                                                  for b in later], 1000.0)  # fmt: skip
            latest = await eventually(
                lambda: cache.get("MSFT", "bar", "1m"),
                lambda value: value is not None and value["start"] == later[-1].start,
                what="the cache filled again once Redis is back",
            )
        assert latest == later[-1].model_dump()
    finally:
        await cache.client.close()
        server.stop()


async def test_the_signal_sink_starts_afresh_when_asyncpg_loses_a_connection_s_state(
    services: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncpg can lose track of a connection's protocol state when the server restarts in the
    middle of a statement (``InternalClientError``, MagicStack/asyncpg#784), which a restart
    provokes only by chance; the client raises it here once, as a transaction starts, against
    the real server. The sink counts it as retriable, drops that pool, and stores every
    signal."""
    settings = await sink_settings(services)
    await migrate(settings)
    symbol = settings.worker_id.replace("-", "_")[:32]  # this test's own rows
    signals = [
        Signal(symbol=symbol, granularity="1m", ts=T0 + i, kind="level", name="breakout",
               strength=1.0, direction="bullish")
        for i in range(50)
    ]  # fmt: skip
    values = [(s.symbol, s.model_dump_json().encode()) for s in signals]
    pool = await create_pool(settings)

    async def stored() -> int:
        return int(await pool.fetchval("SELECT count(*) FROM signals WHERE symbol = $1", symbol))

    real = asyncpg.connection.Connection.execute
    pools: list[object] = []

    async def lost_once(self: asyncpg.Connection, query: str, *args: object, **kw: object) -> str:
        if query.startswith("BEGIN") and not pools:
            pools.append(sink._pool)
            raise asyncpg.InternalClientError("cannot switch to state 15; another operation (2)")
        return await real(self, query, *args, **kw)

    retriable_before = metric("marketpulse_sink_errors_total", sink="signals_pg", kind="retriable")
    sink = SignalTableSink(settings)
    monkeypatch.setattr(asyncpg.connection.Connection, "execute", lost_once)
    try:
        async with running(sink, settings) as task:
            await produce_paced(settings, settings.topic(SIGNALS.name), values, 1000.0)
            await eventually(stored, lambda n: n == len(values), what="every signal")
            assert not task.done()
            assert pools[0] is not None
            assert sink._pool is not pools[0]  # the pool of the lost connection was dropped
    finally:
        await pool.close()
    after = metric("marketpulse_sink_errors_total", sink="signals_pg", kind="retriable")
    assert after == retriable_before + 1
