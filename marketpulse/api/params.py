"""Query and path parameters shared by the routes, validated before any store sees them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import Path, Query

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.api.errors import ApiError
from marketpulse.schemas.api import TICKER

_SYMBOL = re.compile(TICKER)


def is_symbol(text: str) -> bool:
    """Whether ``text`` can be a ticker (the same rule as the symbol path parameter)."""
    return bool(_SYMBOL.match(text))


SymbolPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=32,
        pattern=TICKER,
        description="ticker, case-insensitive",
        examples=["AAPL"],
    ),
]
From = Annotated[
    dt.datetime | None,
    Query(alias="from", description="start (inclusive), ISO 8601; UTC when no offset is given"),
]
To = Annotated[dt.datetime | None, Query(alias="to", description="end (exclusive), ISO 8601")]
Granularity = Annotated[
    str,
    Query(
        min_length=2,
        max_length=12,
        description="bar length (1m, 5m, 1h, ...), or bars by activity (t500, v100000, ...)",
        examples=["1m"],
    ),
]


def limit_param(maximum: int) -> Any:
    """A ``limit`` query parameter's constraints (its default goes after ``=``)."""
    return Query(ge=1, le=maximum, description=f"rows to return (at most {maximum})")


def to_ns(moment: dt.datetime | None) -> int | None:
    """A datetime as ns since the epoch (naive means UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


_LAST_NS = 2**63 - 1


def time_range(start: dt.datetime | None, end: dt.datetime | None) -> tuple[int | None, int | None]:
    """``from``/``to`` as ns; 400 when they are the wrong way round or before 1970."""
    start_ns, end_ns = to_ns(start), to_ns(end)
    for value in (start_ns, end_ns):
        if value is not None and not 0 <= value <= _LAST_NS:
            raise ApiError(
                400, "times are served from 1970 to 2262 (ns in 64 bits)", code="INVALID_RANGE"
            )
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        raise ApiError(400, "'from' must be before 'to'", code="INVALID_RANGE")
    return start_ns, end_ns


def served_granularity(granularity: str, configured: list[str]) -> str:
    """A granularity the pipeline builds; 400 otherwise, listing those it does."""
    try:
        parse_granularity(granularity)
    except ValueError as exc:
        raise ApiError(400, str(exc), code="INVALID_GRANULARITY") from exc
    if granularity not in configured:
        raise ApiError(
            400,
            f"no {granularity} bars are built",
            code="INVALID_GRANULARITY",
            details={"available": configured},
        )
    return granularity
