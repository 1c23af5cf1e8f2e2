"""The agent on ``market.raw``: each frame through :func:`marketpulse.analytics.steps.apply_frame`
(gate, event-time bars, and each closed bar's snapshot and signals), its outputs sent, its states
put (written to the changelog when the consumer commits: :mod:`marketpulse.tables.live_states`)
and the step noted in the journal that undoes a failed one (:mod:`marketpulse.tables.journal`).
"""

from __future__ import annotations

from functools import partial

from faust import StreamT
from faust.types import EventT

from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.step_io import Message, StepOutputs
from marketpulse.analytics.steps import apply_frame
from marketpulse.app import app, topics
from marketpulse.clock import Clock, SystemClock
from marketpulse.settings import get_settings
from marketpulse.streams.agent_loop import process_each, send_step
from marketpulse.streams.warmup import WarmUp
from marketpulse.tables import agent_states
from marketpulse.tables.agent_states import store

CONFIG = get_settings().step_config()
warm_up = WarmUp(get_settings(), CONFIG, agent_states.series, agent_states.journal)
clock: Clock = SystemClock()  # only the gate's future-timestamp check reads it
# the partitions' times, rebuilt together from the table after an assignment, and after an undo
# (a failed step may have moved one)
_partitions: dict[int, PartitionTime] = {}
agent_states.journal.derive(_partitions)


@app.on_partitions_assigned.connect
async def _forget_partitions(*_args: object, **_kwargs: object) -> None:
    _partitions.clear()  # rebuilt from the table on the next frame


def _partition_time(partition: int) -> PartitionTime:
    if not _partitions:
        stored = agent_states.symbols.stored()
        _partitions.update(PartitionTime.rebuild(stored, CONFIG.gate.grace_ns))
    found = _partitions.get(partition)
    if found is None:  # none of its symbols has a state yet
        found = _partitions[partition] = PartitionTime()
    return found


@app.agent(topics.raw)
async def build_bars(stream: StreamT[bytes]) -> None:
    """Gate each frame and fold it into its symbol's bars."""
    await process_each(stream, _process, agent_states.journal)


async def _process(event: EventT[bytes]) -> None:
    m = event.message
    await warm_up.frame(event.key, event.value, m.partition)
    message = Message(m.topic, m.partition, m.offset, event.key, event.value)
    await send_step(partial(_apply, message, clock.now_ns()), agent_states.journal)


def _apply(message: Message, now_ns: int) -> StepOutputs:
    """Step a frame and put the states it leaves."""
    outputs = apply_frame(store, _partition_time(message.partition), message, now_ns, CONFIG)
    agent_states.put_all(outputs, message.partition)
    return outputs
