"""API latency and throughput under about 50 concurrent clients (issue 7's benchmark).

    .venv/bin/python bench/api_load.py [--workers 2] [--connections 50] [--seconds 10] [--rounds 3]

Starts ``marketpulse api`` (uvicorn, ``--workers`` processes) on the local stores, seeds a
symbol (a quote in Redis; 500 daily bars and their streamed indicators in a scratch InfluxDB
database), signs in, and drives each endpoint with wrk (Debian's, installed when missing) for
``--seconds``, the endpoints in turn for ``--rounds``; the figures are each one's median run
(runs on this VM differ by up to half), after a discarded warm-up run of each; with each run,
the API workers' CPU time per request (from /proc), the figure that shows a change in the work
a request costs through that noise. Every request is
authenticated and counted by the rate limiter, as in production; the limits are raised so that
the benchmark measures the work, not the 429s.
Targets: p99 <= 25 ms when cached, >= 2,000 req/s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from interpreter import python
from proc import children, cpu_seconds
from results import emit

from marketpulse.analytics.indicators.base import Candle
from marketpulse.analytics.indicators.registry import IndicatorSet
from marketpulse.api.security import hash_password
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Quote
from marketpulse.services.apt import ensure_installed
from marketpulse.settings import Settings
from marketpulse.sinks.influx_sink import BarSink, IndicatorSink
from marketpulse.storage import cache
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.postgres import create_pool
from marketpulse.storage.repositories.users import UserRepository
from marketpulse.storage.setup import prepare_stores

HERE = Path(__file__).resolve().parent
DAY = 86_400 * 10**9
SYMBOL = "BENCH"
PASSWORD = "benchmark password"
ENV = {
    "MARKETPULSE_INFLUX_DATABASE": "bench_api",
    "MARKETPULSE_JWT_SECRET": "benchmark-secret-of-at-least-32-bytes",
    "MARKETPULSE_API_RATE_IP": "100000000",
    "MARKETPULSE_API_RATE_USER": "100000000",
    "MARKETPULSE_API_RATE_ENDPOINTS": '{"auth": 1000, "indicators": 100000000, "batch": 100000000}',
}
ENDPOINTS = {
    "quote (Redis)": f"/api/v1/market-data/{SYMBOL}/quote",
    "indicator rsi (cached)": f"/api/v1/indicators/{SYMBOL}/rsi?granularity=1d&limit=100",
    "daily bars (cached)": f"/api/v1/market-data/{SYMBOL}/daily?limit=100",
}


async def seed(settings: Settings) -> None:
    """The benchmark's symbol, data and user."""
    await prepare_stores(settings)
    start = (time.time_ns() // DAY - 500) * DAY
    bars, snapshots, indicators = [], [], IndicatorSet(settings.indicators)
    for i in range(500):
        close = 100 + (i % 37) - (i % 11)
        bar = Bar(symbol=SYMBOL, granularity="1d", start=start + i * DAY,
                  end=start + (i + 1) * DAY, open=close - 1, high=close + 2, low=close - 2,
                  close=close, volume=1000 + i)  # fmt: skip
        values = indicators.update(
            Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)
        )
        bars.append(bar)
        snapshots.append(IndicatorSnapshot(symbol=SYMBOL, granularity="1d", bar_start=bar.start,
                                           values=values, ready={}, bar=bar))  # fmt: skip
    for sink, items in ((BarSink(settings), bars), (IndicatorSink(settings), snapshots)):
        await sink.start()
        await sink.write(items)  # type: ignore[arg-type]
        await sink.close()
    client = cache.connect(settings.redis_url)
    quote = Quote(symbol=SYMBOL, ts=time.time_ns(), bid=100.0, ask=100.1, bid_size=5, ask_size=7)
    await cache.LatestCache(client).put([quote])
    await client.aclose()
    pool = await create_pool(settings, max_size=1)
    users = UserRepository(pool)
    if await users.by_username("bench") is None:
        await users.create("bench", "bench@example.com", hash_password(PASSWORD, 4), ["analyst"])
    await pool.close()


async def drop(settings: Settings) -> None:
    async with InfluxClient(settings) as influx:
        await influx.query(f'DROP DATABASE "{settings.influx_database}"')


def wrk(url: str, token: str, connections: int, seconds: int) -> dict[str, float]:
    """One wrk run; its summary line."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "wrk_report.lua"),
         "-H", f"Authorization: Bearer {token}", url],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    summary: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return summary


def _row(name: str, result: dict[str, float]) -> None:
    figures = [f"{result[k]:8.2f}" for k in ("p50_ms", "p95_ms", "p99_ms")]
    print(f"{name:26} {result['rate']:8.0f} {' '.join(figures)} {result['cpu_us']:8.0f} "
          f"{int(result['errors']):7d}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each endpoint; the median")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    ensure_installed("api benchmark", "wrk", "wrk", "PATH")  # Debian's wrk, when missing
    os.environ.update(ENV)
    settings = Settings()
    env = {**os.environ, "MARKETPULSE_API_PORT": str(args.port),
           "MARKETPULSE_API_WORKERS": str(args.workers)}  # fmt: skip
    asyncio.run(seed(settings))
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        python("-m", "marketpulse.cli", "api"), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    sys.exit("the API did not start")
                time.sleep(0.2)
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}
        )
        token = login.json()["data"]["access_token"]
        print(
            f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"API workers {args.workers}; wrk -t2 -c{args.connections} -d{args.seconds}s "
            f"on the same machine; {args.rounds} rounds over the endpoints in turn"
        )
        header = (
            f"{'endpoint':26} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'CPU µs':>8} {'errors':>7}"
        )
        print(header)
        for path in ENDPOINTS.values():  # a new server's first seconds are slower
            wrk(base + path, token, args.connections, 3)
        workers = children(server.pid)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in ENDPOINTS}
        for _ in range(args.rounds):
            for name, path in ENDPOINTS.items():
                cpu = sum(map(cpu_seconds, workers))
                result = wrk(base + path, token, args.connections, args.seconds)
                result["cpu_us"] = (sum(map(cpu_seconds, workers)) - cpu) / result["requests"] * 1e6
                result["rate"] = result["requests"] / result["seconds"]
                runs[name].append(result)
                _row(name, result)
        print(f"median of {args.rounds} rounds")
        for name, results in runs.items():
            median = {key: statistics.median(r[key] for r in results) for key in results[0]}
            _row(name, median)
            emit(f"API {name}, {args.workers} workers, wrk -c{args.connections}", median["rate"],
                 "req/s", 2_000)  # fmt: skip
            cached = 25 if "cached" in name else None  # the target is for cached answers
            emit(f"API {name} p99", median["p99_ms"], "ms", cached, lower_is_better=True)
            emit(f"API {name}, workers' CPU per request", median["cpu_us"], "µs",
                 lower_is_better=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)
        asyncio.run(drop(settings))


if __name__ == "__main__":
    main()
