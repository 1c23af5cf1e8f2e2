"""Event-time OHLCV bars from trades, for every granularity at once.

Each granularity's :class:`~marketpulse.analytics.sessions.Cut` says which bar ``[start, end)``
a trade belongs to: UTC clock boundaries, or the sessions of the symbol's exchange calendar
(intraday bars anchored at the session open and cut at its close, a session, a week or month of
sessions). A bar stays open until the partition's stream time (the largest event time accepted
on the partition) reaches ``end + grace``: until then, late trades inside the grace period still
amend it. Once closed, a bar is published, final, with revision 0.

A granularity may allow lateness (``lateness``: ns past the grace period; none by default). Its
closed bars are then kept until stream time passes their end + grace + lateness, and a trade
for one of them re-opens it: at the end of the frame it is published again, with its revision
one higher (a trade in an interval that had none makes a bar there, with revision 0). A trade
later than that for a granularity reaches none of its bars, and is counted in
:attr:`BarBuilder.too_late`; the gate refuses as ``late`` a trade later than every
granularity allows. Bars come from trades; quotes advance stream time but do not make bars.
An interval without trades makes no bar.

A symbol may keep its recent trades (``cancel_window``: ns of stream time; none by default) so
that the feed's cancels and corrections can name them: the trade leaves its bars (or takes its
corrected price, size and conditions), and each bar that holds it is rebuilt from what the
trades no longer kept put into it (``settled``) and the kept trades in it. An open bar changes in
place; a closed bar within its granularity's lateness is re-opened and published again a
revision higher, as for a late trade; one past it keeps its last revision (counted in
:attr:`BarBuilder.too_late`). Activity bars are cut by the trades as they came, and are left as
they are. A published bar whose every trade is cancelled is not published again: no bar has
no trade.

A trade sets only the parts of a bar its sale conditions allow (:mod:`.conditions`): the open
and close come from the trades that may set the last sale, the high and low from those that may
set them, the volume, VWAP and trade count from those that count in volume. A bar no trade could
open (an interval of odd lots, say) is not published, as the vendors' own bars are not; the
builder counts those in :attr:`BarBuilder.unopened`. A bar's high and low take in its open and
close, so that a table in which a condition may set the last sale but not the high still gives
a well-formed bar.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Mapping
from typing import Any, Final

from marketpulse.analytics.conditions import EVERY_PART, HIGH_LOW, OPEN_CLOSE, VOLUME
from marketpulse.analytics.sessions import ActivityCut, Cut, UtcCut
from marketpulse.schemas.bars import Bar

# An open bar as a list, so that state is compact JSON: start, o, h, l, c, volume,
# price x size, trade count, the times of its latest and earliest trades that may set the last
# sale (a late trade inside the grace period may be older than the bar's open or newer than
# nothing), and its end (last: states written before bars had ends get theirs from the cut on
# restore). The prices and times are null until a trade may set them. A closed bar kept for
# revisions has its revision last: -1 until it is published.
# (Each index Final: compiled code then reads it as a constant, not from the module's dict.)
START: Final = 0
OPEN: Final = 1
HIGH: Final = 2
LOW: Final = 3
CLOSE: Final = 4
SIZE: Final = 5
PV: Final = 6
TRADES: Final = 7
LAST_TS: Final = 8
FIRST_TS: Final = 9
END: Final = 10
REVISION: Final = 11
# A trade kept for cancels and corrections: ts, price, size, parts, the feed's id (or null).
PRICE: Final = 1
AMOUNT: Final = 2
PARTS: Final = 3
ID: Final = 4


def _time(trade: list[Any]) -> int:
    time: int = trade[0]
    return time


def _parts(trade: list[Any]) -> int:
    """A pending trade's parts: ``[ts, price, size]`` updates every part (most trades), else
    the fourth item says which."""
    if len(trade) > 3:
        parts: int = trade[3]
        return parts
    return EVERY_PART


def _fold(bar: list[Any], ts: Any, price: Any, size: Any, parts: int) -> None:
    """Fold a trade into ``bar``, setting only the parts it may.

    The trade's time, price and size stay the objects they came as (a decoded event's, a kept
    trade's): typed, compiled code would unbox each and box it again, a new object, for every
    item of the bar it compares or sets, some eight an event."""
    if parts & HIGH_LOW:
        high = bar[HIGH]
        if high is None:
            bar[HIGH] = price
            bar[LOW] = price
        else:
            if price > high:
                bar[HIGH] = price
            if price < bar[LOW]:
                bar[LOW] = price
    if parts & OPEN_CLOSE:
        if bar[LAST_TS] is None:
            bar[OPEN] = price
            bar[CLOSE] = price
            bar[FIRST_TS] = ts
            bar[LAST_TS] = ts
        else:
            if ts >= bar[LAST_TS]:
                bar[CLOSE] = price
                bar[LAST_TS] = ts
            if ts < bar[FIRST_TS]:
                bar[OPEN] = price
                bar[FIRST_TS] = ts
    if parts & VOLUME:
        bar[SIZE] += size
        bar[PV] += price * size
        bar[TRADES] += 1


def _fold_bar(into: list[Any], bar: Bar, volume: float, pv: float) -> None:
    """Fold a finer bar into ``into``; finer bars come in time order, so each one's close is the
    close so far."""
    high, low = into[HIGH], into[LOW]
    into[HIGH] = bar.high if high is None else max(high, bar.high)
    into[LOW] = bar.low if low is None else min(low, bar.low)
    if into[LAST_TS] is None:
        into[OPEN] = bar.open
        into[FIRST_TS] = bar.start
    into[CLOSE] = bar.close
    into[LAST_TS] = bar.start
    into[SIZE] += volume
    into[PV] += pv
    into[TRADES] += bar.trades


def _empty(start: int, end: int) -> list[Any]:
    return [start, None, None, None, None, 0.0, 0.0, 0, None, None, end]


class BarBuilder:
    """The open bars of one symbol, one list per granularity (at most a couple each)."""

    def __init__(
        self,
        symbol: str,
        granularities: Mapping[str, int | Cut],
        lateness: Mapping[str, int] | None = None,
        cancel_window: int = 0,
    ) -> None:
        """``granularities``: each one's cut, or its length for UTC clock boundaries;
        ``lateness``: the granularities that allow it, and how much (ns past the grace period);
        ``cancel_window``: how long (ns of stream time) a trade is kept for a cancel or a
        correction to name it."""
        self.symbol = symbol
        self.cuts: dict[str, Cut] = {
            name: UtcCut(cut) if isinstance(cut, int) else cut
            for name, cut in granularities.items()
        }
        self.open: dict[str, list[list[Any]]] = {name: [] for name in self.cuts}
        self.lateness = {
            name: ns for name, ns in (lateness or {}).items() if ns > 0 and name in self.cuts
        }
        # the closed bars that may still be revised, oldest first, and the horizon they closed
        # by (stream time less the grace period, at the last close)
        self.closed: dict[str, list[list[Any]]] = {name: [] for name in self.lateness}
        self.horizon = 0
        self.revised: list[tuple[str, list[Any]]] = []  # bars re-opened since the last close
        self.too_late = 0  # trades a granularity took no more, since take_too_late() read it
        self.sessioned = any(cut.session_table is not None for cut in self.cuts.values())
        self.activity = {
            name: cut for name, cut in self.cuts.items() if isinstance(cut, ActivityCut)
        }
        # trades for the activity bars, [ts, price, size], in event-time order (trades of one
        # time in arrival order) until stream time passes them by the grace period: then no
        # later trade can come before them, and they go into the bars in that order; a
        # trade that does not update every part has its parts as a fourth item
        self.pending: list[list[Any]] = []
        self.unopened = 0  # bars closed unpublished since take_unopened() last read this
        self.cancel_window = cancel_window
        # the trades a cancel or correction may name, in time order (trades of one time in
        # arrival order), and for each time granularity what the trades no longer kept put
        # into its bars still open or revisable: a bar without one began before trades were
        # kept, and cannot be rebuilt
        self.trades: list[list[Any]] = []
        self.settled: dict[str, list[list[Any]]] = (
            {name: [] for name in self.cuts if name not in self.activity} if cancel_window else {}
        )

    def in_session(self, ts: int) -> bool:
        """Whether every granularity has a bar for ``ts`` (a calendar's cut has none outside
        its sessions)."""
        if not self.sessioned:
            return True
        for cut in self.cuts.values():
            if cut.session_table is not None and cut.bounds(ts) is None:
                return False
        return True

    def add_trade(
        self, ts: Any, price: Any, size: Any, parts: int = EVERY_PART,
        trade_id: str | None = None,
    ) -> None:  # fmt: skip
        """Fold one accepted trade into the bar of each granularity that holds ``ts`` (and keep
        it for the activity bars until its time has settled, and for cancels and corrections
        within the cancel window), setting the ``parts`` its conditions allow (bits of
        :mod:`.conditions`). ``ts`` an int, ``price`` and ``size`` floats, each the object the
        event holds (:func:`_fold`)."""
        if not parts:
            return
        time: int = ts
        if self.activity:
            insort(self.pending, [ts, price, size] if parts == EVERY_PART
                   else [ts, price, size, parts], key=_time)  # fmt: skip
        if self.cancel_window:
            insort(self.trades, [ts, price, size, parts, trade_id], key=_time)
        for name, cut in self.cuts.items():
            length = cut.utc_length
            if length:
                start = time - time % length
                end = start + length
            elif cut.timeless:
                continue
            else:
                bounds = cut.bounds(time)
                if bounds is None:
                    continue
                start, end = bounds
            if end <= self.horizon:
                closed = self._reopen(name, start, end)
                if closed is not None:
                    _fold(closed, ts, price, size, parts)
                continue
            _fold(self._open_bar(name, start, end), ts, price, size, parts)

    def _open_bar(self, name: str, start: int, end: int) -> list[Any]:
        """The open bar ``[start, end)`` of ``name``, made when it has none yet."""
        bars = self.open[name]
        # newest first, where trades in time order land; ``start`` boxed once, not once for
        # each bar it is compared with (each bar open in the grace period, three at 1 s)
        boxed: object = start
        for at in range(len(bars) - 1, -1, -1):
            bar = bars[at]
            if bar[START] == boxed:
                return bar
        bar = _empty(start, end)
        bars.append(bar)
        if self.settled:
            self.settled[name].append(_empty(start, end))
        return bar

    def amend(self, trade_ts: int, trade_id: str, replacement: list[Any] | None) -> bool:
        """Take the kept trade ``trade_id`` at ``trade_ts`` out of its bars (a cancel), or put
        ``replacement`` (``[ts, price, size, parts, id]``, at the same time) in its place (a
        correction), and rebuild each bar that holds it. False when no such trade is kept."""
        trades = self.trades
        at = bisect_left(trades, trade_ts, key=_time)
        while at < len(trades) and trades[at][0] == trade_ts:
            if trades[at][ID] == trade_id:
                break
            at += 1
        else:
            return False
        if replacement is None:
            del trades[at]
        else:
            trades[at] = replacement
        for name, cut in self.cuts.items():
            bounds = None if name in self.activity else cut.bounds(trade_ts)
            if bounds is not None:
                self._rebuild(name, *bounds)
        return True

    def _rebuild(self, name: str, start: int, end: int) -> None:
        """Make the bar ``[start, end)`` of ``name`` again from what settled trades put into it
        and the kept trades in it: in place if open, re-opened if closed and revisable."""
        for settled in self.settled[name]:
            if settled[START] == start:
                break
        else:
            self.too_late += 1  # it began before trades were kept, or has gone
            return
        if end <= self.horizon:
            bar = self._reopen(name, start, end)
            if bar is None:
                return
        else:  # open: its settled part is made with it and goes with it
            bar = next(bar for bar in self.open[name] if bar[START] == start)
        fresh = list(settled)
        trades = self.trades
        for at in range(bisect_left(trades, start, key=_time), len(trades)):
            trade = trades[at]
            if trade[0] >= end:
                break
            _fold(fresh, trade[0], trade[PRICE], trade[AMOUNT], trade[PARTS])
        bar[OPEN:END] = fresh[OPEN:END]

    def _settle(self, stream_time: int) -> None:
        """Fold the trades that leave the cancel window into their bars' settled parts, and
        forget the settled parts of bars no longer open or revisable."""
        trades = self.trades
        leaving = bisect_right(trades, stream_time - self.cancel_window, key=_time)
        for name, kept in self.settled.items():
            live = {bar[START] for bar in self.open[name]}
            live.update(bar[START] for bar in self.closed.get(name, ()))
            kept[:] = [settled for settled in kept if settled[START] in live]
            for settled in kept:
                first = bisect_left(trades, settled[START], key=_time)
                for trade in trades[first:leaving]:
                    if trade[0] >= settled[END]:
                        break
                    _fold(settled, trade[0], trade[PRICE], trade[AMOUNT], trade[PARTS])
        del trades[:leaving]

    def _reopen(self, name: str, start: int, end: int) -> list[Any] | None:
        """The closed bar ``[start, end)`` of ``name``, marked revised; a new one when the
        interval had none and is still within the granularity's lateness; None (counted) when
        it is not."""
        kept = self.closed.get(name)
        if kept is None or end + self.lateness[name] <= self.horizon:
            self.too_late += 1
            return None
        for bar in kept:
            if bar[START] == start:
                break
        else:
            bar = [*_empty(start, end), -1]
            insort(kept, bar, key=_time)
            if self.settled:
                self.settled[name].append(_empty(start, end))
        if not any(found is bar for _, found in self.revised):
            self.revised.append((name, bar))
        return bar

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
                    break
            else:
                open_bar = _empty(start, end)
                bars.append(open_bar)
            _fold_bar(open_bar, bar, volume, pv)

    def close(self, stream_time: int, grace_ns: int) -> list[Bar]:
        """Remove and return every bar whose end + grace has been reached, oldest first."""
        closed = self._revisions()
        horizon = stream_time - grace_ns
        self.horizon = max(self.horizon, horizon)
        for name, bars in self.open.items():
            if name in self.activity:
                continue
            done = [bar for bar in bars if bar[END] <= horizon]
            if not done:
                continue
            self.open[name] = [bar for bar in bars if bar[END] > horizon]
            kept = self.closed.get(name)
            for bar in sorted(done, key=lambda b: b[START]):
                published = self._publish(name, bar)
                if published is not None:
                    closed.append(published)
                if kept is not None:
                    kept.append([*bar, -1 if published is None else 0])
        for name, kept in self.closed.items():
            lateness = self.lateness[name]
            kept[:] = [bar for bar in kept if bar[END] + lateness > self.horizon]
        if self.pending and self.pending[0][0] <= horizon:
            settled = bisect_right(self.pending, horizon, key=_time)
            for trade in self.pending[:settled]:
                closed += self._add_activity(trade[0], trade[1], trade[2], _parts(trade))
            del self.pending[:settled]
        if self.cancel_window:
            self._settle(stream_time)
        return closed

    def _revisions(self) -> list[Bar]:
        """The bars re-opened since the last close, each published again a revision higher
        (a bar no trade has opened yet stays unpublished), oldest first."""
        out = []
        for name, bar in sorted(self.revised, key=lambda item: item[1][START]):
            if bar[OPEN] is None:
                continue
            bar[REVISION] += 1
            out.append(self._bar(name, bar, final=True))
        self.revised.clear()
        return out

    def take_too_late(self) -> int:
        """How many times a trade came too late for a granularity it was accepted for (another
        allows more lateness) since the last call."""
        count, self.too_late = self.too_late, 0
        return count

    def _add_activity(self, ts: Any, price: Any, size: Any, parts: int) -> list[Bar]:
        """Fold a settled trade into each activity bar; return those it completes. A trade is
        never split: the one that reaches the threshold closes its bar, whatever it carries
        past the threshold."""
        done = []
        for name, cut in self.activity.items():
            bars = self.open[name]
            if bars:
                bar = bars[0]
            else:
                bar = _empty(ts, 0)
                bars.append(bar)
            _fold(bar, ts, price, size, parts)
            reached = {"trades": bar[TRADES], "volume": bar[SIZE], "value": bar[PV]}[cut.kind]
            if reached >= cut.threshold:
                bar[END] = ts + 1  # [first trade, last trade]
                published = self._publish(name, bar)
                if published is not None:
                    done.append(published)
                bars.clear()
        return done

    def take_unopened(self) -> int:
        """How many bars closed unpublished (no trade could open them) since the last call."""
        count, self.unopened = self.unopened, 0
        return count

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

    def forming(self) -> list[dict[str, Any]]:
        """Each granularity's bar that closes next, as it stands (``final`` false), if a trade
        has opened it: the bar the series takes next, so that its indicators can be peeked on
        it. As a :class:`Bar`'s fields, not a model: a forming record goes out every second per
        series and is encoded straight from them. Activity bars have no end until they close,
        and are left out."""
        out = []
        for name, bars in self.open.items():
            if name in self.activity or not bars:
                continue
            bar = bars[0] if len(bars) == 1 else min(bars, key=lambda b: b[START])
            if bar[OPEN] is not None:
                out.append(self._fields(name, bar, final=False))
        return out

    def _publish(self, name: str, bar: list[Any]) -> Bar | None:
        """The bar, or None (counted) when no trade in it could set the open."""
        if bar[OPEN] is None:
            self.unopened += 1
            return None
        return self._bar(name, bar, final=True)

    def _bar(self, name: str, bar: list[Any], final: bool) -> Bar:
        return Bar(**self._fields(name, bar, final))

    def _fields(self, name: str, bar: list[Any], final: bool) -> dict[str, Any]:
        first, last = bar[OPEN], bar[CLOSE]
        high, low = bar[HIGH], bar[LOW]
        volume = bar[SIZE]
        cut = self.cuts[name]
        table = cut.session_table
        return {
            "symbol": self.symbol,
            "granularity": name,
            "start": bar[START],
            "end": bar[END],
            "open": first,
            "high": max(first, last) if high is None else max(high, first, last),
            "low": min(first, last) if low is None else min(low, first, last),
            "close": last,
            "volume": volume,
            "vwap": bar[PV] / volume if volume > 0 else None,
            "trades": bar[TRADES],
            "revision": bar[REVISION] if len(bar) > REVISION else 0,
            "calendar": None if table is None else table.calendar,
            "session": cut.session_date(bar[START]),
            "final": final,
        }

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        state: dict[str, Any] = {"symbol": self.symbol, "open": self.open}
        if self.activity:
            state["pending"] = self.pending
        if self.lateness:
            state["closed"] = self.closed
        if self.lateness or self.cancel_window:
            state["horizon"] = self.horizon
        if self.cancel_window:
            state["trades"] = self.trades
            state["settled"] = self.settled
        return state

    @classmethod
    def from_state(
        cls,
        granularities: Mapping[str, int | Cut],
        state: dict[str, Any],
        lateness: Mapping[str, int] | None = None,
        cancel_window: int = 0,
    ) -> BarBuilder:
        """Rebuild a builder from :meth:`state`; granularities no longer configured are
        dropped, and so is a bar its granularity's cut no longer has."""
        builder = cls(state["symbol"], granularities, lateness, cancel_window)
        builder.horizon = state.get("horizon", 0)
        for name, bars in state.get("closed", {}).items():
            if name in builder.closed:
                builder.closed[name] = [list(bar) for bar in bars]
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
        if cancel_window:  # a state written without a cancel window keeps no trades
            builder.trades = [list(trade) for trade in state.get("trades", [])]
            for name, kept in state.get("settled", {}).items():
                if name in builder.settled:
                    builder.settled[name] = [list(settled) for settled in kept]
        return builder
