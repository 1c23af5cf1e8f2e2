"""Every topic, declared once. All are keyed by symbol, so a symbol's events stay in order.

Payloads are bytes on the wire, decoded and validated by :mod:`marketpulse.schemas`
(see :mod:`marketpulse.streams.codecs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from faust.types import TopicT

from marketpulse.app import app
from marketpulse.settings import get_settings
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


def _declare(spec: TopicSpec) -> TopicT:
    return bytes_topic(app, spec.name, get_settings().topic_partitions)


raw_topic = _declare(RAW)
clean_topic = _declare(CLEAN)
deadletter_topic = _declare(DEADLETTER)
