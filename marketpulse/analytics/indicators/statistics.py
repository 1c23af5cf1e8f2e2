"""Statistic functions over a window of closes (or of two price fields): VAR, STDDEV, AVGDEV,
the linear regression family (LINEARREG, _SLOPE, _INTERCEPT, _ANGLE, TSF), BETA and CORREL.

BETA and CORREL take the high and the low, as TA-Lib's functions do when given prices.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from marketpulse.analytics.indicators.base import Candle, Function, Indicator, is_zero
from marketpulse.analytics.indicators.windows import Ring, RollingVariance


class VAR(Function):
    """Population variance over ``timeperiod`` closes (``nbdev`` does not scale it, as in
    TA-Lib)."""

    kind = "var"

    def __init__(self, timeperiod: int, nbdev: float) -> None:
        super().__init__(timeperiod, nbdev)
        self.variance = RollingVariance(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        variance = self.variance.push(candle.close)
        return None if variance is None else (variance,)


class STDDEV(Function):
    """Population standard deviation over ``timeperiod`` closes, times ``nbdev``."""

    kind = "stddev"

    def __init__(self, timeperiod: int, nbdev: float) -> None:
        super().__init__(timeperiod, nbdev)
        self.nbdev = nbdev
        self.variance = RollingVariance(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        variance = self.variance.push(candle.close)
        if variance is None:
            return None
        return (math.sqrt(variance) * self.nbdev if variance > 0.0 else 0.0,)


class AVGDEV(Function):
    """Mean absolute deviation from the mean over ``timeperiod`` closes (needs the window:
    O(period) per bar)."""

    kind = "avgdev"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.window = Ring(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.window.push(candle.close)
        if not self.window.full:
            return None
        items = self.window.ordered()
        n = len(items)
        mean = sum(items) / n
        return (sum(abs(x - mean) for x in items) / n,)


class _Regression(Function):
    """The least-squares line through the last ``timeperiod`` closes (x: 0 for the oldest),
    refitted on each bar from the window as TA-Lib does."""

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.window = Ring(timeperiod)
        n = float(timeperiod)
        self.sum_x = n * (n - 1) * 0.5
        self.sum_x_squared = n * (n - 1) * (2 * n - 1) / 6
        self.divisor = self.sum_x * self.sum_x - n * self.sum_x_squared

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.window.push(candle.close)
        if not self.window.full:
            return None
        n = self.window.size
        sum_xy = 0.0
        sum_y = 0.0
        for back, y in enumerate(reversed(self.window.ordered())):  # back: bars before this
            sum_xy += back * y
            sum_y += y
        slope = (n * sum_xy - self.sum_x * sum_y) / self.divisor
        intercept = (sum_y - slope * self.sum_x) / n
        return self.line(slope, intercept, n)

    def line(self, slope: float, intercept: float, n: int) -> tuple[float, ...]:
        """The output from the fitted line."""
        raise NotImplementedError


class LINEARREG(_Regression):
    """The fitted line's value at this bar."""

    kind = "linearreg"

    def line(self, slope: float, intercept: float, n: int) -> tuple[float, ...]:
        return (intercept + slope * (n - 1),)


class LINEARREG_SLOPE(_Regression):
    """The fitted line's slope per bar."""

    kind = "linearreg_slope"

    def line(self, slope: float, intercept: float, n: int) -> tuple[float, ...]:
        return (slope,)


class LINEARREG_INTERCEPT(_Regression):
    """The fitted line's value at the window's oldest bar."""

    kind = "linearreg_intercept"

    def line(self, slope: float, intercept: float, n: int) -> tuple[float, ...]:
        return (intercept,)


class LINEARREG_ANGLE(_Regression):
    """The fitted line's slope as an angle in degrees."""

    kind = "linearreg_angle"

    def line(self, slope: float, intercept: float, n: int) -> tuple[float, ...]:
        return (math.atan(slope) * (180.0 / math.pi),)


class TSF(_Regression):
    """Time series forecast: the fitted line's value one bar ahead."""

    kind = "tsf"

    def line(self, slope: float, intercept: float, n: int) -> tuple[float, ...]:
        return (intercept + slope * n,)


class BETA(Function):
    """Beta of the high's bar-to-bar returns against the low's over ``timeperiod`` returns."""

    kind = "beta"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.seen = False
        self.previous_high = self.previous_low = 0.0
        self.xs = Ring(timeperiod)
        self.ys = Ring(timeperiod)
        self.s_xx = self.s_xy = self.s_x = self.s_y = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        high, low = self.previous_high, self.previous_low
        self.previous_high, self.previous_low = candle.high, candle.low
        if not self.seen:
            self.seen = True
            return None
        x = (candle.high - high) / high if high != 0.0 else 0.0
        y = (candle.low - low) / low if low != 0.0 else 0.0
        old_x, old_y = self.xs.push(x), self.ys.push(y)
        if old_x is not None and old_y is not None:
            self.s_xx -= old_x * old_x
            self.s_xy -= old_x * old_y
            self.s_x -= old_x
            self.s_y -= old_y
        self.s_xx += x * x
        self.s_xy += x * y
        self.s_x += x
        self.s_y += y
        if not self.xs.full:
            return None
        n = self.xs.size
        denominator = n * self.s_xx - self.s_x * self.s_x
        if is_zero(denominator):
            return (0.0,)
        return ((n * self.s_xy - self.s_x * self.s_y) / denominator,)


class CORREL(Function):
    """Pearson's correlation of the high and the low over ``timeperiod`` bars, from sums
    shifted by anchors near the values and taken afresh every ``timeperiod`` bars (as
    ``RollingVariance``'s): as exact as summing each window anew, amortised O(1)."""

    kind = "correl"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.xs = Ring(timeperiod)
        self.ys = Ring(timeperiod)
        self.count = 0
        self.anchor_x: float | None = None
        self.anchor_y = 0.0
        self.s_x = self.s_y = self.s_xx = self.s_yy = self.s_xy = 0.0

    def _add(self, x: float, y: float, sign: float) -> None:
        dx = x - (self.anchor_x or 0.0)
        dy = y - self.anchor_y
        self.s_x += sign * dx
        self.s_y += sign * dy
        self.s_xx += sign * (dx * dx)
        self.s_yy += sign * (dy * dy)
        self.s_xy += sign * (dx * dy)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        x, y = candle.high, candle.low
        if self.anchor_x is None:
            self.anchor_x, self.anchor_y = x, y
        old_x, old_y = self.xs.push(x), self.ys.push(y)
        if old_x is not None and old_y is not None:
            self._add(old_x, old_y, -1.0)
        self._add(x, y, 1.0)
        self.count += 1
        n = self.xs.size
        if self.count % n == 0:
            xs, ys = self.xs.ordered(), self.ys.ordered()
            self.anchor_x, self.anchor_y = xs[0], ys[0]
            self.s_x = self.s_y = self.s_xx = self.s_yy = self.s_xy = 0.0
            for value_x, value_y in zip(xs, ys, strict=True):
                self._add(value_x, value_y, 1.0)
        if not self.xs.full:
            return None
        spread = (self.s_xx - self.s_x * self.s_x / n) * (self.s_yy - self.s_y * self.s_y / n)
        if spread <= 0.0:
            return (0.0,)
        return ((self.s_xy - self.s_x * self.s_y / n) / math.sqrt(spread),)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    VAR,
    STDDEV,
    AVGDEV,
    LINEARREG,
    LINEARREG_SLOPE,
    LINEARREG_INTERCEPT,
    LINEARREG_ANGLE,
    TSF,
    BETA,
    CORREL,
)
