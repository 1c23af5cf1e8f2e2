"""MACDEXT where the catalog's defaults do not take it (periods given slow first, averages with
longer lookbacks than their period), and PERCENTILE against numpy's nearest rank."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from marketpulse.analytics.indicators.oscillators import MACDEXT
from marketpulse.analytics.indicators.ranges import PERCENTILE
from tests.market_data import random_walk
from tests.oracles import assert_equal_to_talib, closes_only, outputs

SERIES = random_walk(400, 31)


@pytest.mark.parametrize(
    "arguments",
    [
        (26, 1, 12, 1, 9, 1),  # the slow period given first: TA-Lib swaps them, types too
        (30, 3, 10, 0, 5, 0),
        (12, 3, 26, 4, 9, 0),  # DEMA and TEMA: lookbacks of two and three periods
        (5, 8, 20, 6, 9, 2),  # T3 and KAMA
    ],
)
def test_macdext_equals_ta_lib(arguments: tuple[int, ...]) -> None:
    indicator = MACDEXT(*arguments)
    expected = dict(zip(indicator.outputs, talib.MACDEXT(SERIES.close, *arguments), strict=True))
    assert_equal_to_talib(outputs(indicator, closes_only(SERIES.close)), expected)


@pytest.mark.parametrize("period", [5, 20, 150])
@pytest.mark.parametrize("percentile", [0.0, 1.0, 25.0, 50.0, 90.0, 99.5, 100.0])
def test_percentile_is_the_nearest_rank(period: int, percentile: float) -> None:
    """The smallest value of the window with at least the percentile's share of the window at
    or below it: numpy's "inverted_cdf"."""
    closes = np.round(SERIES.close, 1)  # ties too
    got = outputs(PERCENTILE(period, percentile), closes_only(closes))
    values = next(iter(got.values()))
    for i in range(period - 1, len(closes)):
        window = closes[i - period + 1 : i + 1]
        assert values[i] == np.percentile(window, percentile, method="inverted_cdf"), i
