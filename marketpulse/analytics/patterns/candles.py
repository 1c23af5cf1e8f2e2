"""TA-Lib's candle vocabulary: candle settings, ranges, and the rolling averages patterns use.

A pattern compares a candle's body or shadows with the average of some range over the
``period`` candles *before* it, times a factor (TA-Lib's ``TA_CANDLEAVERAGE``). TA-Lib keeps each
such average as a running total that it starts at the pattern's first output bar and then rolls
(``total += new - old``); :mod:`engine` repeats exactly those floating-point steps, so
comparisons that land on a tie come out as TA-Lib's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Final


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


# the column of History that holds each range a candle setting measures
RANGE_COLUMNS: Final = {RangeType.REAL_BODY: "b", RangeType.HIGH_LOW: "rng",
                        RangeType.SHADOWS: "sh"}  # fmt: skip


class History:
    """The last candles, newest last, with TA-Lib's per-candle measures worked out once on
    arrival (every pattern reads them): ``body(0)`` is the current bar's real body."""

    # the farthest back any pattern reads, the current candle included: a candle average of 10
    # bars taken at the first candle of a five-candle pattern, four bars back. What a state
    # carries, and half what the columns hold at most; a test holds every pattern within it.
    KEEP: ClassVar[int] = 15
    __slots__ = ("b", "bot", "c", "col", "count", "h", "l", "lo_sh", "o", "rng", "sh", "top_",
                 "up_sh")  # fmt: skip

    def __init__(self) -> None:
        self.o: list[float] = []
        self.h: list[float] = []
        self.l: list[float] = []
        self.c: list[float] = []
        self.b: list[float] = []  # real body
        self.col: list[int] = []  # 1 white, -1 black
        self.up_sh: list[float] = []
        self.lo_sh: list[float] = []
        self.rng: list[float] = []  # high - low
        self.sh: list[float] = []  # upper + lower shadow
        self.top_: list[float] = []
        self.bot: list[float] = []
        self.count = 0  # bars seen; the current bar's index is count - 1

    def push(self, o: float, h: float, l: float, c: float) -> None:  # noqa: E741 - OHLC
        """Append a bar, forgetting the oldest beyond what any pattern reads."""
        columns = self._columns()
        for column, value in zip(columns, _measures(o, h, l, c), strict=True):
            column.append(value)
        if len(self.o) > 2 * self.KEEP:
            for column in columns:
                del column[: self.KEEP]
        self.count += 1

    def load(self, o: list[float], h: list[float], l: list[float], c: list[float],  # noqa: E741
             count: int) -> None:  # fmt: skip
        """Take the last bars (at most :attr:`KEEP`, oldest first) and the count of bars
        seen, as a restored series does: the same columns as pushing them one by one, in a
        fraction of the time (a worker restores thousands of series at once)."""
        rows = list(map(_measures, o, h, l, c))
        if rows:
            for column, values in zip(self._columns(), zip(*rows, strict=True), strict=True):
                column[:] = values
        self.count = count

    def _columns(self) -> tuple[list[Any], ...]:
        return (self.o, self.h, self.l, self.c, self.b, self.col, self.up_sh, self.lo_sh,
                self.rng, self.sh, self.top_, self.bot)  # fmt: skip

    # TA-Lib's candle macros; k counts back from the current bar (0 is the current one).
    def body(self, k: int) -> float:
        """``TA_REALBODY``."""
        return self.b[-1 - k]

    def color(self, k: int) -> int:
        """``TA_CANDLECOLOR``: 1 white (close >= open), -1 black."""
        return self.col[-1 - k]

    def upper(self, k: int) -> float:
        """``TA_UPPERSHADOW``."""
        return self.up_sh[-1 - k]

    def lower(self, k: int) -> float:
        """``TA_LOWERSHADOW``."""
        return self.lo_sh[-1 - k]

    def hl(self, k: int) -> float:
        """``TA_HIGHLOWRANGE``."""
        return self.rng[-1 - k]

    def top(self, k: int) -> float:
        """The top of the real body, ``max(open, close)``."""
        return self.top_[-1 - k]

    def bottom(self, k: int) -> float:
        """The bottom of the real body, ``min(open, close)``."""
        return self.bot[-1 - k]

    def body_gap_up(self, k2: int, k1: int) -> bool:
        """``TA_REALBODYGAPUP(k2, k1)``: candle k2's body entirely above candle k1's."""
        return self.bot[-1 - k2] > self.top_[-1 - k1]

    def body_gap_down(self, k2: int, k1: int) -> bool:
        """``TA_REALBODYGAPDOWN(k2, k1)``."""
        return self.top_[-1 - k2] < self.bot[-1 - k1]

    def gap_up(self, k2: int, k1: int) -> bool:
        """``TA_CANDLEGAPUP(k2, k1)``: candle k2's low above candle k1's high."""
        return self.l[-1 - k2] > self.h[-1 - k1]

    def gap_down(self, k2: int, k1: int) -> bool:
        """``TA_CANDLEGAPDOWN(k2, k1)``."""
        return self.h[-1 - k2] < self.l[-1 - k1]


def _measures(o: float, h: float, l: float, c: float) -> tuple[Any, ...]:  # noqa: E741
    """A candle's columns in :class:`History`'s order: OHLC, then TA-Lib's macros with its
    operand order (max and min by the candle's colour)."""
    white = c >= o
    top, bottom = (c, o) if white else (o, c)
    upper, lower = h - top, bottom - l
    return (o, h, l, c, abs(c - o), 1 if white else -1, upper, lower, h - l, upper + lower,
            max(o, c), min(o, c))  # fmt: skip
