"""Chart patterns on swing points: double tops and bottoms, head and shoulders and its inverse.
The tolerances are settings (:class:`ChartConfig`); the rules are in docs/pipeline.md (Signals).

Confirmed swings (see :mod:`levels`) are kept as a zigzag: highs and lows alternating, a second
high in a row replacing the first when it is higher (lows likewise). When a swing completes a
shape, the pattern waits for its neckline: it fires on the first close beyond it, within
``max_wait`` bars, and is dropped if price first closes beyond its extreme (the tops, the head).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marketpulse.analytics.patterns.fired import Direction, Fired
from marketpulse.analytics.patterns.levels import Swing


@dataclass(frozen=True)
class ChartConfig:
    """How alike the tops (shoulders) must be, how deep the neckline, how long to wait."""

    tolerance: float = 0.015  # tops, bottoms, shoulders within 1.5 % of each other
    min_depth: float = 0.03  # the neckline at least 3 % beyond the tops or bottoms
    head_margin: float = 0.02  # the head at least 2 % beyond both shoulders
    max_wait: int = 30  # bars from the last swing to the neckline break


@dataclass
class Pending:
    """A completed shape waiting for its neckline break."""

    name: str
    direction: Direction
    t1: int  # the neckline through (t1, p1) and (t2, p2); horizontal when they coincide
    p1: float
    t2: int
    p2: float
    extreme: float  # a close beyond this (above a top, below a bottom) cancels the pattern
    waited: int
    details: dict[str, float]

    def state(self) -> dict[str, Any]:
        """Its fields by name, in order (``dataclasses.asdict`` deep-copies every value, about
        25 us a shape, two thirds of a series' whole state after each closed bar; a compiled
        class has no ``__dict__`` for ``vars``)."""
        return {"name": self.name, "direction": self.direction, "t1": self.t1, "p1": self.p1,
                "t2": self.t2, "p2": self.p2, "extreme": self.extreme, "waited": self.waited,
                "details": dict(self.details)}  # fmt: skip

    def neckline(self, ts: int) -> float:
        """The neckline's price at ``ts``."""
        if self.t2 == self.t1:
            return self.p1
        return self.p1 + (self.p2 - self.p1) * (ts - self.t1) / (self.t2 - self.t1)


@dataclass
class ChartPatterns:
    """One series' zigzag and pending shapes."""

    config: ChartConfig = field(default_factory=ChartConfig)
    zigzag: list[Swing] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)

    def update(self, ts: int, close: float, swings: list[Swing]) -> list[Fired]:
        """The breaks on this bar, after adding the swings it confirmed."""
        for swing in swings:
            if self._add(swing):
                self.pending += self._shapes()
        fired: dict[str, Fired] = {}
        still = []
        for p in self.pending:
            line = p.neckline(ts)
            bearish = p.direction == "bearish"
            if close < line if bearish else close > line:
                details = {**p.details, "neckline": line, "close": close}
                fired.setdefault(p.name, Fired(p.name, p.direction, 100.0, details))
            elif (close > p.extreme if bearish else close < p.extreme) or p.waited >= (
                self.config.max_wait
            ):
                continue
            else:
                p.waited += 1
                still.append(p)
        self.pending = still
        return list(fired.values())

    def _add(self, swing: Swing) -> bool:
        """Extend the zigzag; return whether the swing became its last point."""
        zz = self.zigzag
        if zz and zz[-1].high == swing.high:
            more = swing.price > zz[-1].price if swing.high else swing.price < zz[-1].price
            if not more:
                return False
            zz[-1] = swing
        else:
            zz.append(swing)
            del zz[:-5]
        return True

    def _shapes(self) -> list[Pending]:
        c, zz = self.config, self.zigzag
        found = []
        if len(zz) >= 3:
            a, low, b = zz[-3:]
            tops = b.high
            alike = abs(a.price - b.price) <= c.tolerance * max(a.price, b.price)
            if tops and alike and low.price <= min(a.price, b.price) * (1 - c.min_depth):
                found.append(self._pending("double_top", "bearish", low, low, max(a.price, b.price),
                                           {"top1": a.price, "top2": b.price}))  # fmt: skip
            if not tops and alike and low.price >= max(a.price, b.price) * (1 + c.min_depth):
                found.append(self._pending("double_bottom", "bullish", low, low,
                                           min(a.price, b.price),
                                           {"bottom1": a.price, "bottom2": b.price}))  # fmt: skip
        if len(zz) >= 5:
            s1, n1, head, n2, s2 = zz[-5:]
            shoulders = abs(s1.price - s2.price) <= c.tolerance * max(s1.price, s2.price)
            details = {"left": s1.price, "head": head.price, "right": s2.price}
            if (
                head.high
                and shoulders
                and head.price >= max(s1.price, s2.price) * (1 + c.head_margin)
            ):
                found.append(self._pending("head_and_shoulders", "bearish", n1, n2, head.price,
                                           details))  # fmt: skip
            if (
                not head.high
                and shoulders
                and head.price <= min(s1.price, s2.price) * (1 - c.head_margin)
            ):
                found.append(self._pending("inverse_head_and_shoulders", "bullish", n1, n2,
                                           head.price, details))  # fmt: skip
        return found

    @staticmethod
    def _pending(
        name: str, way: Direction, a: Swing, b: Swing, extreme: float, details: dict[str, float]
    ) -> Pending:
        return Pending(name, way, a.ts, a.price, b.ts, b.price, extreme, 0, details)

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "zigzag": [[s.ts, s.price, s.high] for s in self.zigzag],
            "pending": [p.state() for p in self.pending],
        }

    @classmethod
    def from_state(cls, config: ChartConfig, state: dict[str, Any]) -> ChartPatterns:
        """Rebuild from :meth:`state`."""
        return cls(
            config,
            [Swing(ts, price, high) for ts, price, high in state["zigzag"]],
            [Pending(**p) for p in state["pending"]],
        )
