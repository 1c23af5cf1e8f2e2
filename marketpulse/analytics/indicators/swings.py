"""Oscillators of the newer TA-Lib functions: AO, AC, CMOU, COPPOCK, DPO, ER, ERI, FOSC, IMI,
QSTICK, TSI, VHF, VORTEX and ULTOSC (TA-Lib 0.8's rules)."""

from __future__ import annotations

from collections.abc import Callable

from marketpulse.analytics.indicators.averages import (
    EMA,
    SMA,
    SMA_TYPE,
    WMA,
    Delayed,
    Efficiency,
)
from marketpulse.analytics.indicators.base import Candle, Function, Indicator, is_zero
from marketpulse.analytics.indicators.statistics import TSF
from marketpulse.analytics.indicators.volatility import true_range
from marketpulse.analytics.indicators.windows import Previous, Ring, RollingExtreme


class RollingSum(Ring):
    """The last ``size`` values and their running sum: exactly zero for a window of zeros,
    whatever rounding residue the running sum holds (as TA-Lib purges it)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.total = 0.0
        self.zeros = 0  # how many of the last values were exactly zero

    def add(self, value: float) -> float | None:
        """Add ``value``; return the sum of the full window, None before it is full."""
        self.total += value
        evicted = self.push(value)
        if evicted is not None:
            self.total -= evicted
        self.zeros = self.zeros + 1 if value == 0.0 else 0
        if self.zeros >= self.size:
            self.zeros = self.size
            self.total = 0.0
        return self.total if self.full else None


class AO(Function):
    """Awesome oscillator: SMA(fast) - SMA(slow) of the median price, each SMA starting at its
    own lookback before the first output (as TA-Lib runs the legs of a composite)."""

    kind = "ao"

    def __init__(self, fastperiod: int, slowperiod: int) -> None:
        super().__init__(fastperiod, slowperiod)
        longest = max(fastperiod, slowperiod)
        self.fast = Delayed(SMA_TYPE, fastperiod, longest - fastperiod)
        self.slow = Delayed(SMA_TYPE, slowperiod, longest - slowperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        median = (candle.high + candle.low) / 2.0
        fast = self.fast.push(median)
        slow = self.slow.push(median)
        return None if fast is None or slow is None else (fast - slow,)


class AC(Function):
    """Accelerator oscillator: AO - SMA(AO, signal)."""

    kind = "ac"

    def __init__(self, fastperiod: int, slowperiod: int, signalperiod: int) -> None:
        super().__init__(fastperiod, slowperiod, signalperiod)
        self.ao = AO(fastperiod, slowperiod)
        self.signal = SMA(signalperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        out = self.ao.step(candle)
        if out is None:
            return None
        signal = self.signal.push(out[0])
        return None if signal is None else (out[0] - signal,)


class CMOU(Function):
    """Chande's original momentum oscillator: 100 (ups - downs) / (ups + downs), the sums of
    the bar-to-bar moves over ``timeperiod`` bars (unsmoothed)."""

    kind = "cmou"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.ups = RollingSum(timeperiod)
        self.downs = RollingSum(timeperiod)
        self.previous = Previous()

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        change = self.previous.move(candle.close)
        if change is None:
            return None
        up = self.ups.add(change if change > 0.0 else 0.0)
        down = self.downs.add(-change if change < 0.0 else 0.0)
        if up is None or down is None:
            return None
        total = up + down
        return (100.0 * ((up - down) / total) if total > 0.0 else 0.0,)


class COPPOCK(Function):
    """Coppock curve: the WMA over ``wmaperiod`` of ROC(roc1) + ROC(roc2)."""

    kind = "coppock"

    def __init__(self, wmaperiod: int, roc1period: int, roc2period: int) -> None:
        super().__init__(wmaperiod, roc1period, roc2period)
        self.back1 = Ring(roc1period)
        self.back2 = Ring(roc2period)
        self.wma = WMA(wmaperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        now = candle.close
        back1, back2 = self.back1.push(now), self.back2.push(now)
        if back1 is None or back2 is None:
            return None
        roc1 = ((now / back1) - 1.0) * 100.0 if back1 != 0.0 else 0.0
        roc2 = ((now / back2) - 1.0) * 100.0 if back2 != 0.0 else 0.0
        value = self.wma.push(roc1 + roc2)
        return None if value is None else (value,)


class DPO(Function):
    """Detrended price oscillator: the close n/2+1 bars back minus the SMA of n closes."""

    kind = "dpo"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.sma = SMA(timeperiod)
        self.closes = Ring(timeperiod // 2 + 2)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        sma = self.sma.push(candle.close)
        self.closes.push(candle.close)
        if sma is None or not self.closes.full:
            return None
        return (self.closes.items[self.closes.head] - sma,)


class ER(Function):
    """Kaufman's efficiency ratio: |net move| / sum of |bar-to-bar moves| over n bars, KAMA's
    own; 1 for a market that has not moved (and wherever the running sum reaches zero)."""

    kind = "er"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.efficiency = Efficiency(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        parts = self.efficiency.push(candle.close)
        if parts is None:
            return None
        net, moves = parts
        return (1.0 if moves <= 0.0 or moves <= net else abs(net / moves),)


class ERI(Function):
    """Elder ray: bull power (high - EMA of the close) and bear power (low - EMA)."""

    kind = "eri"
    talib_outputs: tuple[str, ...] = ("bullpower", "bearpower")

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.ema = EMA(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        ema = self.ema.push(candle.close)
        return None if ema is None else (candle.high - ema, candle.low - ema)


class FOSC(Function):
    """Forecast oscillator: 100 (close - last bar's time series forecast) / close."""

    kind = "fosc"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.tsf = TSF(timeperiod)
        self.forecast: float | None = None

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        forecast = self.forecast
        out = self.tsf.step(candle)
        self.forecast = None if out is None else out[0]
        if forecast is None:
            return None
        x = candle.close
        return (100.0 * (x - forecast) / x if x != 0.0 else 0.0,)


class IMI(Function):
    """Intraday momentum index: 100 (sum of up bodies) / (sum of all bodies) over n bars; 50
    over bars without bodies."""

    kind = "imi"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.ups = RollingSum(timeperiod)
        self.downs = RollingSum(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        body = candle.close - candle.open
        up = self.ups.add(body if body > 0.0 else 0.0)
        down = self.downs.add(-body if body < 0.0 else 0.0)
        if up is None or down is None:
            return None
        total = up + down
        return (100.0 * (up / total) if total != 0.0 else 50.0,)


class QSTICK(Function):
    """Qstick: the SMA of close - open over n bars."""

    kind = "qstick"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.sma = SMA(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        value = self.sma.push(candle.close - candle.open)
        return None if value is None else (value,)


class TSI(Function):
    """True strength index: 100 EMA(EMA(move)) / EMA(EMA(|move|)), periods first and
    second."""

    kind = "tsi"

    def __init__(self, firstperiod: int, secondperiod: int) -> None:
        super().__init__(firstperiod, secondperiod)
        self.move1, self.move2 = EMA(firstperiod), EMA(secondperiod)
        self.size1, self.size2 = EMA(firstperiod), EMA(secondperiod)
        self.previous = Previous()

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        move = self.previous.move(candle.close)
        if move is None:
            return None
        a = self.move1.push(move)
        b = self.size1.push(abs(move))
        if a is None or b is None:
            return None
        top = self.move2.push(a)
        bottom = self.size2.push(b)
        if top is None or bottom is None:
            return None
        return (100.0 * (top / bottom) if not is_zero(bottom) else 0.0,)


class VHF(Function):
    """Vertical horizontal filter: (highest - lowest close) / sum of |moves| over n bars."""

    kind = "vhf"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.highest = RollingExtreme(timeperiod, highest=True)
        self.lowest = RollingExtreme(timeperiod, highest=False)
        self.moves = RollingSum(timeperiod)
        self.previous = Previous()

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        x = candle.close
        highest = self.highest.push(x)
        lowest = self.lowest.push(x)
        move = self.previous.move(x)
        if move is None:
            return None
        moves = self.moves.add(abs(move))
        if moves is None:
            return None
        return ((highest - lowest) / moves if not is_zero(moves) else 0.0,)


class VORTEX(Function):
    """Vortex: VI+ = sum |high - previous low| / sum TR, VI- = sum |low - previous high| / sum
    TR, over n bars."""

    kind = "vortex"
    talib_outputs: tuple[str, ...] = ("plusvi", "minusvi")

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.plus = RollingSum(timeperiod)
        self.minus = RollingSum(timeperiod)
        self.ranges = RollingSum(timeperiod)
        self.seen = False
        self.prev_high = self.prev_low = self.prev_close = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        seen = self.seen
        prev_high, prev_low, prev_close = self.prev_high, self.prev_low, self.prev_close
        self.seen = True
        self.prev_high, self.prev_low, self.prev_close = candle.high, candle.low, candle.close
        if not seen:
            return None
        plus = self.plus.add(abs(candle.high - prev_low))
        minus = self.minus.add(abs(candle.low - prev_high))
        tr = self.ranges.add(true_range(candle.high, candle.low, prev_close))
        if plus is None or minus is None or tr is None:
            return None
        if is_zero(tr):
            return (0.0, 0.0)
        return (plus / tr, minus / tr)


class ULTOSC(Function):
    """Ultimate oscillator: 100 (4 A1 + 2 A2 + A3) / 7, each A the buying pressure over the
    true range summed over one of the three periods (shortest first)."""

    kind = "ultosc"

    def __init__(self, timeperiod1: int, timeperiod2: int, timeperiod3: int) -> None:
        super().__init__(timeperiod1, timeperiod2, timeperiod3)
        short, middle, long = sorted((timeperiod1, timeperiod2, timeperiod3))
        self.pressure = [RollingSum(p) for p in (short, middle, long)]
        self.ranges = [RollingSum(p) for p in (short, middle, long)]
        self.seen = False
        self.prev_close = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        prev_close = self.prev_close
        seen = self.seen
        self.seen = True
        self.prev_close = candle.close
        if not seen:
            return None
        low = min(candle.low, prev_close)
        pressure = candle.close - low
        tr = max(candle.high, prev_close) - low
        ratios: list[float] = []
        for pressures, ranges in zip(self.pressure, self.ranges, strict=True):
            p = pressures.add(pressure)
            r = ranges.add(tr)
            ratios.append(0.0 if p is None or r is None or is_zero(r) else p / r)
        if not self.pressure[2].full:
            return None
        return (100.0 * ((4.0 * ratios[0] + 2.0 * ratios[1] + ratios[2]) / 7.0),)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    AC,
    AO,
    CMOU,
    COPPOCK,
    DPO,
    ER,
    ERI,
    FOSC,
    IMI,
    QSTICK,
    TSI,
    ULTOSC,
    VHF,
    VORTEX,
)
