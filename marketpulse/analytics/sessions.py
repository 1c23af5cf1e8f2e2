"""Trading sessions as plain arrays, and how a granularity cuts time into bars with them.

A :class:`SessionTable` holds one calendar's sessions (regular hours, or extended hours too) as
sorted integer ns: each session's open and close, its date, and its trading segments (a session
with a midday break has two). It is built once from a calendar library
(:mod:`marketpulse.calendars`) and only looked up here, so the bar builder stays pure.

A :class:`Cut` says which bar a trade at ``ts`` belongs to, as ``[start, end)``:

* :class:`UtcCut`: UTC clock boundaries (``ts - ts % length``), for symbols without a calendar;
* :class:`SegmentCut`: intraday bars anchored at each trading segment's open and cut at its
  close, so the last bar of a segment may be short and none spans two;
* :class:`PeriodCut`: a whole session (``1d``), or the sessions of a calendar week (``1w``)
  or month (``1mo``).

A session cut answers None for a time outside every session: such a trade makes no bar.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Final

from marketpulse.analytics.granularity import (
    MONDAY_NS,
    activity_of,
    calendar_period,
    parse_granularity,
)

DAY_NS: Final = 86_400_000_000_000


@dataclass
class SessionTable:
    """One calendar's sessions, oldest first (all times integer ns since the epoch, UTC)."""

    calendar: str
    hours: str  # "regular" or "extended"
    opens: list[int]
    closes: list[int]
    dates: list[str]  # each session's date, ISO (the label of its 1d bar)
    segment_opens: list[int]  # trading segments: a session, or its parts around a break
    segment_closes: list[int]
    segment_session: list[int]  # the session each segment belongs to
    zone: str = "UTC"  # the exchange's time zone
    _periods: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict, repr=False)
    # the segment found last: a symbol's trades come in order, mostly in the same segment
    _last: tuple[int, int, int] = field(default=(0, 0, -1), repr=False)

    def segment(self, ts: int) -> int:
        """The index of the trading segment that holds ``ts``, or -1."""
        opened, closed, last = self._last
        if opened <= ts < closed:
            return last
        index = bisect_right(self.segment_opens, ts) - 1
        if index >= 0 and ts < self.segment_closes[index]:
            self._last = (self.segment_opens[index], self.segment_closes[index], index)
            return index
        return -1

    def session(self, ts: int) -> int:
        """The index of the session whose trading holds ``ts``, or -1 (a break is outside)."""
        index = self.segment(ts)
        return self.segment_session[index] if index >= 0 else -1

    def period_bounds(self, period: str) -> tuple[list[int], list[int]]:
        """For each session, the open and close of its ``period`` ("day", "week", "month"):
        from the first session's open to the last session's close of the same calendar week
        (Monday to Sunday) or month."""
        known = self._periods.get(period)
        if known is not None:
            return known
        keys = [_period_key(date, period) for date in self.dates]
        starts = list(self.opens)
        ends = list(self.closes)
        first = 0
        for index in range(1, len(keys) + 1):
            if index == len(keys) or keys[index] != keys[first]:
                for member in range(first, index):
                    starts[member] = self.opens[first]
                    ends[member] = self.closes[index - 1]
                first = index
        self._periods[period] = (starts, ends)
        return starts, ends


def _period_key(date: str, period: str) -> str:
    if period == "day":
        return date
    if period == "month":
        return date[:7]
    year, week, _ = dt.date.fromisoformat(date).isocalendar()
    return f"{year}-W{week:02d}"


class Cut:
    """How one granularity cuts time into bars; see the module docstring."""

    session_table: SessionTable | None = None
    utc_length = 0  # a fixed UTC length with no offset: the bar builder's fast path
    timeless = False  # bars by activity: cut by trading, not by time

    def bounds(self, ts: int) -> tuple[int, int] | None:
        """``[start, end)`` of the bar that holds ``ts``, or None outside every session."""
        raise NotImplementedError

    def session_date(self, start: int) -> str | None:
        """The date of the session a bar starting at ``start`` belongs to (None: no calendar)."""
        table = self.session_table
        if table is None:
            return None
        index = table.session(start)
        return table.dates[index] if index >= 0 else None


class UtcCut(Cut):
    """Bars of ``length`` ns on UTC boundaries, shifted by ``offset`` (weeks start on Monday)."""

    def __init__(self, length: int, offset: int = 0) -> None:
        self.length = length
        self.offset = offset
        if not offset:
            self.utc_length = length

    def bounds(self, ts: int) -> tuple[int, int] | None:
        start = ts - (ts - self.offset) % self.length
        return start, start + self.length


class UtcMonthCut(Cut):
    """Calendar months in UTC."""

    def bounds(self, ts: int) -> tuple[int, int] | None:
        moment = dt.datetime.fromtimestamp(ts // 1_000_000_000, dt.UTC)
        first = dt.datetime(moment.year, moment.month, 1, tzinfo=dt.UTC)
        following = dt.datetime(
            moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=dt.UTC
        )
        return _ns(first), _ns(following)


def _ns(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


class SegmentCut(Cut):
    """Intraday bars of ``length`` ns from each trading segment's open, cut at its close."""

    def __init__(self, table: SessionTable, length: int) -> None:
        self.session_table = self.table = table
        self.length = length

    def bounds(self, ts: int) -> tuple[int, int] | None:
        table = self.table
        index = table.segment(ts)
        if index < 0:
            return None
        opened = table.segment_opens[index]
        start = ts - (ts - opened) % self.length
        return start, min(start + self.length, table.segment_closes[index])


class PeriodCut(Cut):
    """One bar per session (``day``), calendar week or month of sessions."""

    def __init__(self, table: SessionTable, period: str) -> None:
        self.session_table = self.table = table
        self.starts, self.ends = table.period_bounds(period)

    def bounds(self, ts: int) -> tuple[int, int] | None:
        index = self.table.session(ts)
        if index < 0:
            return None
        return self.starts[index], self.ends[index]


class ActivityCut(Cut):
    """Bars by activity: each closes on the trade that brings its ``kind`` (trades, volume or
    value) to ``threshold``. Time does not cut them (:meth:`bounds` has nothing to say)."""

    timeless = True

    def __init__(self, kind: str, threshold: int) -> None:
        self.kind = kind
        self.threshold = threshold

    def bounds(self, ts: int) -> tuple[int, int] | None:
        return None


def cut_for(granularity: str, table: SessionTable | None) -> Cut:
    """How ``granularity`` cuts a symbol's time: by its calendar's sessions, or in UTC; or
    by activity."""
    activity = activity_of(granularity)
    if activity is not None:
        return ActivityCut(*activity)
    period = calendar_period(granularity)
    length = parse_granularity(granularity)
    if table is None:
        if period == "week":
            return UtcCut(length, MONDAY_NS)
        if period == "month":
            return UtcMonthCut()
        return UtcCut(length)
    if period is not None:
        return PeriodCut(table, period)
    if length == DAY_NS:
        return PeriodCut(table, "day")
    if length > DAY_NS:
        raise ValueError(f"{granularity}: on a calendar, use 1d, 1w or 1mo for longer bars")
    return SegmentCut(table, length)


class BarCuts:
    """Each symbol's cuts, one per configured granularity: its calendar's (the first pattern
    that matches the symbol, in order, else the one named for the symbol itself) or UTC's.
    Symbols of one calendar share the cuts."""

    def __init__(
        self,
        granularities: list[str],
        calendars: list[tuple[str, SessionTable | None]],
        by_symbol: dict[str, SessionTable] | None = None,
    ) -> None:
        self.granularities = granularities
        self.calendars = calendars  # (symbol pattern, its sessions; None: UTC)
        self.by_symbol = by_symbol or {}  # then these symbols' (their exchanges' calendars)
        self._by_table: dict[str, dict[str, Cut]] = {}
        self._by_symbol: dict[str, dict[str, Cut]] = {}

    def table_of(self, symbol: str) -> SessionTable | None:
        """The sessions of the first pattern that matches ``symbol``, else of the symbol's own
        calendar if it has one; None for UTC."""
        for pattern, table in self.calendars:
            if fnmatchcase(symbol, pattern):
                return table
        return self.by_symbol.get(symbol)

    def of(self, symbol: str) -> dict[str, Cut]:
        """``symbol``'s cuts by granularity."""
        known = self._by_symbol.get(symbol)
        if known is not None:
            return known
        table = self.table_of(symbol)
        key = "" if table is None else f"{table.calendar}|{table.hours}"
        cuts = self._by_table.get(key)
        if cuts is None:
            cuts = {name: cut_for(name, table) for name in self.granularities}
            self._by_table[key] = cuts
        if len(self._by_symbol) < 100_000:  # symbols seen, bounded: the rest look it up again
            self._by_symbol[symbol] = cuts
        return cuts
