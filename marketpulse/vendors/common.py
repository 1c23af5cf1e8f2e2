"""What the vendor transformers share: rejected rows, and the exchange's day as our ``1d`` bar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class Rejected:
    """A row of a vendor payload that could not become a record, and why (a dead-letter
    reason code, as the quality gate's)."""

    reason: str
    detail: str
    row: str


def day_start_ns(day: dt.date) -> int:
    """Our ``1d`` bars are UTC-aligned: a trading date becomes the UTC midnight of that date."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) * 10**9
