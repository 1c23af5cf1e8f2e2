"""Wilder's directional movement: +DM, -DM, +DI, -DI, DX, ADX and ADXR (TA-Lib's rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketpulse.analytics.indicators.base import (
    Candle,
    Function,
    Indicator,
    Periodic,
    Stateful,
    is_zero,
)
from marketpulse.analytics.indicators.volatility import true_range
from marketpulse.analytics.indicators.windows import Ring


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
        if self.seen:
            self.steps, self.plus_dm, self.minus_dm, self.tr = self.after(candle)
        self.prev_high, self.prev_low, self.prev_close = candle.high, candle.low, candle.close
        self.seen = True
        return self.steps >= self.period

    def defines_next(self) -> bool:
        """Whether the next :meth:`update` defines the DIs (from step ``period``; the first
        bar is no step: there is no change to measure yet)."""
        return self.seen and self.steps + 1 >= self.period

    def after(self, candle: Candle) -> tuple[int, float, float, float]:
        """The steps, +DM, -DM and TR that :meth:`update` would leave on ``candle``, changing
        nothing; only once a bar was seen (:attr:`seen`). Never None: a tuple of numbers
        only is returned by value in compiled code, with no object made for it or its
        numbers (this runs at every update of DI and ADX)."""
        n = self.period
        steps = self.steps + 1
        diff_p = candle.high - self.prev_high
        diff_m = self.prev_low - candle.low
        tr = true_range(candle.high, candle.low, self.prev_close)
        plus_dm, minus_dm, total = self.plus_dm, self.minus_dm, self.tr
        smoothing = steps >= n
        if smoothing:
            minus_dm -= minus_dm / n
            plus_dm -= plus_dm / n
        if diff_m > 0 and diff_p < diff_m:
            minus_dm += diff_m
        elif diff_p > 0 and diff_p > diff_m:
            plus_dm += diff_p
        total = total - total / n + tr if smoothing else total + tr
        return steps, plus_dm, minus_dm, total

    def plus_di(self) -> float:
        """+DI in percent (0 when the smoothed true range is zero)."""
        return self.di(self.plus_dm, self.tr)

    def minus_di(self) -> float:
        """-DI in percent (0 when the smoothed true range is zero)."""
        return self.di(self.minus_dm, self.tr)

    def di(self, dm: float, tr: float) -> float:
        """A directional index in percent from a smoothed DM and TR (0 when TR is zero)."""
        return 0.0 if is_zero(tr) else self._percent() * (dm / tr)

    def _percent(self) -> float:
        # TA-Lib's PLUS_DI and MINUS_DI over one bar are the bare ratio, not in percent
        return 100.0 if self.period > 1 else 1.0


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

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        if not self.dm.defines_next():
            return False
        _, plus_dm, minus_dm, tr = self.dm.after(candle)
        out[self.outputs[0]] = self.dm.di(plus_dm, tr)
        out[self.outputs[1]] = self.dm.di(minus_dm, tr)
        return True


class ADX(Periodic):
    """Average directional index: the mean of the first n DX, then Wilder's; from bar 2n-1."""

    def __init__(self, period: int = 14) -> None:
        super().__init__(period, "adx")
        self.dm = DirectionalMovement(period)
        self.dx_count = 0
        self.dx_sum = 0.0

    def _dx(self, plus_dm: float, minus_dm: float, tr: float) -> float | None:
        if is_zero(tr):
            return None
        minus_di, plus_di = self.dm.di(minus_dm, tr), self.dm.di(plus_dm, tr)
        total = minus_di + plus_di
        return None if is_zero(total) else 100.0 * (abs(minus_di - plus_di) / total)

    def update(self, candle: Candle) -> None:
        if not self.dm.update(candle):
            return
        n = self.period
        dx = self._dx(self.dm.plus_dm, self.dm.minus_dm, self.dm.tr)
        if self.value is None:
            self.dx_count += 1
            if dx is not None:
                self.dx_sum += dx
            if self.dx_count == n:
                self.value = self.dx_sum / n
        elif dx is not None:
            self.value = (self.value * (n - 1) + dx) / n

    def peek_value(self, candle: Candle) -> float | None:
        if not self.dm.defines_next():
            return self.value
        _, plus_dm, minus_dm, tr = self.dm.after(candle)
        n = self.period
        dx = self._dx(plus_dm, minus_dm, tr)
        if self.value is None:
            if self.dx_count + 1 < n:
                return None
            return (self.dx_sum + (0.0 if dx is None else dx)) / n
        if dx is None:
            return self.value
        return (self.value * (n - 1) + dx) / n


class _Directional(Function):
    """A function of Wilder's smoothed directional movement over ``timeperiod`` bars."""

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.dm = DirectionalMovement(timeperiod)


class PLUS_DM(_Directional):
    """+DM: the sum of the first n-1 upward moves, then Wilder-smoothed; from bar n-1."""

    kind = "plus_dm"

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.dm.update(candle)
        return (self.dm.plus_dm,) if self.dm.steps >= max(self.dm.period - 1, 1) else None


class MINUS_DM(_Directional):
    """-DM: the sum of the first n-1 downward moves, then Wilder-smoothed; from bar n-1."""

    kind = "minus_dm"

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.dm.update(candle)
        return (self.dm.minus_dm,) if self.dm.steps >= max(self.dm.period - 1, 1) else None


class PLUS_DI(_Directional):
    """+DI: +DM over the true range, in percent; from bar n."""

    kind = "plus_di"

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        return (self.dm.plus_di(),) if self.dm.update(candle) else None


class MINUS_DI(_Directional):
    """-DI: -DM over the true range, in percent; from bar n."""

    kind = "minus_di"

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        return (self.dm.minus_di(),) if self.dm.update(candle) else None


class DX(_Directional):
    """Directional index: 100 |+DI - -DI| / (+DI + -DI); from bar n."""

    kind = "dx"

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        if not self.dm.update(candle):
            return None
        plus, minus = self.dm.plus_di(), self.dm.minus_di()
        total = plus + minus
        if is_zero(total):
            return self.current or (0.0,)
        return (100.0 * (abs(minus - plus) / total),)


class ADXR(Function):
    """Average directional movement rating: (ADX + ADX n-1 bars back) / 2."""

    kind = "adxr"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.adx = ADX(timeperiod)
        self.history = Ring(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.adx.update(candle)
        adx = self.adx.value
        if adx is None:
            return None
        self.history.push(adx)
        if not self.history.full:
            return None
        back = self.history.items[self.history.head]  # the oldest: n-1 bars back
        return ((adx + back) / 2.0,)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    ADX,
    PLUS_DM,
    MINUS_DM,
    PLUS_DI,
    MINUS_DI,
    DX,
    ADXR,
)
