"""Two workers in one group against one, on the same frames, in one run; and how long the group
takes to catch up again when one of the two leaves.

    .venv/bin/python bench/scale_out.py [--quotes N] [--symbols N] [--frame-size N]

1. one worker drains its own copy of the frames (as ``bench/pipeline.py``'s does);
2. two workers of one consumer group start together on another copy, and share its partitions
   (the topics' default 4: two each); the copy is produced as they take it, a slice at a time
   until both have taken events, then the rest, and the pair's rate is the quotes left when that
   is produced over the time until the group has no lag;
3. the pair then takes a steady stream; one worker is stopped (it leaves the group as a
   deployment's rolling restart stops it), and the figure is the time from its stop until the
   group's lag is back at its level before and every partition has been committed past where
   the leaver left it: the rebalance, the moved partitions' states restored from their
   changelogs, and what came in meanwhile taken.

The machine has two cores, and the broker, the stores and this process share them with the
workers: the pair's ratio here is a floor, not what two machines would give. Needs the local
services.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from engine_step import bench_settings
from pipeline import S, drain, frames, metric, produce, start_worker, worker_env
from proc import cpu_seconds, machine_seconds, named
from results import emit
from topics import own_topics

from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from marketpulse.streams.lag import group_lag
from marketpulse.streams.sources.synthetic import SyntheticMarket

PORTS = (9397, 9398)


def start_pair(settings: Settings) -> list[subprocess.Popen[bytes]]:
    """Two workers of one group, started together."""
    logs = [Path(tempfile.gettempdir()) / f"{settings.topic_prefix}w{port}.log" for port in PORTS]
    return [
        start_worker(worker_env(settings, port), log) for port, log in zip(PORTS, logs, strict=True)
    ]


def taken() -> list[float]:
    """Events each worker of the pair has taken so far."""
    return [metric(port, "marketpulse_events_in_total") for port in PORTS]


async def caught_up(settings: Settings, deadline_s: float = 600) -> None:
    """Until the group has no lag."""
    give_up = time.monotonic() + deadline_s
    while True:
        if (await group_lag(settings, [settings.worker_id]))[settings.worker_id] == 0:
            return
        if time.monotonic() > give_up:
            raise RuntimeError("the group did not catch up")
        await asyncio.sleep(0.25)


@dataclass(frozen=True)
class Cores:
    """Cores each part kept busy over a window: CPU seconds over its seconds."""

    machine: float  # every process, the kernel's work for them included
    steal: float  # taken by the hypervisor for other guests of the host
    workers: float
    broker: float
    bench: float  # this process: the producer and the lag reads


class CoreMeter:
    """The cores busy from its making to :meth:`cores`, by part."""

    def __init__(self, workers: list[int]) -> None:
        self.workers = workers
        self.broker = named("tansu")  # the local broker (comm names are cut at 15 characters)
        self.started = time.perf_counter()
        self.first = self._sample()

    def _sample(self) -> tuple[float, float, float, float, float]:
        machine, steal = machine_seconds()
        workers = sum(map(cpu_seconds, self.workers))
        return machine, steal, workers, sum(map(cpu_seconds, self.broker)), cpu_seconds(os.getpid())

    def cores(self) -> Cores:
        last, seconds = self._sample(), time.perf_counter() - self.started
        return Cores(*((b - a) / seconds for a, b in zip(self.first, last, strict=True)))


@dataclass(frozen=True)
class Intake:
    """Workers taking their quotes in: quotes a second, and the cores busy meanwhile."""

    rate: float
    cores: Cores


async def pair_rate(
    settings: Settings, backlog: list[tuple[bytes, bytes]], symbols: int, frame_size: int
) -> tuple[list[subprocess.Popen[bytes]], float, Intake]:
    """The pair on ``backlog``: the workers, still running, and their rate together. The
    group's first assignment can give one worker every partition while the other is still
    joining (the broker holds a join for seconds), and a backlog already there is then drained
    by one: so a slice of frames (a frame a symbol, every partition) goes in at a time until
    both have taken events, the rest then in one go, and the pair is timed from the end of that
    produce (which shares the cores) until the group has no lag, over the quotes left then;
    and its intake: until the workers had taken every quote, their rate and the cores each
    part kept busy."""
    pair = start_pair(settings)
    at = 0
    while not all(count > 0 for count in taken()):
        if at >= len(backlog) // 2:
            raise RuntimeError(f"the pair did not both take events in half the frames: {taken()}")
        await produce(settings, backlog[at : at + symbols])
        at += symbols
        await asyncio.sleep(0.5)
    await produce(settings, backlog[at:])
    left = len(backlog) * frame_size - sum(taken())
    started = time.perf_counter()
    meter = CoreMeter([worker.pid for worker in pair])
    if left < len(backlog) * frame_size // 4:
        raise RuntimeError(f"the pair took all but {left:,} quotes while they were produced: a "
                           "larger --quotes is needed to time it")  # fmt: skip
    # the cores while the quotes come in, not in the wait for the last commit after them
    total = len(backlog) * frame_size
    give_up = time.monotonic() + 600
    while sum(taken()) < total:
        if time.monotonic() > give_up:
            raise RuntimeError(f"the pair took {sum(taken()):,.0f} of {total:,} quotes in 600 s")
        await asyncio.sleep(0.5)  # a scrape costs each worker milliseconds: not too often
    cores, intake = meter.cores(), left / (time.perf_counter() - started)
    await caught_up(settings)
    return pair, left / (time.perf_counter() - started), Intake(intake, cores)


async def committed_raw(settings: Settings) -> dict[int, int]:
    """The group's committed offset of each partition of ``market.raw`` (-1: none yet), read
    by a consumer of the group that never joins it (as :mod:`marketpulse.streams.lag` reads)."""
    member = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers(),
                              group_id=settings.worker_id, enable_auto_commit=False)  # fmt: skip
    topic = settings.topic("market.raw")
    tps = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
    try:
        await member.start()
        offsets = await asyncio.gather(*(member.committed(tp) for tp in tps))
    finally:
        await member.stop()
    return {tp.partition: -1 if o is None else o for tp, o in zip(tps, offsets, strict=True)}


async def lag_of(settings: Settings) -> int:
    return (await group_lag(settings, [settings.worker_id]))[settings.worker_id] or 0


async def leave_time(
    settings: Settings,
    pair: list[subprocess.Popen[bytes]],
    live: list[tuple[bytes, bytes]],
    rate: float,
) -> float:
    """Seconds from one worker's stop to the group's lag back at its steady level (the most
    it was over two seconds before the stop), under a steady stream, with every partition of
    ``market.raw`` committed past where the leaver left it: the group's lag alone can dip back
    under its level when the staying worker commits its own partitions, before anyone has
    taken the leaver's."""
    stream = asyncio.create_task(produce(settings, live, rate=rate))
    await asyncio.sleep(3)  # the pair in its steady state first
    steady = 0
    for _ in range(8):
        steady = max(steady, await lag_of(settings))
        await asyncio.sleep(0.25)
    leaving = pair[1]
    stopped = time.perf_counter()
    leaving.send_signal(signal.SIGTERM)
    try:
        # the leaver commits its partitions as it stops: only what is committed after it has
        # gone is the other's
        await asyncio.to_thread(leaving.wait, 60)
        left = await committed_raw(settings)
        while not stream.done():
            if await lag_of(settings) <= steady:
                now = await committed_raw(settings)
                if all(now[p] > offset for p, offset in left.items()):
                    return time.perf_counter() - stopped
            await asyncio.sleep(0.1)
        raise RuntimeError("the stream ended before the group caught up: make it longer")
    finally:
        await stream
        leaving.wait(60)


async def run(args: argparse.Namespace) -> None:
    market = SyntheticMarket([f"W{i:03d}" for i in range(args.symbols)], seed=6)
    slices = max(1, args.quotes // (args.symbols * args.frame_size))
    start = (SystemClock().now_ns() // S - 7200) * S
    backlog = frames(market, start, slices, args.frame_size)
    quotes = len(backlog) * args.frame_size
    async with AsyncExitStack() as stack:
        alone, together = [
            await stack.enter_async_context(own_topics(bench_settings(Settings())))
            for _ in range(2)
        ]
        await produce(alone, backlog)
        worker, intake, one_rate, cpu_per_frame = await drain(
            alone, {}, 9396, quotes, args.frame_size
        )
        worker.terminate()
        worker.wait(30)
        pair, two_rate, taking = await pair_rate(together, backlog, args.symbols, args.frame_size)
        try:
            live_start = (SystemClock().now_ns() // S) * S
            live = frames(market, live_start, args.live_seconds, args.frame_size)
            per_second = len(live) / args.live_seconds
            live_rate = min(per_second, 0.66 * one_rate / args.frame_size)
            took = await leave_time(together, pair, live, live_rate)
        finally:
            for each in pair:
                if each.poll() is None:
                    each.terminate()
                    each.wait(30)
    print(f"machine: {os.cpu_count()} cores; frames: {len(backlog)} x {args.frame_size} quotes, "
          f"{args.symbols} symbols, {together.topic_partitions} partitions")  # fmt: skip
    print(f"one worker: {one_rate:,.0f} quotes/s")
    print(f"two workers: {two_rate:,.0f} quotes/s = {two_rate / one_rate:.2f}x one")
    # the pair's rate over one's is the cores its workers had over one's, less what splitting
    # the work costs a quote: which of the two holds it back
    one_cores = cpu_per_frame * intake / args.frame_size  # as it took the quotes in
    cores = taking.cores
    per_quote = (cores.workers / taking.rate) / (cpu_per_frame / args.frame_size)
    print(f"  taking the quotes in (before the last commits): one worker {intake:,.0f} "
          f"quotes/s, the pair {taking.rate:,.0f} ({taking.rate / intake:.2f}x)")  # fmt: skip
    print(f"  cores busy while the pair took the quotes in: the machine {cores.machine:.2f} of "
          f"{os.cpu_count()} (and {cores.steal:.2f} taken by the host for other guests), the two "
          f"workers {cores.workers:.2f}, the broker {cores.broker:.2f}, the producer "
          f"{cores.bench:.2f}, the rest (the kernel's network, the other services, other "
          f"processes) {cores.machine - cores.workers - cores.broker - cores.bench:.2f}; one "
          f"worker alone kept {one_cores:.2f} busy. So the pair had "
          f"{cores.workers / one_cores:.2f}x one worker's cores, and its CPU a quote was "
          f"{per_quote:.2f}x one worker's")  # fmt: skip
    print(f"one of two leaving under {live_rate * args.frame_size:,.0f} quotes/s: the other has "
          f"caught up {took:.1f} s after its stop")  # fmt: skip
    emit("scale-out: one worker", one_rate, "quotes/s")
    emit("scale-out: two workers over one", two_rate / one_rate, "x", 1.7)
    emit("scale-out: one of two leaving, until the other has caught up", took, "s",
         lower_is_better=True)  # fmt: skip
    emit("scale-out: two workers over one, as they take the quotes in (before the last commits)",
         taking.rate / intake, "x")  # fmt: skip
    emit(f"scale-out: cores busy while the pair took the quotes in, of {os.cpu_count()}",
         cores.machine, "cores")  # fmt: skip
    emit("scale-out: the pair's workers' cores over one worker's alone",
         cores.workers / one_cores, "x")  # fmt: skip
    emit("scale-out: the pair's worker CPU a quote over one worker's", per_quote, "x",
         lower_is_better=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=64)
    parser.add_argument("--frame-size", type=int, default=200)
    parser.add_argument("--live-seconds", type=int, default=40)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
