"""Warm-up: how many bars a set needs (TA-Lib's lookback), and a series warmed on them."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from talib import abstract

from marketpulse.analytics.indicators.registry import catalog
from marketpulse.analytics.warmup import history_days, lookback, warmed, warmup_bars
from marketpulse.schemas.bars import Bar
from marketpulse.settings import Settings

M = 60 * 10**9


@pytest.mark.parametrize("entry", catalog(), ids=lambda entry: entry["spec"])
def test_each_function_s_lookback_is_talib_s(entry: dict[str, object]) -> None:
    function = abstract.Function(str(entry["function"]), **entry["parameters"])  # type: ignore[arg-type]
    assert lookback((str(entry["spec"]),)) == function.lookback


def test_a_set_needs_its_longest_lookback_and_the_unstable_allowance() -> None:
    assert lookback(("sma_5", "rsi_14", "ema_10")) == 14
    assert lookback(("macd_12_26_9",)) == 33
    assert warmup_bars(["sma_5", "rsi_14"], 20) == 34
    assert lookback(()) == 0


def test_a_series_warmed_on_the_lookback_gives_talib_s_values_from_its_first_live_bar() -> None:
    rng = np.random.default_rng(4)
    closes = (100 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))).tolist()
    bars = [Bar(symbol="X", granularity="1m", start=i * M, end=(i + 1) * M, open=c, high=c,
                low=c, close=c, volume=1.0) for i, c in enumerate(closes)]  # fmt: skip
    specs = ["sma_5", "ema_10", "rsi_14"]
    history = bars[40 - warmup_bars(specs, 0) : 40]
    series = warmed(specs, Settings().detector_config(), history)
    assert series.last_start == bars[39].start
    window = np.array([bar.close for bar in [*history, *bars[40:]]])
    for i, bar in enumerate(bars[40:]):
        snapshot, _ = series.advance(bar)
        at = len(history) + i
        assert all(snapshot.ready.values())
        assert snapshot.values["sma_5"] == pytest.approx(talib.SMA(window, 5)[at], rel=1e-12)
        assert snapshot.values["ema_10"] == pytest.approx(talib.EMA(window, 10)[at], rel=1e-12)
        assert snapshot.values["rsi_14"] == pytest.approx(talib.RSI(window, 14)[at], rel=1e-12)


def test_a_vendor_is_asked_for_enough_calendar_days_for_the_bars() -> None:
    day = 1440 * M
    # 57 minutes of a 6.5-hour session, through a long weekend
    assert history_days(57, M) == 5
    # 57 hours: nine sessions, two weekends
    assert history_days(57, 60 * M) == 17
    # 57 trading days: eleven weeks and some holidays
    assert history_days(57, day) == 84
    for count, length in ((57, M), (57, 60 * M), (57, day), (200, 5 * M), (500, M)):
        days = history_days(count, length)
        # the fewest sessions so many days can hold: weekdays, however the weekends fall,
        # less two holidays
        sessions = days // 7 * 5 + max(0, days % 7 - 2) - 2
        per_session = 6.5 * 60 * M / length if length < day else 1
        assert sessions * per_session >= count


def test_a_warm_up_source_that_is_not_configured_is_refused() -> None:
    with pytest.raises(ValueError, match="MARKETPULSE_POLYGON_API_KEY is not set"):
        Settings(warmup_from=["influxdb", "polygon"])
    with pytest.raises(ValueError, match="warmup_from"):
        Settings(warmup_from=["nosuchvendor"])  # type: ignore[list-item]
    assert Settings(warmup_from=[], polygon_api_key="k").warmup_from == []  # type: ignore[arg-type]
