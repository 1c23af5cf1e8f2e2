"""Revised bars through the real broker and worker: a trade past the grace period but within
the allowed lateness, or the feed's cancel or correction of an earlier trade, publishes its bar
again a revision higher, with the indicators recomputed from it on; a restarted worker goes on
revising from the state it recovered (the trades kept for cancels among it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Event, Frame, Trade, TradeCancel, TradeCorrection
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import publish
from tests.e2e.pipeline import (
    M,
    Pipeline,
    S,
    decoded,
    expected_bars,
    minute_frames,
    one_partition,
)
from tests.kafka_helpers import produce

pytestmark = [pytest.mark.e2e]
SYMBOL = "REVS"
MINUTES = 12


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(
        services,
        tmp_path,
        '["1m", "5m"]',
        '["sma_3", "ema_3", "rsi_4"]',
        MARKETPULSE_ALLOWED_LATENESS_MS='{"1m": 300000, "5m": 300000}',
        MARKETPULSE_CANCEL_WINDOW_MS="600000",
        MARKETPULSE_FORMING_INTERVAL_MS="0",
    ) as p:
        yield p


async def send(pipeline: Pipeline, symbol: str, events: list[Event]) -> None:
    frame = Frame(source="test", received_ts=max(e.ts for e in events), events=events)
    await publish(pipeline.settings, [(frame.received_ts, symbol, frame)])


def latest(records: list[Bar]) -> dict[tuple[str, int], Bar]:
    out: dict[tuple[str, int], Bar] = {}
    for bar in records:
        seen = out.get((bar.granularity, bar.start))
        assert seen is None or bar.revision == seen.revision + 1 or bar.revision == seen.revision
        out[(bar.granularity, bar.start)] = bar
    return out


def assert_as_batch(
    revised: dict[tuple[str, int], Bar], granularity: str, want: pd.DataFrame
) -> None:
    """The latest revision of each bar of ``granularity`` is the batch's bar of that start."""
    ours = {start: bar for (g, start), bar in revised.items() if g == granularity}
    assert sorted(ours) == list(want.index)
    for start, row in want.iterrows():
        bar = ours[int(start)]  # type: ignore[call-overload]
        assert (bar.open, bar.high, bar.low, bar.close) == (
            row["open"], row["high"], row["low"], row["close"]
        )  # fmt: skip
        assert bar.volume == pytest.approx(row["volume"])


async def latest_snapshots(pipeline: Pipeline, count: int) -> dict[int, IndicatorSnapshot]:
    """The last 1m snapshot of each bar, once ``count`` snapshots have come."""
    out = {}
    for record in await pipeline.read("analytics.indicators", count):
        snapshot = IndicatorSnapshot.model_validate_json(record.value)
        if snapshot.granularity == "1m":
            out[snapshot.bar_start] = snapshot
    return out


def assert_talib(
    snapshots: dict[int, IndicatorSnapshot], starts: list[int], closes: np.ndarray
) -> None:
    """Each bar's snapshot holds what TA-Lib gives over ``closes``, and nothing before that."""
    batch = {
        "sma_3": talib.SMA(closes, 3),
        "ema_3": talib.EMA(closes, 3),
        "rsi_4": talib.RSI(closes, 4),
    }
    for i, start in enumerate(starts):
        values = snapshots[start].values
        for name, series in batch.items():
            if np.isnan(series[i]):
                assert name not in values
            else:
                assert values[name] == pytest.approx(series[i], rel=1e-9)


async def test_late_trades_revise_bars_and_indicators_across_a_restart(
    pipeline: Pipeline,
) -> None:
    t0 = (SystemClock().now_ns() // (5 * M) - 30) * 5 * M  # on a five-minute boundary
    frames = minute_frames(SYMBOL, t0, MINUTES, 17)
    trades = [t for frame in frames for t in frame.events if isinstance(t, Trade)]
    pipeline.start_worker()
    for frame in frames:
        await publish(pipeline.settings, [(frame.received_ts, SYMBOL, frame)])
    await pipeline.read("market.bars.1m", MINUTES - 1)  # every minute's bar but the last

    # two minutes after its bar closed, a trade of minute 9: past grace, within lateness
    late = Trade(symbol=SYMBOL, ts=t0 + 9 * M + 30 * S, price=trades[-1].price * 1.03, size=4.0)
    await send(pipeline, SYMBOL, [late])
    await pipeline.read("market.bars.1m", MINUTES)  # and its revision
    pipeline.workers[-1].stop()

    # a new worker recovers the closed bars and the series' history from the changelogs
    pipeline.start_worker()
    later = Trade(symbol=SYMBOL, ts=t0 + 9 * M + 50 * S, price=late.price * 0.97, size=2.0)
    await send(pipeline, SYMBOL, [later])
    # 1m: eleven bars and two revisions of one; 5m: two bars and two revisions of the second
    bars = [Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.1m", 13)]
    fives = [Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.5m", 4)]

    revised = latest(bars + fives)
    assert revised[("1m", t0 + 9 * M)].revision == 2
    assert revised[("5m", t0 + 5 * M)].revision == 2
    everything = [*trades, late, later]
    horizon = trades[-1].ts
    for granularity, length in (("1m", M), ("5m", 5 * M)):
        assert_as_batch(revised, granularity, expected_bars(everything, length, horizon))

    # the latest snapshot of every 1m bar equals TA-Lib over the corrected bars; each
    # revision gave the snapshots of its bar and the one after it again
    want = expected_bars(everything, M, horizon)
    snapshots = await latest_snapshots(pipeline, 11 + 2 * 2 + 2 + 2)
    assert sorted(snapshots) == list(want.index)
    assert_talib(snapshots, want.index.tolist(), want["close"].to_numpy(dtype=float))
    assert snapshots[t0 + 9 * M].bar == revised[("1m", t0 + 9 * M)]


async def test_a_restated_vendor_bar_is_published_again_with_its_series_recomputed(
    pipeline: Pipeline,
) -> None:
    """Ready-made minute bars, then the vendor's restatement of one of them (a late trade
    changed its close): the bar comes again at revision 1, and every snapshot from it on equals
    TA-Lib over the corrected bars; the 5m bar rolled up from it comes again too; the same
    restatement sent twice is a duplicate."""
    t0 = (SystemClock().now_ns() // (5 * M) - 12) * 5 * M  # 20 minutes: four 5m bars
    rng = np.random.default_rng(3)
    closes = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.004, 20))), 2)
    bars = [
        Bar(symbol=SYMBOL, granularity="1m", start=t0 + i * M, end=t0 + (i + 1) * M,
            open=c, high=c + 0.1, low=c - 0.1, close=c, volume=10.0)
        for i, c in enumerate(closes.tolist())
    ]  # fmt: skip
    restated = bars[15].model_copy(update={"close": bars[15].high, "volume": 12.0})
    raw = pipeline.prefix + "market.bars.raw"
    pipeline.start_worker()
    records = [bar.model_dump_json().encode() for bar in [*bars, restated, restated]]
    await produce(pipeline.settings, raw, [(SYMBOL.encode(), value) for value in records])

    published = [
        Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.1m", 21)
    ]
    assert published[-1] == restated.model_copy(update={"revision": 1})
    letters = decoded(await pipeline.read("market.deadletter", 1))
    assert [letter["reason"] for letter in letters] == ["duplicate"]
    corrected = [*bars[:15], restated, *bars[16:]]
    fives = [Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.5m", 5)]
    last_five = corrected[15:]
    assert [(b.start, b.revision) for b in fives] == [
        *((t0 + i * 5 * M, 0) for i in range(4)), (t0 + 15 * M, 1)
    ]  # fmt: skip
    assert (fives[-1].open, fives[-1].high, fives[-1].low, fives[-1].close, fives[-1].volume) == (
        last_five[0].open, max(b.high for b in last_five), min(b.low for b in last_five),
        last_five[-1].close, sum(b.volume for b in last_five)
    )  # fmt: skip
    snapshots = await latest_snapshots(pipeline, 20 + 5 + 4 + 1)  # 1m, again from 15 on, 5m
    closes = np.array([bar.close for bar in corrected])
    assert_talib(snapshots, [bar.start for bar in corrected], closes)
    assert snapshots[restated.start].revision == 1
    assert snapshots[restated.start].bar.revision == 1


AMENDED, AMENDED_MINUTES = "AMND", 8


async def test_cancels_and_corrections_revise_bars_and_indicators_across_a_restart(
    pipeline: Pipeline,
) -> None:
    t0 = (SystemClock().now_ns() // (5 * M) - 30) * 5 * M  # on a five-minute boundary
    frames = [
        frame.model_copy(update={"events": [
            trade.model_copy(update={"id": f"m{minute}-{i}"})
            for i, trade in enumerate(frame.events)
        ]})
        for minute, frame in enumerate(minute_frames(AMENDED, t0, AMENDED_MINUTES, 23))
    ]  # fmt: skip
    trades = {t.id: t for frame in frames for t in frame.events if isinstance(t, Trade)}
    pipeline.start_worker()
    for frame in frames:
        await publish(pipeline.settings, [(frame.received_ts, AMENDED, frame)])
    await pipeline.read("market.bars.1m", AMENDED_MINUTES - 1)  # every minute's bar but the last

    # minute 5's middle trade cancelled, minute 6's last corrected far above the market, and a
    # cancel of a trade nobody sent
    now = t0 + (AMENDED_MINUTES - 1) * M + 50 * S
    gone, fixed = trades.pop("m5-1"), trades["m6-2"]
    corrected = fixed.model_copy(update={"price": round(fixed.price * 1.05, 2), "size": 9.0})  # type: ignore[operator]
    await send(pipeline, AMENDED, [
        TradeCancel(symbol=AMENDED, ts=now, trade_id="m5-1", trade_ts=gone.ts),
        TradeCorrection(symbol=AMENDED, ts=now, trade_id="m6-2", trade_ts=fixed.ts,
                        price=corrected.price, size=corrected.size),
        TradeCancel(symbol=AMENDED, ts=now, trade_id="nobody", trade_ts=t0 + S),
    ])  # fmt: skip
    trades["m6-2"] = corrected
    await pipeline.read("market.bars.1m", AMENDED_MINUTES - 1 + 2)  # the two minutes again
    letters = decoded(await pipeline.read("market.deadletter", 1))
    assert letters[0]["reason"] == "unknown_trade"
    assert "'nobody'" in str(letters[0]["detail"])
    pipeline.workers[-1].stop()

    # a new worker recovers the kept trades from the changelog: a cancel still finds its trade
    pipeline.start_worker()
    gone_too = trades.pop("m4-0")
    await send(pipeline, AMENDED, [TradeCancel(symbol=AMENDED, ts=now + S, trade_id="m4-0",
                                      trade_ts=gone_too.ts)])  # fmt: skip
    bars = [Bar.model_validate_json(r.value)
            for r in await pipeline.read("market.bars.1m", AMENDED_MINUTES - 1 + 3)]  # fmt: skip
    fives = [Bar.model_validate_json(r.value) for r in await pipeline.read("market.bars.5m", 2)]
    revised = latest(bars + fives)
    revisions = [revised[("1m", t0 + m * M)].revision for m in range(AMENDED_MINUTES - 1)]
    assert revisions == [0] * 4 + [1] * 3
    assert ("5m", t0 + 5 * M) not in revised  # still open: its changes go out when it closes
    standing = sorted(trades.values(), key=lambda t: t.ts)
    horizon = frames[-1].events[-1].ts
    want = expected_bars(standing, M, horizon)
    assert_as_batch(revised, "1m", want)
    five = revised[("5m", t0)]  # the first five minutes, revised for minute 4
    assert five.volume == pytest.approx(want.loc[t0 : t0 + 4 * M, "volume"].sum())
    assert five.revision == 1

    # 1m: every bar, then minutes 5 and 6 again for the cancel, 6 again for the correction,
    # 4 to 6 again for the last cancel; 5m: its first bar and that bar's revision
    snapshots = await latest_snapshots(pipeline, (AMENDED_MINUTES - 1) + 3 + 3 + 2)
    assert_talib(snapshots, want.index.tolist(), want["close"].to_numpy(dtype=float))
    assert np.isclose(snapshots[t0 + 6 * M].bar.close, corrected.price)  # type: ignore[arg-type]
