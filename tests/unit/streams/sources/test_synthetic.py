"""The synthetic market: reproducible, well-formed, never crossed."""

from __future__ import annotations

import itertools
import math

import numpy as np

from marketpulse.analytics.frames import decode_frame
from marketpulse.analytics.ticks import TickFrame
from marketpulse.schemas.events import Frame, Quote, Trade
from marketpulse.streams.sources.synthetic import SyntheticMarket, SyntheticRun, history_steps

M = 60 * 1_000_000_000
H = 60 * M


def test_same_seed_same_market() -> None:
    a = SyntheticMarket(["AAA", "BBB"], seed=7).frame("AAA", 0, 1_000_000, 50)
    b = SyntheticMarket(["AAA", "BBB"], seed=7).frame("AAA", 0, 1_000_000, 50)
    c = SyntheticMarket(["AAA", "BBB"], seed=8).frame("AAA", 0, 1_000_000, 50)
    assert a == b
    assert a != c


def test_frames_are_valid_ordered_and_inside_their_interval() -> None:
    market = SyntheticMarket(["AAA"], seed=1)
    start, end = 1_700_000_000_000_000_000, 1_700_000_001_000_000_000
    frame = market.frame("AAA", start, end, 200)
    assert isinstance(decode_frame(frame.model_dump_json().encode()), TickFrame)
    stamps = [e.ts for e in frame.events]
    assert stamps == sorted(stamps)
    assert start <= stamps[0]
    assert stamps[-1] < end
    assert frame.received_ts == end
    assert {type(e) for e in frame.events} == {Quote, Trade}
    assert all(e.symbol == "AAA" for e in frame.events)


def test_quotes_are_never_crossed_or_locked() -> None:
    market = SyntheticMarket(["AAA"], seed=3, volatility=0.01)
    frames: list[Frame] = [market.frame("AAA", i * 100, (i + 1) * 100, 100) for i in range(50)]
    quotes = [e for f in frames for e in f.events if isinstance(e, Quote)]
    assert quotes
    assert all(q.bid is not None and q.ask is not None and q.bid < q.ask for q in quotes)
    assert all(q.bid is not None and q.bid > 0 for q in quotes)


def test_a_symbols_stream_does_not_depend_on_the_others() -> None:
    alone = SyntheticMarket(["AAA"], seed=5)
    crowded = SyntheticMarket(["ZZZ", "AAA", "MMM"], seed=5)
    for i in range(3):
        crowded.frame("ZZZ", i * 100, (i + 1) * 100, 30)
        assert alone.frame_bytes("AAA", i * 100, (i + 1) * 100, 30) == crowded.frame_bytes(
            "AAA", i * 100, (i + 1) * 100, 30
        )


def test_shards_split_symbols_rate_and_budget() -> None:
    run = SyntheticRun(["A", "B", "C", "D"], seed=1, rate=400.0, events=1000, workers=2)
    shards = [run.shard(0), run.shard(1)]
    assert [s.symbols for s in shards] == [["A", "C"], ["B", "D"]]
    assert [s.rate for s in shards] == [200.0, 200.0]
    assert [s.events for s in shards] == [500, 500]
    assert all(s.workers == 1 and s.seed == 1 for s in shards)


def test_the_past_is_in_steps_the_longer_the_further_back() -> None:
    hour = 472_222 * H  # a whole hour
    until = hour + 17 * M + 12_345  # live starts off any boundary
    since = until - 3 * 24 * H
    steps = history_steps(since, until)
    # they tile the three days: no gap, no overlap, oldest first
    assert steps[0][0] == since
    assert steps[-1][1] == until
    assert all(a[1] == b[0] for a, b in itertools.pairwise(steps))
    # each whole step ends on a multiple of its length: whole bars of every granularity up to it
    lengths = [end - start for start, end in steps]
    assert all(end % (end - start) == 0 for start, end in steps[1:-1])
    # a minute each over the last six hours, five minutes back to 30 hours, hours before that
    for (start, _), length in zip(steps[1:-1], lengths[1:-1], strict=True):
        back = until - start
        assert length == (M if back <= 6 * H else 5 * M if back <= 30 * H else H), back
    # (a longer step that starts just outside a tier ends a little way into it)
    assert 6 * H - 5 * M <= lengths.count(M) * M <= 6 * H
    assert 24 * H - H <= lengths.count(5 * M) * 5 * M <= 24 * H + 5 * M
    assert len(steps) < 700  # instead of 4,320 minutes
    assert history_steps(until, until) == []
    assert history_steps(until - 90 * 1_000_000_000, until) == [
        (until - 90 * 1_000_000_000, hour + 16 * M),
        (hour + 16 * M, hour + 17 * M),
        (hour + 17 * M, until),
    ]


def test_a_frame_for_a_longer_step_moves_the_price_as_far() -> None:
    def moves(scale: float) -> float:
        """The standard deviation of the mid's log returns from one event to the next."""
        market = SyntheticMarket(["AAA"], seed=9)
        bodies = [market.frame_bytes("AAA", i * 100, (i + 1) * 100, 20, scale) for i in range(300)]
        frames = [Frame.model_validate_json(body) for body in bodies]
        quotes = [e for f in frames for e in f.events if isinstance(e, Quote)]
        return float(np.std(np.diff(np.log([(q.bid + q.ask) / 2 for q in quotes]))))

    ratio = moves(math.sqrt(60)) / moves(1.0)
    assert 6.5 < ratio < 9, ratio  # sqrt(60) = 7.75: an hour's frame moves as 60 minutes' do
