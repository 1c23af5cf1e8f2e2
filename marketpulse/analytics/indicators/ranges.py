"""Sums, extremes and ranks over a window: SUM, CUMSUM, MAX, MIN, MAXINDEX, MININDEX, MINMAX,
MINMAXINDEX, MIDPOINT, MIDPRICE, AROON, AROONOSC, PERCENTILE, PERCENTRANK and FRACTAL
(TA-Lib's rules, ties included).

An index is the bar's position in the series since its first bar, as TA-Lib's is in the
array it is given: the same series from the same first bar gives the same indices.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

from marketpulse.analytics.indicators.base import Candle, Function, Indicator
from marketpulse.analytics.indicators.windows import Ring, RollingExtreme


class Extreme(RollingExtreme):
    """The highest (or lowest) of the last ``size`` values and its index, with TA-Lib's choice
    among ties: a new value equal to the extreme takes it over; when the extreme leaves the
    window, MAX and MIN choose the earliest of the equal values left (``earliest``), AROON the
    latest. Amortised O(1): a queue of candidates, best first."""

    def __init__(self, size: int, highest: bool, earliest: bool = True) -> None:
        super().__init__(size, highest)
        self.earliest = earliest
        self.index = -1
        self.value = 0.0

    def push_indexed(self, value: float) -> tuple[int, float]:
        """Add ``value``; return (index, value) of the extreme of the window ending with it."""
        queue = self.queue  # index, value, index, value ...: best first
        index = self.count
        self.count = index + 1
        keep_ties = self.earliest
        if self.highest:
            while queue and (queue[-1] < value or (not keep_ties and queue[-1] == value)):
                del queue[-2:]
        else:
            while queue and (queue[-1] > value or (not keep_ties and queue[-1] == value)):
                del queue[-2:]
        queue.append(index)
        queue.append(value)
        oldest = index - self.size + 1
        if oldest < 0:  # TA-Lib looks at the window only once it is full
            return self.index, self.value
        while queue[0] < oldest:
            del queue[:2]
        if self.index < oldest:
            self.index, self.value = int(queue[0]), queue[1]
        elif value >= self.value if self.highest else value <= self.value:
            self.index, self.value = index, value
        return self.index, self.value

    @property
    def full(self) -> bool:
        """Whether ``size`` values have been pushed."""
        return self.count >= self.size

    def state(self) -> list[Any]:
        """Return the state: the queue's, the extreme's index and value."""
        return [*super().state(), self.earliest, self.index, self.value]

    def load(self, state: list[Any] | dict[str, Any]) -> None:
        """Restore a state returned by :meth:`state` (or the keyed form)."""
        super().load(state)
        if isinstance(state, dict):
            self.earliest, self.index, self.value = (state["earliest"], state["index"],
                                                     state["value"])  # fmt: skip
        else:
            self.earliest, self.index, self.value = state[4:]


class SUM(Function):
    """Sum of the last ``timeperiod`` closes, as a running total."""

    kind = "sum"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.window = Ring(timeperiod)
        self.total = 0.0

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        x = candle.close
        self.total += x
        evicted = self.window.push(x)
        if evicted is not None:
            self.total -= evicted
        return (self.total,) if self.window.full else None


class CUMSUM(Function):
    """Sum of every close since the series' first bar."""

    kind = "cumsum"

    def __init__(self) -> None:
        super().__init__()
        self.total = 0.0

    def step(self, candle: Candle) -> tuple[float, ...]:
        self.total += candle.close
        return (self.total,)


class _Extremes(Function):
    """A function of the highest and lowest close over ``timeperiod`` bars."""

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.top = Extreme(timeperiod, highest=True)
        self.bottom = Extreme(timeperiod, highest=False)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        high = self.top.push_indexed(candle.close)
        low = self.bottom.push_indexed(candle.close)
        return self.pick(high, low) if self.top.full else None

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        """The outputs from (index, value) of the highest and of the lowest."""
        raise NotImplementedError


class MAX(_Extremes):
    """Highest close over ``timeperiod`` bars."""

    kind = "max"

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        return (high[1],)


class MIN(_Extremes):
    """Lowest close over ``timeperiod`` bars."""

    kind = "min"

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        return (low[1],)


class MAXINDEX(_Extremes):
    """Index of the highest close over ``timeperiod`` bars."""

    kind = "maxindex"

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        return (float(high[0]),)


class MININDEX(_Extremes):
    """Index of the lowest close over ``timeperiod`` bars."""

    kind = "minindex"

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        return (float(low[0]),)


class MINMAX(_Extremes):
    """Lowest and highest close over ``timeperiod`` bars."""

    kind = "minmax"
    talib_outputs: tuple[str, ...] = ("min", "max")

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        return (low[1], high[1])


class MINMAXINDEX(_Extremes):
    """Indices of the lowest and highest close over ``timeperiod`` bars."""

    kind = "minmaxindex"
    talib_outputs: tuple[str, ...] = ("minidx", "maxidx")

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        return (float(low[0]), float(high[0]))


class MIDPOINT(_Extremes):
    """(highest + lowest close) / 2 over ``timeperiod`` bars."""

    kind = "midpoint"

    def pick(self, high: tuple[int, float], low: tuple[int, float]) -> tuple[float, ...]:
        return ((high[1] + low[1]) / 2.0,)


class MIDPRICE(Function):
    """(highest high + lowest low) / 2 over ``timeperiod`` bars."""

    kind = "midprice"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.top = Extreme(timeperiod, highest=True)
        self.bottom = Extreme(timeperiod, highest=False)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        high = self.top.push_indexed(candle.high)[1]
        low = self.bottom.push_indexed(candle.low)[1]
        return ((high + low) / 2.0,) if self.top.full else None


class AROON(Function):
    """Aroon down and up: how recent the lowest low and the highest high of the last n+1 bars
    are, 100 for this bar, 0 for n bars back (ties: the latest)."""

    kind = "aroon"
    talib_outputs: tuple[str, ...] = ("aroondown", "aroonup")

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.top = Extreme(timeperiod + 1, highest=True, earliest=False)
        self.bottom = Extreme(timeperiod + 1, highest=False, earliest=False)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        high = self.top.push_indexed(candle.high)[0]
        low = self.bottom.push_indexed(candle.low)[0]
        if not self.top.full:
            return None
        today = self.top.count - 1
        n = self.top.size - 1
        factor = 100.0 / n
        return (factor * (n - (today - low)), factor * (n - (today - high)))


class AROONOSC(AROON):
    """Aroon up - Aroon down."""

    kind = "aroonosc"
    talib_outputs: tuple[str, ...] = ("real",)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        out = super().step(candle)
        return None if out is None else (out[1] - out[0],)


class PERCENTILE(Function):
    """The given percentile of the last ``timeperiod`` closes, by nearest rank: the smallest
    value with at least that share of the window at or below it (no interpolation)."""

    kind = "percentile"

    def __init__(self, timeperiod: int, percentile: float) -> None:
        super().__init__(timeperiod, percentile)
        self.percentile = percentile
        self.window = Ring(timeperiod)
        self.ordered: list[float] = []  # the window, sorted

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        x = candle.close
        evicted = self.window.push(x)
        if evicted is not None:
            del self.ordered[bisect.bisect_left(self.ordered, evicted)]
        bisect.insort(self.ordered, x)
        if not self.window.full:
            return None
        n = len(self.ordered)
        rank = math.ceil(self.percentile / 100.0 * n)
        return (self.ordered[min(max(rank, 1), n) - 1],)


class PERCENTRANK(Function):
    """The share, in percent, of the ``timeperiod`` closes before this bar that are below its
    close."""

    kind = "percentrank"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.window = Ring(timeperiod)
        self.ordered: list[float] = []  # the window, sorted

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        x = candle.close
        out = None
        if self.window.full:
            out = (100.0 * bisect.bisect_left(self.ordered, x) / len(self.ordered),)
        evicted = self.window.push(x)
        if evicted is not None:
            del self.ordered[bisect.bisect_left(self.ordered, evicted)]
        bisect.insort(self.ordered, x)
        return out


class FRACTAL(Function):
    """Williams' fractals: 100 when the bar ``rightbars`` back has a high above the
    ``leftbars`` highs before it and the ``rightbars`` after it (swing high), and likewise a
    low below (swing low); 0 otherwise."""

    kind = "fractal"
    talib_outputs: tuple[str, ...] = ("swinghigh", "swinglow")

    def __init__(self, leftbars: int, rightbars: int) -> None:
        super().__init__(leftbars, rightbars)
        self.left, self.right = leftbars, rightbars
        self.highs = Ring(leftbars + rightbars + 1)
        self.lows = Ring(leftbars + rightbars + 1)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.highs.push(candle.high)
        self.lows.push(candle.low)
        if not self.highs.full:
            return None
        highs, lows = self.highs.ordered(), self.lows.ordered()
        at = self.left
        high, low = highs[at], lows[at]
        others = [i for i in range(len(highs)) if i != at]
        swing_high = all(highs[i] < high for i in others)
        swing_low = all(lows[i] > low for i in others)
        return (100.0 if swing_high else 0.0, 100.0 if swing_low else 0.0)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    SUM,
    CUMSUM,
    MAX,
    MIN,
    MAXINDEX,
    MININDEX,
    MINMAX,
    MINMAXINDEX,
    MIDPOINT,
    MIDPRICE,
    AROON,
    AROONOSC,
    FRACTAL,
    PERCENTILE,
    PERCENTRANK,
)
