"""SAREXT's knobs against TA-Lib beyond the catalog's defaults: a start given short (a negative
start value), an offset on reversal, and the first bar's direction where its move ties."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from marketpulse.analytics.indicators.parabolic import SAR, SAREXT
from tests.market_data import random_walk, whole_ticks
from tests.oracles import Series, assert_equal_to_talib, outputs

# start, offset on reverse, then acceleration init, step and maximum for longs and for shorts
KNOBS = [
    (-101.0, 0.0, 0.02, 0.02, 0.2, 0.02, 0.02, 0.2),  # short from 101
    (-1.0, 0.0, 0.01, 0.03, 0.3, 0.05, 0.01, 0.1),  # short from far below: reverses at once
    (99.0, 0.0, 0.02, 0.02, 0.2, 0.02, 0.02, 0.2),  # long from 99
    (0.0, 1.0, 0.02, 0.02, 0.2, 0.02, 0.02, 0.2),  # the stop moved by its whole value
    (0.0, 0.05, 0.02, 0.02, 0.2, 0.03, 0.03, 0.3),
]


@pytest.mark.parametrize("knobs", KNOBS)
@pytest.mark.parametrize("series", [random_walk(300, 21), whole_ticks(300, 22)])
def test_sarext_equals_ta_lib(knobs: tuple[float, ...], series: Series) -> None:
    indicator = SAREXT(*knobs)
    expected = talib.SAREXT(series.high, series.low, *knobs)
    assert_equal_to_talib(outputs(indicator, series), {indicator.outputs[0]: expected})


def _two_bars_then_walk(high: float, low: float) -> Series:
    """A first bar at 10-12, then one whose high and low are given, then a walk."""
    walk = whole_ticks(60, 23)
    highs = np.concatenate([[12.0, high], walk.high - walk.high[0] + high])
    lows = np.concatenate([[10.0, low], walk.low - walk.high[0] + high - 2.0])
    closes = (highs + lows) / 2
    return Series(closes, highs, lows, closes, np.ones_like(closes))


@pytest.mark.parametrize(
    ("high", "low"),
    [
        (11.0, 10.0),  # the same low, a lower high: no move down, so it starts long
        (11.0, 9.0),  # a move down larger than the one up: short
        (13.0, 9.0),  # both moves the same: long
        (12.0, 10.0),  # no move at all: long
    ],
)
def test_sar_takes_its_first_direction_as_ta_lib_does(high: float, low: float) -> None:
    series = _two_bars_then_walk(high, low)
    expected = talib.SAR(series.high, series.low, 0.02, 0.2)
    indicator = SAR(0.02, 0.2)
    assert_equal_to_talib(outputs(indicator, series), {indicator.outputs[0]: expected})
