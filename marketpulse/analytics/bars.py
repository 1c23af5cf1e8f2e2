"""Event-time OHLCV bars from trades, for every granularity at once.

A bar ``[start, end)`` stays open until the partition's stream time (the largest event time
accepted on the partition) reaches ``end + grace``: until then, late trades inside the grace
period still amend it. A trade more than ``grace`` behind stream time is refused as ``late`` by
the gate (it could only belong to a bar that is already closed), so a closed bar never changes
and each bar is published exactly once, final, with revision 0. Bars come from trades; quotes
advance stream time but do not make bars. An interval without trades makes no bar.
"""

from __future__ import annotations

from typing import Any

from marketpulse.analytics.granularity import bar_start
from marketpulse.schemas.bars import Bar

# An open bar as a list, so that state is compact JSON: start, o, h, l, c, volume,
# price x size, trade count, and the times of its latest and earliest trades (a late trade
# inside the grace period may be older than the bar's open or newer than nothing).
START, OPEN, HIGH, LOW, CLOSE, VOLUME, PV, TRADES, LAST_TS, FIRST_TS = range(10)


class BarBuilder:
    """The open bars of one symbol, one list per granularity (at most a couple each)."""

    def __init__(self, symbol: str, granularities: dict[str, int]) -> None:
        self.symbol = symbol
        self.granularities = granularities
        self.open: dict[str, list[list[Any]]] = {name: [] for name in granularities}

    def add_trade(self, ts: int, price: float, size: float) -> None:
        """Fold one accepted trade into the bar of each granularity that holds ``ts``."""
        for name, length in self.granularities.items():
            start = bar_start(ts, length)
            bars = self.open[name]
            for bar in bars:
                if bar[START] == start:
                    if price > bar[HIGH]:
                        bar[HIGH] = price
                    if price < bar[LOW]:
                        bar[LOW] = price
                    if ts >= bar[LAST_TS]:
                        bar[CLOSE] = price
                        bar[LAST_TS] = ts
                    if ts < bar[FIRST_TS]:
                        bar[OPEN] = price
                        bar[FIRST_TS] = ts
                    bar[VOLUME] += size
                    bar[PV] += price * size
                    bar[TRADES] += 1
                    break
            else:
                bars.append([start, price, price, price, price, size, price * size, 1, ts, ts])

    def close(self, stream_time: int, grace_ns: int) -> list[Bar]:
        """Remove and return every bar whose end + grace has been reached, oldest first."""
        closed: list[Bar] = []
        horizon = stream_time - grace_ns
        for name, length in self.granularities.items():
            bars = self.open[name]
            done = [bar for bar in bars if bar[START] + length <= horizon]
            if not done:
                continue
            self.open[name] = [bar for bar in bars if bar[START] + length > horizon]
            for bar in sorted(done, key=lambda b: b[START]):
                closed.append(self._publish(name, length, bar))
        return closed

    def next_close(self, grace_ns: int) -> int | None:
        """The stream time at which the next bar will close, or None when none is open."""
        ends = [
            bar[START] + self.granularities[name] + grace_ns
            for name, bars in self.open.items()
            for bar in bars
        ]
        return min(ends) if ends else None

    def _publish(self, name: str, length: int, bar: list[Any]) -> Bar:
        volume = bar[VOLUME]
        return Bar(
            symbol=self.symbol,
            granularity=name,
            start=bar[START],
            end=bar[START] + length,
            open=bar[OPEN],
            high=bar[HIGH],
            low=bar[LOW],
            close=bar[CLOSE],
            volume=volume,
            vwap=bar[PV] / volume if volume > 0 else None,
            trades=bar[TRADES],
        )

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {"symbol": self.symbol, "open": self.open}

    @classmethod
    def from_state(cls, granularities: dict[str, int], state: dict[str, Any]) -> BarBuilder:
        """Rebuild a builder from :meth:`state`; granularities no longer configured are dropped."""
        builder = cls(state["symbol"], granularities)
        for name, bars in state["open"].items():
            if name in builder.open:
                builder.open[name] = [list(bar) for bar in bars]
        return builder
