"""``marketpulse sinks``: every configured sink in one process, each its own consumer group."""

from __future__ import annotations

import asyncio
from typing import Any

from marketpulse.settings import Settings
from marketpulse.sinks.base import Sink
from marketpulse.sinks.cache_sink import CacheSink
from marketpulse.sinks.influx_sink import BarSink, IndicatorSink, QuoteSink, SignalSink
from marketpulse.sinks.postgres_sink import SignalTableSink
from marketpulse.sinks.runner import SinkRunner
from marketpulse.streams.admin import ensure_topics

SINKS: dict[str, type[Sink[Any]]] = {
    "quotes": QuoteSink,
    "bars": BarSink,
    "indicators": IndicatorSink,
    "signals": SignalSink,
    "signals_pg": SignalTableSink,
    "cache": CacheSink,
}


def enabled_sinks(settings: Settings) -> list[Sink[Any]]:
    """The sinks the settings turn on (quotes only when quote storage is not off)."""
    names = [n for n in settings.sinks if n != "quotes" or settings.quote_storage != "off"]
    return [SINKS[name](settings) for name in names]  # type: ignore[call-arg]


async def run_sinks(settings: Settings) -> None:
    """Run every enabled sink until cancelled; one failing stops them all (and the process)."""
    await ensure_topics(settings)
    runners = [SinkRunner(sink, settings) for sink in enabled_sinks(settings)]
    async with asyncio.TaskGroup() as group:
        for runner in runners:
            group.create_task(runner.run(), name=f"sink-{runner.sink.name}")
