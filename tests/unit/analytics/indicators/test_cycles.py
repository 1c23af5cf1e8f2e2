"""The Hilbert-transform family against TA-Lib where the catalog's series do not go: a spread
that sits at exactly zero for longer than the transform's warm-up (its phase then has nothing to
correlate: no real part, no imaginary part), and MAMA with a fast limit below its slow one."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from marketpulse.analytics.indicators.base import Function
from marketpulse.analytics.indicators.cycles import (
    HT_DCPERIOD,
    HT_DCPHASE,
    HT_PHASOR,
    HT_SINE,
    HT_TRENDLINE,
    HT_TRENDMODE,
    MAMA,
)
from tests.oracles import assert_equal_to_talib, closes_only, outputs


def _closes() -> np.ndarray:
    """120 bars at zero, then a walk on a coarse tick (it crosses zero again)."""
    rng = np.random.default_rng(1)
    return np.concatenate([np.zeros(120), np.round(np.cumsum(rng.normal(0.0, 0.4, 200)), 1)])


def _oracle(
    indicator: Function, arrays: tuple[np.ndarray, ...] | np.ndarray
) -> dict[str, np.ndarray]:
    arrays = arrays if isinstance(arrays, tuple) else (arrays,)
    return dict(zip(indicator.outputs, (a.astype(float) for a in arrays), strict=True))


@pytest.mark.parametrize(
    ("make", "talib_function"),
    [
        (HT_DCPERIOD, talib.HT_DCPERIOD),
        (HT_PHASOR, talib.HT_PHASOR),
        (HT_DCPHASE, talib.HT_DCPHASE),
        (HT_SINE, talib.HT_SINE),
        (HT_TRENDLINE, talib.HT_TRENDLINE),
    ],
)
def test_a_spread_at_zero_is_ta_lib_s(make: type[Function], talib_function: object) -> None:
    closes = _closes()
    indicator = make()
    expected = _oracle(indicator, talib_function(closes))  # type: ignore[operator]
    assert_equal_to_talib(outputs(indicator, closes_only(closes)), expected, floor=1.0)


def test_the_trend_mode_of_a_spread_at_zero_is_ta_lib_s() -> None:
    closes = _closes()
    got = outputs(HT_TRENDMODE(), closes_only(closes))["ht_trendmode"]
    expected = talib.HT_TRENDMODE(closes)
    lookback = 63
    assert np.isnan(got[:lookback]).all()
    assert got[lookback:] == expected[lookback:].astype(float).tolist()


@pytest.mark.parametrize(("fast", "slow"), [(0.05, 0.5), (0.3, 0.3), (0.5, 0.05)])
def test_mama_equals_ta_lib_whichever_limit_is_larger(fast: float, slow: float) -> None:
    """On a bar whose phase has not advanced TA-Lib takes the fast limit as it is, not
    floored at the slow one."""
    rng = np.random.default_rng(7)
    closes = 100 + np.cumsum(rng.normal(0.0, 1.0, 300))
    indicator = MAMA(fast, slow)
    expected = _oracle(indicator, talib.MAMA(closes, fast, slow))
    assert_equal_to_talib(outputs(indicator, closes_only(closes)), expected)
