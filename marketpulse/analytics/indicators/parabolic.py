"""Wilder's parabolic SAR: SAR and SAREXT (TA-Lib's rules).

The first bar's direction is taken from its directional movement against the bar before (a
downward move starts short), the stop from the bar before's low (long) or high (short).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from marketpulse.analytics.indicators.base import Candle, Function, Indicator, parameter_text


class SAREXT(Function):
    """The SAR with every one of TA-Lib's knobs: a start value (0: from the first move; above
    0: long from it; below 0: short from its absolute value), an offset added on each reversal,
    and separate acceleration start, step and maximum for longs and shorts. Short positions are
    written negative, as TA-Lib writes them."""

    kind = "sarext"
    signed: ClassVar[bool] = True

    def __init__(
        self, startvalue: float, offsetonreverse: float, accelerationinitlong: float,
        accelerationlong: float, accelerationmaxlong: float, accelerationinitshort: float,
        accelerationshort: float, accelerationmaxshort: float,
    ) -> None:  # fmt: skip
        super().__init__(
            startvalue, offsetonreverse, accelerationinitlong, accelerationlong,
            accelerationmaxlong, accelerationinitshort, accelerationshort, accelerationmaxshort,
        )  # fmt: skip
        self.start = startvalue
        self.offset = offsetonreverse
        self.init_long = min(accelerationinitlong, accelerationmaxlong)
        self.step_long = min(accelerationlong, accelerationmaxlong)
        self.max_long = accelerationmaxlong
        self.init_short = min(accelerationinitshort, accelerationmaxshort)
        self.step_short = min(accelerationshort, accelerationmaxshort)
        self.max_short = accelerationmaxshort
        self.count = 0
        self.long = True
        self.sar = 0.0
        self.ep = 0.0
        self.af = 0.0
        self.prev_high = self.prev_low = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        high, low = candle.high, candle.low
        self.count += 1
        if self.count == 1:
            self.prev_high, self.prev_low = high, low
            return None
        if self.count == 2:
            self._open(high, low)
            prev_high, prev_low = high, low  # the first step compares the bar with itself
        else:
            prev_high, prev_low = self.prev_high, self.prev_low
        self.prev_high, self.prev_low = high, low
        out = self._advance(high, low, prev_high, prev_low)
        return (out,)

    def _open(self, high: float, low: float) -> None:
        if self.start == 0.0:
            up = high - self.prev_high
            down = self.prev_low - low
            self.long = not (down > 0.0 and up < down)
            self.sar = self.prev_low if self.long else self.prev_high
        elif self.start > 0.0:
            self.long, self.sar = True, self.start
        else:
            self.long, self.sar = False, abs(self.start)
        self.ep = high if self.long else low
        self.af = self.init_long if self.long else self.init_short

    def _advance(self, high: float, low: float, prev_high: float, prev_low: float) -> float:
        sar = self.sar
        if self.long:
            if low <= sar:  # reversal to short
                self.long = False
                sar = max(self.ep, prev_high, high)
                if self.offset != 0.0:
                    sar += sar * self.offset
                out = -sar if self.signed else sar
                self.af = self.init_short
                self.ep = low
                sar = max(sar + self.af * (self.ep - sar), prev_high, high)
            else:
                out = sar
                if high > self.ep:
                    self.ep = high
                    self.af = min(self.af + self.step_long, self.max_long)
                sar = min(sar + self.af * (self.ep - sar), prev_low, low)
        elif high >= sar:  # reversal to long
            self.long = True
            sar = min(self.ep, prev_low, low)
            if self.offset != 0.0:
                sar -= sar * self.offset
            out = sar
            self.af = self.init_long
            self.ep = high
            sar = min(sar + self.af * (self.ep - sar), prev_low, low)
        else:
            out = -sar if self.signed else sar
            if low < self.ep:
                self.ep = low
                self.af = min(self.af + self.step_short, self.max_short)
            sar = max(sar + self.af * (self.ep - sar), prev_high, high)
        self.sar = sar
        return out


class SAR(SAREXT):
    """Parabolic SAR: acceleration from ``acceleration`` by the same step up to ``maximum``,
    for longs and shorts alike; always positive."""

    kind = "sar"
    signed: ClassVar[bool] = False

    def __init__(self, acceleration: float, maximum: float) -> None:
        super().__init__(0.0, 0.0, acceleration, acceleration, maximum, acceleration,
                         acceleration, maximum)  # fmt: skip
        self.arguments = (acceleration, maximum)
        self.name = f"sar_{parameter_text(acceleration)}_{parameter_text(maximum)}"
        self.outputs = (self.name,)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    SAR,
    SAREXT,
)
