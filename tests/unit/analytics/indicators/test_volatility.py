"""Bollinger Bands and ATR where the TA-Lib comparisons on market data rarely go: their
defaults, and windows whose deviation is zero or very nearly so."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from marketpulse.analytics.indicators.base import Candle
from marketpulse.analytics.indicators.volatility import ATR, BBANDS

H = 3_600_000_000_000


def run(indicator: BBANDS, closes: list[float]) -> list[dict[str, float]]:
    out = []
    for i, close in enumerate(closes):
        indicator.update(Candle(i * H, close, close, close, close, 1.0))
        out.append(indicator.values())
    return out


def test_the_defaults_are_talibs() -> None:
    assert BBANDS().outputs == ("bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2")
    assert BBANDS().name == "bb_20_2"
    assert BBANDS(10, 2.0, 1.5).name == "bb_10_2_1.5"
    assert ATR().outputs == ("atr_14",)


def test_a_window_of_one_repeated_close_has_no_deviation_whatever_the_sums_kept() -> None:
    # large swings first, so the running sums carry a rounding residue far above 1e-8 when the
    # window is all one price; the bands must still close on the mean, as TA-Lib's do
    rng = np.random.default_rng(3)
    period = 5
    closes = list(np.round(1e6 + rng.normal(0, 3e5, 40), 3)) + [1_234_567.891] * 8
    bands = run(BBANDS(period, 2.0), closes)
    upper, middle, lower = talib.BBANDS(np.array(closes), period, 2.0, 2.0)
    flat = len(closes) - 8 + period - 1  # the first bar whose window is all one price
    for i in range(flat, len(closes)):
        values = bands[i]
        assert values["bb_upper_5_2"] == values["bb_middle_5_2"] == values["bb_lower_5_2"], i
        assert (upper[i], lower[i]) == (middle[i], middle[i])
    before = bands[flat - 1]
    assert before["bb_upper_5_2"] > before["bb_middle_5_2"]  # one other price still in it


def test_however_small_a_variance_it_is_a_deviation() -> None:
    # closes one hundred-thousandth apart: a variance of 2.5e-11, which a fixed 1e-8 band
    # would zero; TA-Lib gives bands 1e-5 apart
    closes = [100.0 + (1e-5 if i % 2 else 0.0) for i in range(30)]
    last = run(BBANDS(4, 2.0), closes)[-1]
    upper, middle, lower = talib.BBANDS(np.array(closes), 4, 2.0, 2.0)
    assert last["bb_upper_4_2"] - last["bb_middle_4_2"] == pytest.approx(1e-5, rel=1e-6)
    assert (last["bb_upper_4_2"], last["bb_middle_4_2"], last["bb_lower_4_2"]) == pytest.approx(
        (upper[-1], middle[-1], lower[-1]), rel=1e-12
    )


def test_a_variance_that_underflows_to_zero_is_no_deviation() -> None:
    # closes 1e-170 apart: their squares underflow, the variance is exactly zero although the
    # closes differ; TA-Lib's bands close on the mean too
    closes = [0.0, 1e-170] * 10
    last = run(BBANDS(4, 2.0), closes)[-1]
    assert last["bb_upper_4_2"] == last["bb_middle_4_2"] == last["bb_lower_4_2"] == 5e-171
