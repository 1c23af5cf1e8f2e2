"""``market.raw`` frames -> quality gate -> event-time bars on ``market.bars.<g>``, and each
bar's indicator snapshot and signals (:mod:`marketpulse.agents.series`) in the same step.

Accepted events go on to ``market.clean``; refused ones to ``market.deadletter`` with a reason.
Each symbol's gate and bar state is one record in the ``bar-state`` table, put after each frame
once the frame's outputs are with the producer, and written to the changelog when the consumer
commits (:mod:`marketpulse.tables.live`). Bars of quiet symbols close when the partition's
stream time passes their end plus grace (an event-time timer, kept per partition).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import orjson
from faust import StreamT
from faust.types import EventT

from marketpulse.agents import series
from marketpulse.agents.loop import process_each
from marketpulse.agents.outputs import Outbox
from marketpulse.analytics.frames import Rejection, decode_frame
from marketpulse.analytics.ingest import SymbolState, step
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.ticks import originals
from marketpulse.app import app, topics
from marketpulse.clock import Clock, SystemClock
from marketpulse.metrics import EVENTS_IN, LAST_EVENT, REDELIVERED
from marketpulse.schemas.bars import Bar
from marketpulse.settings import get_settings
from marketpulse.streams.codecs import bytes_table
from marketpulse.tables.live import LiveStates

settings = get_settings()
GRANULARITIES = settings.granularity_lengths()
GATE = settings.gate_config()
clock: Clock = SystemClock()  # only the gate's future-timestamp check reads it

bar_state = bytes_table(app, "bar-state", settings.topic_partitions)


@dataclass
class PartitionTime:
    """A partition's stream time and when each of its symbols next has a bar to close."""

    stream_time: int = 0
    due: list[tuple[int, bytes]] = field(default_factory=list)  # heap of (close at, key)
    scheduled: dict[bytes, int] = field(default_factory=dict)

    def schedule(self, key: bytes, close_at: int | None) -> None:
        if close_at is None:
            self.scheduled.pop(key, None)
            return
        if self.scheduled.get(key) != close_at:
            self.scheduled[key] = close_at
            heapq.heappush(self.due, (close_at, key))

    def pop_due(self) -> list[bytes]:
        """Keys whose next close has been reached (stale heap entries are dropped)."""
        keys = []
        while self.due and self.due[0][0] <= self.stream_time:
            close_at, key = heapq.heappop(self.due)
            if self.scheduled.get(key) == close_at:
                del self.scheduled[key]
                keys.append(key)
        return keys


class PartitionTimes(dict[int, PartitionTime]):
    """The partitions' times; a failed step may have moved one, so then all are rebuilt."""

    def drop_decoded(self) -> None:
        self.clear()


_partitions = PartitionTimes()


states: LiveStates[SymbolState] = LiveStates(
    bar_state, lambda data: SymbolState.from_bytes(data, GATE, GRANULARITIES)
)


@app.on_partitions_assigned.connect
async def _forget_partitions(*_args: object, **_kwargs: object) -> None:
    _partitions.clear()  # rebuilt from the table on each partition's next frame
    states.reset()


def _partition_time(partition: int) -> PartitionTime:
    """The partition's stream time and timers, rebuilt from the table after (re)assignment."""
    found = _partitions.get(partition)
    if found is not None:
        return found
    found = PartitionTime()
    for key, state in states.stored():
        if state.partition == partition:
            found.stream_time = max(found.stream_time, state.stream_time)
            found.schedule(key, state.bars.next_close(GATE.grace_ns))
    _partitions[partition] = found
    return found


def _load(key: bytes, symbol: str) -> SymbolState:
    return states.get(key) or SymbolState.new(symbol, GATE, GRANULARITIES)


@app.agent(topics.raw)
async def build_bars(stream: StreamT[bytes]) -> None:
    """Gate each frame and fold it into its symbol's bars."""
    await process_each(stream, _process, states, series.states, _partitions)


async def _process(event: EventT[bytes]) -> None:
    outbox = Outbox()
    payload: bytes = event.value
    message = event.message
    decoded = decode_frame(payload)
    if isinstance(decoded, Rejection):
        await outbox.dead_letter(event, decoded.reason, decoded.detail, payload)
        return
    key = event.key
    if not key:
        await outbox.dead_letter(event, "malformed", "frames must be keyed by symbol", payload)
        return
    symbol = key.decode("utf-8", errors="replace")
    partition = _partition_time(message.partition)
    state = _load(key, symbol)
    if message.offset <= state.offset:
        REDELIVERED.labels(agent="bars").inc()
        return
    EVENTS_IN.labels(source=decoded.source).inc(len(decoded.events))
    partition.stream_time, out = step(
        state, decoded, symbol, partition.stream_time, clock.now_ns(), GATE.grace_ns
    )
    if out.accepted:  # accepted only: a refused future timestamp must not hide a stale feed
        LAST_EVENT.labels(symbol=symbol).set(max(e.ts for e in out.accepted) / 1e9)
    state.offset, state.partition = message.offset, message.partition
    if out.rejected:
        # Refused and partly accepted frames carry each event's JSON as it came.
        as_sent = dict(zip(map(id, decoded.events), originals(payload, decoded), strict=True))
        for rejected, verdict in out.rejected:
            await outbox.dead_letter(event, verdict.reason, verdict.detail, as_sent[id(rejected)])
        if out.accepted:
            clean = {
                "source": decoded.source,
                "received_ts": decoded.received_ts,
                "events": [orjson.Fragment(as_sent[id(accepted)]) for accepted in out.accepted],
            }
            await outbox.send(topics.clean, key, orjson.dumps(clean))
    elif out.accepted:
        await outbox.send(topics.clean, key, payload)  # the frame as it came: no re-encoding
    advanced: dict[bytes, SeriesState] = {}
    for bar in out.bars:
        await _publish(outbox, key, bar, advanced)
    quiet = []
    for other in partition.pop_due():
        if other == key:
            continue
        other_state = _load(other, other.decode())
        for bar in other_state.bars.close(partition.stream_time, GATE.grace_ns):
            await _publish(outbox, other, bar, advanced)
        other_state.stream_time = partition.stream_time
        quiet.append((other, other_state))
    for series_key, series_state in advanced.items():
        series.states.put(series_key, series_state, series_state.to_bytes(), message.partition)
    states.put(key, state, state.to_bytes(), message.partition)
    partition.schedule(key, state.bars.next_close(GATE.grace_ns))
    for other, other_state in quiet:
        states.put(other, other_state, other_state.to_bytes(), message.partition)
        partition.schedule(other, other_state.bars.next_close(GATE.grace_ns))


async def _publish(
    outbox: Outbox, key: bytes, bar: Bar, advanced: dict[bytes, SeriesState]
) -> None:
    """Publish a closed bar, then advance its series: snapshot and signals follow at once."""
    await series.publish_bar(outbox, key, bar)
    series_key = series.series_key(bar)
    state = advanced.get(series_key) or series.load(series_key)  # new series: not cached yet
    if state.applied(bar):
        # The frame is being applied again after a restart that kept the series' state and
        # lost the symbol's: the snapshot and signals went out the first time.
        REDELIVERED.labels(agent="series").inc()
        return
    await series.advance(outbox, key, state, bar)
    advanced[series_key] = state
