"""Every candlestick pattern over one symbol's bars, one bar at a time."""

from __future__ import annotations

from collections.abc import Iterable

from marketpulse.analytics.patterns.candles import History, RollingTotal
from marketpulse.analytics.patterns.candlestick import REGISTRY, Candlestick, Rule


class CandlestickSet:
    """The chosen patterns (default: all) with their running averages and the bars they read."""

    def __init__(self, names: Iterable[str] | None = None) -> None:
        chosen = list(REGISTRY) if names is None else list(names)
        unknown = [n for n in chosen if n not in REGISTRY]
        if unknown:
            raise ValueError(f"unknown candlestick patterns: {', '.join(unknown)}")
        self.history = History()
        self.patterns: list[tuple[Candlestick, Rule, list[RollingTotal]]] = [
            (p, p.make(), [RollingTotal(s, k, p.lookback) for s, k in p.uses])
            for p in (REGISTRY[n] for n in chosen)
        ]

    def update(self, o: float, h: float, l: float, c: float) -> dict[str, int]:  # noqa: E741
        """Add a bar; return every pattern's value on it (0 before its first output bar)."""
        history = self.history
        history.push(o, h, l, c)
        bar = history.count - 1
        out: dict[str, int] = {}
        for pattern, rule, totals in self.patterns:
            first = pattern.lookback - pattern.warmup
            if bar < first:
                out[pattern.name] = 0
                continue
            if bar == first:
                for total in totals:
                    total.start(history)
            value = rule(history, [t.average(history) for t in totals])
            out[pattern.name] = value if bar >= pattern.lookback else 0
            for total in totals:
                total.roll(history)
        return out
