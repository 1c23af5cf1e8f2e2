"""Edges of the swing indicators that no TA-Lib function has: the efficiency ratio on a
straight line, where rounding puts the net move a hair above the sum of the moves, and the true
strength index of a market that has not moved."""

from __future__ import annotations

import numpy as np
import pytest

from marketpulse.analytics.indicators.base import Function
from marketpulse.analytics.indicators.swings import ER, TSI
from tests.oracles import closes_only, outputs


def _closes(indicator: Function, closes: list[float]) -> list[float]:
    """The indicator's one output on bars of these closes, where it has one."""
    (values,) = outputs(indicator, closes_only(np.array(closes))).values()
    return [v for v in values if not np.isnan(v)]


@pytest.mark.parametrize("period", [10, 14])
def test_the_efficiency_ratio_of_a_straight_line_is_one(period: int) -> None:
    """Steps of 0.1 from 0: at period 10 the net move over the window comes out as
    1.0000000000000002 and the moves' sum as 1.0 (elsewhere the sum comes out above). TA-Lib's
    KAMA, whose ratio this is, takes 1 wherever the sum is not above the net move: the ratio
    never exceeds 1."""
    line = [0.1 * i for i in range(60)]
    ratios = _closes(ER(period), line)
    assert len(ratios) == len(line) - period
    assert max(ratios) == 1.0
    assert ratios == pytest.approx([1.0] * len(ratios), rel=1e-12)


def test_the_true_strength_of_a_market_that_has_not_moved_is_zero() -> None:
    """No move at all: both smoothed sums are zero; there is no strength either way."""
    values = _closes(TSI(3, 5), [42.0] * 30)
    assert values
    assert values == [0.0] * len(values)


def test_the_true_strength_of_a_steady_rise_is_a_hundred() -> None:
    values = _closes(TSI(3, 5), [float(i) for i in range(30)])
    assert values == pytest.approx([100.0] * len(values))
