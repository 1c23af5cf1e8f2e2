"""The moving averages as other indicators use them: each type's lookback (which lines up two
averages, as APO's and PPO's), a peek at every step from the first input, and the efficiency
ratio's running sum of moves at a price scale where a stray term would show."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from talib import abstract

from marketpulse.analytics.indicators.averages import (
    EMA,
    MA_TYPES,
    MAMA_TYPE,
    Average,
    Efficiency,
    lookback,
    moving_average,
)
from tests.market_data import random_walk

TALIB_TYPES = range(9)  # TA-Lib's own: SMA, EMA, WMA, DEMA, TEMA, TRIMA, KAMA, MAMA, T3
PERIODS = (1, 2, 3, 4, 5, 8, 9, 14, 30)


def _first_output(average: Average, prices: np.ndarray) -> int:
    for i, price in enumerate(prices):
        if average.push(float(price)) is not None:
            return i
    raise AssertionError("no output")


@pytest.mark.parametrize("matype", TALIB_TYPES)
@pytest.mark.parametrize("period", PERIODS)
def test_each_type_s_lookback_is_ta_lib_s(matype: int, period: int) -> None:
    ma = abstract.Function("MA")
    ma.set_parameters(timeperiod=period, matype=matype)
    assert lookback(matype, period) == ma.lookback


@pytest.mark.parametrize("matype", sorted({*MA_TYPES, MAMA_TYPE}))
@pytest.mark.parametrize("period", PERIODS)
def test_each_type_s_lookback_is_where_its_first_output_comes(matype: int, period: int) -> None:
    prices = random_walk(300, period).close
    assert lookback(matype, period) == _first_output(moving_average(matype, period), prices)


def _peeks_equal_pushes(average: Average, prices: np.ndarray) -> None:
    for i, price in enumerate(prices):
        before = average.state()
        peeked = average.peek_push(float(price))
        assert average.state() == before, i  # a peek commits nothing
        assert peeked == average.push(float(price)), i


@pytest.mark.parametrize("matype", sorted(MA_TYPES))
@pytest.mark.parametrize("period", [1, 2, 3, 5])
def test_a_peek_is_the_push_from_the_first_input_on(matype: int, period: int) -> None:
    _peeks_equal_pushes(MA_TYPES[matype](period), random_walk(40, matype).close)


@pytest.mark.parametrize(("period", "seed_at"), [(3, 5), (2, 7), (4, 4)])
def test_an_ema_seeded_late_peeks_its_seed(period: int, seed_at: int) -> None:
    """MACD seeds its fast EMA at the slow period: the seed is then the SMA of the last
    ``period`` of the inputs taken so far."""
    _peeks_equal_pushes(EMA(period, seed_at=seed_at), random_walk(20, seed_at).close)


@pytest.mark.parametrize("period", [10, 20, 30])
def test_the_efficiency_ratio_s_sum_of_moves_is_exact_where_each_move_is(period: int) -> None:
    """KAMA's (and ER's) sum of the bar-to-bar moves runs by adding the newest and taking off
    the oldest. Prices just under 1.0 share one spacing of doubles, so each move and every sum
    of them up to 1e-6 is exact: the running sum equals the exact sum of its window's moves,
    bit for bit. A stray term in it (the first price, as a move from zero) would cross 1.0,
    where the spacing doubles, and leave the sums off by a billionth."""
    rng = np.random.default_rng(0)
    prices = [float(p) for p in 1.0 - 2e-8 + rng.uniform(-1e-8, 1e-8, 400)]
    efficiency = Efficiency(period)
    for i, price in enumerate(prices):
        parts = efficiency.push(price)
        if i < period:
            assert parts is None, i
            continue
        window = prices[i - period : i + 1]
        moves = math.fsum(abs(b - a) for a, b in itertools.pairwise(window))
        assert parts == (price - window[0], moves), i
