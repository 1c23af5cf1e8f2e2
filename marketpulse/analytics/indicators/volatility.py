"""Volatility: Bollinger Bands, true range and ATR (TA-Lib's rules)."""

from __future__ import annotations

import math
from typing import Any

from marketpulse.analytics.indicators.averages import moving_average
from marketpulse.analytics.indicators.base import (
    Candle,
    Function,
    Indicator,
    Periodic,
    SingleOutput,
    is_zero,
    parameter_text,
)
from marketpulse.analytics.indicators.windows import Ring


def true_range(high: float, low: float, prev_close: float) -> float:
    """Greatest of high-low, |prev close-high| and |prev close-low|."""
    greatest = high - low
    up = abs(prev_close - high)
    if up > greatest:
        greatest = up
    down = abs(prev_close - low)
    if down > greatest:
        greatest = down
    return greatest


class BBANDS(Indicator):
    """A moving average (an SMA unless an MA type is given) ± k population standard deviations
    of the closes over the period.

    The variance comes from running sums of the closes shifted by the first close, as TA-Lib
    computes it: E[(x-K)^2] - E[x-K]^2 keeps far fewer digits cancelled than E[x^2] - E[x]^2.
    Any positive variance counts, however small (an instrument quoted in millionths moves by
    that little); a window of identical closes has no deviation at all, whatever rounding
    residue the sums hold (TA-Lib handles both the same way).
    """

    def __init__(
        self, period: int = 20, devup: float = 2.0, devdn: float | None = None, matype: int = 0
    ) -> None:
        self.period = period
        self.devup = devup
        self.devdn = devup if devdn is None else devdn
        self.matype = matype
        suffix = f"{period}_{devup:g}" if self.devdn == devup else f"{period}_{devup:g}_{devdn:g}"
        if matype:
            suffix += f"_{matype}"
        self.name = f"bb_{suffix}"
        self.outputs = (f"bb_upper_{suffix}", f"bb_middle_{suffix}", f"bb_lower_{suffix}")
        self.middle = moving_average(matype, period)
        self.shift: float | None = None
        self.shifted = Ring(period)
        self.total = 0.0
        self.square_total = 0.0
        self.run = 0  # how many closes in a row equal the latest
        self.last_close: float | None = None
        self.deviation: float | None = None

    def params(self) -> tuple[Any, ...]:
        return (self.period, self.devup, self.devdn, self.matype)

    def update(self, candle: Candle) -> None:
        x = candle.close
        mean = self.middle.push(x)
        self.run = self.run + 1 if x == self.last_close else 1
        self.last_close = x
        if self.shift is None:
            self.shift = x
        d = x - self.shift
        evicted = self.shifted.push(d)
        if evicted is not None:
            self.total -= evicted
            self.square_total -= evicted * evicted
        self.total += d
        self.square_total += d * d
        if mean is None or not self.shifted.full:
            return
        if self.run >= self.period:
            self.deviation = 0.0
            return
        shifted_mean = self.total / self.period
        variance = self.square_total / self.period - shifted_mean * shifted_mean
        self.deviation = math.sqrt(variance) if variance > 0.0 else 0.0

    @property
    def initialized(self) -> bool:
        return self.deviation is not None

    def values(self) -> dict[str, float]:
        mean, deviation = self.middle.value, self.deviation
        if mean is None or deviation is None:
            return {}
        upper, middle, lower = self.outputs
        return {
            upper: mean + deviation * self.devup,
            middle: mean,
            lower: mean - deviation * self.devdn,
        }


class BBANDSFunction(BBANDS):
    """BBANDS under TA-Lib's parameters and output names: ``bbands_upperband_20_2_2_0``."""

    def __init__(self, period: int, devup: float, devdn: float, matype: int) -> None:
        super().__init__(period, devup, devdn, matype)
        suffix = "_".join(parameter_text(p) for p in (period, devup, devdn, matype))
        self.name = f"bbands_{suffix}"
        self.outputs = tuple(
            f"bbands_{band}_{suffix}" for band in ("upperband", "middleband", "lowerband")
        )


class TRANGE(SingleOutput):
    """True range, from the second bar."""

    def __init__(self) -> None:
        self.name = "trange"
        self.outputs = ("trange",)
        self.prev_close: float | None = None
        self.value: float | None = None

    def params(self) -> tuple[Any, ...]:
        return ()

    def update(self, candle: Candle) -> None:
        if self.prev_close is not None:
            self.value = true_range(candle.high, candle.low, self.prev_close)
        self.prev_close = candle.close


class ATR(Periodic):
    """Average true range: the SMA of the first n true ranges (bars 1..n), then Wilder's."""

    def __init__(self, period: int = 14) -> None:
        super().__init__(period, "atr")
        self.trange = TRANGE()
        self.count = 0
        self.total = 0.0

    def update(self, candle: Candle) -> None:
        self.trange.update(candle)
        tr = self.trange.value
        if tr is None:
            return
        n = self.period
        if self.value is not None:
            value = self.value * (n - 1)
            value += tr
            self.value = value / n
            return
        self.count += 1
        self.total += tr
        if self.count == n:
            self.value = self.total / n


class NATR(Function):
    """Normalised ATR: ATR / close * 100 (0 at a zero close)."""

    kind = "natr"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.atr = ATR(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.atr.update(candle)
        atr = self.atr.value
        if atr is None:
            return None
        return ((atr / candle.close) * 100.0 if not is_zero(candle.close) else 0.0,)
