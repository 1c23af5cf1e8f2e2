"""Vendor data onto the pipeline: backfills (bars or news over a date range) and live runs (the
Polygon WebSocket, news polling). Every run is a job; a bad vendor row is dead-lettered and the
run goes on; a symbol the vendor refuses outright fails the job but not the other symbols."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from marketpulse.analytics.conditions import ConditionTable
from marketpulse.analytics.granularity import DAY_NS
from marketpulse.conditions import ConditionRules, shipped
from marketpulse.errors import StoreError
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.news import NewsItem
from marketpulse.settings import Settings
from marketpulse.storage.postgres import POSTGRES_ERRORS, create_pool
from marketpulse.storage.repositories.condition_tables import ConditionTables
from marketpulse.storage.repositories.jobs import Job
from marketpulse.streams.sources.job_runs import job_run
from marketpulse.streams.sources.publisher import Publisher
from marketpulse.streams.sources.vendor_history import store_history
from marketpulse.vendors.alphavantage import INTERVALS, AlphaVantage
from marketpulse.vendors.common import Rejected, day_start_ns
from marketpulse.vendors.factory import ProviderError, make_client
from marketpulse.vendors.http import VendorClient, VendorError
from marketpulse.vendors.news_feeds import NewsApi
from marketpulse.vendors.polygon import Polygon, aggregate_size
from marketpulse.vendors.polygon_ws import PolygonStream

log = logging.getLogger(__name__)

# Alpha Vantage's compact output is the latest 100 points; older starts need the full series.
_COMPACT_DAYS = 100


@dataclass(frozen=True)
class Backfill:
    """What ``marketpulse ingest`` asks for."""

    provider: str
    symbols: list[str]
    start: dt.date
    end: dt.date
    data: str = "bars"  # or "news"
    granularity: str = "1d"
    adjusted: bool = False

    @property
    def data_type(self) -> str:
        """The job's ``data_type``: ``bars:1d``, ``news``."""
        return f"bars:{self.granularity}" if self.data == "bars" else "news"

    def covers(self, ns: int) -> bool:
        """Whether a bar start or publication time falls in the requested dates."""
        return day_start_ns(self.start) <= ns < day_start_ns(self.end) + DAY_NS


async def _headlines(
    client: VendorClient, symbol: str, start: dt.date | None = None, end: dt.date | None = None
) -> tuple[list[NewsItem], list[Rejected]]:
    if isinstance(client, NewsApi):
        return await client.headlines(symbol, start=start, end=end)
    if isinstance(client, Polygon):
        return await client.news(symbol, limit=1000, start=start, end=end)
    raise ProviderError(f"{client.provider} has no news; use newsapi or polygon")


async def _fetch(
    client: VendorClient, request: Backfill, symbol: str
) -> tuple[Sequence[Bar | NewsItem], list[Rejected]]:
    start, end = request.start, request.end
    if request.data == "news":
        return await _headlines(client, symbol, start, end)
    if isinstance(client, Polygon):
        multiplier, timespan = aggregate_size(request.granularity)
        return await client.aggs(symbol, multiplier, timespan, start, end)
    elif isinstance(client, AlphaVantage):
        full = (dt.datetime.now(dt.UTC).date() - start).days > _COMPACT_DAYS
        if request.granularity == "1d":
            return await client.daily(symbol, adjusted=request.adjusted, full=full)
        interval = {ours: theirs for theirs, ours in INTERVALS.items()}[request.granularity]
        return await client.intraday(symbol, interval, full=True)
    raise ProviderError(f"{client.provider} has no {request.data} backfill")


async def _dead_letter(out: Publisher, exc: VendorError, symbol: str) -> int:
    """Dead-letter the body of a payload fault (counted there); return how many were."""
    if exc.payload is None:
        return 0
    await out.reject([Rejected(exc.reason, exc.detail, exc.payload)], symbol)
    return 1


def check(request: Backfill) -> None:
    """Refuse a request no provider could serve, before any job is recorded."""
    if request.end < request.start:
        raise ProviderError(f"--to {request.end} is before --from {request.start}")
    if request.data == "news" and request.provider == "alphavantage":
        raise ProviderError("alphavantage has no news; use newsapi or polygon")
    if request.data == "bars" and request.provider == "newsapi":
        raise ProviderError("newsapi has only news; use --data news")
    if request.data == "bars" and request.provider == "alphavantage":
        if request.granularity != "1d" and request.granularity not in INTERVALS.values():
            known = ", ".join(["1d", *INTERVALS.values()])
            raise ProviderError(f"alphavantage bars come in {known}")
    if request.data == "bars" and request.provider == "polygon":
        try:
            aggregate_size(request.granularity)
        except ValueError as exc:
            raise ProviderError(str(exc)) from exc


async def backfill(settings: Settings, request: Backfill, progress: bool = True) -> Job:
    """Fetch every symbol's data over the dates and publish it; return the finished job."""
    check(request)
    client = make_client(request.provider, settings)
    try:
        async with (
            job_run(settings, request.symbols, request.data_type) as run,
            Publisher(settings, request.provider, run.tally) as out,
        ):
            symbols = tqdm(
                request.symbols,
                desc=f"{request.provider} {request.data_type}",
                unit="symbol",
                file=sys.stderr,
                disable=None if progress else True,  # None: a bar on a terminal only
            )
            for symbol in symbols:
                try:
                    records, rejected = await _fetch(client, request, symbol)
                except VendorError as exc:
                    errors = await _dead_letter(out, exc, symbol)
                    run.tally.fail(symbol, f"{exc.reason}: {exc.detail}", errors=1 - errors)
                    continue
                await out.reject(rejected, symbol)
                await out.bars(r for r in records if isinstance(r, Bar) and request.covers(r.start))
                await out.news(
                    r for r in records if isinstance(r, NewsItem) and request.covers(r.published_ts)
                )
                symbols.set_postfix(records=run.tally.records, errors=run.tally.errors)
    finally:
        await client.close()
    return run.job


async def stream_polygon(
    settings: Settings, symbols: list[str], channels: Sequence[str], frame_size: int = 100
) -> None:
    """Publish Polygon's live trades (marked by its condition rules, refreshed daily) and
    quotes as frames and its aggregates as bars, until cancelled; reconnects are the stream's
    business."""
    key = settings.polygon_api_key
    if key is None:
        raise ProviderError("set MARKETPULSE_POLYGON_API_KEY to use polygon")
    subscriptions = [f"{channel}.{symbol}" for channel in channels for symbol in symbols]
    stream = PolygonStream(
        key.get_secret_value(),
        subscriptions,
        settings.polygon_ws_url,
        max_refusals=settings.polygon_ws_max_refusals,
    )
    client = Polygon(key.get_secret_value(), settings.polygon_url, settings.polygon_per_minute)
    if "polygon" in settings.warmup_from:
        try:
            await store_history(settings, client, symbols, time.time_ns())
        except (StoreError, *POSTGRES_ERRORS) as exc:  # the live stream does not wait on it
            log.warning("history for warm-up not stored, series start cold: %s", exc)
    pool = await create_pool(settings, max_size=1)
    rules = ConditionRules("polygon", ConditionTables(pool), client.conditions, shipped("polygon"))
    try:
        async with (
            job_run(settings, symbols, "stream:polygon") as run,
            Publisher(settings, "polygon", run.tally, await rules.refresh()) as out,
        ):

            def use(table: ConditionTable | None) -> None:
                out.conditions = table

            refreshing = asyncio.create_task(
                rules.refresh_every(settings.conditions_refresh_s, use)
            )
            try:
                async for batch in stream.batches():
                    await out.frames(batch.events, time.time_ns(), frame_size)
                    await out.bars(batch.bars)
                    await out.reject(batch.rejected, None)
            finally:
                refreshing.cancel()
    finally:
        await client.close()
        await pool.close()


async def poll_news(
    settings: Settings, provider: str, symbols: list[str], interval_s: float
) -> None:
    """Publish each symbol's new headlines every ``interval_s`` seconds until cancelled. A
    vendor failure is counted and the next round tries again."""
    client = make_client(provider, settings)
    seen: OrderedDict[str, None] = OrderedDict()
    try:
        async with (
            job_run(settings, symbols, "stream:news") as run,
            Publisher(settings, provider, run.tally) as out,
        ):
            while True:
                for symbol in symbols:
                    try:
                        items, rejected = await _headlines(client, symbol)
                    except VendorError as exc:
                        log.warning("news for %s: %s", symbol, exc)
                        run.tally.add(symbol, errors=1 - await _dead_letter(out, exc, symbol))
                        continue
                    await out.reject(rejected, symbol)
                    fresh = [i for i in items if i.key() not in seen]
                    seen.update(dict.fromkeys(i.key() for i in fresh))
                    while len(seen) > 100_000:
                        seen.popitem(last=False)
                    await out.news(fresh)
                await out.drain()
                await asyncio.sleep(interval_s)  # the polling period, not synchronisation
    finally:
        await client.close()
