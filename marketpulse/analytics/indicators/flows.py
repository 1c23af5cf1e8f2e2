"""Volume flows of the newer TA-Lib functions: CMF, EFI, MARKETFI, NVI, PVI, PVO, PVT, RVOL,
VWMA and WAD (TA-Lib 0.8's rules)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

from marketpulse.analytics.indicators.averages import EMA, SMA, moving_average
from marketpulse.analytics.indicators.base import Candle, Function, Indicator, is_zero
from marketpulse.analytics.indicators.swings import RollingSum
from marketpulse.analytics.indicators.volume import money_flow_volume
from marketpulse.analytics.indicators.windows import Previous


class CMF(Function):
    """Chaikin money flow: money-flow volume summed over n bars / volume summed over n."""

    kind = "cmf"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.flows = RollingSum(timeperiod)
        self.volumes = RollingSum(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        flow = self.flows.add(money_flow_volume(candle))
        volume = self.volumes.add(candle.volume)
        if flow is None or volume is None:
            return None
        return (flow / volume if not is_zero(volume) else 0.0,)


class EFI(Function):
    """Elder's force index: the EMA of (close - previous close) x volume."""

    kind = "efi"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.ema = EMA(timeperiod)
        self.previous = Previous()

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        move = self.previous.move(candle.close)
        if move is None:
            return None
        value = self.ema.push(move * candle.volume)
        return None if value is None else (value,)


class MARKETFI(Function):
    """Market facilitation index: (high - low) / volume, 0 with no volume."""

    kind = "marketfi"

    def step(self, candle: Candle) -> tuple[float, ...]:
        volume = candle.volume
        return ((candle.high - candle.low) / volume if volume != 0.0 else 0.0,)


class _VolumeIndex(Function):
    """An index from 1000 moved by the close's rate of change on bars whose volume fell (NVI)
    or rose (PVI) against the previous bar's."""

    falling: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.index = 1000.0
        self.seen = False
        self.prev_close = self.prev_volume = 0.0

    def step(self, candle: Candle) -> tuple[float, ...]:
        if self.seen:
            moved = (
                candle.volume < self.prev_volume
                if self.falling
                else (candle.volume > self.prev_volume)
            )
            if moved and self.prev_close != 0.0:
                self.index += self.index * ((candle.close - self.prev_close) / self.prev_close)
        self.seen = True
        self.prev_close, self.prev_volume = candle.close, candle.volume
        return (self.index,)


class NVI(_VolumeIndex):
    """Negative volume index."""

    kind = "nvi"
    falling: ClassVar[bool] = True


class PVI(_VolumeIndex):
    """Positive volume index."""

    kind = "pvi"
    falling: ClassVar[bool] = False


class PVO(Function):
    """Percentage volume oscillator: (fast MA - slow MA) / slow MA x 100 of the volume."""

    kind = "pvo"

    def __init__(self, fastperiod: int, slowperiod: int, matype: int) -> None:
        super().__init__(fastperiod, slowperiod, matype)
        self.fast = moving_average(matype, min(fastperiod, slowperiod))
        self.slow = moving_average(matype, max(fastperiod, slowperiod))

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        fast = self.fast.push(candle.volume)
        slow = self.slow.push(candle.volume)
        if fast is None or slow is None:
            return None
        return (((fast - slow) / slow) * 100.0 if not is_zero(slow) else 0.0,)


class PVT(Function):
    """Price-volume trend: the running sum of the close's rate of change x volume, 0 on the
    first bar."""

    kind = "pvt"

    def __init__(self) -> None:
        super().__init__()
        self.total = 0.0
        self.previous = Previous()

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        prev = self.previous.swap(candle.close)
        if prev is not None and prev != 0.0:
            self.total += ((candle.close - prev) / prev) * candle.volume
        return (self.total,)


class RVOL(Function):
    """Relative volume: the bar's volume / the SMA of the n bars' volumes before it (none
    after n bars without volume, where TA-Lib divides by zero)."""

    kind = "rvol"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.sma = SMA(timeperiod)
        self.average: float | None = None

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        average = self.average
        self.average = self.sma.push(candle.volume)
        if average is None:
            return None
        return (candle.volume / average if average != 0.0 else math.nan,)


class VWMA(Function):
    """Volume-weighted moving average of the close over n bars (none over bars without
    volume, where TA-Lib divides by zero); over one bar, as in TA-Lib, the close itself,
    volume or not."""

    kind = "vwma"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.weighted = RollingSum(timeperiod)
        self.volumes = RollingSum(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        if self.weighted.size == 1:
            return (candle.close,)
        weighted = self.weighted.add(candle.close * candle.volume)
        volume = self.volumes.add(candle.volume)
        if weighted is None or volume is None:
            return None
        return (weighted / volume if volume != 0.0 else math.nan,)


class WAD(Function):
    """Williams' accumulation/distribution: the running sum of the close's move from the true
    low (on an up bar) or true high (on a down bar)."""

    kind = "wad"

    def __init__(self) -> None:
        super().__init__()
        self.total = 0.0
        self.previous = Previous()

    def step(self, candle: Candle) -> tuple[float, ...]:
        prev = self.previous.swap(candle.close)
        if prev is None:
            return (self.total,)
        close = candle.close
        if close > prev:
            self.total += close - min(candle.low, prev)
        elif close < prev:
            self.total += close - max(candle.high, prev)
        return (self.total,)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    CMF,
    EFI,
    MARKETFI,
    NVI,
    PVI,
    PVO,
    PVT,
    RVOL,
    VWMA,
    WAD,
)
