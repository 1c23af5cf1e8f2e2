"""Replay a file onto the pipeline: OHLCV rows as ready-made bars on ``market.bars.<g>``, or
ticks as frames on ``market.raw``; as fast as possible or at N times the recorded pace."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from tqdm import tqdm

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.files.long_csv import candles
from marketpulse.files.ohlcv import read_ohlcv, read_table
from marketpulse.files.ticks import is_tick_file, read_ticks
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame
from marketpulse.settings import Settings
from marketpulse.streams.admin import ensure_topics
from marketpulse.streams.topics import RAW, bars_topic_name

SOURCE = "replay"


Record = tuple[int, str, BaseModel]  # event time, symbol (the key), record


def bar_records(path: Path, symbol: str | None, granularity: str) -> list[Record]:
    """(event time, symbol, bar) for every row of an OHLCV file."""
    length = parse_granularity(granularity)
    records: list[Record] = []
    for series in read_ohlcv(path, symbol):
        for candle in candles(series):
            bar = Bar(
                symbol=series.symbol, granularity=granularity, start=candle.ts,
                end=candle.ts + length, open=candle.open, high=candle.high, low=candle.low,
                close=candle.close, volume=candle.volume,
            )  # fmt: skip
            records.append((candle.ts, series.symbol, bar))
    return records


def frame_records(path: Path, symbol: str | None, frame_size: int) -> list[Record]:
    """(event time, symbol, frame): up to ``frame_size`` consecutive events of one symbol."""
    events = read_ticks(path, read_table(path), symbol, SOURCE)
    records: list[Record] = []
    for name, group in itertools.groupby(events, key=lambda e: e.symbol):
        chunk = list(group)
        for i in range(0, len(chunk), frame_size):
            part = chunk[i : i + frame_size]
            last = part[-1].ts
            records.append((last, name, Frame(source=SOURCE, received_ts=last, events=part)))
    return records


def load(
    path: Path, symbol: str | None, granularity: str, frame_size: int
) -> tuple[str, list[Record]]:
    """Read a file and say what it holds: ``("bars", ...)`` or ``("frames", ...)``."""
    columns = [str(c).strip().lower() for c in read_table(path).columns]
    if is_tick_file(columns):
        return "frames", frame_records(path, symbol, frame_size)
    return "bars", bar_records(path, symbol, granularity)


async def publish(
    settings: Settings,
    topic: str,
    records: Sequence[Record],
    speed: float | None = None,
) -> int:
    """Send every record keyed by its symbol; pace by event time when ``speed`` is given."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), linger_ms=5)
    await producer.start()
    try:
        started, first_ts = time.monotonic(), records[0][0] if records else 0
        for ts, symbol, record in _progress(records):
            if speed:
                due = started + (ts - first_ts) / 1e9 / speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing a replay, not synchronisation
            await producer.send(topic, record.model_dump_json().encode(), symbol.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return len(records)


def _progress(records: Sequence[Record]) -> Iterator[Record]:
    if len(records) < 1000 or not sys.stderr.isatty():
        return iter(records)
    return iter(tqdm(records, desc="replay", unit="msg", file=sys.stderr))


async def replay(
    settings: Settings,
    path: Path,
    symbol: str | None,
    granularity: str,
    speed: float | None,
    frame_size: int = 100,
) -> str:
    """Replay a file; return a one-line summary."""
    kind, records = load(path, symbol, granularity, frame_size)
    name = RAW.name if kind == "frames" else bars_topic_name(granularity)
    topic = settings.topic(name)
    sent = await publish(settings, topic, records, speed=speed)
    return f"published {sent} {kind} to {topic}"
