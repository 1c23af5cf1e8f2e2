"""``market.raw`` -> ``market.clean``, or ``market.deadletter`` with a reason."""

from __future__ import annotations

from faust import StreamT
from faust.types import EventT

from marketpulse.analytics.frames import Rejection, decode_frame
from marketpulse.app import app, topics
from marketpulse.metrics import DEADLETTERS, EVENTS_IN
from marketpulse.schemas.events import DeadLetter


@app.agent(topics.raw)
async def normalize(stream: StreamT[bytes]) -> None:
    """Validate each frame; forward it whole, or dead-letter it whole with the reason."""
    async for event in stream.events():
        payload: bytes = event.value
        decoded = decode_frame(payload)
        if isinstance(decoded, Rejection):
            await _dead_letter(event, payload, decoded)
        else:
            EVENTS_IN.labels(source=decoded.source).inc(len(decoded.events))
            await topics.clean.send(key=event.key, value=payload)


async def _dead_letter(event: EventT[bytes], payload: bytes, rejection: Rejection) -> None:
    DEADLETTERS.labels(reason=rejection.reason).inc()
    message = event.message
    record = DeadLetter(
        reason=rejection.reason,
        detail=rejection.detail,
        payload=payload.decode("utf-8", errors="replace") if payload else "",
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=event.key.decode("utf-8", errors="replace") if event.key else None,
    )
    await topics.deadletter.send(key=event.key, value=record.model_dump_json().encode())
