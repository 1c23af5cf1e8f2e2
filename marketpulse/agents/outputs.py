"""Sending from agents: outputs go to the producer before the state record that implies them.

Outputs are sent directly (not as Faust attachments, which are published only when the event is
acknowledged), so they enter aiokafka's accumulator before the table's changelog record, which
Faust buffers and sends after. The producer sends batches in the order they became ready, so a
state record never reaches the broker in an earlier request than the outputs it implies, and
Faust flushes the producer before it commits offsets. A crash can therefore repeat outputs
(identical: the step is deterministic, and records carry deterministic keys) but not lose them.
Waiting for each acknowledgement instead serialised every message behind a broker round trip.
"""

from __future__ import annotations

from faust.types import EventT, TopicT
from pydantic import BaseModel

from marketpulse.app import topics
from marketpulse.metrics import DEADLETTERS
from marketpulse.schemas.events import DeadLetter


class Outbox:
    """The sends of one step."""

    async def send(self, topic: TopicT, key: bytes | None, record: BaseModel | bytes) -> None:
        """Hand the record to the producer now, ahead of any state written after this."""
        value = record if isinstance(record, bytes) else record.model_dump_json().encode()
        await topic.send(key=key, value=value, force=True)

    async def dead_letter(
        self, event: EventT[bytes], reason: str, detail: str, payload: bytes | str
    ) -> None:
        """Refuse input with a reason, keeping the original and where it came from."""
        DEADLETTERS.labels(reason=reason).inc()
        message = event.message
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
        record = DeadLetter(
            reason=reason,
            detail=detail,
            payload=text,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=event.key.decode("utf-8", errors="replace") if event.key else None,
        )
        await self.send(topics.deadletter, event.key, record)
