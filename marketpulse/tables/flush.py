"""Write the agents' pending states when the consumer commits, before the offsets they imply.

Faust commits on a timer, on a rebalance and at shutdown, and every commit starts with its
sensors' ``on_commit_initiated``. The offsets it then commits are those of events already
acknowledged, and an agent acknowledges an event only after its step has put the states. The
states are appended to the worker's batches, which are handed to the producer at once. Before
the offsets, the commit waits for every batch to be delivered, then seals the flush (its
partitions' markers, :mod:`marketpulse.tables.live_states`) and waits for that too
(:mod:`marketpulse.streams.delivery`). So the outputs, then the states, reach the broker ahead
of the offsets, and a flush is whole only if everything before it was delivered.

A worker that has lost its group membership (a stall past the session timeout, or a broker that
restarted and forgot the group) must not write: another worker may own its partitions by now,
and its offsets will not be committed. Its pending states are dropped, and the next owner replays
their input from the last committed offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiokafka.consumer.group_coordinator import OffsetCommitRequest
from faust import Sensor
from faust.types import ConsumerT

from marketpulse.metrics import STATE_UNFLUSHED
from marketpulse.tables.journal import Journal


class FlushOnCommit(Sensor):
    """Flush the journal's states in order (a state that implies another goes after it), then
    ``hand_over`` what was written; :meth:`seal` the flush when the commit says so."""

    def __init__(self, hand_over: Callable[[], None], journal: Journal) -> None:
        super().__init__()
        self.hand_over = hand_over
        self.journal = journal
        self.states = journal.states

    def on_commit_initiated(self, consumer: ConsumerT) -> Any:
        if _member(consumer):
            self.journal.flush()
            self.hand_over()
        else:
            for table, dropped in self.journal.reset().items():
                STATE_UNFLUSHED.labels(table=table).inc(dropped)
        return None

    def unsealed(self) -> bool:
        """Whether a flush waits for its seal."""
        return any(states.unsealed() for states in self.states)

    def seal(self) -> None:
        """Write the markers that make the flush whole (every record before them delivered)."""
        for states in self.states:
            states.seal()


def _member(consumer: ConsumerT) -> bool:
    """Whether the consumer is in a group generation (aiokafka resets it when the coordinator
    does not know the member any more)."""
    coordinator = consumer._thread._ensure_consumer()._coordinator  # type: ignore[attr-defined]
    return bool(coordinator.generation != OffsetCommitRequest.DEFAULT_GENERATION_ID)
