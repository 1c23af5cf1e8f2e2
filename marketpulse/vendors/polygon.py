"""Polygon (Massive) REST: aggregates, last quote (NBBO), last trade, tickers. Quirks handled
(docs/vendors.md):

* aggregate ``t`` is the bar start in ms; a day bar starts at the midnight of its market's day,
  which depends on the asset class (:func:`day_zone`: New York for stocks, options and indices,
  UTC for crypto and forex), and becomes our UTC-aligned ``1d`` bar of that date;
* index aggregates (``I:``) carry no ``v``, ``vw`` or ``n``: an index has no volume, so its bars
  have volume 0 and no VWAP;
* last trade and last quote stamp in ns (beyond 2**53: kept as integers, never floats);
* ``results`` is absent, not empty, when there is no data; ``next_url`` pages need the key again;
* error envelopes carry ``status`` ERROR / NOT_AUTHORIZED / NOT_FOUND with the text under
  ``error`` or ``message``; the HTTP status is checked first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from marketpulse.analytics.conditions import (
    EVERY_PART,
    HIGH_LOW,
    OPEN_CLOSE,
    VOLUME,
    ConditionTable,
)
from marketpulse.analytics.granularity import DAY_NS, parse_granularity
from marketpulse.policy import TokenBucket
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Quote, Trade
from marketpulse.schemas.news import NewsItem
from marketpulse.vendors.common import EASTERN, Rejected, day_start_ns
from marketpulse.vendors.http import Policy, VendorClient, VendorError
from marketpulse.vendors.news_feeds import parse_polygon_news

PROVIDER = "polygon"
SOURCE = "polygon"
TIMESPANS = {"minute": "m", "hour": "h", "day": "d"}
_ERROR_STATUSES = {"ERROR": "bad_request", "NOT_AUTHORIZED": "forbidden", "NOT_FOUND": "not_found"}


@dataclass(frozen=True)
class Ticker:
    """One reference ticker."""

    ticker: str
    name: str
    market: str
    primary_exchange: str | None
    type: str | None
    active: bool
    currency: str | None


def check_body(body: Any) -> None:
    """Raise for an error envelope that came with status 200."""
    if not isinstance(body, dict):
        raise VendorError(
            PROVIDER, "unexpected_payload", f"not an object: {str(body)[:200]}", False
        )
    status = str(body.get("status", "OK"))
    if status in _ERROR_STATUSES:
        text = str(body.get("error") or body.get("message") or status)
        raise VendorError(PROVIDER, _ERROR_STATUSES[status], text, False)


def granularity_of(multiplier: int, timespan: str) -> str:
    """Our granularity for an aggregate size (``1, "minute"`` -> ``1m``)."""
    if timespan not in TIMESPANS:
        raise ValueError(f"timespan must be one of {sorted(TIMESPANS)}")
    name = f"{multiplier}{TIMESPANS[timespan]}"
    parse_granularity(name)
    return name


def aggregate_size(granularity: str) -> tuple[int, str]:
    """The aggregate size of one of our granularities (``1m`` -> ``1, "minute"``)."""
    unit = {letter: timespan for timespan, letter in TIMESPANS.items()}.get(granularity[-1:])
    if unit is None or not granularity[:-1].isdigit():
        raise ValueError(f"{granularity!r} is not a Polygon aggregate size (e.g. 1m, 5m, 1h, 1d)")
    return int(granularity[:-1]), unit


# Each asset class's day, by ticker prefix: a daily aggregate's ``t`` is that day's midnight.
DAY_ZONES: dict[str, ZoneInfo] = {"X:": ZoneInfo("UTC"), "C:": ZoneInfo("UTC")}
INDEX_PREFIX = "I:"


def day_zone(symbol: str) -> ZoneInfo:
    """The zone whose midnight starts ``symbol``'s daily aggregates: UTC for crypto (``X:``)
    and forex (``C:``), which trade around the clock; New York for everything else (stocks,
    options ``O:``, indices ``I:``), whose day is the US trading date."""
    return DAY_ZONES.get(symbol[:2], EASTERN)


def agg_bar(row: dict[str, Any], symbol: str, granularity: str, start: int, length: int) -> Bar:
    """A Polygon aggregate (REST or WebSocket: the same ``o h l c v vw n`` keys) as a bar. An
    index's has no volume keys: its bar has volume 0, no VWAP and no trade count."""
    volume = row.get("v", 0.0) if symbol.startswith(INDEX_PREFIX) else row["v"]
    return Bar(
        symbol=symbol,
        granularity=granularity,
        start=start,
        end=start + length,
        open=float(row["o"]),
        high=float(row["h"]),
        low=float(row["l"]),
        close=float(row["c"]),
        volume=float(volume),
        vwap=float(row["vw"]) if row.get("vw") is not None else None,
        trades=int(row.get("n") or 0),
    )


def parse_aggs(
    body: dict[str, Any], symbol: str, granularity: str
) -> tuple[list[Bar], list[Rejected]]:
    """Aggregates as bars, oldest first, and the rows that could not be bars."""
    length = parse_granularity(granularity)
    zone = day_zone(symbol)
    bars, rejected = [], []
    for row in body.get("results") or []:
        try:
            if length >= DAY_NS:
                day = dt.datetime.fromtimestamp(row["t"] / 1000, zone).date()
                start = day_start_ns(day)
            else:
                start = int(row["t"]) * 1_000_000
            bars.append(agg_bar(row, symbol, granularity, start, length))
        except (KeyError, TypeError, ValueError) as exc:
            rejected.append(Rejected("malformed", f"aggregate: {exc}", str(row)[:500]))
    bars.sort(key=lambda b: b.start)
    return bars, rejected


def parse_last_quote(body: dict[str, Any]) -> Quote:
    """``/v2/last/nbbo``: bid ``p``/``s``, ask ``P``/``S``, ``t`` in ns."""
    r = body.get("results") or {}
    try:
        return Quote(
            symbol=r["T"],
            ts=int(r["t"]),
            bid=float(r["p"]),
            ask=float(r["P"]),
            bid_size=float(r.get("s", 0)),
            ask_size=float(r.get("S", 0)),
            source=SOURCE,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise VendorError(PROVIDER, "malformed", f"last quote: {exc}", False) from exc


def parse_last_trade(body: dict[str, Any]) -> Trade:
    """``/v2/last/trade``: price ``p``, size ``s``, conditions ``c``, ``t`` in ns."""
    r = body.get("results") or {}
    try:
        return Trade(
            symbol=r["T"],
            ts=int(r["t"]),
            price=float(r["p"]),
            size=float(r["s"]),
            conditions=list(r.get("c") or []),
            source=SOURCE,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise VendorError(PROVIDER, "malformed", f"last trade: {exc}", False) from exc


def parse_tickers(body: dict[str, Any]) -> list[Ticker]:
    """``/v3/reference/tickers`` results."""
    return [
        Ticker(
            ticker=r["ticker"],
            name=r.get("name", ""),
            market=r.get("market", ""),
            primary_exchange=r.get("primary_exchange"),
            type=r.get("type"),
            active=bool(r.get("active", True)),
            currency=r.get("currency_name"),
        )
        for r in body.get("results") or []
    ]


def parse_conditions(body: dict[str, Any]) -> dict[str, int]:
    """Trade conditions from ``/v3/reference/conditions`` (one page): each condition that
    applies to trades, with the parts of a consolidated bar it lets a trade update
    (``update_rules.consolidated``; a condition without rules, such as an indicator, has no
    say). Ids are reused across data types (12 is also a quote condition), so rows whose
    ``data_types`` leave out ``trade`` are not trade conditions."""
    rules: dict[str, int] = {}
    for row in body.get("results") or []:
        if "trade" not in row.get("data_types", ["trade"]):
            continue
        consolidated = (row.get("update_rules") or {}).get("consolidated")
        if consolidated is None:
            rules[str(row["id"])] = EVERY_PART
            continue
        mask = 0
        for key, bit in (("updates_open_close", OPEN_CLOSE), ("updates_high_low", HIGH_LOW),
                         ("updates_volume", VOLUME)):  # fmt: skip
            if consolidated.get(key, True):
                mask |= bit
        rules[str(row["id"])] = mask
    return rules


class Polygon(VendorClient):
    """The REST client; the default quota is the free tier's 5 requests a minute."""

    provider = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.polygon.io",
        per_minute: int = 5,
        policy: Policy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            api_key, base_url, {"minute": TokenBucket(per_minute, 60.0)}, policy, sleep
        )

    async def _get(self, path: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.http.get_json(
            path, {**params, "apiKey": self._key}, check=check_body
        )
        return body

    async def _pages(self, path: str, **params: str) -> AsyncIterator[dict[str, Any]]:
        """The first page, then each one its ``next_url`` names (that URL lacks the key)."""
        body = await self._get(path, **params)
        while True:
            yield body
            next_url = body.get("next_url")
            if not next_url:
                return
            body = await self._get(str(next_url))

    async def aggs(
        self, symbol: str, multiplier: int, timespan: str, start: dt.date, end: dt.date
    ) -> tuple[list[Bar], list[Rejected]]:
        """Bars from ``start`` to ``end`` (dates, inclusive), every page followed."""
        granularity = granularity_of(multiplier, timespan)
        path = f"/v2/aggs/ticker/{symbol}/range/{multiplier}/{timespan}/{start}/{end}"
        bars: list[Bar] = []
        rejected: list[Rejected] = []
        async for body in self._pages(path, adjusted="true", sort="asc", limit="50000"):
            page, bad = parse_aggs(body, symbol, granularity)
            bars += page
            rejected += bad
        return bars, rejected

    async def last_quote(self, symbol: str) -> Quote:
        """The national best bid and offer."""
        return parse_last_quote(await self._get(f"/v2/last/nbbo/{symbol}"))

    async def last_trade(self, symbol: str) -> Trade:
        """The last trade."""
        return parse_last_trade(await self._get(f"/v2/last/trade/{symbol}"))

    async def news(
        self,
        symbol: str,
        limit: int = 50,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> tuple[list[NewsItem], list[Rejected]]:
        """The articles about ``symbol``, one record per ticker each concerns. Published from
        ``start`` to ``end`` (dates, inclusive): every page, ``next_url`` followed as for
        aggregates. Without ``start``: the newest page only (a poller asks again soon; following
        the pages would read the symbol's whole history each time)."""
        params = {"ticker": symbol, "limit": str(limit), "order": "desc"}
        if start:
            params["published_utc.gte"] = start.isoformat()
        if end:
            params["published_utc.lte"] = (end + dt.timedelta(days=1)).isoformat()
        items: list[NewsItem] = []
        rejected: list[Rejected] = []
        async for body in self._pages("/v2/reference/news", **params):
            page, bad = parse_polygon_news(body)
            items += page
            rejected += bad
            if start is None:
                break
        return items, rejected

    async def conditions(self) -> ConditionTable:
        """The rules of the stock trade conditions, every page followed."""
        rules: dict[str, int] = {}
        async for body in self._pages(
            "/v3/reference/conditions", asset_class="stocks", data_type="trade", limit="1000"
        ):
            rules.update(parse_conditions(body))
        if not rules:
            raise VendorError(PROVIDER, "unexpected_payload", "no trade conditions", False)
        return ConditionTable(SOURCE, rules)

    async def tickers(self, search: str | None = None, limit: int = 100) -> list[Ticker]:
        """Reference tickers, optionally matching ``search``."""
        params = {"market": "stocks", "active": "true", "limit": str(limit)}
        if search:
            params["search"] = search
        return parse_tickers(await self._get("/v3/reference/tickers", **params))
