"""The loop every stateful agent runs, and what happens when a step fails."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from faust import StreamT
from faust.types import EventT

from marketpulse.analytics.step_io import StepOutputs
from marketpulse.schemas.events import TOMBSTONE
from marketpulse.streams.delivery import SEND_ERRORS, guard
from marketpulse.streams.outbox import BATCHES, MAX_BYTES, append_all, dead_letter

log = logging.getLogger(__name__)


class Steps(Protocol):
    """The steps since the states were last encoded
    (:class:`marketpulse.tables.journal.Journal`)."""

    def record(self, again: Callable[[], object]) -> None:
        """Note a step that has put its states; ``again`` applies it again."""

    def undo(self) -> None:
        """Bring the states back to where the last whole step left them."""


async def process_each(
    stream: StreamT[bytes],
    process: Callable[[EventT[bytes]], Awaitable[None]],
    journal: Steps,
) -> None:
    """Run ``process`` on every event.

    - A record with no value (a tombstone) is dead-lettered as ``malformed``, and one over the
      record size limit as ``too_large``, before any step: what a step sends of it (the frame
      on ``market.clean``) could not be sent.
    - A step that fails is undone first (``journal``), so a half-applied step does not outlive
      it: the states are as the last whole step left them.
    - If the broker failed it, or a dead letter for it (a send refused or timed out), the worker
      commits nothing more (:mod:`marketpulse.streams.delivery`) and the error propagates: the
      input is replayed.
    - Any other failure is our code's on this input: the event is dead-lettered as
      ``processing_error``, logged with its traceback, and the agent goes on. Faust would
      otherwise acknowledge it as it restarted the agent, and it would be skipped unseen.
      What the step had already sent stays sent.
    """
    async for event in stream.events():
        try:
            await _step(event, process, journal)
        except SEND_ERRORS as exc:
            guard.fail(exc)
            raise


async def send_step(apply: Callable[[], StepOutputs], journal: Steps) -> None:
    """Apply a step (``apply`` puts the states it leaves), append its records and note it in
    the journal, with nothing awaited in between: a commit's flush finds every state it encodes
    whole and behind the records it implies. Then wait for the producer if a batch filled."""
    full = append_all(apply())
    journal.record(apply)
    if full:
        await BATCHES.hand_over()


async def _step(
    event: EventT[bytes],
    process: Callable[[EventT[bytes]], Awaitable[None]],
    journal: Steps,
) -> None:
    payload: bytes | None = event.value
    if payload is None:  # a tombstone: a compacting producer's delete, or anyone's mistake
        await dead_letter(event, "malformed", TOMBSTONE, b"")
        return
    if len(payload) > MAX_BYTES:
        detail = f"{len(payload):,} bytes, over MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES"
        await dead_letter(event, "too_large", f"{detail} ({MAX_BYTES:,})", payload)
        return
    try:
        await process(event)
    except BaseException as exc:
        journal.undo()
        if not isinstance(exc, Exception) or isinstance(exc, SEND_ERRORS):
            raise
        message = event.message
        log.exception(
            "step failed on %s[%d]@%d: dead-lettered as processing_error",
            message.topic, message.partition, message.offset,
        )  # fmt: skip
        detail = f"{type(exc).__name__}: {exc}"[:1000]
        await dead_letter(event, "processing_error", detail, payload)
