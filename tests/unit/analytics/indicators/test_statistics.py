"""CORREL's sums are taken about anchors that move with the prices: on a market that drifts far
from where it started, each window's correlation stays as exact as a two-pass computation over
that window alone."""

from __future__ import annotations

import numpy as np
import pytest

from marketpulse.analytics.indicators.base import Candle
from marketpulse.analytics.indicators.statistics import CORREL


@pytest.mark.parametrize("period", [5, 14])
def test_correl_stays_exact_on_a_market_that_drifts_far(period: int) -> None:
    """From 100 to some 800,000 in 3,000 bars, each bar's range a millionth of its price: sums
    about the first prices would cancel all but a few of their digits (an error of about 1e-11
    here); the sums taken afresh every ``period`` bars keep it near 1e-14."""
    rng = np.random.default_rng(5)
    mid = 100 * np.exp(np.cumsum(rng.normal(0.003, 0.0005, 3000)))
    high = mid * (1 + rng.uniform(0.0, 1e-6, mid.size))
    low = mid * (1 - rng.uniform(0.0, 1e-6, mid.size))
    correl = CORREL(period)
    worst = 0.0
    for i in range(mid.size):
        correl.update(Candle(i, 0.0, float(high[i]), float(low[i]), 0.0, 0.0))
        if i >= period - 1:
            got = correl.values()[correl.outputs[0]]
            window = slice(i - period + 1, i + 1)
            worst = max(worst, abs(got - np.corrcoef(high[window], low[window])[0, 1]))
    assert worst < 1e-12
