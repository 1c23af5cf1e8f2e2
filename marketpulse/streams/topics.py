"""Every topic, declared once. All are keyed by symbol, so a symbol's events stay in order.

The names and what they carry live here without Faust, so sources and tools can use them
cheaply; :func:`declare` makes the Faust topic objects for the app (``marketpulse.app.topics``).
Payloads are bytes on the wire, decoded and validated by :mod:`marketpulse.schemas`.
"""

from __future__ import annotations

from dataclasses import dataclass

from faust.types import AppT, TopicT

from marketpulse.streams.codecs import bytes_topic


@dataclass(frozen=True)
class TopicSpec:
    """A topic's name and what it carries (the README's topic table lists these)."""

    name: str
    carries: str


RAW = TopicSpec("market.raw", "Frame: quotes and trades from sources, many events per message")
CLEAN = TopicSpec("market.clean", "Frame: the events of a raw frame that passed the quality gate")
DEADLETTER = TopicSpec("market.deadletter", "DeadLetter: refused input with a reason code")

SPECS = (RAW, CLEAN, DEADLETTER)


@dataclass(frozen=True)
class Topics:
    """The app's Faust topic objects."""

    raw: TopicT
    clean: TopicT
    deadletter: TopicT


def declare(app: AppT, partitions: int) -> Topics:
    """Declare every topic on ``app``."""
    return Topics(
        raw=bytes_topic(app, RAW.name, partitions),
        clean=bytes_topic(app, CLEAN.name, partitions),
        deadletter=bytes_topic(app, DEADLETTER.name, partitions),
    )
