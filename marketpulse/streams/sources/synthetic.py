"""A synthetic market: random-walk quotes and trades per symbol, reproducible from a seed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from marketpulse.schemas.events import Event, Frame, Quote, Trade

SOURCE = "synthetic"


@dataclass
class _Book:
    mid: float
    spread_bps: float


class SyntheticMarket:
    """Quotes around a geometric random walk, with trades at the touch now and then."""

    def __init__(
        self,
        symbols: list[str],
        seed: int = 0,
        volatility: float = 0.0005,
        trade_probability: float = 0.3,
    ) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - market noise, not secrets
        self._volatility = volatility  # per-event standard deviation of log returns
        self._trade_probability = trade_probability
        self._books = {
            symbol: _Book(mid=self._rng.uniform(20, 500), spread_bps=self._rng.uniform(1, 10))
            for symbol in symbols
        }

    @property
    def symbols(self) -> list[str]:
        """The symbols this market quotes."""
        return list(self._books)

    def frame(self, symbol: str, start_ns: int, end_ns: int, events: int) -> Frame:
        """Return ``events`` events for ``symbol`` spread evenly over ``[start_ns, end_ns)``."""
        book = self._books[symbol]
        rng = self._rng
        step = max(1, (end_ns - start_ns) // max(events, 1))
        out: list[Event] = []
        for i in range(events):
            ts = start_ns + i * step
            book.mid *= math.exp(rng.gauss(0.0, self._volatility))
            half = max(0.005, book.mid * book.spread_bps / 20_000)
            bid, ask = round(book.mid - half, 2), round(book.mid + half, 2)
            if ask <= bid:
                ask = round(bid + 0.01, 2)
            if rng.random() < self._trade_probability:
                price = bid if rng.random() < 0.5 else ask
                size = float(rng.choice((1, 10, 50, 100, 200, 500)))
                out.append(Trade(symbol=symbol, ts=ts, price=price, size=size, source=SOURCE))
            else:
                out.append(
                    Quote(
                        symbol=symbol,
                        ts=ts,
                        bid=bid,
                        ask=ask,
                        bid_size=float(rng.randint(1, 20) * 100),
                        ask_size=float(rng.randint(1, 20) * 100),
                        source=SOURCE,
                    )
                )
        return Frame(source=SOURCE, received_ts=end_ns, events=out)
