"""The synthetic market: reproducible, well-formed, never crossed."""

from __future__ import annotations

from marketpulse.analytics.frames import decode_frame
from marketpulse.analytics.ticks import TickFrame
from marketpulse.schemas.events import Frame, Quote, Trade
from marketpulse.streams.sources.synthetic import SyntheticMarket, SyntheticRun


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
