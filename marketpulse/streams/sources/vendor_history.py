"""A live vendor source's history, before it streams: each of its symbols' bars of every
configured granularity that InfluxDB does not hold enough of are fetched from the vendor (the
backfill's client and parser) and stored, so that a worker warms the series from InfluxDB on
their first live message (:mod:`marketpulse.streams.warmup`). Request history, then subscribe:
the history is in place before the first live trade is published.

The history is not published on the bars topics: it is not live data, and subscribers that
want it have ``marketpulse ingest``. A bar of the vendor's that has not closed yet (today's
partial daily bar) is not stored; a stored bar of the live period is replaced by the live one
anyway (the worker warms only from bars before it, and the sink rewrites its point).

Every run is a job (``warmup:<vendor>``): a symbol the vendor fails for (after its retries,
within its quota) is recorded with the reason, and its series start cold.
"""

from __future__ import annotations

import datetime as dt
import logging

from marketpulse.analytics.granularity import activity_of, calendar_period, parse_granularity
from marketpulse.analytics.warmup import history_days, warmup_bars
from marketpulse.settings import Settings
from marketpulse.storage import history, measurements
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.repositories.jobs import Job
from marketpulse.streams.sources.job_runs import job_run
from marketpulse.vendors.http import VendorError
from marketpulse.vendors.polygon import Polygon, aggregate_size

log = logging.getLogger(__name__)


def fetched_granularities(settings: Settings) -> list[str]:
    """The configured granularities the vendor has aggregates of (clock sizes; not the
    calendar's weeks and months, nor activity bars)."""
    return [
        g for g in settings.granularities if activity_of(g) is None and calendar_period(g) is None
    ]


async def store_history(
    settings: Settings, client: Polygon, symbols: list[str], now_ns: int
) -> Job:
    """Store what InfluxDB lacks of each symbol's last bars before ``now_ns``; return the job."""
    count = warmup_bars(settings.indicators, settings.warmup_unstable_bars)
    async with (
        job_run(settings, symbols, f"warmup:{client.provider}") as run,
        InfluxClient(settings) as influx,
    ):
        await influx.ensure_database()  # the source may start before the sinks have made it
        for symbol in symbols:
            for granularity in fetched_granularities(settings):
                held = await history.bars(influx, symbol, granularity, None, now_ns, count)
                if len(held) >= count:
                    continue
                length = parse_granularity(granularity)
                end = dt.datetime.fromtimestamp(now_ns / 1e9, dt.UTC).date()
                start = end - dt.timedelta(days=history_days(count, length))
                multiplier, timespan = aggregate_size(granularity)
                try:
                    bars, rejected = await client.aggs(symbol, multiplier, timespan, start, end)
                except VendorError as exc:
                    log.warning("history of %s %s: %s; it starts cold", symbol, granularity, exc)
                    run.tally.fail(symbol, f"{granularity}: {exc.reason}: {exc.detail}")
                    continue
                closed = [bar for bar in bars if bar.end <= now_ns][-count:]
                points = [measurements.bar_point(bar) for bar in closed]
                await influx.write(points, measurements.bar_retention(granularity))
                run.tally.add(symbol, records=len(closed), errors=len(rejected))
    return run.job
