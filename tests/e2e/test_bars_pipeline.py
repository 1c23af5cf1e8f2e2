"""Ticks through the real broker and worker: bars equal an independent resample, quiet symbols'
bars are closed by the partition's event time, and every bad event is dead-lettered."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketpulse.clock import SystemClock
from marketpulse.schemas.events import Event, Frame, Quote, Trade
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import Record, publish
from tests.e2e.pipeline import (
    M,
    Pipeline,
    S,
    assert_bars_equal,
    decoded,
    expected_bars,
    one_partition,
)

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    # One partition, so that the quiet symbol shares its partition's event time with the busy one.
    with one_partition(services, tmp_path, '["1m", "5m"]', '["sma_3", "ema_3", "obv"]') as p:
        yield p


def live_frames(streams: dict[str, list[Event]], slice_ns: int = S) -> list[Record]:
    """Frames as a live feed sends them: per time slice, each symbol's events of that slice.

    An event is sent when its symbol's stream reaches it, so a late or duplicate event goes out
    next to the event it follows. Slices are shorter than the grace period: frames of different
    symbols interleave closely enough that none is late against the partition's time.
    """
    tagged = []
    for rank, (symbol, events) in enumerate(streams.items()):
        sent = 0
        for order, event in enumerate(events):
            sent = max(sent, event.ts)
            tagged.append((sent // slice_ns, rank, order, symbol, event))
    tagged.sort(key=lambda t: t[:3])
    records: list[Record] = []
    for (slice_index, _rank, symbol), group in itertools.groupby(
        tagged, key=lambda t: (t[0], t[1], t[3])
    ):
        chunk = [t[4] for t in group]
        edge = (slice_index + 1) * slice_ns
        records.append((edge, symbol, Frame(source="test", received_ts=edge, events=chunk)))
    return records


@pytest.mark.parametrize("restart", [False, True], ids=["one_worker", "restart_midway"])
async def test_ticks_become_bars_and_bad_ticks_are_dead_lettered(
    pipeline: Pipeline, restart: bool
) -> None:
    """With ``restart``, the worker is stopped halfway: open bars must come back exactly."""
    t0 = (SystemClock().now_ns() // M - 60) * M  # an hour ago, on a minute boundary
    busy = [
        Trade(symbol="BUSY", ts=t0 + i * 3 * S, price=100 + (i % 7) * 0.1, size=1 + i % 4)
        for i in range(200)  # ten minutes
    ]
    quiet = [
        Trade(symbol="QUIET", ts=t0 + i * 10 * S, price=50 + (i % 3) * 0.5, size=2)
        for i in range(12)  # only the first two minutes
    ]
    bad: list[Event] = [
        Trade(symbol="BUSY", ts=t0 + 301 * S, price=math.nan, size=1),
        Trade(symbol="BUSY", ts=t0 + 302 * S, price=100.0, size=-1),
        busy[101].model_copy(),  # a duplicate, delivered right after the original
        Trade(symbol="BUSY", ts=t0 + 10 * S, price=100.0, size=1),  # late by far
        Trade(symbol="BUSY", ts=t0 + 303 * S, price=180.0, size=1),  # a spike
        Quote(symbol="BUSY", ts=t0 + 304 * S, bid=100.2, ask=100.1),  # crossed
    ]
    stream = busy[:102] + bad + busy[102:]
    records = live_frames({"QUIET": list(quiet), "BUSY": stream})

    worker = pipeline.start_worker()
    if restart:
        half = len(records) // 2
        await publish(pipeline.settings, records[:half])
        midway = max(r[0] for r in records[:half])  # frames end at their slice edge
        closed = sum(
            len(expected_bars(trades, M, min(midway, max(t.ts for t in trades) + 1)))
            for trades in (busy[:60], quiet)
        )
        await pipeline.read("market.bars.1m", closed)
        assert worker.stop() == 0
        pipeline.start_worker()
        records = records[half:]
    await publish(pipeline.settings, records)

    horizon = busy[-1].ts  # the stream time the worker ends at
    want = {
        (symbol, name): expected_bars(trades, length, horizon)
        for symbol, trades in (("BUSY", busy), ("QUIET", quiet))
        for name, length in (("1m", M), ("5m", 5 * M))
    }
    dead = decoded(await pipeline.read("market.deadletter", len(bad)))
    assert sorted(str(d["reason"]) for d in dead) == sorted(
        ["bad_price", "negative_size", "duplicate", "late", "price_spike", "crossed_quote"]
    )
    assert all(d["topic"] == pipeline.prefix + "market.raw" for d in dead)

    for name in ("1m", "5m"):
        count = sum(len(w) for (_, n), w in want.items() if n == name)
        bars = decoded(await pipeline.read(f"market.bars.{name}", count))
        assert len(bars) == count
        for symbol in ("BUSY", "QUIET"):
            assert_bars_equal(bars, symbol, want[(symbol, name)])

    # QUIET's two bars closed although QUIET went quiet: BUSY moved the partition's time.
    assert len(want[("QUIET", "1m")]) == 2
    snapshots = decoded(
        await pipeline.read("analytics.indicators", sum(len(w) for w in want.values()))
    )
    assert {(s["symbol"], s["granularity"]) for s in snapshots} == set(want)
