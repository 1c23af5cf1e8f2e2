"""Bands around the price: ACCBANDS, DONCHIAN, KC and SUPERTREND (TA-Lib's rules)."""

from __future__ import annotations

from collections.abc import Callable

from marketpulse.analytics.indicators.averages import EMA, SMA
from marketpulse.analytics.indicators.base import Candle, Function, Indicator
from marketpulse.analytics.indicators.volatility import ATR
from marketpulse.analytics.indicators.windows import HighLow


class ACCBANDS(Function):
    """Acceleration bands: SMAs of the high and low widened by 4 (H-L)/(H+L), around the SMA
    of the close."""

    kind = "accbands"
    talib_outputs: tuple[str, ...] = ("upperband", "middleband", "lowerband")

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.upper = SMA(timeperiod)
        self.middle = SMA(timeperiod)
        self.lower = SMA(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        high, low = candle.high, candle.low
        total = high + low
        width = 4.0 * (high - low) / total if total != 0.0 else 0.0
        upper = self.upper.push(high * (1.0 + width))
        middle = self.middle.push(candle.close)
        lower = self.lower.push(low * (1.0 - width))
        if upper is None or middle is None or lower is None:
            return None
        return (upper, middle, lower)


class DONCHIAN(Function):
    """Donchian channel: the highest high and lowest low of ``timeperiod`` bars, and their
    midpoint."""

    kind = "donchian"
    talib_outputs: tuple[str, ...] = ("upperband", "middleband", "lowerband")

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.range = HighLow(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        window = self.range.push(candle.high, candle.low)
        if window is None:
            return None
        highest, lowest = window
        return (highest, (highest + lowest) / 2.0, lowest)


class KC(Function):
    """Keltner channel: the EMA of the typical price ± ``nbdev`` ATRs over ``atrperiod``.

    As in TA-Lib, each leg starts at its own lookback before the first band: the shorter one
    takes no bar before it needs to (a leg of a short period begins later, not warmer)."""

    kind = "kc"
    talib_outputs: tuple[str, ...] = ("upperband", "middleband", "lowerband")

    def __init__(self, timeperiod: int, atrperiod: int, nbdev: float) -> None:
        super().__init__(timeperiod, atrperiod, nbdev)
        self.nbdev = nbdev
        self.middle = EMA(timeperiod)
        self.atr = ATR(atrperiod)
        # bars each leg lets pass before its first input: the longer lookback sets the start
        self.middle_skip = max(0, atrperiod - (timeperiod - 1))
        self.atr_skip = max(0, (timeperiod - 1) - atrperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        if self.middle_skip > 0:
            self.middle_skip -= 1
            middle = None
        else:
            middle = self.middle.push((candle.high + candle.low + candle.close) / 3.0)
        if self.atr_skip > 0:
            self.atr_skip -= 1
        else:
            self.atr.update(candle)
        atr = self.atr.value
        if middle is None or atr is None:
            return None
        width = atr * self.nbdev
        return (middle + width, middle, middle - width)


class SUPERTREND(Function):
    """Supertrend: a trailing stop ``multiplier`` ATRs from the median price that flips side
    when the close crosses it; ``trend`` is 1 up, -1 down."""

    kind = "supertrend"
    talib_outputs: tuple[str, ...] = ("supertrend", "trend")

    def __init__(self, timeperiod: int, multiplier: float) -> None:
        super().__init__(timeperiod, multiplier)
        self.multiplier = multiplier
        self.atr = ATR(timeperiod)
        self.upper = 0.0
        self.lower = 0.0
        self.trend = 0
        self.prev_close = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.atr.update(candle)
        atr = self.atr.value
        prev_close = self.prev_close
        self.prev_close = candle.close
        if atr is None:
            return None
        median = (candle.high + candle.low) / 2.0
        basic_upper = median + self.multiplier * atr
        basic_lower = median - self.multiplier * atr
        if self.trend == 0:  # TA-Lib starts up, wherever the first close is
            self.upper, self.lower = basic_upper, basic_lower
            self.trend = 1
        else:
            upper, lower = self.upper, self.lower
            if basic_upper < upper or prev_close > upper:
                upper = basic_upper
            if basic_lower > lower or prev_close < lower:
                lower = basic_lower
            if self.trend == 1 and candle.close < lower:
                self.trend = -1
            elif self.trend == -1 and candle.close > upper:
                self.trend = 1
            self.upper, self.lower = upper, lower
        line = self.lower if self.trend == 1 else self.upper
        return (line, float(self.trend))


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    ACCBANDS,
    DONCHIAN,
    KC,
    SUPERTREND,
)
