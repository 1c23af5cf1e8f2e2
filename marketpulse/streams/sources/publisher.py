"""Produce frames to ``market.raw`` at a steady rate, keyed by symbol."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from marketpulse.clock import Clock
from marketpulse.settings import Settings
from marketpulse.streams.admin import ensure_topics
from marketpulse.streams.sources.synthetic import SyntheticMarket
from marketpulse.streams.topics import RAW


async def run_synthetic(
    settings: Settings,
    market: SyntheticMarket,
    clock: Clock,
    rate: float,
    frame_size: int,
    duration_s: float | None = None,
    report: Callable[[str], None] = print,
) -> int:
    """Publish about ``rate`` events per second; return how many events were published."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), linger_ms=5)
    await producer.start()
    topic = settings.topic(RAW.name)
    symbols = market.symbols
    period_s = frame_size * len(symbols) / rate
    last = dict.fromkeys(symbols, clock.now_ns())
    started = clock.now_ns()
    published = 0
    try:
        while duration_s is None or clock.now_ns() - started < duration_s * 1e9:
            await asyncio.sleep(period_s)  # pacing a live feed, not synchronisation
            now = clock.now_ns()
            for symbol in symbols:
                frame = market.frame(symbol, last[symbol], now, frame_size)
                last[symbol] = now
                await producer.send(topic, frame.model_dump_json().encode(), symbol.encode())
                published += len(frame.events)
        await producer.flush()
    finally:
        await producer.stop()
    report(f"published {published} events")
    return published
