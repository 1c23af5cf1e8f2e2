"""Sending from agents: outputs go to the producer before the state record that implies them.

Outputs are appended to the worker's own batches (:mod:`marketpulse.streams.batches`), neither
as Faust attachments (published only when the event is acknowledged) nor through
``topic.send``, whose channel machinery (a FutureMessage, a pending message, sensors, its
callback) cost about a quarter of the worker's CPU per frame. The step's states are put as its
outputs are appended, with nothing awaited in between; they are appended themselves when the
consumer next commits (:mod:`marketpulse.tables.flush`), behind them, and the commit waits
until every batch was delivered. A crash can therefore repeat outputs (identical: the step is
deterministic, and records carry deterministic keys) but not lose them; a send that fails stops
all commits (:mod:`marketpulse.streams.delivery`). Waiting for each acknowledgement instead
serialised every message behind a broker round trip.
"""

from __future__ import annotations

import itertools

from faust.types import EventT, TopicT
from pydantic import BaseModel

from marketpulse.analytics.step_io import StepOutputs
from marketpulse.app import app, topics
from marketpulse.metrics import (
    BARS_OUT,
    BARS_REVISED,
    BARS_UNOPENED,
    DEADLETTERS,
    EVENTS_IN,
    FORMING_SNAPSHOTS,
    INDICATOR_SNAPSHOTS,
    LAST_EVENT,
    REDELIVERED,
    RESTATEMENTS_TOO_LATE,
    SIGNALS_OUT,
    SIGNALS_WITHDRAWN,
    TRADES_INERT,
    TRADES_TOO_LATE,
    BoundedLabel,
    Children,
)
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import DeadLetter
from marketpulse.schemas.signals import Signal
from marketpulse.settings import get_settings
from marketpulse.streams.batches import Batches
from marketpulse.streams.delivery import guard
from marketpulse.streams.topics import (
    CLEAN,
    DEADLETTER,
    FORMING,
    INDICATORS,
    SIGNALS,
    bars_topic_name,
    partition_of,
)

_settings = get_settings()
MAX_BYTES = _settings.kafka_max_message_bytes
_SPREAD = itertools.count()
BATCHES: Batches = Batches(
    # Faust's producer does not expose aiokafka's, whose batch API this needs
    lambda: app.producer._ensure_producer(),  # type: ignore[attr-defined]
    _settings.kafka_producer_linger_ms / 1000,
    guard,
)
PARTITIONS = _settings.topic_partitions
SOURCE_LABEL = BoundedLabel(_settings.metrics_max_sources)
SYMBOL_LABEL = BoundedLabel(_settings.metrics_max_symbols)
# what is counted per record or per frame, by label value
SNAPSHOTS_BY = Children(INDICATOR_SNAPSHOTS)
FORMING_BY = Children(FORMING_SNAPSHOTS)
SIGNALS_BY = Children(SIGNALS_OUT)
WITHDRAWN_BY = Children(SIGNALS_WITHDRAWN)
BARS_BY = Children(BARS_OUT)
REVISED_BY = Children(BARS_REVISED)
DEADLETTERS_BY = Children(DEADLETTERS)
EVENTS_BY = Children(EVENTS_IN)
INERT_BY = Children(TRADES_INERT)
LAST_EVENT_BY = Children(LAST_EVENT)
BY_NAME: dict[str, TopicT] = {
    CLEAN.name: topics.clean,
    DEADLETTER.name: topics.deadletter,
    INDICATORS.name: topics.indicators,
    FORMING.name: topics.forming,
    SIGNALS.name: topics.signals,
    **{bars_topic_name(g): topic for g, topic in topics.bars.items()},
}


async def send(topic: TopicT, key: bytes | None, record: BaseModel | bytes) -> None:
    """Append the record to its batch, ahead of any state written after this."""
    if _append(topic, key, record):
        await BATCHES.hand_over()


def _append(topic: TopicT, key: bytes | None, record: BaseModel | bytes) -> bool:
    """Append the record to its batch; True when a batch filled up."""
    value = record if isinstance(record, bytes) else record.model_dump_json().encode()
    # records without a key take the partitions in turn
    partition = next(_SPREAD) % PARTITIONS if key is None else partition_of(key, PARTITIONS)
    return BATCHES.append(topic.get_topic_name(), partition, key, value)


def append_all(outputs: StepOutputs) -> bool:
    """Append a step's records in order, and count what it did; True when a batch filled up
    (the caller then awaits :meth:`~marketpulse.streams.batches.Batches.hand_over`, the
    producer's back-pressure). Nothing here awaits: an agent appends its step's records and
    puts its states with no commit in between, so that a commit's flush finds every state it
    encodes behind the records it implies."""
    full = False
    for out in outputs.sends:
        record = out.record
        full |= _append(BY_NAME[out.topic], out.key, record)
        if isinstance(record, IndicatorSnapshot):
            SNAPSHOTS_BY(record.granularity).inc()
        elif isinstance(record, Signal):
            (WITHDRAWN_BY if record.withdrawn else SIGNALS_BY)(record.kind).inc()
        elif isinstance(record, Bar):
            (REVISED_BY if record.revision else BARS_BY)(record.granularity).inc()
        elif isinstance(record, DeadLetter):
            DEADLETTERS_BY(record.reason).inc()
    for agent in outputs.redelivered:
        REDELIVERED.labels(agent=agent).inc()
    if outputs.events is not None:
        source = SOURCE_LABEL(outputs.events[0])
        EVENTS_BY(source).inc(outputs.events[1])
        if outputs.inert:
            INERT_BY(source).inc(outputs.inert)
    if outputs.unopened:
        BARS_UNOPENED.inc(outputs.unopened)
    for granularity in outputs.forming:
        FORMING_BY(granularity).inc()
    if outputs.too_late:
        TRADES_TOO_LATE.inc(outputs.too_late)
    if outputs.restated_too_late:
        RESTATEMENTS_TOO_LATE.inc(outputs.restated_too_late)
    if outputs.last_event is not None:
        LAST_EVENT_BY(SYMBOL_LABEL(outputs.last_event[0])).set(outputs.last_event[1] / 1e9)
    return full


async def dead_letter(event: EventT[bytes], reason: str, detail: str, payload: bytes) -> None:
    """Refuse an input that no step could take, keeping the original and where it came from."""
    DEADLETTERS_BY(reason).inc()
    message = event.message
    where = (message.topic, message.partition, message.offset)
    record = DeadLetter.of(reason, detail, payload, where, event.key or None, MAX_BYTES)
    await send(topics.deadletter, event.key, record)
