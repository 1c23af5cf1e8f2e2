"""Volatility: Bollinger Bands, true range and ATR (TA-Lib's rules)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from marketpulse.analytics.indicators.averages import EMA, SMA, moving_average
from marketpulse.analytics.indicators.base import (
    Candle,
    Function,
    Indicator,
    Periodic,
    SingleOutput,
    is_zero,
    parameter_text,
)
from marketpulse.analytics.indicators.windows import Ring, RollingVariance


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

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        x = candle.close
        mean = self.middle.peek_push(x)
        ring = self.shifted
        full = ring.full or len(ring.items) + 1 == self.period
        if mean is None or not full:  # no deviation before the ring fills
            return False
        if (self.run + 1 if x == self.last_close else 1) >= self.period:
            return self._bands(mean, 0.0, out)
        d = x - (x if self.shift is None else self.shift)
        total, square_total = self.total, self.square_total
        if ring.full:
            evicted = ring.items[ring.head]
            total -= evicted
            square_total -= evicted * evicted
        total += d
        square_total += d * d
        shifted_mean = total / self.period
        variance = square_total / self.period - shifted_mean * shifted_mean
        return self._bands(mean, math.sqrt(variance) if variance > 0.0 else 0.0, out)

    def _bands(self, mean: float, deviation: float, out: dict[str, float]) -> bool:
        """Put the three bands into ``out``; True: all three are defined."""
        upper, middle, lower = self.outputs
        out[upper] = mean + deviation * self.devup
        out[middle] = mean
        out[lower] = mean - deviation * self.devdn
        return True

    @property
    def initialized(self) -> bool:
        return self.deviation is not None

    def values(self) -> dict[str, float]:
        mean, deviation = self.middle.value, self.deviation
        out: dict[str, float] = {}
        if mean is not None and deviation is not None:
            self._bands(mean, deviation, out)
        return out


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

    def peek_value(self, candle: Candle) -> float | None:
        if self.prev_close is None:
            return self.value
        return true_range(candle.high, candle.low, self.prev_close)


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

    def peek_value(self, candle: Candle) -> float | None:
        prev_close = self.trange.prev_close
        if prev_close is None:
            return self.value
        tr = true_range(candle.high, candle.low, prev_close)
        n = self.period
        if self.value is not None:
            value = self.value * (n - 1)
            value += tr
            return value / n
        if self.count + 1 == n:
            return (self.total + tr) / n
        return None


class NATR(Function):
    """Normalised ATR: ATR / close * 100 (0 at a zero close); over one bar, as in TA-Lib, the
    true range itself, not normalised."""

    kind = "natr"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.atr = ATR(timeperiod)
        self.normalised = timeperiod > 1

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.atr.update(candle)
        atr = self.atr.value
        if atr is None:
            return None
        if not self.normalised:
            return (atr,)
        return ((atr / candle.close) * 100.0 if not is_zero(candle.close) else 0.0,)


class ADR(Function):
    """Average daily range: the SMA of high - low over n bars."""

    kind = "adr"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.sma = SMA(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        value = self.sma.push(candle.high - candle.low)
        return None if value is None else (value,)


class CVI(Function):
    """Chaikin volatility: the rate of change in percent, over ``rocperiod`` bars, of the EMA
    of high - low over n."""

    kind = "cvi"

    def __init__(self, timeperiod: int, rocperiod: int) -> None:
        super().__init__(timeperiod, rocperiod)
        self.ema = EMA(timeperiod)
        self.history = Ring(rocperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        ema = self.ema.push(candle.high - candle.low)
        if ema is None:
            return None
        back = self.history.push(ema)
        if back is None:
            return None
        return (((ema - back) / back) * 100.0 if back != 0.0 else 0.0,)


class MASSI(Function):
    """Mass index: the sum over ``slowperiod`` bars of EMA(H-L) / EMA(EMA(H-L)), both EMAs
    over ``fastperiod``."""

    kind = "massi"

    def __init__(self, fastperiod: int, slowperiod: int) -> None:
        super().__init__(fastperiod, slowperiod)
        self.single = EMA(fastperiod)
        self.double = EMA(fastperiod)
        self.ratios = Ring(slowperiod)
        self.total = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        single = self.single.push(candle.high - candle.low)
        if single is None:
            return None
        double = self.double.push(single)
        if double is None:
            return None
        ratio = single / double if double != 0.0 else 0.0
        self.total += ratio
        evicted = self.ratios.push(ratio)
        if evicted is not None:
            self.total -= evicted
        return (self.total,) if self.ratios.full else None


class RVI(Function):
    """Relative volatility index: an RSI whose moves are the standard deviation of the close
    over ``stddevperiod``, on up bars and on down bars, each Wilder-smoothed over
    ``timeperiod`` from the mean of its first values; 50 when neither leg has any."""

    kind = "rvi"

    def __init__(self, timeperiod: int, stddevperiod: int) -> None:
        super().__init__(timeperiod, stddevperiod)
        self.period = timeperiod
        self.beta = (timeperiod - 1) / timeperiod
        self.alpha = 1.0 - self.beta
        self.variance = RollingVariance(stddevperiod)
        self.prev_close: float | None = None
        self.count = 0
        self.up = 0.0
        self.down = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        variance = self.variance.push(candle.close)
        prev = self.prev_close
        self.prev_close = candle.close
        if variance is None or prev is None:
            return None
        sigma = math.sqrt(variance) if variance > 0.0 else 0.0
        change = candle.close - prev
        up = sigma if change > 0.0 else 0.0
        down = sigma if change < 0.0 else 0.0
        self.count += 1
        n = self.period
        if self.count <= n:
            self.up += up
            self.down += down
            if self.count < n:
                return None
            self.up /= n
            self.down /= n
        else:
            self.up = self.beta * self.up + self.alpha * up
            self.down = self.beta * self.down + self.alpha * down
        total = self.up + self.down
        return (50.0 if total == 0.0 else 100.0 * (self.up / total),)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    TRANGE,
    ATR,
    NATR,
    ADR,
    CVI,
    MASSI,
    RVI,
)
