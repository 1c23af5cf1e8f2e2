"""``/signals/{symbol}``: what the signal detectors found, from PostgreSQL, newest first."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response

from marketpulse.api.deps import Caller, SignedIn
from marketpulse.api.envelope import respond
from marketpulse.api.params import From, SymbolPath, To, limit_param, served_granularity, time_range
from marketpulse.api.routers import NOT_FOUND, api_router
from marketpulse.schemas.api import Envelope
from marketpulse.schemas.signals import Signal
from marketpulse.storage.repositories.signals import SignalRepository

router = api_router("/signals", "signals")
Reader = Annotated[Caller, Depends(SignedIn("signals:read"))]


@router.get("/{symbol}", response_model=Envelope[list[Signal]], responses=NOT_FOUND)
async def signals(
    request: Request,
    symbol: SymbolPath,
    caller: Reader,
    granularity: Annotated[str | None, Query(max_length=8, examples=["1m"])] = None,
    kind: Literal["candlestick", "trend", "level", "chart"] | None = None,
    name: Annotated[
        str | None, Query(max_length=40, pattern=r"^[a-z0-9_]+$", examples=["cdlengulfing"])
    ] = None,
    direction: Literal["bullish", "bearish", "neutral"] | None = None,
    start: From = None,
    end: To = None,
    limit: Annotated[int, limit_param(1000)] = 100,
) -> Response:
    """Signals of a symbol filtered by granularity, kind, name, direction and bar time."""
    symbol = symbol.upper()
    if granularity is not None:
        served_granularity(granularity, caller.stores.settings.granularities)
    begin, finish = time_range(start, end)

    # Not cached: the signals sink writes after the cache sink has raised the symbol's
    # generation for the bar, so a cached answer could miss the newest signals.
    found = await SignalRepository(caller.stores.pool).query(
        symbol, granularity, begin, finish, kind, limit, name, direction
    )
    return respond(request, found)
