"""Moving averages on one input series, with TA-Lib's seeding and arithmetic order.

Each has ``push(x)``, returning the current value or None before TA-Lib's first output, so the
averages compose (DEMA is an EMA of an EMA); as indicators they read the close.
"""

from __future__ import annotations

from typing import Any

from marketpulse.analytics.indicators.base import Candle, Periodic
from marketpulse.analytics.indicators.windows import Ring


class _Average(Periodic):
    """A single-output average over closes, composable through ``push``."""

    def push(self, x: float) -> float | None:
        """Take the next input; return the average, or None before the first output."""
        raise NotImplementedError

    def update(self, candle: Candle) -> None:
        self.push(candle.close)


class SMA(_Average):
    """Simple moving average: a running total, first output at bar period-1."""

    def __init__(self, period: int, prefix: str = "sma") -> None:
        super().__init__(period, prefix)
        self.window = Ring(period)
        self.total = 0.0

    def push(self, x: float) -> float | None:
        evicted = self.window.push(x)
        if evicted is not None:
            total = self.total - evicted
            self.total = total = total + x
            self.value = total / self.period
            return self.value
        self.total += x
        if len(self.window.items) == self.period:
            self.value = self.total / self.period
        return self.value


class EMA(_Average):
    """Exponential moving average, k = 2/(n+1), seeded with the SMA of ``period`` inputs.

    ``seed_at`` (default ``period``) is the input count at which it seeds, from the SMA of the
    last ``period`` inputs: MACD seeds its fast EMA at the slow period, as TA-Lib does.
    """

    def __init__(self, period: int, seed_at: int | None = None, prefix: str = "ema") -> None:
        super().__init__(period, prefix)
        self.k = 2.0 / (period + 1)
        self.seed_at = seed_at or period
        self.count = 0
        self.window = Ring(period)

    def push(self, x: float) -> float | None:
        prev = self.value
        if prev is not None:
            self.value = ((x - prev) * self.k) + prev
            return self.value
        self.count += 1
        self.window.push(x)
        if self.count == self.seed_at:
            self.value = sum(self.window.ordered()) / self.period
            self.window.items.clear()  # not needed once seeded: keeps the state small
        return self.value

    def params(self) -> tuple[Any, ...]:
        return (self.period, self.seed_at)


class WMA(_Average):
    """Linearly weighted moving average (weights 1..n), TA-Lib's running sums."""

    def __init__(self, period: int, prefix: str = "wma") -> None:
        super().__init__(period, prefix)
        self.window = Ring(period)
        self.divider = (period * (period + 1)) / 2
        self.period_sum = 0.0
        self.period_sub = 0.0
        self.count = 0

    def push(self, x: float) -> float | None:
        self.count += 1
        evicted = self.window.push(x)
        self.period_sub += x
        if self.count < self.period:
            self.period_sum += x * self.count
            return None
        if evicted is not None:
            self.period_sub -= evicted
        self.period_sum += x * self.period
        self.value = self.period_sum / self.divider
        self.period_sum -= self.period_sub
        return self.value


class DEMA(_Average):
    """2*EMA - EMA(EMA); first output at bar 2(n-1)."""

    def __init__(self, period: int, prefix: str = "dema") -> None:
        super().__init__(period, prefix)
        self.ema1 = EMA(period)
        self.ema2 = EMA(period)

    def push(self, x: float) -> float | None:
        e1 = self.ema1.push(x)
        if e1 is None:
            return None
        e2 = self.ema2.push(e1)
        if e2 is not None:
            self.value = (2.0 * e1) - e2
        return self.value


class TEMA(_Average):
    """3*EMA - 3*EMA(EMA) + EMA(EMA(EMA)); first output at bar 3(n-1)."""

    def __init__(self, period: int, prefix: str = "tema") -> None:
        super().__init__(period, prefix)
        self.ema1 = EMA(period)
        self.ema2 = EMA(period)
        self.ema3 = EMA(period)

    def push(self, x: float) -> float | None:
        e1 = self.ema1.push(x)
        if e1 is None:
            return None
        e2 = self.ema2.push(e1)
        if e2 is None:
            return None
        e3 = self.ema3.push(e2)
        if e3 is not None:
            self.value = e3 + ((3.0 * e1) - (3.0 * e2))
        return self.value
