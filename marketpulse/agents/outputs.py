"""Sending from agents: every output is published at once and its delivery awaited before the
state that implies it is written, so a crash can repeat an output but never lose one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from faust.types import EventT, TopicT
from pydantic import BaseModel

from marketpulse.app import topics
from marketpulse.metrics import DEADLETTERS
from marketpulse.schemas.events import DeadLetter


class Outbox:
    """Collect the sends of one step; :meth:`flush` waits until the broker has them all."""

    def __init__(self) -> None:
        self._pending: list[Awaitable[object]] = []

    async def send(self, topic: TopicT, key: bytes | None, record: BaseModel | bytes) -> None:
        """Publish now (not as a Faust attachment, which would wait for the event's ack)."""
        value = record if isinstance(record, bytes) else record.model_dump_json().encode()
        self._pending.append(await topic.send(key=key, value=value, force=True))

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

    async def flush(self) -> None:
        """Wait for every send of this step to be acknowledged."""
        if self._pending:
            await asyncio.gather(*self._pending)
            self._pending.clear()
