"""The rolling extremes under the indicators: against TA-Lib's MAX and MIN where values tie, one
value kept of a flat run, and a peek that is the push at every step from the first value, to
the sign of a zero."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib

from marketpulse.analytics.indicators.windows import RollingExtreme

# ties, and zeros of both signs: equal, but told apart by their sign
VALUES = (-0.0, 0.0, 1.0, -1.0, 2.0)


def _series(n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [VALUES[i] for i in rng.integers(0, len(VALUES), n)]


def _same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@pytest.mark.parametrize("highest", [True, False])
@pytest.mark.parametrize("size", [2, 3, 5])
def test_an_extreme_is_ta_lib_s_where_values_tie(highest: bool, size: int) -> None:
    """Of equal values TA-Lib's MAX keeps the latest as it steps and the earliest when it
    scans its window again: they differ at most in the sign of a zero, which is not compared."""
    values = _series(300, seed=size)
    expected = (talib.MAX if highest else talib.MIN)(np.array(values), timeperiod=size)
    extreme = RollingExtreme(size, highest)
    got = [extreme.push(value) for value in values]
    assert got[size - 1 :] == expected[size - 1 :].tolist()


@pytest.mark.parametrize("highest", [True, False])
def test_a_flat_run_keeps_one_value(highest: bool) -> None:
    """An equal value replaces the one queued before it: a flat market (an illiquid symbol's
    closes) keeps one number in the state, not the window's."""
    extreme = RollingExtreme(20, highest)
    for value in (3.0, 1.0, 2.0, *[2.0] * 30):
        extreme.push(value)
    assert extreme.state()[3] == [32, 2.0]  # the queue: index, value


@pytest.mark.parametrize("highest", [True, False])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_a_peek_is_the_push_from_the_first_value_on(highest: bool, size: int) -> None:
    extreme = RollingExtreme(size, highest)
    for i, value in enumerate(_series(200, seed=10 + size)):
        before = extreme.state()
        peeked = extreme.peek(value)
        assert extreme.state() == before, i  # a peek commits nothing
        pushed = extreme.push(value)
        assert _same(peeked, pushed), (i, peeked, pushed)
