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


class Flush:
    """A flush as the commit seals it, noting each seal in ``happened``; the delivery after
    the seal fails with ``marker_error`` when it is set."""

    def __init__(self, happened: list[object]) -> None:
        self.happened = happened
        self.pending = False
        self.marker_error: BaseException | None = None

    def unsealed(self) -> bool:
        return self.pending

    def seal(self) -> None:
        self.happened.append("sealed")
        self.pending = False


TPS = [TP("market.raw", 0)]


@pytest.fixture
def patched_commit() -> Iterator[tuple[list[object], Flush]]:
    """Consumer._commit and _commit_tps wrapped by the guard, over stand-ins for aiokafka's
    commit and for Faust's commit when it has no offsets to commit; what happened, in order:
    each wait for the batches' delivery, each seal, each commit's offsets."""
    originals, happened = (Consumer._commit, Consumer._commit_tps), []
    flush = Flush(happened)

    async def commit(consumer: object, offsets: Mapping[TP, int]) -> bool:
        assert isinstance(consumer, CommittingConsumer)  # the consumer is passed on
        happened.append(offsets)
        return True

    async def commit_tps(consumer: object, tps: object, start_new_transaction: bool) -> bool:
        assert isinstance(consumer, CommittingConsumer)
        assert (tps, start_new_transaction) == (TPS, False)  # passed on as they came
        happened.append("no offsets")
        return False

    async def delivered() -> None:
        if happened[-1:] == ["sealed"] and flush.marker_error is not None:
            delivery.guard.fail(flush.marker_error)
        happened.append("delivered")

    Consumer._commit, Consumer._commit_tps = commit, commit_tps  # type: ignore[method-assign]
    delivery.apply(delivered, flush)
    try:
        yield happened, flush
    finally:
        Consumer._commit, Consumer._commit_tps = originals  # type: ignore[method-assign]
        delivery.guard.failure = None


async def test_commits_go_through_until_a_send_fails(
    patched_commit: tuple[list[object], Flush],
) -> None:
    happened, _ = patched_commit
    consumer = CommittingConsumer()
    offsets = {TP("market.raw", 0): 41}
    assert await Consumer._commit(consumer, offsets) is True  # type: ignore[arg-type]
    assert happened == ["delivered", offsets]  # the batches were delivered first
    delivery.guard.failure = RuntimeError("refused")
    assert await Consumer._commit(consumer, {TP("market.raw", 0): 42}) is False  # type: ignore[arg-type]
    assert happened == ["delivered", offsets, "delivered"]  # nothing committed past it
    (crash,) = consumer.crashed
    assert isinstance(crash, DeliveryFailed)
    assert "refused" in str(crash)


async def test_a_flush_is_sealed_after_what_came_before_it_and_before_the_offsets(
    patched_commit: tuple[list[object], Flush],
) -> None:
    happened, flush = patched_commit
    flush.pending = True
    offsets = {TP("market.raw", 0): 41}
    assert await Consumer._commit(CommittingConsumer(), offsets) is True  # type: ignore[arg-type]
    assert happened == ["delivered", "sealed", "delivered", offsets]


async def test_a_flush_after_a_failed_send_is_never_sealed(
    patched_commit: tuple[list[object], Flush],
) -> None:
    happened, flush = patched_commit
    flush.pending = True
    delivery.guard.failure = RuntimeError("expired")
    consumer = CommittingConsumer()
    assert await Consumer._commit(consumer, {TP("market.raw", 0): 41}) is False  # type: ignore[arg-type]
    assert happened == ["delivered"]
    assert flush.pending  # its states read as the ones before it
    # Faust's commit that made the flush goes on to its end: still no seal, and one crash
    assert await Consumer._commit_tps(consumer, TPS, start_new_transaction=False) is False  # type: ignore[arg-type]
    assert happened == ["delivered", "no offsets"]
    assert len(consumer.crashed) == 1


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        # offsets wait for the seal to be delivered
        ({TP("market.raw", 0): 41}, ["delivered", "sealed", "delivered"]),
        # a commit of no offsets seals all the same, and a failed seal stops the worker there too
        (None, ["no offsets", "delivered", "sealed", "delivered"]),
    ],
)
async def test_a_seal_whose_delivery_fails_stops_the_worker(
    patched_commit: tuple[list[object], Flush],
    offsets: dict[TP, int] | None,
    expected: list[str],
) -> None:
    happened, flush = patched_commit
    flush.pending, flush.marker_error = True, RuntimeError("the marker expired")
    consumer = CommittingConsumer()
    if offsets is None:
        committed = await Consumer._commit_tps(consumer, TPS, start_new_transaction=False)  # type: ignore[arg-type]
    else:
        committed = await Consumer._commit(consumer, offsets)  # type: ignore[arg-type]
    assert committed is False
    assert happened == expected
    (crash,) = consumer.crashed
    assert "the marker expired" in str(crash)


async def test_a_commit_of_no_offsets_still_seals_its_flush(
    patched_commit: tuple[list[object], Flush],
) -> None:
    happened, flush = patched_commit
    consumer = CommittingConsumer()
    assert await Consumer._commit_tps(consumer, TPS, start_new_transaction=False) is False  # type: ignore[arg-type]
    assert happened == ["no offsets"]  # nothing flushed, nothing to wait for
    flush.pending = True
    assert await Consumer._commit_tps(consumer, TPS, start_new_transaction=False) is False  # type: ignore[arg-type]
    assert happened == ["no offsets", "no offsets", "delivered", "sealed", "delivered"]
    assert not consumer.crashed
