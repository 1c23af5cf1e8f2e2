"""How long a worker takes to warm 1,000 series from the bars stored in InfluxDB.

    .venv/bin/python bench/warmup.py [--symbols N]

Stores, in a scratch database, each symbol's bars of every default granularity (as many as the
default indicators need, and a few more), then warms every series as the worker does on a
symbol's first message (``marketpulse.streams.warmup.stored_history``: one query per series,
one client for them all, in turn), and drops the database. The baseline, in the same run, is the
same queries alone, without building the series. Target (issue 30): 1,000 series in 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from results import emit

from marketpulse.analytics.warmup import warmup_bars
from marketpulse.schemas.bars import Bar
from marketpulse.settings import Settings
from marketpulse.storage import history, measurements
from marketpulse.storage.influx import InfluxClient
from marketpulse.streams.warmup import stored_history

DATABASE = "bench_warmup"
BASELINE = "the same queries alone (no series built)"


def stored(settings: Settings, symbols: list[str], count: int, before: int) -> list[Bar]:
    """``count`` bars of each symbol on every granularity, the last one closing where the bar
    open at ``before`` begins."""
    out = []
    for granularity, length in settings.granularity_lengths().items():
        first = before - before % length - count * length
        for n, symbol in enumerate(symbols):
            for i in range(count):
                price = 100.0 + n % 50 + (i % 17) * 0.25
                out.append(Bar(symbol=symbol, granularity=granularity,
                               start=first + i * length, end=first + (i + 1) * length,
                               open=price, high=price + 1, low=price - 1, close=price + 0.5,
                               volume=100.0 + i))  # fmt: skip
    return out


async def store_afresh(settings: Settings, bars: list[Bar]) -> None:
    """``bars`` in ``settings``' InfluxDB database, made anew (a scratch database)."""
    async with InfluxClient(settings) as influx:
        await influx.query(f'DROP DATABASE "{settings.influx_database}"')
        await influx.ensure_database()
        for granularity in settings.granularities:
            points = [measurements.bar_point(b) for b in bars if b.granularity == granularity]
            await influx.write(points, measurements.bar_retention(granularity))


async def run(symbols: int) -> None:
    settings = Settings().model_copy(update={"influx_database": DATABASE})
    config = settings.step_config()
    count = warmup_bars(config.indicators, settings.warmup_unstable_bars)
    now = time.time_ns()
    names = [f"W{n:04d}" for n in range(symbols)]
    await store_afresh(settings, stored(settings, names, count + 5, now))
    series = symbols * len(settings.granularities)
    try:
        started = time.perf_counter()
        warmed = 0
        async with InfluxClient(settings) as influx:  # one for every symbol, as the worker's
            for s in range(symbols):
                for granularity in settings.granularities:
                    state = await stored_history(
                        influx, f"W{s:04d}", granularity, now, count, config
                    )
                    warmed += state is not None and state.indicators.bars == count
        warm_s = time.perf_counter() - started
        started = time.perf_counter()
        async with InfluxClient(settings) as influx:
            for s in range(symbols):
                for granularity in settings.granularities:
                    await history.bars(influx, f"W{s:04d}", granularity, None, now, count)
        query_s = time.perf_counter() - started
    finally:
        async with InfluxClient(settings) as influx:
            await influx.query(f'DROP DATABASE "{DATABASE}"')
    assert warmed == series, (warmed, series)
    print(f"series: {series:,} ({symbols} symbols x {len(settings.granularities)} granularities)")
    print(f"bars per series: {count} (the default indicators' lookback)")
    print(f"warm-up: {warm_s:.1f} s, {warm_s / series * 1000:.1f} ms a series")
    print(f"queries alone: {query_s:.1f} s")
    per_thousand = 1000 / series
    emit(BASELINE, query_s * per_thousand, "s per 1,000 series", lower_is_better=True)
    emit(
        "warm-up of series from InfluxDB",
        warm_s * per_thousand,
        "s per 1,000 series",
        30,
        lower_is_better=True,
        baseline=BASELINE,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=250, help="each on every granularity")
    args = parser.parse_args()
    asyncio.run(run(args.symbols))


if __name__ == "__main__":
    main()
