"""How many points per second the indicator sink writes to InfluxDB (encode + HTTP + server).

    .venv/bin/python bench/influx_write.py [--points N] [--batch SNAPSHOTS]

Feeds indicator snapshots (20 values each, 100 symbols) through ``IndicatorSink.write``, the
exact call the sink runner makes per batch, into a scratch database on the configured
InfluxDB; counts the points back and drops the database. The ``market_indicators`` measurement has
one point per value, so this is the busiest measurement. Target (issue 5): 200,000 points/s.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time

import httpx
from results import emit

from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.settings import Settings
from marketpulse.sinks.influx_sink import IndicatorSink
from marketpulse.storage import measurements
from marketpulse.storage.influx import InfluxClient

MINUTE = 60_000_000_000
NAMES = [f"ind_{k}" for k in range(20)]
SYMBOLS = 100


def snapshots(points: int) -> list[IndicatorSnapshot]:
    """Snapshots for ``points`` values: 100 symbols a minute, counting back from now."""
    count = points // len(NAMES)
    start = time.time_ns() // MINUTE * MINUTE - (count // SYMBOLS + 1) * MINUTE
    out = []
    for n in range(count):
        symbol, bar_start = f"SYM{n % SYMBOLS}", start + (n // SYMBOLS) * MINUTE
        bar = Bar(symbol=symbol, granularity="1m", start=bar_start, end=bar_start + MINUTE,
                  open=1, high=2, low=0.5, close=1.5, volume=n)  # fmt: skip
        values = {name: n + k / 7 for k, name in enumerate(NAMES)}
        out.append(
            IndicatorSnapshot(
                symbol=symbol,
                granularity="1m",
                bar_start=bar_start,
                values=values,
                ready={},
                bar=bar,
            )
        )
    return out


async def run(points: int, batch: int) -> None:
    settings = Settings().model_copy(
        update={"influx_database": "bench_write", "sink_batch_size": batch}
    )
    data = snapshots(points)
    total = len(data) * len(NAMES)
    started = time.perf_counter()
    encoded = sum(1 for s in data for _ in measurements.indicator_lines(s))
    encode_s = time.perf_counter() - started
    sink = IndicatorSink(settings)
    await sink.start()
    try:
        async with InfluxClient(settings) as client:
            await client.query('DROP DATABASE "bench_write"')
        started = time.perf_counter()
        written = 0
        for i in range(0, len(data), batch):
            written += await sink.write(data[i : i + batch])
        write_s = time.perf_counter() - started
    finally:
        await sink.close()
    async with InfluxClient(settings) as client:
        rows = await client.rows('SELECT count("value") FROM "indicators_5y"."market_indicators"')
        await client.query('DROP DATABASE "bench_write"')
    stored = rows[0]["count"]
    assert encoded == written == stored == total, (encoded, written, stored, total)
    raw_s = await raw_write(settings, data, batch)
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(f"points: {total:,} ({len(data):,} snapshots, {batch} per write)")
    print(f"encode only:            {total / encode_s:>10,.0f} points/s")
    print(f"sink write (end to end): {total / write_s:>9,.0f} points/s, all counted back")
    print(f"raw HTTP write, same lines: {total / raw_s:>6,.0f} points/s")
    emit(RAW, total / raw_s, "points/s")
    emit("InfluxDB sink write", total / write_s, "points/s", 200_000, baseline=RAW)


RAW = "raw HTTP /write of the same lines (one request per batch)"


async def raw_write(settings: Settings, data: list[IndicatorSnapshot], batch: int) -> float:
    """The baseline: the same lines, encoded beforehand, POSTed with a bare HTTP client."""
    bodies = [
        "\n".join(line for s in data[i : i + batch] for line in measurements.indicator_lines(s))
        for i in range(0, len(data), batch)
    ]
    async with InfluxClient(settings) as client:
        await client.ensure_database()
    url = f"{settings.influx_url}/write"
    params = {"db": "bench_write", "rp": "indicators_5y", "precision": "ns"}
    async with httpx.AsyncClient(timeout=120) as http:
        started = time.perf_counter()
        for body in bodies:
            (await http.post(url, params=params, content=body)).raise_for_status()
        elapsed = time.perf_counter() - started
    async with InfluxClient(settings) as client:
        await client.query('DROP DATABASE "bench_write"')
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000, help="snapshots per write")
    args = parser.parse_args()
    asyncio.run(run(args.points, args.batch))


if __name__ == "__main__":
    main()
