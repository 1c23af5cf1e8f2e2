"""Warm-up through the real broker, InfluxDB and worker: a series that starts takes the bars
stored before its first live bar, so its first live snapshot is warm and equals TA-Lib over
them; the stored bar of the live minute (a partial one) gives way to the live bar; a store that
cannot answer leaves the series cold, and the stream goes on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import talib
from talib import abstract

from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Trade
from marketpulse.settings import Settings
from marketpulse.storage import measurements
from marketpulse.storage.influx import InfluxClient
from marketpulse.streams.sources.replay import publish
from tests.e2e.pipeline import M, Pipeline, decoded, expected_bars, minute_frames, one_partition
from tests.workers import free_port

pytestmark = [pytest.mark.e2e]
SYMBOL = "WARM"
SPECS = '["sma_5", "ema_10", "rsi_14"]'
STORED = 40


def stored_bars(live: int) -> list[Bar]:
    """Forty minute bars up to the live minute, and a partial bar of the live minute."""
    rng = np.random.default_rng(23)
    closes = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.004, STORED + 1))), 2).tolist()
    first = live - STORED * M
    return [
        Bar(symbol=SYMBOL, granularity="1m", start=first + i * M, end=first + (i + 1) * M,
            open=c, high=c + 0.05, low=c - 0.05, close=c, volume=100.0, trades=3)
        for i, c in enumerate(closes)
    ]  # fmt: skip


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(services, tmp_path, '["1m"]', SPECS) as p:
        yield p


async def test_a_new_series_is_warmed_from_influxdb_and_the_live_bar_takes_over(
    pipeline: Pipeline,
) -> None:
    live = (SystemClock().now_ns() // M - 30) * M
    stored = stored_bars(live)
    async with InfluxClient(pipeline.settings) as influx:
        await influx.ensure_database()
        await influx.write([measurements.bar_point(bar) for bar in stored], "raw_1y")
    pipeline.start_worker()
    frames = minute_frames(SYMBOL, live, 3, 29)
    for frame in frames:
        await publish(pipeline.settings, [(frame.received_ts, SYMBOL, frame)])

    # the live minutes' bars, and only those: none of the history, the live one in place of
    # the stored partial bar of its minute
    bars = [Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.1m", 2)]
    trades = [trade for frame in frames for trade in frame.events if isinstance(trade, Trade)]
    want = expected_bars(trades, M, frames[-1].received_ts)
    assert [bar.start for bar in bars] == list(want.index) == [live, live + M]
    assert bars[0].close == want.loc[live, "close"] != stored[-1].close

    # warm from the first live bar: TA-Lib over the bars the worker read and the live ones
    lookback = max(
        abstract.Function(name, timeperiod=period).lookback
        for name, period in (("SMA", 5), ("EMA", 10), ("RSI", 14))
    )
    history = [bar.close for bar in stored[:-1]][-lookback:]
    closes = np.array(history + [bar.close for bar in bars])
    batch = {"sma_5": talib.SMA(closes, 5), "ema_10": talib.EMA(closes, 10),
             "rsi_14": talib.RSI(closes, 14)}  # fmt: skip
    snapshots = [
        IndicatorSnapshot.model_validate_json(r.value)
        for r in await pipeline.read("analytics.indicators", 2)
    ]
    for i, snapshot in enumerate(snapshots):
        assert all(snapshot.ready.values())
        at = len(history) + i
        for name, values in batch.items():
            assert snapshot.values[name] == pytest.approx(values[at], rel=1e-9)


async def test_a_worker_stopped_short_after_warming_leaves_the_next_one_the_same_values(
    pipeline: Pipeline,
) -> None:
    """Killed once it has warmed the series and before anything else: the next worker warms
    them again (or finds them, if the state was written first), and the values are the same."""
    live = (SystemClock().now_ns() // M - 30) * M
    stored = stored_bars(live)
    async with InfluxClient(pipeline.settings) as influx:
        await influx.ensure_database()
        await influx.write([measurements.bar_point(bar) for bar in stored], "raw_1y")
    frames = minute_frames(SYMBOL, live, 3, 29)
    first = pipeline.start_worker()
    await publish(pipeline.settings, [(frames[0].received_ts, SYMBOL, frames[0])])
    first.wait_for_log(f"warmed {SYMBOL} 1m from InfluxDB on 14 bars")
    first.kill()
    pipeline.start_worker()
    for frame in frames[1:]:
        await publish(pipeline.settings, [(frame.received_ts, SYMBOL, frame)])
    bars = [Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.1m", 2)]
    assert [bar.start for bar in bars] == [live, live + M]
    closes = np.array([bar.close for bar in stored[:-1]][-14:] + [bar.close for bar in bars])
    snapshots = [
        IndicatorSnapshot.model_validate_json(r.value)
        for r in await pipeline.read("analytics.indicators", 2)
    ]
    assert [s.bar_start for s in snapshots] == [live, live + M]
    for i, snapshot in enumerate(snapshots):
        assert snapshot.values["rsi_14"] == pytest.approx(talib.RSI(closes, 14)[14 + i], rel=1e-9)
        assert snapshot.values["sma_5"] == pytest.approx(talib.SMA(closes, 5)[14 + i], rel=1e-9)


async def test_a_store_that_cannot_answer_leaves_the_series_cold_and_the_stream_goes_on(
    services: Settings, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with one_partition(services, tmp_path, '["1m"]', SPECS, MARKETPULSE_INFLUX_URL=down) as p:
        live = (SystemClock().now_ns() // M - 30) * M
        p.start_worker()
        for frame in minute_frames(SYMBOL, live, 3, 29):
            await publish(p.settings, [(frame.received_ts, SYMBOL, frame)])
        records = await p.read("analytics.indicators", 2)
        snapshot = IndicatorSnapshot.model_validate_json(records[0].value)
        assert snapshot.ready == {"sma_5": False, "ema_10": False, "rsi_14": False}
        assert decoded(await p.read("market.bars.1m", 2))[0]["start"] == live
        log = (tmp_path / "worker0.log").read_text()
        assert "warm-up of WARM from InfluxDB failed, it starts cold" in log
