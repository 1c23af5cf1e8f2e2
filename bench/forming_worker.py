"""What the forming bars cost the worker itself: the same frames drained by a worker that
publishes the bars still forming once a second per series and by one that publishes none, in
interleaved pairs, compared by CPU per frame.

    .venv/bin/python bench/forming_worker.py [--symbols 500] [--seconds 20] [--pairs 4]

500 symbols on the default granularities and indicators, a 200-event frame per symbol per
second of event time, drained as fast as the worker goes: a symbol's next frame comes about a
second later on the wall clock, so a series sends its forming record on most frames (the run
prints how many a frame: four would be every frame), as in a worker kept busy by 500 symbols.
The series are warm: a scratch InfluxDB database holds each one's lookback of bars before the
frames, and the worker warms from it on a symbol's first frame; the clocks start after every
symbol's first two frames, so the warm-up is in neither side. This is the whole pipeline's
share (issue 30's target: at most 10 % of the throughput); ``pipeline.py`` gives the work
alone's with every frame sending its four. Needs the local services.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics

from engine_step import bench_settings
from pipeline import S, drain, frames, metric, produce
from results import emit
from topics import own_topics
from warmup import store_afresh, stored

from marketpulse.analytics.warmup import warmup_bars
from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import Bar
from marketpulse.settings import Settings
from marketpulse.storage.influx import InfluxClient
from marketpulse.streams.sources.synthetic import SyntheticMarket

DATABASE = "bench_forming"
PORT = 9397
FRAME_SIZE = 200


def history(settings: Settings, symbols: list[str], before: int) -> list[Bar]:
    """Each symbol's lookback of bars (and a few more) on every granularity, up to the bar
    open at ``before``."""
    count = warmup_bars(settings.step_config().indicators, settings.warmup_unstable_bars) + 5
    return stored(settings, symbols, count, before)


async def one_run(
    forming_ms: int, backlog: list[tuple[bytes, bytes]], symbols: int
) -> tuple[float, float]:
    """A fresh worker, warming from the scratch database, through a fresh copy of the frames:
    its CPU seconds per frame after every symbol's first two (the warm-up well behind), and
    the forming records it sent per frame."""
    base = Settings()
    async with own_topics(bench_settings(base)) as settings:
        await produce(settings, backlog)
        env = {
            "MARKETPULSE_GRANULARITIES": json.dumps(base.granularities),
            "MARKETPULSE_INFLUX_DATABASE": DATABASE,
            "MARKETPULSE_FORMING_INTERVAL_MS": str(forming_ms),
        }
        worker, _, _, cpu_per_frame = await drain(
            settings, env, PORT, len(backlog) * FRAME_SIZE, FRAME_SIZE,
            skip=2 * symbols * FRAME_SIZE,
        )  # fmt: skip
        forming = metric(PORT, "marketpulse_forming_snapshots_total") / len(backlog)
        worker.terminate()
        worker.wait(30)
    return cpu_per_frame, forming


async def run(args: argparse.Namespace) -> None:
    settings = Settings().model_copy(update={"influx_database": DATABASE})
    market = SyntheticMarket([f"FW{i:03d}" for i in range(args.symbols)], seed=8)
    start = (SystemClock().now_ns() // S - 7200) * S
    await store_afresh(settings, history(settings, market.symbols, start))
    backlog = frames(market, start, args.seconds, FRAME_SIZE)
    shares = []
    try:
        for i in range(args.pairs):
            order = [0, 1000] if i % 2 == 0 else [1000, 0]
            runs = {ms: await one_run(ms, backlog, args.symbols) for ms in order}
            (without, _), (with_, sent) = runs[0], runs[1000]
            shares.append(without / with_)
            print(f"pair {i + 1}: without {without * 1e6:,.0f} us a frame, with "
                  f"{with_ * 1e6:,.0f} us ({sent:.2f} forming records a frame): "
                  f"{shares[-1]:.1%}", flush=True)  # fmt: skip
    finally:
        async with InfluxClient(settings) as influx:
            await influx.query(f'DROP DATABASE "{DATABASE}"')
    share = statistics.median(shares)
    print(f"the worker with forming bars keeps {share:.1%} of its throughput without")
    emit(f"the worker with forming bars at 1 s per series, {args.symbols} warmed symbols, CPU "
         "per frame as a share of none", share * 100, "%", 90)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20, help="frames per symbol")
    parser.add_argument("--pairs", type=int, default=4)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
