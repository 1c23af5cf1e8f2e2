"""Price series for the oracle tests: seeded random walks with the shapes that break indicators
(flat stretches, gaps, zero volume), and published market data that a test dependency ships.

The published series are the OHLCV files inside the ``backtesting`` package (daily NASDAQ:GOOG,
2004-2013; hourly EUR/USD, 2017-2018). They are read from the installed distribution by path, so
the package is never imported and nothing outside this repository's dependencies is needed.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from tests.oracles import Series

PUBLISHED = {"goog_daily": "GOOG.csv", "eurusd_hourly": "EURUSD.csv"}


def random_walk(n: int, seed: int, volatility: float = 0.01) -> Series:
    """A geometric random walk with bars around it; some bars have zero volume."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, volatility, n)))
    high = close * (1 + rng.uniform(0, volatility, n))
    low = close * (1 - rng.uniform(0, volatility, n))
    open_ = low + (high - low) * rng.uniform(0, 1, n)
    volume = rng.integers(0, 10_000, n).astype(float)
    return Series(open_, high, low, close, volume)


def candles(n: int, seed: int) -> Series:
    """Bars of every shape: dojis, long bodies, long and missing shadows, gaps, equal prices
    (rounded to cents, so ties happen as they do in real data)."""
    rng = np.random.default_rng(seed)
    close = np.empty(n)
    open_ = np.empty(n)
    level, body = 100.0, 0.0
    for i in range(n):
        gap = rng.choice([0.0, 0.0, 1.0, -1.0]) * rng.uniform(0.5, 3)
        inside = rng.random() < 0.3  # open within the last body, as crows and soldiers do
        open_[i] = level - 0.4 * body if inside else level + gap
        body = rng.choice([0.0, 0.05, 0.3, 1.0, 2.5]) * rng.choice([1, -1])
        close[i] = open_[i] + body
        level = close[i]
    upper = rng.choice([0.0, 0.02, 0.3, 1.5], n) * rng.uniform(0.5, 1.5, n)
    lower = rng.choice([0.0, 0.02, 0.3, 1.5], n) * rng.uniform(0.5, 1.5, n)
    high = np.round(np.maximum(open_, close) + upper, 2)
    low = np.round(np.minimum(open_, close) - lower, 2)
    return Series(np.round(open_, 2), high, low, np.round(close, 2), np.ones(n))


def with_flats_and_gaps(seed: int) -> Series:
    """A walk with a dead market (no range, no change, no volume), an overnight gap, and flat
    closes inside a moving range."""
    s = random_walk(300, seed)
    close, high, low, volume = s.close.copy(), s.high.copy(), s.low.copy(), s.volume.copy()
    close[40:70] = close[39]
    high[40:70] = close[39]
    low[40:70] = close[39]
    volume[40:70] = 0.0
    close[120:] *= 1.25
    high[120:] *= 1.25
    low[120:] *= 1.25
    close[200:205] = close[199]
    return Series(s.open, high, low, close, volume)


def whole_ticks(n: int, seed: int) -> Series:
    """Prices on a coarse tick (whole numbers, moves of up to two ticks, ranges of up to a
    tick each side): equal highs, lows and closes, and bands that land on a close exactly,
    are the rule here rather than the exception."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.integers(-2, 3, n)).astype(float)
    open_ = np.concatenate([[close[0]], close[:-1]]) + rng.integers(-1, 2, n)
    high = np.maximum(open_, close) + rng.integers(0, 2, n)
    low = np.minimum(open_, close) - rng.integers(0, 2, n)
    return Series(open_, high, low, close, rng.integers(0, 4, n).astype(float))


def through_zero(seed: int) -> Series:
    """A spread (one contract less another): it crosses zero, touches it exactly (whole bars
    at zero, some with volume, some without) and goes negative, as a calendar spread or an
    expiring oil future does."""
    rng = np.random.default_rng(seed)
    close = np.round(np.cumsum(rng.normal(0.0, 0.4, 300)), 1)
    close[50:55] = 0.0
    close[150] = 0.0
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.round(np.abs(rng.normal(0.0, 0.3, 300)), 1)
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    high[50:55] = low[50:55] = 0.0
    open_[51:55] = 0.0
    volume = rng.integers(0, 1000, 300).astype(float)
    volume[50:53] = 0.0
    return Series(open_, high, low, close, volume)


def published_frame(name: str) -> pd.DataFrame:
    """A published series as the batch commands read files: ``timestamp`` and lower-case OHLCV
    columns, oldest first."""
    path = importlib.metadata.distribution("backtesting").locate_file(
        f"backtesting/test/{PUBLISHED[name]}"
    )
    raw = pd.read_csv(str(path), index_col=0)
    frame = raw.rename(columns=str.lower).rename_axis("timestamp").reset_index()
    return frame[["timestamp", "open", "high", "low", "close", "volume"]]


def published(name: str) -> Series:
    """A published series as oracle input."""
    frame = published_frame(name)
    columns = ("open", "high", "low", "close", "volume")
    return Series(*(frame[k].to_numpy(dtype=float) for k in columns))


def daily_frame(rows: int = 250) -> pd.DataFrame:
    """The first ``rows`` days of the published daily series, with their dates (a year of
    trading days by default: enough for every indicator's warm-up, small enough for e2e)."""
    return published_frame("goog_daily").head(rows).reset_index(drop=True)


def scaled(series: Series, factor: float) -> Series:
    """The same bars at another price scale (volumes kept): a token quoted in millionths of a
    dollar, or an index in the millions, moves by amounts far from 1."""
    return Series(
        series.open * factor, series.high * factor, series.low * factor,
        series.close * factor, series.volume,
    )  # fmt: skip


SERIES: dict[str, Callable[[], Series]] = {
    "random_walk": lambda: random_walk(500, 1),
    "quiet_fx_minutes": lambda: random_walk(500, 4, volatility=0.00002),
    "micro_prices": lambda: scaled(random_walk(500, 5), 1e-7),
    "huge_prices": lambda: scaled(random_walk(500, 6), 1e5),
    "volatile": lambda: random_walk(500, 2, volatility=0.05),
    "flats_and_gaps": lambda: with_flats_and_gaps(3),
    "through_zero": lambda: through_zero(8),
    "whole_ticks": lambda: whole_ticks(400, 9),
    "goog_daily": lambda: published("goog_daily"),
    "eurusd_hourly": lambda: published("eurusd_hourly"),
}


_prices = st.floats(min_value=1.0, max_value=1000.0, allow_nan=False, allow_infinity=False)


@st.composite
def ohlcv(draw: st.DrawFn) -> Series:
    """Bars built from runs: moves, flat stretches, gaps, zero-volume bars."""
    closes: list[float] = []
    price = draw(_prices)
    while len(closes) < draw(st.integers(min_value=30, max_value=90)):
        kind = draw(st.sampled_from(["move", "flat", "gap"]))
        length = draw(st.integers(min_value=1, max_value=12))
        for _ in range(length):
            if kind == "move":
                price *= 1 + draw(st.floats(min_value=-0.05, max_value=0.05))
            elif kind == "gap":
                price *= draw(st.sampled_from([0.7, 0.9, 1.1, 1.4]))
            price = min(max(price, 1.0), 1000.0)  # a market, not a 400x collapse in 30 bars
            closes.append(round(price, 2))
    n = len(closes)
    close = np.array(closes)
    spread = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.001, 0.01, 0.03]), min_size=n, max_size=n))
    )
    high = np.round(close * (1 + spread), 2)
    low = np.round(close * (1 - spread), 2)
    volume = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 100.0, 5000.0]), min_size=n, max_size=n))
    )
    return Series((high + low) / 2, high, low, close, volume)
