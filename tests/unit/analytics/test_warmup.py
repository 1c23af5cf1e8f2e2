"""Warm-up: how many bars a set needs (TA-Lib's lookback), and a series warmed on them."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from talib import abstract

from marketpulse.analytics.indicators.registry import catalog
from marketpulse.analytics.warmup import lookback, warmed, warmup_bars
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
