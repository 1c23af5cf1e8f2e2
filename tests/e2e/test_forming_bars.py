"""The bar still forming, through the real broker and worker: on ``analytics.forming`` while it
is open, with the values its indicators would take; the same values, final, once it closes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import IndicatorSnapshot
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import publish
from tests.e2e.pipeline import M, Pipeline, minute_frames, one_partition

pytestmark = [pytest.mark.e2e]
MINUTES = 24


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    specs = '["sma_5", "ema_3", "rsi_4", "macd_3_6_2", "bb_5_2", "obv", "vwap_session"]'
    with one_partition(
        services, tmp_path, '["1m", "5m"]', specs, MARKETPULSE_FORMING_INTERVAL_MS="1"
    ) as p:
        yield p


async def test_a_bar_s_last_forming_values_are_its_final_ones(pipeline: Pipeline) -> None:
    t0 = (SystemClock().now_ns() // M - 120) * M  # two hours ago, on a minute boundary
    pipeline.start_worker()
    forming: list[IndicatorSnapshot] = []
    for minute, frame in enumerate(minute_frames("FORM", t0, MINUTES, 5)):
        await publish(pipeline.settings, [(frame.received_ts, "FORM", frame)])
        # each frame is sent once the last one's forming bars are out: a millisecond or more
        # apart on the worker's clock, so every frame sends its own (1m and 5m)
        records = await pipeline.read("analytics.forming", 2 * (minute + 1))
        forming = [IndicatorSnapshot.model_validate_json(r.value) for r in records]
    assert all(not s.final and not s.bar.final for s in forming)
    last = t0 + (MINUTES - 1) * M
    latest = {(s.granularity, s.bar_start) for s in forming[-2:]}
    assert latest == {("1m", last), ("5m", last - last % (5 * M))}

    fives = {(t0 + i * M) // (5 * M) for i in range(MINUTES)}
    closed = MINUTES - 1 + len(fives) - 1  # every bar but the last of each granularity
    finals = [
        IndicatorSnapshot.model_validate_json(r.value)
        for r in await pipeline.read("analytics.indicators", closed)
    ]
    assert len(finals) == closed
    last_forming = {(s.granularity, s.bar_start): s for s in forming}
    for final in finals:
        seen = last_forming[(final.granularity, final.bar_start)]
        assert final.final
        assert seen.bar.model_copy(update={"final": True}) == final.bar
        assert (seen.values, seen.ready) == (final.values, final.ready)
    # the indicators warmed up along the way: the last closed minute has every value, while
    # the 5m series, with few bars yet, says which of its values are not ready
    assert all(next(f for f in reversed(finals) if f.granularity == "1m").ready.values())
    assert not all(next(f for f in reversed(finals) if f.granularity == "5m").ready.values())
