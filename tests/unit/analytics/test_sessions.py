"""Bars on an exchange calendar's sessions, against an independent pandas computation from the
calendar library's own schedule; and the cases a calendar exists for: daylight saving, holidays,
half days, a session across UTC midnight, weekends, extended hours, a symbol without one."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pandas_market_calendars as pmc
import pytest

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.sessions import BarCuts, SessionTable, cut_for
from marketpulse.schemas.bars import Bar
from marketpulse.settings import Settings

S = 1_000_000_000
M = 60 * S
H = 60 * M
NEW_YORK = ZoneInfo("America/New_York")


def cuts(calendar: str, *granularities: str, hours: str = "regular") -> BarCuts:
    settings = Settings(
        granularities=list(granularities), calendars={"SYM": calendar}, bar_hours=hours
    )  # type: ignore[arg-type]
    return settings.bar_cuts()


def ns(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * S


def build(trades: list[tuple[int, float, float]], cut: BarCuts, symbol: str = "SYM") -> list[Bar]:
    builder = BarBuilder(symbol, cut.of(symbol))
    for ts, price, size in trades:
        if builder.in_session(ts):
            builder.add_trade(ts, price, size)
    return builder.close(trades[-1][0] + 400 * 86_400 * S, 0)


def minute_trades(
    start: dt.datetime, end: dt.datetime, seed: int
) -> list[tuple[int, float, float]]:
    """One trade a minute, every minute of the span (sessions or not), a random walk."""
    rng = np.random.default_rng(seed)
    times = np.arange(ns(start), ns(end), M) + 17 * S
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, len(times))))
    sizes = rng.integers(1, 50, len(times)) * 100.0
    return [
        (int(t), round(float(p), 4), float(z)) for t, p, z in zip(times, prices, sizes, strict=True)
    ]


def expected_bars(
    trades: list[tuple[int, float, float]], calendar: str, granularity: str
) -> pd.DataFrame:
    """The same bars from the library's schedule with pandas alone: each trade's session by
    interval lookup, then its bar by granularity, then OHLCV by group."""
    schedule = pmc.get_calendar(calendar).schedule("2024-12-01", "2026-01-31")
    opens = schedule["market_open"].dt.as_unit("ns").astype("int64").to_numpy()
    closes = schedule["market_close"].dt.as_unit("ns").astype("int64").to_numpy()
    frame = pd.DataFrame(trades, columns=["ts", "price", "size"])
    index = np.searchsorted(opens, frame["ts"].to_numpy(), side="right") - 1
    inside = (index >= 0) & (frame["ts"].to_numpy() < closes[np.maximum(index, 0)])
    frame = frame[inside].assign(session=index[inside])
    session_open = opens[frame["session"]]
    session_close = closes[frame["session"]]
    dates = schedule.index[frame["session"]]
    if granularity == "1h":
        start = session_open + (frame["ts"].to_numpy() - session_open) // H * H
        frame = frame.assign(start=start, end=np.minimum(start + H, session_close))
    else:
        key = {
            "1d": dates.strftime("%Y-%m-%d"),
            "1w": dates.strftime("%G-%V"),
            "1mo": dates.strftime("%Y-%m"),
        }[granularity]
        frame = frame.assign(key=key)
        first = frame.groupby("key")["session"].transform("min").to_numpy()
        last = frame.groupby("key")["session"].transform("max").to_numpy()
        # a period's bounds are its first and last sessions', traded in or not
        span = pd.Series(schedule.index).dt.strftime(
            {"1d": "%Y-%m-%d", "1w": "%G-%V", "1mo": "%Y-%m"}[granularity]
        )
        firsts = span.groupby(span).transform(lambda s: s.index.min()).to_numpy()
        lasts = span.groupby(span).transform(lambda s: s.index.max()).to_numpy()
        frame = frame.assign(start=opens[firsts[first]], end=closes[lasts[last]])
    grouped = frame.groupby("start", sort=True)
    return pd.DataFrame(
        {
            "end": grouped["end"].first(),
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["size"].sum(),
        }
    )


@pytest.mark.parametrize("granularity", ["1h", "1d", "1w", "1mo"])
def test_session_bars_over_months_with_both_dst_changes_equal_pandas(granularity: str) -> None:
    """March and November 2025 in New York: the clocks change on the 9th and the 2nd, so the
    session opens at 14:30 UTC, then 13:30 UTC, then 14:30 again; November has a holiday and a
    half day."""
    trades = minute_trades(dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
                           dt.datetime(2025, 4, 1, tzinfo=dt.UTC), 1)  # fmt: skip
    trades += minute_trades(dt.datetime(2025, 11, 1, tzinfo=dt.UTC),
                            dt.datetime(2025, 12, 1, tzinfo=dt.UTC), 2)  # fmt: skip
    bars = build(trades, cuts("NYSE", granularity))
    want = expected_bars(trades, "NYSE", granularity)
    got = pd.DataFrame(
        [(b.start, b.end, b.open, b.high, b.low, b.close, b.volume) for b in bars],
        columns=["start", "end", "open", "high", "low", "close", "volume"],
    ).set_index("start")
    assert len(got) == len(want)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert {b.calendar for b in bars} == {"NYSE"}


def test_the_hourly_bars_of_a_session_start_at_the_open_and_the_last_is_short() -> None:
    trades = minute_trades(dt.datetime(2025, 3, 7, tzinfo=dt.UTC),
                           dt.datetime(2025, 3, 11, tzinfo=dt.UTC), 3)  # fmt: skip
    bars = build(trades, cuts("NYSE", "1h"))
    friday = [b for b in bars if b.session == "2025-03-07"]
    local = [dt.datetime.fromtimestamp(b.start / S, NEW_YORK).strftime("%H:%M") for b in friday]
    assert local == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]
    assert friday[-1].end - friday[-1].start == 30 * M  # 15:30 to the 16:00 close
    # across the weekend the clocks moved: the Monday open is 13:30 UTC, not 14:30
    monday = [b for b in bars if b.session == "2025-03-10"]
    assert monday[0].start == ns(dt.datetime(2025, 3, 10, 13, 30, tzinfo=dt.UTC))
    assert not [b for b in bars if b.session in ("2025-03-08", "2025-03-09")]  # the weekend


def test_a_holiday_makes_no_bar_and_a_half_day_a_short_session() -> None:
    trades = minute_trades(dt.datetime(2025, 11, 26, tzinfo=dt.UTC),
                           dt.datetime(2025, 11, 29, tzinfo=dt.UTC), 4)  # fmt: skip
    days = build(trades, cuts("NYSE", "1d"))
    assert [b.session for b in days] == ["2025-11-26", "2025-11-28"]  # Thanksgiving: none
    half = days[-1]
    assert (half.start, half.end) == (
        ns(dt.datetime(2025, 11, 28, 9, 30, tzinfo=NEW_YORK)),
        ns(dt.datetime(2025, 11, 28, 13, 0, tzinfo=NEW_YORK)),
    )
    hours = [b for b in build(trades, cuts("NYSE", "1h")) if b.session == "2025-11-28"]
    assert hours[-1].end == half.end  # 12:30 to the 13:00 early close


def test_a_session_across_utc_midnight_is_one_day_labelled_with_its_date() -> None:
    """Sydney in its summer (UTC+11): the session of 1 December 2025 opens at 10:00 local,
    23:00 UTC on 30 November."""
    trades = minute_trades(dt.datetime(2025, 11, 30, 22, tzinfo=dt.UTC),
                           dt.datetime(2025, 12, 1, 6, tzinfo=dt.UTC), 5)  # fmt: skip
    (day,) = build(trades, cuts("XASX", "1d"))
    assert day.session == "2025-12-01"
    assert day.start == ns(dt.datetime(2025, 11, 30, 23, tzinfo=dt.UTC))
    inside = [t for t in trades if day.start <= t[0] < day.end]
    assert (day.open, day.close, day.volume) == (inside[0][1], inside[-1][1],
                                                 sum(t[2] for t in inside))  # fmt: skip


def test_extended_hours_take_the_pre_and_after_market() -> None:
    trades = minute_trades(dt.datetime(2025, 3, 7, tzinfo=dt.UTC),
                           dt.datetime(2025, 3, 8, 3, tzinfo=dt.UTC), 6)  # fmt: skip
    regular = [b for b in build(trades, cuts("NYSE", "1h")) if b.session == "2025-03-07"]
    extended = build(trades, cuts("NYSE", "1h", hours="extended"))
    extended = [b for b in extended if b.session == "2025-03-07"]
    first = dt.datetime.fromtimestamp(extended[0].start / S, NEW_YORK)
    last = dt.datetime.fromtimestamp(extended[-1].end / S, NEW_YORK)
    assert (first.hour, first.minute, last.hour) == (4, 0, 20)  # 04:00 to 20:00
    assert len(extended) == 16
    assert len(regular) == 7
    days = build(trades, cuts("NYSE", "1d", hours="extended"))
    (day,) = [b for b in days if b.session == "2025-03-07"]
    assert day.end - day.start == 16 * H


def test_a_symbol_without_a_calendar_keeps_utc_bars() -> None:
    trades = minute_trades(dt.datetime(2025, 3, 8, tzinfo=dt.UTC),  # a Saturday
                           dt.datetime(2025, 3, 9, tzinfo=dt.UTC), 7)  # fmt: skip
    bars = build(trades, cuts("NYSE", "1h", "1w"), symbol="X:BTCUSD")
    hours = [b for b in bars if b.granularity == "1h"]
    assert len(hours) == 24
    assert all(b.start % H == 0 and b.calendar is None and b.session is None for b in hours)
    (week,) = [b for b in bars if b.granularity == "1w"]
    assert week.start == ns(dt.datetime(2025, 3, 3, tzinfo=dt.UTC))  # Monday 00:00 UTC
    assert week.end - week.start == 7 * 86_400 * S


def test_a_trade_outside_every_session_is_not_in_session() -> None:
    builder = BarBuilder("SYM", cuts("NYSE", "1m", "1d").of("SYM"))
    saturday = ns(dt.datetime(2025, 3, 8, 15, tzinfo=dt.UTC))
    night = ns(dt.datetime(2025, 3, 7, 2, tzinfo=NEW_YORK))
    open_ = ns(dt.datetime(2025, 3, 7, 9, 30, tzinfo=NEW_YORK))
    assert [builder.in_session(t) for t in (saturday, night, open_ - 1, open_)] == [
        False, False, False, True,
    ]  # fmt: skip


def test_a_break_splits_the_intraday_bars_of_a_session() -> None:
    """Hong Kong breaks for lunch: the afternoon's bars start at the break's end."""
    table: SessionTable | None = cuts("XHKG", "1h").table_of("SYM")
    assert table is not None
    day = table.dates.index("2025-03-07")
    segments = [i for i, s in enumerate(table.segment_session) if s == day]
    assert len(segments) == 2
    afternoon = table.segment_opens[segments[1]]
    trades = [(afternoon - 10 * M, 10.0, 1.0), (afternoon + 5 * M, 11.0, 1.0)]
    bars = build(trades, cuts("XHKG", "1h"))
    assert [b.start for b in bars] == [afternoon]  # the one in the break makes no bar


def test_an_unknown_calendar_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown calendar 'NYZE'; known: .*NYSE"):
        Settings(calendars={"*": "NYZE"})  # type: ignore[arg-type]


def _table(*sessions: tuple[int, int], dates: list[str] | None = None) -> SessionTable:
    opens, closes = [o for o, _ in sessions], [c for _, c in sessions]
    days = dates or [f"2025-01-{i + 6:02d}" for i in range(len(sessions))]
    return SessionTable("TEST", "regular", opens, closes, days, list(opens), list(closes),
                        list(range(len(sessions))), "America/New_York")  # fmt: skip


def test_a_session_table_finds_the_segment_of_a_time_and_nothing_between() -> None:
    table = _table((100, 200), (300, 400))
    assert [table.segment(t) for t in (99, 100, 199, 200, 250, 300, 399, 400)] == [
        -1, 0, 0, -1, -1, 1, 1, -1,
    ]  # fmt: skip
    # asked out of order, after a hit: the remembered segment does not answer for others
    assert [table.segment(t) for t in (150, 350, 150, 250)] == [0, 1, 0, -1]
    assert [table.session(t) for t in (150, 250, 350)] == [0, -1, 1]


def test_weeks_and_months_of_sessions_span_their_first_open_to_their_last_close() -> None:
    dates = ["2025-01-30", "2025-01-31", "2025-02-03", "2025-02-04", "2025-02-10"]
    table = _table((10, 20), (30, 40), (50, 60), (70, 80), (90, 100), dates=dates)
    assert table.period_bounds("week") == ([10, 10, 50, 50, 90], [40, 40, 80, 80, 100])
    assert table.period_bounds("month") == ([10, 10, 50, 50, 50], [40, 40, 100, 100, 100])
    assert table.period_bounds("day") == ([10, 30, 50, 70, 90], [20, 40, 60, 80, 100])
    assert table.period_bounds("week")[0] is table.period_bounds("week")[0]  # built once


def test_utc_months_and_weeks() -> None:
    cut = cut_for("1mo", None)
    feb = ns(dt.datetime(2025, 2, 14, 13, tzinfo=dt.UTC))
    assert cut.bounds(feb) == (ns(dt.datetime(2025, 2, 1, tzinfo=dt.UTC)),
                               ns(dt.datetime(2025, 3, 1, tzinfo=dt.UTC)))  # fmt: skip
    december = ns(dt.datetime(2025, 12, 31, 23, tzinfo=dt.UTC))
    assert cut.bounds(december) == (ns(dt.datetime(2025, 12, 1, tzinfo=dt.UTC)),
                                    ns(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))  # fmt: skip
    sunday = ns(dt.datetime(2025, 3, 9, 23, tzinfo=dt.UTC))
    monday = ns(dt.datetime(2025, 3, 3, tzinfo=dt.UTC))
    assert cut_for("1w", None).bounds(sunday) == (monday, monday + 7 * 86_400 * S)
    assert cut_for("1w", None).bounds(monday) == (monday, monday + 7 * 86_400 * S)
    assert cut_for("1h", None).utc_length == H
    assert cut_for("1w", None).utc_length == 0  # offset from the epoch: not the fast path


def test_a_calendar_cuts_days_and_shorter_and_refuses_longer_clock_bars() -> None:
    table = _table((100 * H, 106 * H + 30 * M))
    hour = cut_for("1h", table)
    assert hour.bounds(106 * H + 10 * M) == (106 * H, 106 * H + 30 * M)  # cut at the close
    assert hour.bounds(99 * H) is None
    assert cut_for("1d", table).bounds(101 * H) == (100 * H, 106 * H + 30 * M)
    assert hour.session_date(100 * H) == "2025-01-06"
    assert hour.session_date(99 * H) is None
    assert cut_for("1h", None).session_date(100 * H) is None
    with pytest.raises(ValueError, match="on a calendar, use 1d, 1w or 1mo"):
        cut_for("2d", table)


def test_symbols_take_the_first_matching_pattern_and_share_their_calendar_s_cuts() -> None:
    table = _table((100, 200))
    bar_cuts = BarCuts(["1h"], [("X:*", None), ("*", table)])
    assert bar_cuts.table_of("X:BTCUSD") is None
    assert bar_cuts.table_of("AAPL") is table
    assert bar_cuts.of("AAPL") is bar_cuts.of("MSFT")  # one set of cuts per calendar
    assert bar_cuts.of("X:BTCUSD")["1h"].session_table is None
    assert BarCuts(["1h"], []).of("AAPL")["1h"].utc_length == H
    own = BarCuts(["1h"], [("X:*", None)], {"AAPL": table, "X:ETHUSD": table})
    assert own.table_of("AAPL") is table  # a symbol's own calendar (its exchange's)
    assert own.table_of("X:ETHUSD") is None  # after the patterns
    assert own.table_of("MSFT") is None


def test_utc_months_start_on_the_first_at_midnight_whatever_the_machine_s_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        first = ns(dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
        following = ns(dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
        cut = cut_for("1mo", None)
        assert cut.bounds(first) == (first, following)  # its very first instant
        assert cut.bounds(following - 1) == (first, following)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_intraday_bars_start_at_an_open_that_is_not_on_the_hour() -> None:
    table = _table((100 * H + 20 * M, 106 * H))  # opens at 20 past
    assert cut_for("1h", table).bounds(101 * H + 25 * M) == (101 * H + 20 * M, 102 * H + 20 * M)
