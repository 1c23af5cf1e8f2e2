"""Bar granularities: ``30s``, ``1m``, ``5m``, ``1h``, ``1d``, the calendar's ``1w`` and ``1mo``,
and bars by activity: ``t500`` (every 500 trades), ``v100000`` (every 100,000 shares or units),
``d5000000`` (every 5,000,000 of price x size, a "dollar" bar in the quote currency).

A granularity's length in ns is exact for clock units; for ``1w`` and ``1mo`` it is nominal (a
week, 31 days), and for activity bars a minute, for ordering and for how long to keep things,
since their bars follow the calendar or the trading. Without a calendar, bars are UTC-aligned:
clock units on multiples of their length, weeks from Monday 00:00 UTC, months from the 1st.
"""

from __future__ import annotations

import re
from typing import Final

DAY_NS: Final = 86_400_000_000_000
_UNITS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": DAY_NS}
PERIODS = {"1w": ("week", 7 * DAY_NS), "1mo": ("month", 31 * DAY_NS)}
_PATTERN = re.compile(r"^([1-9][0-9]*)([smhd])$")
_ACTIVITY = re.compile(r"^([tvd])([1-9][0-9]*)$")
ACTIVITY_KINDS = {"t": "trades", "v": "volume", "d": "value"}
_ACTIVITY_NOMINAL = 60_000_000_000  # intraday, for retention and caching
MONDAY_NS: Final = 4 * DAY_NS  # 1970-01-01 was a Thursday: the first Monday, 00:00 UTC


def parse_granularity(text: str) -> int:
    """Return the length of a granularity in ns (nominal for ``1w`` and ``1mo``); raise
    ValueError for anything else."""
    if text in PERIODS:
        return PERIODS[text][1]
    if _ACTIVITY.match(text):
        return _ACTIVITY_NOMINAL
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"bad granularity {text!r}: use a number and s, m, h or d (e.g. 5m), 1w or 1mo, "
            "or t, v or d and a number for bars by trades, volume or value (e.g. t500)"
        )
    length = int(match.group(1)) * _UNITS[match.group(2)]
    if DAY_NS % length and length % DAY_NS:
        raise ValueError(f"granularity {text!r} does not divide a day, so bars would drift")
    return length


def calendar_period(text: str) -> str | None:
    """``week`` or ``month`` for ``1w`` and ``1mo``; None for clock granularities."""
    period = PERIODS.get(text)
    return period[0] if period else None


def activity_of(text: str) -> tuple[str, int] | None:
    """``("trades", 500)`` for ``t500``, ``("volume", ...)``, ``("value", ...)``; None for time
    granularities."""
    match = _ACTIVITY.match(text)
    if match is None:
        return None
    return ACTIVITY_KINDS[match.group(1)], int(match.group(2))


def kept_bars(lateness_ns: int, length_ns: int) -> int:
    """How many of its last bars a series keeps to roll back a revision ``lateness_ns`` late:
    the bars that end within it, one more for a partial bar at a session's close, one more for
    the bar it revises (none without lateness)."""
    if lateness_ns <= 0:
        return 0
    return -(-lateness_ns // length_ns) + 2
