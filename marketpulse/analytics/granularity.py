"""Bar granularities: ``30s``, ``1m``, ``5m``, ``1h``, ``1d``, and the calendar's ``1w`` and
``1mo``.

A granularity's length in ns is exact for clock units; for ``1w`` and ``1mo`` it is nominal (a
week, 31 days), for ordering and for how long to keep things, since their bars follow the
calendar. Without a calendar, bars are UTC-aligned: clock units on multiples of their length,
weeks from Monday 00:00 UTC, months from the 1st.
"""

from __future__ import annotations

import re

_DAY = 86_400_000_000_000
_UNITS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": _DAY}
PERIODS = {"1w": ("week", 7 * _DAY), "1mo": ("month", 31 * _DAY)}
_PATTERN = re.compile(r"^([1-9][0-9]*)([smhd])$")
MONDAY_NS = 4 * _DAY  # 1970-01-01 was a Thursday: the first Monday, 00:00 UTC


def parse_granularity(text: str) -> int:
    """Return the length of a granularity in ns (nominal for ``1w`` and ``1mo``); raise
    ValueError for anything else."""
    if text in PERIODS:
        return PERIODS[text][1]
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"bad granularity {text!r}: use a number and s, m, h or d (e.g. 5m), or 1w or 1mo"
        )
    length = int(match.group(1)) * _UNITS[match.group(2)]
    if _DAY % length and length % _DAY:
        raise ValueError(f"granularity {text!r} does not divide a day, so bars would drift")
    return length


def calendar_period(text: str) -> str | None:
    """``week`` or ``month`` for ``1w`` and ``1mo``; None for clock granularities."""
    period = PERIODS.get(text)
    return period[0] if period else None


def bar_start(ts: int, length: int) -> int:
    """The start of the UTC-aligned bar of ``length`` ns that holds ``ts``."""
    return ts - ts % length
