"""Exchange calendars from pandas-market-calendars, as the session tables bars are cut by.

pandas-market-calendars rather than exchange-calendars (which it builds on for most
exchanges): it adds what bars need beyond the regular session, the extended hours of the US
markets (NYSE and NASDAQ pre-market from 04:00 and after-hours to 20:00, shortened on half
days), the futures calendars of CME, CBOE and ICE with their evening sessions and breaks, and
24/5 and 24/7 calendars. Both take holidays, early closes and daylight-saving changes from the
exchanges' published rules. A table is built once per calendar and hours, over the configured
span of years, and then only looked up (:mod:`marketpulse.analytics.sessions`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd
import pandas_market_calendars as pmc

from marketpulse.analytics.sessions import SessionTable

if TYPE_CHECKING:
    from marketpulse.settings import Settings

HOURS = ("regular", "extended")


def known_calendars() -> list[str]:
    """Every calendar name the library knows (``NYSE``, ``XNYS``, ``XASX``, ``CME_Equity``, ...)."""
    return sorted(pmc.get_calendar_names())


def check_calendar(name: str) -> None:
    """Raise ValueError, listing the known ones, for an unknown calendar name."""
    if name not in pmc.get_calendar_names():
        raise ValueError(f"unknown calendar {name!r}; known: {', '.join(known_calendars())}")


def _ns(column: pd.Series) -> list[int]:
    return [int(value) for value in column.astype("int64")]


@cache
def session_table(name: str, hours: str, first_year: int, last_year: int) -> SessionTable:
    """``name``'s sessions from ``first_year`` through ``last_year``: regular hours, or
    ``extended`` (pre-market to after-hours, where the calendar has them; others keep their
    regular session)."""
    check_calendar(name)
    if hours not in HOURS:
        raise ValueError(f"hours must be one of {HOURS}, not {hours!r}")
    calendar = pmc.get_calendar(name)
    times = calendar.regular_market_times
    extended = hours == "extended"
    start = "pre" if extended and "pre" in times else "market_open"
    end = "post" if extended and "post" in times else "market_close"
    with warnings.catch_warnings():
        # the library still reads .weekday, which pandas 3.1 deprecates
        warnings.filterwarnings("ignore", ".*weekday is deprecated", DeprecationWarning)
        frame = calendar.schedule(
            dt.date(first_year, 1, 1), dt.date(last_year, 12, 31), start=start, end=end
        )
    opens = _ns(frame[start].dt.as_unit("ns"))
    closes = _ns(frame[end].dt.as_unit("ns"))
    dates = [day.date().isoformat() for day in frame.index]
    segment_opens, segment_closes, segment_session = [], [], []
    breaks = "break_start" in frame.columns and "break_end" in frame.columns
    starts = _ns(frame["break_start"].dt.as_unit("ns")) if breaks else []
    ends = _ns(frame["break_end"].dt.as_unit("ns")) if breaks else []
    for index, (opened, closed) in enumerate(zip(opens, closes, strict=True)):
        if breaks and opened < starts[index] < ends[index] < closed:
            pieces = [(opened, starts[index]), (ends[index], closed)]
        else:
            pieces = [(opened, closed)]
        for piece_open, piece_close in pieces:
            segment_opens.append(piece_open)
            segment_closes.append(piece_close)
            segment_session.append(index)
    return SessionTable(
        calendar=name,
        hours=hours,
        opens=opens,
        closes=closes,
        dates=dates,
        segment_opens=segment_opens,
        segment_closes=segment_closes,
        segment_session=segment_session,
        zone=str(calendar.tz),
    )


def symbol_exchanges(settings: Settings) -> dict[str, str]:
    """Each symbol's exchange from the ``symbols`` table, read once at start-up (from a thread
    of its own: a worker may already run an event loop when it builds its configuration)."""
    from marketpulse.storage.postgres import create_pool
    from marketpulse.storage.repositories.symbols import SymbolRepository

    async def read() -> dict[str, str]:
        pool = await create_pool(settings, max_size=1)
        try:
            return await SymbolRepository(pool).exchanges()
        finally:
            await pool.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, read()).result()
