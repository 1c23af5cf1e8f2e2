"""TA-Lib's candle vocabulary: candle settings, ranges, and the rolling averages patterns use.

A pattern compares a candle's body or shadows with the average of some range over the
``period`` candles *before* it, times a factor (TA-Lib's ``TA_CANDLEAVERAGE``). TA-Lib keeps each
such average as a running total that it starts at the pattern's first output bar and then rolls
(``total += new - old``); :class:`RollingTotal` repeats exactly those floating-point steps, so
comparisons that land on a tie come out as TA-Lib's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class RangeType(Enum):
    """What a setting measures on a candle."""

    REAL_BODY = "real_body"
    HIGH_LOW = "high_low"
    SHADOWS = "shadows"


@dataclass(frozen=True)
class CandleSetting:
    """TA-Lib's ``TA_CandleSetting``: a range, its averaging period and a factor."""

    name: str
    range_type: RangeType
    period: int
    factor: float


# TA-Lib's defaults (ta_global.c).
BODY_LONG = CandleSetting("BodyLong", RangeType.REAL_BODY, 10, 1.0)
BODY_VERY_LONG = CandleSetting("BodyVeryLong", RangeType.REAL_BODY, 10, 3.0)
BODY_SHORT = CandleSetting("BodyShort", RangeType.REAL_BODY, 10, 1.0)
BODY_DOJI = CandleSetting("BodyDoji", RangeType.HIGH_LOW, 10, 0.1)
SHADOW_LONG = CandleSetting("ShadowLong", RangeType.REAL_BODY, 0, 1.0)
SHADOW_VERY_LONG = CandleSetting("ShadowVeryLong", RangeType.REAL_BODY, 0, 2.0)
SHADOW_SHORT = CandleSetting("ShadowShort", RangeType.SHADOWS, 10, 1.0)
SHADOW_VERY_SHORT = CandleSetting("ShadowVeryShort", RangeType.HIGH_LOW, 10, 0.1)
NEAR = CandleSetting("Near", RangeType.HIGH_LOW, 5, 0.2)
FAR = CandleSetting("Far", RangeType.HIGH_LOW, 5, 0.6)
EQUAL = CandleSetting("Equal", RangeType.HIGH_LOW, 5, 0.05)


class History:
    """The last candles, newest last: ``o[-1]`` is the current bar's open."""

    __slots__ = ("c", "count", "h", "l", "o")
    KEEP = 32  # the longest look back of any pattern, with room to spare

    def __init__(self) -> None:
        self.o: list[float] = []
        self.h: list[float] = []
        self.l: list[float] = []
        self.c: list[float] = []
        self.count = 0  # bars seen; the current bar's index is count - 1

    def push(self, o: float, h: float, l: float, c: float) -> None:  # noqa: E741 - OHLC
        """Append a bar, forgetting the oldest beyond what any pattern reads."""
        for series, value in ((self.o, o), (self.h, h), (self.l, l), (self.c, c)):
            series.append(value)
            if len(series) > 2 * self.KEEP:
                del series[: self.KEEP]
        self.count += 1

    # TA-Lib's candle macros; k counts back from the current bar (0 is the current one).
    def body(self, k: int) -> float:
        """``TA_REALBODY``."""
        return abs(self.c[-1 - k] - self.o[-1 - k])

    def color(self, k: int) -> int:
        """``TA_CANDLECOLOR``: 1 white (close >= open), -1 black."""
        return 1 if self.c[-1 - k] >= self.o[-1 - k] else -1

    def upper(self, k: int) -> float:
        """``TA_UPPERSHADOW``."""
        c, o = self.c[-1 - k], self.o[-1 - k]
        return self.h[-1 - k] - (c if c >= o else o)

    def lower(self, k: int) -> float:
        """``TA_LOWERSHADOW``."""
        c, o = self.c[-1 - k], self.o[-1 - k]
        return (o if c >= o else c) - self.l[-1 - k]

    def hl(self, k: int) -> float:
        """``TA_HIGHLOWRANGE``."""
        return self.h[-1 - k] - self.l[-1 - k]

    def top(self, k: int) -> float:
        """The top of the real body, ``max(open, close)``."""
        return max(self.o[-1 - k], self.c[-1 - k])

    def bottom(self, k: int) -> float:
        """The bottom of the real body, ``min(open, close)``."""
        return min(self.o[-1 - k], self.c[-1 - k])

    def body_gap_up(self, k2: int, k1: int) -> bool:
        """``TA_REALBODYGAPUP(k2, k1)``: candle k2's body entirely above candle k1's."""
        return self.bottom(k2) > self.top(k1)

    def body_gap_down(self, k2: int, k1: int) -> bool:
        """``TA_REALBODYGAPDOWN(k2, k1)``."""
        return self.top(k2) < self.bottom(k1)

    def gap_up(self, k2: int, k1: int) -> bool:
        """``TA_CANDLEGAPUP(k2, k1)``: candle k2's low above candle k1's high."""
        return self.l[-1 - k2] > self.h[-1 - k1]

    def gap_down(self, k2: int, k1: int) -> bool:
        """``TA_CANDLEGAPDOWN(k2, k1)``."""
        return self.h[-1 - k2] < self.l[-1 - k1]

    def range_of(self, setting: CandleSetting, k: int) -> float:
        """``TA_CANDLERANGE``: what the setting measures on candle k."""
        if setting.range_type is RangeType.REAL_BODY:
            return self.body(k)
        if setting.range_type is RangeType.HIGH_LOW:
            return self.hl(k)
        return self.upper(k) + self.lower(k)


@dataclass
class RollingTotal:
    """The running total behind one ``TA_CANDLEAVERAGE(setting, total, i - offset)`` of one
    pattern whose first output is bar ``lookback``: the ranges of the ``period`` candles
    before candle ``i - offset``."""

    setting: CandleSetting
    offset: int
    lookback: int
    total: float = 0.0

    def start(self, history: History) -> None:
        """At the first output bar: sum the window in order, from 0.0, as TA-Lib does."""
        total = 0.0
        p, k = self.setting.period, self.offset
        for back in range(p + k, k, -1):
            total += history.range_of(self.setting, back)
        self.total = total

    def average(self, history: History) -> float:
        """``TA_CANDLEAVERAGE`` for the current bar."""
        s = self.setting
        base = self.total / s.period if s.period else history.range_of(s, self.offset)
        value = s.factor * base
        return value / 2.0 if s.range_type is RangeType.SHADOWS else value

    def roll(self, history: History) -> None:
        """After the bar's output: move the window one candle on."""
        if self.setting.period:
            k = self.offset
            self.total += history.range_of(self.setting, k) - history.range_of(
                self.setting, k + self.setting.period
            )
