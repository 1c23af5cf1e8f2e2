"""Two worker configurations in interleaved A/B pairs: each worker drains its own copy of the
same frames (as ``bench/pipeline.py``'s does), and the figure is the median over the pairs of
B's CPU per frame over A's. Lower than 1: B does the same work on less CPU.

    .venv/bin/python bench/worker_ab.py --b MARKETPULSE_KAFKA_PRODUCER_LINGER_MS=5 [--a ...]

Each ``--a``/``--b`` is an environment variable for that side's worker (repeatable); a side
with none runs the defaults. The pairs alternate which side goes first, so that the machine's
drift falls on both alike. With neither (as ``make bench`` runs it) both sides are the same
worker: the figure is then how far this machine's noise alone moves such a ratio. Needs the
local services.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from engine_step import bench_settings
from pipeline import S, drain, frames, produce
from results import emit
from topics import own_topics

from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from marketpulse.streams.sources.synthetic import SyntheticMarket


def environment(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` arguments as a mapping."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"{pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


Frames = list[tuple[bytes, bytes]]


async def one_run(env: dict[str, str], backlog: Frames, frame_size: int) -> float:
    """A fresh worker on a fresh copy of the frames: its CPU seconds per frame."""
    async with own_topics(bench_settings(Settings())) as settings:
        await produce(settings, backlog)
        worker, _, _, cpu_per_frame = await drain(
            settings, env, 9396, len(backlog) * frame_size, frame_size
        )
        worker.terminate()
        worker.wait(30)
    return cpu_per_frame


async def run(args: argparse.Namespace) -> None:
    a, b = environment(args.a), environment(args.b)
    market = SyntheticMarket([f"B{i:03d}" for i in range(args.symbols)], seed=5)
    slices = max(1, args.quotes // (args.symbols * args.frame_size))
    start = (SystemClock().now_ns() // S - 7200) * S
    backlog = frames(market, start, slices, args.frame_size)
    ratios = []
    for i in range(args.pairs):
        order = [("a", a), ("b", b)] if i % 2 == 0 else [("b", b), ("a", a)]
        cpu = {side: await one_run(env, backlog, args.frame_size) for side, env in order}
        ratios.append(cpu["b"] / cpu["a"])
        print(
            f"pair {i + 1}: A {cpu['a'] * 1e6:,.0f} us a frame, B {cpu['b'] * 1e6:,.0f} us, "
            f"B/A {ratios[-1]:.3f}",
            flush=True,
        )
    median = statistics.median(ratios)
    print(f"A: {a or 'defaults'}\nB: {b or 'defaults'}")
    print(f"B's CPU per frame over A's, median of {args.pairs} pairs: {median:.3f}")
    emit("worker A/B: B's CPU per frame over A's (median)", median, "x", lower_is_better=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--a", action="append", default=[], help="NAME=VALUE for side A")
    parser.add_argument("--b", action="append", default=[], help="NAME=VALUE for side B")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--quotes", type=int, default=400_000)
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--frame-size", type=int, default=200)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
