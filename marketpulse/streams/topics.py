"""Every topic, declared once. All are keyed by symbol, so a symbol's events stay in order.

The names and what they carry live here without Faust, so sources and tools can use them
cheaply; :func:`declare` makes the Faust topic objects for the app (``marketpulse.app.topics``).
Payloads are JSON bytes, decoded and validated by the schemas in :mod:`marketpulse.schemas`;
``schemas/json/`` holds a JSON Schema per topic for consumers outside Python.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka.partitioner import murmur2
from pydantic import BaseModel

from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import DeadLetter, Frame
from marketpulse.schemas.news import NewsItem
from marketpulse.schemas.signals import Signal
from marketpulse.settings import Settings

if TYPE_CHECKING:
    from faust.types import AppT, TopicT


@dataclass(frozen=True)
class TopicSpec:
    """A topic's name, its record schema and what it carries (docs/pipeline.md's table)."""

    name: str
    schema: type[BaseModel]
    carries: str


RAW = TopicSpec("market.raw", Frame, "quotes and trades from sources, many events per message")
CLEAN = TopicSpec("market.clean", Frame, "the events of each raw frame that passed the gate")
BARS_RAW = TopicSpec(
    "market.bars.raw",
    Bar,
    "ready-made OHLCV bars (file replay, vendor aggregates), before the gate",
)
BARS = TopicSpec(
    "market.bars.<granularity>",
    Bar,
    "closed OHLCV bars that passed the gate: built here from ticks, or from market.bars.raw",
)
INDICATORS = TopicSpec(
    "analytics.indicators", IndicatorSnapshot, "every indicator value after each bar"
)
FORMING = TopicSpec(
    "analytics.forming",
    IndicatorSnapshot,
    "each open bar as it stands and the indicator values it would give if it closed now "
    "(final: false), at most once a MARKETPULSE_FORMING_INTERVAL_MS per symbol",
)
SIGNALS = TopicSpec("analytics.signals", Signal, "pattern, trend and level signals per bar")
DEADLETTER = TopicSpec("market.deadletter", DeadLetter, "refused input with a reason code")
NEWS = TopicSpec("market.news", NewsItem, "headlines per symbol from news vendors")

SPECS = (RAW, CLEAN, BARS_RAW, BARS, INDICATORS, FORMING, SIGNALS, DEADLETTER, NEWS)


def bars_topic_name(granularity: str) -> str:
    """The bars topic of one granularity, e.g. ``market.bars.1m``."""
    return f"market.bars.{granularity}"


@dataclass(frozen=True)
class Topics:
    """The app's Faust topic objects."""

    raw: TopicT
    clean: TopicT
    bars_raw: TopicT
    bars: dict[str, TopicT]
    indicators: TopicT
    forming: TopicT
    signals: TopicT
    deadletter: TopicT


def declare(app: AppT, settings: Settings) -> Topics:
    """Declare every topic on ``app``, in the settings' namespace."""
    from marketpulse.streams.codecs import bytes_topic  # Faust loads only where it runs

    partitions = settings.topic_partitions

    def topic(name: str) -> TopicT:
        return bytes_topic(app, settings.topic(name), partitions=partitions)

    return Topics(
        raw=topic(RAW.name),
        clean=topic(CLEAN.name),
        bars_raw=topic(BARS_RAW.name),
        bars={g: topic(bars_topic_name(g)) for g in settings.granularities},
        indicators=topic(INDICATORS.name),
        forming=topic(FORMING.name),
        signals=topic(SIGNALS.name),
        deadletter=topic(DEADLETTER.name),
    )


@functools.lru_cache(maxsize=1 << 16)
def partition_of(key: bytes, partitions: int) -> int:
    """The partition of a keyed record on a topic of ``partitions``: what the producer's
    default partitioner picks (Kafka's murmur2 of the key), worked out once per key. The
    partitioner hashes in pure Python on every record, about a tenth of a record's cost in the
    producer, and a worker sends to a few keys per series."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions
