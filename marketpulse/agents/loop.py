"""The loop every stateful agent runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faust import StreamT
from faust.types import EventT

from marketpulse.tables.live import LiveStates


async def process_each(
    stream: StreamT[bytes],
    process: Callable[[EventT[bytes]], Awaitable[None]],
    *states: LiveStates[Any],
) -> None:
    """Run ``process`` on every event; a failure drops the decoded states before it propagates,
    so a half-applied step does not outlive it (the last whole ones remain)."""
    async for event in stream.events():
        try:
            await process(event)
        except BaseException:
            for decoded in states:
                decoded.drop_decoded()
            raise
