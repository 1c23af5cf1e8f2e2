"""The bar builder: OHLCV per granularity on event time, closed by stream time plus grace."""

from __future__ import annotations

import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.granularity import parse_granularity
from marketpulse.analytics.sessions import SessionTable, cut_for
from marketpulse.schemas.bars import Bar

S = 1_000_000_000
M = 60 * S
T0 = 1_700_000_040 * S  # a minute boundary
GRACE = 2 * S
GRANULARITIES = {"1m": M, "5m": 5 * M}


def feed(builder: BarBuilder, trades: list[tuple[int, float, float]]) -> list[Bar]:
    """Add trades in order with stream time = largest time so far; return bars as they close."""
    closed: list[Bar] = []
    stream_time = 0
    for ts, price, size in trades:
        builder.add_trade(ts, price, size)
        stream_time = max(stream_time, ts)
        closed += builder.close(stream_time, GRACE)
    return closed


def test_granularities_parse_and_align() -> None:
    assert parse_granularity("1m") == M
    assert parse_granularity("1d") == 1440 * M
    assert cut_for("1m", None).bounds(T0 + 59 * S) == (T0, T0 + M)
    for bad in ("", "0m", "2w", "3mo", "7m", "m", "1.5h"):
        with pytest.raises(ValueError, match="granularity"):
            parse_granularity(bad)


def test_one_bar_with_its_ohlcv_and_vwap() -> None:
    builder = BarBuilder("AAA", {"1m": M})
    closed = feed(builder, [(T0 + 1, 10.0, 100), (T0 + 2, 12.0, 50), (T0 + 3, 9.0, 50)])
    assert closed == []
    closed = builder.close(T0 + M + GRACE, GRACE)
    assert closed == [
        Bar(
            symbol="AAA", granularity="1m", start=T0, end=T0 + M, open=10.0, high=12.0,
            low=9.0, close=9.0, volume=200.0, vwap=(1000 + 600 + 450) / 200, trades=3,
        )
    ]  # fmt: skip
    assert builder.close(T0 + 10 * M, GRACE) == []


def test_bar_stays_open_through_the_grace_period_and_takes_late_trades() -> None:
    builder = BarBuilder("AAA", {"1m": M})
    feed(builder, [(T0 + 10 * S, 10.0, 1), (T0 + M + 1 * S, 11.0, 1)])
    builder.add_trade(T0 + 5 * S, 9.5, 1)  # older than the open: it becomes the open
    builder.add_trade(T0 + 59 * S, 10.5, 1)  # newer than the last: it becomes the close
    assert builder.close(T0 + M + GRACE - 1, GRACE) == []
    (first,) = builder.close(T0 + M + GRACE, GRACE)
    assert (first.open, first.high, first.low, first.close, first.trades) == (
        9.5,
        10.5,
        9.5,
        10.5,
        3,
    )
    assert builder.next_close(GRACE) == T0 + 2 * M + GRACE


def test_coarser_bars_aggregate_the_finer_ones() -> None:
    builder = BarBuilder("AAA", GRANULARITIES)
    trades = [(T0 + i * 7 * S, 100.0 + (i % 13) - (i % 5), 1.0 + i % 3) for i in range(90)]
    closed = feed(builder, trades) + builder.close(T0 + 60 * M, GRACE)
    minutes = [b for b in closed if b.granularity == "1m"]
    fives = [b for b in closed if b.granularity == "5m"]
    for five in fives:
        inside = [m for m in minutes if five.start <= m.start < five.end]
        assert five.open == inside[0].open
        assert five.close == inside[-1].close
        assert five.high == max(m.high for m in inside)
        assert five.low == min(m.low for m in inside)
        assert five.volume == pytest.approx(sum(m.volume for m in inside))
        assert five.trades == sum(m.trades for m in inside)


def test_state_round_trips_mid_bar() -> None:
    trades = [(T0 + i * 11 * S, 50.0 + i % 7, 2.0) for i in range(40)]
    whole = BarBuilder("AAA", GRANULARITIES)
    expected = feed(whole, trades)
    first = BarBuilder("AAA", GRANULARITIES)
    got = feed(first, trades[:17])
    restored = BarBuilder.from_state(GRANULARITIES, orjson.loads(orjson.dumps(first.state())))
    stream_time = trades[16][0]
    for ts, price, size in trades[17:]:
        restored.add_trade(ts, price, size)
        stream_time = max(stream_time, ts)
        got += restored.close(stream_time, GRACE)
    assert got == expected


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=200 * S),  # gap to the previous trade
            st.floats(min_value=1, max_value=500, allow_nan=False),
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=120,
    )
)
def test_bars_equal_a_pandas_resample(steps: list[tuple[int, float, float]]) -> None:
    """In-order trades: every bar equals pandas' groupby over the same UTC-aligned buckets."""
    ts = T0
    trades = []
    for gap, price, size in steps:
        ts += gap
        trades.append((ts, price, size))
    builder = BarBuilder("AAA", GRANULARITIES)
    closed = feed(builder, trades) + builder.close(ts + 10 * M, GRACE)

    frame = pd.DataFrame(trades, columns=["ts", "price", "size"])
    for name, length in GRANULARITIES.items():
        frame["start"] = frame["ts"] - frame["ts"] % length
        grouped = frame.groupby("start")
        expected = pd.DataFrame(
            {
                "open": grouped["price"].first(),
                "high": grouped["price"].max(),
                "low": grouped["price"].min(),
                "close": grouped["price"].last(),
                "volume": grouped["size"].sum(),
                "trades": grouped["price"].count(),
            }
        )
        ours = [b for b in closed if b.granularity == name]
        assert [b.start for b in ours] == list(expected.index)
        for b, (_, row) in zip(ours, expected.iterrows(), strict=True):
            assert (b.open, b.high, b.low, b.close) == (row.open, row.high, row.low, row["close"])
            assert b.volume == pytest.approx(row.volume, rel=1e-12, abs=1e-9)
            assert b.trades == row.trades
            assert b.end - b.start == length


def test_multi_day_granularities_are_whole_days() -> None:
    assert parse_granularity("2d") == 2 * 1440 * M
    with pytest.raises(ValueError, match="granularity"):
        parse_granularity("36h")


def test_prints_at_one_time_keep_arrival_order_for_open_and_close() -> None:
    builder = BarBuilder("X", {"1m": M})
    for price in (10.0, 11.0, 9.0, 10.5):
        builder.add_trade(T0 + S, price, 1.0)
    (bar,) = builder.close(T0 + M + GRACE, GRACE)
    assert (bar.open, bar.high, bar.low, bar.close) == (10.0, 11.0, 9.0, 10.5)


def test_bars_closing_together_come_oldest_first_whatever_order_they_opened_in() -> None:
    builder = BarBuilder("X", {"1m": M})
    builder.add_trade(T0 + M + 1 * S, 10.0, 1.0)  # the second minute's bar opens first
    builder.add_trade(T0 + 59 * S, 9.0, 1.0)  # a late print opens the first minute's bar
    closed = builder.close(T0 + 3 * M, GRACE)
    assert [b.start for b in closed] == [T0, T0 + M]


def test_each_granularity_closes_on_its_own() -> None:
    builder = BarBuilder("X", {"5m": 5 * M, "1m": M})  # the coarse one first: nothing due
    five = T0 - T0 % (5 * M) + 5 * M  # a five-minute boundary
    builder.add_trade(five + 10 * S, 10.0, 1.0)
    closed = builder.close(five + M + GRACE, GRACE)
    assert [(b.granularity, b.start) for b in closed] == [("1m", five)]


def test_a_fractional_volume_has_a_vwap() -> None:
    builder = BarBuilder("X", {"1m": M})
    builder.add_trade(T0, 100.0, 0.25)
    builder.add_trade(T0 + S, 104.0, 0.25)
    (bar,) = builder.close(T0 + M + GRACE, GRACE)
    assert (bar.volume, bar.vwap) == (0.5, 102.0)


def test_a_state_from_before_bars_had_ends_restores_them_from_the_cut() -> None:
    """Open bars written without their end get it from their granularity's cut; one the cut
    no longer has (a calendar now says the time is outside its sessions) is dropped."""
    old = {"symbol": "AAA", "open": {"1m": [[T0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1, T0, T0]]}}
    restored = BarBuilder.from_state({"1m": M}, old)
    assert restored.open["1m"][0][-1] == T0 + M
    (bar,) = restored.close(T0 + M, 0)
    assert (bar.start, bar.end) == (T0, T0 + M)
    table = SessionTable("T", "regular", [T0 + M], [T0 + 10 * M], ["2023-11-14"], [T0 + M],
                         [T0 + 10 * M], [0])  # fmt: skip
    dropped = BarBuilder.from_state({"1m": cut_for("1m", table)}, old)
    assert dropped.open["1m"] == []


def test_a_finer_bar_that_straddles_a_coarser_one_folds_into_none_of_it() -> None:
    opened, closed = T0 + 30 * M, T0 + 390 * M  # a session of 09:30 to 16:00, in minutes
    table = SessionTable("T", "regular", [opened], [closed], ["2023-11-14"], [opened],
                         [closed], [0])  # fmt: skip
    builder = BarBuilder("AAA", {"1h": cut_for("1h", table), "1d": cut_for("1d", table)})
    straddling = Bar(symbol="AAA", granularity="90m", start=opened + 330 * M,
                     end=opened + 420 * M, open=1.0, high=2.0, low=0.5, close=1.5,
                     volume=10.0)  # fmt: skip
    builder.add_bar(straddling)  # 15:00 to 16:30: past the close
    assert builder.open == {"1h": [], "1d": []}
    morning = straddling.model_copy(update={"start": opened, "end": opened + 90 * M})
    builder.add_bar(morning)  # 09:30 to 11:00: past its hour, inside its day
    assert [len(bars) for bars in builder.open.values()] == [0, 1]
    builder = BarBuilder("AAA", {"1h": cut_for("1h", table), "1d": cut_for("1d", table)})
    inside = straddling.model_copy(update={"start": opened, "end": opened + 30 * M})
    builder.add_bar(inside)
    assert [len(bars) for bars in builder.open.values()] == [1, 1]


def test_a_bad_granularity_names_every_form_there_is() -> None:
    with pytest.raises(ValueError, match="bad granularity") as caught:
        parse_granularity("7x")
    assert str(caught.value) == (
        "bad granularity '7x': use a number and s, m, h or d (e.g. 5m), 1w or 1mo, or t, v or d "
        "and a number for bars by trades, volume or value (e.g. t500)"
    )


def test_a_restore_skips_what_it_cannot_keep_and_keeps_the_rest() -> None:
    """A granularity no longer configured, and a bar the cut no longer has, are passed over;
    the granularities and bars after them are restored."""
    table = SessionTable("T", "regular", [T0 + M], [T0 + 10 * M], ["2023-11-14"], [T0 + M],
                         [T0 + 10 * M], [0])  # fmt: skip
    old_bar = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1, T0, T0]
    state = {"symbol": "AAA", "open": {
        "7m": [[T0, *old_bar]],  # no longer configured
        "1m": [[T0, *old_bar], [T0 + 2 * M, *old_bar]],  # the first is outside the session
    }}  # fmt: skip
    restored = BarBuilder.from_state({"1m": cut_for("1m", table)}, state)
    assert [bar[0] for bar in restored.open["1m"]] == [T0 + 2 * M]
