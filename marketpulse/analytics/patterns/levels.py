"""Support and resistance, bar by bar: swing points, the levels they cluster into, classic
daily pivot points, and the closes that cross them. The rules are in docs/pipeline.md (Signals).

* A **swing high** (fractal) is a bar whose high is above the highs of the ``left`` bars before
  and the ``right`` bars after it (a swing low likewise with lows); it is known ``right`` bars
  later, and the signal fires then, with the swing's price and time in its details.
* Swing prices within ``tolerance`` (relative) of a level's price are **touches** of that level;
  the level's price is the mean of its touches. A level with two touches or more is confirmed.
* A close above a confirmed level, after a close at or below it, is a **breakout**; a close
  below one, after a close at or above it, a **breakdown** (the most touched level crossed).
* **Pivot points** are computed from each completed UTC day's high, low and close and fired on
  the first bar of the next day; a close crossing R1-R3 upward or S1-S3 downward fires
  ``pivot_breakout`` or ``pivot_breakdown``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final

from marketpulse.analytics.patterns.fired import Direction, Fired

DAY_NS: Final = 86_400 * 10**9


@dataclass(frozen=True)
class LevelConfig:
    """Swing window, clustering tolerance, and how many levels are kept."""

    left: int = 2
    right: int = 2
    tolerance: float = 0.005
    max_levels: int = 20


@dataclass(frozen=True)
class Swing:
    """A confirmed swing point."""

    ts: int
    price: float
    high: bool  # True: swing high, False: swing low


@dataclass
class Level:
    """A price that swings keep returning to."""

    price: float
    touches: int
    last_ts: int


def pivot_points(high: float, low: float, close: float) -> dict[str, float]:
    """Classic (floor) pivot points of one period."""
    p = (high + low + close) / 3
    return {
        "p": p,
        "r1": 2 * p - low,
        "s1": 2 * p - high,
        "r2": p + (high - low),
        "s2": p - (high - low),
        "r3": high + 2 * (p - low),
        "s3": low - 2 * (high - p),
    }


@dataclass
class Levels:
    """One series' swing window, levels and pivots."""

    config: LevelConfig = field(default_factory=LevelConfig)
    window: deque[tuple[int, float, float]] = field(default_factory=deque)  # ts, high, low
    levels: list[Level] = field(default_factory=list)
    previous_close: float | None = None
    day: int | None = None
    day_hlc: tuple[float, float, float] | None = None
    pivots: dict[str, float] = field(default_factory=dict)

    def update(
        self, ts: int, high: float, low: float, close: float
    ) -> tuple[list[Fired], list[Swing]]:
        """The signals of one bar, and the swings it confirmed (for the chart patterns)."""
        fired: list[Fired] = []
        swings = self._swings(ts, high, low)
        for swing in swings:
            level = self._touch(swing)
            name = "swing_high" if swing.high else "swing_low"
            way: Direction = "bearish" if swing.high else "bullish"
            details = {"price": swing.price, "swing_ts": float(swing.ts), "level": level.price,
                       "touches": float(level.touches)}  # fmt: skip
            fired.append(Fired(name, way, min(100.0, 25.0 * level.touches), details))
        fired += self._pivots(ts, high, low, close)
        if self.previous_close is not None:
            fired += self._crossings(self.previous_close, close)
        self.previous_close = close
        return fired, swings

    def _swings(self, ts: int, high: float, low: float) -> list[Swing]:
        c = self.config
        window = self.window
        window.append((ts, high, low))
        if len(window) > c.left + c.right + 1:
            window.popleft()
        if len(window) < c.left + c.right + 1:
            return []
        middle_ts, middle_high, middle_low = window[c.left]
        others = [bar for i, bar in enumerate(window) if i != c.left]
        swings = []
        if all(middle_high > h for _t, h, _l in others):
            swings.append(Swing(middle_ts, middle_high, True))
        if all(middle_low < lo for _t, _h, lo in others):
            swings.append(Swing(middle_ts, middle_low, False))
        return swings

    def _touch(self, swing: Swing) -> Level:
        tolerance = self.config.tolerance
        near = [lv for lv in self.levels if abs(swing.price - lv.price) <= tolerance * lv.price]
        if near:
            level = min(near, key=lambda lv: abs(swing.price - lv.price))
            level.price += (swing.price - level.price) / (level.touches + 1)
            level.touches += 1
            level.last_ts = swing.ts
            return level
        level = Level(swing.price, 1, swing.ts)
        self.levels.append(level)
        if len(self.levels) > self.config.max_levels:
            self.levels.remove(min(self.levels, key=lambda lv: (lv.last_ts, lv.touches)))
        return level

    def _crossings(self, before: float, close: float) -> list[Fired]:
        confirmed = [lv for lv in self.levels if lv.touches >= 2]
        up = [lv for lv in confirmed if before <= lv.price < close]
        down = [lv for lv in confirmed if before >= lv.price > close]
        fired = []
        ways: tuple[tuple[str, Direction, list[Level]], ...] = (
            ("breakout", "bullish", up),
            ("breakdown", "bearish", down),
        )
        for name, way, crossed in ways:
            if crossed:
                level = max(crossed, key=lambda lv: (lv.touches, lv.last_ts))
                details = {"level": level.price, "touches": float(level.touches), "close": close}
                fired.append(Fired(name, way, min(100.0, 25.0 * level.touches), details))
        return fired

    def _pivots(self, ts: int, high: float, low: float, close: float) -> list[Fired]:
        day = ts // DAY_NS
        fired = []
        if self.day is not None and day != self.day and self.day_hlc is not None:
            self.pivots = pivot_points(*self.day_hlc)
            fired.append(Fired("pivot_points", "neutral", 100.0, dict(self.pivots)))
        if day != self.day:
            self.day, self.day_hlc = day, (high, low, close)
        elif self.day_hlc is not None:
            h, lo, _c = self.day_hlc
            self.day_hlc = (max(h, high), min(lo, low), close)
        before = self.previous_close
        if self.pivots and before is not None:
            up = [k for k in ("r3", "r2", "r1") if before <= self.pivots[k] < close]
            down = [k for k in ("s3", "s2", "s1") if before >= self.pivots[k] > close]
            if up:
                fired.append(Fired("pivot_breakout", "bullish", 100.0,
                                   {up[0]: self.pivots[up[0]], "close": close}))  # fmt: skip
            if down:
                fired.append(Fired("pivot_breakdown", "bearish", 100.0,
                                   {down[0]: self.pivots[down[0]], "close": close}))  # fmt: skip
        return fired

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "window": list(self.window),
            "levels": [[lv.price, lv.touches, lv.last_ts] for lv in self.levels],
            "previous_close": self.previous_close,
            "day": self.day,
            "day_hlc": self.day_hlc,
            "pivots": self.pivots,
        }

    @classmethod
    def from_state(cls, config: LevelConfig, state: dict[str, Any]) -> Levels:
        """Rebuild from :meth:`state`."""
        return cls(
            config,
            deque(tuple(bar) for bar in state["window"]),
            [Level(p, t, ts) for p, t, ts in state["levels"]],
            state["previous_close"],
            state["day"],
            tuple(state["day_hlc"]) if state["day_hlc"] else None,
            state["pivots"],
        )
