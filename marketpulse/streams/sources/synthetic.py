"""A synthetic market: geometric-random-walk quotes with trades at the touch, for any number of
symbols, as fast as the broker takes them or at a target rate; optionally its past first (a
frame per symbol per step, the steps longer the further back), so that the charts and
indicators are full from the start, then live from where the past ends, with no gap.

Each symbol has its own random generator seeded from (seed, symbol), so a symbol's stream is the
same whatever other symbols run beside it and however they are spread over worker processes.
Frames are built with numpy and serialized straight to JSON bytes: the generator is the
benchmark's subject (``bench/synthetic_source.py``), so no per-event model is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import queue
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer

from marketpulse.schemas.events import Frame
from marketpulse.settings import Settings
from marketpulse.streams import kafka_compat
from marketpulse.streams.admin import partitions_of
from marketpulse.streams.sources.job_runs import UNKNOWN, Tally, job_run
from marketpulse.streams.sources.publisher import Publisher
from marketpulse.streams.topics import RAW

SOURCE = "synthetic"
_SIZES = np.array([1.0, 10.0, 50.0, 100.0, 200.0, 500.0])
_REPORT_S = 1.0


@dataclass
class _Book:
    rng: np.random.Generator
    mid: float
    spread_bps: float


class SyntheticMarket:
    """Quotes around a geometric random walk, with trades at the touch now and then."""

    def __init__(
        self,
        symbols: list[str],
        seed: int = 0,
        volatility: float = 0.0005,
        trade_probability: float = 0.3,
    ) -> None:
        self._volatility = volatility  # per-event standard deviation of log returns
        self._trade_probability = trade_probability
        self._books: dict[str, _Book] = {}
        for symbol in symbols:
            rng = np.random.default_rng([seed, zlib.crc32(symbol.encode())])
            self._books[symbol] = _Book(rng, rng.uniform(20, 500), rng.uniform(1, 10))

    @property
    def symbols(self) -> list[str]:
        """The symbols this market quotes."""
        return list(self._books)

    def frame_bytes(
        self, symbol: str, start_ns: int, end_ns: int, events: int, scale: float = 1.0
    ) -> bytes:
        """A ``Frame`` of ``events`` events for ``symbol`` spread evenly over
        ``[start_ns, end_ns)`` and received at ``end_ns``, as the JSON bytes that go on
        ``market.raw``; ``scale`` multiplies each event's volatility (a frame standing for a
        longer stretch of the past moves as far as that stretch would)."""
        book = self._books[symbol]
        rng = book.rng
        mids = book.mid * np.exp(np.cumsum(rng.normal(0.0, self._volatility * scale, events)))
        if events:
            book.mid = float(mids[-1])
        half = np.maximum(0.005, mids * book.spread_bps / 20_000)
        bid = np.round(mids - half, 2)
        ask = np.round(np.maximum(mids + half, bid + 0.01), 2)
        is_trade = (rng.random(events) < self._trade_probability).tolist()
        price = np.where(rng.random(events) < 0.5, bid, ask).tolist()
        size = rng.choice(_SIZES, events).tolist()
        bid_size = (rng.integers(1, 21, events) * 100.0).tolist()
        ask_size = (rng.integers(1, 21, events) * 100.0).tolist()
        step = max(1, (end_ns - start_ns) // max(events, 1))
        stamps = range(start_ns, start_ns + events * step, step)
        quotes = bid.tolist(), ask.tolist(), bid_size, ask_size
        rows = zip(stamps, is_trade, price, size, *quotes, strict=True)
        out: list[dict[str, Any]] = [
            {"kind": "trade", "symbol": symbol, "ts": ts, "price": p, "size": z, "source": SOURCE}
            if trade
            else {
                "kind": "quote",
                "symbol": symbol,
                "ts": ts,
                "bid": b,
                "ask": a,
                "bid_size": bs,
                "ask_size": asz,
                "source": SOURCE,
            }
            for ts, trade, p, z, b, a, bs, asz in rows
        ]
        return orjson.dumps({"source": SOURCE, "received_ts": end_ns, "events": out})

    def frame(self, symbol: str, start_ns: int, end_ns: int, events: int) -> Frame:
        """The same frame as a model."""
        return Frame.model_validate_json(self.frame_bytes(symbol, start_ns, end_ns, events))


@dataclass(frozen=True)
class SyntheticRun:
    """What ``marketpulse source synthetic`` asks for."""

    symbols: list[str]
    seed: int = 0
    rate: float | None = 200.0  # events per second over every symbol; None: as fast as possible
    frame_size: int = 20
    duration_s: float | None = None  # None: until cancelled (or ``events`` are out)
    events: int | None = None  # stop after about this many events
    workers: int = 1
    history_s: float = 0.0  # seconds of the past published first, up to where live begins

    def shard(self, index: int) -> SyntheticRun:
        """The part of the run worker ``index`` does: every ``workers``-th symbol."""
        symbols = self.symbols[index :: self.workers]
        share = len(symbols) / len(self.symbols)
        return SyntheticRun(
            symbols, self.seed, self.rate and self.rate * share, self.frame_size,
            self.duration_s, self.events and int(self.events * share), 1, self.history_s,
        )  # fmt: skip


_MINUTE_NS = 60 * 1_000_000_000
_HOUR_NS = 60 * _MINUTE_NS
# How far apart the past's frames are, by how far back they lie from where live begins: a frame
# a minute over the last six hours (the dashboard's 300 bars of 1m and their indicators'
# lookback), every five minutes back to 30 hours (the same for 5m), hourly before that (1h
# bars need no finer past). Three days then take 690 frames a symbol instead of 4,320.
HISTORY_STEPS = ((6 * _HOUR_NS, _MINUTE_NS), (30 * _HOUR_NS, 5 * _MINUTE_NS), (None, _HOUR_NS))


def history_steps(since: int, until: int) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each step of the past from ``since`` to ``until``, oldest first:
    they tile the span with no gap, each ends on a multiple of its length (so a step is whole
    bars of every granularity up to it), and the length is the one ``HISTORY_STEPS`` gives for
    how far back the step lies."""
    steps: list[tuple[int, int]] = []
    start = since
    while start < until:
        length = next(
            step for reach, step in HISTORY_STEPS if reach is None or until - start <= reach
        )
        end = min((start // length + 1) * length, until)
        steps.append((start, end))
        start = end
    return steps


async def newest_frame_ns(settings: Settings) -> int | None:
    """The ``received_ts`` of the newest frame on ``market.raw`` (over its partitions), None
    when it has none."""
    kafka_compat.apply(
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms, tansu=settings.kafka_tansu_compat
    )
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers(), group_id=None,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, [settings.topic(RAW.name)])
        ends = await consumer.end_offsets(partitions)
        filled = [tp for tp, end in ends.items() if end > 0]
        if not filled:
            return None
        consumer.assign(filled)
        for tp in filled:
            consumer.seek(tp, ends[tp] - 1)
        newest: int | None = None
        waiting = set(filled)
        while waiting:
            batches = await consumer.getmany(timeout_ms=1000)
            if not batches:
                break  # a last record that is gone (deleted by retention): none to read
            for tp, records in batches.items():
                waiting.discard(tp)
                for record in records:
                    received = _received_ts(record.value)
                    if received is not None and (newest is None or received > newest):
                        newest = received
        return newest
    finally:
        await consumer.stop()


def _received_ts(value: bytes | None) -> int | None:
    try:
        received = orjson.loads(value or b"null")["received_ts"]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return None  # not a frame: another producer's record, or a tombstone
    return received if isinstance(received, int) else None


async def _history(
    market: SyntheticMarket, run: SyntheticRun, out: Publisher, since: int, until: int, grace: int
) -> None:
    """The symbols' past from ``since`` to ``until``: a frame of ``frame_size`` events per
    symbol per step (``history_steps``), symbols interleaved, as fast as the broker takes them.

    A frame's events lie in the last stretch of its step, at most half the grace period long:
    symbols share partitions, and the gate holds each event against its partition's stream time,
    which the symbol sent just before has moved to the end of that same stretch; events spread
    over the whole step would be late. Each event moves the price as far as the step would.
    """
    span = max(min(grace // 2, 1_000_000_000), run.frame_size)
    for start, end in history_steps(since, until):
        scale = ((end - start) / _MINUTE_NS) ** 0.5
        for symbol in run.symbols:
            body = market.frame_bytes(symbol, max(start, end - span), end, run.frame_size, scale)
            await out.send(RAW.name, symbol, body, records=run.frame_size)


async def _publish(
    settings: Settings, run: SyntheticRun, tally: Tally, report: Callable[[Tally], None]
) -> None:
    market = SyntheticMarket(run.symbols, seed=run.seed)
    per_round = run.frame_size * len(run.symbols)
    period_s = per_round / run.rate if run.rate else 0.0
    live_from = time.time_ns()
    async with Publisher(settings, SOURCE, tally) as out:
        if run.history_s > 0:
            # from where market.raw ends, if that is later: a restart fills only its own gap,
            # and nothing it sends is older than what the worker has seen (so none is late)
            newest = await newest_frame_ns(settings)
            since = live_from - int(run.history_s * 1e9)
            await _history(market, run, out, max(since, newest or since), live_from,
                           settings.grace_ms * 1_000_000)  # fmt: skip
            report(tally)
        started = time.monotonic()
        last = dict.fromkeys(run.symbols, live_from)
        reported, rounds = started, 0
        while run.duration_s is None or time.monotonic() - started < run.duration_s:
            if run.events is not None and tally.records >= run.events:
                break
            delay = started + rounds * period_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing a live feed, not synchronisation
            rounds += 1
            now = time.time_ns()
            for symbol in run.symbols:
                body = market.frame_bytes(symbol, last[symbol], now, run.frame_size)
                last[symbol] = now
                await out.send(RAW.name, symbol, body, records=run.frame_size)
            if time.monotonic() - reported >= _REPORT_S:
                report(tally)
                reported = time.monotonic()
    report(tally)


def _counts(tally: Tally) -> dict[str, int]:
    return {symbol: count.records for symbol, count in tally.counts.items()}


def _worker(settings: Settings, run: SyntheticRun, reports: multiprocessing.Queue[Any]) -> None:
    """A worker process: publish one shard, sending the running totals back."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_publish(settings, run, Tally(), lambda t: reports.put(_counts(t))))


async def run_synthetic(settings: Settings, run: SyntheticRun) -> int:
    """Publish the synthetic market to ``market.raw`` as one job; return the events published.

    With several workers, each process publishes a shard of the symbols and reports its totals
    back; this process records them on the job.
    """
    async with job_run(settings, run.symbols, "stream:synthetic") as job:
        if run.workers <= 1:
            await _publish(settings, run, job.tally, lambda _tally: None)
            return job.tally.records
        context = multiprocessing.get_context("spawn")
        reports: multiprocessing.Queue[Any] = context.Queue()
        workers = [
            context.Process(target=_worker, args=(settings, run.shard(i), reports), daemon=True)
            for i in range(run.workers)
        ]
        for process in workers:
            process.start()
        try:
            while any(p.is_alive() for p in workers) or not reports.empty():
                with contextlib.suppress(queue.Empty):
                    totals = await asyncio.to_thread(reports.get, True, 0.2)
                    for symbol, records in totals.items():
                        job.tally.set_records(symbol, records)
        finally:
            for process in workers:
                process.join(timeout=10)
        if any(p.exitcode for p in workers):
            job.tally.fail(UNKNOWN, f"worker exit codes {[p.exitcode for p in workers]}")
        return job.tally.records
