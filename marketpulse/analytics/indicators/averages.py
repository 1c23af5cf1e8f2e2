"""Moving averages on one input series, with TA-Lib's seeding and arithmetic order.

Each has ``push(x)``, returning the current value or None before TA-Lib's first output, so the
averages compose (DEMA is an EMA of an EMA); as indicators they read the close.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from marketpulse.analytics.indicators.base import (
    Candle,
    Function,
    Indicator,
    Periodic,
    Stateful,
    parameter_text,
)
from marketpulse.analytics.indicators.cycles import Adaptive
from marketpulse.analytics.indicators.windows import Ring


class Average(Periodic):
    """A single-output average over closes, composable through ``push``."""

    def push(self, x: float) -> float | None:
        """Take the next input; return the average, or None before the first output."""
        raise NotImplementedError

    def peek_push(self, x: float) -> float | None:
        """What :meth:`push` would return on ``x``, committing nothing. This one saves and
        restores the state; the averages that forming bars peek on every series work it out
        from their state instead (several times faster)."""
        saved = self.state()
        out = self.push(x)
        self.load(saved)
        return out

    def update(self, candle: Candle) -> None:
        self.push(candle.close)

    def peek_value(self, candle: Candle) -> float | None:
        return self.peek_push(candle.close)


class SMA(Average):
    """Simple moving average: a running total, first output at bar period-1."""

    def __init__(self, period: int, prefix: str = "sma") -> None:
        super().__init__(period, prefix)
        self.window = Ring(period)
        self.total = 0.0
        self._next_full = period == 1  # whether the next input fills the window
        self._base = 0.0  # what the next input is added to: the total less the oldest to go

    def push(self, x: float) -> float | None:
        window = self.window
        evicted = window.push(x)
        if evicted is None:
            self.total += x
            if len(window.items) == self.period:
                self.value = self.total / self.period
            self.settle()
            return self.value
        total = self.total - evicted
        self.total = total = total + x
        self.value = total / self.period
        # full, as it stays: what settle() leaves then, without its call at every bar
        self._base = total - window.items[window.head]
        return self.value

    def settle(self) -> None:
        window = self.window
        held = len(window.items)
        self._next_full = held + 1 >= self.period
        # push subtracts the oldest first when full: the same sum in the same order
        self._base = self.total - window.items[window.head] if held == self.period else self.total

    def peek_push(self, x: float) -> float | None:
        if self._next_full:
            return (self._base + x) / self.period
        return self.value


class EMA(Average):
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

    def peek_push(self, x: float) -> float | None:
        prev = self.value
        if prev is not None:
            return ((x - prev) * self.k) + prev
        if self.count + 1 != self.seed_at:
            return None
        window = self.window
        inputs = window.ordered()
        if len(inputs) == window.size:
            inputs = inputs[1:]
        inputs.append(x)
        return sum(inputs) / self.period

    def params(self) -> tuple[Any, ...]:
        return (self.period, self.seed_at)


class WMA(Average):
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

    def peek_push(self, x: float) -> float | None:
        if self.count + 1 < self.period:
            return None
        return (self.period_sum + x * self.period) / self.divider


class DEMA(Average):
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

    def peek_push(self, x: float) -> float | None:
        e1 = self.ema1.peek_push(x)
        if e1 is None:
            return None
        e2 = self.ema2.peek_push(e1)
        return self.value if e2 is None else (2.0 * e1) - e2


class TEMA(Average):
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

    def peek_push(self, x: float) -> float | None:
        e1 = self.ema1.peek_push(x)
        if e1 is None:
            return None
        e2 = self.ema2.peek_push(e1)
        if e2 is None:
            return None
        e3 = self.ema3.peek_push(e2)
        return self.value if e3 is None else e3 + ((3.0 * e1) - (3.0 * e2))


class TRIMA(Average):
    """Triangular moving average: an SMA of an SMA, of (n+1)/2 and (n+1)/2 inputs for an odd n,
    n/2 and n/2+1 for an even one; first output at bar n-1."""

    def __init__(self, period: int, prefix: str = "trima") -> None:
        super().__init__(period, prefix)
        first = (period + 1) // 2 if period % 2 else period // 2
        second = (period + 1) // 2 if period % 2 else period // 2 + 1
        self.inner = SMA(first)
        self.outer = SMA(second)

    def push(self, x: float) -> float | None:
        inner = self.inner.push(x)
        if inner is not None:
            self.value = self.outer.push(inner)
        return self.value


class Efficiency(Stateful):
    """The parts of Kaufman's efficiency ratio over ``period`` bars: the net move (signed)
    and the sum of the bar-to-bar moves, kept as a running sum. A window whose moves are all
    exactly zero has a sum of exactly zero, whatever rounding residue the running sum holds
    (TA-Lib counts the zero moves, so that a flat market is flat at any price scale)."""

    def __init__(self, period: int) -> None:
        self.window = Ring(period)  # the last ``period`` inputs
        self.count = 0
        self.previous = 0.0  # the last input
        self.trailing = 0.0  # the input just before the window's oldest
        self.moves = 0.0
        self.still = 0  # how many of the last moves were exactly zero

    def push(self, x: float) -> tuple[float, float] | None:
        """Take the next input; return (net move, sum of moves), None before ``period``
        moves."""
        count = self.count = self.count + 1
        previous = self.previous
        self.previous = x
        oldest = self.window.push(x)
        if count == 1:
            return None
        move = x - previous
        self.still = self.still + 1 if move == 0.0 else 0
        if oldest is None or count == self.window.size + 1:
            self.moves += abs(previous - x)
        else:
            self.moves -= abs(self.trailing - oldest)
            self.moves += abs(move)
            if self.still >= self.window.size:
                self.still = self.window.size
                self.moves = 0.0
        if oldest is None:
            return None
        self.trailing = oldest
        return x - oldest, self.moves


class KAMA(Average):
    """Kaufman's adaptive average: an EMA whose factor follows the efficiency ratio (the net
    move over ``period`` bars against the sum of the bar-to-bar moves), between 2/31 and 2/3;
    first output at bar ``period``, seeded from the close before it; over one bar, as in TA-Lib,
    the input itself from the first bar."""

    def __init__(self, period: int, prefix: str = "kama") -> None:
        super().__init__(period, prefix)
        self.efficiency = Efficiency(period)
        self.previous = 0.0

    def push(self, x: float) -> float | None:
        if self.period == 1:
            self.value = x
            return x
        previous = self.previous
        self.previous = x
        parts = self.efficiency.push(x)
        if parts is None:
            return None
        net, moves = parts
        kama = previous if self.value is None else self.value  # seeded from the close before
        ratio = 1.0 if moves <= net else abs(net / moves)
        factor = ratio * _KAMA_SPAN + _KAMA_SLOWEST
        factor *= factor
        self.value = (x - kama) * factor + kama
        return self.value


_KAMA_SLOWEST = 2.0 / (30.0 + 1.0)
_KAMA_SPAN = 2.0 / (2.0 + 1.0) - _KAMA_SLOWEST


class T3(Average):
    """Tillson's T3: six chained EMAs, each seeded with the SMA of its first ``period`` inputs,
    combined with weights from the volume factor; first output at bar 6(n-1)."""

    def __init__(self, period: int, vfactor: float = 0.7, prefix: str = "t3") -> None:
        super().__init__(period, prefix)
        self.vfactor = vfactor
        self.name = f"{prefix}_{period}_{parameter_text(vfactor)}"
        self.outputs = (self.name,)
        self.stages = [EMA(period) for _ in range(6)]
        a = vfactor
        self.c1 = -(a * a * a)
        self.c2 = 3.0 * (a * a) - self.c1 * 3.0
        self.c3 = -6.0 * (a * a) - 3.0 * (a - self.c1)
        self.c4 = 1.0 + 3.0 * a - self.c1 + 3.0 * (a * a)

    def push(self, x: float) -> float | None:
        value = x
        outs: list[float] = []
        for stage in self.stages:
            out = stage.push(value)
            if out is None:
                return None
            outs.append(out)
            value = out
        self.value = self.c1 * outs[5] + self.c2 * outs[4] + self.c3 * outs[3] + self.c4 * outs[2]
        return self.value

    def params(self) -> tuple[Any, ...]:
        return (self.period, self.vfactor)


class RMA(Average):
    """Wilder's smoothing (factor 1/n), seeded with the SMA of the first n inputs."""

    def __init__(self, period: int, prefix: str = "rma") -> None:
        super().__init__(period, prefix)
        self.seed = SMA(period)

    def push(self, x: float) -> float | None:
        prev = self.value
        if prev is not None:
            self.value = prev + (x - prev) / self.period
            return self.value
        self.value = self.seed.push(x)
        if self.value is not None:
            self.seed.window.items.clear()
        return self.value


class ZLEMA(Average):
    """Zero-lag EMA: the EMA of 2x - (x, (n-1)/2 bars back); first output at bar
    (n-1)/2 + n-1."""

    def __init__(self, period: int, prefix: str = "zlema") -> None:
        super().__init__(period, prefix)
        self.lagged = Ring((period - 1) // 2 + 1)
        self.ema = EMA(period)

    def push(self, x: float) -> float | None:
        self.lagged.push(x)
        if not self.lagged.full:
            return None
        back = self.lagged.items[self.lagged.head]  # the oldest: (n-1)/2 bars back
        self.value = self.ema.push(2.0 * x - back)
        return self.value


class HMA(Average):
    """Hull's average: the WMA over floor(sqrt(n)) bars of 2 WMA(n/2) - WMA(n)."""

    def __init__(self, period: int, prefix: str = "hma") -> None:
        super().__init__(period, prefix)
        self.half = WMA(max(period // 2, 1))
        self.full = WMA(period)
        self.outer = WMA(max(math.isqrt(period), 1))

    def push(self, x: float) -> float | None:
        half = self.half.push(x)
        full = self.full.push(x)
        if half is None or full is None:
            return None
        self.value = self.outer.push(2.0 * half - full)
        return self.value


class Identity(Average):
    """No averaging: the input itself (a period of 1, and TA-Lib's MA type 10)."""

    def __init__(self, period: int = 1, prefix: str = "identity") -> None:
        super().__init__(period, prefix)

    def push(self, x: float) -> float | None:
        self.value = x
        return x


# TA-Lib's MA types by number (11, "the function's own default", is resolved by the function)
MA_TYPES: dict[int, Callable[[int], Average]] = {
    0: SMA, 1: EMA, 2: WMA, 3: DEMA, 4: TEMA, 5: TRIMA, 6: KAMA, 8: T3, 9: HMA, 10: Identity,
    12: ZLEMA, 13: RMA,
}  # fmt: skip
SMA_TYPE: Final = 0
MAMA_TYPE = 7


class MamaAverage(Average):
    """TA-Lib's MA type 7: MAMA at its default limits (0.5, 0.05); the period plays no part."""

    def __init__(self, period: int = 1, prefix: str = "mama") -> None:
        super().__init__(period, prefix)
        self.adaptive = Adaptive(0.5, 0.05)

    def push(self, x: float) -> float | None:
        if self.adaptive.push(x):
            self.value = self.adaptive.mama
        return self.value


def moving_average(matype: int, period: int) -> Average:
    """TA-Lib's MA of a type over ``period`` inputs; a period of 1 is the input itself, for
    every type, as in TA-Lib."""
    if period == 1:
        return Identity()
    if matype == MAMA_TYPE:
        return MamaAverage(period)
    return MA_TYPES[matype](period)


class MA(Function):
    """TA-Lib's MA: the moving average of the given type over ``timeperiod`` closes."""

    kind = "ma"

    def __init__(self, timeperiod: int, matype: int) -> None:
        super().__init__(timeperiod, matype)
        self.average = moving_average(matype, timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        value = self.average.push(candle.close)
        return None if value is None else (value,)


def lookback(matype: int, period: int) -> int:
    """How many inputs TA-Lib's MA of this type needs before its first output."""
    if period == 1 or matype == 10:
        return 0
    n = period - 1
    return {
        3: 2 * n, 4: 3 * n, 6: period, 7: 32, 8: 6 * n, 9: n + math.isqrt(period) - 1,
        12: n // 2 + n,
    }.get(matype, n)  # fmt: skip


class Delayed(Stateful):
    """An MA that takes no input before bar ``skip``: how TA-Lib lines up the faster of two
    averages with the slower (MACD's, APO's), so that both start from the same bar's output."""

    def __init__(self, matype: int, period: int, skip: int) -> None:
        self.average = moving_average(matype, period)
        self.skip = skip

    def push(self, x: float) -> float | None:
        """Take the next input; the average's value, None before its first."""
        if self.skip > 0:
            self.skip -= 1
            return None
        return self.average.push(x)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    MA,
    SMA,
    EMA,
    WMA,
    DEMA,
    TEMA,
    TRIMA,
    KAMA,
    T3,
    HMA,
    ZLEMA,
    RMA,
)
