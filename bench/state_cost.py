"""What the state costs as the symbols grow: bytes a series writes to the changelog, memory a
series takes in a worker, and how long 10,000 symbols' states take to come back.

    .venv/bin/python bench/state_cost.py [--symbols N] [--measured N]

1. state bytes: a series of the default indicator set and detectors, warmed on 300 minute bars
   with prices on a cent grid, as its changelog carries it (compressed with the states'
   dictionary, :mod:`marketpulse.tables.checkpoints`; a record holds it and the key's state
   before it), with its JSON's size beside it; the same on prices off any grid (every digit of
   a double, the worst case), and for every spec of the catalog (the full TA-Lib set);
2. memory: the Python heap a warmed series of the default set takes (tracemalloc, over
   ``--measured`` series: the first granularity of as many symbols);
3. recovery: ``--measured`` symbols' states (each symbol's gate and bar state and a series for
   each default granularity) compressed and written to a topic of their own, then read back by
   a plain aiokafka consumer, expanded and decoded (and kept, under the worker's
   garbage-collection policy), as a fresh worker's recovery reads its changelog and its first
   steps decode what they touch: a series' detectors stay encoded until its next closed bar,
   so their decoding is timed apart, as what those bars add. Both are linear in the keys (each
   is read and decoded once), so the figure for ``--symbols`` is scaled from the measured one;
   a Faust worker's own recovery adds its table bookkeeping to this, so this is a floor;
4. the pause of a full garbage collection over those decoded states, detectors included (what
   they add to one over the rest of the heap), scaled likewise: CPython's collector walks every
   container object now and then, with the worker's event loop (and so its heartbeats)
   waiting; and the next full collection's pause under the worker's policy, which freezes what
   survived the one before (:mod:`marketpulse.gc_policy`).

Targets (issue 31): at most 2 KB of state per series with the default set; 10,000 symbols
recovered in at most 10 s. Needs the local broker.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc
import uuid

import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from results import emit
from topics import drop_topics

from marketpulse.analytics.indicators.registry import catalog
from marketpulse.analytics.ingest import SymbolState
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.patterns.detector import DetectorConfig
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import MemoryStore, Message, StepConfig, key_of_series
from marketpulse.analytics.steps import apply_frame
from marketpulse.clock import SystemClock
from marketpulse.gc_policy import collect_fully_every, freeze_survivors, long_lived
from marketpulse.schemas.bars import Bar
from marketpulse.settings import Settings
from marketpulse.streams.sources.synthetic import SyntheticMarket
from marketpulse.tables.checkpoints import compress, expand

MINUTE = 60_000_000_000


def minute_bars(n: int, seed: int, tick: float | None = 0.01) -> list[Bar]:
    """``n`` minute bars of a random walk as a vendor's aggregates carry them: open, high, low
    and close on the ``tick`` grid (a cent, as US equities trade), each bar opening at the
    last close, with wicks beyond both, round-lot volumes and a VWAP to four decimals. With
    ``tick`` None, prices off any grid (every digit of a double: the worst case for the
    state's size, which is mostly the decimal digits of its numbers)."""
    rng = np.random.default_rng(seed)
    walk = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    wicks = np.abs(rng.normal(0, 0.001, (n, 2)))
    lots = rng.integers(1, 50, n) * 100

    def price(value: float) -> float:
        return float(value) if tick is None else round(round(value / tick) * tick, 10)

    out, open_ = [], price(walk[0])
    for i in range(n):
        close = price(walk[i])
        high = max(price(max(open_, close) * (1 + wicks[i, 0])), open_, close)
        low = min(price(min(open_, close) * (1 - wicks[i, 1])), open_, close)
        out.append(
            Bar(symbol="S", granularity="1m", start=i * MINUTE, end=(i + 1) * MINUTE,
                open=open_, high=high, low=low, close=close, volume=float(lots[i]),
                vwap=round((open_ + high + low + close) / 4, 4), trades=10)
        )  # fmt: skip
        open_ = close
    return out


def warmed(specs: tuple[str, ...], config: DetectorConfig, bars: list[Bar]) -> SeriesState:
    series = SeriesState.new(specs, config)
    for bar in bars:
        series.advance(bar)
    return series


def symbol_state(config: StepConfig, seconds: int = 120) -> SymbolState:
    """A symbol's state after two minutes of 200-quote frames a second (its gate's recent
    events, its open bars)."""
    store, partition_time = MemoryStore(), PartitionTime()
    market = SyntheticMarket(["S"], seed=2)
    start = (SystemClock().now_ns() // 1_000_000_000 - 3600) * 1_000_000_000
    for i in range(seconds):
        frame = market.frame("S", start + i * 10**9, start + (i + 1) * 10**9, 200)
        message = Message("market.raw", 0, i, b"S", frame.model_dump_json().encode())
        store.write(apply_frame(store, partition_time, message, start + (i + 2) * 10**9, config))
    return store.symbols[b"S"]


def heap_per_series(
    specs: tuple[str, ...], config: DetectorConfig, bars: list[Bar], n: int
) -> float:
    """Bytes of Python heap each of ``n`` warmed series holds."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [warmed(specs, config, bars) for _ in range(n)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(kept) == n
    return (after - before) / n


async def write_and_read(
    settings: Settings, topic: str, records: list[tuple[bytes, bytes]]
) -> tuple[float, list[tuple[bytes, bytes]]]:
    """Write ``records`` to ``topic``; the seconds a plain consumer takes to read them back,
    and what it read."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(), linger_ms=5, max_batch_size=1 << 20,
        max_request_size=8 << 20,
    )  # fmt: skip
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, value, key)
        await producer.flush()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.bootstrap_servers(), auto_offset_reset="earliest",
        fetch_max_wait_ms=50, max_partition_fetch_bytes=32 << 20, fetch_max_bytes=64 << 20,
    )  # fmt: skip
    await consumer.start()
    read: list[tuple[bytes, bytes]] = []
    try:
        started = time.perf_counter()
        while len(read) < len(records):
            batch = await consumer.getmany(timeout_ms=500)
            read += [(r.key, r.value) for rs in batch.values() for r in rs if r.key and r.value]
        read_s = time.perf_counter() - started
    finally:
        await consumer.stop()
    return read_s, read


async def recovery(
    settings: Settings, records: list[tuple[bytes, bytes]], config: StepConfig
) -> tuple[float, float, list[object]]:
    """Seconds to read ``records`` back from a topic of their own with a plain consumer, and to
    decode every one; and the decoded states."""
    own = settings.model_copy(update={"topic_prefix": f"bench-state-{uuid.uuid4().hex[:8]}."})
    topic = own.topic("states")
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, settings.topic_partitions, 1)])
    finally:
        await admin.close()
    try:
        read_s, read = await write_and_read(settings, topic, records)
    finally:
        await drop_topics(own)

    def decode(record: tuple[bytes, bytes]) -> object:
        key, value = record
        if b"|" in key:
            return SeriesState.from_bytes(config.detector, expand(value))
        return SymbolState.from_bytes(expand(value), config.gate, config.granularities)

    started = time.perf_counter()
    decoded = [long_lived(decode, record) for record in read]  # as the worker's tables do
    return read_s, time.perf_counter() - started, decoded


def collection_pauses(decoded: list[object]) -> tuple[float, float]:
    """Seconds that ``decoded`` add to a full garbage collection, which walks every container
    object the worker holds while its event loop waits, with nothing frozen (the collection
    without them is the baseline); and the seconds of the full collection after it, which under
    the worker's policy walks only what was promoted since. ``decoded`` is emptied on the way."""
    gc.collect()
    walked = full_collection()
    next_one = full_collection(unfreeze=False)
    decoded.clear()
    gc.collect()
    return walked - full_collection(), next_one


def full_collection(unfreeze: bool = True) -> float:
    """Seconds of one full collection; with ``unfreeze``, over every object (a frozen one
    too)."""
    if unfreeze:
        gc.unfreeze()
    started = time.perf_counter()
    gc.collect()
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    settings = Settings()
    collect_fully_every(settings.worker_gc_full_every)  # decode as a worker does
    if settings.worker_gc_freeze:
        freeze_survivors()
    config = settings.step_config()
    bars = minute_bars(300, 1)
    default = warmed(config.indicators, config.detector, bars)
    every = tuple(entry["spec"] for entry in catalog())
    full = warmed(every, config.detector, bars)
    default_bytes, full_bytes = default.to_bytes(), full.to_bytes()
    off_grid = compress(
        warmed(config.indicators, config.detector, minute_bars(300, 1, None)).to_bytes()
    )
    per_series_heap = heap_per_series(config.indicators, config.detector, bars, args.measured)
    symbol_bytes = symbol_state(config).to_bytes()
    default_part, full_part = compress(default_bytes), compress(full_bytes)
    symbol_part = compress(symbol_bytes)
    records = []
    for i in range(args.measured):
        name = f"R{i:05d}"
        records.append((name.encode(), symbol_part))
        records += [(key_of_series(name, g), default_part) for g in config.granularities]
    read_s, decode_s, decoded = await recovery(settings, records, config)
    started = time.perf_counter()
    detectors = [state.detector for state in decoded if isinstance(state, SeriesState)]
    detectors_s = time.perf_counter() - started
    assert len(detectors) == len(decoded) - args.measured
    pause, next_pause = collection_pauses(decoded)
    scale = args.symbols / args.measured
    volume = sum(len(v) for _, v in records) * scale
    print(
        f"default set ({len(config.indicators)} specs and the detectors), warmed: "
        f"{len(default_part):,} bytes a series compressed ({len(default_bytes):,} of JSON)"
    )
    print(f"the same on prices off any tick grid: {len(off_grid):,} bytes compressed")
    print(
        f"every catalog spec ({len(every)}): {len(full_part):,} bytes a series compressed "
        f"({len(full_bytes):,} of JSON)"
    )
    print(f"a symbol's gate and bar state: {len(symbol_part):,} bytes compressed "
          f"({len(symbol_bytes):,} of JSON)")  # fmt: skip
    print(
        f"heap per warmed series of the default set: {per_series_heap / 1024:,.1f} KiB "
        f"(over {args.measured:,})"
    )
    print(
        f"{args.symbols:,} symbols x {len(config.granularities)} granularities: "
        f"{volume / 2**20:,.0f} MiB of state to recover"
    )
    print(f"recovery of {args.measured:,} symbols: read {read_s:.2f} s, decode {decode_s:.2f} s; "
          f"scaled to {args.symbols:,}: {(read_s + decode_s) * scale:.1f} s")  # fmt: skip
    print(f"their detectors, decoded at each series' next closed bar: {detectors_s:.2f} s; "
          f"scaled: {detectors_s * scale:.1f} s")  # fmt: skip
    print(f"a full garbage collection over those states: {pause * 1e3:,.0f} ms; scaled to "
          f"{args.symbols:,} symbols: {pause * scale:.1f} s")  # fmt: skip
    print(f"the next full collection, what survived the first frozen: {next_pause * 1e3:,.2f} ms "
          f"(freezing {'on' if settings.worker_gc_freeze else 'off'})")  # fmt: skip
    emit("state bytes a series, default set", len(default_part), "B", 2048, lower_is_better=True)
    emit("state bytes a series, default set, prices off any tick grid", len(off_grid), "B",
         lower_is_better=True)  # fmt: skip
    emit("state bytes a series, every catalog spec", len(full_part), "B", lower_is_better=True)
    emit("heap a warmed series, default set", per_series_heap, "B", lower_is_better=True)
    emit(f"recovery floor of {args.symbols:,} symbols (read and decode, scaled)",
         (read_s + decode_s) * scale, "s", 10, lower_is_better=True)  # fmt: skip
    emit(f"the detectors of {args.symbols:,} symbols' series, decoded at their next bars "
         "(scaled)", detectors_s * scale, "s", lower_is_better=True)  # fmt: skip
    emit(f"a full garbage collection over {args.symbols:,} symbols' states (scaled)",
         pause * scale, "s", lower_is_better=True)  # fmt: skip
    emit(f"the next full collection over {args.measured:,} symbols' states, the survivors of "
         "the one before frozen", next_pause * 1e3, "ms", lower_is_better=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--measured", type=int, default=1_000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
