"""A fresh worker taking over many symbols' state from the changelogs: how long until it
consumes again, and until every symbol has taken a step on what it recovered.

    .venv/bin/python bench/recovery.py [--symbols 10000] [--frame-size 20]

1. a scratch InfluxDB database holds each symbol's lookback of bars on the default
   granularities (and indicators), so the first worker warms every series as a live start does;
2. that worker takes one frame per symbol (its series warmed, then stepped), and is stopped as
   a deployment stops it (SIGTERM: its last states are written to the changelogs and its offsets
   committed);
3. one more frame per symbol is produced, and a fresh worker with the same id (the same group
   and changelogs, an empty in-memory store) is started. Timed from its start: when it takes
   its first event (its tables read back from the changelogs: it has resumed), and when it has
   taken every symbol's frame and handed what they gave to its producer (each symbol's states
   are decoded on its first step, so this includes decoding all of them).

Beside it, the same fresh start on topics of its own with no state (one symbol, one frame): the
worker's start alone (the interpreter, Faust, joining the group), which any recovery includes.
Needs the local services, and memory: 10,000 symbols are about 3 GB in each worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from forming_worker import history
from pipeline import S, bench_settings, frames, metric, produce, start_worker, worker_env
from results import emit
from topics import own_topics
from warmup import store_afresh

from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from marketpulse.storage.influx import InfluxClient
from marketpulse.streams.sources.synthetic import SyntheticMarket

DATABASE = "bench_recovery"
PORT = 9399
TARGET_S = 10.0


def _env(settings: Settings) -> dict[str, str]:
    return {
        **worker_env(settings, PORT),
        "MARKETPULSE_GRANULARITIES": json.dumps(Settings().granularities),
        "MARKETPULSE_INFLUX_DATABASE": DATABASE,
    }


async def _until_taken(events: int, give_up_s: float) -> float:
    """Poll the worker's intake until it has taken ``events``; the moment it did."""
    deadline = time.monotonic() + give_up_s
    while True:
        try:
            if metric(PORT, "marketpulse_events_in_total") >= events:
                return time.perf_counter()
        except OSError:  # its metrics server not up yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not take {events:,} events in {give_up_s:.0f} s")
        await asyncio.sleep(0.05)


async def fresh_start(settings: Settings, events: int) -> tuple[float, float]:
    """Start a worker and time it: seconds to its first event, and to ``events`` taken (a frame
    is counted once its step is done and what it gave handed to the producer)."""
    log = Path(tempfile.gettempdir()) / f"{settings.topic_prefix}recovery.log"
    started = time.perf_counter()
    worker = start_worker(_env(settings), log)
    try:
        first = await _until_taken(1, 600)
        done = await _until_taken(events, 1800)
    finally:
        worker.terminate()
        worker.wait(120)
    return first - started, done - started


async def run(args: argparse.Namespace) -> None:
    base = Settings()
    store = base.model_copy(update={"influx_database": DATABASE})
    market = SyntheticMarket([f"RC{i:05d}" for i in range(args.symbols)], seed=11)
    start = (SystemClock().now_ns() // S - 7200) * S
    began = time.perf_counter()
    await store_afresh(store, history(store, market.symbols, start))
    print(f"history of {args.symbols:,} symbols stored in {time.perf_counter() - began:.0f} s")
    try:
        async with own_topics(bench_settings(base)) as alone:
            await produce(alone, frames(SyntheticMarket(["RC-ALONE"], seed=1), start, 1, 20))
            start_s, _ = await fresh_start(alone, 1)
        async with own_topics(bench_settings(base)) as settings:
            await produce(settings, frames(market, start, 1, args.frame_size))
            _, first_pass = await fresh_start(settings, args.symbols * args.frame_size)
            series = args.symbols * len(base.granularities)
            print(f"first worker: {series:,} series warmed and stepped {first_pass:.0f} s "
                  "after its start")  # fmt: skip
            await produce(settings, frames(market, start + S, 1, args.frame_size))
            resumed_s, all_s = await fresh_start(settings, args.symbols * args.frame_size)
    finally:
        async with InfluxClient(store) as influx:
            await influx.query(f'DROP DATABASE "{DATABASE}"')
    print(f"a fresh worker with no state takes its first event {start_s:.1f} s after its start")
    print(f"a fresh worker over {args.symbols:,} symbols' state: its first event after "
          f"{resumed_s:.1f} s (resumed), every symbol's frame taken and sent after {all_s:.1f} s "
          f"(target {TARGET_S:.0f} s)")  # fmt: skip
    emit("a fresh worker's start, no state: seconds to its first event", start_s, "s",
         lower_is_better=True)  # fmt: skip
    emit(f"a fresh worker over {args.symbols:,} symbols' state: seconds to its first event",
         resumed_s, "s", lower_is_better=True)  # fmt: skip
    emit(f"a fresh worker over {args.symbols:,} symbols' state: seconds to every symbol stepped",
         all_s, "s", TARGET_S, lower_is_better=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--frame-size", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
