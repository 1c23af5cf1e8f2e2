"""Wilder's directional movement: +DI, -DI and ADX (TA-Lib's rules)."""

from __future__ import annotations

from typing import Any

from marketpulse.analytics.indicators.base import Candle, Indicator, Periodic, Stateful, is_zero
from marketpulse.analytics.indicators.volatility import true_range


class DirectionalMovement(Stateful):
    """Wilder-smoothed +DM, -DM and TR; ``steps`` counts the bar-to-bar changes seen."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.steps = 0
        self.prev_high = 0.0
        self.prev_low = 0.0
        self.prev_close = 0.0
        self.plus_dm = 0.0
        self.minus_dm = 0.0
        self.tr = 0.0
        self.seen = False

    def update(self, candle: Candle) -> bool:
        """Take a bar; return whether the DIs are defined (from step ``period``)."""
        if not self.seen:
            self.seen = True
            self.prev_high, self.prev_low, self.prev_close = candle.high, candle.low, candle.close
            return False
        n = self.period
        self.steps += 1
        diff_p = candle.high - self.prev_high
        diff_m = self.prev_low - candle.low
        self.prev_high, self.prev_low = candle.high, candle.low
        tr = true_range(candle.high, candle.low, self.prev_close)
        self.prev_close = candle.close
        smoothing = self.steps >= n
        if smoothing:
            self.minus_dm -= self.minus_dm / n
            self.plus_dm -= self.plus_dm / n
        if diff_m > 0 and diff_p < diff_m:
            self.minus_dm += diff_m
        elif diff_p > 0 and diff_p > diff_m:
            self.plus_dm += diff_p
        self.tr = self.tr - self.tr / n + tr if smoothing else self.tr + tr
        return smoothing

    def plus_di(self) -> float:
        """+DI in percent (0 when the smoothed true range is zero)."""
        return 0.0 if is_zero(self.tr) else 100.0 * (self.plus_dm / self.tr)

    def minus_di(self) -> float:
        """-DI in percent (0 when the smoothed true range is zero)."""
        return 0.0 if is_zero(self.tr) else 100.0 * (self.minus_dm / self.tr)


class DI(Indicator):
    """+DI and -DI, from bar n."""

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self.name = f"di_{period}"
        self.outputs = (f"plus_di_{period}", f"minus_di_{period}")
        self.dm = DirectionalMovement(period)
        self.ready = False

    def params(self) -> tuple[Any, ...]:
        return (self.period,)

    def update(self, candle: Candle) -> None:
        self.ready = self.dm.update(candle)

    @property
    def initialized(self) -> bool:
        return self.ready

    def values(self) -> dict[str, float]:
        if not self.ready:
            return {}
        return {self.outputs[0]: self.dm.plus_di(), self.outputs[1]: self.dm.minus_di()}


class ADX(Periodic):
    """Average directional index: the mean of the first n DX, then Wilder's; from bar 2n-1."""

    def __init__(self, period: int = 14) -> None:
        super().__init__(period, "adx")
        self.dm = DirectionalMovement(period)
        self.dx_count = 0
        self.dx_sum = 0.0

    def _dx(self) -> float | None:
        if is_zero(self.dm.tr):
            return None
        minus_di, plus_di = self.dm.minus_di(), self.dm.plus_di()
        total = minus_di + plus_di
        return None if is_zero(total) else 100.0 * (abs(minus_di - plus_di) / total)

    def update(self, candle: Candle) -> None:
        if not self.dm.update(candle):
            return
        n = self.period
        dx = self._dx()
        if self.value is None:
            self.dx_count += 1
            if dx is not None:
                self.dx_sum += dx
            if self.dx_count == n:
                self.value = self.dx_sum / n
        elif dx is not None:
            self.value = (self.value * (n - 1) + dx) / n
