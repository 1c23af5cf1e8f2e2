"""Event-time OHLCV bars from trades, for every granularity at once.

Each granularity's :class:`~marketpulse.analytics.sessions.Cut` says which bar ``[start, end)``
a trade belongs to: UTC clock boundaries, or the sessions of the symbol's exchange calendar
(intraday bars anchored at the session open and cut at its close, a session, a week or month of
sessions). A bar stays open until the partition's stream time (the largest event time accepted
on the partition) reaches ``end + grace``: until then, late trades inside the grace period still
amend it. A trade more than ``grace`` behind stream time is refused as ``late`` by the gate (it
could only belong to a bar that is already closed), so a closed bar never changes and each bar
is published exactly once, final, with revision 0. Bars come from trades; quotes advance stream
time but do not make bars. An interval without trades makes no bar.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Mapping
from typing import Any

from marketpulse.analytics.sessions import ActivityCut, Cut, UtcCut
from marketpulse.schemas.bars import Bar

# An open bar as a list, so that state is compact JSON: start, o, h, l, c, volume,
# price x size, trade count, the times of its latest and earliest trades (a late trade inside
# the grace period may be older than the bar's open or newer than nothing), and its end (last:
# states written before bars had ends get theirs from the cut on restore).
START, OPEN, HIGH, LOW, CLOSE, VOLUME, PV, TRADES, LAST_TS, FIRST_TS, END = range(11)


def _time(trade: list[Any]) -> int:
    time: int = trade[0]
    return time


class BarBuilder:
    """The open bars of one symbol, one list per granularity (at most a couple each)."""

    def __init__(self, symbol: str, granularities: Mapping[str, int | Cut]) -> None:
        """``granularities``: each one's cut, or its length for UTC clock boundaries."""
        self.symbol = symbol
        self.cuts: dict[str, Cut] = {
            name: UtcCut(cut) if isinstance(cut, int) else cut
            for name, cut in granularities.items()
        }
        self.open: dict[str, list[list[Any]]] = {name: [] for name in self.cuts}
        self.sessioned = any(cut.session_table is not None for cut in self.cuts.values())
        self.activity = {
            name: cut for name, cut in self.cuts.items() if isinstance(cut, ActivityCut)
        }
        # trades for the activity bars, [ts, price, size], in event-time order (trades of one
        # time in arrival order) until stream time passes them by the grace period: then no
        # later trade can come before them, and they go into the bars in that order
        self.pending: list[list[Any]] = []

    def in_session(self, ts: int) -> bool:
        """Whether every granularity has a bar for ``ts`` (a calendar's cut has none outside
        its sessions)."""
        if not self.sessioned:
            return True
        for cut in self.cuts.values():
            if cut.session_table is not None and cut.bounds(ts) is None:
                return False
        return True

    def add_trade(self, ts: int, price: float, size: float) -> None:
        """Fold one accepted trade into the bar of each granularity that holds ``ts`` (and keep
        it for the activity bars until its time has settled)."""
        if self.activity:
            insort(self.pending, [ts, price, size], key=_time)
        for name, cut in self.cuts.items():
            length = cut.utc_length
            if length:
                start = ts - ts % length
                end = start + length
            elif cut.timeless:
                continue
            else:
                bounds = cut.bounds(ts)
                if bounds is None:
                    continue
                start, end = bounds
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
                bars.append([start, price, price, price, price, size, price * size, 1, ts, ts, end])

    def add_bar(self, bar: Bar) -> None:
        """Fold a finer bar into the bar of each granularity that holds all of it (one that
        straddles a bar's boundary folds into none of that granularity). Finer bars come in
        time order (the bar gate refuses one out of order, the file reader a row), so each
        one's close is its coarser bar's close so far."""
        volume = bar.volume
        pv = (bar.vwap if bar.vwap is not None else bar.close) * volume
        for name, cut in self.cuts.items():
            bounds = cut.bounds(bar.start)
            if bounds is None or bar.end > bounds[1]:
                continue
            start, end = bounds
            bars = self.open[name]
            for open_bar in bars:
                if open_bar[START] == start:
                    open_bar[HIGH] = max(open_bar[HIGH], bar.high)
                    open_bar[LOW] = min(open_bar[LOW], bar.low)
                    open_bar[CLOSE] = bar.close
                    open_bar[VOLUME] += volume
                    open_bar[PV] += pv
                    open_bar[TRADES] += bar.trades
                    break
            else:
                bars.append([start, bar.open, bar.high, bar.low, bar.close, volume, pv,
                             bar.trades, bar.start, bar.start, end])  # fmt: skip

    def close(self, stream_time: int, grace_ns: int) -> list[Bar]:
        """Remove and return every bar whose end + grace has been reached, oldest first."""
        closed: list[Bar] = []
        horizon = stream_time - grace_ns
        for name, bars in self.open.items():
            if name in self.activity:
                continue
            done = [bar for bar in bars if bar[END] <= horizon]
            if not done:
                continue
            self.open[name] = [bar for bar in bars if bar[END] > horizon]
            for bar in sorted(done, key=lambda b: b[START]):
                closed.append(self._publish(name, bar))
        if self.pending and self.pending[0][0] <= horizon:
            settled = bisect_right(self.pending, horizon, key=_time)
            for ts, price, size in self.pending[:settled]:
                closed += self._add_activity(ts, price, size)
            del self.pending[:settled]
        return closed

    def _add_activity(self, ts: int, price: float, size: float) -> list[Bar]:
        """Fold a settled trade into each activity bar; return those it completes. A trade is
        never split: the one that reaches the threshold closes its bar, whatever it carries
        past the threshold."""
        done = []
        for name, cut in self.activity.items():
            bars = self.open[name]
            if bars:
                bar = bars[0]
                bar[HIGH] = max(bar[HIGH], price)
                bar[LOW] = min(bar[LOW], price)
                bar[CLOSE] = price
                bar[VOLUME] += size
                bar[PV] += price * size
                bar[TRADES] += 1
            else:
                bar = [ts, price, price, price, price, size, price * size, 1, ts, ts, 0]
                bars.append(bar)
            reached = {"trades": bar[TRADES], "volume": bar[VOLUME], "value": bar[PV]}[cut.kind]
            if reached >= cut.threshold:
                bar[END] = ts + 1  # [first trade, last trade]
                done.append(self._publish(name, bar))
                bars.clear()
        return done

    def next_close(self, grace_ns: int) -> int | None:
        """The stream time at which the next bar will close (or trades settle for the activity
        bars), or None when nothing is open."""
        ends = [
            bar[END] + grace_ns
            for name, bars in self.open.items()
            if name not in self.activity
            for bar in bars
        ]
        if self.pending:
            ends.append(self.pending[0][0] + grace_ns)
        return min(ends) if ends else None

    def _publish(self, name: str, bar: list[Any]) -> Bar:
        volume = bar[VOLUME]
        cut = self.cuts[name]
        table = cut.session_table
        return Bar(
            symbol=self.symbol,
            granularity=name,
            start=bar[START],
            end=bar[END],
            open=bar[OPEN],
            high=bar[HIGH],
            low=bar[LOW],
            close=bar[CLOSE],
            volume=volume,
            vwap=bar[PV] / volume if volume > 0 else None,
            trades=bar[TRADES],
            calendar=None if table is None else table.calendar,
            session=cut.session_date(bar[START]),
        )

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        state: dict[str, Any] = {"symbol": self.symbol, "open": self.open}
        if self.activity:
            state["pending"] = self.pending
        return state

    @classmethod
    def from_state(
        cls, granularities: Mapping[str, int | Cut], state: dict[str, Any]
    ) -> BarBuilder:
        """Rebuild a builder from :meth:`state`; granularities no longer configured are
        dropped, and so is a bar its granularity's cut no longer has."""
        builder = cls(state["symbol"], granularities)
        cuts = builder.cuts
        for name, bars in state["open"].items():
            if name not in builder.open:
                continue
            kept = []
            for bar in bars:
                if len(bar) == END:  # written before bars had ends
                    bounds = cuts[name].bounds(bar[START])
                    if bounds is None:
                        continue
                    bar = [*bar, bounds[1]]
                kept.append(list(bar))
            builder.open[name] = kept
        if builder.activity:  # a state written before activity bars were configured has none
            builder.pending = [list(trade) for trade in state.get("pending", [])]
        return builder
