"""Built bars and ready-made bars advance one series: history replayed as bars warms up the
indicators of the bars built from live ticks, and a ready-made bar is gated against the bars
built before it. Only bars that passed the gate reach ``market.bars.<g>``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from marketpulse.analytics.indicators import Candle, IndicatorSet
from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame, Trade
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import Record, publish
from tests.e2e.pipeline import M, Pipeline, S, decoded, expected_bars, one_partition
from tests.kafka_helpers import produce

pytestmark = [pytest.mark.e2e]
SPECS = ["sma_3", "obv", "rsi_2"]


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(services, tmp_path, '["1m"]', orjson.dumps(SPECS).decode()) as p:
        yield p


def history(t0: int, count: int) -> list[Bar]:
    """``count`` ready-made 1m bars ending at ``t0``."""
    bars = []
    for i in range(count):
        start = t0 - (count - i) * M
        close = 100 + (i % 3) - 0.5 * (i % 2)
        bars.append(Bar(symbol="BUSY", granularity="1m", start=start, end=start + M,
                        open=close - 0.2, high=close + 0.4, low=close - 0.6, close=close,
                        volume=1_000 + 10 * i))  # fmt: skip
    return bars


async def test_history_bars_warm_up_the_live_series(pipeline: Pipeline) -> None:
    t0 = (SystemClock().now_ns() // M - 30) * M
    past = history(t0, 6)
    trades = [
        Trade(symbol="BUSY", ts=t0 + i * 5 * S, price=101 + (i % 5) * 0.25, size=1 + i % 3)
        for i in range(60)  # five minutes, every five seconds
    ]
    frames: list[Record] = [
        (t.ts, "BUSY", Frame(source="test", received_ts=t.ts, events=[t])) for t in trades
    ]
    pipeline.start_worker()
    await publish(pipeline.settings, [(b.start, b.symbol, b) for b in past])
    await pipeline.read("analytics.indicators", len(past))
    await publish(pipeline.settings, frames)

    built = expected_bars(trades, M, trades[-1].ts)
    assert len(built) == 4  # the fifth minute is still open
    records = await pipeline.read("market.bars.1m", len(past) + len(built))
    starts = [b.start for b in past] + [int(start) for start in built.index]
    assert [b["start"] for b in decoded(records)] == starts

    # One series: the built bars continue the replayed history.
    reference = IndicatorSet(SPECS)
    want = {}
    for bar in past:
        want[bar.start] = reference.update(
            Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)
        )
    for start, row in built.iterrows():
        want[int(start)] = reference.update(
            Candle(int(start), row["open"], row["high"], row["low"], row["close"], row["volume"])
        )
    snapshots = decoded(await pipeline.read("analytics.indicators", len(want)))
    got = {int(str(s["bar_start"])): s["values"] for s in snapshots}
    assert got.keys() == want.keys()
    for start, values in want.items():
        assert got[start] == pytest.approx(values, rel=1e-12), start
    first_live = got[int(built.index[0])]
    assert isinstance(first_live, dict)
    assert "sma_3" in first_live  # warm from the replayed history

    # Refused ready-made bars: a copy of the last minute the worker built (a duplicate), a
    # granularity this pipeline does not keep, and a malformed record. None of them reaches
    # market.bars.1m, as a good bar of another symbol sent after them shows.
    again = Bar.model_validate(decoded([records[-1]])[0])
    five = again.model_copy(update={"granularity": "5m", "start": t0, "end": t0 + 5 * M})
    calm = Bar(symbol="CALM", granularity="1m", start=t0, end=t0 + M, open=5, high=5, low=5,
               close=5, volume=1)  # fmt: skip
    await publish(pipeline.settings, [(again.start, "BUSY", again), (t0, "BUSY", five)])
    await produce(pipeline.settings, pipeline.prefix + "market.bars.raw", [(b"BUSY", b"{")])
    await publish(pipeline.settings, [(t0, "CALM", calm)])
    dead = decoded(await pipeline.read("market.deadletter", 3))
    raw = pipeline.prefix + "market.bars.raw"
    reasons = [(d["reason"], d["topic"]) for d in dead]
    assert reasons == [("duplicate", raw), ("bad_granularity", raw), ("malformed", raw)]
    bars = decoded(await pipeline.read("market.bars.1m", len(starts) + 1))
    assert [(b["symbol"], b["start"]) for b in bars] == [("BUSY", s) for s in starts] + [
        ("CALM", t0)
    ]


async def test_bars_closed_by_one_frame_advance_one_series(pipeline: Pipeline) -> None:
    """A new series whose first frame closes several bars at once: each bar follows the last."""
    t0 = (SystemClock().now_ns() // M - 30) * M
    trades = [
        Trade(symbol="GAP", ts=t0 + i * 20 * S, price=50 + (i % 4) * 0.5, size=1 + i % 2)
        for i in range(12)  # four minutes
    ]
    trades.append(Trade(symbol="GAP", ts=t0 + 4 * M + 5 * S, price=51, size=1))  # closes them
    pipeline.start_worker()
    await publish(pipeline.settings, [(t0, "GAP", Frame(source="test", received_ts=t0,
                                                        events=trades))])  # fmt: skip
    built = expected_bars(trades, M, trades[-1].ts)
    assert len(built) == 4
    reference = IndicatorSet(SPECS)
    want = {
        int(start): reference.update(
            Candle(int(start), row["open"], row["high"], row["low"], row["close"], row["volume"])
        )
        for start, row in built.iterrows()
    }
    snapshots = decoded(await pipeline.read("analytics.indicators", len(want)))
    got = {int(str(s["bar_start"])): s["values"] for s in snapshots}
    assert got.keys() == want.keys()
    for start, values in want.items():
        assert got[start] == pytest.approx(values, rel=1e-12), start
    assert "sma_3" in want[max(want)]  # the comparison covers a value that needs three bars
