"""Warm-up: a series that starts (a new symbol, a new granularity, a worker on an empty state)
is first advanced over the bars before its first live one, so that its indicators and detectors
have their history when the live bars come. Pure: the bars come in from the caller (InfluxDB,
a vendor), nothing is published.

How many bars: the longest lookback of the configured set (the bars before an indicator's first
output, as TA-Lib counts them) plus an unstable allowance, TA-Lib's ``unstable period`` (0 there
by default): an exponential average warmed on its lookback alone equals TA-Lib's over the same
bars, and moves towards the value over the whole history as the allowance grows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache

from marketpulse.analytics.granularity import DAY_NS
from marketpulse.analytics.indicators.registry import first_output
from marketpulse.analytics.patterns.detector import DetectorConfig
from marketpulse.analytics.series import SeriesState
from marketpulse.schemas.bars import Bar


@cache
def lookback(specs: tuple[str, ...]) -> int:
    """How many bars come before the first one on which every indicator of the set has an
    output (TA-Lib's lookback, of the longest)."""
    return max((first_output(spec) for spec in specs), default=0)


def warmup_bars(specs: Iterable[str], unstable: int) -> int:
    """The bars a series is warmed with: the set's lookback and the unstable allowance."""
    return lookback(tuple(specs)) + unstable


def warmed(specs: Iterable[str], config: DetectorConfig, bars: list[Bar]) -> SeriesState:
    """A series that has applied ``bars`` (oldest first), as if it had seen them live."""
    series = SeriesState.new(specs, config)
    for bar in bars:
        series.advance(bar)
    return series


# A vendor's history is asked for by calendar dates: enough days for ``count`` bars through
# weekends, holidays and, intraday, the hours a stock does not trade (a 6.5-hour session).
_SESSION_SHARE = 6.5 / 24
_MARGIN_DAYS = 4


def history_days(count: int, length_ns: int) -> int:
    """How many calendar days back to ask a vendor for, to get ``count`` bars of ``length_ns``."""
    days = count * length_ns / DAY_NS
    if length_ns < DAY_NS:
        days /= _SESSION_SHARE
    return math.ceil(days * 7 / 5) + _MARGIN_DAYS
