"""``/market-data``: the latest quote, daily and intraday bars, batches, symbol search and the
symbols the running sources publish."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.analytics.indicators import build
from marketpulse.analytics.indicators.on_demand import request_of
from marketpulse.analytics.indicators.registry import catalog_by_kind
from marketpulse.api.caching import cached
from marketpulse.api.deps import Caller, SignedIn, Stores, rate_group
from marketpulse.api.envelope import respond
from marketpulse.api.errors import ApiError
from marketpulse.api.params import (
    From,
    Granularity,
    SymbolPath,
    To,
    is_symbol,
    limit_param,
    served_granularity,
    time_range,
)
from marketpulse.api.routers import NOT_FOUND, api_router
from marketpulse.errors import StoreError
from marketpulse.schemas.api import (
    AvailableIndicator,
    BatchRequest,
    Catalog,
    Envelope,
    GranularityInfo,
    LiveSource,
    StreamedIndicator,
)
from marketpulse.storage import history
from marketpulse.storage.repositories.jobs import LIVE_WITHIN_S, STREAMING, JobRepository
from marketpulse.storage.repositories.symbols import SymbolInfo, SymbolRepository

router = api_router("/market-data", "market-data")
Reader = Annotated[Caller, Depends(SignedIn("market_data:read"))]
_DAY_NS = 86_400 * 10**9


async def _quote(stores: Stores, symbol: str) -> dict[str, Any] | None:
    try:
        latest = await stores.latest.get(symbol, "quote", "tick")
    except StoreError:
        latest = None  # Redis down: InfluxDB still has it
    if latest is not None:
        return latest
    return await history.last_quote(stores.influx, symbol)


async def _missing(stores: Stores, symbol: str, what: str) -> ApiError:
    """404: NO_DATA for a listed symbol, UNKNOWN_SYMBOL (with suggestions) otherwise."""
    symbols = SymbolRepository(stores.pool)
    if await symbols.get(symbol) is not None:
        return ApiError(404, f"no {what} for {symbol} yet", code="NO_DATA")
    suggestions = [s.symbol for s in await symbols.search(symbol, 3)]
    return ApiError(
        404,
        f"unknown symbol {symbol}",
        code="UNKNOWN_SYMBOL",
        details={"symbol": symbol, "suggestions": suggestions},
    )


@router.get("/search", response_model=Envelope[list[SymbolInfo]])
async def search(
    request: Request,
    caller: Reader,
    q: Annotated[str, Query(min_length=1, max_length=100, examples=["app"])],
    limit: Annotated[int, limit_param(100)] = 20,
) -> Response:
    """Symbols whose ticker, name, sector or exchange start with the words of ``q``."""
    return respond(request, await SymbolRepository(caller.stores.pool).search(q, limit))


@router.get("/catalog", response_model=Envelope[Catalog])
async def catalog(request: Request, caller: Reader) -> Response:
    """The granularities the pipeline builds and the indicators it streams (what a chart can
    ask for without computing)."""
    settings = caller.stores.settings
    granularities = [
        GranularityInfo(name=name, seconds=length // 10**9)
        for name, length in settings.granularity_lengths().items()
    ]
    indicators = [
        StreamedIndicator(spec=spec, name=name, params=params, outputs=list(build(spec).outputs))
        for spec in settings.indicators
        for name, params in [request_of(spec)]
    ]
    available = [
        AvailableIndicator(
            name=kind, spec=entry["spec"], function=entry["function"], group=entry["group"],
            overlay=entry["overlay"], outputs=list(entry["outputs"]),
        )
        for kind, entry in catalog_by_kind().items()
    ]  # fmt: skip
    catalog = Catalog(granularities=granularities, indicators=indicators, available=available)
    return respond(request, catalog)


@router.get("/live", response_model=Envelope[list[LiveSource]])
async def live(request: Request, caller: Reader) -> Response:
    """The streaming sources running now and the symbols each publishes, the newest first
    (a source counts as running while it reports in; one killed drops out within a minute)."""
    jobs = await JobRepository(caller.stores.pool).live_streams(LIVE_WITHIN_S)
    sources = [
        LiveSource(source=job.data_type.removeprefix(STREAMING), symbols=job.symbols,
                   since=job.started_at)
        for job in jobs
    ]  # fmt: skip
    return respond(request, sources)


@router.post(
    "/batch",
    response_model=Envelope[dict[str, dict[str, Any] | None]],
    openapi_extra=rate_group("batch"),
)
async def batch(request: Request, body: BatchRequest, caller: Reader) -> Response:
    """The latest quote, bar or indicators of many symbols (``null`` where there is none)."""
    symbols = list(dict.fromkeys(s.upper() for s in body.symbols))
    limit = caller.stores.settings.api_batch_max
    if len(symbols) > limit:
        raise ApiError(400, f"at most {limit} symbols per batch", code="BATCH_TOO_LARGE")
    for symbol in symbols:
        if not is_symbol(symbol):
            raise ApiError(400, "not a symbol", code="INVALID_SYMBOL", details={"symbol": symbol})
    if body.type == "quote":
        found = await asyncio.gather(*(_quote(caller.stores, s) for s in symbols))
    else:
        granularity = served_granularity(body.granularity, caller.stores.settings.granularities)
        found = await caller.stores.latest.get_many(symbols, body.type, granularity)
    return respond(request, dict(zip(symbols, found, strict=True)))


@router.get("/{symbol}/quote", response_model=Envelope[dict[str, Any]], responses=NOT_FOUND)
async def quote(request: Request, symbol: SymbolPath, caller: Reader) -> Response:
    """The latest quote: from Redis, or from InfluxDB when Redis has none."""
    symbol = symbol.upper()
    found = await _quote(caller.stores, symbol)
    if found is None:
        raise await _missing(caller.stores, symbol, "quote")
    return respond(request, found)


async def _bars(
    request: Request,
    stores: Stores,
    symbol: str,
    granularity: str,
    start: int | None,
    end: int | None,
    limit: int,
) -> Response:
    async def produce() -> list[dict[str, Any]]:
        rows = await history.bars(stores.influx, symbol, granularity, start, end, limit)
        if not rows and await SymbolRepository(stores.pool).get(symbol) is None:
            raise await _missing(stores, symbol, "bars")
        return rows

    params = {"g": granularity, "from": start, "to": end, "limit": limit}
    return await cached(request, stores, {"symbol": symbol, **params}, [symbol], produce)


@router.get("/{symbol}/daily", response_model=Envelope[list[dict[str, Any]]], responses=NOT_FOUND)
async def daily(
    request: Request,
    symbol: SymbolPath,
    caller: Reader,
    start: From = None,
    end: To = None,
    limit: Annotated[int, limit_param(5000)] = 365,
    granularity: Annotated[
        str, Query(pattern="^(1d|1w|1mo)$", description="1d, or weekly or monthly bars")
    ] = "1d",
) -> Response:
    """Daily (or weekly, monthly) bars in ``[from, to)``, oldest first (the newest ``limit``
    of them); on an exchange calendar, one a session, week or month of sessions."""
    served_granularity(granularity, caller.stores.settings.granularities)
    begin, finish = time_range(start, end)
    return await _bars(request, caller.stores, symbol.upper(), granularity, begin, finish, limit)


@router.get(
    "/{symbol}/intraday", response_model=Envelope[list[dict[str, Any]]], responses=NOT_FOUND
)
async def intraday(
    request: Request,
    symbol: SymbolPath,
    caller: Reader,
    granularity: Granularity = "1m",
    start: From = None,
    end: To = None,
    limit: Annotated[int, limit_param(5000)] = 500,
) -> Response:
    """Intraday bars (``granularity`` under a day) in ``[from, to)``, oldest first."""
    served_granularity(granularity, caller.stores.settings.granularities)
    if parse_granularity(granularity) >= _DAY_NS:
        raise ApiError(400, "use /daily for daily bars", code="INVALID_GRANULARITY")
    begin, finish = time_range(start, end)
    return await _bars(request, caller.stores, symbol.upper(), granularity, begin, finish, limit)
