"""Sending from agents: outputs go to the producer before the state record that implies them.

Outputs go straight to Faust's producer, neither as Faust attachments (published only when the
event is acknowledged) nor through ``topic.send``, whose channel machinery (a FutureMessage, a
pending message, sensors, its callback) cost about a quarter of the worker's CPU per frame.
They enter aiokafka's accumulator before the step's states are even put; those reach the
changelog when the consumer next commits (:mod:`marketpulse.tables.flush`). The producer sends
batches in the order they became ready, so a state record never reaches the broker in an
earlier request than the outputs it implies, and Faust flushes the producer before it commits
offsets. A crash can therefore repeat outputs (identical: the step is deterministic, and
records carry deterministic keys) but not lose them; a send that fails stops all commits
(:mod:`marketpulse.streams.delivery`). Waiting for each acknowledgement instead serialised every
message behind a broker round trip.
"""

from __future__ import annotations

from typing import TypeVar

from faust.types import EventT, TopicT
from pydantic import BaseModel, ValidationError

from marketpulse.app import app, topics
from marketpulse.metrics import DEADLETTERS
from marketpulse.schemas.events import DeadLetter
from marketpulse.settings import get_settings
from marketpulse.streams.delivery import guard

Keyed = TypeVar("Keyed", bound=BaseModel)
MAX_BYTES = get_settings().kafka_max_message_bytes


class Outbox:
    """The sends of one step."""

    async def send(
        self,
        topic: TopicT,
        key: bytes | None,
        record: BaseModel | bytes,
    ) -> None:
        """Hand the record to the producer now, ahead of any state written after this."""
        value = record if isinstance(record, bytes) else record.model_dump_json().encode()
        guard.watch(await app.producer.send(topic.get_topic_name(), key, value, None, None, None))

    async def decode(self, event: EventT[bytes], model: type[Keyed]) -> Keyed | None:
        """The event as ``model`` (a record with a ``symbol`` that is its key), or None after
        dead-lettering it: ``malformed``, or ``symbol_mismatch`` when keyed otherwise."""
        payload: bytes = event.value
        try:
            record = model.model_validate_json(payload)
        except ValidationError as exc:
            await self.dead_letter(event, "malformed", str(exc.errors()[0]["msg"]), payload)
            return None
        symbol: str = getattr(record, "symbol")  # noqa: B009 - every keyed record has one
        if event.key != symbol.encode():
            detail = f"{model.__name__} for {symbol} keyed {event.key!r}"
            await self.dead_letter(event, "symbol_mismatch", detail, payload)
            return None
        return record

    async def dead_letter(
        self, event: EventT[bytes], reason: str, detail: str, payload: bytes | str
    ) -> None:
        """Refuse input with a reason, keeping the original and where it came from."""
        DEADLETTERS.labels(reason=reason).inc()
        message = event.message
        where = (message.topic, message.partition, message.offset)
        record = DeadLetter.of(reason, detail, payload, where, event.key or None, MAX_BYTES)
        await self.send(topics.deadletter, event.key, record)
