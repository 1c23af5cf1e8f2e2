"""The loop every stateful agent runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faust import StreamT
from faust.types import EventT

from marketpulse.agents.outputs import MAX_BYTES, Outbox
from marketpulse.tables.live import LiveStates


async def process_each(
    stream: StreamT[bytes],
    process: Callable[[EventT[bytes]], Awaitable[None]],
    *states: LiveStates[Any],
) -> None:
    """Run ``process`` on every event; a failure drops the decoded states before it propagates,
    so a half-applied step does not outlive it (the last whole ones remain).

    An event over the record size limit is dead-lettered as ``too_large`` first: what a step
    sends of it (the frame on ``market.clean``) could not be sent, and the agent would fail on
    it every time it came back.
    """
    async for event in stream.events():
        payload: bytes = event.value
        if len(payload) > MAX_BYTES:
            detail = f"{len(payload):,} bytes, over MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES"
            await Outbox().dead_letter(event, "too_large", f"{detail} ({MAX_BYTES:,})", payload)
            continue
        try:
            await process(event)
        except BaseException:
            for decoded in states:
                decoded.drop_decoded()
            raise
