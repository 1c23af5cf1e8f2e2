"""``/indicators/{symbol}/{name}``: every indicator of the engine, with parameters.

Values the stream keeps (``MARKETPULSE_INDICATORS``) are read from InfluxDB. Other parameters
are computed on demand, by the same engine, over the stored bars up to ``to`` (at most
``api_compute_max_bars`` of them, so averages with long memory start from the same history the
stream had when the store holds it all); that needs the analyst role.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response

from marketpulse.analytics.indicators.catalog import UnknownIndicator
from marketpulse.analytics.indicators.on_demand import ALIASES, compute, spec_of
from marketpulse.analytics.indicators.registry import KINDS, IndicatorSet, build
from marketpulse.analytics.warmup import lookback
from marketpulse.api.caching import cached
from marketpulse.api.deps import Caller, SignedIn, permit, rate_group
from marketpulse.api.errors import ApiError
from marketpulse.api.params import (
    From,
    Granularity,
    SymbolPath,
    To,
    limit_param,
    served_granularity,
    time_range,
)
from marketpulse.api.routers import NOT_FOUND, api_router
from marketpulse.schemas.api import Envelope
from marketpulse.storage import history

router = api_router("/indicators", "indicators")
NAMES = (
    "a TA-Lib function in lower case ("
    + ", ".join(sorted(KINDS))
    + "), the engine's own di and vwap (with a period: rolling; vwap_session: `params=session`),"
    " or an alias ("
    + ", ".join(f"{alias}: {kind}" for alias, kind in sorted(ALIASES.items()))
    + "); `marketpulse indicators --catalog` gives each with TA-Lib's names"
)
Reader = Annotated[Caller, Depends(SignedIn("indicators:read"))]


@cache
def _streamed(specs: tuple[str, ...]) -> frozenset[str]:
    return frozenset(IndicatorSet(specs).outputs())


@router.get(
    "/{symbol}/{name}",
    response_model=Envelope[dict[str, Any]],
    openapi_extra=rate_group("indicators"),
    responses=NOT_FOUND,
)
async def indicator(
    request: Request,
    symbol: SymbolPath,
    name: Annotated[
        str,
        Path(
            pattern=r"^[A-Za-z][A-Za-z0-9_]{0,30}$",
            description=NAMES,
            examples=["rsi"],
        ),
    ],
    caller: Reader,
    params: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^-?[0-9.]+(,-?[0-9.]+)*$|^session$",
            description="the parameters in the kind's order, comma-separated: 20 (sma), "
            "12,26,9 (macd), 20,2 (bb); those left out take TA-Lib's defaults",
            examples=["14"],
        ),
    ] = None,
    granularity: Granularity = "1d",
    start: From = None,
    end: To = None,
    limit: Annotated[int, limit_param(5000)] = 500,
) -> Response:
    """An indicator's values per bar, oldest first: stored, or computed for other parameters;
    with its readiness (whether the newest bar has every output, and the bars it needs)."""
    stores = caller.stores
    symbol = symbol.upper()
    served_granularity(granularity, stores.settings.granularities)
    begin, finish = time_range(start, end)
    try:
        spec = spec_of(name, params)
        outputs = build(spec).outputs
    except UnknownIndicator as exc:
        raise ApiError(400, str(exc), code="INVALID_INDICATOR") from exc
    stored = set(outputs) <= _streamed(tuple(stores.settings.indicators))
    also = None if stored else "indicators:compute"
    if also is not None:
        why = f"{spec} is not streamed, so it is computed: "
        permit(caller.claims, also, why, streamed=sorted(stores.settings.indicators))

    async def produce() -> dict[str, Any]:
        if stored:
            rows = await history.indicator_values(
                stores.influx, symbol, granularity, outputs, begin, finish, limit
            )
        else:
            bars = await history.bars(
                stores.influx,
                symbol,
                granularity,
                None,
                finish,
                stores.settings.api_compute_max_bars,
            )
            computed = await asyncio.to_thread(compute, spec, bars)
            rows = [r for r in computed if begin is None or r["ts"] >= begin][-limit:]
        newest = rows[-1] if rows else {}
        return {
            "symbol": symbol,
            "granularity": granularity,
            "indicator": spec,
            "outputs": list(outputs),
            "source": "stored" if stored else "computed",
            "readiness": {
                # warm: the newest bar has every output; a series needs `lookback` bars first
                "ready": bool(rows) and all(newest.get(o) is not None for o in outputs),
                "lookback": lookback((spec,)),
            },
            "values": rows,
        }

    key = {
        "symbol": symbol,
        "spec": spec,
        "g": granularity,
        "from": begin,
        "to": finish,
        "limit": limit,
    }
    return await cached(request, stores, key, [symbol], produce, also)
