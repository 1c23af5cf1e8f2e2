"""A step is whole before it waits for the producer: ``send_step`` applies the step (which puts
its states), appends its records and notes it in the journal with nothing awaited in between,
and only then hands a batch it filled over. Faust's commit runs beside the agent, so it can
start at that wait: here it does, on the real broker, the first time the producer is handed a
batch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from marketpulse.analytics.step_io import Send, StepOutputs
from marketpulse.app import topics  # the worker's modules, imported as the worker does
from marketpulse.settings import Settings
from marketpulse.streams import agent_loop, kafka_compat, outbox
from marketpulse.streams.batches import Batches
from marketpulse.streams.delivery import DeliveryGuard
from marketpulse.streams.topics import CLEAN
from marketpulse.tables import checkpoints
from marketpulse.tables.journal import Journal
from marketpulse.tables.live_states import LiveStates
from tests.kafka_helpers import create_topics, read_to_end, unique
from tests.table_helpers import Table

pytestmark = [pytest.mark.integration]

KEY = b"AAPL"


class CommitsWhileSending(AIOKafkaProducer):
    """The real producer, which runs ``commit`` the first time it is handed a batch: the moment
    a step waits in the hand-over of a batch it filled."""

    def __init__(self, commit: Callable[[], None], **config: Any) -> None:
        super().__init__(**config)
        self.commit: Callable[[], None] | None = commit

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        commit, self.commit = self.commit, None
        if commit is not None:
            commit()
        return await super().send_batch(batch, topic, partition=partition)


@pytest.fixture
def flushed() -> list[tuple[bytes, bytes]]:
    """The states each commit wrote, as (key, value)."""
    return []


@pytest.fixture
def states(flushed: list[tuple[bytes, bytes]]) -> LiveStates[bytearray]:
    """A state the step changes in place, as the real steps change theirs."""

    def write(topic: str, partition: int, key: bytes, value: bytes) -> None:
        if not checkpoints.is_marker(key):
            state = checkpoints.resolve(value, 1 << 62)  # its flush taken as whole
            assert state is not None
            flushed.append((key, checkpoints.expand(state)))

    return LiveStates(Table(), bytearray, bytes, write)


@pytest.fixture
def journal(states: LiveStates[bytearray]) -> Journal:
    return Journal(states)


@pytest.fixture
async def producer(
    services: Settings, journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CommitsWhileSending]:
    """The worker's batches over the real producer, whose first hand-over runs a commit (the
    journal's flush, as the worker's commit runs it)."""
    kafka_compat.apply(
        fetch_max_wait_ms=services.kafka_fetch_max_wait_ms, tansu=services.kafka_tansu_compat
    )
    # batches of 1 KiB: the step's second record fills one
    made = CommitsWhileSending(
        journal.flush, bootstrap_servers=services.bootstrap_servers(), max_batch_size=1024
    )
    await made.start()
    batches = Batches(lambda: made, 60.0, DeliveryGuard())  # a linger that never passes here
    monkeypatch.setattr(outbox, "BATCHES", batches)
    monkeypatch.setattr(agent_loop, "BATCHES", batches)
    yield made
    await made.stop()


async def test_a_commit_during_the_hand_over_finds_the_step_whole(
    services: Settings,
    producer: CommitsWhileSending,
    states: LiveStates[bytearray],
    journal: Journal,
    flushed: list[tuple[bytes, bytes]],
) -> None:
    topic = topics.clean.get_topic_name()
    await create_topics(services, [topic], outbox.PARTITIONS)
    state = bytearray(b"0")
    run = unique("step").encode()  # the topic is the worker's own: earlier runs' records stay
    records = [b"%s-%d-" % (run, i) + b"x" * 700 for i in range(3)]
    applied = 0

    def apply() -> StepOutputs:
        nonlocal applied
        applied += 1
        state[0] += 1  # b"0" -> b"1": applied twice, the state would say b"2"
        states.put(KEY, state, 0)
        out = StepOutputs()
        out.sends.extend(Send(CLEAN.name, KEY, record) for record in records)
        return out

    await agent_loop.send_step(apply, journal)

    assert producer.commit is None, "no batch was handed over while the step waited"
    # the commit that ran while the step waited wrote the state the step put
    assert flushed == [(KEY, b"1")]
    # and cleared the journal with the step in it: a later step failing undoes back to this
    # state and applies nothing again (a step noted after the wait would be applied twice)
    journal.undo()
    assert applied == 1
    assert states.get(KEY) == bytearray(b"1")
    await outbox.BATCHES.delivered()
    on_broker = await read_to_end(services, [topic])
    assert [r.value for r in on_broker[topic] if r.value.startswith(run)] == records
