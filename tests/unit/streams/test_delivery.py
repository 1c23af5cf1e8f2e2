"""The delivery guard: a failed send is noted once, counted always, and stops every commit after
it (the whole path, on a paused broker, is in tests/e2e/test_delivery_failure.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping

import pytest
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP

from marketpulse import metrics
from marketpulse.streams import delivery
from marketpulse.streams.delivery import DeliveryFailed, DeliveryGuard


def failures() -> float:
    return float(metrics.SEND_FAILURES._value.get())


def test_the_first_failure_is_kept_and_every_one_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard, before = DeliveryGuard(), failures()
    first, second = RuntimeError("refused"), RuntimeError("expired")
    guard.on_send_error(None, first, None)  # type: ignore[arg-type]  # Faust's own send
    guard.fail(second)
    assert guard.failure is first
    assert failures() == before + 2
    (logged,) = [r.getMessage() for r in caplog.records if r.name == delivery.__name__]
    assert logged == (
        "a record was not delivered, so no offset is committed from now: RuntimeError('refused')"
    )


async def test_a_watched_send_that_fails_is_noted_and_others_are_not() -> None:
    guard = DeliveryGuard()
    loop = asyncio.get_running_loop()
    delivered, cancelled, failed = loop.create_future(), loop.create_future(), loop.create_future()
    for sent in (delivered, cancelled, failed):
        guard.watch(sent)
    delivered.set_result(None)
    cancelled.cancel()
    await asyncio.sleep(0)  # the done callbacks run on the next turn of the loop
    assert guard.failure is None
    error = TimeoutError("the batch expired")
    failed.set_exception(error)
    await asyncio.sleep(0)
    assert guard.failure is error
    failed.exception()  # retrieved, so the loop does not warn about it


class CommittingConsumer:
    """Just what the patched commit touches: where a crash goes."""

    def __init__(self) -> None:
        self.crashed: list[BaseException] = []

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)


@pytest.fixture
def patched_commit() -> Iterator[list[object]]:
    """Consumer._commit wrapped by the guard, over a stand-in for aiokafka's commit; what
    happened, in order: each wait for the batches' delivery, each commit's offsets."""
    original, happened = Consumer._commit, []

    async def commit(consumer: object, offsets: Mapping[TP, int]) -> bool:
        assert isinstance(consumer, CommittingConsumer)  # the consumer is passed on
        happened.append(offsets)
        return True

    async def delivered() -> None:
        happened.append("delivered")

    Consumer._commit = commit  # type: ignore[method-assign]
    delivery.apply(delivered)
    try:
        yield happened
    finally:
        Consumer._commit = original  # type: ignore[method-assign]
        delivery.guard.failure = None


async def test_commits_go_through_until_a_send_fails(patched_commit: list[object]) -> None:
    consumer = CommittingConsumer()
    offsets = {TP("market.raw", 0): 41}
    assert await Consumer._commit(consumer, offsets) is True  # type: ignore[arg-type]
    assert patched_commit == ["delivered", offsets]  # the batches were delivered first
    delivery.guard.failure = RuntimeError("refused")
    assert await Consumer._commit(consumer, {TP("market.raw", 0): 42}) is False  # type: ignore[arg-type]
    assert patched_commit == ["delivered", offsets, "delivered"]  # nothing committed past it
    (crash,) = consumer.crashed
    assert isinstance(crash, DeliveryFailed)
    assert "refused" in str(crash)
