"""The pipeline against the raw client, on the local broker, in one run.

    .venv/bin/python bench/pipeline.py [--quotes N] [--symbols N] [--frame-size N] [--rate N]

1. raw: a plain aiokafka consumer reads the frames (the ceiling for any consumer), and its CPU
   seconds per million quotes;
2. pipeline: one worker takes the same frames from market.raw through gate, 1s bars and the
   full indicator set to analytics.indicators; and the worker's CPU time per frame (all its
   threads), which this shared VM's noise moves less than the wall-clock rate;
3. the engine alone (the "work alone" below): the same frames decoded, gated, folded into 1s
   bars, each bar's series advanced and every output and state encoded, in this process with
   no broker at all (the least of three turns, taken in alternation with the calendar
   sessions' below). No consumer of the topic can beat this rate while doing that work in
   Python on one core, so it bounds the ratio to raw any worker can reach; the worker's CPU per
   frame over the engine's is what the worker adds (Faust, aiokafka, tables, delivery, metrics);
4. latency: once the worker has caught up, at a steady rate, the time from a bar's publication
   to its indicator snapshot's (both broker record timestamps), p50 and p99; and, with no
   target, each frame's time in the worker: its publication to its accepted events' on
   market.clean, which includes any wait in the worker's input queue;
5. calendar sessions: every symbol on a calendar (24/7, so the same bars, cut by the session
   code) against UTC bars, for the work alone (three turns each in alternation) and for a whole
   worker draining its own copy of the frames (CPU per frame, beside the UTC worker's);
6. trade conditions: the same frames with Polygon's sale conditions on every trade, marked by
   its rules as the live source marks them, against the same frames unmarked (the work alone,
   three turns each), and a worker draining the marked frames beside the UTC worker;
7. forming bars: the work alone over 500 symbols on the default granularities, with the bars
   still forming sent once a second per series against none (three turns each), on series
   warmed with the set's lookback and on series not started yet.

Targets (issue 3): >= 100k quotes/s per worker, >= 25% of raw; bar-to-indicator p99 <= 50 ms.
Needs the local services (`make services-up`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from engine_step import bench_settings, work_alone
from interpreter import python
from proc import cpu_seconds
from results import emit
from topics import own_topics

from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import MemoryStore, key_of_series
from marketpulse.analytics.warmup import warmed, warmup_bars
from marketpulse.clock import SystemClock
from marketpulse.conditions import mark, shipped
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame, Trade
from marketpulse.settings import Settings
from marketpulse.streams.lag import group_lag
from marketpulse.streams.sources.synthetic import SyntheticMarket

S = 1_000_000_000
ROOT = Path(__file__).resolve().parent.parent


def forming_cost(frame_size: int, symbols: int = 500, seconds: int = 10) -> dict[str, float]:
    """The work alone with the bars still forming published once a second per series, as a
    share of its throughput without: 500 symbols on the default granularities and indicators,
    a frame per symbol per second, each frame coming a second after its symbol's last on the
    wall clock (so that every one sends its forming bars), three turns each. Twice: on series
    not started yet (``cold``: the first seconds of a symbol) and on series warmed with the
    set's lookback of bars (``warm``: a symbol's usual day)."""
    market = SyntheticMarket([f"F{i:03d}" for i in range(symbols)], seed=3)
    start = (SystemClock().now_ns() // S - 7200) * S
    backlog = frames(market, start, seconds, frame_size)
    clock = [start + (i // symbols + 1) * S for i in range(len(backlog))]
    on = Settings().model_copy(update={"forming_interval_ms": 1000})
    off = on.model_copy(update={"forming_interval_ms": 0})
    warm = _warmed_states(on, market.symbols, start)
    shares = {}
    for name, states in (("cold", None), ("warm", warm)):

        def turn(settings: Settings, states: dict[bytes, bytes] | None = states) -> float:
            return work_alone(settings, backlog, clock, _store(on, states))

        shares[name] = share_in_turns(partial(turn, off), partial(turn, on))
    return shares


def share_in_turns(
    first: Callable[[], float], second: Callable[[], float], turns: int = 3
) -> float:
    """The second's throughput as a share of the first's (:func:`least_in_turns`)."""
    least = least_in_turns(first, second, turns)
    return least[0] / least[1]


def least_in_turns(
    first: Callable[[], float], second: Callable[[], float], turns: int = 3
) -> tuple[float, float]:
    """Each side's least seconds a frame, each timed ``turns`` times in alternation, as
    ``timeit`` takes the least of its repeats. The work is the same every turn, and this
    machine's other tenants only ever add time to one turn or another: with the sums of the
    turns, the shares built on these moved between runs of the same code by more than the
    margins they are held to (the calendar sessions' from 85 to 112 %), where the least of each
    side is the turn that the noise disturbed least."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(turns):
        times[0].append(first())
        times[1].append(second())
    return min(times[0]), min(times[1])


def _warmed_states(settings: Settings, symbols: list[str], before: int) -> dict[bytes, bytes]:
    """Each symbol's series on the configured granularities, encoded, after the set's lookback
    of bars (the same made-up bars for all) ending before ``before``."""
    config = settings.step_config()
    count = warmup_bars(config.indicators, 0) + 1
    out = {}
    for granularity, length in config.granularities.items():
        first = before - before % length - count * length
        bars = [Bar(symbol="X", granularity=granularity, start=first + i * length,
                    end=first + (i + 1) * length, open=100.0 + i % 7, high=103.0 + i % 7,
                    low=99.0 + i % 7, close=101.0 + i % 5, volume=1000.0 + i)
                for i in range(count)]  # fmt: skip
        encoded = warmed(config.indicators, config.detector, bars).to_bytes()
        for symbol in symbols:
            out[key_of_series(symbol, granularity)] = encoded
    return out


def _store(settings: Settings, states: dict[bytes, bytes] | None) -> MemoryStore:
    store = MemoryStore()
    if states is not None:
        detector = settings.step_config().detector
        store.all_series = {k: SeriesState.from_bytes(detector, v) for k, v in states.items()}
    return store


def frames(
    market: SyntheticMarket, start: int, slices: int, frame_size: int
) -> list[tuple[bytes, bytes]]:
    """One frame per symbol per second of event time, symbols interleaved."""
    out = []
    for i in range(slices):
        for symbol in market.symbols:
            frame = market.frame(symbol, start + i * S, start + (i + 1) * S, frame_size)
            out.append((symbol.encode(), frame.model_dump_json().encode()))
    return out


def with_conditions(
    backlog: list[tuple[bytes, bytes]], marked: bool, seed: int = 2
) -> list[tuple[bytes, bytes]]:
    """The same frames with Polygon sale conditions on every trade, in about a US equity
    tape's mix (most regular, a fifth odd lots, some sweeps, a few average-price and Form T
    prints), ``marked`` by the shipped rules as the live source marks them, or not."""
    table = shipped("polygon") if marked else None
    rng = random.Random(seed)
    weights: list[tuple[tuple[int, ...], int]] = [
        ((), 60), ((14,), 12), ((37,), 20), ((14, 37), 4), ((2,), 2), ((12,), 2)
    ]  # fmt: skip
    mix = [codes for codes, weight in weights for _ in range(weight)]
    out = []
    for key, payload in backlog:
        frame = Frame.model_validate_json(payload)
        events = [
            e.model_copy(update={"conditions": list(rng.choice(mix))})
            if isinstance(e, Trade)
            else e
            for e in frame.events
        ]
        frame = frame.model_copy(update={"events": mark(events, table)})
        out.append((key, frame.model_dump_json(exclude_none=True).encode()))
    return out


async def produce(
    settings: Settings, messages: list[tuple[bytes, bytes]], rate: float | None = None
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(), linger_ms=5, max_batch_size=1 << 20
    )
    await producer.start()
    topic = settings.topic("market.raw")
    started = time.monotonic()
    try:
        for i, (key, value) in enumerate(messages):
            if rate:
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await producer.send(topic, value, key)
        await producer.flush()
    finally:
        await producer.stop()


async def raw_consume(settings: Settings, count: int) -> tuple[float, float]:
    """Records a second read by a bare consumer, and this process's CPU seconds per record,
    both timed as the worker is: from its first batch, counting only what came after it (the
    first batch's own records would come free)."""
    consumer = AIOKafkaConsumer(
        settings.topic("market.raw"),
        bootstrap_servers=settings.bootstrap_servers(),
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=8 << 20,
    )
    await consumer.start()
    seen = 0
    try:
        started, cpu_started, first = None, 0.0, 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            seen += sum(len(records) for records in batch.values())
            if started is None and batch:
                started, cpu_started, first = time.perf_counter(), time.process_time(), seen
        assert started is not None
        records = seen - first
        return (
            records / (time.perf_counter() - started),
            (time.process_time() - cpu_started) / records,
        )
    finally:
        await consumer.stop()


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{")
    )


WORKER = ("-m", "marketpulse.cli", "worker")


def start_worker(
    env: dict[str, str], log: Path, command: tuple[str, ...] = WORKER
) -> subprocess.Popen[bytes]:
    """A worker (``command``: the child Python's arguments) with ``env`` over this process's
    environment, once it is ready (a ``PYTHONPATH`` in ``env`` is the code it runs:
    :mod:`interpreter`)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            python(*command),
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "Worker ready" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        time.sleep(0.1)
    return proc


async def latencies(
    settings: Settings, since: int, bars_expected: int, frames_expected: int, timeout_s: float
) -> tuple[list[float], list[float]]:
    """For the bars that start at or after ``since``: bar-to-snapshot delays; and for the frames
    received then, each frame's time in the worker (its publication to its accepted events')."""
    consumer = AIOKafkaConsumer(
        settings.topic("market.raw"),
        settings.topic("market.clean"),
        settings.topic("market.bars.1s"),
        settings.topic("analytics.indicators"),
        bootstrap_servers=settings.bootstrap_servers(),
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=8 << 20,
    )
    await consumer.start()
    # the topics arrive in no particular order relative to each other: pair up at the end
    published: dict[str, dict[tuple[bytes, int], int]] = {
        "market.raw": {},
        "market.clean": {},
        "market.bars.1s": {},
        "analytics.indicators": {},
    }

    def pairs(first: str, then: str) -> list[float]:
        a, b = published[first], published[then]
        return [b[k] - a[k] for k in a.keys() & b.keys()]

    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if (
                len(pairs("market.bars.1s", "analytics.indicators")) >= bars_expected
                and len(pairs("market.raw", "market.clean")) >= frames_expected
            ):
                break
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                topic = tp.topic.removeprefix(settings.topic_prefix)
                for r in records:
                    value = orjson.loads(r.value)
                    # a frame by its received time; a bar and its snapshot by the bar's start
                    at = value.get("received_ts", value.get("start", value.get("bar_start")))
                    if int(at) > since:
                        published[topic][(r.key, int(at))] = r.timestamp
    finally:
        await consumer.stop()
    done = pairs("market.bars.1s", "analytics.indicators")
    worker = pairs("market.raw", "market.clean")
    return done, worker


def worker_env(settings: Settings, port: int) -> dict[str, str]:
    """A benchmark worker's environment: ``settings``' topics and group, 1 s bars, its metrics
    on ``port``."""
    return {
        "MARKETPULSE_TOPIC_PREFIX": settings.topic_prefix,
        "MARKETPULSE_WORKER_ID": settings.worker_id,
        "MARKETPULSE_GRANULARITIES": '["1s"]',
        "MARKETPULSE_WORKER_METRICS_PORT": str(port),
    }


async def drain(
    settings: Settings,
    env: dict[str, str],
    port: int,
    quotes: int,
    frame_size: int,
    skip: int = 0,
    command: tuple[str, ...] = WORKER,
) -> tuple[subprocess.Popen[bytes], float, float, float]:
    """Start a worker (``command``, :func:`start_worker`) on ``settings``' topics, which hold
    ``quotes`` quotes, and time it through them: the worker, its intake rate, its rate to the
    last snapshot, and its CPU per frame; the clocks start once it has taken more than ``skip``
    quotes (past its series' warm-up)."""
    env = {**worker_env(settings, port), **env}
    log = Path(tempfile.gettempdir()) / f"{settings.topic_prefix}worker.log"
    worker = start_worker(env, log, command)
    try:
        first = None
        give_up = time.monotonic() + 600
        while True:
            if time.monotonic() > give_up:
                refused = metric(port, "marketpulse_deadletters_total")
                raise RuntimeError(f"the worker took no events in 600 s ({refused:,.0f} refused)")
            seen = metric(port, "marketpulse_events_in_total")
            now = time.perf_counter()
            if first is None and seen > skip:
                first = (now, seen)
                cpu_at_first = cpu_seconds(worker.pid)
            if seen >= quotes:
                break
            # polling the worker's counter; each scrape costs the worker several ms of CPU, so
            # not so often that the benchmark measures its own scrapes
            await asyncio.sleep(0.5)
        assert first is not None
        intake_rate = (quotes - first[1]) / (now - first[0])
        # through to the end: every bar's snapshot published and read by the pattern agent
        while True:
            lag = await group_lag(settings, [settings.worker_id])
            if lag[settings.worker_id] == 0:
                break
            await asyncio.sleep(0.5)
        pipeline_rate = (quotes - first[1]) / (time.perf_counter() - first[0])
        frames_done = (quotes - first[1]) / frame_size
        cpu_per_frame = (cpu_seconds(worker.pid) - cpu_at_first) / frames_done
    except BaseException:
        worker.terminate()
        worker.wait(30)
        raise
    return worker, intake_rate, pipeline_rate, cpu_per_frame


async def run(args: argparse.Namespace) -> None:
    base = Settings()
    async with AsyncExitStack() as stack:
        settings, calendar_topics, conditions_topics = [
            await stack.enter_async_context(own_topics(bench_settings(base))) for _ in range(3)
        ]
        await measure(args, settings, calendar_topics, conditions_topics)


async def measure(
    args: argparse.Namespace,
    settings: Settings,
    calendar_topics: Settings,
    conditions_topics: Settings,
) -> None:
    """Every figure of the run, each worker on topics of its own (``settings`` for the raw
    consumer and the worker that goes on to the latency phase)."""
    symbols = [f"S{i:03d}" for i in range(args.symbols)]
    market = SyntheticMarket(symbols, seed=1)
    slices = max(1, args.quotes // (args.symbols * args.frame_size))
    start = (SystemClock().now_ns() // S - 7200) * S
    backlog = frames(market, start, slices, args.frame_size)
    quotes = len(backlog) * args.frame_size
    await produce(settings, backlog)
    await produce(calendar_topics, backlog)
    unmarked, marked = with_conditions(backlog, False), with_conditions(backlog, True)
    await produce(conditions_topics, marked)

    raw_frames, raw_cpu = await raw_consume(settings, len(backlog))
    raw_rate = raw_frames * args.frame_size
    # the same frames with every symbol on a calendar (24/7: the same bars, by the session
    # code), A/B in turns so that the machine's noise falls on both alike; the UTC side's turns
    # are the engine alone's, and its least turn is its figure: a single pass of the same code
    # moves by half between runs on this machine
    on_calendar = settings.model_copy(update={"calendars": {"*": "24/7"}})
    alone_cpu, calendar_cpu_alone = least_in_turns(
        lambda: work_alone(settings, backlog), lambda: work_alone(on_calendar, backlog)
    )
    alone_rate = args.frame_size / alone_cpu
    calendar_ratio = alone_cpu / calendar_cpu_alone
    # the rules' own cost: the same frames with conditions, marked or not, in turns
    conditions_ratio = share_in_turns(
        lambda: work_alone(settings, unmarked), lambda: work_alone(settings, marked)
    )
    forming = forming_cost(args.frame_size)

    # the whole worker with calendar sessions, then the one with UTC bars that goes on to the
    # latency phase: each drains the same frames, compared by CPU per frame
    calendar_worker, _, calendar_rate, calendar_cpu = await drain(
        calendar_topics, {"MARKETPULSE_CALENDARS": '{"*": "24/7"}'}, 9391, quotes, args.frame_size
    )
    calendar_worker.terminate()
    calendar_worker.wait(30)
    conditions_worker, _, conditions_rate, conditions_cpu = await drain(
        conditions_topics, {}, 9392, quotes, args.frame_size
    )
    conditions_worker.terminate()
    conditions_worker.wait(30)
    worker, intake_rate, pipeline_rate, cpu_per_frame = await drain(
        settings, {}, 9390, quotes, args.frame_size
    )
    worker_calendar_ratio = cpu_per_frame / calendar_cpu
    worker_conditions_ratio = cpu_per_frame / conditions_cpu
    try:
        # steady state: current event times, a fixed rate, then the latency of each bar's snapshot
        live_start = (SystemClock().now_ns() // S) * S
        live = frames(market, live_start, args.latency_seconds, max(1, args.rate // args.symbols))
        await produce(settings, live, rate=len(live) / args.latency_seconds)
        lat, in_worker = await latencies(
            settings, live_start, (args.latency_seconds - 3) * args.symbols, len(live), 60
        )
    finally:
        worker.terminate()
        worker.wait(30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(f"frames: {len(backlog)} x {args.frame_size} quotes, {args.symbols} symbols, 1s bars")
    per_million = 1e6 / args.frame_size  # frames in a million quotes
    print("                          quotes/s   CPU s per 1M quotes   share of raw")
    for name, rate, cpu in (
        ("raw aiokafka consume", raw_rate, raw_cpu),
        ("the engine alone", alone_rate, alone_cpu),
        ("the worker", pipeline_rate, cpu_per_frame),
    ):
        print(f"{name:<22} {rate:>12,.0f} {cpu * per_million:>21.2f} {rate / raw_rate:>14.1%}")
    print(
        "(the engine alone: the same frames decoded, gated, folded into bars, each series "
        "advanced and every record and state encoded, in process with no broker: no consumer "
        "doing that work in Python on one core can pass its rate)"
    )
    print(
        f"the worker's overhead over the engine alone: {cpu_per_frame / alone_cpu:.2f}x its CPU "
        f"per frame (the bar agent alone took frames in at {intake_rate:,.0f} quotes/s)"
    )
    print(
        f"  with calendar sessions (24/7): {calendar_ratio:.1%} of the UTC bars' throughput "
        "(three turns each)"
    )
    print(
        f"  the whole worker with calendar sessions: {calendar_rate:,.0f} quotes/s, CPU per frame "
        f"{calendar_cpu * 1e6:,.0f} us, so {worker_calendar_ratio:.1%} of the UTC worker's "
        "throughput per CPU-second"
    )
    print(
        f"  with trade conditions marked: {conditions_ratio:.1%} of the unmarked frames' "
        f"throughput (three turns each); the worker on marked frames: {conditions_rate:,.0f} "
        f"quotes/s, {worker_conditions_ratio:.1%} of the UTC worker's throughput per CPU-second"
    )
    print(
        f"  with the bars still forming sent once a second per series (500 symbols, default "
        f"granularities): {forming['warm']:.1%} of the throughput without on warmed series, "
        f"{forming['cold']:.1%} on series not started yet (three turns each)"
    )
    live_lat = np.array(lat) if lat else np.array([np.nan])
    p50, p99 = np.percentile(live_lat, 50), np.percentile(live_lat, 99)
    print(
        f"bar -> indicator latency at {args.rate:,} quotes/s ({args.symbols} frames/s): "
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(live_lat)} bars)"
    )
    hop = np.array(in_worker) if in_worker else np.array([np.nan])
    hop50, hop99 = np.percentile(hop, 50), np.percentile(hop, 99)
    print(
        f"frame -> its accepted events out (time in the worker): p50 {hop50:.0f} ms, "
        f"p99 {hop99:.0f} ms ({len(hop)} frames)"
    )
    raw = "raw aiokafka consume of the same frames"
    emit(raw, raw_rate, "quotes/s")
    emit("pipeline, one worker, market.raw to indicators", pipeline_rate, "quotes/s", 100_000,
         baseline=raw)  # fmt: skip
    emit("the engine alone, in process, no broker", alone_rate, "quotes/s", baseline=raw)
    emit("raw consume, CPU seconds per million quotes", raw_cpu * per_million, "s",
         lower_is_better=True)  # fmt: skip
    emit("the engine alone, CPU seconds per million quotes", alone_cpu * per_million, "s", 1.5,
         lower_is_better=True)  # fmt: skip
    emit("the worker, CPU seconds per million quotes", cpu_per_frame * per_million, "s",
         lower_is_better=True)  # fmt: skip
    emit("the worker's CPU per frame over the engine alone's", cpu_per_frame / alone_cpu, "x",
         1.3, lower_is_better=True)  # fmt: skip
    emit("the work alone with calendar sessions, as a share of UTC bars'", calendar_ratio * 100,
         "%", 90)  # fmt: skip
    emit("the worker with calendar sessions, CPU per frame as a share of UTC bars'",
         worker_calendar_ratio * 100, "%", 90)  # fmt: skip
    emit("the work alone with trade conditions marked, as a share of unmarked",
         conditions_ratio * 100, "%", 95)  # fmt: skip
    emit("the worker on condition-marked frames, CPU per frame as a share of plain frames'",
         worker_conditions_ratio * 100, "%", 95)  # fmt: skip
    for name, share in forming.items():
        emit(f"the work alone with forming bars at 1 s per series, 500 {name} symbols, as a "
             "share of none", share * 100, "%", 90)  # fmt: skip
    emit(f"bar to indicator snapshot p99 at {args.rate:,} quotes/s", float(p99), "ms", 50,
         lower_is_better=True)  # fmt: skip
    emit(f"frame in to its accepted events out, p99 at {args.rate:,} quotes/s", float(hop99),
         "ms", lower_is_better=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--frame-size", type=int, default=200)
    parser.add_argument("--rate", type=int, default=20_000, help="quotes/s in the latency phase")
    parser.add_argument("--latency-seconds", type=int, default=15)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
