"""Volume-weighted indicators: OBV (TA-Lib) and VWAP (not in TA-Lib; defined here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketpulse.analytics.indicators.base import Candle, Function, Indicator, SingleOutput
from marketpulse.analytics.indicators.windows import Ring

NS_PER_DAY = 86_400 * 1_000_000_000


class OBV(SingleOutput):
    """On-balance volume: starts at the first bar's volume; an unchanged close adds 0."""

    def __init__(self) -> None:
        self.name = "obv"
        self.outputs = ("obv",)
        self.value: float | None = None
        self.prev_close = 0.0

    def params(self) -> tuple[Any, ...]:
        return ()

    def update(self, candle: Candle) -> None:
        if self.value is None:
            self.value = candle.volume
        elif candle.close > self.prev_close:
            self.value += candle.volume
        elif candle.close < self.prev_close:
            self.value -= candle.volume
        self.prev_close = candle.close

    def peek_value(self, candle: Candle) -> float | None:
        value = self.value
        if value is None:
            value = candle.volume
        elif candle.close > self.prev_close:
            value += candle.volume
        elif candle.close < self.prev_close:
            value -= candle.volume
        return value


class VWAP(Indicator):
    """Volume-weighted average of the typical price (H+L+C)/3.

    ``period=None`` anchors it to the session: it restarts with the first bar whose start lies
    in a new UTC day (``session_ns`` long, offset by ``session_offset_ns``). ``period=n`` makes it
    rolling over the last n bars. Empty until some volume has traded.
    """

    def __init__(
        self, period: int | None = None, session_ns: int = NS_PER_DAY, session_offset_ns: int = 0
    ) -> None:
        self.period = period
        self.session_ns = session_ns
        self.session_offset_ns = session_offset_ns
        self.name = "vwap_session" if period is None else f"vwap_{period}"
        self.outputs = (self.name,)
        self.session = -1
        self.pv_total = 0.0
        self.volume_total = 0.0
        self.pv = Ring(period or 1)
        self.volumes = Ring(period or 1)

    def params(self) -> tuple[Any, ...]:
        return (self.period, self.session_ns, self.session_offset_ns)

    def update(self, candle: Candle) -> None:
        pv = (candle.high + candle.low + candle.close) / 3.0 * candle.volume
        if self.period is None:
            session = (candle.ts - self.session_offset_ns) // self.session_ns
            if session != self.session:
                self.session = session
                self.pv_total = self.volume_total = 0.0
        else:
            old_pv = self.pv.push(pv)
            old_volume = self.volumes.push(candle.volume)
            if old_pv is not None and old_volume is not None:
                self.pv_total -= old_pv
                self.volume_total -= old_volume
        self.pv_total += pv
        self.volume_total += candle.volume

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        pv = (candle.high + candle.low + candle.close) / 3.0 * candle.volume
        pv_total, volume_total = self.pv_total, self.volume_total
        full = True
        if self.period is None:
            if (candle.ts - self.session_offset_ns) // self.session_ns != self.session:
                pv_total = volume_total = 0.0
        elif self.pv.full:
            pv_total -= self.pv.items[self.pv.head]
            volume_total -= self.volumes.items[self.volumes.head]
        else:
            full = len(self.pv.items) + 1 == self.period
        pv_total += pv
        volume_total += candle.volume
        if not (volume_total > 0 and full):
            return False
        out[self.name] = pv_total / volume_total
        return True

    @property
    def initialized(self) -> bool:
        return self.volume_total > 0 and (self.period is None or self.pv.full)

    def values(self) -> dict[str, float]:
        if not self.initialized:
            return {}
        return {self.name: self.pv_total / self.volume_total}


class CumulativeVWAP(Function):
    """TA-Lib's VWAP: the typical price weighted by volume over every bar since the series'
    first; 0 until some volume has traded, as TA-Lib gives it."""

    kind = "vwap"

    def __init__(self) -> None:
        super().__init__()
        self.pv_total = 0.0
        self.volume_total = 0.0

    def step(self, candle: Candle) -> tuple[float, ...]:
        self.pv_total += (candle.high + candle.low + candle.close) / 3.0 * candle.volume
        self.volume_total += candle.volume
        volume = self.volume_total
        return (self.pv_total / volume if volume > 0.0 else 0.0,)


def money_flow_volume(candle: Candle) -> float:
    """The bar's close location in its range, times its volume (0 for a bar with no range)."""
    spread = candle.high - candle.low
    if spread <= 0.0:
        return 0.0
    return (((candle.close - candle.low) - (candle.high - candle.close)) / spread) * candle.volume


class AD(Function):
    """Chaikin's accumulation/distribution line: the running sum of money-flow volume."""

    kind = "ad"

    def __init__(self) -> None:
        super().__init__()
        self.line = 0.0

    def step(self, candle: Candle) -> tuple[float, ...]:
        self.line += money_flow_volume(candle)
        return (self.line,)


class ADOSC(Function):
    """Chaikin's oscillator: fast EMA - slow EMA of the A/D line, both seeded with its first
    value (not an SMA), output once the slower period has passed."""

    kind = "adosc"

    def __init__(self, fastperiod: int, slowperiod: int) -> None:
        super().__init__(fastperiod, slowperiod)
        self.fast_k = 2.0 / (fastperiod + 1)
        self.slow_k = 2.0 / (slowperiod + 1)
        self.lookback = max(fastperiod, slowperiod) - 1
        self.line = 0.0
        self.count = 0
        self.fast = 0.0
        self.slow = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.line += money_flow_volume(candle)
        ad = self.line
        if self.count == 0:
            self.fast = self.slow = ad
        else:
            self.fast = (self.fast_k * ad) + ((1.0 - self.fast_k) * self.fast)
            self.slow = (self.slow_k * ad) + ((1.0 - self.slow_k) * self.slow)
        self.count += 1
        return (self.fast - self.slow,) if self.count > self.lookback else None


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    OBV,
    AD,
    ADOSC,
)
