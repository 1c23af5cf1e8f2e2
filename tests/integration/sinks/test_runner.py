"""Sinks from the real broker into the real stores: batched, idempotent, refusals dead-lettered."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.protocol.group import LeaveGroupRequest

from marketpulse.metrics import SINK_CIRCUIT_OPEN
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Frame, Quote, Trade
from marketpulse.schemas.signals import Signal
from marketpulse.settings import Settings
from marketpulse.sinks.cache_sink import CacheSink
from marketpulse.sinks.influx_sink import BarSink, IndicatorSink, QuoteSink, SignalSink
from marketpulse.sinks.postgres_sink import SignalTableSink
from marketpulse.sinks.runner import SinkRunner, consumer_options, producer_options
from marketpulse.storage.cache import LatestReader
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.line_protocol import Point
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.resp import PipelinedRedis
from marketpulse.streams.lag import committed_offsets, group_lag, partition_ends
from marketpulse.streams.topics import CLEAN, DEADLETTER, INDICATORS, SIGNALS, bars_topic_name
from tests.factories import make_snapshot
from tests.kafka_helpers import produce, read_to_end
from tests.sink_helpers import Outage, eventually, metric, metric_reaches, running, sink_settings

# a sink that waits forever (a fetch or a batch that is never let go) fails in a minute, not
# in the suite's five: the slowest test here takes seconds, and each of the mutation run's
# mutants that hang would otherwise cost the whole of it
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
S = 1_000_000_000
MINUTE, DAY = 60 * S, 86_400 * S
# Recent, so that every point is inside its retention policy (older ones InfluxDB refuses).
T0 = time.time_ns() // DAY * DAY - 3 * DAY


@pytest.fixture
async def settings_(services: Settings) -> AsyncIterator[Settings]:
    settings = await sink_settings(services)
    yield settings
    async with InfluxClient(settings) as influx:
        await influx.query(f'DROP DATABASE "{settings.influx_database}"')


def bar(symbol: str, i: int, granularity: str = "1m") -> Bar:
    length = MINUTE if granularity == "1m" else 86_400 * S
    start = T0 - T0 % length + i * length
    return Bar(symbol=symbol, granularity=granularity, start=start, end=start + length,
               open=100 + i, high=101 + i, low=99 + i, close=100.5 + i, volume=10 * i + 1,
               vwap=100.2 + i, trades=i)  # fmt: skip


def encoded(
    records: list[Bar] | list[IndicatorSnapshot] | list[Signal],
) -> list[tuple[bytes, bytes]]:
    return [(r.symbol.encode(), r.model_dump_json().encode()) for r in records]


async def count(influx: InfluxClient, measurement: str, policy: str, where: str = "") -> int:
    text = f'SELECT count(*) FROM "{policy}"."{measurement}" {where}'  # noqa: S608 - constants
    rows = await influx.rows(text)
    counts = (
        [v for k, v in rows[0].items() if k.startswith("count_") and v is not None] if rows else []
    )
    return max(counts, default=0)  # a field no point has yet counts as null


async def test_bars_land_once_in_market_data_whatever_is_redelivered(settings_: Settings) -> None:
    minute = [bar("AAPL", i) for i in range(300)] + [bar("MSFT", i) for i in range(200)]
    daily = [bar("AAPL", i, "1d") for i in range(30)]
    for topic, records in ((bars_topic_name("1m"), minute), (bars_topic_name("1d"), daily)):
        await produce(settings_, settings_.topic(topic), encoded(records) * 2)  # all redelivered
    async with running(BarSink(settings_), settings_), InfluxClient(settings_) as influx:
        await eventually(lambda: count(influx, "market_data", "raw_1y"), lambda n: n == 500,
                         what="500 minute bars")  # fmt: skip
        await eventually(lambda: count(influx, "market_data", "daily_10y"), lambda n: n == 30,
                         what="30 daily bars")  # fmt: skip
        rows = await influx.rows(
            'SELECT * FROM "raw_1y"."market_data" WHERE symbol = $s AND time = $t',
            {"s": "AAPL", "t": minute[7].start},
        )
    expected = minute[7]
    assert rows == [{"time": expected.start, "symbol": "AAPL", "granularity": "1m",
                     "open": expected.open, "high": expected.high, "low": expected.low,
                     "close": expected.close, "volume": expected.volume, "vwap": expected.vwap,
                     "trades": expected.trades, "revision": 0}]  # fmt: skip


async def test_indicators_signals_and_sampled_quotes_reach_their_measurements(
    settings_: Settings,
) -> None:
    snapshots = [
        make_snapshot("AAPL", "1m", bar("AAPL", i).start, {"sma_20": 1.0 + i, "rsi_14": 50.0})
        for i in range(40)
    ]  # fmt: skip
    signals = [
        Signal(symbol="AAPL", granularity="1m", ts=bar("AAPL", i).start, kind="trend",
               name="golden_cross", strength=50, direction="bullish")
        for i in range(5)
    ]  # fmt: skip
    # 10 seconds of quotes, 20 per second, in frames of 10 (with trades, which are not quotes)
    events: list[Quote | Trade] = []
    for i in range(200):
        ts = T0 + i * S // 20
        events.append(Quote(symbol="AAPL", ts=ts, bid=100 + i, ask=101 + i, source="t"))
        events.append(Trade(symbol="AAPL", ts=ts, price=100.5, size=1, source="t"))
    frames = [
        Frame(source="t", received_ts=T0, events=events[k : k + 20])
        for k in range(0, len(events), 20)
    ]
    await produce(settings_, settings_.topic(INDICATORS.name), encoded(snapshots))
    await produce(settings_, settings_.topic(SIGNALS.name), encoded(signals))
    await produce(
        settings_,
        settings_.topic(CLEAN.name),
        [(b"AAPL", f.model_dump_json().encode()) for f in frames],
    )
    sinks = [IndicatorSink(settings_), SignalSink(settings_), QuoteSink(settings_)]
    async with (
        running(sinks[0], settings_),
        running(sinks[1], settings_),
        running(sinks[2], settings_),
        InfluxClient(settings_) as influx,
    ):
        await eventually(lambda: count(influx, "market_indicators", "indicators_5y"),
                         lambda n: n == 80, what="two values per snapshot")  # fmt: skip
        await eventually(lambda: count(influx, "market_signals", "indicators_5y"),
                         lambda n: n == 5, what="signals")  # fmt: skip
        quotes = await eventually(
            lambda: influx.rows('SELECT bid, quote_ts FROM "quotes_30d"."market_quotes"'),
            lambda rows: len(rows) == 10 and rows[-1]["bid"] == 299,
            what="one quote per second, the last of each",
        )
        sma = await influx.rows(
            'SELECT value FROM "indicators_5y"."market_indicators" WHERE indicator = $i '
            "AND time = $t",
            {"i": "sma_20", "t": snapshots[3].bar_start},
        )
    assert [q["time"] for q in quotes] == [T0 + k * S for k in range(10)]
    assert [q["bid"] for q in quotes] == [100 + 20 * k + 19 for k in range(10)]
    assert sma[0]["value"] == 4.0


class CountedBars(BarSink):
    """The bar sink, noting how many items each write it made held (once the write has
    returned: the points can be in InfluxDB a moment before, so a test waits for both)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.writes: list[int] = []
        self.read = 0

    def decode(self, topic: str, value: bytes) -> Sequence[Bar]:
        self.read += 1
        return super().decode(topic, value)

    async def write(self, items: list[Bar]) -> int:
        written = await super().write(items)
        self.writes.append(len(items))
        return written


def test_a_sink_commits_by_hand_from_the_earliest_record_with_heartbeats_inside_its_session() -> (
    None
):
    settings = Settings(kafka_session_timeout_s=6.0, kafka_fetch_max_wait_ms=70)
    options = consumer_options(settings)
    assert options["enable_auto_commit"] is False  # committed only once stored
    assert options["auto_offset_reset"] == "earliest"  # a new sink stores what is kept
    assert options["session_timeout_ms"] == 6000
    assert options["heartbeat_interval_ms"] == 2000  # a third of the session...
    long = consumer_options(Settings(kafka_session_timeout_s=45.0))
    assert long["session_timeout_ms"] == 45_000
    assert long["heartbeat_interval_ms"] == 3000  # ...and never more than 3 s
    # a fetch waits as long as the sink lingers anyway (bounded), or until it has 64 KiB
    assert options["fetch_max_wait_ms"] == 200  # the default linger, over the fetch wait
    assert options["fetch_min_bytes"] == 64 << 10
    quick = consumer_options(Settings(kafka_fetch_max_wait_ms=70, sink_linger_ms=20))
    assert quick["fetch_max_wait_ms"] == 70
    assert consumer_options(Settings(sink_linger_ms=3000))["fetch_max_wait_ms"] == 500
    assert options["bootstrap_servers"] == settings.bootstrap_servers()
    letters = producer_options(Settings(kafka_max_message_bytes=2_000_000))
    assert letters["acks"] == "all"  # a letter is the only copy of what the store refused
    assert letters["max_request_size"] == 2_000_000


def test_a_runner_takes_its_retry_and_breaker_settings_in_milliseconds() -> None:
    settings = Settings(sink_retry_base_ms=250, sink_retry_max_ms=4000,
                        sink_breaker_failures=4, sink_breaker_cooldown_ms=1500)  # fmt: skip
    runner = SinkRunner(BarSink(settings), settings)
    assert (runner.backoff.base_s, runner.backoff.max_s) == (0.25, 4.0)
    assert (runner.breaker.threshold, runner.breaker.cooldown_s) == (4, 1.5)


def test_a_runner_shows_its_circuit_closed_from_the_start() -> None:
    """A runner made again in one process (its task restarted) does not show the open
    circuit of the one before it."""
    settings = Settings()
    SINK_CIRCUIT_OPEN.labels(sink=BarSink(settings).name).set(1)  # the one before, opened
    runner = SinkRunner(BarSink(settings), settings)
    assert runner.breaker.opened_at is None
    assert metric("marketpulse_sink_circuit_open", sink=runner.name) == 0


async def test_a_runner_names_itself_to_the_broker_by_its_sink(settings_: Settings) -> None:
    """An operator who asks the broker who holds a sink group's partitions sees which sink:
    the group's member is named by the runner's client id (Kafka and Tansu both begin a
    member's id with it)."""
    sink = BarSink(settings_)
    group = settings_.sink_group(sink.name)
    async with running(sink, settings_):
        (member,) = await eventually(lambda: _members(settings_, group), bool,
                                     what="the sink's group member")  # fmt: skip
    assert member.startswith(f"marketpulse-sink-{sink.name}-")


async def noted(sink: CountedBars, items: int) -> None:
    """Until the sink has noted writes of ``items`` in all."""
    await eventually(lambda: asyncio.sleep(0, sum(sink.writes)), lambda n: n == items,
                     what="the sink's own note of its writes")  # fmt: skip


async def test_a_batch_holds_at_most_its_size_of_one_item_records(services: Settings) -> None:
    settings = await sink_settings(services, sink_batch_size=7)
    await produce(settings, settings.topic(bars_topic_name("1m")),
                  encoded([bar("AAPL", i) for i in range(20)]))  # fmt: skip
    sink = CountedBars(settings)
    async with running(sink, settings), InfluxClient(settings) as influx:
        await eventually(lambda: count(influx, "market_data", "raw_1y"), lambda n: n == 20,
                         what="every bar")  # fmt: skip
        await noted(sink, 20)
    # all 20 were there from the start: the first batch is full, none is over
    assert sink.writes[0] == 7
    assert max(sink.writes) == 7
    assert sum(sink.writes) == 20


async def test_a_lingering_batch_fetches_no_more_than_it_still_wants(services: Settings) -> None:
    settings = await sink_settings(services, sink_batch_size=7, sink_linger_ms=3000)
    topic = settings.topic(bars_topic_name("1m"))
    sink = CountedBars(settings)
    async with running(sink, settings), InfluxClient(settings) as influx:
        await produce(settings, topic, encoded([bar("AAPL", 0)]))
        await eventually(lambda: asyncio.sleep(0, sink.read), lambda n: n == 1,
                         what="the first bar read, its batch lingering")  # fmt: skip
        await produce(settings, topic, encoded([bar("AAPL", i) for i in range(1, 21)]))
        await eventually(lambda: count(influx, "market_data", "raw_1y"), lambda n: n == 21,
                         what="every bar")  # fmt: skip
        await noted(sink, 21)
    # the lingering batch of one asked for six more, though twenty were there
    assert sink.writes == [7, 7, 7]


async def test_records_that_come_while_a_batch_lingers_go_in_its_write(
    services: Settings,
) -> None:
    settings = await sink_settings(services, sink_linger_ms=3000)
    topic = settings.topic(bars_topic_name("1m"))
    sink = CountedBars(settings)
    async with running(sink, settings), InfluxClient(settings) as influx:
        await produce(settings, topic, encoded([bar("AAPL", 0)]))
        await eventually(lambda: count(influx, "market_data", "raw_1y"), lambda n: n == 1,
                         what="the first bar, once the sink reads")  # fmt: skip
        # a record every 50 ms, a second in all, inside the linger: one producer for all (one
        # started for each took longer than the linger on a loaded machine)
        producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers())
        await producer.start()
        try:
            for i in range(1, 21):
                [(key, value)] = encoded([bar("AAPL", i)])
                await producer.send_and_wait(topic, value=value, key=key)
                await asyncio.sleep(0.05)
        finally:
            await producer.stop()
        await eventually(lambda: count(influx, "market_data", "raw_1y"), lambda n: n == 21,
                         what="every bar")  # fmt: skip
        await noted(sink, 21)
    assert sink.writes[0] == 1
    assert sink.writes[1] >= 10, sink.writes


async def test_malformed_records_and_refused_points_are_dead_lettered_the_rest_stored(
    settings_: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="marketpulse.sinks.runner")
    good = [bar("AAPL", i) for i in range(20)]
    # InfluxDB fixes a field's type per shard (a week here): 'trades' as a float two weeks ago
    # makes the store refuse (HTTP 400) a bar from that week, and only that one.
    old = bar("AAPL", 0).model_copy(update={"start": T0 - 14 * DAY, "end": T0 - 14 * DAY + MINUTE})
    async with InfluxClient(settings_) as influx:
        await influx.ensure_database()
        conflict = Point("market_data", {"trades": 1.5}, {"symbol": "X", "granularity": "1m"},
                         old.start + 1)  # fmt: skip
        await influx.write([conflict], retention_policy="raw_1y")
        messages = [*encoded(good[:10]), (b"AAPL", b"{not json"), *encoded([old]),
                    (b"AAPL", None), *encoded(good[10:])]  # fmt: skip
        await produce(settings_, settings_.topic(bars_topic_name("1m")), messages)
        refused_before = metric("marketpulse_deadletters_total", reason="sink_refused")
        errors_before = metric("marketpulse_sink_errors_total", sink="bars", kind="refused")
        async with running(BarSink(settings_), settings_):
            await eventually(
                lambda: count(influx, "market_data", "raw_1y", "WHERE symbol = 'AAPL'"),
                lambda n: n == 20,
                what="every good bar",
            )
            # letters go out before their batch is committed: once all is, all are there
            await eventually(lambda: _lag(settings_, "bars"), lambda lag: lag == 0,
                             what="every record committed")  # fmt: skip
        topic = settings_.topic(DEADLETTER.name)
        letters = (await read_to_end(settings_, [topic]))[topic]
    refused_after = metric("marketpulse_deadletters_total", reason="sink_refused")
    assert refused_after - refused_before == 1
    errors = metric("marketpulse_sink_errors_total", sink="bars", kind="refused")
    assert errors - errors_before == 1
    bars_topic = settings_.topic(bars_topic_name("1m"))
    logged = [r.getMessage() for r in caplog.records]
    assert f"sink bars: reading {', '.join(BarSink(settings_).topics())}" in logged
    # each letter keyed as its record, and says where that record is (one partition: AAPL's)
    assert {r.key for r in letters} == {b"AAPL"}
    places = sorted((orjson.loads(r.value)["topic"], orjson.loads(r.value)["offset"],
                     orjson.loads(r.value)["key"]) for r in letters)  # fmt: skip
    assert places == [(bars_topic, 10, "AAPL"), (bars_topic, 11, "AAPL"), (bars_topic, 12, "AAPL")]
    reasons = sorted((orjson.loads(r.value)["reason"], orjson.loads(r.value)["payload"][:9])
                     for r in letters)  # fmt: skip
    # the tombstone (a record with no value) too: it is no bar
    assert reasons == [("malformed", ""), ("malformed", "{not json"), ("sink_refused", '{"symbol"')]
    tombstone = next(
        orjson.loads(r.value) for r in letters if orjson.loads(r.value)["offset"] == 12
    )
    assert tombstone["detail"] == "a record with no value (a tombstone)"
    # a record that does not decode: the first line of why (the schema's error names the model)
    not_json = next(orjson.loads(r.value) for r in letters if orjson.loads(r.value)["offset"] == 10)
    assert not_json["detail"] == "1 validation error for Bar"
    refused = next(orjson.loads(r.value) for r in letters if b"sink_refused" in r.value)
    assert "field type conflict" in refused["detail"]
    # the log says the same, word for word
    assert f"sink bars: refused, dead-lettered: {refused['detail'].removeprefix('bars: ')}" in (
        logged
    )
    assert Bar.model_validate_json(refused["payload"]) == old


async def test_signals_are_upserted_into_postgres(settings_: Settings) -> None:
    await migrate(settings_)
    symbol = settings_.worker_id[-8:].upper()
    signals = [
        Signal(symbol=symbol, granularity="1m", ts=T0 + i, kind="candlestick",
               name="cdlengulfing", strength=100, direction="bullish", details={"i": float(i)})
        for i in range(50)
    ]  # fmt: skip
    await produce(settings_, settings_.topic(SIGNALS.name), encoded(signals) * 2)
    pool = await create_pool(settings_)
    try:
        async with running(SignalTableSink(settings_), settings_):
            await eventually(
                lambda: pool.fetchval("SELECT count(*) FROM signals WHERE symbol = $1", symbol),
                lambda n: n == 50,
                what="50 signal rows",
            )
    finally:
        await pool.close()


_AT = 'SELECT {} FROM "{}"."{}" WHERE symbol = $s AND time = $t'
_SIGNALS = 'SELECT "name", "withdrawn" FROM "indicators_5y"."market_signals" WHERE symbol = $s'


async def test_the_stores_keep_the_latest_revision_and_drop_what_is_withdrawn(
    settings_: Settings,
) -> None:
    """A revised bar, the snapshot published again after it, and a signal it withdrew, each
    after the record it replaces: the stores hold the latest, which the API answers."""
    await migrate(settings_)
    symbol = settings_.worker_id[-8:].upper()
    first = bar(symbol, 3)
    revised = first.model_copy(update={"close": first.high, "revision": 1})
    snapshot = make_snapshot(symbol, "1m", first.start, {"sma_20": 100.0})
    again = make_snapshot(symbol, "1m", first.start, {"sma_20": 100.25}).model_copy(
        update={"revision": 1}
    )
    fired = Signal(symbol=symbol, granularity="1m", ts=first.start, kind="candlestick",
                   name="cdlhammer", strength=100, direction="bullish")  # fmt: skip
    kept = fired.model_copy(update={"name": "cdldoji", "direction": "bearish"})
    withdrawn = fired.model_copy(update={"revision": 1, "withdrawn": True})
    await produce(settings_, settings_.topic(bars_topic_name("1m")), encoded([first, revised]))
    await produce(settings_, settings_.topic(INDICATORS.name), encoded([snapshot, again]))
    await produce(settings_, settings_.topic(SIGNALS.name), encoded([fired, kept, withdrawn]))
    pool = await create_pool(settings_)
    sinks = [BarSink(settings_), IndicatorSink(settings_), SignalSink(settings_),
             SignalTableSink(settings_)]  # fmt: skip
    try:
        async with (
            running(sinks[0], settings_),
            running(sinks[1], settings_),
            running(sinks[2], settings_),
            running(sinks[3], settings_),
            InfluxClient(settings_) as influx,
        ):
            at = {"s": symbol, "t": first.start}
            bars = await eventually(
                lambda: influx.rows(_AT.format("close, revision", "raw_1y", "market_data"), at),
                lambda rows: bool(rows) and rows[0]["revision"] == 1,
                what="the revised bar",
            )
            values = await eventually(
                lambda: influx.rows(_AT.format("value", "indicators_5y", "market_indicators"), at),
                lambda rows: bool(rows) and rows[0]["value"] == 100.25,
                what="the snapshot published again",
            )
            points = await eventually(
                lambda: influx.rows(_SIGNALS, {"s": symbol}),
                lambda rows: (
                    {r["name"]: r["withdrawn"] for r in rows}
                    == {"cdlhammer": True, "cdldoji": False}
                ),
                what="the withdrawn signal marked",
            )
            rows = await eventually(
                lambda: pool.fetch("SELECT name FROM signals WHERE symbol = $1", symbol),
                lambda rows: [r["name"] for r in rows] == ["cdldoji"],
                what="the withdrawn signal's row deleted",
            )
    finally:
        await pool.close()
    assert [(r["close"], r["revision"]) for r in bars] == [(revised.close, 1)]
    assert len(values) == 1
    assert len(points) == 2
    assert len(rows) == 1


async def test_the_cache_sink_keeps_the_latest_bar_quote_and_indicators(
    settings_: Settings,
) -> None:
    symbol = settings_.worker_id[-8:].upper()
    bars = [bar(symbol, i) for i in range(10)]
    quotes = [Quote(symbol=symbol, ts=T0 + i, bid=10 + i, ask=11 + i) for i in range(5)]
    frame = Frame(source="t", received_ts=T0, events=list(quotes))
    snapshot = make_snapshot(symbol, "1m", bars[-1].start, {"rsi_14": 61.0}, {"rsi_14": True})
    await produce(settings_, settings_.topic(bars_topic_name("1m")), encoded(bars))
    await produce(
        settings_, settings_.topic(CLEAN.name), [(b"x", frame.model_dump_json().encode())]
    )
    await produce(settings_, settings_.topic(INDICATORS.name), encoded([snapshot]))
    cache = LatestReader(PipelinedRedis(settings_.redis_url))
    try:
        async with running(CacheSink(settings_), settings_):
            latest_bar = await eventually(
                lambda: cache.get(symbol, "bar", "1m"),
                lambda value: value is not None and value["start"] == bars[-1].start,
                what="the last bar",
            )
            await eventually(
                lambda: cache.get(symbol, "indicators", "1m"),
                lambda value: value == snapshot.model_dump(),
                what="the snapshot",
            )
            latest_quote = await eventually(
                lambda: cache.get(symbol, "quote", "tick"),
                lambda value: value is not None,
                what="the quote",
            )
    finally:
        await cache.client.close()
    assert latest_bar == bars[-1].model_dump()
    assert latest_quote["bid"] == 14


async def _lag(settings: Settings, sink: str) -> int | None:
    """Records the sink's group has yet to commit, over the pipeline's topics (None: none
    committed)."""
    group = settings.sink_group(sink)
    return (await group_lag(settings, [group]))[group]


async def _committed(
    settings: Settings, sink: str, topic: str
) -> dict[int, tuple[int | None, int]]:
    """Each partition of ``topic`` that holds records: the offset the sink's group committed
    and the partition's end. The lag is not enough: it takes a commit past the end as none."""
    ends = await partition_ends(settings, [topic])
    partitions = list(ends)
    offsets = await committed_offsets(
        settings.bootstrap_servers(), settings.sink_group(sink), partitions
    )
    return {
        tp.partition: (offset, ends[tp])
        for tp, offset in zip(partitions, offsets, strict=True)
        if ends[tp]
    }


async def _members(settings: Settings, group: str) -> list[str]:
    """The member ids of ``group`` as the broker has them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        (described,) = (await admin.describe_consumer_groups([group]))[0].to_object()["groups"]
    finally:
        await admin.close()
    return [member["member_id"] for member in described["members"]]


async def test_an_outage_is_retried_behind_the_breaker_and_committed_only_once_stored(
    settings_: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="marketpulse.sinks.runner")
    records = [bar("AAPL", i) for i in range(40)]
    await produce(settings_, settings_.topic(bars_topic_name("1m")), encoded(records))
    before = {
        name: metric(name, sink="bars", **extra)
        for name, extra in (
            ("marketpulse_sink_errors_total", {"kind": "retriable"}),
            ("marketpulse_sink_points_total", {}),
            ("marketpulse_sink_records_total", {}),
        )
    }
    async with Outage(settings_.influx_address) as outage, InfluxClient(settings_) as influx:
        outage.cut()
        host, port = outage.address
        proxied = settings_.model_copy(update={"influx_url": f"http://{host}:{port}"})
        async with running(BarSink(proxied), proxied):
            # three failed writes in a row open the circuit (sink_breaker_failures)
            await metric_reaches("marketpulse_sink_circuit_open", lambda v: v == 1,
                                 "the circuit open", sink="bars")  # fmt: skip
            failed = metric("marketpulse_sink_errors_total", sink="bars", kind="retriable")
            assert failed - before["marketpulse_sink_errors_total"] >= 3
            assert await _lag(proxied, "bars") is None  # nothing stored, nothing committed
            outage.mend()
            await eventually(lambda: count(influx, "market_data", "raw_1y"), lambda n: n == 40,
                             what="every bar, once the store is back")  # fmt: skip
            await metric_reaches("marketpulse_sink_circuit_open", lambda v: v == 0,
                                 "the circuit closed", sink="bars")  # fmt: skip
            await eventually(lambda: _lag(proxied, "bars"), lambda lag: lag == 0,
                             what="every record committed, and not one more")  # fmt: skip
            committed = await _committed(proxied, "bars", settings_.topic(bars_topic_name("1m")))
            # the group's next offset is the partition's end: a restart skips no record
            assert list(committed.values()) == [(40, 40)]
    points = metric("marketpulse_sink_points_total", sink="bars")
    stored = metric("marketpulse_sink_records_total", sink="bars")
    assert points - before["marketpulse_sink_points_total"] == 40
    assert stored - before["marketpulse_sink_records_total"] == 40
    logged = {r.getMessage() for r in caplog.records}
    assert "sink bars: write failed: POST /query: Server disconnected" in logged
    assert "sink bars: store is back" in logged


async def test_a_commit_the_group_refuses_is_counted_and_its_records_come_again(
    settings_: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A sink that its group dropped while it stored a batch (as a rebalance that gave its
    partitions to another member does) cannot commit that batch: the refusal is counted and
    logged, the sink goes on, and the records come again and are stored once."""
    caplog.set_level(logging.WARNING, logger="marketpulse.sinks.runner")
    topic = settings_.topic(bars_topic_name("1m"))
    group = settings_.sink_group("bars")
    refused_before = metric("marketpulse_sink_errors_total", sink="bars", kind="commit")
    broker = AIOKafkaClient(bootstrap_servers=settings_.bootstrap_servers())
    await broker.bootstrap()

    async def drop(member: str) -> None:  # a LeaveGroup in the member's name
        coordinator = await broker.coordinator_lookup(CoordinationType.GROUP, group)
        answer = await broker.send(coordinator, LeaveGroupRequest(group, member))
        assert answer.error_code == 0

    try:
        async with Outage(settings_.influx_address) as store, InfluxClient(settings_) as influx:
            host, port = store.address
            # heartbeats 3 s apart: the sink learns that it was dropped from its commit, which
            # follows the drop by milliseconds, not from a heartbeat in between
            proxied = settings_.model_copy(update={
                "influx_url": f"http://{host}:{port}", "kafka_session_timeout_s": 9.0,
            })  # fmt: skip
            async with running(BarSink(proxied), proxied):
                await produce(settings_, topic, encoded([bar("AAPL", i) for i in range(10)]))
                await eventually(lambda: _committed(proxied, "bars", topic),
                                 lambda c: list(c.values()) == [(10, 10)],
                                 what="the first records committed")  # fmt: skip
                (member,) = await _members(settings_, group)
                store.hold_next_answer(lambda: drop(member))
                await produce(settings_, topic, encoded([bar("AAPL", i) for i in range(10, 40)]))
                await metric_reaches("marketpulse_sink_errors_total",
                                     lambda v: v > refused_before, "the refused commit counted",
                                     sink="bars", kind="commit")  # fmt: skip
                await eventually(lambda: _committed(proxied, "bars", topic),
                                 lambda c: list(c.values()) == [(40, 40)],
                                 what="every record committed, once it came again")  # fmt: skip
            assert await count(influx, "market_data", "raw_1y") == 40
    finally:
        await broker.close()
    refusals = [r.getMessage() for r in caplog.records if "commit failed" in r.getMessage()]
    assert refusals
    assert refusals[0].startswith(
        "sink bars: commit failed, records will be redelivered: CommitFailedError: "
    )


async def test_a_best_effort_sink_skips_what_it_cannot_write_and_goes_on(
    settings_: Settings,
) -> None:
    symbol = settings_.worker_id[-8:].upper()
    skipped_before = metric("marketpulse_sink_errors_total", sink="cache", kind="skipped")
    cache = LatestReader(PipelinedRedis(settings_.redis_url))
    try:
        async with Outage(settings_.redis_address) as outage:
            outage.cut()
            host, port = outage.address
            proxied = settings_.model_copy(update={"redis_url": f"redis://{host}:{port}/0"})
            async with running(CacheSink(proxied), proxied):
                topic = proxied.topic(bars_topic_name("1m"))
                await produce(proxied, topic, encoded([bar(symbol, 0)]))
                await metric_reaches("marketpulse_sink_errors_total",
                                     lambda v: v > skipped_before, "a skipped write",
                                     sink="cache", kind="skipped")  # fmt: skip
                # skipped, not retried: committed at once, the stream moves on
                await eventually(lambda: _lag(proxied, "cache"), lambda lag: lag == 0,
                                 what="the skipped record committed")  # fmt: skip
                outage.mend()
                await produce(proxied, topic, encoded([bar(symbol, 1)]))
                latest = await eventually(
                    lambda: cache.get(symbol, "bar", "1m"),
                    lambda value: value is not None,
                    what="the next bar, once Redis is back",
                )
    finally:
        await cache.client.close()
    assert latest == bar(symbol, 1).model_dump()  # the skipped one never arrived


async def test_a_best_effort_sink_does_not_even_try_while_its_circuit_is_open(
    settings_: Settings,
) -> None:
    symbol = settings_.worker_id[-8:].upper()
    before = {kind: metric("marketpulse_sink_errors_total", sink="cache", kind=kind)
              for kind in ("skipped", "retriable")}  # fmt: skip
    async with Outage(settings_.redis_address) as outage:
        outage.cut()
        host, port = outage.address
        proxied = settings_.model_copy(
            update={"redis_url": f"redis://{host}:{port}/0", "sink_breaker_cooldown_ms": 600_000}
        )
        async with running(CacheSink(proxied), proxied):
            topic = proxied.topic(bars_topic_name("1m"))
            for i in range(4):  # one batch each: each committed before the next is sent
                if i == 1:  # one failure does not open the circuit
                    assert metric("marketpulse_sink_circuit_open", sink="cache") == 0
                await produce(proxied, topic, encoded([bar(symbol, i)]))
                skipped = before["skipped"] + i + 1
                await metric_reaches("marketpulse_sink_errors_total", skipped.__le__,
                                     "the bar skipped", sink="cache", kind="skipped")  # fmt: skip
    assert metric("marketpulse_sink_errors_total", sink="cache", kind="skipped") == skipped
    tried = metric("marketpulse_sink_errors_total", sink="cache", kind="retriable")
    # three failures open the circuit (sink_breaker_failures): the fourth is skipped untried
    assert tried - before["retriable"] == 3
    assert metric("marketpulse_sink_circuit_open", sink="cache") == 1
